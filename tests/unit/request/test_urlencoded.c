/*
 * Unit tests for request/urlencoded.c: splitting and decoding of query strings and
 * urlencoded bodies (reference §4.2, §5.2), as tables of vectors. Vectors from the fuzzer
 * live here too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <apr_general.h>
#include <stdlib.h>
#include <string.h>

#include "request/request.h"
#include "util/util.h"

#include "pp_fields.h"

static apr_pool_t *pool;

typedef struct parse_vec_t {
    const char *in;
    apr_size_t in_len;
    unsigned bad;
    apr_size_t count;
    field_vec_t fields[4];
} parse_vec_t;

static const parse_vec_t parse_vectors[] = {
    { IN(""), 0, 0, { { 0 } } },
    { IN("a=1"), 0, 1, { F("a", "1") } },
    { IN("a=1&b=2"), 0, 2, { F("a", "1"), F("b", "2") } },
    { IN("a=1;b=2"), 0, 1, { F("a", "1;b=2") } }, /* ';' is data */
    { IN("a"), 0, 1, { F("a", "") } },
    { IN("a="), 0, 1, { F("a", "") } },
    { IN("=v"), 0, 1, { F("", "v") } },
    { IN("="), 0, 1, { F("", "") } },
    { IN("&&a=1&&"), 0, 1, { F("a", "1") } },
    { IN("&"), 0, 0, { { 0 } } },
    { IN("a=1&a=2&a=3"), 0, 3, { F("a", "1"), F("a", "2"), F("a", "3") } },
    { IN("a=b=c"), 0, 1, { F("a", "b=c") } },
    { IN("a+b=c+d"), 0, 1, { F("a b", "c d") } },
    { IN("%41%42=%63%7e"), 0, 1, { F("AB", "c~") } },
    { IN("%3d=%26&x"), 0, 2, { F("=", "&"), F("x", "") } }, /* decoded separators stay data */
    { IN("a=%2B+"), 0, 1, { F("a", "+ ") } },
    { IN("a=%00b"), 0, 1, { F("a", "\0b") } },
    { IN("%00=%e9%FF"), 0, 1, { F("\0", "\xe9\xff") } },
    { IN("a=%"), 1, 1, { F("a", "%") } },
    { IN("a=%4"), 1, 1, { F("a", "%4") } },
    { IN("a=%zz&b=%4g"), 2, 2, { F("a", "%zz"), F("b", "%4g") } },
    { IN("a=%%41"), 1, 1, { F("a", "%A") } },
    { IN("a=%4&1"), 1, 2, { F("a", "%4"), F("1", "") } }, /* escape cut by '&' */
    { IN("a%=%"), 2, 1, { F("a%", "%") } },
    { IN("a=%2"), 1, 1, { F("a", "%2") } },
    { IN("a=%252f"), 0, 1, { F("a", "%2f") } }, /* one level only */
    { IN("\0=\0"), 0, 1, { F("\0", "\0") } },
};

static void check_parse_vector(size_t idx, const parse_vec_t *v)
{
    apr_pool_t *p;
    apr_pool_create(&p, pool);
    apr_array_header_t *out = apr_array_make(p, 1, sizeof(pp_field_t));
    unsigned bad = 0;
    assert_int_equal(pp_urlencoded_parse(p, (pp_str_t){ v->in, v->in_len }, out, &bad),
                     APR_SUCCESS);
    if (bad != v->bad || (apr_size_t)out->nelts != v->count)
        fail_msg("vector %zu \"%s\": bad %u fields %d, want %u %zu", idx, v->in, bad,
                 out->nelts, v->bad, v->count);
    pp_test_check_fields(idx, v->in, out, v->fields);
    apr_pool_destroy(p);
}

static void test_parse_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(parse_vectors) / sizeof(parse_vectors[0]); i++)
        check_parse_vector(i, &parse_vectors[i]);
}

static void test_parse_appends_and_adds_count(void **state)
{
    apr_array_header_t *out = apr_array_make(pool, 1, sizeof(pp_field_t));
    unsigned bad = 0;
    assert_int_equal(pp_urlencoded_parse(pool, PP_STR("a=%1"), out, &bad), APR_SUCCESS);
    assert_int_equal(pp_urlencoded_parse(pool, PP_STR("b=%&%zz"), out, &bad), APR_SUCCESS);
    assert_int_equal(out->nelts, 3);
    assert_int_equal(bad, 3);
    pp_str_t dec;
    assert_int_equal(pp_url_decode(pool, PP_STR("%"), false, &dec, &bad), APR_SUCCESS);
    assert_int_equal(bad, 4);
    assert_int_equal(pp_urlencoded_parse(pool, PP_STR("c=%"), out, NULL), APR_SUCCESS);
    assert_int_equal(out->nelts, 4);
    assert_int_equal(pp_urlencoded_parse(pool, PP_STR_NULL, out, NULL), APR_SUCCESS);
    assert_int_equal(out->nelts, 4);
}

