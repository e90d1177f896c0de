/*
 * Collections (rules/variables/collection.c): case-insensitive keys that keep the spelling of
 * the assignment that made them, insertion order, ModSecurity's atoi arithmetic clamped at 0
 * (reference secrule-2.9 §11.1-11.2), deletion, and the TX variable reading the transaction's
 * collection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "rules/variables/collection.h"
#include "tx.h"

#include "pp_random.h"
#include "pp_request.h"

static apr_pool_t *pool;

static const char *get(const pp_coll_t *c, const char *key)
{
    const pp_coll_entry_t *e = pp_coll_get(c, pp_str_from_cstr(key));
    return e ? apr_pstrmemdup(pool, e->value.data, e->value.len) : NULL;
}

static const char *name_of(const pp_coll_t *c, const char *key)
{
    const pp_coll_entry_t *e = pp_coll_get(c, pp_str_from_cstr(key));
    return e ? apr_pstrmemdup(pool, e->name.data, e->name.len) : NULL;
}

static void test_keys_and_spelling(void **state)
{
    pp_coll_t *c = pp_coll_create(pool, "tx");
    assert_string_equal(pp_coll_name(c), "tx");
    assert_false(pp_coll_dirty(c));
    assert_null(get(c, "x"));
    pp_coll_set(c, PP_STR("Anomaly_Score"), PP_STR("5"));
    assert_true(pp_coll_dirty(c));
    assert_string_equal(get(c, "ANOMALY_SCORE"), "5");
    assert_string_equal(get(c, "anomaly_score"), "5");
    /* A relative update keeps the spelling; an absolute one takes its own. */
    assert_int_equal(pp_coll_add(c, PP_STR("ANOMALY_SCORE"), PP_STR("+3")), 8);
    assert_string_equal(name_of(c, "anomaly_score"), "Anomaly_Score");
    pp_coll_set(c, PP_STR("ANOMALY_score"), PP_STR("text"));
    assert_string_equal(name_of(c, "anomaly_score"), "ANOMALY_score");
    assert_string_equal(get(c, "Anomaly_Score"), "text");
    assert_int_equal(pp_coll_count(c), 1);
    /* Keys longer than the look-up's stack buffer and keys with a NUL byte. */
    char longkey[300];
    memset(longkey, 'K', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    pp_coll_set(c, pp_str_from_cstr(longkey), PP_STR("long"));
    longkey[5] = 'k';
    assert_string_equal(get(c, longkey), "long");
    pp_coll_set(c, (pp_str_t){ "a\0B", 3 }, PP_STR("nul"));
    const pp_coll_entry_t *e = pp_coll_get(c, (pp_str_t){ "A\0b", 3 });
    assert_non_null(e);
    assert_null(pp_coll_get(c, (pp_str_t){ "a\0C", 3 }));
    assert_null(pp_coll_get(c, PP_STR("a")));
}

static void test_arithmetic(void **state)
{
    pp_coll_t *c = pp_coll_create(pool, "tx");
    /* Missing counts 0; the result is clamped at 0, never negative (§11.2). */
    assert_int_equal(pp_coll_add(c, PP_STR("x"), PP_STR("-3")), 0);
    assert_string_equal(get(c, "x"), "0");
    assert_int_equal(pp_coll_add(c, PP_STR("x"), PP_STR("+5")), 5);
    assert_int_equal(pp_coll_add(c, PP_STR("x"), PP_STR("-10")), 0);
    /* atoi: leading blanks and sign, digits up to the first other byte; text counts 0. */
    pp_coll_set(c, PP_STR("y"), PP_STR("  12abc"));
    assert_int_equal(pp_coll_add(c, PP_STR("y"), PP_STR("+1")), 13);
    assert_int_equal(pp_coll_add(c, PP_STR("y"), PP_STR("abc")), 13);
    assert_string_equal(get(c, "y"), "13");
    /* Saturates instead of overflowing. */
    pp_coll_set(c, PP_STR("z"), PP_STR("99999999999999999999"));
    assert_int_equal(pp_coll_add(c, PP_STR("z"), PP_STR("+99999999999")), 2147483647);
}

static void test_unset_and_order(void **state)
{
    pp_coll_t *c = pp_coll_create(pool, "tx");
    pp_coll_set(c, PP_STR("b"), PP_STR("1"));
    pp_coll_set(c, PP_STR("a"), PP_STR("2"));
    pp_coll_set(c, PP_STR("c"), PP_STR("3"));
    assert_true(pp_coll_unset(c, PP_STR("A")));
    assert_false(pp_coll_unset(c, PP_STR("a")));
    assert_null(get(c, "a"));
    assert_int_equal(pp_coll_count(c), 2);
    pp_coll_set(c, PP_STR("a"), PP_STR("4")); /* back, at the end */
    const char *order = "";
    int pos = 0;
    for (const pp_coll_entry_t *e; (e = pp_coll_next(c, &pos));)
        order = apr_pstrcat(pool, order, apr_pstrmemdup(pool, e->name.data, e->name.len),
                            "=", apr_pstrmemdup(pool, e->value.data, e->value.len), ";", NULL);
    assert_string_equal(order, "b=1;c=3;a=4;");
}

