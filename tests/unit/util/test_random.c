/*
 * util/random.c: random identifiers (review L2). When the system's generator fails, the bytes
 * are never all zeros (every engine-made unique id was 000...0, so upload and concurrent-audit
 * file names collided) and differ between live transactions; the caller is told. The engine's
 * own unique ids (pp_tx_create without a host id) are 24 hex digits and differ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tx.h"
#include "util/util.h"

static apr_pool_t *pool;

static apr_status_t source_fails(unsigned char *buf, apr_size_t n)
{
    memset(buf, 0, n); /* what the old code then used */
    return APR_ENOTIMPL;
}

static apr_status_t source_fixed(unsigned char *buf, apr_size_t n)
{
    for (apr_size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(0xa0 + i);
    return APR_SUCCESS;
}

static bool all_zero(const unsigned char *b, apr_size_t n)
{
    for (apr_size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static void test_source_used(void **state)
{
    unsigned char b[5];
    assert_true(pp_random_bytes_from(source_fixed, b, sizeof b, NULL));
    assert_memory_equal(b, "\xa0\xa1\xa2\xa3\xa4", 5);
    char hex[7];
    assert_true(pp_random_hex_from(source_fixed, hex, 3, NULL));
    assert_string_equal(hex, "a0a1a2");
    assert_true(pp_random_bytes(b, sizeof b, NULL)); /* the system's generator works here */
}

/* A failing generator: reported, not zeros, different per salt (live transactions) and per
 * call (transactions that follow each other), and every byte position varies. */
static void test_fallback(void **state)
{
    unsigned char a[12], b[12], c[12];
    int salt_a = 0, salt_b = 0;
    assert_false(pp_random_bytes_from(source_fails, a, sizeof a, &salt_a));
    assert_false(pp_random_bytes_from(source_fails, b, sizeof b, &salt_b));
    assert_false(all_zero(a, sizeof a));
    assert_false(all_zero(b, sizeof b));
    assert_memory_not_equal(a, b, sizeof a);
    unsigned char seen_or[12] = { 0 }, seen_and[12];
    memset(seen_and, 0xff, sizeof seen_and);
    for (int i = 0; i < 64; i++) {
        assert_false(pp_random_bytes_from(source_fails, c, sizeof c, &salt_a));
        for (int k = 0; k < 12; k++) {
            seen_or[k] |= c[k];
            seen_and[k] &= c[k];
        }
    }
    for (int k = 0; k < 12; k++)
        if (seen_or[k] == seen_and[k])
            fail_msg("byte %d never changed over 64 fallback draws", k);
    char hex[25];
    assert_false(pp_random_hex_from(source_fails, hex, 12, &salt_a));
    assert_int_equal(strlen(hex), 24);
    assert_int_equal(strspn(hex, "0123456789abcdef"), 24);
    assert_string_not_equal(hex, "000000000000000000000000");
}

static void test_tx_ids(void **state)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    apr_pool_t *p1, *p2;
    apr_pool_create(&p1, pool);
    apr_pool_create(&p2, pool);
    const char *a = pp_tx_unique_id(pp_tx_create(cfg, p1, NULL));
    const char *b = pp_tx_unique_id(pp_tx_create(cfg, p2, NULL));
    assert_int_equal(strlen(a), 24);
    assert_int_equal(strspn(a, "0123456789abcdef"), 24);
    assert_string_not_equal(a, b);
    assert_string_equal(pp_tx_unique_id(pp_tx_create(cfg, p1, "host-id")), "host-id");
    apr_pool_destroy(p1);
    apr_pool_destroy(p2);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_used),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_tx_ids),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
