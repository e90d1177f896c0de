/*
 * Vectors for the @detectSQLi and @detectXSS operator rows (rules/operators/table.c, sqli.c,
 * sqli_fold.c, xss.c), run through the registry as the evaluator runs them. The expected
 * answers are libinjection 3.9.2's (ModSecurity 2.9.7); test_sqli_xss_diff.c compares with
 * the reference itself on a large corpus.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <apr_general.h>

#include "rules/operators/operators.h"

typedef struct vec_t {
    const char *in;
    const char *sqli; /* fingerprint, NULL when not SQL injection */
    bool xss;
} vec_t;

/* clang-format off */
static const vec_t vectors[] = {
    { "1' OR '1'='1",                  "s&sos", false },
    { "1 UNION SELECT 1,2,3--",        "1UE1c", false },
    { "1; DROP TABLE users--",         "1;Tnn", false },
    { "1' AND SLEEP(5)--",             "s&f(1", false },
    { "admin'--",                      "sc",    false },
    { "1/*!50000union*/select 1",      "X",     false }, /* MySQL conditional comment */
    { "9876-QWERTzxcvbnm--",           "1c",    false },
    { "a b c d { ``",                  "X",     false }, /* six types, then evil (fuzz) */
    { "1 --",                          "1c",    false },
    { "1 into outfile '/x'",           "1ks",   false },
    { "x' + 'y",                       "sos",   false },
    { "5 < 6 and 7 > 3",               "1&1",   false },
    { "O'Brien",                       NULL,    false },
    { "select the best",               NULL,    false },
    { "1 union",                       NULL,    false }, /* "1U" alone is too common */
    { "tall and 17",                   NULL,    false },
    { "",                              NULL,    false },
    { "<script>alert(1)</script>",     NULL,    true },
    { "<img src=x onerror=alert(1)>",  NULL,    true },
    { "<x oncustom=1>",                NULL,    true }, /* any on* of five bytes or more */
    { "<x on=1>",                      NULL,    false },
    { "<a href=&#x6A;avascript:x>",    NULL,    true },
    { "\" onmouseover=\"x",            NULL,    true },
    { "<!DOCTYPE html>",               NULL,    true },
    { "<b>bold</b>",                   NULL,    false },
    { "<a href=\"https://example.com\">x</a>", NULL, false },
};
/* clang-format on */

static void test_vectors(void **state)
{
    const pp_op_def_t *sqli = pp_op_find("detectSQLi"), *xss = pp_op_find("detectXSS");
    assert_non_null(sqli);
    assert_non_null(xss);
    void *compiled = (void *)1;
    assert_null(sqli->parse(NULL, "", &compiled));
    assert_null(compiled);
    /* @detectXSS's compiled form is its needs: a '<' or a '=' (xss.c pp_op_xss_parse). */
    apr_pool_t *p;
    assert_int_equal(apr_pool_create(&p, NULL), APR_SUCCESS);
    assert_null(xss->parse(p, "ignored", &compiled));
    const pp_rx_needs_t *needs = xss->needs(compiled);
    assert_non_null(needs);
    assert_true(pp_rx_needs_met(needs, pp_str_from_cstr("a<b"), NULL));
    assert_true(pp_rx_needs_met(needs, pp_str_from_cstr("a=b"), NULL));
    assert_false(pp_rx_needs_met(needs, pp_str_from_cstr("\" onmouseover x"), NULL));
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const vec_t *v = &vectors[i];
        pp_str_t in = { v->in, strlen(v->in) };
        bool m = !v->sqli;
        pp_op_out_t out = { .want_captures = true };
        assert_int_equal(sqli->exec(NULL, NULL, in, &m, &out), APR_SUCCESS);
        char fp[PP_SQLI_FINGERPRINT_SIZE];
        bool hit = pp_sqli_detect(in, fp);
        if (m != (v->sqli != NULL) || hit != m || (v->sqli && strcmp(fp, v->sqli) != 0))
            fail_msg("sqli vector %zu [%s]: match %d fingerprint '%s'", i, v->in, m, fp);
        m = !v->xss;
        assert_int_equal(xss->exec(NULL, NULL, in, &m, &out), APR_SUCCESS);
        if (m != v->xss)
            fail_msg("xss vector %zu [%s]: match %d", i, v->in, m);
        /* With `capture` ModSecurity keeps the whole value as TX:0. */
        if (m && (out.ncaptures != 1 || out.captures[0].data != in.data ||
                  out.captures[0].len != in.len))
            fail_msg("xss vector %zu [%s]: TX:0 is not the value", i, v->in);
        if (m && !pp_rx_needs_met(needs, in, NULL))
            fail_msg("xss vector %zu [%s]: XSS without '<' or '='", i, v->in);
    }
    apr_pool_destroy(p);
}

int main(void)
{
    apr_initialize();
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_vectors) };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
