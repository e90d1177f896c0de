/*
 * Registry self-check (style §4, §9): every family table is sorted (look-ups rely on it), every
 * row has help text and test vectors (the family tests run them; the directive, variable,
 * operator, action and 1.9 location tables), every vector names a row, every 1.9 location name
 * resolves to a variable row, every directive row is found by name, and an operator row's cmp
 * column names the comparison its exec makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"
#include "config/directive_vectors.h"
#include "lang/lang.h"
#include "lang/names19_vectors.h"
#include "rules/actions/action_vectors.h"
#include "rules/operators/operator_vectors.h"
#include "rules/operators/operators.h"
#include "rules/variables/variable_vectors.h"

#include "pp_vectors.h"

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

typedef struct name_row_t {
    const char *name;
} name_row_t;

typedef struct family_t {
    const char *what;
    pp_rows_t table, vectors;
} family_t;

static void families(family_t *f)
{
    apr_size_t n;
    const pp_directive_t *d = pp_directive_table(&n);
    f[0] = (family_t){ "directive", PP_ROWS(d, n, pp_directive_t, name),
                       PP_ROWS(directive_vectors, PP_COUNT(directive_vectors), directive_vector_t, name) };
    const pp_var_def_t *v = pp_var_table(&n);
    f[1] = (family_t){ "variable", PP_ROWS(v, n, pp_var_def_t, name),
                       PP_ROWS(var_vectors, PP_COUNT(var_vectors), var_vector_t, name) };
    const pp_op_def_t *o = pp_op_table(&n);
    f[2] = (family_t){ "operator", PP_ROWS(o, n, pp_op_def_t, name),
                       PP_ROWS(op_vectors, PP_COUNT(op_vectors), op_vector_t, name) };
    const pp_action_def_t *a = pp_action_table(&n);
    f[3] = (family_t){ "action", PP_ROWS(a, n, pp_action_def_t, name),
                       PP_ROWS(action_vectors, PP_COUNT(action_vectors), action_vector_t, name) };
    /* The 1.9 location table is private to lang/names19.c: its row names, in order. */
    static name_row_t names19[128];
    for (n = 0; n < 128 && pp_names19_row(n); n++)
        names19[n].name = pp_names19_row(n);
    assert_null(pp_names19_row(n)); /* the copy holds every row */
    f[4] = (family_t){ "1.9 location", PP_ROWS(names19, n, name_row_t, name),
                       PP_ROWS(names19_vectors, PP_COUNT(names19_vectors), names19_vector_t, row) };
}
#define N_FAMILIES 5

/* A row without vectors fails here: add them to the family's *_vectors.h. */
static void test_vectors_everywhere(void **state)
{
    family_t f[N_FAMILIES];
    families(f);
    for (int i = 0; i < N_FAMILIES; i++) {
        const char *missing = pp_rows_without_vectors(f[i].table, f[i].vectors);
        if (missing)
            fail_msg("%s \"%s\" has no test vectors", f[i].what, missing);
        const char *stray = pp_vectors_without_row(f[i].table, f[i].vectors);
        if (stray)
            fail_msg("a %s vector names \"%s\", which is not in the table", f[i].what, stray);
    }
}

/* The check above can fail: a synthetic table with a row its vectors miss, and each real
 * family with the vectors of its first row taken out. */
typedef struct row_t {
    int n;
    const char *name;
} row_t;

static void test_vector_check_fails(void **state)
{
    static const row_t table[] = { { 1, "alpha" }, { 2, "beta" }, { 3, "gamma" } };
    static const row_t vectors[] = { { 0, "gamma" }, { 0, "ALPHA" }, { 0, "gamma" } };
    pp_rows_t t = PP_ROWS(table, 3, row_t, name), v = PP_ROWS(vectors, 3, row_t, name);
    assert_string_equal(pp_rows_without_vectors(t, v), "beta");
    assert_null(pp_vectors_without_row(t, v));
    assert_string_equal(pp_rows_without_vectors(t, PP_ROWS(vectors, 0, row_t, name)), "alpha");
    static const row_t stray[] = { { 0, "alpha" }, { 0, "beta" }, { 0, "gamma" }, { 0, "delta" } };
    assert_null(pp_rows_without_vectors(t, PP_ROWS(stray, 4, row_t, name)));
    assert_string_equal(pp_vectors_without_row(t, PP_ROWS(stray, 4, row_t, name)), "delta");

    family_t f[N_FAMILIES];
    families(f);
    for (int i = 0; i < N_FAMILIES; i++) {
        const char *first = pp_rows_name(f[i].table, 0);
        size_t k = 0; /* vectors are grouped by row: skip those of the first row */
        while (k < f[i].vectors.n && strcasecmp(pp_rows_name(f[i].vectors, k), first) == 0)
            k++;
        assert_true(k > 0);
        pp_rows_t rest = f[i].vectors;
        rest.rows = (const char *)rest.rows + k * rest.size;
        rest.n -= k;
        const char *missing = pp_rows_without_vectors(f[i].table, rest);
        if (!missing || strcmp(missing, first) != 0)
            fail_msg("%s table: removing the vectors of \"%s\" went unnoticed", f[i].what, first);
    }
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

/* The rule loop decides a row with a cmp column in place (rules/eval.c num_compare): the row's
 * exec must answer as pp_num_cmp does, on numbers below, at and above the argument, and the
 * five number comparisons are the rows that have one. */
static void test_cmp_column_is_the_exec(void **state)
{
    apr_size_t n;
    const pp_op_def_t *t = pp_op_table(&n);
    unsigned with = 0;
    static const char *const vals[] = { "-3", "0", "1", "2", "3", "12", "x", "", " 2" };
    for (apr_size_t i = 0; i < n; i++) {
        if (t[i].cmp == PP_CMP_NONE)
            continue;
        with++;
        for (int a = -2; a <= 3; a++) {
            void *compiled = NULL;
            assert_null(t[i].parse(pool, apr_itoa(pool, a), &compiled));
            for (size_t v = 0; v < sizeof vals / sizeof *vals; v++) {
                pp_str_t s = pp_str_from_cstr(vals[v]);
                bool m = false;
                pp_op_out_t out = { .ncaptures = 0 };
                assert_int_equal(t[i].exec(NULL, compiled, s, &m, &out), APR_SUCCESS);
                assert_int_equal(m, pp_num_cmp(t[i].cmp, pp_ms_atoi(s.data, s.len), a));
            }
        }
    }
    assert_int_equal(with, 5);
    const char *const named[] = { "eq", "gt", "ge", "lt", "le" };
    for (int k = 0; k < 5; k++)
        assert_int_not_equal(pp_op_find(named[k])->cmp, PP_CMP_NONE);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_init),
        cmocka_unit_test(test_help_everywhere),
        cmocka_unit_test(test_vectors_everywhere),
        cmocka_unit_test(test_vector_check_fails),
        cmocka_unit_test(test_names19_resolve),
        cmocka_unit_test(test_interning_shares_targets),
        cmocka_unit_test(test_cmp_column_is_the_exec),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
