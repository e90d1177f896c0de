/*
 * libFuzzer target for the 1.9 normaliser and the validators (rules/transforms/url.c,
 * path.c, simple.c, rules/operators/validate.c; reference §5). The first byte gives the
 * normaliser's flags and the byte range for the range check; the rest is the value. Each
 * function is compared with a slow, obviously correct reference written here: the
 * normaliser with the steps of §5.1 run one after another over the whole value, UTF-8 with
 * the table of well-formed sequences of the Unicode standard, the simple transformations
 * with one-line loops. A copy must happen exactly when the output differs from the input.
 */
#include <apr_general.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/operators/validate.h"
#include "rules/transforms/transforms.h"
#include "fuzz.h"

static apr_pool_t *root, *scratch;

#define N19_ALL (PP_N19_BACKSLASH | PP_N19_URLDECODE | PP_N19_PLUS | PP_N19_PATH | PP_N19_NULLS)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_pools_init(&root, &scratch);
    return 0;
}

/* ---- reference normaliser ------------------------------------------------------------ */

static int ref_hex(char c)
{
    const char *digits = "0123456789abcdef", *d;
    if (c >= 'A' && c <= 'F')
        c = (char)(c - 'A' + 'a');
    return (c && (d = strchr(digits, c))) ? (int)(d - digits) : -1;
}

static apr_size_t ref_decode(char *s, apr_size_t len, unsigned flags)
{
    apr_size_t o = 0;
    for (apr_size_t i = 0; i < len; i++) {
        if ((flags & PP_N19_URLDECODE) && s[i] == '%' && i + 2 < len && ref_hex(s[i + 1]) >= 0 &&
            ref_hex(s[i + 2]) >= 0) {
            s[o++] = (char)(ref_hex(s[i + 1]) * 16 + ref_hex(s[i + 2]));
            i += 2;
        } else {
            s[o++] = ((flags & PP_N19_PLUS) && s[i] == '+') ? ' ' : s[i];
        }
    }
    return o;
}

/* Replaces pat by its first byte until none is left. After a replacement at i only a match
 * that reaches past i can be new, so the search resumes just before it. */
static apr_size_t ref_shrink_all(char *s, apr_size_t len, const char *pat, apr_size_t plen)
{
    for (apr_size_t i = 0; i + plen <= len;) {
        if (memcmp(s + i, pat, plen) != 0) {
            i++;
            continue;
        }
        memmove(s + i + 1, s + i + plen, len - i - plen);
        len -= plen - 1;
        i = i + 2 > plen ? i + 2 - plen : 0;
    }
    return len;
}

static apr_size_t ref_normalise19(char *s, apr_size_t len, unsigned flags)
{
    for (apr_size_t i = 0; (flags & PP_N19_BACKSLASH) && i < len; i++)
        if (s[i] == '\\')
            s[i] = '/';
    len = ref_decode(s, len, flags);
    if (flags & PP_N19_PATH) {
        len = ref_shrink_all(s, len, "/./", 3);
        len = ref_shrink_all(s, len, "//", 2);
    }
    for (apr_size_t i = 0; (flags & PP_N19_NULLS) && i < len; i++)
        if (s[i] == '\0')
            s[i] = ' ';
    return len;
}

/* got has the bytes want, and is a copy exactly when they differ from the input. */
static void check_result(pp_str_t in, pp_str_t got, const char *want, apr_size_t want_len)
{
    CHECK(got.len == want_len && (!want_len || memcmp(got.data, want, want_len) == 0));
    bool unchanged = want_len == in.len && (!in.len || memcmp(want, in.data, in.len) == 0);
    CHECK(unchanged == (got.data == in.data));
}

static void check_n19(pp_str_t in, pp_str_t got, unsigned flags)
{
    char *want = apr_palloc(scratch, in.len + 1);
    if (in.len)
        memcpy(want, in.data, in.len);
    check_result(in, got, want, ref_normalise19(want, in.len, flags));
}

/* ---- reference simple transformations ------------------------------------------------ */

static bool ref_ws(char c)
{
    return c && strchr(" \t\n\v\f\r", c) != NULL;
}

