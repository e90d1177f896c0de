/*
 * Unit tests for pp_buffer_lend (body/buffer.c): a caller that keeps its chunks may lend them
 * instead of having them copied while the body stays under the limit. The buffer must then
 * read back exactly the bytes lent, in order, from the caller's memory; and whenever it stops
 * lending (past the limit, a copied chunk, too many chunks, the body asked for in
 * one piece) it must hold a copy of everything, so that the caller may free the chunks: each
 * test overwrites them after pp_buffer_lending turned false, and a buffer that still pointed
 * into them would read back the overwritten bytes.
 */
#include "buffer_fixture.h"

#define CHUNK 8000

/* n lent chunks of CHUNK bytes of one pattern, each in memory of its own (as buckets are). */
static char **lend_chunks(pp_buffer_t *b, apr_pool_t *p, const char *src, int n)
{
    char **c = apr_palloc(p, (apr_size_t)n * sizeof *c);
    for (int i = 0; i < n; i++) {
        c[i] = apr_pmemdup(p, src + (apr_size_t)i * CHUNK, CHUNK);
        assert_int_equal(pp_buffer_lend(b, c[i], CHUNK), APR_SUCCESS);
    }
    return c;
}

static void scribble(char **c, int n)
{
    for (int i = 0; i < n; i++)
        memset(c[i], 'X', CHUNK);
}

/* Under the limit: nothing is copied; read back gives the lent chunks themselves, in order. */
static void test_lent_read_in_place(void **state)
{
    apr_pool_t *p = *state;
    const char *src = pattern(p, 5 * CHUNK);
    pp_buffer_t *b = pp_buffer_create(p, 128 * 1024, tmp);
    char **c = lend_chunks(b, p, src, 5);
    assert_true(pp_buffer_lending(b));
    assert_int_equal(pp_buffer_length(b), 5 * CHUNK);
    assert_false(pp_buffer_spilled(b));
    apr_file_t *file = (apr_file_t *)p;
    assert_int_equal(pp_buffer_sync(b, &file), APR_SUCCESS);
    assert_null(file);
    for (int i = 0; i < 5; i++) {
        const char *data;
        apr_size_t len;
        assert_int_equal(pp_buffer_read(b, &data, &len), APR_SUCCESS);
        assert_ptr_equal(data, c[i]); /* in place: not a copy */
        assert_int_equal(len, CHUNK);
    }
    const char *data;
    apr_size_t len;
    assert_int_equal(pp_buffer_read(b, &data, &len), APR_SUCCESS);
    assert_int_equal(len, 0);
    assert_true(pp_buffer_lending(b));
    assert_int_equal(count_files(), 0);
}

/* The body asked for whole (prefix, head, flatten: audit log, FULL_REQUEST, a processor)
 * copies the chunks; the caller may free them then. */
static void test_lent_copied_when_asked_whole(void **state)
{
    apr_pool_t *p = *state;
    const char *src = pattern(p, 4 * CHUNK);
    for (int how = 0; how < 3; how++) {
        pp_buffer_t *b = pp_buffer_create(p, 128 * 1024, tmp);
        char **c = lend_chunks(b, p, src, 4);
        pp_str_t got;
        if (how == 0) {
            got = pp_buffer_prefix(b);
        } else if (how == 1) {
            assert_int_equal(pp_buffer_head(b, p, 4 * CHUNK, &got), APR_SUCCESS);
        } else {
            assert_int_equal(pp_buffer_flatten(b, p, 4 * CHUNK, &got), APR_SUCCESS);
        }
        assert_false(pp_buffer_lending(b));
        scribble(c, 4);
        assert_str(got, src, 4 * CHUNK);
        assert_int_equal(read_all(b, p, &got), APR_SUCCESS);
        assert_str(got, src, 4 * CHUNK);
        /* lends no more: a later chunk is copied too */
        char *more = apr_pmemdup(p, src, CHUNK);
        assert_int_equal(pp_buffer_lend(b, more, CHUNK), APR_SUCCESS);
        assert_false(pp_buffer_lending(b));
        memset(more, 'Y', CHUNK);
        assert_str(pp_buffer_prefix(b), apr_pstrcat(p, apr_pstrmemdup(p, src, 4 * CHUNK),
                                                    apr_pstrmemdup(p, src, CHUNK), NULL),
                   5 * CHUNK);
    }
}

