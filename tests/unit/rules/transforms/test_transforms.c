/*
 * Unit tests for rules/transforms/ (url.c, path.c, simple.c): vectors per transformation,
 * vectors for the 1.9 normaliser per flag set (reference §5.1), and an exhaustive comparison
 * of the one-pass normaliser with a slow reference that runs each step over the whole value
 * in order, on every short string over the bytes that matter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "rules/transforms/transforms.h"

#include "pp_random.h"

static apr_pool_t *pool;

#define IN(s) s, sizeof(s) - 1
#define ALL (PP_N19_BACKSLASH | PP_N19_URLDECODE | PP_N19_PLUS | PP_N19_PATH | PP_N19_NULLS)
#define U PP_N19_URLDECODE
#define P PP_N19_PATH

/* Output equals input exactly when no copy was made: every step that does something makes
 * the value shorter or changes a byte. */
static bool result_ok(pp_str_t in, pp_str_t out, const char *want, apr_size_t want_len)
{
    if (out.len != want_len || (want_len && memcmp(out.data, want, want_len)))
        return false;
    bool unchanged = in.len == want_len && (!want_len || !memcmp(in.data, want, want_len));
    return unchanged == (out.data == in.data);
}

static void check_result(const char *what, size_t idx, pp_str_t in, pp_str_t out,
                         const char *want, apr_size_t want_len)
{
    if (!result_ok(in, out, want, want_len))
        fail_msg("%s vector %zu: got %zu bytes [%.*s]%s", what, idx, out.len, (int)out.len,
                 out.data, out.data == in.data ? " (not copied)" : " (copied)");
}

/* ---- single transformations -------------------------------------------------------- */

typedef struct tfn_vec_t {
    const char *name;
    pp_tfn_apply_fn fn;
    const char *in;
    apr_size_t in_len;
    const char *want;
    apr_size_t want_len;
} tfn_vec_t;

#define T(fn, in, want) { #fn, fn, IN(in), IN(want) }

static const tfn_vec_t tfn_vectors[] = {
    T(pp_tfn_url_decode, "", ""),
    T(pp_tfn_url_decode, "abc", "abc"),
    T(pp_tfn_url_decode, "%41+%42", "A+B"),
    T(pp_tfn_url_decode, "%", "%"),
    T(pp_tfn_url_decode, "%4", "%4"),
    T(pp_tfn_url_decode, "%zz%4g", "%zz%4g"),
    T(pp_tfn_url_decode, "%%41", "%A"),
    T(pp_tfn_url_decode, "%252e", "%2e"),
    T(pp_tfn_url_decode, "%00%ff%Fe", "\0\xff\xfe"),
    T(pp_tfn_url_decode, "a%2", "a%2"),
    T(pp_tfn_url_decode_form, "a+%2B", "a +"),
    T(pp_tfn_url_decode_form, "+++", "   "),
    T(pp_tfn_url_decode_form, "%2", "%2"),
    T(pp_tfn_normalise_path, "/a//b/./c", "/a/b/c"),
    T(pp_tfn_normalise_path, "/a/b", "/a/b"),
    T(pp_tfn_normalise_path, "////", "/"),
    T(pp_tfn_normalise_path, "/./././x", "/x"),
    T(pp_tfn_normalise_path, "/.//./", "/"),
    T(pp_tfn_normalise_path, "/a/../b", "/a/../b"),
    T(pp_tfn_normalise_path, "/a/..//b", "/a/../b"),
    T(pp_tfn_normalise_path, "./a/.", "./a/."),
    T(pp_tfn_normalise_path, "/.a/b./", "/.a/b./"),
    T(pp_tfn_normalise_path, "a\\\\b", "a\\\\b"),
    T(pp_tfn_normalise_path, "%2f%2f", "%2f%2f"),
    T(pp_tfn_normalise_path_win, "\\a\\\\b\\.\\c", "/a/b/c"),
    T(pp_tfn_normalise_path_win, "a\\b", "a/b"),
    T(pp_tfn_normalise_path_win, "/a/b", "/a/b"),
    T(pp_tfn_normalise_path_win, "/.\\", "/"),
    T(pp_tfn_replace_nulls, "a\0b\0", "a b "),
    T(pp_tfn_replace_nulls, "ab", "ab"),
    T(pp_tfn_replace_nulls, "", ""),
    T(pp_tfn_remove_nulls, "\0a\0\0b\0", "ab"),
    T(pp_tfn_remove_nulls, "ab", "ab"),
    T(pp_tfn_remove_nulls, "\0", ""),
    T(pp_tfn_lowercase, "AbC", "abc"),
    T(pp_tfn_lowercase, "abc-123", "abc-123"),
    T(pp_tfn_lowercase, "\xc3\x89@[`{", "\xc3\x89@[`{"),
    T(pp_tfn_lowercase, "A\0Z", "a\0z"),
    T(pp_tfn_compress_whitespace, "a  b", "a b"),
    T(pp_tfn_compress_whitespace, "a\tb", "a b"),
    T(pp_tfn_compress_whitespace, "a b c", "a b c"),
    T(pp_tfn_compress_whitespace, " \t\n a \r\n", " a "),
    T(pp_tfn_compress_whitespace, "  ", " "),
    T(pp_tfn_compress_whitespace, "\v\f", " "),
    T(pp_tfn_compress_whitespace, "a\xa0\x85" "b", "a\xa0\x85" "b"),
    T(pp_tfn_compress_whitespace, "", ""),
    T(pp_tfn_trim, "  a b \t", "a b"),
    T(pp_tfn_trim, "ab", "ab"),
    T(pp_tfn_trim, "   ", ""),
    T(pp_tfn_trim, "", ""),
    T(pp_tfn_trim, "\na\r", "a"),
    T(pp_tfn_trim, "\0a\0", "\0a\0"),
    T(pp_tfn_trim, "ab ", "ab"), /* same start, shorter: still a copy */
};

