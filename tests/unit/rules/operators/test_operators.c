/*
 * Operator family (rules/operators/): every vector of operator_vectors.h through the row's
 * parse and exec, in a real transaction. Where the row has a literal prefilter (needs), a value
 * that matches must also pass the prefilter: the evaluator skips exec for values that do not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config/config.h"
#include "rules/operators/operator_vectors.h"
#include "rules/operators/operators.h"
#include "tx.h"

static apr_pool_t *pool;

static void test_vectors(void **state)
{
    pp_tx_t *tx = pp_tx_create(pp_cfg_create(pool), pool, "t");
    for (size_t i = 0; i < sizeof op_vectors / sizeof op_vectors[0]; i++) {
        const op_vector_t *v = &op_vectors[i];
        const pp_op_def_t *def = pp_op_find(v->name);
        if (!def)
            fail_msg("vector %zu: no operator \"%s\"", i, v->name);
        void *compiled = NULL;
        const char *err = def->parse(pool, v->arg, &compiled);
        if (v->error) {
            if (!err || !strstr(err, v->error))
                fail_msg("%s \"%s\": expected error \"%s\", got \"%s\"", v->name, v->arg,
                         v->error, err ? err : "(accepted)");
            continue;
        }
        if (err)
            fail_msg("%s \"%s\": unexpected error %s", v->name, v->arg, err);
        bool m = !v->match;
        pp_str_t in = { v->in, v->in_len };
        pp_op_out_t out = { .want_captures = false };
        assert_int_equal(def->exec(tx, compiled, in, &m, &out), APR_SUCCESS);
        if (m != v->match)
            fail_msg("%s \"%s\" on \"%s\": match %d, expected %d", v->name, v->arg, v->in, m,
                     v->match);
        /* A match always says what matched (MATCHED_VAR, [data]): within the value or in
         * transaction memory, never unset; captures only when asked for. */
        if (m && (!out.data.data || out.data.len > in.len || out.ncaptures != 0))
            fail_msg("%s \"%s\" on \"%s\": matched data unset or captures unasked", v->name,
                     v->arg, v->in);
        const pp_rx_needs_t *needs = def->needs ? def->needs(compiled) : NULL;
        if (m && needs && !pp_rx_needs_met(needs, in, pp_sketch_build(pool, in)))
            fail_msg("%s \"%s\": the prefilter rules out \"%s\", which matches", v->name,
                     v->arg, v->in);
    }
}

/* The operator interface's output (docs/rule-core.md): a regex reports its whole match as the
 * matched data, and with want_captures the groups up to the last one set (an unset group in
 * between is ""), at most 10; @detectSQLi's capture is its fingerprint. */
static void test_match_output(void **state)
{
    pp_tx_t *tx = pp_tx_create(pp_cfg_create(pool), pool, "t");
    const pp_op_def_t *rx = pp_op_find("rx");
    void *c = NULL;
    assert_null(rx->parse(pool, "(a+)(x)?(b)c", &c));
    bool m = false;
    pp_op_out_t out = { .want_captures = false };
    assert_int_equal(rx->exec(tx, c, PP_STR("zzaabcd"), &m, &out), APR_SUCCESS);
    assert_true(m);
    assert_int_equal(out.data.len, 4);
    assert_memory_equal(out.data.data, "aabc", 4);
    assert_int_equal(out.ncaptures, 0);
    out = (pp_op_out_t){ .want_captures = true };
    assert_int_equal(rx->exec(tx, c, PP_STR("zzaabcd"), &m, &out), APR_SUCCESS);
    assert_int_equal(out.ncaptures, 4);
    const char *want[] = { "aabc", "aa", "", "b" };
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(out.captures[i].len, strlen(want[i]));
        assert_memory_equal(out.captures[i].data, want[i], strlen(want[i]));
    }
    /* Twelve groups: only ten are kept. */
    assert_null(rx->parse(pool, "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)", &c));
    out = (pp_op_out_t){ .want_captures = true };
    assert_int_equal(rx->exec(tx, c, PP_STR("abcdefghijk"), &m, &out), APR_SUCCESS);
    assert_true(m);
    assert_int_equal(out.ncaptures, PP_OP_CAPTURES);
    assert_memory_equal(out.captures[9].data, "i", 1);

    const pp_op_def_t *sqli = pp_op_find("detectSQLi");
    out = (pp_op_out_t){ .want_captures = true };
    assert_int_equal(sqli->exec(tx, NULL, PP_STR("1' or '1'='1"), &m, &out), APR_SUCCESS);
    assert_true(m);
    assert_int_equal(out.ncaptures, 1);
    assert_true(out.captures[0].len >= 1 && out.captures[0].len <= 5);
    assert_int_equal(out.data.len, out.captures[0].len);
}

/* @pmFromFile reads its files as ModSecurity does: relative to the rule file's directory (set
 * by the front end), one phrase a line, trimmed, '#' lines, empty lines and (ModSecurity's
 * off-by-one) one-byte lines skipped, the @pm content syntax applied per line; the phrase found
 * is the matched data and, with captures, TX:0. */
static void test_pm_files(void **state)
{
    char dir[] = "/tmp/parapet-pmXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/p.data", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# a comment\n  Alpha  \nb\n\n|62 65|ta\r\ngam ma\n", f);
    fclose(f);
    apr_pool_t *cp;
    apr_pool_create(&cp, pool);
    const pp_op_def_t *pmf = pp_op_find("pmFromFile");
    void *c = NULL;
    pp_op_set_base_dir(cp, dir);
    assert_null(pmf->parse(cp, "p.data", &c));
    assert_int_equal(pp_pm_phrases(c), 3); /* Alpha, beta, "gam ma" */
    bool m = false;
    pp_op_out_t out = { .want_captures = true };
    assert_int_equal(pmf->exec(NULL, c, PP_STR("xxBETAxx"), &m, &out), APR_SUCCESS);
    assert_true(m);
    assert_int_equal(out.data.len, 4);
    assert_memory_equal(out.data.data, "beta", 4); /* the phrase as written */
    assert_int_equal(out.ncaptures, 1);
    assert_int_equal(pmf->exec(NULL, c, PP_STR("b # comment"), &m, &out), APR_SUCCESS);
    assert_false(m);
    assert_int_equal(pmf->exec(NULL, c, PP_STR("a gam ma"), &m, &out), APR_SUCCESS);
    assert_true(m);
    pp_op_set_base_dir(cp, "/nonexistent");
    const char *err = pmf->parse(cp, "p.data", &c);
    assert_non_null(err);
    assert_non_null(strstr(err, "\"/nonexistent/p.data\""));
    unlink(path);
    rmdir(dir);
    apr_pool_destroy(cp);
}

static void test_unknown_operator(void **state)
{
    assert_null(pp_op_find("nosuchop"));
    assert_null(pp_op_find(""));
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_match_output),
        cmocka_unit_test(test_pm_files),
        cmocka_unit_test(test_unknown_operator),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
