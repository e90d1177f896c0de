/*
 * Variable collectors (rules/variables/collect.c): every vector of variable_vectors.h, run
 * through a real transaction (request line, headers, body, response) with the row's collector,
 * and the collectors' own contracts: values point into transaction memory, selectors filter,
 * a missing source gives no value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "rules/variables/variable_vectors.h"
#include "tx.h"

#include "pp_request.h"

static apr_pool_t *root;
static const char *tmpdir, *script, *updir;

#include "pp_test.h"

static pp_cfg_t *config(apr_pool_t *p)
{
    static const char *const lines[][2] = {
        { "SecFilterEngine", "On" },
        { "SecFilterScanPOST", "On" },
        { "SecFilterScanOutput", "On" },
        { "SecFilterOutputMimeTypes", "text/html" },
        { "SecUploadKeepFiles", "RelevantOnly" }, /* files are stored, then removed */
    };
    pp_cfg_t *cfg = pp_cfg_create(p);
    pp_cfg_site_t site = { 0 };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        assert_null(pp_cfg_apply(cfg, pp_directive_find(lines[i][0]), lines[i][1], &site, p, p));
    assert_null(pp_cfg_apply(cfg, pp_directive_find("SecUploadDir"), updir, &site, p, p));
    assert_null(pp_cfg_finish(cfg, p, p));
    return cfg;
}

static pp_tx_t *transaction(apr_pool_t *p, const char *request, const char *response)
{
    pp_conn_info_t ci = {
        .client_ip = "192.0.2.7", .client_port = 40000, .server_ip = "192.0.2.1",
        .server_port = 8080, .server_name = "example.test", .remote_host = "client.test",
        .remote_user = "alice", .remote_ident = "id7", .auth_type = "Basic",
        .document_root = "/var/www", .server_admin = "admin@example.test",
        .server_software = "Apache/2.4.99", .script_filename = script, .path_info = "/extra",
    };
    pp_tx_t *tx = pp_tx_create(config(p), p, "t");
    pp_tx_set_conn(tx, &ci);
    apr_table_t *env = apr_table_make(p, 1);
    apr_table_set(env, "PARAPET_T", "v1");
    pp_tx_set_env(tx, env);
    pp_test_feed_request(tx, request, strlen(request), 0);
    if (response)
        pp_test_feed_response(tx, response, strlen(response));
    return tx;
}

static apr_array_header_t *collect(pp_tx_t *tx, const char *name, const char *selector)
{
    const pp_var_def_t *def = pp_var_find(name);
    if (!def)
        fail_msg("no variable \"%s\"", name);
    pp_target_t t = { .var = def, .selector = selector, .label = name };
    apr_array_header_t *out = apr_array_make(tx->pool, 2, sizeof(pp_value_t));
    assert_int_equal(def->collect(tx, &t, out), APR_SUCCESS);
    return out;
}

static void put(apr_pool_t *p, apr_array_header_t *b, pp_str_t s)
{
    for (apr_size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.data[i];
        const char *w = c >= 0x20 && c < 0x7f && c != '\\' ? apr_psprintf(p, "%c", c)
                                                            : apr_psprintf(p, "\\x%02x", c);
        APR_ARRAY_PUSH(b, const char *) = w;
    }
}

/* The values as variable_vectors.h writes them. */
static const char *render(apr_pool_t *p, const apr_array_header_t *vals)
{
    apr_array_header_t *b = apr_array_make(p, 64, sizeof(const char *));
    for (int i = 0; i < vals->nelts; i++) {
        const pp_value_t *v = &APR_ARRAY_IDX(vals, i, pp_value_t);
        if (i)
            APR_ARRAY_PUSH(b, const char *) = "|";
        if (v->name.data) {
            APR_ARRAY_PUSH(b, const char *) = "[";
            put(p, b, v->name);
            APR_ARRAY_PUSH(b, const char *) = "]";
        }
        put(p, b, v->value);
    }
    return apr_array_pstrcat(p, b, 0);
}

static const char *expand(apr_pool_t *p, const char *s)
{
    struct stat st;
    assert_int_equal(stat(script, &st), 0);
    const struct passwd *pw = getpwuid(st.st_uid);
    const struct group *gr = getgrgid(st.st_gid);
    const char *const subst[][2] = {
        { "${script_base}", strrchr(script, '/') + 1 },
        { "${script}", script },
        { "${uid}", apr_ltoa(p, (long)st.st_uid) },
        { "${gid}", apr_ltoa(p, (long)st.st_gid) },
        { "${user}", pw ? pw->pw_name : "?" },
        { "${group}", gr ? gr->gr_name : "?" },
        { "${updir}", updir },
    };
    for (size_t i = 0; i < sizeof subst / sizeof subst[0]; i++) {
        const char *at;
        while ((at = strstr(s, subst[i][0])) != NULL)
            s = apr_pstrcat(p, apr_pstrmemdup(p, s, (apr_size_t)(at - s)), subst[i][1],
                            at + strlen(subst[i][0]), NULL);
    }
    return s;
}

