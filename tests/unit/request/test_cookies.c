/*
 * Unit tests for request/cookies.c: the Cookie header in both SecFilterCookieFormat syntaxes
 * (reference §2.2, §4.2), as tables of vectors, including malformed headers.
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

#include "pp_fields.h"

static apr_pool_t *pool;

#define NS PP_COOKIE_FORMAT_NETSCAPE
#define V1 PP_COOKIE_FORMAT_RFC2109

typedef struct cookie_vec_t {
    int format;
    const char *in;
    apr_size_t in_len;
    bool malformed;
    apr_size_t count;
    field_vec_t fields[4];
} cookie_vec_t;

static const cookie_vec_t vectors[] = {
    /* Netscape */
    { NS, IN(""), false, 0, { { 0 } } },
    { NS, IN("a=b"), false, 1, { F("a", "b") } },
    { NS, IN("a=b; c=d"), false, 2, { F("a", "b"), F("c", "d") } },
    { NS, IN("a=b;c=d"), false, 2, { F("a", "b"), F("c", "d") } },
    { NS, IN("  a = b ;\tc=d  "), false, 2, { F("a", "b"), F("c", "d") } },
    { NS, IN("a=b; "), false, 1, { F("a", "b") } },
    { NS, IN(";a=b;;c=d;"), false, 2, { F("a", "b"), F("c", "d") } },
    { NS, IN("a="), false, 1, { F("a", "") } },
    { NS, IN("a=b=c"), false, 1, { F("a", "b=c") } },
    { NS, IN("a=b, c=d"), false, 1, { F("a", "b, c=d") } },
    { NS, IN("a=\"b c\""), false, 1, { F("a", "\"b c\"") } }, /* quotes are data */
    { NS, IN("a=%41+"), false, 1, { F("a", "%41+") } },       /* not decoded */
    { NS, IN("$Version=1; a=b"), false, 2, { F("$Version", "1"), F("a", "b") } },
    { NS, IN("a=b\tc"), false, 1, { F("a", "b\tc") } },
    { NS, IN("a"), true, 1, { F("a", "") } },
    { NS, IN("=b"), true, 1, { F("", "b") } },
    { NS, IN("a=b; c"), true, 2, { F("a", "b"), F("c", "") } },
    { NS, IN(" = ; a=b"), true, 2, { F("", ""), F("a", "b") } },
    { NS, IN("a=\x01"), true, 1, { F("a", "\x01") } },
    { NS, IN("a=b\0c"), true, 1, { F("a", "b\0c") } },
    { NS, IN("a=b\r\nX: y"), true, 1, { F("a", "b\r\nX: y") } },
    { NS, IN("a=\x7f"), true, 1, { F("a", "\x7f") } },
    /* 16 bytes and more: the control check's blocks and its tail */
    { NS, IN("abcdefgh=ij\x01klmnopqrs"), true, 1, { F("abcdefgh", "ij\x01klmnopqrs") } },
    { NS, IN("abcdefgh=ijklmnop\x7fq"), true, 1, { F("abcdefgh", "ijklmnop\x7fq") } },
    { NS, IN("abcdefgh=ijklmnop\x1f"), true, 1, { F("abcdefgh", "ijklmnop\x1f") } },
    { NS, IN("abcd\tefgh=ijklm\tnop; q=\x80\xff"), false, 2,
      { F("abcd\tefgh", "ijklm\tnop"), F("q", "\x80\xff") } },
    /* RFC 2109 */
    { V1, IN(""), false, 0, { { 0 } } },
    { V1, IN("$Version=\"1\"; a=\"b\"; $Path=\"/\""), false, 1, { F("a", "b") } },
    { V1, IN("$Version=1; a=b; c=\"d e\""), false, 2, { F("a", "b"), F("c", "d e") } },
    { V1, IN("a=b"), false, 1, { F("a", "b") } }, /* $Version not required */
    { V1, IN("a=\"x\\\"y\""), false, 1, { F("a", "x\"y") } },
    { V1, IN("a=\"x\\\\\""), false, 1, { F("a", "x\\") } },
    { V1, IN("a=\"\\q\""), false, 1, { F("a", "q") } },
    { V1, IN("a=\"x;y,z\"; b=c"), false, 2, { F("a", "x;y,z"), F("b", "c") } },
    { V1, IN("a=b, c=d"), false, 2, { F("a", "b"), F("c", "d") } },
    { V1, IN(" a = \"b\" ; c = d "), false, 2, { F("a", "b"), F("c", "d") } },
    { V1, IN("a=\"\""), false, 1, { F("a", "") } },
    { V1, IN("a=\" b \""), false, 1, { F("a", " b ") } },
    { V1, IN("a=b\"c"), false, 1, { F("a", "b\"c") } },
    { V1, IN("$Version=1; $Path=/; $Domain=.x"), false, 0, { { 0 } } },
    { V1, IN("$Version=1;;, a=b,"), false, 1, { F("a", "b") } },
    { V1, IN("a=\"unterminated"), true, 1, { F("a", "unterminated") } },
    { V1, IN("a=\"x; b=c"), true, 1, { F("a", "x; b=c") } },
    { V1, IN("a=\"b\\"), true, 1, { F("a", "b\\") } },
    { V1, IN("a=\"b\\\""), true, 1, { F("a", "b\"") } },
    { V1, IN("a=\"b\"c; d=e"), true, 2, { F("a", "\"b\"c"), F("d", "e") } },
    { V1, IN("a=\"b\" c"), true, 1, { F("a", "\"b\" c") } },
    { V1, IN("$Version=1; a"), true, 1, { F("a", "") } },
    { V1, IN("$Version"), true, 0, { { 0 } } },
    { V1, IN("=x"), true, 1, { F("", "x") } },
    { V1, IN("a=\"x\x01\""), true, 1, { F("a", "x\x01") } },
};

