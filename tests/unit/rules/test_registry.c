/*
 * Registry self-check: every family table is sorted (look-ups rely on it), every row has help
 * text, every 1.9 location name resolves to a variable row, and every directive row is found
 * by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"
#include "lang/lang.h"

static apr_pool_t *pool;

static void test_engine_init(void **state)
{
    assert_null(pp_engine_init(pool));
    assert_non_null(strstr(pp_engine_version(pool), "PCRE2"));
}

static void test_help_everywhere(void **state)
{
    apr_size_t n;
    const pp_directive_t *d = pp_directive_table(&n);
    for (apr_size_t i = 0; i < n; i++) {
        assert_true(strlen(d[i].help) > 5);
        assert_ptr_equal(pp_directive_find(d[i].name), &d[i]);
    }
    const pp_var_def_t *v = pp_var_table(&n);
    for (apr_size_t i = 0; i < n; i++) {
        assert_true(strlen(v[i].help) > 3);
        assert_ptr_equal(pp_var_find(v[i].name), &v[i]);
    }
    const pp_action_def_t *a = pp_action_table(&n);
    for (apr_size_t i = 0; i < n; i++)
        assert_true(strlen(a[i].help) > 3);
    const pp_op_def_t *o = pp_op_table(&n);
    for (apr_size_t i = 0; i < n; i++)
        assert_true(strlen(o[i].help) > 3);
}

static void test_names19_resolve(void **state)
{
    static const char *const names[] = {
        "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_USER", "REMOTE_IDENT", "REQUEST_METHOD",
        "SCRIPT_FILENAME", "PATH_INFO", "QUERY_STRING", "AUTH_TYPE", "DOCUMENT_ROOT",
        "SERVER_ADMIN", "SERVER_NAME", "SERVER_ADDR", "SERVER_PORT", "SERVER_PROTOCOL",
        "SERVER_SOFTWARE", "TIME_YEAR", "TIME_MON", "TIME_DAY", "TIME_HOUR", "TIME_MIN",
        "TIME_SEC", "TIME_WDAY", "TIME", "API_VERSION", "THE_REQUEST", "REQUEST_URI",
        "REQUEST_FILENAME", "IS_SUBREQ", "POST_PAYLOAD", "ARGS", "ARGS_COUNT", "ARGS_NAMES",
        "ARGS_VALUES", "ARG_x", "HTTP_USER_AGENT", "HEADER_Host", "HEADERS", "HEADERS_COUNT",
        "HEADERS_NAMES", "HEADERS_VALUES", "COOKIE_s", "COOKIES", "COOKIES_COUNT",
        "COOKIES_NAMES", "COOKIES_VALUES", "ENV_PATH", "FILE_NAME_f", "FILE_SIZE_f",
        "FILES_COUNT", "FILES_NAMES", "FILES_SIZES", "SCRIPT_UID", "SCRIPT_GID",
        "SCRIPT_USERNAME", "SCRIPT_GROUPNAME", "SCRIPT_MODE", "SCRIPT_BASENAME",
        "REQUEST_BASENAME", "OUTPUT", "OUTPUT_STATUS",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const pp_target_t *t = NULL;
        pp_exclusion_t ex;
        const char *err = pp_names19_resolve(pool, pool, names[i], false, &t, &ex);
        if (err)
            fail_msg("%s: %s", names[i], err);
        assert_non_null(t->var);
    }
}

static void test_interning_shares_targets(void **state)
{
    const pp_target_t *a, *b;
    pp_exclusion_t ex;
    assert_null(pp_names19_resolve(pool, pool, "ARGS", false, &a, &ex));
    assert_null(pp_names19_resolve(pool, pool, "ARGS", false, &b, &ex));
    assert_ptr_equal(a, b);
    assert_null(pp_names19_resolve(pool, pool, "HTTP_USER_AGENT", false, &a, &ex));
    assert_string_equal(a->selector, "USER-AGENT");
    assert_string_equal(a->label, "HEADER(\"USER-AGENT\")");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_init),
        cmocka_unit_test(test_help_everywhere),
        cmocka_unit_test(test_names19_resolve),
        cmocka_unit_test(test_interning_shares_targets),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
