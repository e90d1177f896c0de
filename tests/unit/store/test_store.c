/*
 * The collection stores (src/engine/store): one table of request sequences runs against the
 * embedded store (LMDB) and against a real redis-server (Debian's, started here on a private
 * 127.0.0.1 port and a private socket, stopped by PID), so both have the same semantics;
 * exactness under concurrency (threads, processes, two "servers" on one Redis); failure (Redis
 * stopped, SIGSTOPped, restarted: no hang beyond the timeout, an empty collection, one log line
 * per outage, counting resumes).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "store/store.h"

static apr_pool_t *root;

#include "pp_test.h"

/* ---- a private redis-server ---- */

typedef struct {
    pid_t pid;
    int port;
    char dir[64];
    char sock[128];
} redis_t;

static redis_t R; /* test fixture state, set up once in main */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || getsockname(fd, (struct sockaddr *)&a, &l))
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static bool redis_answers(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)R.port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bool ok = false;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
        char buf[16] = { 0 };
        if (write(fd, "PING\r\n", 6) == 6 && read(fd, buf, sizeof(buf) - 1) > 0)
            ok = strncmp(buf, "+PONG", 5) == 0;
    }
    if (fd >= 0)
        close(fd);
    return ok && access(R.sock, F_OK) == 0;
}

static int redis_start(void)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", R.port);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlives us, even if we crash */
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
               "--unixsocket", R.sock, "--unixsocketperm", "700", "--save", "",
               "--appendonly", "no", "--dir", R.dir, "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    R.pid = pid;
    for (int i = 0; i < 500; i++) {
        if (redis_answers())
            return 0;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            R.pid = 0;
            return -1;
        }
        usleep(10000);
    }
    return -1;
}

static void redis_stop(void)
{
    if (R.pid > 0) {
        kill(R.pid, SIGCONT);
        kill(R.pid, SIGTERM);
        waitpid(R.pid, NULL, 0);
        R.pid = 0;
    }
}

/* ---- stores ---- */

typedef struct {
    pthread_mutex_t mu;
    int lines, errors;
    char last[512];
} logbuf_t;

static void log_fn(void *baton, int level, const char *msg)
{
    logbuf_t *l = baton;
    pthread_mutex_lock(&l->mu);
    l->lines++;
    if (level <= 3)
        l->errors++;
    snprintf(l->last, sizeof(l->last), "%s", msg);
    pthread_mutex_unlock(&l->mu);
}

static char tmpdir[64];

static pp_store_t *open_embedded(apr_pool_t *p, const char *file)
{
    pp_store_conf_t c = { .kind = PP_STORE_EMBEDDED };
    c.path = apr_pstrcat(p, tmpdir, "/", file, NULL);
    const char *err = NULL;
    pp_store_t *s = pp_store_open(p, &c, &err);
    if (!s)
        fail_msg("%s", err);
    return s;
}

static pp_store_t *open_redis(apr_pool_t *p, const char *uri, const char *prefix, int timeout_ms,
                              logbuf_t *log)
{
    pp_store_conf_t c = { .kind = PP_STORE_REDIS, .uri = uri, .prefix = prefix,
                          .timeout_ms = timeout_ms, .log = log ? log_fn : NULL, .log_baton = log };
    const char *err = NULL;
    pp_store_t *s = pp_store_open(p, &c, &err);
    if (!s)
        fail_msg("%s", err);
    return s;
}

static const char *tcp_uri(apr_pool_t *p)
{
    return apr_psprintf(p, "redis://127.0.0.1:%d/0", R.port);
}

/* ---- the semantics table: each row is one request against collection IP, key "k" ---- */

typedef struct {
    int64_t now;
    const char *expect; /* after load: "NAME=value" or "!NAME", space separated */
    const char *ops;    /* then: "add F N", "set F V", "unset F", "expire F S", "dep F N/S" ';';
                           a leading '?': they leave the record clean (not written) */
} step_t;

