/*
 * libFuzzer target for body/xml.c (the XML body processor, spec §12.5).
 *
 * Input: byte 0 picks a chunking, byte 1 the value budget (small or 1 MiB), the rest is the
 * body. It is parsed whole (as dispatch.c does) twice, and the runs must agree on
 * well-formedness and on the values of XML:/*, XML://@* and XML://text() (status and a hash of
 * every value); each value is NUL-terminated with its length, the total within the budget. It
 * is also parsed in chunks, for memory errors only: libxml2's push parser does not promise the
 * same result for every chunking (UCS-4 split across chunks was this target's first finding),
 * which is why dispatch.c parses the body whole.
 *
 * Build: fuzz/run.sh 60 xml
 */
#include <stdint.h>
#include <string.h>

#include "body/xml.h"
#include "fuzz.h"

static apr_pool_t *root, *scratch;

static const char *const exprs[] = { "/*", "//@*", "//text()" };

typedef struct run_t {
    bool ok;
    apr_status_t rv[3];
    uint64_t hash[3];
} run_t;

static run_t run(const uint8_t *data, size_t len, size_t max_chunk, unsigned seed,
                 apr_size_t budget)
{
    run_t r = { false, { 0 }, { 0 } };
    pp_xml_t *x = pp_xml_create(scratch);
    CHECK(x);
    apr_status_t rv = APR_SUCCESS;
    for (size_t off = 0; off < len && rv == APR_SUCCESS;) {
        seed = seed * 1103515245u + 12345u;
        size_t n = max_chunk ? 1 + (seed >> 8) % max_chunk : len;
        if (n > len - off)
            n = len - off;
        rv = pp_xml_feed(x, (const char *)data + off, n);
        off += n;
    }
    if (rv == APR_SUCCESS)
        rv = pp_xml_finish(x);
    r.ok = rv == APR_SUCCESS;
    CHECK(r.ok == pp_xml_has_document(x));
    for (int e = 0; r.ok && e < 3; e++) {
        apr_array_header_t *out = apr_array_make(scratch, 4, sizeof(pp_str_t));
        const char *err = NULL;
        r.rv[e] = pp_xml_xpath(x, scratch, exprs[e], budget, out, &err);
        CHECK(r.rv[e] == APR_SUCCESS || r.rv[e] == APR_ENOSPC);
        apr_size_t total = 0;
        r.hash[e] = 1469598103934665603ull;
        for (int i = 0; i < out->nelts; i++) {
            pp_str_t v = APR_ARRAY_IDX(out, i, pp_str_t);
            CHECK(v.data[v.len] == '\0');
            total += v.len;
            for (apr_size_t k = 0; k < v.len; k++)
                r.hash[e] = (r.hash[e] ^ (unsigned char)v.data[k]) * 1099511628211ull;
            r.hash[e] = (r.hash[e] ^ 0x100) * 1099511628211ull;
        }
        CHECK(total <= budget);
    }
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
    apr_size_t budget = data[1] & 0x80 ? (apr_size_t)1 << 20 : (apr_size_t)(data[1] & 0x7f) * 8;
    run_t whole = run(data + 2, size - 2, 0, seed, budget);
    run_t parts = run(data + 2, size - 2, 0, seed, budget);
    (void)run(data + 2, size - 2, max_chunk, seed, budget);
    CHECK(whole.ok == parts.ok);
    for (int e = 0; whole.ok && e < 3; e++)
        CHECK(whole.rv[e] == parts.rv[e] && whole.hash[e] == parts.hash[e]);
    apr_pool_clear(scratch);
    return 0;
}
