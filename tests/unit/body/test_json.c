/*
 * The JSON body processor (body/json.c, dispatch.c): ModSecurity 2.9.7's argument names
 * (spec §12.4, the "obs" examples recorded from the real module), values as YAJL gives them,
 * duplicates kept, the same result at any chunking, YAJL's own error texts, the depth limit,
 * and in a transaction: selected only by pp_tx_set_body_processor, REQBODY_* variables, JSON
 * leaves in ARGS but not in ARGS_POST, a premature end refused with 400.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "body/json.h"
#include "config/config.h"
#include "tx.h"

static apr_pool_t *root;
#include "pp_test.h"
#include "pp_request.h"

typedef struct got_t {
    apr_pool_t *p;
    const char *s;
    int n, stop_after;
} got_t;

static apr_status_t record(void *ctx, pp_str_t name, pp_str_t value)
{
    got_t *g = ctx;
    g->s = apr_psprintf(g->p, "%s%s%.*s=%.*s", g->s, g->n++ ? "|" : "", (int)name.len, name.data,
                        (int)value.len, value.data);
    return g->stop_after && g->n >= g->stop_after ? APR_EGENERAL : APR_SUCCESS;
}

/* Parses text in chunks of `chunk` bytes (0: whole); returns the leaves or "ERR:" + message. */
static const char *parse(apr_pool_t *p, const char *text, size_t chunk, int depth)
{
    got_t g = { p, "", 0, 0 };
    pp_json_t *j = pp_json_create(p, depth, record, &g);
    assert_non_null(j);
    size_t len = strlen(text), step = chunk ? chunk : (len ? len : 1);
    apr_status_t rv = APR_SUCCESS;
    for (size_t i = 0; i < len && rv == APR_SUCCESS; i += step)
        rv = pp_json_feed(j, text + i, len - i < step ? len - i : step);
    if (rv == APR_SUCCESS)
        rv = pp_json_finish(j);
    if (rv != APR_SUCCESS) {
        assert_non_null(pp_json_error(j));
        return apr_pstrcat(p, "ERR:", pp_json_error(j), NULL);
    }
    assert_null(pp_json_error(j));
    return g.s;
}

static const struct {
    const char *json, *want;
} names[] = {
    /* spec §12.4, observed with ModSecurity 2.9.7 */
    { "{\"a\":[1,2]}", "a.a=1|a.a=2" },
    { "{\"json\":{\"a\":[1,\"x\",{\"b\":\"y\"}]}}", "json.a.a=1|json.a.a=x|json.a.a.b=y" },
    { "[1,[\"x\",{\"k\":\"y\"}]]", "array.array=1|array.array.array=x|array.array.array.k=y" },
    /* values: numbers as written, booleans, null as empty, strings unescaped */
    { "{\"n\":1.50,\"e\":-2E+3,\"t\":true,\"f\":false,\"z\":null,\"s\":\"a\\u00e9\\n\\\"\"}",
      "n=1.50|e=-2E+3|t=true|f=false|z=|s=a\xc3\xa9\n\"" },
    /* duplicates are all kept, in order */
    { "{\"a\":1,\"a\":2}", "a=1|a=2" },
    /* after a nested object the outer keys have no prefix again */
    { "{\"a\":{\"b\":1},\"c\":2}", "a.b=1|c=2" },
    { "{\"a\":{\"b\":{\"c\":1},\"d\":2},\"e\":3}", "a.b.c=1|a.d=2|e=3" },
    /* msc_json.c finds the enclosing key again after the prefix's last '.' */
    { "{\"a.b\":{\"c\":1},\"d\":2}", "a.b.c=1|a.d=2" },
    /* empty containers and a bare top-level scalar give nothing */
    { "{}", "" },
    { "[]", "" },
    { "{\"a\":{},\"b\":[]}", "" },
    { "\"x\"", "" },
    { "  {\"k\" : \"v\" }  ", "k=v" },
};

static void test_names(void **state)
{
    apr_pool_t *p = *state;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        for (size_t chunk = 0; chunk <= 3; chunk++) {
            const char *got = parse(p, names[i].json, chunk, PP_JSON_DEFAULT_DEPTH);
            if (strcmp(got, names[i].want) != 0)
                fail_msg("%s (chunk %zu): got \"%s\", expected \"%s\"", names[i].json, chunk, got,
                         names[i].want);
        }
    }
}

