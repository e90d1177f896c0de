/*
 * Unit tests for body/buffer.c, body/spool.c and body/memory.c: a body past the in-memory limit
 * held in the connection's memory region within the worker's SecRequestBodyMemoryBudget instead
 * of its spool file (reused by the connection's requests, given back when it ends; past the
 * budget, chunked, over 16 MiB or budget 0: the spool as before). Split from test_buffer.c.
 */
#include "buffer_fixture.h"

/* ---- In the connection's memory region (SecRequestBodyMemoryBudget) ------------------------- */

#define MiB ((apr_size_t)1 << 20)

/* A buffer of request pool r on spool with the budget: limit 1000 bytes, declared length. */
static pp_buffer_t *budget_buffer(apr_pool_t *r, pp_spool_t *spool, pp_body_memory_t *m,
                                  apr_size_t budget, apr_int64_t declared)
{
    pp_buffer_t *b = pp_buffer_create(r, 1000, tmp);
    pp_buffer_use_spool(b, spool);
    pp_buffer_expect(b, declared);
    pp_buffer_use_memory(b, m, budget);
    return b;
}

static void feed_blocks(pp_buffer_t *b, const char *data, apr_size_t n)
{
    for (apr_size_t off = 0; off < n; off += 8000)
        assert_int_equal(pp_buffer_feed(b, data + off, n - off < 8000 ? n - off : 8000),
                         APR_SUCCESS);
}

/* A connection's first body past the limit: to its spool file (no region is mapped for one
 * body), after which its later bodies may use memory. */
static void first_body_spools(apr_pool_t *conn, pp_spool_t *spool, pp_body_memory_t *m)
{
    apr_pool_t *r;
    assert_int_equal(apr_pool_create(&r, conn), APR_SUCCESS);
    char *a = pattern(r, 3 * MiB);
    pp_buffer_t *b = budget_buffer(r, spool, m, 64 * MiB, 3 * MiB);
    feed_blocks(b, a, 3 * MiB);
    apr_file_t *file;
    assert_int_equal(pp_buffer_sync(b, &file), APR_SUCCESS);
    assert_non_null(file);
    apr_pool_destroy(r);
    assert_int_equal(pp_body_memory_used(m), 0);
}

/* The whole body back from every reader, byte for byte. */
static void assert_body(pp_buffer_t *b, apr_pool_t *r, const char *want, apr_size_t n)
{
    pp_str_t all;
    assert_int_equal(read_all(b, r, &all), APR_SUCCESS);
    assert_str(all, want, n);
    assert_int_equal(pp_buffer_flatten(b, r, n, &all), APR_SUCCESS);
    assert_str(all, want, n);
    assert_int_equal(all.data[n], '\0');
    assert_int_equal(pp_buffer_head(b, r, 777, &all), APR_SUCCESS);
    assert_str(all, want, 777);
    assert_int_equal(all.data[777], '\0');
    assert_int_equal(pp_buffer_length(b), (apr_off_t)n);
}

/* Within the budget, from the connection's second large body on, the body is held in memory: no
 * file (pp_buffer_sync gives none), read back whole; the region is charged to the budget while
 * the connection keeps it, reused by the next request (which reads only its own, shorter, body),
 * and given back when the connection ends. */
