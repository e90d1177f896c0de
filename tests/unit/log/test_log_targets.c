/*
 * Log targets (reference §9, §10, §11) through the public API the adapter uses: audit records
 * written by four threads at once are never torn, piped targets, the guardian and debug line
 * formats (escaping, a failed write reported), and the start-up errors and sharing of log
 * targets. The helpers are in audit_fixture.h (see test_audit.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <apr_thread_proc.h>

#include "audit_fixture.h"

/* ---- Concurrency ---------------------------------------------------------------------------- */

#define THREADS 4
#ifndef PER_THREAD /* -DPER_THREAD=5000 for a longer throughput measurement */
#define PER_THREAD 200
#endif

typedef struct worker_t {
    const pp_cfg_t *cfg;
    apr_pool_t *pool; /* own allocator: APR pools are not shared across threads */
    int index, count;
} worker_t;

/* Body sizes from 100 bytes to ~20 KB, so many records exceed PIPE_BUF. */
static apr_size_t body_size(int t, int i)
{
    return 100 + (apr_size_t)((t * 7919 + i * 104729) % 20000);
}

static void *APR_THREAD_FUNC worker(apr_thread_t *th, void *data)
{
    worker_t *w = data;
    const char *const hdrs[] = { "Host: example.com", "Content-Type: text/plain", NULL };
    for (int i = 0; i < w->count; i++) {
        apr_pool_t *p;
        apr_pool_create(&p, w->pool);
        apr_size_t n = body_size(w->index, i);
        char *body = apr_palloc(p, n);
        memset(body, 'A' + w->index, n);
        req_t rq = { "POST /c HTTP/1.1", hdrs, body, n, 200, NULL,
                     apr_psprintf(p, "t%d-%d", w->index, i) };
        tx_run(w->cfg, p, &rq);
        apr_pool_destroy(p);
    }
    /* Returning (not apr_thread_exit) avoids unwinding with pthread_exit, which ASan's
     * thread teardown misreports. */
    return NULL;
}

static double run_threads(const pp_cfg_t *cfg, int per_thread)
{
    worker_t w[THREADS];
    apr_thread_t *th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        apr_allocator_t *a;
        apr_allocator_create(&a);
        w[t] = (worker_t){ cfg, NULL, t, per_thread };
        apr_pool_create_ex(&w[t].pool, NULL, NULL, a);
        apr_allocator_owner_set(a, w[t].pool);
    }
    apr_time_t start = apr_time_now();
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(apr_thread_create(&th[t], NULL, worker, &w[t], pool), APR_SUCCESS);
    for (int t = 0; t < THREADS; t++) {
        apr_status_t rv;
        apr_thread_join(&rv, th[t]);
    }
    double secs = (double)(apr_time_now() - start) / APR_USEC_PER_SEC;
    for (int t = 0; t < THREADS; t++)
        apr_pool_destroy(w[t].pool);
    return secs;
}

/* Every record whole: its body is PER-thread letter repeated exactly body_size times. */
static void check_thread_records(const char *name, int per_thread)
{
    apr_array_header_t *recs = parse_file(name);
    assert_int_equal(recs->nelts, THREADS * per_thread);
    char seen[THREADS][PER_THREAD] = { { 0 } };
    for (int k = 0; k < recs->nelts; k++) {
        rec_t *r = &APR_ARRAY_IDX(recs, k, rec_t);
        int t, i;
        assert_int_equal(sscanf(r->uid, "t%d-%d", &t, &i), 2);
        assert_true(t >= 0 && t < THREADS && i >= 0 && i < per_thread && !seen[t][i]);
        seen[t][i] = 1;
        assert_int_equal(r->body.len, body_size(t, i));
        for (apr_size_t b = 0; b < r->body.len; b++)
            if (r->body.data[b] != 'A' + t)
                fail_msg("record %s: body byte %zu is foreign", r->uid, (size_t)b);
    }
}

