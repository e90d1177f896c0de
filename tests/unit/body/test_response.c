/*
 * Unit tests for body/response.c through the public API the adapter uses: a configuration from
 * directive lines, a transaction, then pp_tx_feed/finish/read_response_body. Covers the held
 * body and its replay (in memory and spilled), OUTPUT on the held part, SecResponseBodyLimit
 * with Reject (500, logged, every later feed refused) and ProcessPartial (the bytes up to the
 * limit held and inspected, APR_INCOMPLETE for the rest), and the failures: a spill that cannot
 * be made (the upload dir removed after start-up) and a held copy that cannot be read back
 * (RLIMIT_FSIZE, so the last buffered bytes fail to flush) both intercept with 500.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "tx.h"

static apr_pool_t *root;
static char tmp[PATH_MAX];

#include "pp_cfg_lines.h"
#include "pp_test.h"

/* ---- Helpers ------------------------------------------------------------------------------ */

/* Directive lines separated by '\n'; "@TMP@" is this run's temp dir (pp_cfg_lines.h). */
static pp_cfg_t *cfg_make(apr_pool_t *cp, const char *text)
{
    return pp_test_cfg_make(cp, text, tmp);
}

typedef struct log_t {
    apr_pool_t *p;
    const char *text; /* every line, '\n'-terminated */
} log_t;

static void log_line(void *ctx, int level, const char *msg)
{
    log_t *l = ctx;
    l->text = apr_pstrcat(l->p, l->text, msg, "\n", NULL);
}

#define BASE_CONF "SecFilterEngine On\nSecFilterScanOutput On\nSecUploadDir @TMP@\n" \
                  "SecFilterSelective OUTPUT top-secret deny,status:403\n"

/* A transaction past its request, with a held text/html response under way. */
static pp_tx_t *tx_start(apr_pool_t *p, const char *conf, log_t *log)
{
    pp_tx_t *tx = pp_tx_create(cfg_make(p, conf), p, NULL);
    log->p = p;
    log->text = "";
    pp_tx_set_errlog(tx, log_line, log);
    pp_tx_set_request_line(tx, PP_STR("GET /page HTTP/1.1"));
    pp_tx_finish_request_headers(tx);
    pp_tx_finish_request_body(tx);
    assert_false(pp_tx_verdict(tx)->intercepted);
    pp_tx_set_response_status(tx, 200, NULL);
    pp_tx_add_response_header(tx, PP_STR("Content-Type"), PP_STR("text/html"));
    assert_true(pp_tx_wants_response_body(tx, "text/html"));
    assert_int_equal(pp_tx_finish_response_headers(tx), APR_SUCCESS);
    return tx;
}

/* Deterministic page bytes; `say` written at offset `at` when given. */
static char *page(apr_pool_t *p, apr_size_t n, const char *say, apr_size_t at)
{
    char *s = apr_palloc(p, n);
    for (apr_size_t i = 0; i < n; i++)
        s[i] = (char)('a' + i % 23);
    if (say)
        memcpy(s + at, say, strlen(say));
    return s;
}

/* Feeds in chunks of `chunk`; returns the first status that is not APR_SUCCESS (or success),
 * and in *fed how many bytes went in before it. */
static apr_status_t feed(pp_tx_t *tx, const char *s, apr_size_t n, apr_size_t chunk,
                         apr_size_t *fed)
{
    for (apr_size_t off = 0; off < n; off += chunk) {
        apr_size_t len = n - off < chunk ? n - off : chunk;
        apr_status_t rv = pp_tx_feed_response_body(tx, s + off, len);
        if (rv != APR_SUCCESS) {
            *fed = off;
            return rv;
        }
    }
    *fed = n;
    return APR_SUCCESS;
}

