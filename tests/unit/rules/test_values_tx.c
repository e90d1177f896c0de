/*
 * The value cache for TX targets (rules/values.c): TX:key is collected again only when its own
 * key changed (set, added to, removed, made), TX, TX:/re/ and &TX when anything in TX changed;
 * a setvar of another key or a new match (MATCHED_VAR, which bumps PP_SRC_TX) leaves them
 * cached. Never stale: random changes to TX checked against collecting afresh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "rules/eval_parts.h"
#include "rules/variables/collection.h"
#include "tx.h"
#include "pp_random.h"

#include <apr_lib.h>

static apr_pool_t *pool;

static const char *apply(pp_cfg_t *cfg, const char *name, const char *args)
{
    pp_cfg_site_t site = { 0 };
    return pp_cfg_apply(cfg, pp_directive_find(name), args, &site, pool, pool);
}

/* What setvar does (lang/actions2/setvar.c). */
static void set(pp_tx_t *tx, const char *key, const char *value)
{
    pp_coll_set(pp_tx_collection(tx), pp_str_from_cstr(key), pp_str_from_cstr(value));
    pp_tx_changed(tx, PP_SRC_TX);
}

static void unset(pp_tx_t *tx, const char *key)
{
    pp_coll_unset(pp_tx_collection(tx), pp_str_from_cstr(key));
    pp_tx_changed(tx, PP_SRC_TX);
}

/* The values of t as one string "name=value;..." */
static const char *text(const apr_array_header_t *vals)
{
    assert_non_null(vals);
    const char *s = "";
    for (int i = 0; i < vals->nelts; i++) {
        const pp_value_t *v = &APR_ARRAY_IDX(vals, i, pp_value_t);
        s = apr_psprintf(pool, "%s%.*s=%.*s;", s, (int)v->name.len, v->name.data ? v->name.data : "",
                         (int)v->value.len, v->value.data);
    }
    return s;
}

enum { T_A, T_A_LOWER, T_RE, T_ALL, T_COUNT_ALL, T_MISSING, T_COUNT_MISSING, NTARGETS };
static const char *const rules[NTARGETS] = {
    "TX:a \"@rx x\" id:1,phase:1,pass",
    "TX:a \"@rx x\" id:2,phase:1,pass,t:lowercase",
    "TX:/^k/ \"@rx x\" id:3,phase:1,pass",
    "TX \"@rx x\" id:4,phase:1,pass",
    "&TX \"@rx x\" id:5,phase:1,pass",
    "TX:missing \"@rx x\" id:6,phase:1,pass",
    "&TX:missing \"@rx x\" id:7,phase:1,pass",
};

static pp_cfg_t *config(const pp_target_t *t[NTARGETS])
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    assert_null(apply(cfg, "SecRuleEngine", "On"));
    for (int i = 0; i < NTARGETS; i++) {
        const char *err = apply(cfg, "SecRule", rules[i]);
        if (err)
            fail_msg("%s: %s", rules[i], err);
    }
    assert_int_equal(cfg->rules->nelts, NTARGETS);
    for (int i = 0; i < NTARGETS; i++)
        t[i] = APR_ARRAY_IDX(cfg->rules, i, const pp_rule_t *)->targets[0];
    return cfg;
}

static const apr_array_header_t *values(pp_tx_t *tx, const pp_target_t *t)
{
    return pp_eval_target_values(tx, t, PP_PHASE_REQUEST_HEADERS);
}