static void check_vector(size_t idx, const cookie_vec_t *v)
{
    apr_pool_t *p;
    apr_pool_create(&p, pool);
    apr_array_header_t *out = apr_array_make(p, 1, sizeof(pp_field_t));
    bool malformed = !v->malformed;
    assert_int_equal(pp_cookies_parse(p, (pp_str_t){ v->in, v->in_len }, v->format, out,
                                      &malformed),
                     APR_SUCCESS);
    if (malformed != v->malformed || (apr_size_t)out->nelts != v->count)
        fail_msg("vector %zu [%s]: malformed %d fields %d, want %d %zu", idx, v->in, malformed,
                 out->nelts, v->malformed, v->count);
    pp_test_check_fields(idx, v->in, out, v->fields);
    apr_pool_destroy(p);
}

static void test_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
        check_vector(i, &vectors[i]);
}

static void test_fields_are_copies(void **state)
{
    char header[] = "a=b";
    apr_array_header_t *out = apr_array_make(pool, 1, sizeof(pp_field_t));
    assert_int_equal(pp_cookies_parse(pool, (pp_str_t){ header, 3 }, NS, out, NULL),
                     APR_SUCCESS);
    header[2] = 'X';
    assert_string_equal(APR_ARRAY_IDX(out, 0, pp_field_t).value.data, "b");
}

/* SecCookiev0Separator replaces ';' in format 0 (ModSecurity 2.9.7 splits on it alone). */
static void test_v0_separator(void **state)
{
    apr_array_header_t *out = apr_array_make(pool, 2, sizeof(pp_field_t));
    assert_int_equal(pp_cookies_parse_sep(pool, PP_STR("a=1; b=2, c=3"), NS, ',', out, NULL),
                     APR_SUCCESS);
    assert_int_equal(out->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(out, 0, pp_field_t).name.data, "a");
    assert_string_equal(APR_ARRAY_IDX(out, 0, pp_field_t).value.data, "1; b=2");
    assert_string_equal(APR_ARRAY_IDX(out, 1, pp_field_t).name.data, "c");
    assert_string_equal(APR_ARRAY_IDX(out, 1, pp_field_t).value.data, "3");
}

static void test_bad_arguments(void **state)
{
    apr_array_header_t *out = apr_array_make(pool, 1, sizeof(pp_field_t));
    apr_array_header_t *wrong = apr_array_make(pool, 1, sizeof(int));
    assert_int_equal(pp_cookies_parse(pool, PP_STR("a=b"), 2, out, NULL), APR_EINVAL);
    assert_int_equal(pp_cookies_parse(pool, PP_STR("a=b"), -1, out, NULL), APR_EINVAL);
    assert_int_equal(pp_cookies_parse(pool, PP_STR("a=b"), NS, wrong, NULL), APR_EINVAL);
    assert_int_equal(pp_cookies_parse(pool, PP_STR("a=b"), NS, NULL, NULL), APR_EINVAL);
    assert_int_equal(out->nelts, 0);
    assert_int_equal(pp_cookies_parse(pool, PP_STR_NULL, V1, out, NULL), APR_SUCCESS);
}

int main(void)
{
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_fields_are_copies),
        cmocka_unit_test(test_v0_separator),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