static const step_t table[] = {
    { 1000, "IS_NEW=1 UPDATE_COUNTER=0 KEY=k TIMEOUT=600 CREATE_TIME=1000 __expire_KEY=1600 "
            "!LAST_UPDATE_TIME !COUNTER !UPDATE_RATE",
      "add counter 1" },
    { 1010, "!IS_NEW COUNTER=1 UPDATE_COUNTER=1 LAST_UPDATE_TIME=1000 CREATE_TIME=1000 "
            "UPDATE_RATE=6 __expire_KEY=1600",
      "add Counter 2; set Name Bob" },
    { 1020, "COUNTER=3 counter=3 NAME=Bob UPDATE_COUNTER=2 LAST_UPDATE_TIME=1010", "expire name 5" },
    { 1024, "NAME=Bob __expire_NAME=1025 UPDATE_COUNTER=3", "" },      /* read only: not written */
    { 1026, "!NAME !__expire_NAME COUNTER=3 UPDATE_COUNTER=3 LAST_UPDATE_TIME=1020",
      "add counter -10" },
    { 1027, "COUNTER=0", "set counter 100" },
    { 1030, "COUNTER=100 LAST_UPDATE_TIME=1027", "dep counter 10/1" },
    { 1031, "COUNTER=70", "dep counter 10/5; unset counter" },
    { 1032, "!COUNTER __expire_KEY=1631", "" },
    { 1632, "IS_NEW=1 !NAME CREATE_TIME=1632 UPDATE_COUNTER=0 __expire_KEY=2232",
      "dep x 1/1; set x 5; set y 12abc; add y 1; add big 2147483647; add big 5" },
    { 1634, "X=5 Y=13 BIG=2147483647 !IS_NEW UPDATE_COUNTER=1", "dep x 1/2" },
    { 1635, "X=4", "set TIMEOUT 10" },
    { 1644, "X=4 __expire_KEY=1645", "" }, /* expires at 1645: gone at 1645 (observed) */
    { 1645, "IS_NEW=1 !X __name=ip __key=k KEY=k", "set x 3" },
    { 1646, "X=3 UPDATE_RATE=60", "set x 50; add x 1" }, /* delta since the first =+: +1 */
    { 1647, "X=4", "add z 5" },
    { 1648, "Z=5", "add z 1; set z 0" },                  /* CRS 912120: net -5 */
    { 1649, "Z=0 X=4 UPDATE_COUNTER=4", "?dep z 1/1" },   /* 0 stays 0: not written */
    { 1650, "UPDATE_COUNTER=4 LAST_UPDATE_TIME=1648", "" },
};

static void check_expect(const pp_store_rec_t *r, const char *expect, int row, const char *which)
{
    char *buf = strdup(expect), *save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (t[0] == '!') {
            const char *v = pp_store_get(r, t + 1);
            if (v)
                fail_msg("%s row %d: %s should be absent, is \"%s\"", which, row, t + 1, v);
            continue;
        }
        char *eq = strchr(t, '=');
        *eq = 0;
        const char *v = pp_store_get(r, t);
        if (!v || strcmp(v, eq + 1) != 0)
            fail_msg("%s row %d: %s is \"%s\", expected \"%s\"", which, row, t, v ? v : "(absent)",
                     eq + 1);
    }
    free(buf);
}

static void run_ops(pp_store_rec_t *r, const char *ops, int64_t now)
{
    char *buf = strdup(ops), *save = NULL;
    for (char *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
        char verb[16], f[64], arg[64] = "";
        if (sscanf(t, " %15s %63s %63s", verb, f, arg) < 2)
            continue;
        if (!strcmp(verb, "add"))
            pp_store_add(r, f, atoll(arg));
        else if (!strcmp(verb, "set"))
            pp_store_set(r, f, arg);
        else if (!strcmp(verb, "unset"))
            pp_store_unset(r, f);
        else if (!strcmp(verb, "expire"))
            pp_store_expire(r, f, atol(arg), now);
        else if (!strcmp(verb, "dep")) {
            long n, s;
            sscanf(arg, "%ld/%ld", &n, &s);
            pp_store_deprecate(r, f, n, s, now);
        } else
            fail_msg("bad op %s", t);
    }
    free(buf);
}

