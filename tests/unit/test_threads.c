/*
 * The engine under a threaded MPM: one configuration, read-only after start-up (style §5), shared
 * by 8 threads that each run transactions in pools of their own, as Apache's worker and event
 * MPMs do. The configuration has literal and alternation groups, chains, skipnext, an OUTPUT
 * rule, a .htaccess-style section merged per request, upload storage, a serial audit log and a
 * debug log; the requests mix GET, urlencoded POST, multipart uploads, cookies and responses,
 * benign and matching.
 *
 * Every request kind is first run alone; each thread must then reproduce that verdict (status,
 * matched rule ids) exactly. `make tsan-unit` builds this test and the engine with
 * ThreadSanitizer, which must report nothing; `make unit` runs it as an ordinary test.
 *
 * test_lazy_jit: the one part of a configuration that changes after start-up, a pattern's JIT
 * code made on its first match (util/regex.c), raced by all threads at once on fresh patterns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <apr_thread_proc.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

#include "pp_request.h"
#include "pp_tmpdir.h"
#include "util/util.h"

#include <stdatomic.h>

#define THREADS 8
#define ROUNDS 60

static apr_pool_t *root;
static const char *workdir;

typedef struct kind_t {
    const char *name, *request, *response;
    bool merged; /* under the per-directory section, merged per request */
} kind_t;