static void test_concurrent_writers(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, BASE_CFG "SecAuditEngine On\nSecAuditLog @TMP@/threads.log");
    double secs = run_threads(cfg, PER_THREAD);
    check_thread_records("threads.log", PER_THREAD);
    apr_size_t len;
    slurp("threads.log", &len);
    printf("[ INFO     ] Serial: %d records (%.1f MB) by %d threads in %.3f s: %.0f records/s\n",
           THREADS * PER_THREAD, (double)len / 1e6, THREADS, secs, THREADS * PER_THREAD / secs);
}

/* A piped target: records larger than PIPE_BUF from several threads arrive whole, and the
 * program drains and exits when the configuration pool goes. */
static void test_pipe_target(void **state)
{
    apr_pool_t *cp;
    apr_pool_create(&cp, pool);
    pp_cfg_t *cfg = cfg_make(cp, BASE_CFG "SecAuditEngine On\n"
                                 "SecAuditLog \"|/bin/dd of=@TMP@/pipe.log oflag=append "
                                 "conv=notrunc status=none\"");
    run_threads(cfg, 25);
    apr_pool_destroy(cp);
    check_thread_records("pipe.log", 25);
}

/* ---- Guardian and debug lines ---------------------------------------------------------------- */

#define CLF_DATE "\\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4}\\]"

static void test_guardian_line(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, "SecFilterEngine On\nSecGuardianLog @TMP@/guardian.log");
    const char *const hdrs[] = { "Host: example.com", "Referer: http://ref.example/",
                                 "User-Agent: UA \"quoted\"", NULL };
    req_t rq = { "GET /g?x=1 HTTP/1.1", hdrs, NULL, 0, 200, NULL, "uid-g1" };
    tx_run(cfg, pool, &rq);
    char *big = apr_palloc(pool, 8001);
    memset(big, 'r', 8000);
    big[8000] = '\0';
    const char *const hdrs2[] = { "Host: example.com", apr_pstrcat(pool, "Referer: ", big, NULL),
                                  apr_pstrcat(pool, "User-Agent: ", big, NULL), NULL };
    rq = (req_t){ "GET /g2 HTTP/1.1", hdrs2, NULL, 0, 404, NULL, "uid-g2" };
    tx_run(cfg, pool, &rq);

    apr_size_t len;
    char *buf = slurp("guardian.log", &len), *save = NULL;
    char *l1 = apr_strtok(buf, "\n", &save), *l2 = apr_strtok(NULL, "\n", &save);
    assert_matches(l1, "^example\\.com 192\\.0\\.2\\.1 - - " CLF_DATE
                       " \"GET /g\\?x=1 HTTP/1\\.1\" 200 - \"http://ref\\.example/\" "
                       "\"UA \\\\x22quoted\\\\x22\" uid-g1 \"-\" [0-9]+ [0-9]+ \"-\" 0$");
    assert_non_null(l2);
    assert_true(strlen(l2) + 1 <= PIPE_BUF);
    assert_matches(l2, "^example\\.com .* \"GET /g2 HTTP/1\\.1\" 404 - \"r+\" \"r+\" uid-g2 \"-\" "
                       "[0-9]+ [0-9]+ \"-\" 0 L$");
}

static void test_debug_line(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, "SecFilterEngine On\nSecFilterDebugLog @TMP@/debug.log\n"
                                   "SecFilterDebugLevel 4");
    req_t rq = { "GET /dbg HTTP/1.1", form_headers, NULL, 0, 200, NULL, "uid-dbg" };
    tx_run(cfg, pool, &rq);
    apr_size_t len;
    char *buf = slurp("debug.log", &len), *save = NULL;
    int n = 0;
    for (char *l = apr_strtok(buf, "\n", &save); l; l = apr_strtok(NULL, "\n", &save), n++)
        assert_matches(l, "^" CLF_DATE " \\[example\\.com/sid#[0-9a-f]+\\]\\[rid#uid-dbg\\]"
                          "\\[/dbg\\]\\[[1-4]\\] .+$");
    assert_true(n >= 1);
    assert_non_null(strstr(slurp("debug.log", &len), "Transaction finished: status 200"));
}

