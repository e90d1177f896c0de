/*
 * The words column of the operator table (ModSecurity 2.9.7's match messages, reference §8):
 * checked against the module itself by tests/e2e/test_ms2_operators.py and test_ms2_detect.py;
 * here the forms and the escaping without Apache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"
#include "rules/operators/operators.h"
#include "tx.h"

static apr_pool_t *pool;

static const char *words(const char *op, const char *arg, const char *value)
{
    const pp_op_def_t *d = pp_op_find(op);
    assert_non_null(d);
    assert_non_null(d->words);
    void *compiled = NULL;
    assert_null(d->parse(pool, arg, &compiled));
    pp_str_t v = pp_str_from_cstr(value);
    bool m = false;
    pp_op_out_t out = { .want_captures = true };
    pp_tx_t *tx = pp_tx_create(pp_cfg_create(pool), pool, "t");
    assert_int_equal(d->exec(tx, compiled, v, &m, &out), APR_SUCCESS);
    assert_true(m);
    return d->words(pool, compiled, arg, v, &out, "ARGS:a");
}

static void test_words(void **state)
{
    assert_string_equal(words("streq", "a\"b", "a\"b"), "String match \"a\\\"b\" at ARGS:a.");
    assert_string_equal(words("contains", "b", "abc"), "String match \"b\" at ARGS:a.");
    assert_string_equal(words("within", "GET HEAD", "GET"), "String match within \"GET HEAD\" at ARGS:a.");
    assert_string_equal(words("within", "GET HEAD", ""), "String match within \"\" at ARGS:a.");
    assert_string_equal(words("ge", "5abc", "7"), "Operator GE matched 5 at ARGS:a.");
    assert_string_equal(words("strmatch", "|61|b", "ab"), "Pattern match \"|61|b\" at ARGS:a.");
    assert_string_equal(words("pm", "EvilWord", "an evilword"), "Matched phrase \"EvilWord\" at ARGS:a.");
    assert_string_equal(words("ipMatch", "10.0.0.0/8", "10.1.2.3"), "IPmatch: \"10.1.2.3\" matched at ARGS:a.");
    assert_string_equal(words("detectSQLi", "", "1' or '1'='1"),
                        "detected SQLi using libinjection with fingerprint 's&sos'");
    assert_string_equal(words("detectXSS", "", "<script>alert(1)</script>"),
                        "detected XSS using libinjection.");
    /* ModSecurity's log_escape: named control escapes, other bytes as \xHH. */
    assert_string_equal(pp_ms_log_escape(pool, (pp_str_t){ "a\n\t\\\x01\xe9\x7f", 7 }),
                        "a\\n\\t\\\\\\x01\\xe9\\x7f");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_words) };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