static kind_t kinds[] = {
    { "benign get", "GET /index.html?a=1&b=hello HTTP/1.1\r\nHost: h\r\nUser-Agent: ua\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>fine</p>", false },
    { "sqli get", "GET /q?id=1+union+all+select+1 HTTP/1.1\r\nHost: h\r\n\r\n", NULL, false },
    { "chain", "POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
               "user=admin&pass=x", NULL, false },
    { "skipnext", "GET /internal/x HTTP/1.1\r\nX-Trusted: yes\r\n\r\n", NULL, false },
    { "internal", "GET /internal/x?a=%3Cb%3E HTTP/1.1\r\n\r\n", NULL, false },
    { "cookie", "GET / HTTP/1.1\r\nCookie: s=../../etc; t=2\r\n\r\n", NULL, false },
    { "post benign", "POST /form HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
                     "name=bob&comment=nice+day", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                     "\r\nthanks", false },
    { "upload", "POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=B\r\n\r\n"
                "--B\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nhello\r\n"
                "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\n"
                "file body\r\n--B--\r\n", NULL, false },
    { "upload exe", "POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=B\r\n\r\n"
                    "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.exe\"\r\n\r\n"
                    "MZ\r\n--B--\r\n", NULL, false },
    { "output leak", "GET /page HTTP/1.1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nSQL syntax error near", false },
    { "long form", NULL, NULL, false }, /* request made in main(): one 9 KiB argument */
    { "dir benign", "GET /admin/?x=abc HTTP/1.1\r\n\r\n", NULL, true },
    { "dir rule", "GET /admin/?x=zzz HTTP/1.1\r\n\r\n", NULL, true },
    { "dir removed", "GET /admin/?q=x<script> HTTP/1.1\r\n\r\n", NULL, true },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static const char *const server_lines[][2] = {
    { "SecFilterEngine", "On" },
    { "SecFilterScanPOST", "On" },
    { "SecFilterScanOutput", "On" },
    { "SecFilterOutputMimeTypes", "text/html" },
    { "SecFilterDefaultAction", "\"deny,log,status:403\"" },
    { "SecFilterDebugLevel", "1" },
    { "SecAuditEngine", "RelevantOnly" },
    { "SecUploadKeepFiles", "RelevantOnly" },
    { "SecFilterSelective", "ARGS union.+select id:1" },
    { "SecFilterSelective", "ARGS <script id:2" },
    { "SecFilterSelective", "ARGS \\.\\./ id:3" },
    { "SecFilterSelective", "ARGS [xy]{3}z id:4" },
    { "SecFilterSelective", "ARGS [0-9]{20} id:5" },
    { "SecFilterSelective", "HTTP_X-Trusted ^yes$ \"id:6,pass,nolog,skipnext:1\"" },
    { "SecFilterSelective", "REQUEST_URI ^/internal \"id:7,deny,status:404\"" },
    { "SecFilterSelective", "REQUEST_URI ^/internal \"id:8,deny,status:410\"" },
    { "SecFilterSelective", "REQUEST_METHOD ^POST$ chain" },
    { "SecFilterSelective", "ARG_user ^admin$ \"id:9,deny,status:401\"" },
    { "SecFilterSelective", "COOKIES_VALUES \\.\\./ \"id:10,pass,log\"" },
    { "SecFilterSelective", "FILES_NAMES \\.exe$ \"id:11,deny,status:406\"" },
    { "SecFilterSelective", "OUTPUT \"SQL syntax\" \"id:12,deny,status:500\"" },
    { "SecFilter", "/etc/passwd id:13" },
    /* A heavy pattern: on the long form below a match outgrows PCRE2's default JIT stack, and
     * the transaction gets a stack of its own (util/regex.c); were it refused, the regex limit
     * would count as a match of the negated rule and deny. */
    { "SecFilterSelective", "HTTP_Content-Type ^application/x-www-form-urlencoded chain" },
    { "SecFilterSelective", "POST_PAYLOAD \"!^(?:(\\w)|=|&| )*$\" \"id:14,deny,status:413\"" },
};

static const char *const dir_lines[][2] = {
    { "SecFilterRemove", "2" },
    { "SecFilterSelective", "ARG_x ^z+$ \"id:20,deny,status:409\"" },
};

typedef struct shared_t {
    const pp_cfg_t *server, *dir;
    const char *expected[NKINDS];
    volatile int mismatches;
    const char *first_mismatch;
    apr_thread_mutex_t *lock;
} shared_t;

static pp_cfg_t *configure(apr_pool_t *cp, const char *const (*lines)[2], size_t n, bool server)
{
    pp_cfg_t *cfg = pp_cfg_create(cp);
    pp_cfg_site_t site = { 0 };
    site.in_dir = !server;
    for (size_t i = 0; i < n; i++) {
        const char *err = pp_cfg_apply(cfg, pp_directive_find(lines[i][0]), lines[i][1], &site, cp, cp);
        if (err)
            fail_msg("%s %s: %s", lines[i][0], lines[i][1], err);
    }
    if (server) {
        const char *const paths[][2] = {
            { "SecUploadDir", apr_pstrcat(cp, workdir, "/up", NULL) },
            { "SecAuditLog", apr_pstrcat(cp, workdir, "/audit.log", NULL) },
            { "SecFilterDebugLog", apr_pstrcat(cp, workdir, "/debug.log", NULL) },
        };
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
            assert_null(pp_cfg_apply(cfg, pp_directive_find(paths[i][0]), paths[i][1], &site, cp, cp));
    }
    assert_null(pp_cfg_finish(cfg, cp, cp));
    return cfg;
}

/* One transaction of the given kind in pool p; its verdict as "status ids...". */
static const char *run(const shared_t *sh, const kind_t *k, apr_pool_t *p)
{
    const pp_cfg_t *cfg = k->merged ? pp_cfg_merge(p, sh->server, sh->dir) : sh->server;
    pp_tx_t *tx = pp_tx_create(cfg, p, NULL);
    pp_conn_info_t ci = { .client_ip = "127.0.0.1", .server_ip = "127.0.0.1", .server_port = 80,
                          .server_name = "localhost", .script_filename = "/var/www/index.php" };
    pp_tx_set_conn(tx, &ci);
    pp_test_feed_request(tx, k->request, strlen(k->request), 7);
    if (!pp_tx_verdict(tx)->intercepted && k->response)
        pp_test_feed_response(tx, k->response, strlen(k->response));
    pp_tx_finish(tx);
    const pp_verdict_t *v = pp_tx_verdict(tx);
    const char *s = apr_itoa(p, v->intercepted ? v->status : 0);
    for (int i = 0; i < v->matches->nelts; i++) {
        const pp_match_t *m = APR_ARRAY_IDX(v->matches, i, const pp_match_t *);
        s = apr_pstrcat(p, s, " ", m->id ? m->id : "-", NULL);
    }
    return s;
}

typedef struct worker_t {
    shared_t *sh;
    int index;
} worker_t;

static void *APR_THREAD_FUNC worker(apr_thread_t *thread, void *data)
{
    worker_t *w = data;
    apr_allocator_t *alloc;
    apr_pool_t *tp;
    /* Each thread has its allocator and pools, as an Apache worker thread has. */
    apr_allocator_create(&alloc);
    apr_pool_create_unmanaged_ex(&tp, NULL, alloc);
    apr_allocator_owner_set(alloc, tp);
    for (int r = 0; r < ROUNDS; r++) {
        size_t k = (size_t)(r * 7 + w->index) % NKINDS;
        apr_pool_t *p;
        apr_pool_create(&p, tp);
        const char *got = run(w->sh, &kinds[k], p);
        if (strcmp(got, w->sh->expected[k]) != 0) {
            apr_thread_mutex_lock(w->sh->lock);
            if (!w->sh->mismatches++)
                w->sh->first_mismatch = apr_psprintf(root, "%s: \"%s\", alone \"%s\"",
                                                     kinds[k].name, got, w->sh->expected[k]);
            apr_thread_mutex_unlock(w->sh->lock);
        }
        apr_pool_destroy(p);
    }
    apr_pool_destroy(tp);
    return NULL;
}

static void test_shared_config(void **state)
{
    apr_pool_t *cp;
    apr_pool_create(&cp, root);
    shared_t sh = { 0 };
    sh.server = configure(cp, server_lines, sizeof server_lines / sizeof server_lines[0], true);
    apr_pool_t *dp; /* the directory section's rules come from a pool of their own */
    apr_pool_create(&dp, cp);
    sh.dir = configure(dp, dir_lines, sizeof dir_lines / sizeof dir_lines[0], false);
    assert_int_equal(apr_thread_mutex_create(&sh.lock, APR_THREAD_MUTEX_DEFAULT, cp), APR_SUCCESS);

    /* Alone first: the verdicts the threads must reproduce. The rules are live: */
    for (size_t k = 0; k < NKINDS; k++) {
        apr_pool_t *p;
        apr_pool_create(&p, cp);
        sh.expected[k] = apr_pstrdup(cp, run(&sh, &kinds[k], p));
        apr_pool_destroy(p);
    }
    static const char *const alone[NKINDS] = { "0", "403 1", "401 9", "410 6 8", "404 7", "0 10", "0",
                                               "0", "406 11", "500 12", "0", "0", "409 20", "0" };
    for (size_t k = 0; k < NKINDS; k++)
        if (strcmp(sh.expected[k], alone[k]) != 0)
            fail_msg("%s alone: \"%s\", expected \"%s\"", kinds[k].name, sh.expected[k], alone[k]);

    apr_thread_t *t[THREADS];
    worker_t w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){ &sh, i };
        assert_int_equal(apr_thread_create(&t[i], NULL, worker, &w[i], cp), APR_SUCCESS);
    }
    for (int i = 0; i < THREADS; i++) {
        apr_status_t rv;
        apr_thread_join(&rv, t[i]);
    }
    if (sh.mismatches)
        fail_msg("%d of %d threaded verdicts differ; first %s", sh.mismatches, THREADS * ROUNDS,
                 sh.first_mismatch);
    apr_pool_destroy(cp);
}