/* Attack run D13 (1.18): a ']' in the URI cannot close the URI field early, so a reader that
 * splits on brackets does not see a forged level and message. */
static void test_debug_line_brackets(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, "SecFilterEngine On\nSecFilterDebugLog @TMP@/d13.log\n"
                                   "SecFilterDebugLevel 4");
    req_t rq = { "GET /dbg?x=][1]%20Access%20denied%20FAKE HTTP/1.1", form_headers, NULL, 0, 200,
                 NULL, "uid-d13" };
    tx_run(cfg, pool, &rq);
    apr_size_t len;
    char *buf = slurp("d13.log", &len), *save = NULL;
    regex_t re;
    regmatch_t m[3];
    assert_int_equal(regcomp(&re, "^\\[[^]]*\\] \\[[^]]*\\]\\[rid#uid-d13\\]\\[([^]]*)\\]"
                                  "\\[([0-9])\\] ", REG_EXTENDED), 0);
    int n = 0;
    for (char *l = apr_strtok(buf, "\n", &save); l; l = apr_strtok(NULL, "\n", &save), n++) {
        if (regexec(&re, l, 3, m, 0) != 0)
            fail_msg("debug line does not split: %s", l);
        assert_memory_equal(l + m[1].rm_so, "/dbg?x=\\x5d[1\\x5d%20Access%20denied%20FAKE",
                            (size_t)(m[1].rm_eo - m[1].rm_so));
        assert_int_not_equal(l[m[2].rm_so], '1');
    }
    regfree(&re);
    assert_true(n >= 1);
}

/* The exec action's program output is request-derived text: in the debug log (and the error
 * log when it times out) its control bytes, '"' and '\' are escaped like any other. */
static void test_debug_exec_output_escaped(void **state)
{
    const char *hook = apr_pstrcat(pool, tmp, "/hook.sh", NULL);
    FILE *f = fopen(hook, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nprintf 'out \\033[31m\\a\"] [unique_id \"FORGED\"] \\\\ end\\nsecond'\n", f);
    fclose(f);
    assert_int_equal(chmod(hook, 0755), 0);
    pp_cfg_t *cfg = cfg_make(pool, apr_pstrcat(pool, "SecFilterEngine On\n"
                                                     "SecFilterDebugLog @TMP@/exec.log\n"
                                                     "SecFilterDebugLevel 2\n"
                                                     "SecFilter execprobe pass,nolog,exec:",
                                               hook, NULL));
    req_t rq = { "GET /?execprobe HTTP/1.1", form_headers, NULL, 0, 200, NULL, "uid-exec" };
    tx_run(cfg, pool, &rq);
    apr_size_t len;
    const char *log = slurp("exec.log", &len);
    const char *line = strstr(log, "exec ");
    if (!line || !strstr(line, ": out \\x1b[31m\\x07\\x22] [unique_id \\x22FORGED\\x22] "
                                "\\x5c end\n"))
        fail_msg("exec output line not escaped: %s", log);
    assert_null(strstr(log, "second"));
}

static void collect_errlog(void *ctx, int level, const char *msg)
{
    apr_array_header_t *a = ctx;
    APR_ARRAY_PUSH(a, const char *) = apr_psprintf(pool, "%d %s", level, msg);
}

/* Review 2.C: a failed debug-log write (here /dev/full: ENOSPC) reaches the host's error log,
 * once per transaction however many lines were lost. */
static void test_debug_write_failure_reported(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, "SecFilterEngine On\nSecFilterDebugLog /dev/full\n"
                                   "SecFilterDebugLevel 9");
    apr_array_header_t *said = apr_array_make(pool, 4, sizeof(const char *));
    apr_pool_t *p;
    apr_pool_create(&p, pool);
    pp_tx_t *tx = pp_tx_create(cfg, p, "uid-full");
    pp_tx_set_errlog(tx, collect_errlog, said);
    pp_tx_set_request_line(tx, pp_str_from_cstr("GET /full HTTP/1.1"));
    pp_tx_finish_request_headers(tx);
    pp_tx_finish_request_body(tx);
    pp_tx_finish(tx);
    apr_pool_destroy(p);
    int failures = 0;
    for (int i = 0; i < said->nelts; i++) {
        const char *m = APR_ARRAY_IDX(said, i, const char *);
        if (strstr(m, "Debug log: write failed"))
            failures++;
    }
    if (failures != 1)
        fail_msg("%d failure reports in %d error-log lines", failures, said->nelts);
}

