/*
 * The ModSecurity 2 transformation table (rules/transforms/table.c): sorted, found by name in
 * any case, and every row has vectors here (a row without one fails test_every_row_has_vectors).
 * The vectors are ModSecurity 2.9.7's observed results (reference secrule-2.9 §7); the
 * exhaustive comparison with ModSecurity itself is tests/e2e/test_ms2_transforms.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <strings.h>

#include "rules/transforms/transforms.h"

static apr_pool_t *pool;

typedef struct vector_t {
    const char *chain; /* comma-separated, as pp_transform takes it */
    const char *in;
    apr_size_t in_len;
    const char *want;
    apr_size_t want_len;
} vector_t;

#define V(chain, in, want) { chain, in, sizeof(in) - 1, want, sizeof(want) - 1 }

/* clang-format off */
static const vector_t vectors[] = {
    V("base64Decode", "dGVzdA==abc", "test"),
    V("base64Decode", "dG Vz", "t"),
    V("base64Decode", "!!!", ""),
    V("base64DecodeExt", "dG.VzdA", "test"),
    V("base64DecodeExt", "dG Vz dA==", "test"),
    V("base64Encode", "test", "dGVzdA=="),
    V("cmdLine", "C:\\WINDOWS\\system32\\cmd.exe /c \"dir\"", "c:windowssystem32cmd.exe/c dir"),
    V("cmdLine", "a ^ b", "a b"),
    V("cmdLine", "ab\0cd", "ab"),
    V("compressWhitespace", "a \t\n b\xa0\xa0" "c \v", "a b c "),
    V("cssDecode", "\\41 B\\000043\\\nD\\e9 \\ff41 x\\", "ABCD\xe9" "ax"),
    V("escapeSeqDecode", "\\a\\?\\x4g\\101\\q", "\a?x4gAq"),
    V("hexDecode", "4142G1", "AB\x01"),
    V("hexEncode", "AB\xff", "4142ff"),
    V("htmlEntityDecode", "&#x110000;&#1234;&foo;&nbsp;&LT", "\0\xd2&foo;\xa0<"),
    V("htmlEntityDecode", "&#;&#x;&amp", "&#;&#x;&"),
    V("jsDecode", "\\x41\\u0042\\103\\n\\'\\q\\u00e9\\uff41\\x4", "ABC\n'q\xe9" "ax4"),
    V("length", "hello", "5"),
    V("lowercase", "AbC\xc3\x89", "abc\xc3\x89"),
    V("md5,hexEncode", "abc", "900150983cd24fb0d6963f7d28e17f72"),
    V("none", "AbC", "AbC"),
    V("lowercase,none", "AbC", "AbC"),
    V("normalisePath", "a/../../b/", "../b/"),
    V("normalisePath", "/../x", "/x"),
    V("normalisePathWin", "\\a\\.\\b\\..\\c\\\\d", "/a/c/d"),
    V("normalizePath", "./a/./b//c", "a/b/c"),
    V("normalizePathWin", "a\\b\\..\\c\\", "a/c/"),
    V("parityEven7bit", "Ab", "A\xe2"),
    V("parityOdd7bit", "Ab", "\xc1" "b"),
    V("parityZero7bit", "\xc3\xa9", "C)"),
    V("removeComments", "x--y z", "x"),
    V("removeComments", "/* z */", "\0"),
    V("removeComments", "un/*term", "un "),
    V("removeCommentsChar", "a/*b*/c--d#e<!--f-->g", "abcdefg"),
    V("removeNulls", "a\0b\0", "ab"),
    V("removeWhitespace", " a\tb\xa0" "c ", "abc"),
    V("replaceComments", "a/*b*/c/*d", "a c "),
    V("replaceNulls", "a\0b", "a b"),
    V("sha1,hexEncode", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    V("sqlHexDecode", "0x414243 x 0X4142 0x4", "ABC x AB 0x4"),
    V("trim", " \tx y\n", "x y"),
    V("trimLeft", "  x ", "x "),
    V("trimRight", "  x ", "  x"),
    V("urlDecode", "%41%zz%2x%+%%41", "A%zz%2x% %A"),
    V("urlDecodeUni", "%u0042%uff41%u00e9%u2215%u12", "Ba\xe9\x15%u12"),
    V("urlEncode", "a b&c=d/\xc3\xa9*-", "a+b%26c%3dd%2f%c3%a9*%2d"),
    V("utf8toUnicode", "\xc3\xa9\xe2\x82\xac\xef\xbd\x81" "A", "%u00e9%u20ac%uff41A"),
    V("utf8toUnicode", "\xc3\xa9\xff\xe2\x82", "%u00e9\xff\x82"),
    V("utf8toUnicode,urlDecodeUni,htmlEntityDecode,jsDecode,cssDecode,removeNulls",
      "%u003cscript%3E&lt;&#x73;\\x63ript\\3e", "<script><script\x03" "e"),
};
/* clang-format on */

static void test_vectors(void **state)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const vector_t *v = &vectors[i];
        pp_str_t out;
        const char *err = pp_transform(pool, v->chain, (pp_str_t){ v->in, v->in_len }, &out);
        if (err || out.len != v->want_len || memcmp(out.data, v->want, out.len) != 0) {
            print_error("vector %zu (%s): got %zu bytes \"%.*s\" (%s)\n", i, v->chain, out.len,
                        (int)out.len, out.data, err ? err : "no error");
            fail();
        }
    }
}