#define NPATTERNS 48

typedef struct jit_race_t {
    pp_regex_t *re[NPATTERNS];
    const char *subject[NPATTERNS];
    bool expected[NPATTERNS];
    atomic_int ready;
    atomic_int wrong;
} jit_race_t;

typedef struct jit_worker_t {
    jit_race_t *race;
    int index;
} jit_worker_t;

static void *APR_THREAD_FUNC jit_worker(apr_thread_t *thread, void *data)
{
    jit_worker_t *w = data;
    jit_race_t *race = w->race;
    apr_allocator_t *alloc;
    apr_pool_t *tp;
    apr_allocator_create(&alloc);
    apr_pool_create_unmanaged_ex(&tp, NULL, alloc);
    apr_allocator_owner_set(alloc, tp);
    pp_rx_state_t *st = pp_rx_state_create(tp);
    /* Every thread starts at once, so most first matches race. */
    atomic_fetch_add(&race->ready, 1);
    while (atomic_load(&race->ready) < THREADS)
        ;
    for (int r = 0; r < 3; r++)
        for (int j = 0; j < NPATTERNS; j++) {
            int k = (j + w->index * (r + 1)) % NPATTERNS;
            bool match = false;
            pp_str_t subject = { race->subject[k], strlen(race->subject[k]) };
            if (pp_regex_exec(race->re[k], st, subject, &match) != APR_SUCCESS ||
                match != race->expected[k])
                atomic_fetch_add(&race->wrong, 1);
        }
    apr_pool_destroy(tp);
    return NULL;
}