/* ---- Targets: start-up errors, idempotence, sharing ------------------------------------------ */

static void expect_error(const char *text, const char *message)
{
    pp_cfg_t *cfg;
    const char *err = cfg_try(pool, text, &cfg);
    if (!err || !strstr(err, message))
        fail_msg("expected \"%s\", got \"%s\"", message, err ? err : "(accepted)");
}

static void test_target_errors(void **state)
{
    expect_error("SecAuditLog /proc/parapet-audit.log",
                 "SecAuditLog: cannot open \"/proc/parapet-audit.log\"");
    expect_error("SecGuardianLog |guardian", "SecGuardianLog: \"|guardian\": the program must "
                                            "be an absolute path");
    expect_error("SecAuditLog \"|/nonexistent/prog -x\"", "SecAuditLog: cannot run "
                                                      "\"/nonexistent/prog\"");
    expect_error("SecAuditLogType Concurrent\nSecAuditLog @TMP@/x.log",
                 "SecAuditLogType Concurrent needs SecAuditLogStorageDir");
}

static void test_target_sharing(void **state)
{
    pp_cfg_t *a = cfg_make(pool, "SecAuditEngine On\nSecAuditLog @TMP@/shared.log");
    const pp_logs_t *logs = a->logs;
    assert_non_null(logs);
    assert_null(pp_cfg_finish(a, pool, pool));
    assert_ptr_equal(a->logs, logs); /* idempotent */
    pp_cfg_t *b = cfg_make(pool, "SecAuditLog @TMP@/shared.log\nSecGuardianLog @TMP@/g2.log");
    assert_ptr_equal(((pp_logs_t *)b->logs)->audit, logs->audit); /* one descriptor */
    pp_cfg_t *child = cfg_make(pool, "SecAuditEngine RelevantOnly");
    assert_null(child->logs);
    pp_cfg_t *m = pp_cfg_merge(pool, a, child);
    assert_null(pp_cfg_finish(m, pool, pool));
    assert_ptr_equal(m->logs, logs); /* inherited */
    /* A child naming its own log, merged from a parent that was finished first, gets its own. */
    pp_cfg_t *own = pp_cfg_create(pool);
    pp_cfg_site_t site = { 0 };
    assert_null(pp_cfg_apply(own, pp_directive_find("SecAuditLog"),
                             apr_pstrcat(pool, tmp, "/own.log", NULL), &site, pool, pool));
    m = pp_cfg_merge(pool, a, own);
    assert_null(pp_cfg_finish(m, pool, pool));
    assert_ptr_not_equal(((pp_logs_t *)m->logs)->audit, logs->audit);
    assert_string_equal(((pp_logs_t *)m->logs)->audit->spec,
                        apr_pstrcat(pool, tmp, "/own.log", NULL));
}

int main(void)
{
    if (audit_test_begin() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_pipe_target),
        cmocka_unit_test(test_guardian_line),
        cmocka_unit_test(test_debug_line),
        cmocka_unit_test(test_debug_line_brackets),
        cmocka_unit_test(test_debug_exec_output_escaped),
        cmocka_unit_test(test_debug_write_failure_reported),
        cmocka_unit_test(test_target_errors),
        cmocka_unit_test(test_target_sharing),
    };
    return audit_test_end(cmocka_run_group_tests(tests, NULL, NULL));
}