/* YAJL's texts, trailing newline included, as ModSecurity puts them into REQBODY_ERROR_MSG. */
static void test_errors(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(parse(p, "{\"broken\":", 0, 512), "ERR:parse error: premature EOF\n");
    assert_string_equal(parse(p, "{\"a\":]}", 0, 512),
                        "ERR:parse error: unallowed token at this point in JSON text\n");
    assert_string_equal(parse(p, "{\"a\":1}x", 0, 512), "ERR:parse error: trailing garbage\n");
    assert_string_equal(parse(p, "{a:1}", 0, 512),
                        "ERR:lexical error: invalid char in json text.\n");
    assert_string_equal(parse(p, "{1:1}", 0, 512),
                        "ERR:parse error: invalid object key (must be a string)\n");
    /* an error stops the parser: nothing more is taken */
    got_t g = { p, "", 0, 0 };
    pp_json_t *j = pp_json_create(p, 512, record, &g);
    assert_int_equal(pp_json_feed(j, "[1,}", 4), APR_EGENERAL);
    assert_int_equal(pp_json_feed(j, "2]", 2), APR_EGENERAL);
    assert_int_equal(pp_json_finish(j), APR_EGENERAL);
    assert_string_equal(g.s, "array.array=1");
}

static void test_depth(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(parse(p, "{\"a\":{\"b\":1}}", 0, 2), "a.b=1");
    assert_string_equal(parse(p, "{\"a\":{\"b\":{\"c\":1}}}", 0, 2),
                        "ERR:JSON depth limit exceeded");
    assert_string_equal(parse(p, "[[[1]]]", 1, 2), "ERR:JSON depth limit exceeded");
    /* 100,000 nested arrays at the default limit: refused, not a deep stack */
    apr_size_t n = 100000;
    char *deep = apr_palloc(p, n + 1);
    memset(deep, '[', n);
    deep[n] = '\0';
    assert_string_equal(parse(p, deep, 4096, PP_JSON_DEFAULT_DEPTH),
                        "ERR:JSON depth limit exceeded");
}

/* A callback's refusal stops the parse with its status, and no message. */
static void test_callback_stops(void **state)
{
    got_t g = { *state, "", 0, 2 };
    pp_json_t *j = pp_json_create(*state, 512, record, &g);
    assert_int_equal(pp_json_feed(j, "[1,2,3]", 7), APR_EGENERAL);
    assert_null(pp_json_error(j));
    assert_string_equal(g.s, "array.array=1|array.array=2");
}

/* ---- in a transaction ------------------------------------------------------------------ */

static pp_cfg_t *config(apr_pool_t *p, const char *args_limit)
{
    pp_cfg_t *cfg = pp_cfg_create(p);
    pp_cfg_site_t site = { 0 };
    assert_null(pp_cfg_apply(cfg, pp_directive_find("SecFilterEngine"), "On", &site, p, p));
    assert_null(pp_cfg_apply(cfg, pp_directive_find("SecFilterScanPOST"), "On", &site, p, p));
    if (args_limit)
        assert_null(pp_cfg_apply(cfg, pp_directive_find("SecArgumentsLimit"), args_limit, &site,
                                 p, p));
    assert_null(pp_cfg_finish(cfg, p, p));
    return cfg;
}

static pp_tx_t *post(apr_pool_t *p, const pp_cfg_t *cfg, const char *proc, const char *body,
                     size_t chunk)
{
    pp_tx_t *tx = pp_tx_create(cfg, p, "t");
    pp_tx_set_request_line(tx, PP_STR("POST /api?q=1 HTTP/1.1"));
    pp_tx_add_request_header(tx, PP_STR("Content-Type"), PP_STR("application/json"));
    pp_tx_finish_request_headers(tx);
    if (proc)
        assert_int_equal(pp_tx_set_body_processor(tx, proc), APR_SUCCESS);
    pp_test_feed_request_body(tx, body, strlen(body), chunk);
    return tx;
}

static const char *values(pp_tx_t *tx, const char *var)
{
    const pp_var_def_t *def = pp_var_find(var);
    assert_non_null(def);
    pp_target_t t = { .var = def };
    apr_array_header_t *out = apr_array_make(tx->pool, 4, sizeof(pp_value_t));
    assert_int_equal(def->collect(tx, &t, out), APR_SUCCESS);
    const char *s = "";
    for (int i = 0; i < out->nelts; i++) {
        const pp_value_t *v = &APR_ARRAY_IDX(out, i, pp_value_t);
        s = apr_psprintf(tx->pool, "%s%s%.*s%s%.*s", s, i ? "|" : "", (int)v->name.len,
                         v->name.data ? v->name.data : "", v->name.data ? "=" : "",
                         (int)v->value.len, v->value.data);
    }
    return s;
}

