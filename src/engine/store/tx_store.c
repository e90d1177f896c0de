/*
 * The transaction side of the store: what initcol (load) and the end of the request (commit)
 * call. Times every round trip into the collection-store latency histogram and counts failures
 * (metrics.def); a load the store cannot answer gives empty collections, or, with
 * SecCollectionStoreFailClosed On, intercepts the transaction with 503. Without a store (none
 * configured for this server) collections live for the transaction only, as in ModSecurity
 * without SecDataDir.
 */
#include "config/config.h"
#include "store/store.h"
#include "tx.h"

#include <apr_time.h>

void pp_tx_set_store(pp_tx_t *tx, pp_store_t *store)
{
    tx->store = store;
}

pp_store_t *pp_tx_store(const pp_tx_t *tx)
{
    return tx->store;
}

static void observe(pp_tx_t *tx, apr_time_t t0, pp_store_status_t st)
{
    pp_hist_observe(&tx->metrics.hist[PP_HIST_COLLECTION_STORE], apr_time_now() - t0);
    if (st != PP_STORE_OK)
        tx->metrics.counter[PP_METRIC_COLLECTION_STORE_ERRORS]++;
}

pp_store_status_t pp_tx_store_load(pp_tx_t *tx, pp_phase_t phase, int n, const char *const *names,
                                   const char *const *keys, long timeout_s, pp_store_rec_t **recs)
{
    apr_time_t t0 = apr_time_now();
    pp_store_status_t st = pp_store_load_many(tx->store, tx->pool, n, names, keys, timeout_s,
                                              apr_time_sec(tx->start), recs);
    if (!tx->store)
        return st;
    observe(tx, t0, st);
    if (st != PP_STORE_OK && pp_cfg_int(tx->cfg->collection_fail_closed, 0) == 1)
        pp_tx_fail(tx, 503, phase, "persistent collection store unavailable "
                                   "(SecCollectionStoreFailClosed On)");
    return st;
}

pp_store_status_t pp_tx_store_commit(pp_tx_t *tx, int n, pp_store_rec_t **recs)
{
    if (!tx->store)
        return PP_STORE_OK;
    int dirty = 0;
    for (int i = 0; i < n; i++)
        dirty += pp_store_dirty(recs[i]);
    if (!dirty)
        return PP_STORE_OK;
    apr_time_t t0 = apr_time_now();
    pp_store_status_t st = pp_store_commit(tx->store, n, recs, apr_time_sec(tx->start));
    observe(tx, t0, st);
    return st;
}