static void test_tfn_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(tfn_vectors) / sizeof(tfn_vectors[0]); i++) {
        const tfn_vec_t *v = &tfn_vectors[i];
        pp_str_t in = { v->in, v->in_len }, out = PP_STR_NULL;
        assert_int_equal(v->fn(pool, in, &out), APR_SUCCESS);
        check_result(v->name, i, in, out, v->want, v->want_len);
    }
}

static void test_null_input(void **state)
{
    static const pp_tfn_apply_fn fns[] = {
        pp_tfn_url_decode,    pp_tfn_url_decode_form, pp_tfn_normalise_path,
        pp_tfn_normalise_path_win, pp_tfn_replace_nulls, pp_tfn_remove_nulls,
        pp_tfn_lowercase,     pp_tfn_compress_whitespace, pp_tfn_trim,
    };
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        pp_str_t out = PP_STR("x");
        assert_int_equal(fns[i](pool, PP_STR_NULL, &out), APR_SUCCESS);
        assert_null(out.data);
        assert_int_equal(out.len, 0);
    }
    pp_str_t out = PP_STR("x");
    assert_int_equal(pp_tfn_normalise19(pool, PP_STR_NULL, ALL, &out), APR_SUCCESS);
    assert_null(out.data);
}

/* ---- the 1.9 normaliser -------------------------------------------------------------- */

typedef struct n19_vec_t {
    unsigned flags;
    const char *in;
    apr_size_t in_len;
    const char *want;
    apr_size_t want_len;
} n19_vec_t;

static const n19_vec_t n19_vectors[] = {
    { ALL, IN(""), IN("") },
    { ALL, IN("/index.html?a=b"), IN("/index.html?a=b") },
    { 0, IN("a//b%41+\\\0"), IN("a//b%41+\\\0") },
    { U, IN("%41"), IN("A") },
    { U, IN("a+b"), IN("a+b") },
    { U | PP_N19_PLUS, IN("a+b"), IN("a b") },
    { U | PP_N19_PLUS, IN("%2b"), IN("+") },
    { PP_N19_PLUS, IN("%41+"), IN("%41 ") },
    { U, IN("%"), IN("%") },
    { U, IN("%4"), IN("%4") },
    { U, IN("%%41"), IN("%A") },
    { U, IN("%zz"), IN("%zz") },
    { U, IN("a%00b"), IN("a\0b") },
    { P, IN("/a/./b"), IN("/a/b") },
    { P, IN("/a//b///c"), IN("/a/b/c") },
    { P, IN("/././"), IN("/") },
    { P, IN("/.//./"), IN("/") },
    { P, IN("//./"), IN("/") },
    { P, IN("/a/../b"), IN("/a/../b") },
    { P, IN("./a/."), IN("./a/.") },
    { P, IN("/a/.b/"), IN("/a/.b/") },
    { P, IN("/a/..//b"), IN("/a/../b") },
    { P, IN("/a%2f%2fb"), IN("/a%2f%2fb") },
    { U | P, IN("/a%2f%2fb"), IN("/a/b") },
    { U | P, IN("/a/%2e/b"), IN("/a/b") },
    { U | P, IN("%2f.%2f"), IN("/") },
    { U | P, IN("%2f%2e%2f%2e%2f"), IN("/") },
    { U | P, IN("/%252f/"), IN("/%2f/") },
    { U | P, IN("/a/%2e%2e/b"), IN("/a/../b") },
    { PP_N19_NULLS, IN("a\0b"), IN("a b") },
    { U | PP_N19_NULLS, IN("a%00b"), IN("a b") },
    { PP_N19_BACKSLASH, IN("a\\b"), IN("a/b") },
    { PP_N19_BACKSLASH | P, IN("\\a\\.\\\\b"), IN("/a/b") },
    { PP_N19_BACKSLASH | U | P, IN("/a%5c%5cb"), IN("/a\\\\b") },
    /* NUL → space comes after the path steps, so "/%00/" keeps both slashes */
    { ALL, IN("/%00/"), IN("/ /") },
    { ALL, IN("%2f%00%2e%2f+"), IN("/ ./ ") },
    { ALL, IN("\\.%2F%2f+%00x"), IN("/  x") },
};