static void run_table(apr_pool_t *p, pp_store_t *s, const char *which)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        apr_pool_t *rp;
        apr_pool_create(&rp, p);
        pp_store_rec_t *r;
        assert_int_equal(pp_store_load(s, rp, "ip", "k", 600, table[i].now, &r), PP_STORE_OK);
        check_expect(r, table[i].expect, (int)i, which);
        const char *ops = table[i].ops;
        bool clean = ops[0] == '?';
        run_ops(r, ops + clean, table[i].now);
        assert_int_equal(pp_store_dirty(r), ops[0] != 0 && !clean);
        assert_int_equal(pp_store_commit(s, 1, &r, table[i].now), PP_STORE_OK);
        apr_pool_destroy(rp);
    }
}

static void test_table_embedded(void **state)
{
    run_table(*state, open_embedded(*state, "table.lmdb"), "embedded");
}

static void test_table_redis(void **state)
{
    run_table(*state, open_redis(*state, tcp_uri(*state), "t1:", 500, NULL), "redis tcp");
}

static void test_table_redis_unix(void **state)
{
    run_table(*state, open_redis(*state, apr_psprintf(*state, "redis+unix://%s?db=3", R.sock),
                                 "t2:", 500, NULL), "redis unix");
}

/* The local copy sees its own changes at once; several collections load in one round trip. */
static void test_local_view_and_pipelined_load(void **state)
{
    apr_pool_t *p = *state;
    pp_store_t *stores[2] = { open_embedded(p, "many.lmdb"), open_redis(p, tcp_uri(p), "m:", 500, NULL) };
    for (int k = 0; k < 2; k++) {
        pp_store_t *s = stores[k];
        const char *names[] = { "ip", "global", "session" }, *keys[] = { "1.2.3.4", "global", "abc" };
        pp_store_rec_t *r[3];
        pp_store_stats_t before, after;
        pp_store_get_stats(s, &before);
        assert_int_equal(pp_store_load_many(s, p, 3, names, keys, 60, 5000, r), PP_STORE_OK);
        pp_store_get_stats(s, &after);
        assert_int_equal(after.round_trips - before.round_trips, 1);
        assert_int_equal(pp_store_add(r[0], "hits", 1), 1);
        assert_int_equal(pp_store_add(r[0], "HITS", 1), 2);
        assert_string_equal(pp_store_get(r[0], "hits"), "2");
        pp_store_set(r[1], "seen", "yes");
        assert_false(pp_store_dirty(r[2]));
        pp_store_get_stats(s, &before);
        assert_int_equal(pp_store_commit(s, 3, r, 5000), PP_STORE_OK);
        pp_store_get_stats(s, &after);
        assert_int_equal(after.round_trips - before.round_trips, 1);
        assert_int_equal(after.commits - before.commits, 2);
        assert_int_equal(pp_store_load_many(s, p, 3, names, keys, 60, 5001, r), PP_STORE_OK);
        assert_string_equal(pp_store_get(r[0], "hits"), "2");
        assert_string_equal(pp_store_get(r[1], "SEEN"), "yes");
        assert_true(pp_store_is_new(r[2])); /* only read: never stored */
    }
}

/* A record made for a request (no store): ModSecurity's fields in its order, and the numbers
 * the store writes in decimal as "%lld" would, the extremes and the signs too. */