static bool list_matches(pp_tx_t *tx, const char *pattern, const char *got)
{
    const char *err;
    pp_regex_t *re = pp_regex_compile(tx->pool, apr_psprintf(tx->pool, "^(?:%s)$", pattern), 0,
                                      &err);
    if (!re)
        fail_msg("bad expectation %s: %s", pattern, err);
    bool m = false;
    assert_int_equal(pp_regex_exec(re, tx->rx, pp_str_from_cstr(got), &m), APR_SUCCESS);
    return m;
}

static void test_vectors(void **state)
{
    for (size_t i = 0; i < sizeof var_vectors / sizeof var_vectors[0]; i++) {
        const var_vector_t *v = &var_vectors[i];
        apr_pool_t *p;
        apr_pool_create(&p, *state);
        pp_tx_t *tx = transaction(p, v->request, v->response);
        const char *got = render(p, collect(tx, v->name, v->selector));
        const char *want = expand(p, v->expect);
        bool ok = want[0] == '~' ? list_matches(tx, want + 1, got) : strcmp(got, want) == 0;
        if (!ok)
            fail_msg("%s%s%s (vector %zu): got \"%s\", expected \"%s\"", v->name,
                     v->selector ? ":" : "", v->selector ? v->selector : "", i, got, want);
        apr_pool_destroy(p);
    }
}

/* Collectors never copy request data: field values point into the parsed records. */
static void test_values_not_copied(void **state)
{
    pp_tx_t *tx = transaction(*state, GET_REQ, NULL);
    const apr_array_header_t *v = collect(tx, "ARGS", NULL);
    assert_int_equal(v->nelts, tx->args->nelts);
    for (int i = 0; i < v->nelts; i++) {
        assert_ptr_equal(APR_ARRAY_IDX(v, i, pp_value_t).value.data,
                         APR_ARRAY_IDX(tx->args, i, pp_field_t).value.data);
        assert_ptr_equal(APR_ARRAY_IDX(v, i, pp_value_t).name.data,
                         APR_ARRAY_IDX(tx->args, i, pp_field_t).name.data);
    }
    v = collect(tx, "REQUEST_LINE", NULL);
    assert_ptr_equal(APR_ARRAY_IDX(v, 0, pp_value_t).value.data, tx->request_line.data);
    v = collect(tx, "REQUEST_HEADERS", "host");
    assert_ptr_equal(APR_ARRAY_IDX(v, 0, pp_value_t).value.data,
                     APR_ARRAY_IDX(tx->headers, 0, pp_field_t).value.data);
    /* Collecting appends: a caller's array keeps what it held. */
    apr_array_header_t *out = apr_array_make(tx->pool, 1, sizeof(pp_value_t));
    pp_target_t t = { .var = pp_var_find("REQUEST_METHOD") };
    t.var->collect(tx, &t, out);
    t.var->collect(tx, &t, out);
    assert_string_equal(render(tx->pool, out), "GET|GET");
}

/* ENV reads the request's environment, then what setenv actions added (reference §4.1). */
static void test_env_sources(void **state)
{
    pp_tx_t *tx = transaction(*state, GET_REQ, NULL);
    apr_table_set(pp_tx_env_out(tx), "FROM_RULE", "r");
    apr_table_set(pp_tx_env_out(tx), "PARAPET_T", "shadowed");
    assert_string_equal(render(tx->pool, collect(tx, "ENV", "FROM_RULE")), "[FROM_RULE]r");
    assert_string_equal(render(tx->pool, collect(tx, "ENV", "PARAPET_T")), "[PARAPET_T]v1");
    pp_tx_set_env(tx, NULL);
    assert_string_equal(render(tx->pool, collect(tx, "ENV", "PARAPET_T")), "[PARAPET_T]shadowed");
    assert_string_equal(render(tx->pool, collect(tx, "ENV", "NONE")), "");
}

/* TIME is the local time when the variable is collected. */
static void test_time_is_now(void **state)
{
    pp_tx_t *tx = transaction(*state, GET_REQ, NULL);
    for (int attempt = 0;; attempt++) {
        apr_time_exp_t e;
        apr_time_exp_lt(&e, apr_time_now());
        const char *before = apr_psprintf(tx->pool, "%04d%02d%02d%02d%02d%02d", e.tm_year + 1900,
                                          e.tm_mon + 1, e.tm_mday, e.tm_hour, e.tm_min, e.tm_sec);
        const char *got = render(tx->pool, collect(tx, "TIME", NULL));
        const char *wday = render(tx->pool, collect(tx, "TIME_WDAY", NULL));
        const char *year = render(tx->pool, collect(tx, "TIME_YEAR", NULL));
        if (strcmp(got, before) == 0) {
            assert_string_equal(wday, apr_itoa(tx->pool, e.tm_wday));
            assert_string_equal(year, apr_itoa(tx->pool, e.tm_year + 1900));
            break;
        }
        if (attempt == 2) /* a second boundary each time is not bad luck */
            fail_msg("TIME %s, clock %s", got, before);
    }
}

