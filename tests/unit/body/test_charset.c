/*
 * Unit tests for body/charset.c (issue 17): the charset parameter of a Content-Type, UTF-8
 * conversion of the charsets attackers use to hide text (UTF-16, UTF-7, IBM037), the refusals
 * (unknown charset, //IGNORE-style names, text that does not convert) and unmarked UTF-16 read
 * both ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include <apr_general.h>

#include "body/charset.h"
#include "util/util.h"

static apr_pool_t *pool;

static pp_str_t S(const char *s, apr_size_t n)
{
    return (pp_str_t){ s, n };
}

static void expect_text(pp_str_t got, const char *want)
{
    assert_non_null(got.data);
    assert_int_equal(got.len, strlen(want));
    assert_memory_equal(got.data, want, got.len);
}

static void test_param(void **state)
{
    const char *cs;
    (void)state;
    assert_null(pp_charset_param(pool, S("text/plain", 10), &cs));
    assert_null(cs);
    assert_null(pp_charset_param(pool, pp_str_from_cstr("text/plain; charset=UTF-16LE"), &cs));
    assert_string_equal(cs, "UTF-16LE");
    assert_null(pp_charset_param(pool, pp_str_from_cstr("text/plain;format=flowed; Charset = \"utf-7\""),
                                 &cs));
    assert_string_equal(cs, "utf-7");
    assert_null(pp_charset_param(pool, pp_str_from_cstr("text/plain; x=\"a;charset=b\"; q=1"), &cs));
    assert_null(cs);
    assert_non_null(pp_charset_param(pool, pp_str_from_cstr("text/plain; charset=a; charset=b"), &cs));
    assert_non_null(pp_charset_param(pool, pp_str_from_cstr("text/plain; charset=\"utf-8"), &cs));
}

static void test_convert(void **state)
{
    pp_charset_conv_t *c = pp_charset_conv_create(pool);
    pp_str_t out, alt;
    (void)state;
    assert_null(pp_charset_to_utf8(c, "UTF-16LE", S("<\0s\0", 4), &out, &alt));
    expect_text(out, "<s");
    assert_null(alt.data);
    assert_null(pp_charset_to_utf8(c, "utf-16be", S("\0<\0s", 4), &out, &alt));
    expect_text(out, "<s");
    assert_null(pp_charset_to_utf8(c, "UTF-7", pp_str_from_cstr("+ADw-s+AD4-"), &out, &alt));
    expect_text(out, "<s>");
    assert_null(pp_charset_to_utf8(c, "IBM037", S("\x4c\xa2\x83\x6e", 4), &out, &alt));
    expect_text(out, "<sc>");
    assert_null(pp_charset_to_utf8(c, "windows-1252", S("caf\xe9", 4), &out, &alt));
    expect_text(out, "caf\xc3\xa9");
    /* the same descriptor again starts from the initial shift state */
    assert_null(pp_charset_to_utf8(c, "UTF-7", pp_str_from_cstr("+ADw-"), &out, &alt));
    expect_text(out, "<");
}

static void test_identity(void **state)
{
    pp_charset_conv_t *c = pp_charset_conv_create(pool);
    pp_str_t in = S("a\xff\xfe", 3), out, alt;
    (void)state;
    assert_null(pp_charset_to_utf8(c, "UTF-8", in, &out, &alt));
    assert_ptr_equal(out.data, in.data); /* invalid UTF-8 is left as sent, not refused */
    assert_null(pp_charset_to_utf8(c, "us-ascii", in, &out, &alt));
    assert_ptr_equal(out.data, in.data);
}

static void test_unmarked_utf16_both_ways(void **state)
{
    pp_charset_conv_t *c = pp_charset_conv_create(pool);
    pp_str_t out, alt;
    (void)state;
    assert_null(pp_charset_to_utf8(c, "UTF-16", S("<\0s\0", 4), &out, &alt));
    expect_text(alt, "<s"); /* little-endian reading (.NET) */
    assert_int_equal(out.len, 6); /* big-endian: U+3C00 U+7300, 3 bytes each */
    assert_null(pp_charset_to_utf8(c, "UTF-16", S("\xff\xfe<\0", 4), &out, &alt));
    expect_text(out, "<"); /* a BOM decides */
    assert_null(alt.data);
    assert_non_null(pp_charset_to_utf8(c, "UTF-16", S("abc", 3), &out, &alt));
}

static void test_refused(void **state)
{
    pp_charset_conv_t *c = pp_charset_conv_create(pool);
    pp_str_t out, alt;
    (void)state;
    assert_non_null(pp_charset_to_utf8(c, "x-no-such", S("a", 1), &out, &alt));
    assert_non_null(pp_charset_to_utf8(c, "UTF-7//IGNORE", S("a", 1), &out, &alt));
    assert_non_null(pp_charset_to_utf8(c, "", S("a", 1), &out, &alt));
    assert_non_null(pp_charset_to_utf8(c, "UTF-16LE", S("<\0s", 3), &out, &alt));
    assert_non_null(pp_charset_to_utf8(c, "Shift_JIS", S("\x81\x20", 2), &out, &alt));
    assert_null(pp_charset_to_utf8(c, "ISO-8859-1", S("\xff", 1), &out, &alt)); /* every byte */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param),
        cmocka_unit_test(test_convert),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_unmarked_utf16_both_ways),
        cmocka_unit_test(test_refused),
    };
    apr_initialize();
    apr_pool_create(&pool, NULL);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return failed;
}