static void check_simple(pp_str_t in)
{
    char *want = apr_palloc(scratch, in.len + 1);
    apr_size_t n = 0, start = 0, end = in.len;
    pp_str_t got;

    for (apr_size_t i = 0; i < in.len; i++)
        want[i] = (in.data[i] >= 'A' && in.data[i] <= 'Z') ? (char)(in.data[i] | 0x20) : in.data[i];
    CHECK(pp_tfn_lowercase(scratch, in, &got) == APR_SUCCESS);
    check_result(in, got, want, in.len);

    for (apr_size_t i = 0; i < in.len; i++)
        if (in.data[i] != '\0')
            want[n++] = in.data[i];
    CHECK(pp_tfn_remove_nulls(scratch, in, &got) == APR_SUCCESS);
    check_result(in, got, want, n);

    n = 0;
    for (apr_size_t i = 0; i < in.len; i++)
        if (!ref_ws(in.data[i]))
            want[n++] = in.data[i];
        else if (i == 0 || !ref_ws(in.data[i - 1]))
            want[n++] = ' ';
    CHECK(pp_tfn_compress_whitespace(scratch, in, &got) == APR_SUCCESS);
    check_result(in, got, want, n);

    while (start < end && ref_ws(in.data[start]))
        start++;
    while (end > start && ref_ws(in.data[end - 1]))
        end--;
    CHECK(pp_tfn_trim(scratch, in, &got) == APR_SUCCESS);
    check_result(in, got, in.data + start, end - start);
}

static void check_transforms(pp_str_t in, unsigned flags)
{
    static const struct {
        pp_tfn_apply_fn fn;
        unsigned flags;
    } subsets[] = {
        { pp_tfn_url_decode, PP_N19_URLDECODE },
        { pp_tfn_url_decode_form, PP_N19_URLDECODE | PP_N19_PLUS },
        { pp_tfn_normalise_path, PP_N19_PATH },
        { pp_tfn_normalise_path_win, PP_N19_BACKSLASH | PP_N19_PATH },
        { pp_tfn_replace_nulls, PP_N19_NULLS },
    };
    pp_str_t got;
    CHECK(pp_tfn_normalise19(scratch, in, flags, &got) == APR_SUCCESS);
    check_n19(in, got, flags);
    for (size_t k = 0; k < sizeof(subsets) / sizeof(subsets[0]); k++) {
        CHECK(subsets[k].fn(scratch, in, &got) == APR_SUCCESS);
        check_n19(in, got, subsets[k].flags);
    }
    check_simple(in);
}

/* ---- reference validators -------------------------------------------------------------- */

static bool ref_url_ok(pp_str_t in)
{
    for (apr_size_t i = 0; i < in.len; i++)
        if (in.data[i] == '%' && (i + 2 >= in.len || ref_hex(in.data[i + 1]) < 0 ||
                                  ref_hex(in.data[i + 2]) < 0))
            return false;
    return true;
}

static bool ref_utf8_ok(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned c = s[i], lo = 0x80, hi = 0xBF;
        size_t n;
        if (c <= 0x7F) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 3;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 4;
        else
            return false;
        lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : lo;
        hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : hi;
        if (i + n > len || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return false;
        i += n;
    }
    return true;
}

static void check_validators(pp_str_t in, unsigned char sel)
{
    apr_size_t off = 0;
    bool ok = pp_validate_url_encoding(in, &off);
    CHECK(ok == ref_url_ok(in));
    CHECK(ok || (off < in.len && in.data[off] == '%'));

    const char *why = NULL;
    ok = pp_validate_utf8(in, &why, &off);
    CHECK(ok == ref_utf8_ok((const unsigned char *)in.data, in.len));
    CHECK(ok || (why && off < in.len));

    /* A range from the selector byte: min in 0..31, max in 96..255. */
    int min = sel & 31, max = 96 + (sel >> 5) * 23, bad = -1, ref_bad = -1;
    for (apr_size_t i = 0; i < in.len && ref_bad < 0; i++) {
        int c = (unsigned char)in.data[i];
        if (c < min || c > max)
            ref_bad = c;
    }
    ok = pp_validate_byte_range(in, min, max, &bad);
    CHECK(ok == (ref_bad < 0) && (ok || bad == ref_bad));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    pp_str_t in = { (const char *)data + 1, size - 1 };
    check_transforms(in, data[0] & N19_ALL);
    check_validators(in, data[0]);
    apr_pool_clear(scratch);
    return 0;
}
