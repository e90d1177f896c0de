/*
 * Bounded work per request (rules/eval.c, attack run D8): the argument-count limit, the
 * configurable PCRE2 limits, the per-request rule-evaluation CPU budget, and limit-hit logging
 * at most once per rule per request plus one summary line; the exec action does not hold the
 * request (review M2). Bodies are built here, so the
 * attack's sizes (42,117 values, 1 MiB) are reproduced exactly; no test measures wall time:
 * they count operator runs and log lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

static apr_pool_t *root;
#include "pp_test.h"

typedef struct lines_t {
    int n;
    const char *last[8];
    apr_pool_t *p;
} lines_t;

static void count_line(void *ctx, int level, const char *msg)
{
    lines_t *l = ctx;
    l->last[l->n % 8] = apr_pstrdup(l->p, msg);
    l->n++;
}

static bool logged(const lines_t *l, const char *needle)
{
    for (int i = 0; i < l->n && i < 8; i++)
        if (strstr(l->last[i], needle))
            return true;
    return false;
}

static pp_cfg_t *config(apr_pool_t *p, const char *const *lines)
{
    pp_cfg_t *cfg = pp_cfg_create(p);
    pp_cfg_site_t site = { 0 };
    for (; *lines; lines += 2) {
        const char *err = pp_cfg_apply(cfg, pp_directive_find(lines[0]), lines[1], &site, p, p);
        if (err)
            fail_msg("%s %s: %s", lines[0], lines[1], err);
    }
    assert_null(pp_cfg_finish(cfg, p, p));
    return cfg;
}

/* n values "v=<value>&v=<value>..." */
static pp_str_t form(apr_pool_t *p, int n, const char *value)
{
    apr_size_t vl = strlen(value), len = 0;
    char *s = apr_palloc(p, (apr_size_t)n * (vl + 3) + 1);
    for (int i = 0; i < n; i++) {
        if (i)
            s[len++] = '&';
        memcpy(s + len, "v=", 2);
        memcpy(s + len + 2, value, vl);
        len += vl + 2;
    }
    s[len] = '\0';
    return (pp_str_t){ s, len };
}

static const pp_verdict_t *post(apr_pool_t *p, const pp_cfg_t *cfg, pp_str_t body, lines_t *log)
{
    pp_tx_t *tx = pp_tx_create(cfg, p, "t");
    log->p = p;
    pp_tx_set_errlog(tx, count_line, log);
    const char *line = "POST /form HTTP/1.1";
    pp_tx_set_request_line(tx, (pp_str_t){ line, strlen(line) });
    pp_tx_add_request_header(tx, PP_STR("Content-Type"),
                             PP_STR("application/x-www-form-urlencoded"));
    pp_tx_finish_request_headers(tx);
    for (apr_size_t off = 0; off < body.len; off += 8192)
        pp_tx_feed_request_body(tx, body.data + off, body.len - off < 8192 ? body.len - off : 8192);
    pp_tx_finish_request_body(tx);
    return pp_tx_verdict(tx);
}

static const char *const base[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                                    "SecFilterSelective", "ARGS_VALUES \"^(a+)+$\"", NULL };

/* Attack run 2.19: 42,117 values of 18 a's and a b, each just under PCRE2's match limit, cost
 * 47 s of CPU. More arguments than SecArgumentsLimit (default 1000, as ModSecurity 2) are
 * refused with 400 before any rule runs. */
static void test_arguments_limit(void **state)
{
    apr_pool_t *p = *state;
    lines_t log = { 0 };
    const pp_verdict_t *v = post(p, config(p, base), form(p, 42117, "aaaaaaaaaaaaaaaaaab"), &log);
    assert_true(v->intercepted);
    assert_int_equal(v->status, 400);
    assert_non_null(strstr(v->reason, "42117 arguments, more than SecArgumentsLimit 1000"));

    const char *lim[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                          "SecArgumentsLimit", "3", NULL };
    assert_false(post(p, config(p, lim), form(p, 3, "x"), &log)->intercepted);
    assert_int_equal(post(p, config(p, lim), form(p, 4, "x"), &log)->status, 400);
}

/* The same body with the argument limit raised: the request's rule-evaluation CPU budget
 * (SecRuleEvalTimeLimit) stops it, fail closed, long before the 42,117 values are matched. */
