/*
 * libFuzzer target for the ModSecurity 2 transformation table (rules/transforms/table.c and
 * the files it points to). The first byte picks the row, the rest is the value, copied into
 * an allocation of exactly its length so that any read past the end is an ASan report (the
 * decoders look ahead for escapes). Checks on every row: the "same pointer means unchanged"
 * contract both ways, and that an output the function built ends in NUL. Checks across
 * rows, which hold for every input: the encoders round-trip through their decoders
 * (hexEncode/hexDecode, base64Encode/base64Decode, urlEncode/urlDecode), and lowercase,
 * trim, compressWhitespace and removeWhitespace are idempotent. The exact outputs are
 * compared with ModSecurity itself in tests/e2e/test_ms2_transforms.py.
 *
 * A row with an env variant (urlDecodeUni) also runs through it with SecUnicodeMapFile's table
 * for code pages 20127 and 1252 of Debian's /etc/modsecurity/unicode.mapping (the file the
 * oracle ships; tools/deps.sh installs it), under the same contract; with no map it must give
 * exactly what the plain row gives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/transforms/transforms.h"
#include "fuzz.h"

#define UNICODE_MAPPING "/etc/modsecurity/unicode.mapping"

static apr_pool_t *root, *scratch;
static pp_tfn_env_t envs[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_pools_init(&root, &scratch);
    static const long pages[2] = { 20127, 1252 };
    for (int i = 0; i < 2; i++) {
        const char *err = pp_unicode_map_load(root, scratch, UNICODE_MAPPING, pages[i],
                                              &envs[i].unicode_map);
        if (err) {
            fprintf(stderr, "fuzz_transforms: %s\n", err);
            abort();
        }
    }
    apr_pool_clear(scratch);
    return 0;
}

static pp_str_t apply(const char *name, pp_str_t in)
{
    const pp_tfn_def_t *def = pp_tfn_find(name);
    CHECK(def && def->apply);
    pp_str_t out;
    CHECK(def->apply(scratch, in, &out) == APR_SUCCESS);
    return out;
}

static int same(pp_str_t a, pp_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static void round_trips(pp_str_t in)
{
    CHECK(same(apply("hexDecode", apply("hexEncode", in)), in));
    /* APR's decoder reads a C string, and the encoded text holds no NUL. */
    CHECK(same(apply("base64Decode", apply("base64Encode", in)), in));
    CHECK(same(apply("urlDecode", apply("urlEncode", in)), in));
    static const char *const idempotent[] = { "lowercase", "trim", "compressWhitespace",
                                              "removeWhitespace", "removeNulls", "cmdLine" };
    for (size_t i = 0; i < sizeof idempotent / sizeof idempotent[0]; i++) {
        pp_str_t once = apply(idempotent[i], in);
        CHECK(same(apply(idempotent[i], once), once));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    apr_size_t n;
    const pp_tfn_def_t *table = pp_tfn_table(&n);
    const pp_tfn_def_t *def = &table[data[0] % n];
    char *value = malloc(size - 1 ? size - 1 : 1);
    memcpy(value, data + 1, size - 1);
    pp_str_t in = { value, size - 1 }, out;
    if (def->apply) {
        CHECK(def->apply(scratch, in, &out) == APR_SUCCESS);
        if (out.data == in.data)
            CHECK(out.len == in.len);
        else
            CHECK(!same(out, in));
    }
    if (def->apply_env) {
        pp_tfn_env_t none = { NULL };
        CHECK(def->apply_env(scratch, &none, in, &out) == APR_SUCCESS);
        CHECK(def->apply && same(out, apply(def->name, in)));
        for (int i = 0; i < 2; i++) {
            CHECK(def->apply_env(scratch, &envs[i], in, &out) == APR_SUCCESS);
            if (out.data == in.data)
                CHECK(out.len == in.len);
            else
                CHECK(!same(out, in) && out.len <= in.len && out.data[out.len] == '\0');
        }
    }
    round_trips(in);
    free(value);
    apr_pool_clear(scratch);
    return 0;
}