/* Past the limit the lent chunks go to the spill file with the rest. */
static void test_lent_then_spilled(void **state)
{
    apr_pool_t *p = *state;
    const char *src = pattern(p, 20 * CHUNK);
    pp_buffer_t *b = pp_buffer_create(p, 10 * CHUNK, tmp);
    char **c = lend_chunks(b, p, src, 10); /* exactly the limit: still lent */
    assert_true(pp_buffer_lending(b));
    char **d = lend_chunks(b, p, src + 10 * CHUNK, 10);
    assert_false(pp_buffer_lending(b));
    assert_true(pp_buffer_spilled(b));
    scribble(c, 10);
    scribble(d, 10);
    pp_str_t got;
    assert_int_equal(read_all(b, p, &got), APR_SUCCESS);
    assert_str(got, src, 20 * CHUNK);
    assert_str(pp_buffer_prefix(b), src, 10 * CHUNK);
}

/* A body declared longer than the limit is copied from its first chunk (it would be at the limit
 * anyway): the caller may release each chunk at once. One declared exactly at the limit is lent. */
static void test_declared_over_limit_not_lent(void **state)
{
    apr_pool_t *p = *state;
    const char *src = pattern(p, 20 * CHUNK);
    pp_buffer_t *b = pp_buffer_create(p, 10 * CHUNK, tmp);
    pp_buffer_expect(b, 20 * CHUNK);
    char **c = lend_chunks(b, p, src, 5);
    assert_false(pp_buffer_lending(b));
    scribble(c, 5);
    char **d = lend_chunks(b, p, src + 5 * CHUNK, 15);
    assert_false(pp_buffer_lending(b));
    assert_true(pp_buffer_spilled(b));
    scribble(d, 15);
    pp_str_t got;
    assert_int_equal(read_all(b, p, &got), APR_SUCCESS);
    assert_str(got, src, 20 * CHUNK);
    assert_str(pp_buffer_prefix(b), src, 10 * CHUNK);

    pp_buffer_t *at = pp_buffer_create(p, 10 * CHUNK, tmp);
    pp_buffer_expect(at, 10 * CHUNK);
    lend_chunks(at, p, src, 10);
    assert_true(pp_buffer_lending(at));
}

/* A fed chunk, or one chunk too many, ends lending with everything copied; a short chunk is lent
 * like any other. */
static void test_lent_ends_on_fed_or_many(void **state)
{
    apr_pool_t *p = *state;
    const char *src = pattern(p, 40 * 1024);
    for (int how = 0; how < 3; how++) {
        pp_buffer_t *b = pp_buffer_create(p, 128 * 1024, tmp);
        char *c[40];
        apr_size_t n = how == 2 ? 40 : 3, at = 0;
        for (apr_size_t i = 0; i < n; i++, at += 1024) {
            c[i] = apr_pmemdup(p, src + at, 1024);
            assert_int_equal(pp_buffer_lend(b, c[i], 1024), APR_SUCCESS);
            assert_int_equal(pp_buffer_lending(b), i < 32);
        }
        if (how == 0) {
            assert_int_equal(pp_buffer_lend(b, src + at, 1), APR_SUCCESS);
            assert_true(pp_buffer_lending(b));
            assert_int_equal(pp_buffer_feed(b, src + at + 1, 1022), APR_SUCCESS);
            at += 1023;
        } else if (how == 1) {
            assert_int_equal(pp_buffer_feed(b, src + at, 5), APR_SUCCESS);
            at += 5;
        }
        assert_false(pp_buffer_lending(b));
        for (apr_size_t i = 0; i < n; i++)
            memset(c[i], 'X', 1024);
        pp_str_t got;
        assert_int_equal(read_all(b, p, &got), APR_SUCCESS);
        assert_str(got, src, at);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lent_read_in_place, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_lent_copied_when_asked_whole, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_lent_then_spilled, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_declared_over_limit_not_lent, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_lent_ends_on_fed_or_many, pp_test_pool_setup,
                                        pp_test_pool_teardown),
    };
    return buffer_tests_run("test_buffer_lend", tests, sizeof tests / sizeof tests[0]);
}
