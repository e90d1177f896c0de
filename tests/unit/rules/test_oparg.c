/*
 * Operator arguments that are macro templates (rules/oparg.c, reference secrule-2.9 §8.1):
 * expanded for each value, parsed again only when the expansion changed, a refused expansion
 * is an error (the loop fails closed), and @rx escapes the expansion as ModSecurity 2.9.7 does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"
#include "rules/operators/operators.h"
#include "rules/variables/collection.h"
#include "tx.h"

#include "pp_request.h"

static apr_pool_t *pool;

static pp_tx_t *request(void)
{
    static const char req[] = "GET /x?a=1 HTTP/1.1\r\nHost: example.test\r\n\r\n";
    pp_tx_t *tx = pp_tx_create(pp_cfg_create(pool), pool, "t");
    pp_test_feed_request(tx, req, sizeof req - 1, 0);
    return tx;
}

static void set_tx(pp_tx_t *tx, const char *key, const char *value)
{
    pp_coll_set(pp_tx_collection(tx), pp_str_from_cstr(key), pp_str_from_cstr(value));
    pp_tx_changed(tx, PP_SRC_TX);
}

/* A row that counts its parses: @streq's exec, refusing the argument "bad". */
typedef struct {
    unsigned parses;
} counter_t;
static counter_t *counter;

static const char *counting_parse(apr_pool_t *p, const char *arg, void **compiled)
{
    counter->parses++;
    if (strcmp(arg, "bad") == 0)
        return "refused";
    return pp_op_str_parse(p, arg, compiled);
}

static const pp_op_def_t counting_row = { "countingStreq", counting_parse, pp_op_streq_exec, NULL,
                                          "test row", pp_op_text_expand };

static pp_rule_t *rule(const pp_op_def_t *def, const char *arg)
{
    pp_rule_t *r = apr_pcalloc(pool, sizeof *r);
    r->file = "t.conf";
    r->line = 7;
    r->op.def = def;
    r->op.arg = arg;
    r->op.macro = pp_macro_compile(pool, arg);
    assert_true(pp_macro_has_refs(r->op.macro));
    return r;
}

static bool run(pp_tx_t *tx, const pp_rule_t *r, const char *value, apr_status_t *rv)
{
    bool m = true;
    pp_op_out_t out = { .want_captures = true };
    *rv = pp_rule_op_exec(tx, r, pp_str_from_cstr(value), &m, &out);
    return m;
}

static void test_parses_once_while_unchanged(void **state)
{
    counter_t c = { 0 };
    counter = &c;
    pp_tx_t *tx = request();
    const pp_rule_t *r = rule(&counting_row, "x%{tx.want}");
    apr_status_t rv;
    set_tx(tx, "want", "abc");
    for (int i = 0; i < 100; i++) {
        assert_true(run(tx, r, "xabc", &rv));
        assert_false(run(tx, r, "abc", &rv));
        assert_int_equal(rv, APR_SUCCESS);
    }
    assert_int_equal(c.parses, 1);
    /* The TX variable changes: parsed again, and the new text is what counts. */
    set_tx(tx, "want", "q");
    assert_false(run(tx, r, "xabc", &rv));
    assert_true(run(tx, r, "xq", &rv));
    assert_int_equal(c.parses, 2);
    set_tx(tx, "want", "abc");
    assert_true(run(tx, r, "xabc", &rv));
    assert_int_equal(c.parses, 3);
    /* Another transaction has its own: nothing is shared through the rule. */
    pp_tx_t *other = request();
    set_tx(other, "want", "zz");
    assert_true(run(other, r, "xzz", &rv));
    assert_true(run(tx, r, "xabc", &rv));
    assert_int_equal(c.parses, 4);
}

static void test_refused_expansion_is_an_error(void **state)
{
    counter_t c = { 0 };
    counter = &c;
    pp_tx_t *tx = request();
    const pp_rule_t *r = rule(&counting_row, "%{tx.arg}");
    apr_status_t rv;
    set_tx(tx, "arg", "bad");
    assert_false(run(tx, r, "bad", &rv));
    assert_int_equal(rv, APR_EINVAL);
    assert_false(run(tx, r, "other", &rv));
    assert_int_equal(rv, APR_EINVAL);
    assert_int_equal(c.parses, 1); /* refused once, not per value */
    set_tx(tx, "arg", "good");
    assert_true(run(tx, r, "good", &rv));
    assert_int_equal(rv, APR_SUCCESS);
}

static void test_rx_template(void **state)
{
    pp_tx_t *tx = request();
    const pp_rule_t *r = rule(pp_op_find("rx"), "^%{tx.charsets}$");
    apr_status_t rv;
    /* CRS 920480: the list becomes an alternation, the anchors bind the ends only. */
    set_tx(tx, "charsets", "utf-8|iso-8859-1|windows-1252");
    assert_true(run(tx, r, "utf-8", &rv));
    assert_true(run(tx, r, "iso-8859-1 and more", &rv));
    assert_false(run(tx, r, "big5", &rv));
    /* Escaped: '.' is a dot, '(' a parenthesis, '+' a plus; '*' stays a quantifier. */
    set_tx(tx, "charsets", "a.(b)+c*");
    assert_true(run(tx, r, "a.(b)+", &rv));
    assert_true(run(tx, r, "a.(b)+ccc", &rv));
    assert_false(run(tx, r, "ax(b)+c", &rv));
    assert_false(run(tx, r, "abbc", &rv));
    /* An expansion that is no regex: an error, not "no match". */
    set_tx(tx, "charsets", "*a");
    assert_false(run(tx, r, "a", &rv));
    assert_int_equal(rv, APR_EINVAL);
}

static void test_rx_escape(void **state)
{
    static const char in[] = "a.b:c\"d+e]f[g(h)i?j/k\\l|^$*{}\b\n\r\t\v\x01\x7f\xe9z";
    const char *out = pp_op_rx_expand(pool, (pp_str_t){ in, sizeof in - 1 });
    assert_string_equal(out, "a\\.b\\:c\\\"d\\+e\\]f\\[g\\(h\\)i\\?j\\/k\\\\l|^$*{}\\b\\n\\r\\t\\v"
                             "\\x01\\x7f\\xe9z");
    /* The expansion ends at a NUL, as ModSecurity's strlen does. */
    assert_string_equal(pp_op_rx_expand(pool, (pp_str_t){ "ab\0c", 4 }), "ab");
    assert_string_equal(pp_op_text_expand(pool, (pp_str_t){ "a.b", 3 }), "a.b");
}

static void test_expanding_rows(void **state)
{
    /* The rows ModSecurity 2.9.7 expands (reference §8.1) and only those. */
    static const char *const expanding[] = { "beginsWith", "contains", "containsWord", "endsWith",
                                             "eq", "ge", "gt", "le", "lt", "rx", "streq",
                                             "within" };
    apr_size_t n;
    const pp_op_def_t *t = pp_op_table(&n);
    for (apr_size_t i = 0; i < n; i++) {
        bool want = false;
        for (size_t k = 0; k < sizeof expanding / sizeof expanding[0]; k++)
            want |= strcmp(t[i].name, expanding[k]) == 0;
        if (want != (t[i].expand != NULL))
            fail_msg("@%s: expand column %s", t[i].name, t[i].expand ? "set" : "missing");
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses_once_while_unchanged),
        cmocka_unit_test(test_refused_expansion_is_an_error),
        cmocka_unit_test(test_rx_template),
        cmocka_unit_test(test_rx_escape),
        cmocka_unit_test(test_expanding_rows),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