static void test_new_record_numbers(void **state)
{
    apr_pool_t *p = *state;
    pp_store_rec_t *r = pp_store_rec_create(NULL, p, "ip", "1.2.3.4", 9000000000L,
                                            4102444800123LL);
    const char *all = "", *field, *value;
    for (int pos = 0; pp_store_next(r, &pos, &field, &value);)
        all = apr_psprintf(p, "%s%s=%s ", all, field, value);
    assert_string_equal(all, "__expire_KEY=4111444800123 KEY=1.2.3.4 TIMEOUT=9000000000 "
                             "__key=1.2.3.4 __name=ip CREATE_TIME=4102444800123 "
                             "UPDATE_COUNTER=0 IS_NEW=1 ");
    assert_true(pp_store_is_new(r));
    static const struct { long s; int64_t now; const char *want; } ex[] = {
        { LONG_MIN, 0, "-9223372036854775808" }, { -1, 0, "-1" }, { 0, 0, "0" }, { 9, 0, "9" },
        { 1, 9, "10" }, { LONG_MAX, 0, "9223372036854775807" }, { -10, 1, "-9" },
        /* past the range (expirevar's value is rule text): saturated, not overflowed */
        { LONG_MAX, 1800000000, "9223372036854775807" }, { LONG_MIN, -5, "-9223372036854775808" },
    };
    for (unsigned i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        pp_store_expire(r, "x", ex[i].s, ex[i].now);
        assert_string_equal(pp_store_get(r, "__expire_x"), ex[i].want);
    }
    /* deprecatevar with N, S and LAST_UPDATE_TIME (a rule may set it) at the extremes: the
     * drop saturates and the value clamps to [0, INT_MAX] (UBSan: no overflow). */
    static const struct { const char *lut; long n, s; const char *want; } dep[] = {
        { "-2147483648", LONG_MAX, 1, "0" }, { "-2147483648", LONG_MIN, 1, "2147483647" },
        { "2147483647", LONG_MAX, 1, "2147483647" }, { "100", 3, 10, "7" },
    };
    for (unsigned i = 0; i < sizeof dep / sizeof dep[0]; i++) {
        pp_store_set(r, "LAST_UPDATE_TIME", dep[i].lut);
        pp_store_set(r, "d", "10");
        pp_store_deprecate(r, "d", dep[i].n, dep[i].s, 110);
        assert_string_equal(pp_store_get(r, "d"), dep[i].want);
    }
    assert_int_equal(pp_store_add(r, "n", 1234567), 1234567);
    assert_string_equal(pp_store_get(r, "n"), "1234567");
    assert_int_equal(pp_store_add(r, "n", -1234568), 0); /* never below 0 */
    assert_string_equal(pp_store_get(r, "n"), "0");
}

/* A key longer than LMDB takes (511 bytes; a session cookie an attacker makes long) still
 * counts on both stores, and two long keys that differ only at the end stay apart. */
static void test_long_keys(void **state)
{
    apr_pool_t *p = *state;
    pp_store_t *stores[2] = { open_embedded(p, "long.lmdb"), open_redis(p, tcp_uri(p), "l:", 500, NULL) };
    char *a = apr_palloc(p, 4001), *b = apr_palloc(p, 4001);
    memset(a, 'k', 4000);
    a[4000] = 0;
    memcpy(b, a, 4001);
    b[3999] = 'z';
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 3; i++) {
            pp_store_rec_t *r[2];
            const char *names[] = { "session", "session" }, *keys[] = { a, b };
            assert_int_equal(pp_store_load_many(stores[k], p, 2, names, keys, 600, 7000 + i, r),
                             PP_STORE_OK);
            assert_string_equal(pp_store_get(r[0], "KEY"), a);
            pp_store_add(r[0], "n", 1);
            pp_store_add(r[1], "n", 10);
            assert_int_equal(pp_store_commit(stores[k], 2, r, 7000 + i), PP_STORE_OK);
        }
        pp_store_rec_t *r;
        assert_int_equal(pp_store_load(stores[k], p, "session", a, 600, 7010, &r), PP_STORE_OK);
        assert_string_equal(pp_store_get(r, "n"), "3");
        assert_int_equal(pp_store_load(stores[k], p, "session", b, 600, 7010, &r), PP_STORE_OK);
        assert_string_equal(pp_store_get(r, "n"), "30");
    }
}

/* Prefixes keep two sites apart on one Redis. */
static void test_prefix_separates_sites(void **state)
{
    apr_pool_t *p = *state;
    pp_store_t *a = open_redis(p, tcp_uri(p), "siteA:", 500, NULL);
    pp_store_t *b = open_redis(p, tcp_uri(p), "siteB:", 500, NULL);
    pp_store_rec_t *r;
    assert_int_equal(pp_store_load(a, p, "IP", "x", 60, 10, &r), PP_STORE_OK);
    pp_store_add(r, "n", 5);
    assert_int_equal(pp_store_commit(a, 1, &r, 10), PP_STORE_OK);
    assert_int_equal(pp_store_load(b, p, "IP", "x", 60, 11, &r), PP_STORE_OK);
    assert_true(pp_store_is_new(r));
    assert_null(pp_store_get(r, "n"));
    assert_int_equal(pp_store_load(a, p, "IP", "x", 60, 11, &r), PP_STORE_OK);
    assert_string_equal(pp_store_get(r, "n"), "5");
}