/* ModSecurity 2's splitting: empty pieces are arguments, an empty last one is not (observed
 * with 2.9.7: "a&&b" 3, "&a=1" 2, "a=1&" 1, "&" 1, "&&" 2, "" 0). */
static void test_parse2_keeps_empty_pieces(void **state)
{
    static const struct { const char *in; int n; } cases[] = {
        { "a&&b", 3 }, { "&a=1", 2 }, { "a=1&", 1 }, { "&", 1 }, { "&&", 2 }, { "", 0 },
        { "a=1&&&b=2", 4 }, { "=&=", 2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        apr_array_header_t *out = apr_array_make(pool, 2, sizeof(pp_field_t));
        assert_int_equal(pp_urlencoded_parse2(pool, (pp_str_t){ cases[i].in, strlen(cases[i].in) }, '&', out, NULL),
                         APR_SUCCESS);
        if (out->nelts != cases[i].n)
            fail_msg("%s: %d arguments, expected %d", cases[i].in, out->nelts, cases[i].n);
    }
    apr_array_header_t *out = apr_array_make(pool, 2, sizeof(pp_field_t));
    assert_int_equal(pp_urlencoded_parse2(pool, PP_STR("a&&b"), '&', out, NULL), APR_SUCCESS);
    assert_int_equal(APR_ARRAY_IDX(out, 1, pp_field_t).name.len, 0);
    assert_int_equal(APR_ARRAY_IDX(out, 1, pp_field_t).value.len, 0);
    (void)state;
}

/* A value with nothing to decode is split over one copy of it (parse_plain): the same fields,
 * NUL-ended, as the decoding path gives the same items when an escape elsewhere sends the
 * value there (random strings over the bytes that split, and an item "x=%41" added after). */
static void test_parse_plain_same_fields(void **state)
{
    static const char alphabet[] = { 'a', 'b', '=', '&', ';', '\0' };
    uint64_t seed = 7;
    for (int round = 0; round < 20000; round++) {
        char in[48];
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        apr_size_t len = (apr_size_t)(seed >> 33) % 40;
        for (apr_size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            in[i] = alphabet[(seed >> 33) % sizeof alphabet];
        }
        memcpy(in + len, "&x=%41", 6);
        for (int two = 0; two < 2; two++) {
            apr_array_header_t *plain = apr_array_make(pool, 1, sizeof(pp_field_t));
            apr_array_header_t *decoded = apr_array_make(pool, 1, sizeof(pp_field_t));
            apr_status_t (*parse)(apr_pool_t *, pp_str_t, char, apr_array_header_t *,
                                  unsigned *) =
                two ? pp_urlencoded_parse2 : pp_urlencoded_parse_sep;
            assert_int_equal(parse(pool, (pp_str_t){ in, len }, '&', plain, NULL), APR_SUCCESS);
            assert_int_equal(parse(pool, (pp_str_t){ in, len + 6 }, '&', decoded, NULL),
                             APR_SUCCESS);
            assert_true(decoded->nelts > plain->nelts);
            for (int k = 0; k < plain->nelts; k++) {
                const pp_field_t *a = &APR_ARRAY_IDX(plain, k, pp_field_t);
                const pp_field_t *b = &APR_ARRAY_IDX(decoded, k, pp_field_t);
                assert_int_equal(a->name.len, b->name.len);
                assert_int_equal(a->value.len, b->value.len);
                assert_memory_equal(a->name.data, b->name.data, a->name.len);
                assert_memory_equal(a->value.data, b->value.data, a->value.len);
                assert_int_equal(a->name.data[a->name.len], '\0');
                assert_int_equal(a->value.data[a->value.len], '\0');
            }
        }
        if (round % 1024 == 0)
            apr_pool_clear(pool);
    }
    (void)state;
}

/* SecArgumentSeparator: the named character splits, '&' is then data. */
static void test_parse_other_separator(void **state)
{
    apr_array_header_t *out = apr_array_make(pool, 2, sizeof(pp_field_t));
    assert_int_equal(pp_urlencoded_parse_sep(pool, PP_STR("a=1&b=2;c=3"), ';', out, NULL),
                     APR_SUCCESS);
    assert_int_equal(out->nelts, 2);
    pp_field_t *f = &APR_ARRAY_IDX(out, 0, pp_field_t);
    assert_string_equal(f->name.data, "a");
    assert_string_equal(f->value.data, "1&b=2");
    f = &APR_ARRAY_IDX(out, 1, pp_field_t);
    assert_string_equal(f->name.data, "c");
    assert_string_equal(f->value.data, "3");
}

static void test_parse_rejects_wrong_array(void **state)
{
    apr_array_header_t *wrong = apr_array_make(pool, 1, sizeof(char *));
    assert_int_equal(pp_urlencoded_parse(pool, PP_STR("a=1"), wrong, NULL), APR_EINVAL);
    assert_int_equal(wrong->nelts, 0);
    assert_int_equal(pp_urlencoded_parse(pool, PP_STR("a=1"), NULL, NULL), APR_EINVAL);
}

typedef struct decode_vec_t {
    const char *in;
    apr_size_t in_len;
    bool plus;
    const char *want;
    apr_size_t want_len;
    unsigned bad;
    bool same; /* no copy expected */
} decode_vec_t;

static const decode_vec_t decode_vectors[] = {
    { IN(""), true, IN(""), 0, true },
    { IN("abc"), true, IN("abc"), 0, true },
    { IN("a+b"), false, IN("a+b"), 0, true },
    { IN("a+b"), true, IN("a b"), 0, false },
    { IN("%41+%42"), false, IN("A+B"), 0, false },
    { IN("%41+%42"), true, IN("A B"), 0, false },
    { IN("%"), true, IN("%"), 1, false },
    { IN("a%2"), false, IN("a%2"), 1, false },
    { IN("%g0%0g%00"), false, IN("%g0%0g\0"), 2, false },
    { IN("%fF%Ff"), false, IN("\xff\xff"), 0, false },
    { IN("a\0b"), true, IN("a\0b"), 0, true },
};

static void test_url_decode_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(decode_vectors) / sizeof(decode_vectors[0]); i++) {
        const decode_vec_t *v = &decode_vectors[i];
        pp_str_t in = { v->in, v->in_len }, out;
        unsigned bad = 0;
        assert_int_equal(pp_url_decode(pool, in, v->plus, &out, &bad), APR_SUCCESS);
        if (out.len != v->want_len || memcmp(out.data, v->want, v->want_len) ||
            bad != v->bad || (out.data == in.data) != v->same)
            fail_msg("decode vector %zu \"%s\"", i, v->in);
        if (!v->same)
            assert_int_equal(out.data[out.len], '\0');
    }
}

