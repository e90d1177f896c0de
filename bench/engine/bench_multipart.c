/*
 * Throughput of body/multipart.c (reference §6.3) on its hot path: one 100 MB file part fed in
 * 64 KiB chunks, the way Apache hands a large upload to the engine, with callbacks that only
 * count bytes. The content is random bytes salted with CRLFs, dashes and partial copies of the
 * delimiter, so the scanner keeps stopping at candidates instead of skipping clean data.
 * Prints the best of five runs in MB/s (10^6 bytes per CPU second of the parsing thread).
 *
 * It measures the parser alone: no upload storage, no rules. Standalone so it builds while the
 * rest of the engine does not:
 *   gcc -std=gnu11 -O2 $(apr-1-config --cflags --cppflags --includes) -Isrc/engine
 *       bench/engine/bench_multipart.c src/engine/body/multipart*.c
 *       $(apr-1-config --link-ld --libs) -o build/bench_multipart
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>

#include "body/multipart.h"

#define BOUNDARY "----BenchBoundary7Qx9Lm2VtK3pZ"
#define CONTENT_BYTES ((apr_size_t)100 * 1000 * 1000)
#define CHUNK_BYTES ((apr_size_t)64 * 1024)
#define RUNS 5

static const char head[] = "--" BOUNDARY "\r\n"
                           "Content-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
                           "Content-Type: application/octet-stream\r\n\r\n";
static const char tail[] = "\r\n--" BOUNDARY "--\r\n";

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random bytes, with every 32 bytes or so a CRLF, a run of dashes or "\r\n--" plus a short
 * prefix of the boundary followed by 'x' (never a delimiter, never a strict flag; ModSecurity's
 * informational MULTIPART_UNMATCHED_BOUNDARY is set early, after which its test costs nothing). */
static void fill_content(char *buf, apr_size_t n)
{
    static const char *const salt[] = { "\r\n", "--", "\r\n--", "\r\n--" "----Ben" "x",
                                        "\r\n--" "----" "x", "-\r\n-", "\n--", "\r\r\n" };
    uint64_t s = 0x9E3779B97F4A7C15ull;
    apr_size_t i = 0;
    while (i + 8 <= n) {
        uint64_t r = xorshift(&s);
        if ((r & 3) == 0) {
            const char *piece = salt[(r >> 8) % 8];
            apr_size_t len = strlen(piece);
            if (i + len <= n) {
                memcpy(buf + i, piece, len);
                i += len;
            }
        } else {
            memcpy(buf + i, &r, 8);
            i += 8;
        }
    }
    while (i < n) {
        buf[i++] = 'z';
    }
}

static apr_status_t count_data(void *ctx, void *handle, const char *data, apr_size_t len)
{
    *(apr_off_t *)ctx += (apr_off_t)len;
    return APR_SUCCESS;
}

/* The thread's CPU time, not the wall clock: on a shared machine a parse that waits for a CPU
 * would otherwise count the wait (the parser makes no system calls, so the two agree on an
 * idle machine). */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One parse of the whole body; returns seconds, or -1 if the result is wrong. */
static double run_once(apr_pool_t *p, const char *body, apr_size_t body_len)
{
    static const char ct[] = "multipart/form-data; boundary=" BOUNDARY;
    apr_off_t bytes = 0;
    pp_multipart_cb_t cb = { &bytes, NULL, NULL, count_data, NULL };
    pp_multipart_t *mp = pp_multipart_create(p, (pp_str_t){ ct, sizeof(ct) - 1 }, NULL, &cb, NULL);
    double start = now_seconds();
    for (apr_size_t at = 0; at < body_len; at += CHUNK_BYTES) {
        apr_size_t n = body_len - at < CHUNK_BYTES ? body_len - at : CHUNK_BYTES;
        if (pp_multipart_feed(mp, body + at, n) != APR_SUCCESS) {
            return -1;
        }
    }
    if (pp_multipart_finish(mp) != APR_SUCCESS) {
        return -1;
    }
    double secs = now_seconds() - start;
    if (bytes != (apr_off_t)CONTENT_BYTES || (pp_multipart_flags(mp) & PP_MP_STRICT_MASK) != 0) {
        fprintf(stderr, "wrong result: %ld bytes, flags %#x\n", (long)bytes,
                pp_multipart_flags(mp));
        return -1;
    }
    return secs;
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    apr_size_t body_len = sizeof(head) - 1 + CONTENT_BYTES + sizeof(tail) - 1;
    char *body = apr_palloc(p, body_len);
    memcpy(body, head, sizeof(head) - 1);
    fill_content(body + sizeof(head) - 1, CONTENT_BYTES);
    memcpy(body + sizeof(head) - 1 + CONTENT_BYTES, tail, sizeof(tail) - 1);

    double best = 0;
    for (int i = 0; i < RUNS; i++) {
        apr_pool_t *run_pool;
        apr_pool_create(&run_pool, p);
        double secs = run_once(run_pool, body, body_len);
        apr_pool_destroy(run_pool);
        if (secs < 0) {
            fprintf(stderr, "bench_multipart: parse failed\n");
            return 1;
        }
        best = (best == 0 || secs < best) ? secs : best;
    }
    printf("multipart: %.1f MB body, %lu-byte chunks, best of %d: %.0f MB/s (CPU time)\n",
           (double)body_len / 1e6, (unsigned long)CHUNK_BYTES, RUNS, (double)body_len / 1e6 / best);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
