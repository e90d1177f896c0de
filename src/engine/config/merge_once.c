/*
 * Configuration merged once (issue 13 item 0). Apache merges a request's <Directory>/<Location>
 * configurations per request; when both sides hold Parapet directives that meant a new merged
 * configuration and a new rule plan for every request. Configurations made at start-up are
 * made "permanent" by the adapter: they carry a memo of the merges they were the child of,
 * keyed by the parent, so each distinct (parent, child) pair is merged and planned once, the
 * first time a request needs it, and every later request gets the same read-only result.
 *
 * Thread safety: the memo has its own mutex and its own pool with its own allocator, so
 * nothing here allocates from a pool another thread may use. Look-ups take no lock: entries
 * are only ever appended, each one filled (and its result built) before the count that
 * covers it is published with release order, and read after an acquire load of the count.
 * Apache merges per-directory configurations on every request, so a mutex here was taken
 * by every request of every thread (perf showed it contended under load); only a miss
 * locks now, once per distinct (parent, child) pair. Configurations made per request
 * (.htaccess) are never permanent: their pointers can be reused after the request, so they
 * are never memo keys. The memo is bounded; past the bound merges are made per request as
 * before (correct, only slower).
 */
#include "config/config.h"

#include <apr_thread_mutex.h>

#define MEMO_MAX 64

typedef struct memo_entry_t {
    const pp_cfg_t *parent;
    pp_cfg_t *result;
} memo_entry_t;

typedef struct pp_cfg_memo_t pp_cfg_memo_t;
struct pp_cfg_memo_t {
    apr_thread_mutex_t *lock;
    apr_pool_t *pool;          /* own allocator: results live here until cp is destroyed */
    memo_entry_t entries[MEMO_MAX];
    int n;
};

static apr_status_t memo_destroy(void *data)
{
    apr_pool_destroy(data);
    return APR_SUCCESS;
}

/* owner: the pool whose destruction ends the memo (the configuration's). */
static pp_cfg_memo_t *memo_create(apr_pool_t *owner)
{
    apr_pool_t *pool;
    if (pp_pool_create_own(&pool, NULL) != APR_SUCCESS)
        return NULL;
    pp_cfg_memo_t *m = apr_pcalloc(pool, sizeof *m);
    if (apr_thread_mutex_create(&m->lock, APR_THREAD_MUTEX_DEFAULT, pool) != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return NULL;
    }
    m->pool = pool;
    apr_pool_cleanup_register(owner, pool, memo_destroy, apr_pool_cleanup_null);
    return m;
}

void pp_cfg_make_permanent(pp_cfg_t *cfg, apr_pool_t *owner)
{
    if (!cfg->memo)
        cfg->memo = memo_create(owner);
}

/* The result memoised for parent, or NULL; safe without the lock (see the top). */
static pp_cfg_t *memo_find(pp_cfg_memo_t *memo, const pp_cfg_t *parent)
{
    int n = __atomic_load_n(&memo->n, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++)
        if (memo->entries[i].parent == parent)
            return memo->entries[i].result;
    return NULL;
}

pp_cfg_t *pp_cfg_merge_once(apr_pool_t *p, const pp_cfg_t *parent, const pp_cfg_t *child)
{
    pp_cfg_memo_t *memo = child->memo;
    if (!memo || !parent->memo)
        return pp_cfg_merge(p, parent, child);
    pp_cfg_t *result = memo_find(memo, parent);
    if (result)
        return result;
    apr_thread_mutex_lock(memo->lock);
    result = memo_find(memo, parent); /* another thread may have added it meanwhile */
    if (!result && memo->n < MEMO_MAX) {
        result = pp_cfg_merge(memo->pool, parent, child);
        if (result != parent && result != child) {
            /* A new configuration: its plan once, and it may itself be a parent later. */
            result->plan = pp_rule_plan_build(memo->pool, result->effective_rules);
            result->memo = memo_create(memo->pool);
        }
        memo->entries[memo->n].parent = parent;
        memo->entries[memo->n].result = result;
        __atomic_store_n(&memo->n, memo->n + 1, __ATOMIC_RELEASE);
    }
    apr_thread_mutex_unlock(memo->lock);
    return result ? result : pp_cfg_merge(p, parent, child);
}

int pp_cfg_memo_size(const pp_cfg_t *cfg)
{
    if (!cfg->memo)
        return -1;
    return __atomic_load_n(&cfg->memo->n, __ATOMIC_ACQUIRE);
}
