/*
 * Engine micro-benchmark: a configuration (default: the shared 100-rule 1.9 set) evaluated
 * against a GET with 5 arguments, N times, in process, through the same pp_tx_* calls the
 * adapter makes. Prints transactions/s and rules evaluated per second; run it under
 * `valgrind --tool=callgrind` for the stable figure (instructions per request).
 *
 * usage: bench_rules CONFIG [ITERATIONS] [attack]
 *
 * PP_BENCH_BODY=FILE in the environment: a POST with that file as its body instead, urlencoded,
 * or multipart/form-data when its first line is a delimiter ("--" and the boundary: the
 * bodies `bench/http/bench.py --bodies DIR` writes, multipart-100k.bin is the mp100k request);
 * PP_BENCH_CT=TYPE sends it with that Content-Type instead. The body is fed as the Apache adapter
 * feeds it: in the core's 8,000-byte reads, lent (pp_tx_feed_request_body_lent).
 * PP_BENCH_RESPONSE=1 in the environment: the response side too, driven as src/apache/output.c
 * and hooks.c drive it (status, entity, 6 response headers, phase 3, a 48-byte text/html body
 * held and read back, phase 4) instead of only the status before the logging phase.
 * PP_BENCH_EVICT=BYTES in the environment: between transactions, write that many bytes of an
 * unrelated buffer, as a web server's kernel and network work does between two requests, so
 * the figure includes the cache misses on rules and code that a warm loop hides (the time of
 * the eviction itself is measured separately and subtracted).
 *
 * One transaction runs before the measured ones, also with ITERATIONS 0, so that work done once
 * per process on first use (a pattern's JIT code, util/regex.c) counts with start-up, and
 * "N minus 0" under callgrind is the steady per-request cost.
 */
#include "parapet.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *evict_buf;
static size_t evict_len;

static void evict(void)
{
    for (size_t i = 0; i < evict_len; i += 64)
        evict_buf[i]++;
}

static const char *const headers[][2] = {
    { "Host", "localhost" },
    { "User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" },
    { "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" },
    { "Accept-Language", "en-US,en;q=0.5" },
    { "Accept-Encoding", "gzip, deflate, br" },
    { "Referer", "http://localhost/search" },
    { "Cookie", "session=4f2a9c0d1e8b7a6c; theme=dark" },
    { "Connection", "keep-alive" },
};

static const char *body;
static size_t body_len;
static const char *body_type = "application/x-www-form-urlencoded";

/* "multipart/form-data; boundary=B" when the body's first line is "--B", else NULL. */
static const char *multipart_type(apr_pool_t *p, const char *b, size_t n)
{
    const char *eol = memchr(b, '\n', n);
    if (n < 3 || b[0] != '-' || b[1] != '-' || !eol)
        return NULL;
    size_t len = (size_t)(eol - b) - 2;
    if (len > 0 && b[2 + len - 1] == '\r')
        len--;
    return len ? apr_psprintf(p, "multipart/form-data; boundary=%.*s", (int)len, b + 2) : NULL;
}

static const char *const resp_headers[][2] = {
    { "Date", "Mon, 07 Dec 2026 12:00:00 GMT" },
    { "Server", "Apache/2.4.62 (Debian)" },
    { "Last-Modified", "Mon, 07 Dec 2026 11:00:00 GMT" },
    { "ETag", "\"30-5f1c2a3b4c5d6\"" },
    { "Accept-Ranges", "bytes" },
    { "Content-Type", "text/html" },
};
static const char resp_body[] = "<html><body><h1>It works!</h1></body></html>\n\n\n\n";
static bool with_response;

/* What output.c's start_holding / finish_held / release_body and hooks.c's finish_tx call for
 * a 200 text/html answer the MIME list holds. */
static void respond(pp_tx_t *tx)
{
    const char *type = "text/html";
    pp_tx_set_response_entity(tx, type, (apr_off_t)(sizeof resp_body - 1));
    bool phases2 = pp_tx_wants_response_phases(tx);
    bool given = false;
    if (phases2 || pp_tx_wants_response_body(tx, type)) {
        given = true;
        pp_tx_set_response_status(tx, 200, "200 OK");
        for (size_t i = 0; i < sizeof resp_headers / sizeof resp_headers[0]; i++)
            pp_tx_add_response_header(tx, (pp_str_t){ resp_headers[i][0], strlen(resp_headers[i][0]) },
                                      (pp_str_t){ resp_headers[i][1], strlen(resp_headers[i][1]) });
    }
    if (phases2)
        pp_tx_finish_response_headers(tx);
    if (!pp_tx_verdict(tx)->intercepted && pp_tx_wants_response_body(tx, type)) {
        pp_tx_finish_response_headers(tx);
        pp_tx_feed_response_body(tx, resp_body, sizeof resp_body - 1);
        pp_tx_finish_response_body(tx);
        const char *d;
        apr_size_t l;
        while (pp_tx_read_response_body(tx, &d, &l) == APR_SUCCESS && l > 0)
            ;
    }
    else if (phases2 && !pp_tx_verdict(tx)->intercepted) {
        pp_tx_finish_response_body(tx);
    }
    if (!given && pp_tx_wants_response_headers(tx)) {
        pp_tx_set_response_status(tx, 200, "200 OK");
        for (size_t i = 0; i < sizeof resp_headers / sizeof resp_headers[0]; i++)
            pp_tx_add_response_header(tx, (pp_str_t){ resp_headers[i][0], strlen(resp_headers[i][0]) },
                                      (pp_str_t){ resp_headers[i][1], strlen(resp_headers[i][1]) });
    }
}

