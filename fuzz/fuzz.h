/*
 * What every fuzz target shares: CHECK, which aborts (a libFuzzer finding) with the failed
 * condition on stderr, the root/scratch pool pair most targets work in (scratch is cleared
 * after each input). The targets that run transactions also share configuration loading and
 * request feeding: fuzz/common.h.
 */
#ifndef PP_FUZZ_H
#define PP_FUZZ_H

#include <apr_general.h>
#include <apr_pools.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);     \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

static inline void fuzz_pools_init(apr_pool_t **root, apr_pool_t **scratch)
{
    apr_initialize();
    apr_pool_create(root, NULL);
    apr_pool_create(scratch, *root);
}

#endif
