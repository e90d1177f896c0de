/*
 * libFuzzer target for body/json.c (the JSON body processor, spec §12.4).
 *
 * Input: byte 0 picks the chunking (seed and largest chunk), byte 1 the depth limit (1-64, or
 * the default 512 when its top bit is set), the rest is the body. Each input is parsed whole and
 * in the chosen chunks; the runs must agree on the result, the error text and a hash of every
 * argument (name and value), and every argument's name must be non-NULL with its value
 * NUL-terminated. A callback refusal after N arguments is checked to stop the parse at N.
 *
 * Build: fuzz/run.sh 60 json
 */
#include <stdint.h>
#include <string.h>

#include "body/json.h"
#include "fuzz.h"

static apr_pool_t *root, *scratch;

typedef struct trace_t {
    uint64_t hash;
    int n, stop_after;
} trace_t;

static void mix(trace_t *t, pp_str_t s)
{
    for (apr_size_t i = 0; i < s.len; i++)
        t->hash = (t->hash ^ (unsigned char)s.data[i]) * 1099511628211ull;
    t->hash = (t->hash ^ 0x100) * 1099511628211ull;
}

static apr_status_t leaf(void *ctx, pp_str_t name, pp_str_t value)
{
    trace_t *t = ctx;
    CHECK(name.data && value.data && value.data[value.len] == '\0');
    mix(t, name);
    mix(t, value);
    t->n++;
    return t->stop_after && t->n >= t->stop_after ? APR_EGENERAL : APR_SUCCESS;
}

typedef struct run_t {
    apr_status_t rv;
    const char *error;
    trace_t t;
} run_t;

static run_t run(const uint8_t *data, size_t len, int depth, size_t max_chunk, unsigned seed,
                 int stop_after)
{
    run_t r = { APR_SUCCESS, NULL, { 1469598103934665603ull, 0, stop_after } };
    pp_json_t *j = pp_json_create(scratch, depth, leaf, &r.t);
    CHECK(j);
    size_t off = 0;
    while (off < len && r.rv == APR_SUCCESS) {
        seed = seed * 1103515245u + 12345u;
        size_t n = max_chunk ? 1 + (seed >> 8) % max_chunk : len;
        if (n > len - off)
            n = len - off;
        r.rv = pp_json_feed(j, (const char *)data + off, n);
        off += n;
    }
    if (r.rv == APR_SUCCESS)
        r.rv = pp_json_finish(j);
    r.error = pp_json_error(j);
    CHECK((r.error != NULL) == (r.rv == APR_EGENERAL && !(stop_after && r.t.n >= stop_after)));
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!root)
        fuzz_pools_init(&root, &scratch);
    if (size < 2)
        return 0;
    unsigned seed = data[0];
    size_t max_chunk = 1 + data[0] % 17;
    int depth = data[1] & 0x80 ? PP_JSON_DEFAULT_DEPTH : 1 + data[1] % 64;
    data += 2;
    size -= 2;
    run_t whole = run(data, size, depth, 0, seed, 0);
    run_t parts = run(data, size, depth, max_chunk, seed, 0);
    CHECK(whole.rv == parts.rv && whole.t.n == parts.t.n && whole.t.hash == parts.t.hash);
    /* YAJL quotes the text around an error only when asked (verbose): the message is the same
     * whatever the chunking. */
    CHECK((whole.error == NULL) == (parts.error == NULL));
    CHECK(!whole.error || strcmp(whole.error, parts.error) == 0);
    if (whole.t.n > 1) {
        run_t cut = run(data, size, depth, max_chunk, seed, whole.t.n / 2);
        CHECK(cut.rv == APR_EGENERAL && cut.t.n == whole.t.n / 2);
    }
    apr_pool_clear(scratch);
    return 0;
}