static void test_n19_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(n19_vectors) / sizeof(n19_vectors[0]); i++) {
        const n19_vec_t *v = &n19_vectors[i];
        pp_str_t in = { v->in, v->in_len }, out;
        assert_int_equal(pp_tfn_normalise19(pool, in, v->flags, &out), APR_SUCCESS);
        check_result("normalise19", i, in, out, v->want, v->want_len);
    }
}

/* ---- slow reference: each step of §5.1 over the whole value, in order ------------------ */

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

/* Replaces the first pat (plen bytes) by its first byte, until none is left. */
static apr_size_t ref_shrink_all(char *s, apr_size_t len, const char *pat, apr_size_t plen)
{
    for (apr_size_t i = 0; i + plen <= len;) {
        if (memcmp(s + i, pat, plen) != 0) {
            i++;
            continue;
        }
        memmove(s + i + 1, s + i + plen, len - i - plen);
        len -= plen - 1;
        i = 0;
    }
    return len;
}

/* s has room for len bytes; returns the new length. */
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

static void compare_with_ref(apr_pool_t *p, const char *in, apr_size_t len, unsigned flags,
                             pp_str_t got)
{
    char want[128];
    assert_true(len <= sizeof want);
    memcpy(want, in, len);
    apr_size_t want_len = ref_normalise19(want, len, flags);
    if (!result_ok((pp_str_t){ in, len }, got, want, want_len))
        check_result(apr_psprintf(p, "flags %#x [%.*s] len %" APR_SIZE_T_FMT, flags, (int)len,
                                  in, len),
                     0, (pp_str_t){ in, len }, got, want, want_len);
}

/* Every other transformation that is a subset of the normaliser must agree with it. */
static void compare_subsets(apr_pool_t *p, const char *in, apr_size_t len)
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
    for (size_t k = 0; k < sizeof(subsets) / sizeof(subsets[0]); k++) {
        pp_str_t got;
        subsets[k].fn(p, (pp_str_t){ in, len }, &got);
        compare_with_ref(p, in, len, subsets[k].flags, got);
    }
}

/* All strings of up to 5 bytes over the bytes any step reacts to, under all 32 flag sets. */
static void test_n19_exhaustive(void **state)
{
    static const char alphabet[] = { '/', '.', '%', '2', 'e', 'f', '\\', '+', '\0' };
    const apr_size_t na = sizeof(alphabet), max_len = 5;
    apr_pool_t *p;
    apr_pool_create(&p, pool);
    unsigned long checked = 0;
    for (apr_size_t len = 0; len <= max_len; len++) {
        apr_size_t combos = 1;
        for (apr_size_t k = 0; k < len; k++)
            combos *= na;
        for (apr_size_t c = 0; c < combos; c++) {
            char in[8];
            for (apr_size_t k = 0, x = c; k < len; k++, x /= na)
                in[k] = alphabet[x % na];
            for (unsigned flags = 0; flags <= ALL; flags++) {
                if (flags & ~ALL)
                    continue;
                pp_str_t got;
                pp_tfn_normalise19(p, (pp_str_t){ in, len }, flags, &got);
                compare_with_ref(p, in, len, flags, got);
                checked++;
            }
            compare_subsets(p, in, len);
            apr_pool_clear(p);
        }
    }
    assert_true(checked > 1000000);
    apr_pool_destroy(p);
}

/* Long values: random strings of up to 80 bytes, mostly plain letters with two special bytes
 * per round (so runs such as "//" sit inside otherwise plain words), against the reference. */
static void test_n19_long_values(void **state)
{
    static const char special[] = { '/', '.', '%', '2', 'e', 'f', '\\', '+', '\0' };
    apr_pool_t *p;
    apr_pool_create(&p, pool);
    uint64_t seed = 12345;
#define NEXT() ((unsigned)pp_test_rnd(&seed))
    for (int round = 0; round < 200000; round++) {
        char in[80], pick[2] = { special[NEXT() % sizeof special], special[NEXT() % sizeof special] };
        apr_size_t len = NEXT() % sizeof in;
        for (apr_size_t k = 0; k < len; k++) {
            unsigned r = NEXT();
            in[k] = r % 4 == 0 ? pick[(r >> 4) & 1] : (char)('a' + (r >> 8) % 26);
        }
        unsigned flags = NEXT() & ALL;
        pp_str_t got;
        pp_tfn_normalise19(p, (pp_str_t){ in, len }, flags, &got);
        compare_with_ref(p, in, len, flags, got);
        apr_pool_clear(p);
    }
#undef NEXT
    apr_pool_destroy(p);
}

int main(void)
{
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tfn_vectors),
        cmocka_unit_test(test_null_input),
        cmocka_unit_test(test_n19_vectors),
        cmocka_unit_test(test_n19_exhaustive),
        cmocka_unit_test(test_n19_long_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