static apr_status_t replay(pp_tx_t *tx, apr_pool_t *p, pp_str_t *out)
{
    char *s = apr_palloc(p, 1);
    apr_size_t got = 0;
    for (;;) {
        const char *d;
        apr_size_t n;
        apr_status_t rv = pp_tx_read_response_body(tx, &d, &n);
        if (rv != APR_SUCCESS)
            return rv;
        if (!n)
            break;
        char *grown = apr_palloc(p, got + n);
        memcpy(grown, s, got);
        memcpy(grown + got, d, n);
        s = grown;
        got += n;
    }
    *out = (pp_str_t){ s, got };
    return APR_SUCCESS;
}

/* ---- Held, inspected, replayed ------------------------------------------------------------ */

static void test_held_and_replayed(void **state)
{
    apr_pool_t *p = *state;
    log_t log;
    /* 100 KiB through a 16 KiB memory limit: spilled, replayed whole. */
    pp_tx_t *tx = tx_start(p, BASE_CONF "SecOutputInMemoryLimit 16384\n", &log);
    char *body = page(p, 100000, NULL, 0);
    apr_size_t fed;
    assert_int_equal(feed(tx, body, 100000, 7000, &fed), APR_SUCCESS);
    assert_int_equal(pp_tx_response_body_length(tx), 100000);
    assert_int_equal(pp_tx_finish_response_body(tx), APR_SUCCESS);
    assert_false(pp_tx_verdict(tx)->intercepted);
    pp_str_t got;
    assert_int_equal(replay(tx, p, &got), APR_SUCCESS);
    assert_int_equal(got.len, 100000);
    assert_memory_equal(got.data, body, 100000);
    assert_string_equal(log.text, "");
}

static void test_output_rule_on_held_body(void **state)
{
    apr_pool_t *p = *state;
    log_t log;
    pp_tx_t *tx = tx_start(p, BASE_CONF, &log);
    char *body = page(p, 50000, "top-secret", 40000);
    apr_size_t fed;
    assert_int_equal(feed(tx, body, 50000, 4096, &fed), APR_SUCCESS);
    pp_tx_finish_response_body(tx);
    assert_true(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_verdict(tx)->status, 403);
    assert_int_equal(pp_tx_verdict(tx)->phase, PP_PHASE_RESPONSE_BODY);
}

/* ---- SecResponseBodyLimit ----------------------------------------------------------------- */

static void test_limit_reject(void **state)
{
    apr_pool_t *p = *state;
    log_t log;
    pp_tx_t *tx = tx_start(p, BASE_CONF "SecResponseBodyLimit 10000\n"
                                        "SecResponseBodyLimitAction Reject\n", &log);
    char *body = page(p, 30000, NULL, 0);
    apr_size_t fed;
    /* Exactly the limit is held; one byte more is refused. */
    assert_int_equal(feed(tx, body, 10000, 3000, &fed), APR_SUCCESS);
    assert_false(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_feed_response_body(tx, body + 10000, 1), APR_ENOSPC);
    assert_true(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_verdict(tx)->status, 500);
    assert_non_null(strstr(log.text, "Response body too large (over the limit of 10000 bytes)"));
    assert_int_equal(pp_tx_feed_response_body(tx, body, 1), APR_ENOSPC);
    assert_int_equal(pp_tx_response_body_length(tx), 10000);
    /* One line, not one per refused feed. */
    assert_null(strstr(strstr(log.text, "too large") + 1, "too large"));
}

static void test_limit_process_partial(void **state)
{
    apr_pool_t *p = *state;
    log_t log;
    /* The default action; memory above the limit, so the whole held part is inspected. */
    pp_tx_t *tx = tx_start(p, BASE_CONF "SecResponseBodyLimit 10000\n", &log);
    char *body = page(p, 30000, "top-secret", 25000);
    apr_size_t fed;
    assert_int_equal(feed(tx, body, 30000, 3000, &fed), APR_INCOMPLETE);
    assert_int_equal(fed, 9000);
    /* The piece that crossed the limit was taken up to it. */
    assert_int_equal(pp_tx_response_body_length(tx), 10000);
    assert_int_equal(pp_tx_feed_response_body(tx, body, 5), APR_INCOMPLETE);
    assert_int_equal(pp_tx_response_body_length(tx), 10000);
    pp_tx_finish_response_body(tx);
    /* The marker at 25000 is past the limit: not seen. */
    assert_false(pp_tx_verdict(tx)->intercepted);
    pp_str_t got;
    assert_int_equal(replay(tx, p, &got), APR_SUCCESS);
    assert_int_equal(got.len, 10000);
    assert_memory_equal(got.data, body, 10000);
}