static void test_memory_region(void **state)
{
    apr_pool_t *p = *state, *conn, *r1, *r2;
    const apr_size_t big = 3 * MiB, small = 300000;
    char *a = pattern(p, big), *c = pattern(p, small + 7) + 7;
    pp_body_memory_t *m = pp_body_memory_create(p);
    assert_int_equal(apr_pool_create(&conn, p), APR_SUCCESS);
    pp_spool_t *spool = pp_spool_create(conn);
    first_body_spools(conn, spool, m);

    assert_int_equal(apr_pool_create(&r1, conn), APR_SUCCESS);
    pp_buffer_t *b = budget_buffer(r1, spool, m, 8 * MiB, big);
    feed_blocks(b, a, big);
    assert_true(pp_buffer_spilled(b)); /* past the limit */
    assert_memory_equal(pp_buffer_prefix(b).data, a, pp_buffer_prefix(b).len);
    apr_file_t *file;
    assert_int_equal(pp_buffer_sync(b, &file), APR_SUCCESS);
    assert_null(file);
    assert_body(b, r1, a, big);
    assert_int_equal(pp_body_memory_used(m), 4 * MiB); /* 2 MiB steps */
    apr_pool_destroy(r1);
    assert_int_equal(pp_body_memory_used(m), 4 * MiB); /* the connection keeps it */

    assert_int_equal(apr_pool_create(&r2, conn), APR_SUCCESS);
    b = budget_buffer(r2, spool, m, 8 * MiB, small);
    /* Pieces of odd sizes: the copy into the region starts at every alignment. */
    for (apr_size_t off = 0, step = 4099; off < small; off += step, step = step % 9000 + 4099)
        assert_int_equal(pp_buffer_feed(b, c + off, small - off < step ? small - off : step),
                         APR_SUCCESS);
    assert_int_equal(pp_buffer_sync(b, &file), APR_SUCCESS);
    assert_null(file);
    assert_body(b, r2, c, small);
    assert_int_equal(pp_body_memory_used(m), 4 * MiB);
    apr_pool_destroy(r2);
    apr_pool_destroy(conn);
    assert_int_equal(pp_body_memory_used(m), 0);
    assert_int_equal(count_files(), 0);
}

/* Past the budget, without a known length, or over 16 MiB, the body spools to a file as before
 * and reads back the same. */
static void test_memory_budget_bounds(void **state)
{
    apr_pool_t *p = *state, *c1, *c2, *r1, *r2, *r3;
    const apr_size_t n = 3 * MiB;
    char *a = pattern(p, n);
    pp_body_memory_t *m = pp_body_memory_create(p);
    assert_int_equal(apr_pool_create(&c1, p), APR_SUCCESS);
    assert_int_equal(apr_pool_create(&c2, p), APR_SUCCESS);
    pp_spool_t *s1 = pp_spool_create(c1), *s2 = pp_spool_create(c2);
    first_body_spools(c1, s1, m);
    first_body_spools(c2, s2, m);
    assert_int_equal(apr_pool_create(&r1, c1), APR_SUCCESS);
    assert_int_equal(apr_pool_create(&r2, c2), APR_SUCCESS);
    /* Two uploads at once, room for one. */
    pp_buffer_t *b1 = budget_buffer(r1, s1, m, 6 * MiB, n);
    pp_buffer_t *b2 = budget_buffer(r2, s2, m, 6 * MiB, n);
    feed_blocks(b1, a, n);
    feed_blocks(b2, a, n);
    apr_file_t *file;
    assert_int_equal(pp_buffer_sync(b1, &file), APR_SUCCESS);
    assert_null(file);
    assert_int_equal(pp_buffer_sync(b2, &file), APR_SUCCESS);
    assert_non_null(file);
    assert_int_equal(fd_size(spool_fd(b2)), (off_t)n);
    assert_int_equal(pp_body_memory_used(m), 4 * MiB);
    assert_body(b1, r1, a, n);
    assert_body(b2, r2, a, n);
    apr_pool_destroy(r2);

    /* No declared length (chunked): the file. */
    assert_int_equal(apr_pool_create(&r3, c2), APR_SUCCESS);
    pp_buffer_t *b3 = budget_buffer(r3, s2, m, 64 * MiB, -1);
    feed_blocks(b3, a, n);
    assert_int_not_equal(spool_fd(b3), -1);
    assert_body(b3, r3, a, n);
    apr_pool_destroy(r3);

    /* Over what a connection keeps (16 MiB): the file, whatever the budget. */
    assert_int_equal(apr_pool_create(&r3, c2), APR_SUCCESS);
    b3 = budget_buffer(r3, s2, m, 1024 * MiB, 17 * MiB);
    feed_blocks(b3, a, n);
    assert_int_not_equal(spool_fd(b3), -1);
    apr_pool_destroy(r3);

    /* A budget of 0 is off. */
    apr_pool_destroy(r1);
    assert_int_equal(apr_pool_create(&r1, c1), APR_SUCCESS);
    b1 = budget_buffer(r1, s1, m, 0, n);
    feed_blocks(b1, a, n);
    assert_int_not_equal(spool_fd(b1), -1);
    assert_body(b1, r1, a, n);
    apr_pool_destroy(r1);
    assert_int_equal(pp_body_memory_used(m), 4 * MiB); /* c1 still keeps its region */
    apr_pool_destroy(c1);
    apr_pool_destroy(c2);
    assert_int_equal(pp_body_memory_used(m), 0);
    assert_int_equal(count_files(), 0);
}