static void test_every_row_has_vectors(void **state)
{
    apr_size_t n;
    const pp_tfn_def_t *t = pp_tfn_table(&n);
    for (apr_size_t r = 0; r < n; r++) {
        bool found = false;
        for (size_t i = 0; i < sizeof vectors / sizeof vectors[0] && !found; i++) {
            apr_size_t len = strlen(t[r].name);
            found = strncmp(vectors[i].chain, t[r].name, len) == 0 &&
                    (vectors[i].chain[len] == '\0' || vectors[i].chain[len] == ',');
        }
        if (!found) {
            print_error("transformation %s has no test vector\n", t[r].name);
            fail();
        }
    }
}

static void test_table_sorted_and_found_in_any_case(void **state)
{
    apr_size_t n;
    const pp_tfn_def_t *t = pp_tfn_table(&n);
    assert_true(n >= 37);
    for (apr_size_t r = 0; r < n; r++) {
        if (r > 0)
            assert_true(strcasecmp(t[r - 1].name, t[r].name) < 0);
        assert_true(strlen(t[r].help) > 5);
        assert_ptr_equal(pp_tfn_find(t[r].name), &t[r]);
        char *upper = apr_pstrdup(pool, t[r].name);
        for (char *c = upper; *c; c++)
            *c = (char)((*c >= 'a' && *c <= 'z') ? *c - 32 : *c);
        assert_ptr_equal(pp_tfn_find(upper), &t[r]);
    }
    assert_null(pp_tfn_find("uppercase")); /* not in 2.9.7 */
    assert_null(pp_tfn_find(""));
    pp_str_t out;
    assert_non_null(pp_transform(pool, "lowercase,bogus", PP_STR("x"), &out));
}

/* Unchanged values come back as the same pointer; changed ones never do. */
static void test_unchanged_is_same_pointer(void **state)
{
    apr_size_t n;
    const pp_tfn_def_t *t = pp_tfn_table(&n);
    static const char *const samples[] = { "", "plain", "A%41&lt;\\x41 /./ \xc3\xa9" };
    for (apr_size_t r = 0; r < n; r++) {
        if (!t[r].apply)
            continue;
        for (size_t s = 0; s < 3; s++) {
            pp_str_t in = { samples[s], strlen(samples[s]) }, out;
            assert_int_equal(t[r].apply(pool, in, &out), APR_SUCCESS);
            bool equal = out.len == in.len && (in.len == 0 || !memcmp(out.data, in.data, in.len));
            assert_true(equal == (out.data == in.data));
        }
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
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_every_row_has_vectors),
        cmocka_unit_test(test_table_sorted_and_found_in_any_case),
        cmocka_unit_test(test_unchanged_is_same_pointer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
