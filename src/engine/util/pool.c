/*
 * Scratch pools for start-up work. A pool made by apr_pool_create takes its blocks from its
 * parent's allocator and gives them back there when it is destroyed; under Apache that is the
 * process allocator, which keeps every freed block mapped for later use. A large scratch block
 * (an automaton's transition table under construction: hundreds of KB) fits none of the
 * configuration's later small allocations, so it stayed resident, unused, in every worker.
 * pp_pool_create_own gives the pool an allocator of its own: destroying the pool returns its
 * blocks to the system.
 *
 * The same holds per request under Apache: a connection's allocator keeps the blocks its
 * requests freed (MaxMemFree), so a request's large buffers (body/buffer.c) take a pool of
 * their own too, pp_pool_create_released, destroyed by a cleanup of the request's pool.
 */
#include "util/util.h"

#include <apr_allocator.h>

/* A pool with an allocator of its own: a child of parent (NULL: a root pool), or, unmanaged,
 * one that no pool destroys. */
static apr_status_t create_with_allocator(apr_pool_t **out, apr_pool_t *parent, bool unmanaged)
{
    apr_allocator_t *alloc;
    apr_status_t rv = apr_allocator_create(&alloc);
    if (rv != APR_SUCCESS)
        return rv;
    rv = unmanaged ? apr_pool_create_unmanaged_ex(out, NULL, alloc)
                   : apr_pool_create_ex(out, parent, NULL, alloc);
    if (rv != APR_SUCCESS) {
        apr_allocator_destroy(alloc);
        return rv;
    }
    apr_allocator_owner_set(alloc, *out);
    return APR_SUCCESS;
}

apr_status_t pp_pool_create_own(apr_pool_t **out, apr_pool_t *parent)
{
    return create_with_allocator(out, parent, false);
}

static apr_status_t destroy_released(void *data)
{
    apr_pool_destroy(data);
    return APR_SUCCESS;
}

apr_status_t pp_pool_create_released(apr_pool_t **out, apr_pool_t *owner)
{
    apr_status_t rv = create_with_allocator(out, NULL, true);
    if (rv == APR_SUCCESS)
        apr_pool_cleanup_register(owner, *out, destroy_released, apr_pool_cleanup_null);
    return rv;
}
