/*
 * What a persistent collection costs per request (issue 16): one request = load IP:<addr>,
 * setvar ip.counter=+1, commit — the CRS 912 DoS pattern. Measured for the embedded store (LMDB)
 * and for Redis over its Unix socket and over TCP (a redis-server started here on a private port
 * and socket, stopped by PID), single thread, as round trips and microseconds per request; then a
 * flood of distinct client addresses with a short TIMEOUT, showing that the store's size stays
 * bounded by expiry (LMDB records / Redis keys and used_memory) and that the cost stays flat
 * (first tenth vs last tenth of the flood).
 *
 * Usage: build/bench_store [flood_requests (default 200000)]
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <hiredis/hiredis.h>

#include "store/store.h"

static double now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec * 1e6 + tv.tv_usec;
}

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

/* One request: returns its duration in µs. */
static double request(pp_store_t *s, apr_pool_t *p, const char *addr, long timeout, int64_t now)
{
    double t0 = now_us();
    pp_store_rec_t *r;
    pp_store_load(s, p, "IP", addr, timeout, now, &r);
    pp_store_add(r, "counter", 1);
    pp_store_commit(s, 1, &r, now);
    return now_us() - t0;
}

static void steady(const char *label, pp_store_t *s, apr_pool_t *p, int n)
{
    pp_store_stats_t a, b;
    pp_store_get_stats(s, &a);
    double t = 0;
    for (int i = 0; i < n; i++) {
        apr_pool_clear(p);
        t += request(s, p, apr_psprintf(p, "192.0.2.%d", i % 200), 600, time(NULL));
    }
    pp_store_get_stats(s, &b);
    printf("| %s | %.2f | %.1f | %llu |\n", label, (double)(b.round_trips - a.round_trips) / n,
           t / n, (unsigned long long)(b.errors - a.errors));
}

static long long redis_info(redisContext *c, const char *what)
{
    redisReply *r = redisCommand(c, what[0] == 'D' ? "DBSIZE" : "INFO memory");
    long long v = -1;
    if (r && r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    else if (r && r->type == REDIS_REPLY_STRING) {
        const char *m = strstr(r->str, "used_memory:");
        if (m)
            v = atoll(m + 12);
    }
    if (r)
        freeReplyObject(r);
    return v;
}

static void flood(const char *label, pp_store_t *s, apr_pool_t *p, int n, redisContext *rc)
{
    /* 1,000 requests per simulated second, records live 10 s: ~10,000 live records. */
    double first = 0, last = 0;
    long peak = 0;
    int tenth = n / 10;
    int64_t base = time(NULL);
    for (int i = 0; i < n; i++) {
        apr_pool_clear(p);
        const char *addr = apr_psprintf(p, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        int64_t now = rc ? time(NULL) : base + i / 1000;
        double us = request(s, p, addr, 10, now);
        if (i < tenth)
            first += us;
        else if (i >= n - tenth)
            last += us;
        if (i % 1000 == 999) {
            long c = rc ? (long)redis_info(rc, "DBSIZE") : pp_store_count(s);
            if (c > peak)
                peak = c;
        }
    }
    printf("| %s | %d | %ld | %ld | %.1f | %.1f |", label, n,
           rc ? (long)redis_info(rc, "DBSIZE") : pp_store_count(s), peak, first / tenth,
           last / tenth);
    if (rc)
        printf(" used_memory %.1f MB |\n", redis_info(rc, "INFO") / 1048576.0);
    else
        printf(" |\n");
}

int main(int argc, char **argv)
{
    int flood_n = argc > 1 ? atoi(argv[1]) : 200000;
    apr_initialize();
    apr_pool_t *root, *p;
    apr_pool_create(&root, NULL);
    apr_pool_create(&p, root);
    char dir[] = "/tmp/pp-bench-store-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char sock[128], port[16], file[128];
    snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
    snprintf(file, sizeof(file), "%s/collections.lmdb", dir);
    int portn = free_port();
    snprintf(port, sizeof(port), "%d", portn);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlives us, even if we crash */
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
               "--unixsocket", sock, "--unixsocketperm", "700", "--save", "", "--appendonly",
               "no", "--dir", dir, (char *)NULL);
        _exit(127);
    }
    redisContext *rc = NULL;
    for (int i = 0; i < 300 && (!rc || rc->err); i++) {
        if (rc)
            redisFree(rc);
        usleep(10000);
        rc = redisConnectUnix(sock);
    }
    if (!rc || rc->err) {
        fprintf(stderr, "bench_store: redis-server did not start\n");
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return 1;
    }
    const char *err = NULL;
    pp_store_conf_t ce = { .kind = PP_STORE_EMBEDDED, .path = file };
    pp_store_conf_t cu = { .kind = PP_STORE_REDIS, .uri = apr_psprintf(root, "redis+unix://%s", sock),
                           .prefix = "bench:", .timeout_ms = 1000 };
    pp_store_conf_t ct = { .kind = PP_STORE_REDIS, .uri = apr_psprintf(root, "redis://127.0.0.1:%d/0", portn),
                           .prefix = "bench:", .timeout_ms = 1000 };
    pp_store_t *se = pp_store_open(root, &ce, &err), *su = pp_store_open(root, &cu, &err),
               *st = pp_store_open(root, &ct, &err);
    if (!se || !su || !st) {
        fprintf(stderr, "bench_store: %s\n", err);
        return 1;
    }
    printf("One request = load IP:<addr>, setvar ip.counter=+1, write back (single thread, "
           "200 addresses, 20,000 requests).\n\n");
    printf("| store | round trips / request | µs / request | errors |\n|---|---|---|---|\n");
    steady("embedded (LMDB)", se, p, 20000);
    steady("Redis, Unix socket", su, p, 20000);
    steady("Redis, TCP 127.0.0.1", st, p, 20000);
    printf("\nFlood: every request from a new address, TIMEOUT 10 s (embedded: 1,000 requests per "
           "simulated second; Redis: real time, TTL).\n\n");
    printf("| store | requests | records at end | peak records | µs/request first 10 %% | "
           "last 10 %% | |\n|---|---|---|---|---|---|---|\n");
    flood("embedded (LMDB)", se, p, flood_n, NULL);
    flood("Redis, Unix socket", su, p, flood_n, rc);
    redisFree(rc);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    apr_pool_destroy(root);
    char *rm[] = { "rm", "-rf", dir, NULL };
    pid_t r = fork();
    if (r == 0) {
        execvp("rm", rm);
        _exit(127);
    }
    waitpid(r, NULL, 0);
    apr_terminate();
    return 0;
}