static void test_limit_process_partial_inspects_the_held_part(void **state)
{
    apr_pool_t *p = *state;
    log_t log;
    pp_tx_t *tx = tx_start(p, BASE_CONF "SecResponseBodyLimit 10000\n"
                                        "SecResponseBodyLimitAction ProcessPartial\n", &log);
    char *body = page(p, 30000, "top-secret", 9990);
    apr_size_t fed;
    assert_int_equal(feed(tx, body, 30000, 30000, &fed), APR_INCOMPLETE);
    pp_tx_finish_response_body(tx);
    assert_true(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_verdict(tx)->status, 403);
}

/* ---- Failures ----------------------------------------------------------------------------- */

/* The spill's directory went away after start-up: intercepted with 500 once, logged once, and
 * the later pieces (which would have fitted in memory) are refused. */
static void test_failed_spill_intercepts(void **state)
{
    apr_pool_t *p = *state;
    log_t log;
    const char *dir = apr_pstrcat(p, tmp, "/spill", NULL);
    assert_int_equal(mkdir(dir, 0700), 0);
    pp_tx_t *tx = tx_start(p, BASE_CONF "SecOutputInMemoryLimit 10\nSecUploadDir @TMP@/spill\n",
                           &log);
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(pp_tx_feed_response_body(tx, "AAAAAAAA", 8), APR_SUCCESS);
    apr_status_t rv = pp_tx_feed_response_body(tx, "BBBBBBBB", 8);
    assert_int_equal(rv, APR_ENOENT);
    assert_int_equal(pp_tx_feed_response_body(tx, "CC", 2), rv);
    const pp_verdict_t *v = pp_tx_verdict(tx);
    assert_true(v->intercepted);
    assert_int_equal(v->status, 500);
    assert_non_null(strstr(log.text, "Failed to hold the response body in"));
    assert_null(strstr(strstr(log.text, "Failed") + 1, "Failed"));
    pp_str_t got;
    assert_int_equal(replay(tx, p, &got), rv);
    assert_int_equal(pp_tx_finish_response_body(tx), APR_SUCCESS);
}

/* The held copy is complete as far as feeding goes, but its last bytes cannot be flushed to
 * disk: the read-back fails and the transaction is marked 500 for the logs. */
static void test_failed_replay_intercepts(void **state)
{
    apr_pool_t *p = *state;
    log_t log;
    pp_tx_t *tx = tx_start(p, BASE_CONF "SecOutputInMemoryLimit 16\n", &log);
    char *body = page(p, 600, NULL, 0);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = (struct rlimit){ 100, old.rlim_max };
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    apr_size_t fed;
    apr_status_t fed_rv = feed(tx, body, 600, 16, &fed);
    pp_tx_finish_response_body(tx);
    bool intercepted_before = pp_tx_verdict(tx)->intercepted;
    pp_str_t got;
    apr_status_t rv = replay(tx, p, &got);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(fed_rv, APR_SUCCESS);
    assert_false(intercepted_before);
    assert_int_not_equal(rv, APR_SUCCESS);
    assert_true(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_verdict(tx)->status, 500);
    assert_non_null(strstr(log.text, "Failed to read back the held response body"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pp_test_pool_setup, pp_test_pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_held_and_replayed),
        T(test_output_rule_on_held_body),
        T(test_limit_reject),
        T(test_limit_process_partial),
        T(test_limit_process_partial_inspects_the_held_part),
        T(test_failed_spill_intercepts),
        T(test_failed_replay_intercepts),
    };
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&root, NULL);
    snprintf(tmp, sizeof tmp, "%s/parapet-test-response-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp))
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(root);
    rmdir(tmp);
    return failed;
}