/* ---- concurrency: exact totals ---- */

#define THREADS 16
#define PER_THREAD 200

typedef struct {
    pp_store_t *s;
    int n;
    int failures;
} worker_t;

static void *incr_worker(void *arg)
{
    worker_t *w = arg;
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    int64_t now = time(NULL);
    for (int i = 0; i < w->n; i++) {
        pp_store_rec_t *r;
        apr_pool_clear(p);
        if (pp_store_load(w->s, p, "IP", "10.0.0.1", 600, now, &r) != PP_STORE_OK)
            w->failures++;
        pp_store_add(r, "counter", 1);
        if (pp_store_commit(w->s, 1, &r, now) != PP_STORE_OK)
            w->failures++;
    }
    apr_pool_destroy(p);
    return NULL;
}

/* Returns how many requests failed (no cmocka asserts: forked children call it too). */
static int run_threads(pp_store_t **stores, int nstores, int threads, int per)
{
    pthread_t t[THREADS * 2];
    worker_t w[THREADS * 2];
    int failures = 0;
    for (int i = 0; i < threads; i++) {
        w[i] = (worker_t){ stores[i % nstores], per, 0 };
        if (pthread_create(&t[i], NULL, incr_worker, &w[i]) != 0)
            return -1;
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        failures += w[i].failures;
    }
    return failures;
}

static const char *counter(apr_pool_t *p, pp_store_t *s)
{
    pp_store_rec_t *r;
    assert_int_equal(pp_store_load(s, p, "IP", "10.0.0.1", 600, time(NULL), &r), PP_STORE_OK);
    return pp_store_get(r, "counter");
}

/* Embedded: 2 processes x 16 threads, each process with its own open of the file. */
static void test_exact_embedded_processes_threads(void **state)
{
    apr_pool_t *p = *state;
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            signal(SIGSEGV, SIG_DFL);
            signal(SIGABRT, SIG_DFL);
            apr_pool_t *cp;
            apr_pool_create(&cp, NULL);
            pp_store_conf_t c = { .kind = PP_STORE_EMBEDDED };
            c.path = apr_pstrcat(cp, tmpdir, "/exact.lmdb", NULL);
            const char *err = NULL;
            pp_store_t *s = pp_store_open(cp, &c, &err);
            _exit(s && run_threads(&s, 1, THREADS, PER_THREAD) == 0 ? 0 : 1);
        }
    }
    for (int k = 0; k < 2; k++) {
        int st;
        assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    assert_string_equal(counter(p, open_embedded(p, "exact.lmdb")),
                        apr_psprintf(p, "%d", 2 * THREADS * PER_THREAD));
}

/* Redis: two stores (two "servers", separate connections) x 16 threads each, one key. */
static void test_exact_redis_two_servers(void **state)
{
    apr_pool_t *p = *state;
    pp_store_t *s[2] = { open_redis(p, tcp_uri(p), "exact:", 1000, NULL),
                         open_redis(p, apr_psprintf(p, "redis+unix://%s", R.sock), "exact:", 1000, NULL) };
    assert_int_equal(run_threads(s, 2, THREADS * 2, PER_THREAD), 0);
    assert_string_equal(counter(p, s[0]), apr_psprintf(p, "%d", 2 * THREADS * PER_THREAD));
}

/* ---- failure ---- */

static uint64_t ms_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static pp_store_status_t one_request(apr_pool_t *p, pp_store_t *s, const char **seen)
{
    pp_store_rec_t *r;
    int64_t now = time(NULL);
    pp_store_status_t a = pp_store_load(s, p, "IP", "fail", 600, now, &r);
    *seen = pp_store_get(r, "n");
    pp_store_add(r, "n", 1);
    pp_store_status_t b = pp_store_commit(s, 1, &r, now);
    return a != PP_STORE_OK ? a : b;
}

