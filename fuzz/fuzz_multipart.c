/*
 * libFuzzer target for body/multipart.c, body/multipart_header.c and body/multipart_msflag.c
 *
 * Input: byte 0 picks the chunking (seed and largest chunk), byte 1 picks options (bit 0: the
 * Content-Type is taken from the input up to the first LF, else it is fixed with the boundary
 * "zzB0"; bit 1: small limits; bits 2-3: the widest vector instructions of the chunked run,
 * PP_MP_SIMD_*), the rest is the body. Each input is parsed whole (with the CPU's widest vector
 * instructions) and in the chosen chunks; the two runs must agree on status, flags, error and
 * a hash of every callback (the parser promises that neither chunking nor the vector path
 * matters), and the callbacks are checked for order and sizes. It does not compare against another parser: differential checks belong in tests.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined $(apr-1-config --cflags --cppflags
 * --includes) -Isrc/engine fuzz/fuzz_multipart.c src/engine/body/multipart*.c
 * $(apr-1-config --link-ld --libs)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "body/multipart.h"

#define FIXED_CT "multipart/form-data; boundary=zzB0"

typedef struct trace_t {
    uint64_t hash;
    int open_files;
    apr_off_t file_bytes;
} trace_t;

static void mix(trace_t *t, const void *data, apr_size_t len)
{
    const unsigned char *b = data;
    for (apr_size_t i = 0; i < len; i++) {
        t->hash = (t->hash ^ b[i]) * 1099511628211ull;
    }
}

static void mix_str(trace_t *t, char tag, pp_str_t s)
{
    uint64_t len = s.len;
    if (s.data == NULL) {
        abort();
    }
    mix(t, &tag, 1);
    mix(t, &len, sizeof(len));
    mix(t, s.data, s.len);
}

static apr_status_t on_field(void *ctx, pp_str_t name, pp_str_t value)
{
    trace_t *t = ctx;
    if (t->open_files != 0) {
        abort();
    }
    mix_str(t, 'N', name);
    mix_str(t, 'V', value);
    return APR_SUCCESS;
}

static apr_status_t on_begin(void *ctx, pp_str_t field, pp_str_t filename, pp_str_t ct,
                             void **handle)
{
    trace_t *t = ctx;
    if (t->open_files != 0 || *handle != NULL) {
        abort();
    }
    t->open_files = 1;
    t->file_bytes = 0;
    *handle = t;
    mix_str(t, 'B', field);
    mix_str(t, 'b', filename);
    mix_str(t, 't', ct);
    return APR_SUCCESS;
}

static apr_status_t on_data(void *ctx, void *handle, const char *data, apr_size_t len)
{
    trace_t *t = ctx;
    if (handle != t || t->open_files != 1 || len == 0) {
        abort();
    }
    t->file_bytes += (apr_off_t)len;
    mix(t, data, len); /* no length tag: the split of file data must not matter */
    return APR_SUCCESS;
}

static apr_status_t on_end(void *ctx, void *handle, apr_off_t size)
{
    trace_t *t = ctx;
    if (handle != t || t->open_files != 1 || size != t->file_bytes) {
        abort();
    }
    t->open_files = 0;
    mix(t, "E", 1);
    mix(t, &size, sizeof(size));
    return APR_SUCCESS;
}

/* A part's header section: the same whatever the chunking; no file is open. */
static apr_status_t on_headers(void *ctx, pp_str_t name, pp_str_t filename, pp_str_t raw)
{
    trace_t *t = ctx;
    if (t->open_files != 0 || raw.data == NULL) {
        abort();
    }
    mix_str(t, 'H', name);
    if (filename.data != NULL) {
        mix_str(t, 'h', filename);
    }
    mix_str(t, 'R', raw);
    return APR_SUCCESS;
}

typedef struct outcome_t {
    apr_status_t rv;
    unsigned flags;
    const char *error;
    uint64_t hash;
} outcome_t;

static uint32_t next(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

/* max_chunk 0 = one feed. */
static outcome_t parse(apr_pool_t *p, pp_str_t ct, const pp_multipart_limits_t *lim,
                       const char *body, size_t len, uint32_t seed, size_t max_chunk,
                       unsigned simd)
{
    trace_t t = { 1469598103934665603ull, 0, 0 };
    pp_multipart_cb_t cb = { &t, on_field, on_begin, on_data, on_end, on_headers };
    const char *err = NULL;
    outcome_t o = { APR_SUCCESS, 0, NULL, 0 };
    pp_multipart_t *mp = pp_multipart_create(p, ct, lim, &cb, &err);
    if (mp == NULL) {
        o.error = err;
        return o;
    }
    pp_multipart_set_simd(mp, simd);
    size_t at = 0;
    while (at < len && o.rv == APR_SUCCESS) {
        size_t n = max_chunk ? 1 + next(&seed) % max_chunk : len;
        n = n > len - at ? len - at : n;
        o.rv = pp_multipart_feed(mp, body + at, n);
        at += n;
    }
    if (o.rv == APR_SUCCESS) {
        o.rv = pp_multipart_finish(mp);
    }
    o.flags = pp_multipart_flags(mp);
    o.error = pp_multipart_error(mp);
    o.hash = t.hash;
    /* A fatal error always comes with a strict flag, and only with APR_EGENERAL. */
    if ((o.error != NULL) != (o.rv == APR_EGENERAL) ||
        (o.error != NULL && !(o.flags & PP_MP_STRICT_MASK))) {
        abort();
    }
    if (o.rv == APR_SUCCESS && t.open_files != 0) {
        abort();
    }
    return o;
}

static apr_pool_t *root;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const pp_multipart_limits_t small = { 256, 64, 8 };
    if (root == NULL) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    if (size < 2) {
        return 0;
    }
    uint8_t chunking = data[0], options = data[1];
    const char *body = (const char *)data + 2;
    size_t len = size - 2;
    pp_str_t ct = { FIXED_CT, sizeof(FIXED_CT) - 1 };
    if (options & 1) {
        const char *nl = memchr(body, '\n', len);
        size_t ct_len = nl ? (size_t)(nl - body) : len;
        ct = (pp_str_t){ body, ct_len };
        body += nl ? ct_len + 1 : len;
        len -= nl ? ct_len + 1 : len;
    }
    const pp_multipart_limits_t *lim = (options & 2) ? &small : NULL;
    apr_pool_t *p;
    apr_pool_create(&p, root);
    outcome_t whole = parse(p, ct, lim, body, len, 0, 0, pp_multipart_simd_max());
    outcome_t cut = parse(p, ct, lim, body, len, chunking, (size_t)1 << (chunking % 9),
                          (options >> 2) & 3);
    if (whole.rv != cut.rv || whole.flags != cut.flags || whole.hash != cut.hash ||
        (whole.error == NULL) != (cut.error == NULL) ||
        (whole.error && strcmp(whole.error, cut.error) != 0)) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