static void test_eval_time_limit(void **state)
{
    apr_pool_t *p = *state;
    const char *lines[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                            "SecArgumentsLimit", "100000", "SecRuleEvalTimeLimit", "50",
                            "SecFilterSelective", "ARGS_VALUES \"^(a+)+$\"", NULL };
    lines_t log = { 0 };
    const pp_verdict_t *v = post(p, config(p, lines), form(p, 42117, "aaaaaaaaaaaaaaaaaab"), &log);
    assert_true(v->intercepted);
    assert_int_equal(v->status, 403);
    const char *runs = strstr(v->reason, "after ");
    assert_non_null(strstr(v->reason, "SecRuleEvalTimeLimit 50 ms"));
    assert_non_null(runs);
    long n = strtol(runs + 6, NULL, 10);
    assert_true(n > 0 && n < 42117 / 2);
}

/* Attack run 2.20: with SecFilterRegexLimitFailOpen On, 2,000 values that each hit the match
 * limit gave 2,101 error-log lines and 7.6 s. Now the rule stops at its first limit hit in the
 * request: one line for it, one summary, 1 limit hit. */
static void test_fail_open_rate_limited(void **state)
{
    apr_pool_t *p = *state;
    const char *lines[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                            "SecFilterRegexLimitFailOpen", "On", "SecArgumentsLimit", "5000",
                            "SecFilterSelective", "ARGS_VALUES \"^(a+)+$\"",
                            "SecFilterSelective", "ARGS_VALUES \"attack\"", NULL };
    lines_t log = { 0 };
    pp_str_t body = form(p, 2000, "aaaaaaaaaaaaaaaaaaaaaaaaaaaab");
    const pp_verdict_t *v = post(p, config(p, lines), body, &log);
    assert_false(v->intercepted);
    assert_int_equal(log.n, 2);
    assert_true(logged(&log, "Regex resource limit hit in pattern \"^(a+)+$\""));
    assert_true(logged(&log, "1 rule stopped"));

    /* The other rules still run on every value. */
    lines_t log2 = { 0 };
    char *tail = apr_pstrcat(p, body.data, "&w=attack", NULL);
    v = post(p, config(p, lines), pp_str_from_cstr(tail), &log2);
    assert_true(v->intercepted);
}

/* SecPcreMatchLimit: a lower limit turns a value the default decides into a limit hit. */
static void test_match_limit_configurable(void **state)
{
    apr_pool_t *p = *state;
    const char *low[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                          "SecPcreMatchLimit", "1000",
                          "SecFilterSelective", "ARGS_VALUES \"^(a+)+$\"", NULL };
    lines_t log = { 0 };
    pp_str_t body = form(p, 1, "aaaaaaaaaaaaaab"); /* 2^14 steps: under 1,000,000 */
    assert_false(post(p, config(p, base), body, &log)->intercepted);
    const pp_verdict_t *v = post(p, config(p, low), body, &log);
    assert_true(v->intercepted);
    assert_non_null(strstr(v->reason, "Regex resource limit hit"));
    const char *bad[] = { "SecPcreMatchLimit", "0", NULL };
    pp_cfg_t *cfg = pp_cfg_create(p);
    pp_cfg_site_t site = { 0 };
    assert_non_null(pp_cfg_apply(cfg, pp_directive_find(bad[0]), bad[1], &site, p, p));
}

/* Review M2: exec ran synchronously (up to 10 s) on every match. Now the verdict is given while
 * the program still runs, and the end of the request reaps it. */