static void test_tx_key_collected_when_its_key_changes(void **state)
{
    const pp_target_t *t[NTARGETS];
    pp_tx_t *tx = pp_tx_create(config(t), pool, "t");
    assert_string_equal(text(values(tx, t[T_A])), "");
    set(tx, "A", "One");
    const apr_array_header_t *a = values(tx, t[T_A]), *low = values(tx, t[T_A_LOWER]);
    assert_string_equal(text(a), "A=One;");
    assert_string_equal(text(low), "A=one;");
    /* Another key, a new key, a match: TX:a is not collected again. */
    set(tx, "b", "2");
    set(tx, "k1", "x");
    pp_tx_changed(tx, PP_SRC_TX);
    assert_ptr_equal(values(tx, t[T_A]), a);
    assert_ptr_equal(values(tx, t[T_A_LOWER]), low);
    /* Its own key, in any case: collected again. */
    set(tx, "a", "TWO");
    const apr_array_header_t *a2 = values(tx, t[T_A]);
    assert_ptr_not_equal(a2, a);
    assert_string_equal(text(a2), "a=TWO;");
    assert_string_equal(text(values(tx, t[T_A_LOWER])), "a=two;");
    pp_coll_add(pp_tx_collection(tx), PP_STR("A"), PP_STR("+5"));
    pp_tx_changed(tx, PP_SRC_TX);
    assert_string_equal(text(values(tx, t[T_A])), "a=5;");
    unset(tx, "a");
    assert_string_equal(text(values(tx, t[T_A])), "");
    assert_string_equal(text(values(tx, t[T_A_LOWER])), "");
    set(tx, "a", "3");
    assert_string_equal(text(values(tx, t[T_A])), "a=3;");
    /* A key missing: collected again once it is made. */
    assert_string_equal(text(values(tx, t[T_MISSING])), "");
    assert_string_equal(text(values(tx, t[T_COUNT_MISSING])), "=0;");
    set(tx, "b", "changed");
    const apr_array_header_t *m = values(tx, t[T_MISSING]);
    assert_ptr_equal(values(tx, t[T_MISSING]), m);
    set(tx, "MISSING", "here");
    assert_string_equal(text(values(tx, t[T_MISSING])), "MISSING=here;");
    assert_string_equal(text(values(tx, t[T_COUNT_MISSING])), "=1;");
}

static void test_tx_regex_and_whole(void **state)
{
    const pp_target_t *t[NTARGETS];
    pp_tx_t *tx = pp_tx_create(config(t), pool, "t");
    set(tx, "k1", "x");
    set(tx, "other", "y");
    const apr_array_header_t *re = values(tx, t[T_RE]), *all = values(tx, t[T_ALL]);
    assert_string_equal(text(re), "k1=x;");
    assert_string_equal(text(all), "k1=x;other=y;");
    assert_string_equal(text(values(tx, t[T_COUNT_ALL])), "=2;");
    /* A match (MATCHED_VAR) changes nothing in TX: both stay cached. */
    pp_tx_changed(tx, PP_SRC_TX);
    assert_ptr_equal(values(tx, t[T_RE]), re);
    assert_ptr_equal(values(tx, t[T_ALL]), all);
    /* A new key: collected again. */
    set(tx, "K2", "z");
    assert_string_equal(text(values(tx, t[T_RE])), "k1=x;K2=z;");
    assert_string_equal(text(values(tx, t[T_ALL])), "k1=x;other=y;K2=z;");
    assert_string_equal(text(values(tx, t[T_COUNT_ALL])), "=3;");
    /* A member's new value, a removal. */
    set(tx, "k1", "new");
    assert_string_equal(text(values(tx, t[T_RE])), "k1=new;K2=z;");
    unset(tx, "k2");
    assert_string_equal(text(values(tx, t[T_RE])), "k1=new;");
    assert_string_equal(text(values(tx, t[T_ALL])), "k1=new;other=y;");
}

/* TX:/re/ with literal needs (variables/collect.c leaves out the members whose name lacks
 * them): CRS's correlation regexes over names that hold both literals, one, none, in either
 * case and order. The members kept, and the count, are those the regex itself matches. */