/* Without a script file the SCRIPT_* metadata do not exist; the names still do. */
static void test_script_missing(void **state)
{
    static const char *const meta[] = { "SCRIPT_UID", "SCRIPT_GID", "SCRIPT_USERNAME",
                                        "SCRIPT_GROUPNAME", "SCRIPT_MODE" };
    pp_tx_t *tx = transaction(*state, GET_REQ, NULL);
    pp_conn_info_t ci = *pp_tx_conn(tx);
    ci.script_filename = apr_pstrcat(tx->pool, tmpdir, "/missing.php", NULL);
    pp_tx_set_conn(tx, &ci);
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        assert_int_equal(collect(tx, meta[i], NULL)->nelts, 0);
    assert_string_equal(render(tx->pool, collect(tx, "SCRIPT_BASENAME", NULL)), "missing.php");
    ci.script_filename = NULL;
    pp_tx_set_conn(tx, &ci);
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        assert_int_equal(collect(tx, meta[i], NULL)->nelts, 0);
    assert_int_equal(collect(tx, "SCRIPT_FILENAME", NULL)->nelts, 0);
    assert_int_equal(collect(tx, "SCRIPT_BASENAME", NULL)->nelts, 0);
}

/* Connection fields the adapter leaves to its fill callback are completed once, on first use. */
static int fills;
static void fill(void *ctx, pp_conn_info_t *ci)
{
    fills++;
    ci->server_name = ctx;
    ci->remote_host = "late.test";
}

static void test_conn_filled_late(void **state)
{
    apr_pool_t *p = *state;
    pp_tx_t *tx = pp_tx_create(config(p), p, "t");
    pp_conn_info_t ci = { .client_ip = "192.0.2.9", .server_port = 443 };
    pp_tx_set_conn(tx, &ci);
    fills = 0;
    pp_tx_set_conn_fill(tx, fill, "filled.test");
    pp_test_feed_request(tx, GET_REQ, strlen(GET_REQ), 0);
    assert_string_equal(render(p, collect(tx, "SERVER_NAME", NULL)), "filled.test");
    assert_string_equal(render(p, collect(tx, "REMOTE_HOST", NULL)), "late.test");
    assert_string_equal(render(p, collect(tx, "SERVER_PORT", NULL)), "443");
    assert_string_equal(render(p, collect(tx, "REMOTE_ADDR", NULL)), "192.0.2.9");
    assert_int_equal(fills, 1);
    assert_int_equal(collect(tx, "REMOTE_USER", NULL)->nelts, 0); /* NULL: no value */
}

/* A request chunked at every byte gives the collectors the same values. */
static void test_chunking_invariant(void **state)
{
    static const char *const names[] = { "ARGS", "ARGS_NAMES", "FILES", "FILES_SIZES",
                                         "REQUEST_BODY", "ARGS_COMBINED" };
    static const char *const requests[] = { POST_REQ, UPLOAD_REQ };
    for (size_t r = 0; r < 2; r++) {
        pp_tx_t *whole = transaction(*state, requests[r], NULL);
        pp_tx_t *bytes = pp_tx_create(whole->cfg, *state, "b");
        pp_tx_set_conn(bytes, pp_tx_conn(whole));
        pp_test_feed_request(bytes, requests[r], strlen(requests[r]), 1);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            assert_string_equal(render(*state, collect(bytes, names[i], NULL)),
                                render(*state, collect(whole, names[i], NULL)));
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    char dir[] = "/tmp/parapet-collect-XXXXXX";
    assert_non_null(mkdtemp(dir));
    tmpdir = apr_pstrdup(root, dir);
    script = apr_pstrcat(root, tmpdir, "/index.php", NULL);
    updir = apr_pstrcat(root, tmpdir, "/up", NULL);
    FILE *f = fopen(script, "w");
    fputs("<?php\n", f);
    fclose(f);
    chmod(script, 0640);
    mkdir(updir, 0750);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_vectors, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_values_not_copied, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_env_sources, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_time_is_now, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_script_missing, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_conn_filled_late, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_chunking_invariant, pp_test_pool_setup, pp_test_pool_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    /* The paths live in root: remove the files before the pool goes (after it, they were read
     * from freed memory, which the sanitizer build's pool guard poisons, and the dir stayed). */
    unlink(script);
    rmdir(updir);
    rmdir(tmpdir);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