/* A body longer than it declared moves to a file of its own, the bytes held so far first: it
 * still reads back whole. */
static void test_memory_outgrown(void **state)
{
    apr_pool_t *p = *state, *conn, *r;
    const apr_size_t declared = 5000, n = 5 * MiB;
    char *a = pattern(p, n);
    pp_body_memory_t *m = pp_body_memory_create(p);
    assert_int_equal(apr_pool_create(&conn, p), APR_SUCCESS);
    pp_spool_t *spool = pp_spool_create(conn);
    first_body_spools(conn, spool, m);
    assert_int_equal(apr_pool_create(&r, conn), APR_SUCCESS);
    pp_buffer_t *b = budget_buffer(r, spool, m, 64 * MiB, declared);
    feed_blocks(b, a, n);
    assert_int_equal(fd_size(spool_fd(b)), (off_t)n);
    assert_body(b, r, a, n);
    apr_pool_destroy(r);
    apr_pool_destroy(conn);
    assert_int_equal(pp_body_memory_used(m), 0);
    assert_int_equal(count_files(), 0);
}

/* Many threads taking and giving back: the budget is never overdrawn and ends at 0. */
typedef struct budget_race_t {
    pp_body_memory_t *m;
    apr_size_t budget, max_seen, over;
} budget_race_t;

static void *APR_THREAD_FUNC budget_worker(apr_thread_t *t, void *data)
{
    budget_race_t *race = data;
    for (int i = 0; i < 20000; i++) {
        apr_size_t n = (apr_size_t)(i % 7 + 1) * 4096;
        if (pp_body_memory_take(race->m, n, race->budget)) {
            apr_size_t used = pp_body_memory_used(race->m);
            if (used > race->budget)
                __atomic_add_fetch(&race->over, 1, __ATOMIC_RELAXED);
            pp_body_memory_give(race->m, n);
        }
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void test_memory_budget_threads(void **state)
{
    apr_pool_t *p = *state;
    budget_race_t race = { pp_body_memory_create(p), 64 * 1024, 0, 0 };
    apr_thread_t *t[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(apr_thread_create(&t[i], NULL, budget_worker, &race, p), APR_SUCCESS);
    for (int i = 0; i < 8; i++) {
        apr_status_t rv;
        apr_thread_join(&rv, t[i]);
    }
    assert_int_equal(race.over, 0);
    assert_int_equal(pp_body_memory_used(race.m), 0);
    assert_false(pp_body_memory_take(race.m, 64 * 1024 + 1, 64 * 1024));
    assert_true(pp_body_memory_take(race.m, 64 * 1024, 64 * 1024));
    assert_false(pp_body_memory_take(race.m, 1, 64 * 1024));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_memory_region, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_memory_budget_bounds, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_memory_outgrown, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_memory_budget_threads, pp_test_pool_setup,
                                        pp_test_pool_teardown),
    };
    return buffer_tests_run("test_buffer_memory", tests, sizeof tests / sizeof tests[0]);
}