/* Patterns are JIT-compiled on their first match, not at start-up; 8 threads that match the
 * same fresh patterns at the same moment all get the right answers, and each pattern ends up
 * with one JIT code (ThreadSanitizer: no race on its publication). */
static void test_lazy_jit(void **state)
{
    apr_pool_t *cp, *refp;
    apr_pool_create(&cp, root);
    apr_pool_create(&refp, root);
    jit_race_t race = { 0 };
    pp_rx_state_t *ref_st = pp_rx_state_create(refp);
    for (int k = 0; k < NPATTERNS; k++) {
        const char *pattern = apr_psprintf(cp, k % 3 == 0   ? "(?:union|select)\\s+x%d\\b"
                                               : k % 3 == 1 ? "^[a-z]{2,%d}$"
                                                            : "(a|b)+c%d", k % 3 == 1 ? k / 3 + 2 : k);
        const char *err = NULL;
        race.re[k] = pp_regex_compile(cp, pattern, PP_RX_ICASE, &err);
        assert_non_null(race.re[k]);
        assert_false(pp_regex_jit_compiled(race.re[k])); /* nothing at start-up */
        race.subject[k] = apr_psprintf(cp, k % 3 == 0   ? "1 UNION  x%d"
                                            : k % 3 == 1 ? "abcdefgh"
                                                         : "ababc%d", k % 2 ? k : k + 1);
        /* The answer from a separate compilation of the same pattern, run alone. */
        pp_regex_t *ref = pp_regex_compile(refp, pattern, PP_RX_ICASE, &err);
        assert_non_null(ref);
        pp_str_t subject = { race.subject[k], strlen(race.subject[k]) };
        assert_int_equal(pp_regex_exec(ref, ref_st, subject, &race.expected[k]), APR_SUCCESS);
    }
    int matching = 0;
    for (int k = 0; k < NPATTERNS; k++)
        matching += race.expected[k];
    assert_true(matching > 0 && matching < NPATTERNS); /* both answers are tested */

    apr_thread_t *t[THREADS];
    jit_worker_t w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (jit_worker_t){ &race, i };
        assert_int_equal(apr_thread_create(&t[i], NULL, jit_worker, &w[i], cp), APR_SUCCESS);
    }
    for (int i = 0; i < THREADS; i++) {
        apr_status_t rv;
        apr_thread_join(&rv, t[i]);
    }
    assert_int_equal(atomic_load(&race.wrong), 0);
    for (int k = 0; k < NPATTERNS; k++)
        assert_int_equal(pp_regex_jit_compiled(race.re[k]), pp_regex_jit_available());
    apr_pool_destroy(cp);
    apr_pool_destroy(refp);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    assert_null(pp_engine_init(root));
    char dir[] = "/tmp/parapet-threads-XXXXXX";
    assert_non_null(mkdtemp(dir));
    workdir = apr_pstrdup(root, dir);
    assert_int_equal(mkdir(apr_pstrcat(root, workdir, "/up", NULL), 0750), 0);
    const char *form = "POST /long HTTP/1.1\r\n"
                       "Content-Type: application/x-www-form-urlencoded\r\n\r\n";
    form = apr_pstrcat(root, form, "q=", NULL);
    for (int i = 0; i < 1500; i++)
        form = apr_pstrcat(root, form, "ab+cd+", NULL);
    for (size_t k = 0; k < NKINDS; k++)
        if (!kinds[k].request)
            kinds[k].request = form;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_config),
        cmocka_unit_test(test_lazy_jit),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pp_test_remove_tree(workdir);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
