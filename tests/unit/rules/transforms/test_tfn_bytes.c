/*
 * The transformation table's bytes column (transforms.h, PP_TB_*): rules/values.c returns a
 * whole array as it is, without calling the step per value, when the array's byte summary has
 * none of the step's bytes. So each row's column must be complete: for seeded random values
 * made only of bytes outside it, the reference evaluator (tfn_reference.h, the byte loops
 * test_ms2_transforms.py compared with ModSecurity 2.9.7; the row's own function where there
 * is none) returns the value unchanged. The same search, run with one class dropped from a
 * column, must find a value the step changes: the test can tell a wrong column.
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

/* The evaluator a row is proved against: the reference loop where tfn_reference.h has one. */
static pp_tfn_apply_fn evaluator(const pp_tfn_def_t *def)
{
    static const struct {
        pp_tfn_apply_fn fn, ref;
    } refs[] = {
        { pp_tfn_lowercase, ref_lowercase },
        { pp_tfn_compress_whitespace2, ref_compress_whitespace2 },
        { pp_tfn_remove_whitespace, ref_remove_whitespace },
        { pp_tfn_trim_left, ref_trim_left },
        { pp_tfn_trim_right, ref_trim_right },
        { pp_tfn_url_decode_uni, ref_url_decode_uni_plain },
        { pp_tfn_utf8_to_unicode, ref_utf8_to_unicode },
        { pp_tfn_normalise_path2, ref_normalise_path2 },
        { pp_tfn_normalise_path2_win, ref_normalise_path2_win },
        { pp_tfn_html_entity_decode, ref_html_entity_decode },
        { pp_tfn_replace_comments, ref_replace_comments },
        { pp_tfn_cmd_line, ref_cmd_line },
    };
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        if (refs[i].fn == def->apply)
            return refs[i].ref;
    return def->apply;
}

/* Bytes the transformations treat specially, tried often where the column allows them. */
static const char spicy[] = "%+&\\/.*#-<>!'\"^;,()uUxX0123456789aAfFgG;#\0\t \r\n\v\f\xa0\x80\xc3"
                            "\xe2\xf0\xff\xbf";

/* How many of `rounds` random values without the classes in `bytes` the row's evaluator
 * changes (or returns as a new array of the same bytes, which values.c would also treat as
 * a change). Lengths 0-40, over every byte the column allows, often the special ones. */
static unsigned counterexamples(const pp_tfn_def_t *def, unsigned bytes, int rounds)
{
    unsigned char allowed[256], special[sizeof spicy];
    unsigned na = 0, ns = 0, bad = 0;
    for (unsigned b = 0; b < 256; b++)
        if (!(pp_tfn_byte_class[b] & bytes))
            allowed[na++] = (unsigned char)b;
    for (size_t i = 0; i < sizeof spicy - 1; i++)
        if (!(pp_tfn_byte_class[(unsigned char)spicy[i]] & bytes))
            special[ns++] = (unsigned char)spicy[i];
    assert_true(na > 0 && ns > 0);
    pp_tfn_apply_fn eval = evaluator(def);
    uint64_t seed = 20261207;
    char buf[40];
    for (int round = 0; round < rounds; round++) {
        apr_size_t len = (apr_size_t)pp_test_rnd(&seed) % (sizeof buf + 1);
        for (apr_size_t i = 0; i < len; i++) {
            unsigned r = (unsigned)pp_test_rnd(&seed);
            buf[i] = (char)(r % 3 ? special[(r >> 4) % ns] : allowed[(r >> 4) % na]);
        }
        while ((bytes & PP_TB_LASTDOT) && len && buf[len - 1] == '.')
            len--; /* the class is "ends in '.'", not the byte */
        pp_str_t in = { buf, len }, out;
        assert_int_equal(pp_tfn_bytes_add(0, in) & bytes, 0); /* the summary agrees */
        assert_int_equal(eval(pool, in, &out), APR_SUCCESS);
        if (out.data != in.data || out.len != in.len) {
            if (bad++ == 0) {
                print_message("%s, column 0x%x: changes", def->name, bytes);
                for (apr_size_t i = 0; i < len; i++)
                    print_message(" %02x", (unsigned char)buf[i]);
                print_message("\n");
            }
        }
        if (round % 1024 == 0)
            apr_pool_clear(pool);
    }
    apr_pool_clear(pool);
    return bad;
}

/* Every row with a column leaves every value without its bytes unchanged. */
static void test_columns_complete(void **state)
{
    apr_size_t n;
    const pp_tfn_def_t *t = pp_tfn_table(&n);
    unsigned rows = 0;
    for (apr_size_t i = 0; i < n; i++) {
        if (!t[i].bytes)
            continue;
        assert_int_equal(counterexamples(&t[i], t[i].bytes, 100000), 0);
        rows++;
    }
    assert_true(rows >= 20); /* the steps CRS uses most have their columns */
}

/* Dropping any one class from any column lets the search find a change: the search above
 * does reach the bytes each step acts on, so it would catch a wrong column entry. */
static void test_columns_minimal(void **state)
{
    apr_size_t n;
    const pp_tfn_def_t *t = pp_tfn_table(&n);
    for (apr_size_t i = 0; i < n; i++)
        for (unsigned bit = 1; bit <= PP_TB_SHELL; bit <<= 1) {
            if (!(t[i].bytes & bit))
                continue;
            unsigned found = counterexamples(&t[i], t[i].bytes & ~bit, 100000);
            if (!found)
                print_error("%s: column without 0x%x still passes\n", t[i].name, bit);
            assert_true(found > 0);
        }
}

/* The summary of a few values by hand. */
static void test_summary(void **state)
{
    assert_int_equal(pp_tfn_bytes_add(0, PP_STR("abc")), 0);
    assert_int_equal(pp_tfn_bytes_add(0, PP_STR("a%2b")), PP_TB_PCT);
    assert_int_equal(pp_tfn_bytes_add(0, PP_STR("Ab c/.")),
                     PP_TB_UPPER | PP_TB_WS | PP_TB_SLASH | PP_TB_LASTDOT);
    assert_int_equal(pp_tfn_bytes_add(0, (pp_str_t){ "a\0\xa0&+\\", 6 }),
                     PP_TB_NUL | PP_TB_HIGH | PP_TB_AMP | PP_TB_PLUS | PP_TB_BSL);
    assert_int_equal(pp_tfn_bytes_add(PP_TB_AMP, PP_STR("x.y")), PP_TB_AMP);
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
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_columns_complete),
        cmocka_unit_test(test_columns_minimal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