static void test_tx_regex_literal_needs(void **state)
{
    static const char *const rx[] = {
        "TX:/LEAKAGE.ERRORS/ \"@rx x\" id:1,phase:1,pass",
        "&TX:/leakage.errors/ \"@rx x\" id:2,phase:1,pass",
        "TX:/^msc_/ \"@rx x\" id:3,phase:1,pass",
        "&TX:/AVAILABILITY\\/APP_NOT_AVAIL/ \"@rx x\" id:4,phase:1,pass",
    };
    static const char *const keys[] = {
        "950100-OWASP_CRS/LEAKAGE/ERRORS-ARGS:a", "951-owasp_crs/leakage/errors-x",
        "leakage/error", "LEAKAGE-ERRORSX", "errors-leakage", "leakage_errors", "MSC_PCRE_LIMITS",
        "xmsc_", "msc", "953-OWASP_CRS/AVAILABILITY/APP_NOT_AVAIL-RESPONSE_BODY",
        "availability/app_not_avail", "AVAILABILITY-APP_NOT_AVAIL", "anomaly_score", "",
    };
    pp_cfg_t *cfg = pp_cfg_create(pool);
    assert_null(apply(cfg, "SecRuleEngine", "On"));
    for (unsigned i = 0; i < sizeof rx / sizeof rx[0]; i++) {
        const char *err = apply(cfg, "SecRule", rx[i]);
        if (err)
            fail_msg("%s: %s", rx[i], err);
    }
    pp_tx_t *tx = pp_tx_create(cfg, pool, "t");
    for (unsigned k = 0; k < sizeof keys / sizeof keys[0]; k++)
        set(tx, keys[k], apr_psprintf(pool, "v%u", k));
    for (unsigned i = 0; i < sizeof rx / sizeof rx[0]; i++) {
        const pp_target_t *t = APR_ARRAY_IDX(cfg->rules, i, const pp_rule_t *)->targets[0];
        assert_non_null(t->key_regex);
        const char *want = "";
        int n = 0;
        for (unsigned k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            bool m = false;
            assert_int_equal(pp_regex_exec(t->key_regex, tx->rx, pp_str_from_cstr(keys[k]), &m),
                             APR_SUCCESS);
            if (m) {
                want = apr_psprintf(pool, "%s%s=v%u;", want, keys[k], k);
                n++;
            }
        }
        if (t->count)
            want = apr_psprintf(pool, "=%d;", n);
        assert_true(n >= 1); /* each regex keeps something: the test can tell */
        assert_string_equal(text(values(tx, t)), want);
    }
}

/* Random sets, additions and removals over a few keys, read between them (and sometimes not):
 * the cached values always equal what a fresh transaction with the same TX collects. */
static void test_never_stale(void **state)
{
    const pp_target_t *t[NTARGETS];
    pp_cfg_t *cfg = config(t);
    pp_tx_t *tx = pp_tx_create(cfg, pool, "t");
    static const char *const keys[] = { "a", "A", "k1", "K2", "missing", "other" };
    uint64_t seed = 7;
    for (int op = 0; op < 3000; op++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        unsigned r = (unsigned)(seed >> 33);
        const char *k = keys[r % 6];
        switch ((r >> 8) % 5) {
        case 0:
        case 1:
            set(tx, k, apr_psprintf(pool, "V%d", op));
            break;
        case 2:
            pp_coll_add(pp_tx_collection(tx), pp_str_from_cstr(k), PP_STR("+1"));
            pp_tx_changed(tx, PP_SRC_TX);
            break;
        case 3:
            unset(tx, k);
            break;
        default:
            pp_tx_changed(tx, PP_SRC_TX); /* a match */
        }
        if ((r >> 12) % 3 == 0)
            continue; /* several changes between reads */
        apr_pool_t *fp;
        apr_pool_create(&fp, pool);
        pp_tx_t *fresh = pp_tx_create(cfg, fp, "f");
        int pos = 0;
        for (const pp_coll_entry_t *e; (e = pp_coll_next(tx->coll_tx, &pos));)
            pp_coll_set(pp_tx_collection(fresh), e->name, e->value);
        for (int i = 0; i < NTARGETS; i++) {
            if ((r >> (16 + i)) & 1)
                continue; /* not every target read every time */
            const char *got = text(values(tx, t[i])), *want = text(values(fresh, t[i]));
            if (strcmp(got, want) != 0)
                fail_msg("op %d, %s: cached \"%s\", fresh \"%s\"", op, rules[i], got, want);
        }
        apr_pool_destroy(fp);
    }
}

/* TX:/re/ over members spelt by keys the configuration prepared (setvar:tx.literal): which
 * patterns a spelling lacks the literal needs of is answered once at start-up
 * (pp_target_keys_finish) and the collector tests a bit; members respelt by text (another
 * case), removed and made again, or made by keys prepared after start-up are searched as
 * before. Random changes, every read checked against the regex itself over every member's
 * name; and the answers were used (the test can tell). */
