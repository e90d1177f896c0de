/*
 * Macro templates (lang/macro.c, reference secrule-2.9 §10): literal parts and references
 * compiled once, expanded per transaction; names and keys case-insensitive; unknown variables,
 * missing keys and empty collections expand to nothing; an unclosed "%{" and a lone '%' stay
 * literal; single pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"
#include "rules/variables/collection.h"
#include "tx.h"

#include "pp_request.h"

static apr_pool_t *pool;

static pp_tx_t *request(void)
{
    static const char req[] = "POST /x?a=1&A=2 HTTP/1.1\r\nHost: Example.test\r\n\r\n";
    pp_tx_t *tx = pp_tx_create(pp_cfg_create(pool), pool, "t");
    pp_test_feed_request(tx, req, sizeof req - 1, 0);
    return tx;
}

static const char *expand(pp_tx_t *tx, const char *text)
{
    const pp_macro_t *m = pp_macro_compile(pool, text);
    pp_str_t s = pp_macro_expand(tx, m);
    assert_int_equal(s.data[s.len], '\0');
    return apr_pstrmemdup(pool, s.data, s.len);
}

static void test_expand(void **state)
{
    pp_tx_t *tx = request();
    pp_coll_t *c = pp_tx_collection(tx);
    pp_coll_set(c, PP_STR("Score"), PP_STR("5"));
    pp_coll_set(c, PP_STR("loop"), PP_STR("%{tx.score}"));
    assert_string_equal(expand(tx, "s=%{tx.score}"), "s=5");
    assert_string_equal(expand(tx, "s=%{TX.SCORE}|%{Tx.Score}"), "s=5|5");
    assert_string_equal(expand(tx, "%{REQUEST_METHOD} %{request_headers.HOST}"),
                        "POST Example.test");
    /* Missing key, unknown variable: empty (§10, [obs] x=[%{foo.bar}] gives x=[]). */
    assert_string_equal(expand(tx, "x=[%{tx.missing}][%{foo.bar}][%{nosuch}]"), "x=[][][]");
    /* Unclosed, lone '%', and "%{" inside literal text. */
    assert_string_equal(expand(tx, "100% %{tx.score"), "100% %{tx.score");
    assert_string_equal(expand(tx, "%%{tx.score}%"), "%5%");
    /* Single pass: the value of tx.loop is not expanded again. */
    assert_string_equal(expand(tx, "%{tx.loop}"), "%{tx.score}");
    /* A key with dots is one key; ARGS gives its first value. */
    pp_coll_set(c, PP_STR("a.b"), PP_STR("dotted"));
    assert_string_equal(expand(tx, "%{tx.a.b} %{ARGS.a}"), "dotted 1");
    assert_string_equal(expand(tx, ""), "");
}

static void test_compile(void **state)
{
    const pp_macro_t *plain = pp_macro_compile(pool, "no references, 100%");
    assert_false(pp_macro_has_refs(plain));
    assert_string_equal(pp_macro_text(plain), "no references, 100%");
    assert_true(pp_macro_has_refs(pp_macro_compile(pool, "%{nosuch}")));
    /* Expanding a template without references costs no copy. */
    pp_tx_t *tx = request();
    assert_ptr_equal(pp_macro_expand(tx, plain).data, pp_macro_text(plain));
}

/* Start-up sites share the macro of a text compiled before into the same pool; the shared
 * one is the caller's text's own copy and expands as a macro of its own would. */
static void test_compile_shared(void **state)
{
    apr_pool_t *cp, *other;
    apr_pool_create(&cp, pool);
    apr_pool_create(&other, pool);
    char buf[] = "s=%{tx.score}";
    const pp_macro_t *a = pp_macro_compile_shared(cp, buf);
    strcpy(buf, "s=%{tx.Score}");
    const pp_macro_t *b = pp_macro_compile_shared(cp, "s=%{tx.score}");
    assert_ptr_equal(a, b);
    assert_string_equal(pp_macro_text(a), "s=%{tx.score}");
    const pp_macro_t *c = pp_macro_compile_shared(cp, buf);
    assert_ptr_not_equal(c, a);
    assert_string_equal(pp_macro_text(c), "s=%{tx.Score}");
    assert_ptr_not_equal(pp_macro_compile_shared(other, "s=%{tx.score}"), a);
    assert_ptr_equal(pp_macro_compile_shared(cp, NULL), pp_macro_compile_shared(cp, ""));
    pp_tx_t *tx = request();
    pp_coll_set(pp_tx_collection(tx), PP_STR("score"), PP_STR("7"));
    pp_str_t sa = pp_macro_expand(tx, a), sc = pp_macro_expand(tx, c);
    assert_string_equal(apr_pstrmemdup(pool, sa.data, sa.len), "s=7");
    assert_string_equal(apr_pstrmemdup(pool, sc.data, sc.len), "s=7");
    apr_pool_destroy(other);
    apr_pool_destroy(cp);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_compile),
        cmocka_unit_test(test_compile_shared),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
