/*
 * Unit tests for rules/operators/validate.c (reference §5.2): vectors for URL encoding,
 * UTF-8 (each error class) and byte ranges, and a comparison of the UTF-8 check with a
 * table-driven reference (the well-formed byte sequences of the Unicode standard) on every
 * 1- and 2-byte input and on every 3-byte input that starts with a non-ASCII byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <apr_general.h>
#include <stdlib.h>
#include <string.h>

#include "rules/operators/validate.h"

#define IN(s) s, sizeof(s) - 1

/* ---- URL encoding ---------------------------------------------------------------------- */

typedef struct url_vec_t {
    const char *in;
    apr_size_t in_len;
    bool ok;
    apr_size_t offset;
} url_vec_t;

static const url_vec_t url_vectors[] = {
    { IN(""), true, 0 },        { IN("abc+"), true, 0 },    { IN("%41"), true, 0 },
    { IN("%4a%4A%fF%00"), true, 0 }, { IN("100%25"), true, 0 }, { IN("\0%00\0"), true, 0 },
    { IN("%"), false, 0 },      { IN("a%"), false, 1 },     { IN("%4"), false, 0 },
    { IN("a%4"), false, 1 },    { IN("%g1"), false, 0 },    { IN("%1g"), false, 0 },
    { IN("%41%"), false, 3 },   { IN("%41%4"), false, 3 },  { IN("ab%zz%41"), false, 2 },
    { IN("%%41"), false, 0 },   { IN("%\0" "0"), false, 0 }, { IN("%41%+1"), false, 3 },
};

static void test_url_encoding(void **state)
{
    for (size_t i = 0; i < sizeof(url_vectors) / sizeof(url_vectors[0]); i++) {
        const url_vec_t *v = &url_vectors[i];
        apr_size_t off = 999;
        bool ok = pp_validate_url_encoding((pp_str_t){ v->in, v->in_len }, &off);
        if (ok != v->ok || (!ok && off != v->offset))
            fail_msg("url vector %zu [%s]: ok %d offset %zu", i, v->in, ok, off);
        assert_int_equal(pp_validate_url_encoding((pp_str_t){ v->in, v->in_len }, NULL), v->ok);
    }
    assert_true(pp_validate_url_encoding(PP_STR_NULL, NULL));
}

/* ---- UTF-8 ----------------------------------------------------------------------------- */

#define NEB "not enough bytes"
#define IB "invalid byte"
#define OL "overlong character"
#define ICP "invalid code point"

typedef struct utf8_vec_t {
    const char *in;
    apr_size_t in_len;
    const char *why; /* NULL: valid */
    apr_size_t offset;
} utf8_vec_t;

static const utf8_vec_t utf8_vectors[] = {
    { IN(""), NULL, 0 },
    { IN("abc\0\x7f"), NULL, 0 },
    { IN("\xc2\x80\xdf\xbf"), NULL, 0 },                 /* U+0080, U+07FF */
    { IN("caf\xc3\xa9"), NULL, 0 },
    { IN("\xe0\xa0\x80\xe2\x82\xac"), NULL, 0 },         /* U+0800, euro sign */
    { IN("\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"), NULL, 0 }, /* around the surrogates, U+FFFF */
    { IN("\xf0\x90\x80\x80\xf0\x9f\x98\x80"), NULL, 0 }, /* U+10000, an emoji */
    { IN("\xf4\x8f\xbf\xbf"), NULL, 0 },                 /* U+10FFFF */
    { IN("\x80"), IB, 0 },
    { IN("a\xbf"), IB, 1 },
    { IN("\xff"), IB, 0 },
    { IN("\xfe\xff"), IB, 0 },
    { IN("\xf8\x88\x80\x80\x80"), IB, 0 },               /* the old 5-byte form */
    { IN("\xfc\x84\x80\x80\x80\x80"), IB, 0 },           /* the old 6-byte form */
    { IN("\xc3"), NEB, 0 },
    { IN("a\xe2\x82"), NEB, 1 },
    { IN("\xf0\x9f\x98"), NEB, 0 },
    { IN("ok\xc3\xa9then\xc3"), NEB, 8 },
    { IN("\xc3" "A"), IB, 0 },
    { IN("\xc3\xc3\xa9"), IB, 0 },
    { IN("\xe2\x82" "A"), IB, 0 },
    { IN("\xe2" "A\x82"), IB, 0 },
    { IN("\xe2" "A"), IB, 0 },                           /* bad byte wins over truncation */
    { IN("\xf0\x9f\x98" "A"), IB, 0 },
    { IN("\xc0\xaf"), OL, 0 },                           /* overlong '/' */
    { IN("\xc0\x80"), OL, 0 },                           /* overlong NUL */
    { IN("\xc1\xbf"), OL, 0 },
    { IN("x\xe0\x80\xaf"), OL, 1 },
    { IN("\xe0\x9f\xbf"), OL, 0 },
    { IN("\xf0\x80\x80\xaf"), OL, 0 },
    { IN("\xf0\x8f\xbf\xbf"), OL, 0 },
    { IN("\xed\xa0\x80"), ICP, 0 },                      /* U+D800 */
    { IN("\xed\xbf\xbf"), ICP, 0 },                      /* U+DFFF */
    { IN("\xf4\x90\x80\x80"), ICP, 0 },                  /* U+110000 */
    { IN("\xf5\x80\x80\x80"), ICP, 0 },
    { IN("\xf7\xbf\xbf\xbf"), ICP, 0 },
};