static void test_failure_stop_restart_sigstop(void **state)
{
    apr_pool_t *p = *state;
    logbuf_t log = { .mu = PTHREAD_MUTEX_INITIALIZER };
    pp_store_t *s = open_redis(p, tcp_uri(p), "fail:", 100, &log);
    const char *seen;
    for (int i = 0; i < 3; i++)
        assert_int_equal(one_request(p, s, &seen), PP_STORE_OK);
    assert_string_equal(seen, "2");
    assert_int_equal(log.lines, 0);

    /* Stopped: every request fails fast with an empty collection; one log line in all. */
    redis_stop();
    for (int i = 0; i < 200; i++) {
        uint64_t t0 = ms_now();
        assert_int_equal(one_request(p, s, &seen), PP_STORE_UNAVAILABLE);
        assert_null(seen);
        assert_true(ms_now() - t0 < 1000);
        usleep(2000);
    }
    assert_int_equal(log.lines, 1);
    assert_non_null(strstr(log.last, "unavailable"));

    /* Restarted (empty: no persistence): back-off passes, counting resumes, one line says so. */
    assert_int_equal(redis_start(), 0);
    pp_store_status_t st = PP_STORE_UNAVAILABLE;
    for (int i = 0; i < 200 && st != PP_STORE_OK; i++) {
        usleep(50000);
        st = one_request(p, s, &seen);
    }
    assert_int_equal(st, PP_STORE_OK);
    assert_int_equal(log.lines, 2);
    assert_non_null(strstr(log.last, "available again"));
    assert_int_equal(one_request(p, s, &seen), PP_STORE_OK);
    assert_string_equal(seen, "1");

    /* SIGSTOPped: no hang beyond the 100 ms timeout. */
    kill(R.pid, SIGSTOP);
    uint64_t t0 = ms_now();
    assert_int_equal(one_request(p, s, &seen), PP_STORE_UNAVAILABLE);
    uint64_t took = ms_now() - t0;
    assert_true(took < 400);
    assert_null(seen);
    for (int i = 0; i < 50; i++) {
        t0 = ms_now();
        one_request(p, s, &seen);
        assert_true(ms_now() - t0 < 400);
    }
    assert_int_equal(log.lines, 3);
    kill(R.pid, SIGCONT);
    st = PP_STORE_UNAVAILABLE;
    for (int i = 0; i < 200 && st != PP_STORE_OK; i++) {
        usleep(50000);
        st = one_request(p, s, &seen);
    }
    assert_int_equal(st, PP_STORE_OK);
    assert_int_equal(log.lines, 4);
    pp_store_stats_t stats;
    pp_store_get_stats(s, &stats);
    assert_int_equal(stats.outages, 2);
    assert_true(stats.errors > 0);
}

static void test_bad_configuration(void **state)
{
    apr_pool_t *p = *state;
    const char *bad[] = { "redis://", "redis://h:99999/0", "redis://h:1/x", "redis+unix://rel?db=1",
                          "redis+unix:///x?foo=1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pp_store_conf_t c = { .kind = PP_STORE_REDIS, .uri = bad[i] };
        const char *err = NULL;
        assert_null(pp_store_open(p, &c, &err));
        assert_non_null(err);
    }
    pp_store_conf_t c = { 0 };
    assert_null(pp_store_parse_uri(p, "embedded", &c));
    assert_null(pp_store_parse_uri(p, "redis://127.0.0.1:1/2", &c));
    assert_int_equal(c.kind, PP_STORE_REDIS);
    assert_non_null(pp_store_parse_uri(p, "memcached://x", &c));
    c = (pp_store_conf_t){ .kind = PP_STORE_REDIS, .uri = "redis://127.0.0.1:1/0",
                           .password_file = "/nonexistent/pw" };
    const char *err = NULL;
    assert_null(pp_store_open(p, &c, &err));
    assert_non_null(strstr(err, "/nonexistent/pw"));
}

/* The embedded store in a child (open_retry): a file it cannot open is an outage, not an error and
 * not a store-less server: loads fail at once with an empty collection, one log line, the open is
 * retried with back-off, and the first success logs one more line. Without open_retry (the
 * parent at start-up) the same file is an error. */