/* The decoder (sixteen bytes at a time up to a '%') against the plain byte loop, over random
 * strings of the bytes it treats specially, at every length and offset around a block. */
static apr_size_t reference_decode(char *dst, const char *src, apr_size_t len, bool plus,
                                   unsigned *bad)
{
    apr_size_t o = 0;
    for (apr_size_t i = 0; i < len; i++) {
        char c = src[i];
        int hi = c == '%' && i + 2 < len ? pp_hex_value((unsigned char)src[i + 1]) : -1;
        int lo = hi >= 0 ? pp_hex_value((unsigned char)src[i + 2]) : -1;
        if (c == '%' && lo >= 0) {
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '%') {
            (*bad)++;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        dst[o++] = c;
    }
    return o;
}

static void test_url_decode_random(void **state)
{
    static const char alphabet[] = { '%', '%', '+', '+', 'a', '0', 'f', 'F', 'G', ' ', '\0', 'x', '2' };
    unsigned seed = 7;
    char in[80], want[80];
    for (int round = 0; round < 20000; round++) {
        seed = seed * 1103515245u + 12345u;
        apr_size_t len = (seed >> 16) % sizeof in;
        bool plus = (seed >> 8) & 1;
        for (apr_size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            /* Mostly plain letters, so blocks without a '%' occur. */
            unsigned r = (seed >> 16) % 40;
            in[i] = r < sizeof alphabet ? alphabet[r] : (char)('a' + r % 26);
        }
        unsigned bad = 0, want_bad = 0;
        pp_str_t out;
        assert_int_equal(pp_url_decode(pool, (pp_str_t){ in, len }, plus, &out, &bad),
                         APR_SUCCESS);
        apr_size_t n = reference_decode(want, in, len, plus, &want_bad);
        if (out.len != n || memcmp(out.data, want, n) != 0 || bad != want_bad)
            fail_msg("round %d: \"%.*s\" (plus %d) decoded to \"%.*s\" (%u bad), expected "
                     "\"%.*s\" (%u bad)", round, (int)len, in, plus, (int)out.len, out.data, bad,
                     (int)n, want, want_bad);
    }
}

static void test_url_decode_null_input(void **state)
{
    pp_str_t out;
    assert_int_equal(pp_url_decode(pool, PP_STR_NULL, true, &out, NULL), APR_SUCCESS);
    assert_int_equal(out.len, 0);
}

int main(void)
{
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_vectors),
        cmocka_unit_test(test_parse_appends_and_adds_count),
        cmocka_unit_test(test_parse_other_separator),
        cmocka_unit_test(test_parse_plain_same_fields),
        cmocka_unit_test(test_url_decode_random),
        cmocka_unit_test(test_parse2_keeps_empty_pieces),
        cmocka_unit_test(test_parse_rejects_wrong_array),
        cmocka_unit_test(test_url_decode_vectors),
        cmocka_unit_test(test_url_decode_null_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
