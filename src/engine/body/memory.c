/*
 * A worker process's memory budget for request bodies (SecRequestBodyMemoryBudget): how many
 * bytes of bodies past SecRequestBodyInMemoryLimit its requests may hold in memory at once,
 * instead of spooling them to disk (buffer.c). One per process, shared by its threads: a
 * counter changed with atomic compare-and-swap, so a request takes its share or is told there
 * is none left without a lock. A body that does not fit goes to its spool file as before, so
 * the process holds at most the budget however many uploads run at once and however large.
 */
#include "body/body.h"

struct pp_body_memory_t {
    apr_size_t used; /* bytes taken and not yet given back (__atomic builtins) */
};

pp_body_memory_t *pp_body_memory_create(apr_pool_t *p)
{
    return apr_pcalloc(p, sizeof(pp_body_memory_t));
}

bool pp_body_memory_take(pp_body_memory_t *m, apr_size_t n, apr_size_t budget)
{
    apr_size_t used = __atomic_load_n(&m->used, __ATOMIC_RELAXED);
    do {
        if (n > budget || used > budget - n)
            return false;
    } while (!__atomic_compare_exchange_n(&m->used, &used, used + n, true, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return true;
}

void pp_body_memory_give(pp_body_memory_t *m, apr_size_t n)
{
    __atomic_sub_fetch(&m->used, n, __ATOMIC_RELAXED);
}

apr_size_t pp_body_memory_used(const pp_body_memory_t *m)
{
    return __atomic_load_n(&m->used, __ATOMIC_RELAXED);
}