static void test_utf8_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(utf8_vectors) / sizeof(utf8_vectors[0]); i++) {
        const utf8_vec_t *v = &utf8_vectors[i];
        const char *why = NULL;
        apr_size_t off = 999;
        bool ok = pp_validate_utf8((pp_str_t){ v->in, v->in_len }, &why, &off);
        if (ok != !v->why || (!ok && (strcmp(why, v->why) != 0 || off != v->offset)))
            fail_msg("utf8 vector %zu: ok %d why %s offset %zu", i, ok, why ? why : "-", off);
        assert_int_equal(pp_validate_utf8((pp_str_t){ v->in, v->in_len }, NULL, NULL), ok);
    }
    assert_true(pp_validate_utf8(PP_STR_NULL, NULL, NULL));
}

/* Well-formed UTF-8 byte sequences as the Unicode standard tabulates them (first byte, then
 * the allowed range of the second byte; later bytes are always 80..BF). */
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

static void check_utf8_ref(const unsigned char *s, size_t len)
{
    bool ok = pp_validate_utf8((pp_str_t){ (const char *)s, len }, NULL, NULL);
    if (ok != ref_utf8_ok(s, len))
        fail_msg("utf8 %zu bytes %02x %02x %02x %02x: ours %d", len, s[0], len > 1 ? s[1] : 0,
                 len > 2 ? s[2] : 0, len > 3 ? s[3] : 0, ok);
}

static void test_utf8_against_reference(void **state)
{
    static const unsigned char tails[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
                                           0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xf4, 0xff };
    unsigned char s[4];
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        check_utf8_ref(s, 1);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            check_utf8_ref(s, 2);
            for (unsigned c = 0; a >= 0x80 && c < 256; c++) {
                s[2] = (unsigned char)c;
                check_utf8_ref(s, 3);
            }
            for (size_t t = 0; a >= 0xF0 && t < sizeof(tails); t++) {
                s[2] = tails[t];
                for (size_t u = 0; u < sizeof(tails); u++) {
                    s[3] = tails[u];
                    check_utf8_ref(s, 4);
                }
            }
        }
    }
}

/* ---- byte range ------------------------------------------------------------------------ */

typedef struct range_vec_t {
    const char *in;
    apr_size_t in_len;
    int min, max;
    bool ok;
    int bad;
} range_vec_t;

static const range_vec_t range_vectors[] = {
    { IN("abc"), 32, 126, true, 0 },
    { IN("~ "), 32, 126, true, 0 },
    { IN(""), 32, 126, true, 0 },
    { IN("\xff\0"), 0, 255, true, 0 },
    { IN("\xff\0"), -5, 300, true, 0 },
    { IN("\0"), 0, 255, true, 0 },
    { IN("a\tb"), 32, 126, false, 9 },
    { IN("\x7f"), 32, 126, false, 127 },
    { IN("\x1f"), 32, 126, false, 31 },
    { IN("\0"), 1, 255, false, 0 },
    { IN("a"), 98, 99, false, 97 },
    { IN("\x80"), 0, 127, false, 128 },
    { IN("ok\xff"), 1, 254, false, 255 },
    { IN("abc"), 10, 5, false, 'a' }, /* an empty range rejects everything */
    { IN(""), 10, 5, true, 0 },
};

static void test_byte_range(void **state)
{
    for (size_t i = 0; i < sizeof(range_vectors) / sizeof(range_vectors[0]); i++) {
        const range_vec_t *v = &range_vectors[i];
        int bad = -1;
        bool ok = pp_validate_byte_range((pp_str_t){ v->in, v->in_len }, v->min, v->max, &bad);
        if (ok != v->ok || (!ok && bad != v->bad))
            fail_msg("range vector %zu: ok %d bad %d", i, ok, bad);
        assert_int_equal(pp_validate_byte_range((pp_str_t){ v->in, v->in_len }, v->min, v->max,
                                                NULL),
                         v->ok);
    }
    assert_true(pp_validate_byte_range(PP_STR_NULL, 32, 126, NULL));
}

int main(void)
{
    apr_initialize();
    atexit(apr_terminate);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_encoding),
        cmocka_unit_test(test_utf8_vectors),
        cmocka_unit_test(test_utf8_against_reference),
        cmocka_unit_test(test_byte_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
