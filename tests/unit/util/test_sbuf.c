/*
 * util/sbuf.c: the engine's one growable buffer. Nothing allocated while empty (data is ""),
 * capacity doubles from the first size, never passes what max bytes need, data stays
 * NUL-terminated and contents survive every growth; pp_sbuf_room counts down to 0 at max;
 * pp_sbuf_add_safe writes every control byte as \xNN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util/util.h"

static apr_pool_t *pool;

static void test_empty_allocates_nothing(void **state)
{
    pp_sbuf_t b;
    pp_sbuf_init(&b, pool, 1024);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    pp_sbuf_add(&b, "", 0);
    assert_string_equal(b.data, "");
}

/* Byte-by-byte and in odd-sized pieces: contents, NUL and the doubling sequence. */
static void test_growth_keeps_contents(void **state)
{
    pp_sbuf_t b;
    pp_sbuf_init(&b, pool, 20);
    char expect[5000];
    for (int i = 0; i < 5000; i++) {
        expect[i] = (char)('a' + i % 26);
        pp_sbuf_add(&b, &expect[i], 1);
        assert_int_equal(b.data[b.len], '\0');
        assert_true(b.cap > b.len);
    }
    assert_int_equal(b.len, 5000);
    assert_memory_equal(b.data, expect, 5000);
    assert_int_equal(b.cap, 20 * 256); /* 20, 40, ..., 5120: doubling from the first size */

    pp_sbuf_t c;
    pp_sbuf_init(&c, pool, 0);
    for (int i = 0; i < 5000; i += 7)
        pp_sbuf_add(&c, expect + i, i + 7 > 5000 ? (apr_size_t)(5000 - i) : 7);
    assert_int_equal(c.len, 5000);
    assert_memory_equal(c.data, expect, 5000);
    pp_sbuf_printf(&c, "<%d>", 42);
    pp_sbuf_str(&c, "!");
    assert_string_equal(c.data + 5000, "<42>!");
}

/* A bounded buffer costs what it holds and stops at max: the last block is max + 1. */
static void test_bounded(void **state)
{
    pp_sbuf_t b;
    pp_sbuf_init_bounded(&b, pool, 64, 1000);
    assert_int_equal(pp_sbuf_room(&b), 1000);
    char chunk[300];
    memset(chunk, 'x', sizeof chunk);
    pp_sbuf_add(&b, chunk, 100);
    assert_int_equal(b.cap, 128);
    assert_int_equal(pp_sbuf_room(&b), 900);
    while (pp_sbuf_room(&b) > 0) {
        apr_size_t n = pp_sbuf_room(&b) < sizeof chunk ? pp_sbuf_room(&b) : sizeof chunk;
        pp_sbuf_add(&b, chunk, n);
        assert_true(b.cap <= 1001);
    }
    assert_int_equal(b.len, 1000);
    assert_int_equal(b.cap, 1001);
    assert_int_equal(b.data[1000], '\0');
    pp_sbuf_reserve(&b, 0);
    assert_int_equal(b.cap, 1001);

    pp_sbuf_t none;
    pp_sbuf_init_bounded(&none, pool, 64, 0); /* a zero bound holds nothing */
    assert_int_equal(pp_sbuf_room(&none), 0);
    pp_sbuf_init(&none, pool, 64);
    assert_true(pp_sbuf_room(&none) >= PP_SBUF_UNBOUNDED);
}

static void test_add_safe(void **state)
{
    pp_sbuf_t b;
    pp_sbuf_init(&b, pool, 0);
    const char in[] = "a\r\nb\0c\x1b[31m\x07\x7f\x1f ok\xff";
    pp_sbuf_add_safe(&b, (pp_str_t){ in, sizeof in - 1 });
    assert_string_equal(b.data, "a\\x0d\\x0ab\\x00c\\x1b[31m\\x07\\x7f\\x1f ok\xff");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_allocates_nothing),
        cmocka_unit_test(test_growth_keeps_contents),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_add_safe),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