/* The index grows and keeps removed keys' records: 20,000 random sets, relative updates,
 * removals and look-ups over 700 keys in random case agree with a plain list of the keys.
 * A third of them go through prepared keys (pp_coll_key_t, two spellings a key, made before
 * the collection as a configuration makes them), mixed with the others on the same keys. */
static void test_many_keys_against_model(void **state)
{
    enum { KEYS = 700 };
    static struct {
        bool live;
        char name[16];
        char value[24];
    } model[KEYS];
    memset(model, 0, sizeof model);
    static const pp_coll_key_t *prepared[KEYS][2];
    for (unsigned k = 0; k < KEYS; k++) {
        prepared[k][0] = pp_coll_key_make(pool, pp_str_from_cstr(apr_psprintf(pool, "Key_%u", k)));
        prepared[k][1] = pp_coll_key_make(pool, pp_str_from_cstr(apr_psprintf(pool, "kEY_%u", k)));
    }
    pp_coll_t *c = pp_coll_create(pool, "tx");
    uint64_t seed = 42;
    unsigned live = 0;
    for (int op = 0; op < 20000; op++) {
        unsigned r = (unsigned)pp_test_rnd(&seed), k = r % KEYS;
        char key[16];
        int n = snprintf(key, sizeof key, "Key_%u", k);
        for (int i = 0; i < n; i++)
            if ((r >> (8 + i % 16)) & 1)
                key[i] = (char)(key[i] >= 'a' && key[i] <= 'z' ? key[i] - 32
                                : key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32 : key[i]);
        const pp_coll_key_t *pk = (r >> 28) % 3 == 0 ? prepared[k][(r >> 27) & 1] : NULL;
        if (pk)
            memcpy(key, pk->key.data, (size_t)n + 1);
        pp_str_t ks = { key, (apr_size_t)n };
        switch ((r >> 4) % 4) {
        case 0: /* set */
            snprintf(model[k].value, sizeof model[k].value, "v%d", op);
            if (pk)
                pp_coll_set_key(c, pk, pp_str_from_cstr(model[k].value), false);
            else
                pp_coll_set(c, ks, pp_str_from_cstr(model[k].value));
            memcpy(model[k].name, key, (size_t)n + 1);
            live += !model[k].live;
            model[k].live = true;
            break;
        case 1: /* relative */
            if (!model[k].live)
                memcpy(model[k].name, key, (size_t)n + 1);
            if (pk)
                pp_coll_add_key(c, pk, 1);
            else
                pp_coll_add(c, ks, PP_STR("+1"));
            snprintf(model[k].value, sizeof model[k].value, "%d",
                     (model[k].live ? atoi(model[k].value) : 0) + 1);
            live += !model[k].live;
            model[k].live = true;
            break;
        case 2: /* unset */
            assert_int_equal(pk ? pp_coll_unset_key(c, pk) : pp_coll_unset(c, ks),
                             model[k].live);
            live -= model[k].live;
            model[k].live = false;
            break;
        default: { /* look-up */
            const pp_coll_entry_t *e = pk ? pp_coll_get_key(c, pk) : pp_coll_get(c, ks);
            assert_int_equal(e != NULL, model[k].live);
            if (e) {
                assert_int_equal(e->value.len, strlen(model[k].value));
                assert_memory_equal(e->value.data, model[k].value, e->value.len);
                assert_int_equal(e->name.len, strlen(model[k].name));
                assert_memory_equal(e->name.data, model[k].name, e->name.len);
            }
        }
        }
        assert_int_equal(pp_coll_count(c), live);
    }
    assert_true(live > 100);
}

/* The TX variable: every member, or the one a selector names (any case), named as set. */
static void test_tx_variable(void **state)
{
    pp_tx_t *tx = pp_tx_create(pp_cfg_create(pool), pool, "t");
    const pp_var_def_t *def = pp_var_find("TX");
    assert_non_null(def);
    assert_int_equal(pp_var_source(def), PP_SRC_TXCOLL);
    pp_target_t all = { .var = def, .label = "TX" }, one = { .var = def, .selector = "SCORE" };
    apr_array_header_t *out = apr_array_make(pool, 2, sizeof(pp_value_t));
    assert_int_equal(def->collect(tx, &all, out), APR_SUCCESS);
    assert_int_equal(out->nelts, 0); /* no collection yet: no values */
    pp_coll_t *c = pp_tx_collection(tx);
    assert_ptr_equal(pp_tx_collection(tx), c);
    pp_coll_set(c, PP_STR("Score"), PP_STR("7"));
    pp_coll_set(c, PP_STR("other"), PP_STR("x"));
    assert_int_equal(def->collect(tx, &all, out), APR_SUCCESS);
    assert_int_equal(out->nelts, 2);
    out->nelts = 0;
    assert_int_equal(def->collect(tx, &one, out), APR_SUCCESS);
    assert_int_equal(out->nelts, 1);
    const pp_value_t *v = &APR_ARRAY_IDX(out, 0, pp_value_t);
    assert_memory_equal(v->value.data, "7", 1);
    assert_memory_equal(v->name.data, "Score", 5);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_and_spelling),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_unset_and_order),
        cmocka_unit_test(test_many_keys_against_model),
        cmocka_unit_test(test_tx_variable),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
