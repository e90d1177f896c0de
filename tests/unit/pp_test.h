/*
 * Shared cmocka fixtures for the unit tests: each test gets a fresh subpool of the file's root
 * pool as its state, destroyed after the test (so every cleanup the code registered runs).
 * A file defines `static apr_pool_t *root;` before including this header.
 */
#ifndef PP_TEST_H
#define PP_TEST_H

#include <apr_pools.h>

static int pp_test_pool_setup(void **state)
{
    apr_pool_t *p;
    if (apr_pool_create(&p, root) != APR_SUCCESS)
        return -1;
    *state = p;
    return 0;
}

static int pp_test_pool_teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

#endif