static void test_tx_regex_prepared_keys(void **state)
{
    static const char *const rx[] = {
        "TX:/^Foo_/ \"@rx x\" id:1,phase:1,pass",
        "&TX:/leakage.errors/ \"@rx x\" id:2,phase:1,pass",
        "TX:/^msc_/ \"@rx x\" id:3,phase:1,pass",
        "TX:/ba[rz]/ \"@rx x\" id:4,phase:1,pass,t:lowercase",
        "TX:/(?i)^HEADER_NAME_/ \"@rx x\" id:5,phase:1,pass",
    };
    static const char *const spellings[] = {
        "foo_a", "Foo_a", "FOO_A", "Foo_b", "msc_x", "MSC_X", "leakage/errors", "x-leakage-errors",
        "LEAKAGE/ERRORS", "bar", "BAZ", "header_name_host", "HEADER_NAME_HOST", "anomaly_score",
        "baz_Foo_", "",
    };
    enum { NS = sizeof spellings / sizeof spellings[0], NR = sizeof rx / sizeof rx[0] };
    apr_pool_t *cp;
    apr_pool_create(&cp, pool);
    pp_cfg_t *cfg = pp_cfg_create(cp);
    pp_cfg_site_t site = { 0 };
    assert_null(pp_cfg_apply(cfg, pp_directive_find("SecRuleEngine"), "On", &site, cp, cp));
    for (unsigned i = 0; i < NR; i++) {
        const char *err = pp_cfg_apply(cfg, pp_directive_find("SecRule"), rx[i], &site, cp, cp);
        if (err)
            fail_msg("%s: %s", rx[i], err);
    }
    /* setvar:tx.SPELLING=1 prepares each key in the configuration pool */
    const char *sv = "id:100,phase:1,pass,nolog";
    for (unsigned k = 0; k < NS; k++)
        if (spellings[k][0])
            sv = apr_psprintf(cp, "%s,setvar:tx.%s=1", sv, spellings[k]);
    assert_null(pp_cfg_apply(cfg, pp_directive_find("SecAction"), sv, &site, cp, cp));
    assert_null(pp_cfg_finish_check(cfg, cp, cp));
    /* the prepared keys, by spelling */
    const pp_coll_key_t *prepared[NS] = { 0 };
    apr_array_header_t *made = pp_coll_keys_made(cp);
    assert_non_null(made);
    for (int i = 0; i < made->nelts; i++) {
        const pp_coll_key_t *k = APR_ARRAY_IDX(made, i, const pp_coll_key_t *);
        for (unsigned j = 0; j < NS; j++)
            if (strcmp(k->key.data, spellings[j]) == 0) {
                assert_int_equal(k->key_rx_n, NR);
                prepared[j] = k;
            }
    }
    /* keys that fold alike share the folded text (found by pointer, collection.c probe) */
    assert_ptr_equal(prepared[0]->folded, prepared[2]->folded);
    assert_ptr_not_equal(prepared[0], prepared[2]);
    /* one prepared after start-up: unanswered */
    prepared[NS - 2] = pp_coll_key_make(cp, pp_str_from_cstr(spellings[NS - 2]));
    const pp_target_t *t[NR];
    for (unsigned i = 0; i < NR; i++)
        t[i] = APR_ARRAY_IDX(cfg->rules, i, const pp_rule_t *)->targets[0];
    pp_tx_t *tx = pp_tx_create(cfg, cp, "t");
    pp_coll_t *c = pp_tx_collection(tx);
    uint64_t seed = 11;
    unsigned answered = 0;
    for (int op = 0; op < 4000; op++) {
        unsigned r = (unsigned)pp_test_rnd(&seed), k = r % NS;
        const char *v = apr_psprintf(cp, "v%d", op);
        switch ((r >> 8) % 6) {
        case 0:
        case 1:
            if (prepared[k])
                pp_coll_set_key(c, prepared[k], pp_str_from_cstr(v), false);
            else
                pp_coll_set(c, pp_str_from_cstr(spellings[k]), pp_str_from_cstr(v));
            break;
        case 2:
            pp_coll_set(c, pp_str_from_cstr(spellings[k]), pp_str_from_cstr(v)); /* by text */
            break;
        case 3:
            if (prepared[k])
                pp_coll_add_key(c, prepared[k], 1);
            else
                pp_coll_add(c, pp_str_from_cstr(spellings[k]), PP_STR("+1"));
            break;
        case 4:
            pp_coll_add(c, pp_str_from_cstr(spellings[k]), PP_STR("+2"));
            break;
        default:
            pp_coll_unset(c, pp_str_from_cstr(spellings[k]));
        }
        pp_tx_changed(tx, PP_SRC_TX);
        if ((r >> 12) % 3 == 0)
            continue;
        int pos = 0;
        for (const pp_coll_entry_t *e; (e = pp_coll_next(c, &pos));)
            if (e->key && e->key->key_rx_set == t[0]->key_rx_set && e->key->key_rx_no)
                answered++;
        for (unsigned i = 0; i < NR; i++) {
            const char *want = "";
            int n = 0;
            pos = 0;
            for (const pp_coll_entry_t *e; (e = pp_coll_next(c, &pos));) {
                bool m = false;
                if (!e->name.data)
                    continue;
                assert_int_equal(pp_regex_exec(t[i]->key_regex, tx->rx, e->name, &m), APR_SUCCESS);
                if (!m)
                    continue;
                pp_str_t val = e->value;
                char *low = apr_pstrmemdup(cp, val.data, val.len);
                if (t[i]->chain)
                    for (char *p = low; *p; p++)
                        *p = (char)apr_tolower((unsigned char)*p);
                want = apr_psprintf(cp, "%s%.*s=%s;", want, (int)e->name.len, e->name.data, low);
                n++;
            }
            if (t[i]->count)
                want = apr_psprintf(cp, "=%d;", n);
            const char *got = text(values(tx, t[i]));
            if (strcmp(got, want) != 0)
                fail_msg("op %d, %s: got \"%s\", want \"%s\"", op, rx[i], got, want);
        }
    }
    assert_true(answered > 1000);
    apr_pool_destroy(cp);
}

