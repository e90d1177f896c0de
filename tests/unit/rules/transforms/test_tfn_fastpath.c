/*
 * The transformations' fast paths (rules/transforms/scan.h) against the reference evaluators
 * in tfn_reference.h, the byte loops they replaced: every string up to 5-8 bytes over each
 * transformation's interesting bytes, and seeded random strings up to 100 bytes (so the
 * 16-byte SSE2 blocks, their boundaries and the byte-wise tails are all crossed) must give the
 * same bytes, and "unchanged" (the same pointer back) exactly when the reference says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "rules/transforms/tfn_reference.h"
#include "pp_random.h"

static apr_pool_t *pool;
static unsigned long calls;

/* urlDecode's scan for '%' (and '+') in front of the 1.9 normaliser, against the normaliser
 * alone (itself pinned to a slow reference in test_transforms.c). */
static apr_status_t ref_url_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return pp_tfn_normalise19(scratch, in, PP_N19_URLDECODE, out);
}

static apr_status_t ref_url_decode_form(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return pp_tfn_normalise19(scratch, in, PP_N19_URLDECODE | PP_N19_PLUS, out);
}

typedef struct pair_t {
    const char *name;
    pp_tfn_apply_fn fast, ref;
    const char *alphabet; /* the bytes the transformation treats specially, and two others */
    apr_size_t alphabet_len;
} pair_t;

#define P(name, fast, ref, a) { name, fast, ref, a, sizeof(a) - 1 }

/* clang-format off */
static const pair_t pairs[] = {
    P("lowercase", pp_tfn_lowercase, ref_lowercase, "aAZz@[\xc1"),
    P("compressWhitespace", pp_tfn_compress_whitespace2, ref_compress_whitespace2, " \t\r\v\xa0" "a"),
    P("removeWhitespace", pp_tfn_remove_whitespace, ref_remove_whitespace, " \n\f\xa0" "a\x08"),
    P("trimLeft", pp_tfn_trim_left, ref_trim_left, " \t\xa0" "a"),
    P("trimRight", pp_tfn_trim_right, ref_trim_right, " \t\xa0" "a"),
    P("urlDecodeUni", pp_tfn_url_decode_uni, ref_url_decode_uni_plain, "%uU+0fFg"),
    P("utf8toUnicode", pp_tfn_utf8_to_unicode, ref_utf8_to_unicode, "a\0\x80\xbf\xc3\xe2\xf0\xf5\xed"),
    P("urlDecode", pp_tfn_url_decode, ref_url_decode, "%+2fg"),
    P("urlDecode (form)", pp_tfn_url_decode_form, ref_url_decode_form, "%+2fg"),
    P("normalizePath", pp_tfn_normalise_path2, ref_normalise_path2, "/.\\a"),
    P("normalizePath", pp_tfn_normalise_path2, ref_normalise_path2, "/.ab"),
    P("normalizePathWin", pp_tfn_normalise_path2_win, ref_normalise_path2_win, "/.\\a"),
    P("htmlEntityDecode", pp_tfn_html_entity_decode, ref_html_entity_decode, "&#x;1aq"),
    P("htmlEntityDecode", pp_tfn_html_entity_decode, ref_html_entity_decode, "&#;lt"),
    P("replaceComments", pp_tfn_replace_comments, ref_replace_comments, "/*a "),
    P("cmdLine", pp_tfn_cmd_line, ref_cmd_line, " /(a\"A;\0"),
    P("cmdLine", pp_tfn_cmd_line, ref_cmd_line, " /(ab,^\t"),
};
/* clang-format on */

static void compare(const pair_t *p, const char *in_data, apr_size_t len)
{
    pp_str_t in = { in_data, len }, fast, ref;
    assert_int_equal(p->fast(pool, in, &fast), APR_SUCCESS);
    assert_int_equal(p->ref(pool, in, &ref), APR_SUCCESS);
    bool same = fast.len == ref.len && (ref.len == 0 || memcmp(fast.data, ref.data, ref.len) == 0);
    if (!same || (fast.data == in.data) != (ref.data == in.data)) {
        print_error("%s on %zu bytes:", p->name, len);
        for (apr_size_t i = 0; i < len; i++)
            print_error(" %02x", (unsigned char)in_data[i]);
        print_error("\n  fast (%s) %zu bytes \"%.*s\", reference (%s) %zu bytes \"%.*s\"\n",
                    fast.data == in.data ? "unchanged" : "new", fast.len, (int)fast.len, fast.data,
                    ref.data == in.data ? "unchanged" : "new", ref.len, (int)ref.len, ref.data);
        fail();
    }
    /* a 2.x transformation ends new bytes with a NUL (transforms.h; lowercase is 1.x's, and
     * urlDecode's bytes are the 1.9 normaliser's) */
    if (ref.data != in.data && p->ref != ref_lowercase && p->ref != ref_url_decode &&
        p->ref != ref_url_decode_form)
        assert_int_equal(fast.data[fast.len], '\0');
    calls++;
}

static void test_exhaustive(void **state)
{
    char buf[16];
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        const pair_t *p = &pairs[k];
        apr_size_t n = p->alphabet_len;
        /* up to 5 bytes, more while the count stays below 300,000 */
        for (apr_size_t len = 0, total = 1; len <= 5 || total * n < 300000; len++, total *= n) {
            for (apr_size_t code = 0; code < total; code++) {
                apr_size_t c = code;
                for (apr_size_t i = 0; i < len; i++, c /= n)
                    buf[i] = p->alphabet[c % n];
                compare(p, buf, len);
                if (code % 4096 == 0)
                    apr_pool_clear(pool);
            }
        }
        apr_pool_clear(pool);
    }
    print_message("%lu comparisons\n", calls);
    assert_true(calls > 700000); /* the loops above really ran */
}

static void test_random_long(void **state)
{
    uint64_t seed = 20261207;
    char buf[100];
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        const pair_t *p = &pairs[k];
        for (int round = 0; round < 20000; round++) {
            apr_size_t len = (apr_size_t)pp_test_rnd(&seed) % sizeof buf;
            /* mostly plain text, sometimes a special byte: values that are unchanged, and
             * values whose first change sits anywhere, block boundaries included */
            unsigned rate = (unsigned)(seed >> 20) % 4 == 0 ? 2 : 40;
            for (apr_size_t i = 0; i < len; i++) {
                unsigned r = (unsigned)pp_test_rnd(&seed);
                if (r % rate == 0)
                    buf[i] = p->alphabet[(r / rate) % p->alphabet_len];
                else if (r % 7 == 1)
                    buf[i] = (char)(r >> 8); /* any byte */
                else
                    buf[i] = (char)('a' + (r >> 8) % 26);
            }
            compare(p, buf, len);
            if (round % 1024 == 0)
                apr_pool_clear(pool);
        }
        apr_pool_clear(pool);
    }
}

static int setup(void **state)
{
    apr_initialize();
    return apr_pool_create(&pool, NULL) == APR_SUCCESS ? 0 : -1;
}

static int teardown(void **state)
{
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exhaustive),
        cmocka_unit_test(test_random_long),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