static void test_embedded_unopenable_file(void **state)
{
    apr_pool_t *p = *state;
    logbuf_t log = { .mu = PTHREAD_MUTEX_INITIALIZER };
    const char *path = apr_pstrcat(p, tmpdir, "/junk.lmdb", NULL);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 1000; i++)
        fputs("not an LMDB file\n", f);
    fclose(f);

    pp_store_conf_t c = { .kind = PP_STORE_EMBEDDED, .path = path, .log = log_fn,
                          .log_baton = &log };
    const char *err = NULL;
    assert_null(pp_store_open(p, &c, &err));
    assert_non_null(strstr(err, "MDB_INVALID"));
    assert_int_equal(log.lines, 0);

    c.open_retry = true;
    c.on_outage = PP_STORE_OUTAGE_CLOSED;
    pp_store_t *s = pp_store_open(p, &c, &err);
    assert_non_null(s);
    assert_int_equal(log.lines, 1);
    assert_non_null(strstr(log.last, "unavailable (open: MDB_INVALID"));
    assert_non_null(strstr(log.last, "get 503"));
    const char *seen;
    for (int i = 0; i < 300; i++) { /* 0.6 s: a few retries, all failing, none logged */
        uint64_t t0 = ms_now();
        assert_int_equal(one_request(p, s, &seen), PP_STORE_UNAVAILABLE);
        assert_null(seen);
        assert_true(ms_now() - t0 < 200);
        usleep(2000);
    }
    assert_int_equal(log.lines, 1);
    assert_int_equal(pp_store_count(s), -1);

    /* Repaired (the junk removed: the retry makes a new file): counting starts. */
    assert_int_equal(unlink(path), 0);
    pp_store_status_t st = PP_STORE_UNAVAILABLE;
    for (int i = 0; i < 200 && st != PP_STORE_OK; i++) {
        usleep(50000);
        st = one_request(p, s, &seen);
    }
    assert_int_equal(st, PP_STORE_OK);
    assert_int_equal(log.lines, 2);
    assert_non_null(strstr(log.last, "available again"));
    assert_int_equal(one_request(p, s, &seen), PP_STORE_OK);
    assert_string_equal(seen, "1");
    pp_store_stats_t stats;
    pp_store_get_stats(s, &stats);
    assert_int_equal(stats.outages, 1);
}

/* An open embedded store whose writes fail (its map full of records that have not expired) logs
 * one line for the outage, not one per write, and one when writes succeed again; meanwhile loads
 * read but answer READ_ONLY (503 under FailClosed On), and loads alone end the outage once the
 * records have expired. */