/* pp_target_keys_finish runs once per server and section at start-up: a second call keeps
 * the answers, and a pattern read after the first call is answered by the next one. */
static void test_tx_keys_finish_again(void **state)
{
    apr_pool_t *cp;
    apr_pool_create(&cp, pool);
    pp_cfg_t *cfg = pp_cfg_create(cp);
    pp_cfg_site_t site = { 0 };
    assert_null(pp_cfg_apply(cfg, pp_directive_find("SecRule"),
                             "TX:/^msc_/ \"@rx x\" id:1,phase:1,pass", &site, cp, cp));
    assert_null(pp_cfg_apply(cfg, pp_directive_find("SecAction"),
                             "id:2,phase:1,pass,nolog,setvar:tx.anomaly_score=1", &site, cp, cp));
    assert_null(pp_cfg_finish_check(cfg, cp, cp));
    apr_array_header_t *made = pp_coll_keys_made(cp);
    assert_non_null(made);
    const pp_coll_key_t *k = NULL;
    for (int i = 0; i < made->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(made, i, const pp_coll_key_t *)->key.data, "anomaly_score") == 0)
            k = APR_ARRAY_IDX(made, i, const pp_coll_key_t *);
    assert_non_null(k);
    assert_int_equal(k->key_rx_n, 1);
    assert_int_equal(k->key_rx_no, 1); /* no "msc_" in it */
    assert_null(pp_cfg_finish_check(cfg, cp, cp));
    assert_int_equal(k->key_rx_n, 1);
    assert_int_equal(k->key_rx_no, 1);
    assert_null(pp_cfg_apply(cfg, pp_directive_find("SecRule"),
                             "TX:/score/ \"@rx x\" id:3,phase:1,pass", &site, cp, cp));
    assert_null(pp_cfg_finish_check(cfg, cp, cp));
    assert_int_equal(k->key_rx_n, 2);
    assert_int_equal(k->key_rx_no, 1); /* "score" is in it */
    apr_pool_destroy(cp);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tx_key_collected_when_its_key_changes),
        cmocka_unit_test(test_tx_regex_and_whole),
        cmocka_unit_test(test_never_stale),
        cmocka_unit_test(test_tx_regex_literal_needs),
        cmocka_unit_test(test_tx_regex_prepared_keys),
        cmocka_unit_test(test_tx_keys_finish_again),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