static void test_exec_does_not_hold_the_request(void **state)
{
    apr_pool_t *p = *state, *rp;
    char dir[] = "/tmp/parapet-exec-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *hook = apr_pstrcat(p, dir, "/hook.sh", NULL);
    const char *marker = apr_pstrcat(p, dir, "/ran", NULL);
    FILE *f = fopen(hook, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\nsleep 1\ntouch %s\n", marker);
    fclose(f);
    assert_int_equal(chmod(hook, 0755), 0);
    const char *lines[] = { "SecFilterEngine", "On", "SecFilter",
                            apr_pstrcat(p, "attack deny,status:403,exec:", hook, NULL), NULL };
    const pp_cfg_t *cfg = config(p, lines);
    apr_pool_create(&rp, p);
    pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
    const char *line = "GET /?q=attack HTTP/1.1";
    pp_tx_set_request_line(tx, (pp_str_t){ line, strlen(line) });
    pp_tx_finish_request_headers(tx);
    pp_tx_finish_request_body(tx);
    assert_int_equal(pp_tx_verdict(tx)->status, 403);
    assert_int_equal(access(marker, F_OK), -1); /* decided while the program sleeps */
    apr_pool_destroy(rp);                       /* the request ends: the program is reaped */
    assert_int_equal(access(marker, F_OK), 0);
    unlink(marker);
    unlink(hook);
    rmdir(dir);
}

typedef struct early_t {
    bool at_first_chunk; /* intercepted after the first chunk */
    apr_off_t kept;
    const pp_verdict_t *v;
} early_t;

static early_t post_early(apr_pool_t *p, const char *const *lines, const char *line,
                          const char *ct, pp_str_t body)
{
    pp_tx_t *tx = pp_tx_create(config(p, lines), p, "t");
    pp_tx_set_request_line(tx, pp_str_from_cstr(line));
    pp_tx_add_request_header(tx, PP_STR("Content-Type"), pp_str_from_cstr(ct));
    pp_tx_finish_request_headers(tx);
    early_t e = { false, 0, NULL };
    for (apr_size_t off = 0; off < body.len; off += 8192) {
        pp_tx_feed_request_body(tx, body.data + off, body.len - off < 8192 ? body.len - off : 8192);
        if (off == 0)
            e.at_first_chunk = pp_tx_verdict(tx)->intercepted;
    }
    e.kept = pp_tx_request_body_length(tx);
    pp_tx_finish_request_body(tx);
    e.v = pp_tx_verdict(tx);
    return e;
}

/* Attack run D9: a rule that reads only the request line refuses the request before the body
 * is kept; evaluation order and the verdict stay those of the full evaluation. */
static void test_header_rules_before_body(void **state)
{
    apr_pool_t *p = *state;
    pp_str_t big = { apr_pcalloc(p, 4 * 1048576), 4 * 1048576 };
    const char *q[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                        "SecFilterSelective", "QUERY_STRING \"union.+select\" deny,status:403,id:2",
                        NULL };
    early_t e = post_early(p, q, "POST /?id=1+union+select+2 HTTP/1.1", "application/octet-stream",
                           big);
    assert_true(e.at_first_chunk);
    assert_int_equal(e.kept, 0);
    assert_int_equal(e.v->status, 403);
    assert_int_equal(e.v->matches->nelts, 1);

    /* proxy forwards the body: it waits for the full evaluation, with the body kept. */
    const char *proxy[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                            "SecFilterSelective",
                            "QUERY_STRING \"union.+select\" proxy:http://127.0.0.1/trap", NULL };
    e = post_early(p, proxy, "POST /?id=1+union+select+2 HTTP/1.1", "text/plain", PP_STR("abc"));
    assert_false(e.at_first_chunk);
    assert_int_equal(e.kept, 3);
    assert_int_equal(e.v->action, PP_ACTION_PROXY);

    /* A rule that needs the body comes first: it decides first (allow), so nothing is early. */
    const char *allow[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                            "SecFilterSelective", "POST_PAYLOAD ^letmein allow,id:1",
                            "SecFilterSelective", "QUERY_STRING \"union.+select\" deny,id:2",
                            NULL };
    e = post_early(p, allow, "POST /?id=1+union+select+2 HTTP/1.1", "text/plain",
                   PP_STR("letmein"));
    assert_false(e.at_first_chunk);
    assert_false(e.v->intercepted);
    assert_int_equal(e.v->action, PP_ACTION_ALLOW);

    /* A pass rule before: evaluated once, in order, and the deny follows after the body. */
    const char *pass[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                           "SecFilterSelective", "REQUEST_METHOD ^POST$ pass,log,id:1",
                           "SecFilterSelective", "QUERY_STRING \"union.+select\" deny,id:2",
                           NULL };
    e = post_early(p, pass, "POST /?id=1+union+select+2 HTTP/1.1", "text/plain", PP_STR("x"));
    assert_false(e.at_first_chunk);
    assert_true(e.v->intercepted);
    assert_int_equal(e.v->matches->nelts, 2);

    /* Steps found not to match before the body are not run again; later ones see the body. */
    const char *resume[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                             "SecFilterSelective", "QUERY_STRING nomatch deny,id:1",
                             "SecFilterSelective", "ARGS evil deny,status:406,id:2", NULL };
    e = post_early(p, resume, "POST /?a=b HTTP/1.1", "application/x-www-form-urlencoded",
                   PP_STR("c=evil"));
    assert_false(e.at_first_chunk);
    assert_int_equal(e.v->status, 406);
    assert_int_equal(e.v->matches->nelts, 1);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_arguments_limit, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_eval_time_limit, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_fail_open_rate_limited, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_match_limit_configurable, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_exec_does_not_hold_the_request, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_header_rules_before_body, pp_test_pool_setup,
                                        pp_test_pool_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