static void test_embedded_write_outage_logged_once(void **state)
{
    apr_pool_t *p = *state;
    logbuf_t log = { .mu = PTHREAD_MUTEX_INITIALIZER };
    pp_store_conf_t c = { .kind = PP_STORE_EMBEDDED,
                          .path = apr_pstrcat(p, tmpdir, "/full.lmdb", NULL),
                          .map_size = 1024 * 1024, .log = log_fn, .log_baton = &log };
    const char *err = NULL;
    pp_store_t *s = pp_store_open(p, &c, &err);
    if (!s)
        fail_msg("%s", err);
    apr_pool_t *rp;
    apr_pool_create(&rp, p);
    int i = 0;
    pp_store_status_t st = PP_STORE_OK;
    for (; i < 50000 && st == PP_STORE_OK; i++) { /* distinct addresses until the map is full */
        pp_store_rec_t *r;
        apr_pool_clear(rp);
        pp_store_load(s, rp, "IP", apr_psprintf(rp, "10.0.%d.%d", i >> 8, i & 255), 60, 1000, &r);
        pp_store_add(r, "counter", 1);
        st = pp_store_commit(s, 1, &r, 1000);
    }
    assert_int_equal(st, PP_STORE_UNAVAILABLE);
    int failed = 1;
    for (int j = 0; j < 49; j++) { /* the same address again: it does not fit either (or is
                                    * not tried again before the back-off has passed) */
        pp_store_rec_t *r;
        apr_pool_clear(rp);
        assert_int_equal(pp_store_load(s, rp, "IP", apr_psprintf(rp, "10.0.%d.%d", i >> 8, i & 255),
                                       60, 1000, &r), PP_STORE_READ_ONLY);
        pp_store_add(r, "counter", 1);
        failed += pp_store_commit(s, 1, &r, 1000) == PP_STORE_UNAVAILABLE;
    }
    assert_int_equal(failed, 50);
    assert_int_equal(log.lines, 1);
    assert_non_null(strstr(log.last, "unavailable (write: MDB_MAP_FULL"));
    /* Meanwhile a load reads what is stored but says writes fail (503 under FailClosed On). */
    pp_store_rec_t *r;
    apr_pool_clear(rp);
    assert_int_equal(pp_store_load(s, rp, "IP", "10.0.0.0", 60, 1000, &r), PP_STORE_READ_ONLY);
    assert_string_equal(pp_store_get(r, "counter"), "1");
    /* A minute later the records have expired. Loads alone (FailClosed On: no request gets to
     * write) end the outage once the back-off has passed: the full sweep makes room, a probe
     * write works. */
    pp_store_status_t st2 = PP_STORE_READ_ONLY;
    for (int j = 0; j < 100 && st2 != PP_STORE_OK; j++) {
        usleep(100000);
        apr_pool_clear(rp);
        st2 = pp_store_load(s, rp, "IP", "10.1.0.0", 60, 1100, &r);
    }
    assert_int_equal(st2, PP_STORE_OK);
    assert_int_equal(log.lines, 2);
    assert_non_null(strstr(log.last, "available again"));
    assert_int_equal(pp_store_count(s), 0);
    pp_store_add(r, "counter", 1);
    assert_int_equal(pp_store_commit(s, 1, &r, 1100), PP_STORE_OK);
    assert_int_equal(log.lines, 2);
}

/* A flood of distinct keys with a short timeout stays bounded: writes sweep expired records. */
static void test_embedded_flood_bounded(void **state)
{
    apr_pool_t *p = *state;
    pp_store_t *s = open_embedded(p, "flood.lmdb");
    apr_pool_t *rp;
    apr_pool_create(&rp, p);
    long peak = 0;
    for (int i = 0; i < 20000; i++) {
        pp_store_rec_t *r;
        int64_t now = 100000 + i / 100; /* 100 requests a second, records live 10 s */
        apr_pool_clear(rp);
        pp_store_load(s, rp, "IP", apr_psprintf(rp, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255),
                      10, now, &r);
        pp_store_add(r, "counter", 1);
        assert_int_equal(pp_store_commit(s, 1, &r, now), PP_STORE_OK);
        long n = pp_store_count(s);
        if (n > peak)
            peak = n;
    }
    /* live records at any time: ~1,100; the sweep lags a little behind */
    assert_true(peak < 3000);
    assert_true(pp_store_sweep(s, 100000 + 20000 / 100 + 20, -1) > 0);
    assert_int_equal(pp_store_count(s), 0);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/pp-store-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    snprintf(R.dir, sizeof(R.dir), "%s", tmpdir);
    snprintf(R.sock, sizeof(R.sock), "%s/redis.sock", tmpdir);
    R.port = free_port();
    if (redis_start() != 0) {
        fprintf(stderr, "test_store: cannot start redis-server (Debian redis-server, tools/deps.sh)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_record_numbers, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_table_embedded, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_table_redis, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_table_redis_unix, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_local_view_and_pipelined_load, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_prefix_separates_sites, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_long_keys, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_exact_embedded_processes_threads, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_exact_redis_two_servers, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_embedded_flood_bounded, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_embedded_unopenable_file, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_embedded_write_outage_logged_once, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_bad_configuration, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_failure_stop_restart_sigstop, pp_test_pool_setup, pp_test_pool_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    redis_stop();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "%s", tmpdir);
    const char *argv_rm[] = { "rm", "-rf", cmd, NULL };
    pid_t pid = fork();
    if (pid == 0) {
        execvp("rm", (char *const *)argv_rm);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