static void test_transaction(void **state)
{
    apr_pool_t *p = *state;
    const pp_cfg_t *cfg = config(p, NULL);
    const char *body = "{\"user\":{\"name\":\"x' or 1=1\",\"ids\":[7,8]}}";
    for (size_t chunk = 0; chunk <= 2; chunk++) {
        pp_tx_t *tx = post(p, cfg, "json", body, chunk);
        assert_false(pp_tx_verdict(tx)->intercepted);
        assert_string_equal(values(tx, "ARGS"),
                            "q=1|user.name=x' or 1=1|user.ids.ids=7|user.ids.ids=8");
        assert_string_equal(values(tx, "ARGS_POST"), ""); /* origin JSON, not BODY */
        assert_string_equal(values(tx, "ARGS_GET"), "q=1");
        assert_string_equal(values(tx, "REQBODY_PROCESSOR"), "JSON");
        assert_string_equal(values(tx, "REQBODY_ERROR"), "0");
        assert_string_equal(values(tx, "REQUEST_BODY"), "");
    }
    /* Without ctl:requestBodyProcessor the body is not parsed (ModSecurity 2.9.7 picks JSON
     * only when told) */
    pp_tx_t *tx = post(p, cfg, NULL, body, 0);
    assert_string_equal(values(tx, "ARGS"), "q=1");
    assert_string_equal(values(tx, "REQBODY_PROCESSOR"), "");
}

/* A syntax error while streaming is REQBODY_ERROR for the phase-2 rules; an incomplete
 * document (seen only at the end) is refused with 400 and the same message. */
static void test_transaction_errors(void **state)
{
    apr_pool_t *p = *state;
    const pp_cfg_t *cfg = config(p, NULL);
    pp_tx_t *tx = post(p, cfg, "JSON", "{\"a\":]}", 0);
    assert_false(pp_tx_verdict(tx)->intercepted);
    assert_string_equal(values(tx, "REQBODY_ERROR"), "1");
    assert_string_equal(values(tx, "REQBODY_PROCESSOR_ERROR"), "1");
    assert_string_equal(values(tx, "REQBODY_ERROR_MSG"),
                        "JSON parsing error: parse error: unallowed token at this point in JSON "
                        "text\n");
    tx = post(p, cfg, "JSON", "{\"broken\":", 3);
    assert_true(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_verdict(tx)->status, 400);
    assert_string_equal(values(tx, "REQBODY_ERROR_MSG"),
                        "JSON parser error: parse error: premature EOF\n");
    /* an empty body is no error (ModSecurity completes only a body it read) */
    tx = post(p, cfg, "JSON", "", 0);
    assert_false(pp_tx_verdict(tx)->intercepted);
    assert_string_equal(values(tx, "REQBODY_ERROR"), "0");
}

/* SecArgumentsLimit counts JSON leaves as it counts form fields: one past it is refused. */
static void test_arguments_limit(void **state)
{
    apr_pool_t *p = *state;
    const pp_cfg_t *cfg = config(p, "3");
    pp_tx_t *tx = post(p, cfg, "JSON", "[1,2]", 0);
    assert_false(pp_tx_verdict(tx)->intercepted);
    tx = post(p, cfg, "JSON", "[1,2,3]", 0);
    assert_true(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_verdict(tx)->status, 400);
}

static void test_set_processor(void **state)
{
    apr_pool_t *p = *state;
    pp_tx_t *tx = pp_tx_create(config(p, NULL), p, "t");
    pp_tx_set_request_line(tx, PP_STR("POST / HTTP/1.1"));
    pp_tx_finish_request_headers(tx);
    assert_int_equal(pp_tx_set_body_processor(tx, "YAML"), APR_EINVAL);
    assert_int_equal(pp_tx_set_body_processor(tx, "urlencoded"), APR_SUCCESS);
    assert_string_equal(values(tx, "REQBODY_PROCESSOR"), "URLENCODED");
    pp_tx_feed_request_body(tx, "a=1", 3);
    assert_int_equal(pp_tx_set_body_processor(tx, "JSON"), APR_EGENERAL);
    pp_tx_finish_request_body(tx);
    assert_string_equal(values(tx, "ARGS"), "a=1");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_names, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_errors, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_depth, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_callback_stops, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_transaction, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_transaction_errors, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_arguments_limit, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_set_processor, pp_test_pool_setup, pp_test_pool_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