/* The body as src/apache/input.c hands it over: the core's socket reads of up to 8,000 bytes,
 * eight per call, lent (the body stays put for the whole run, as the adapter's buckets do). */
static void feed_body(pp_tx_t *tx)
{
    enum { READ = 8000, PER_CALL = 8 };
    pp_str_t chunks[PER_CALL];
    size_t at = 0;
    while (at < body_len) {
        size_t n = 0;
        for (; n < PER_CALL && at < body_len; n++, at += READ)
            chunks[n] = (pp_str_t){ body + at, body_len - at < READ ? body_len - at : READ };
        pp_tx_feed_request_body_lent(tx, chunks, n);
    }
}

static int run_one(const pp_cfg_t *cfg, apr_pool_t *p, const char *line)
{
    pp_tx_t *tx = pp_tx_create(cfg, p, "bench");
    pp_conn_info_t ci = { 0 };
    ci.client_ip = "127.0.0.1";
    ci.server_ip = "127.0.0.1";
    ci.server_port = 80;
    pp_tx_set_conn(tx, &ci);
    pp_tx_set_request_line(tx, (pp_str_t){ line, strlen(line) });
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        pp_tx_add_request_header(tx, (pp_str_t){ headers[i][0], strlen(headers[i][0]) },
                                 (pp_str_t){ headers[i][1], strlen(headers[i][1]) });
    if (body) {
        char len[32];
        snprintf(len, sizeof len, "%zu", body_len);
        pp_tx_add_request_header(tx, PP_STR("Content-Type"),
                                 (pp_str_t){ body_type, strlen(body_type) });
        pp_tx_add_request_header(tx, PP_STR("Content-Length"), (pp_str_t){ len, strlen(len) });
    }
    pp_tx_finish_request_headers(tx);
    if (body && pp_tx_wants_request_body(tx))
        feed_body(tx);
    pp_tx_finish_request_body(tx);
    int intercepted = pp_tx_verdict(tx)->intercepted;
    if (with_response && !intercepted)
        respond(tx);
    pp_tx_set_response_status(tx, 200, with_response ? "200 OK" : NULL);
    pp_tx_finish(tx);
    return intercepted;
}

int main(int argc, const char *const *argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_rules CONFIG [ITERATIONS] [attack]\n");
        return 2;
    }
    long n = argc > 2 ? atol(argv[2]) : 100000;
    const char *line = argc > 3 ? "GET /search?q=1+union+select+password+from+users&page=2&sort=asc&lang=en&ref=home HTTP/1.1"
                                : "GET /search?q=shoes&page=2&sort=price&lang=en&ref=home HTTP/1.1";
    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_t *cp, *tp, *rp;
    apr_pool_create(&cp, NULL);
    apr_pool_create(&tp, cp);
    apr_pool_create(&rp, NULL);
    pp_engine_init(cp);
    pp_cfg_t *cfg = pp_cfg_create(cp);
    const char *err = pp_cfg_read_file(cfg, argv[1], cp, tp);
    if (err) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    const char *bf = getenv("PP_BENCH_BODY");
    if (bf) {
        FILE *f = fopen(bf, "rb");
        static char buf[1 << 20];
        if (!f) {
            perror(bf);
            return 2;
        }
        body_len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        body = buf;
        line = "POST /search HTTP/1.1";
        const char *ct = getenv("PP_BENCH_CT"), *mp = multipart_type(cp, buf, body_len);
        if (ct && *ct)
            body_type = ct;
        else if (mp)
            body_type = mp;
    }
    const char *wr = getenv("PP_BENCH_RESPONSE");
    with_response = wr && *wr && strcmp(wr, "0") != 0;
    const char *ev = getenv("PP_BENCH_EVICT");
    evict_len = ev ? (size_t)atol(ev) : 0;
    evict_buf = evict_len ? calloc(1, evict_len) : NULL;
    double evict_secs = 0;
    if (evict_len) {
        apr_time_t e0 = apr_time_now();
        for (long i = 0; i < n; i++)
            evict();
        evict_secs = (double)(apr_time_now() - e0) / 1e6;
    }
    run_one(cfg, rp, line); /* warm-up: see the top */
    apr_pool_clear(rp);
    apr_time_t t0 = apr_time_now();
    long hits = 0;
    for (long i = 0; i < n; i++) {
        if (evict_len)
            evict();
        hits += run_one(cfg, rp, line);
        apr_pool_clear(rp);
    }
    double secs = (double)(apr_time_now() - t0) / 1e6 - evict_secs;
    printf("%ld transactions in %.3f s: %.0f tx/s, %.2f us/tx, intercepted %ld\n", n, secs,
           n / secs, secs * 1e6 / n, hits);
    return 0;
}
