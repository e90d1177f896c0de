/*
 * The transaction side of the store: what initcol (load) and the end of the request (commit)
 * call. Times every round trip into the collection-store latency histogram and counts failures
 * (metrics.def); a load the store cannot answer gives empty collections, or, with
 * SecCollectionStoreFailClosed On, intercepts the transaction with 503. Without a store (none
 * configured for this server) collections live for the transaction only, as in ModSecurity
 * without SecDataDir.
 *
 * The persistent collections of a transaction (IP, SESSION, USER, GLOBAL, RESOURCE, reference
 * §11.3-11.4): initcol names a record and reads nothing; the first rule or action that reads or
 * changes any of them loads every one named so far in one round trip; the end of the transaction
 * writes the changed ones back in one more.
 */
#include "config/config.h"
#include "store/store.h"
#include "tx.h"

#include <apr_lib.h>
#include <apr_strings.h>
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

struct pp_pcolls_t {
    pp_store_rec_t *rec[PP_PCOLL_COUNT]; /* NULL: not initialised */
    const char *sessionid, *userid;      /* setsid, setuid */
};

static struct pp_pcolls_t *pcolls(pp_tx_t *tx)
{
    if (!tx->pcolls)
        tx->pcolls = apr_pcalloc(tx->pool, sizeof(*tx->pcolls));
    return tx->pcolls;
}

void pp_tx_pcoll_set_id(pp_tx_t *tx, bool session, const char *id)
{
    if (session)
        pcolls(tx)->sessionid = apr_pstrdup(tx->pool, id);
    else
        pcolls(tx)->userid = apr_pstrdup(tx->pool, id);
    pp_tx_changed(tx, PP_SRC_TX);
}

const char *pp_tx_pcoll_id(const pp_tx_t *tx, bool session)
{
    if (!tx->pcolls)
        return NULL;
    return session ? tx->pcolls->sessionid : tx->pcolls->userid;
}

/* Sorted by name. */
static const char *const pcoll_names[PP_PCOLL_COUNT] = { "GLOBAL", "IP", "RESOURCE", "SESSION",
                                                          "USER" };

int pp_pcoll_find(const char *name, apr_size_t len)
{
    for (int i = 0; i < PP_PCOLL_COUNT; i++)
        if (strlen(pcoll_names[i]) == len && strncasecmp(pcoll_names[i], name, len) == 0)
            return i;
    return -1;
}

const char *pp_pcoll_name(pp_pcoll_id_t id)
{
    return pcoll_names[id];
}

void pp_tx_pcoll_init(pp_tx_t *tx, pp_pcoll_id_t id, const char *key)
{
    if (pcolls(tx)->rec[id]) {
        pp_debug(tx, 4, "initcol: collection %s is already initialised; ignored",
                 pcoll_names[id]);
        return;
    }
    /* ModSecurity's record name: ip and global lower case, the others namespaced by the
     * application (SecWebAppId, "default" when unset). */
    const char *name;
    if (id == PP_PCOLL_IP || id == PP_PCOLL_GLOBAL) {
        char *lower = apr_pstrdup(tx->pool, pcoll_names[id]);
        for (char *c = lower; *c; c++)
            *c = (char)apr_tolower(*c);
        name = lower;
    } else {
        name = apr_pstrcat(tx->pool, pp_cfg_webappid(tx->cfg), "_", pcoll_names[id], NULL);
    }
    long timeout = pp_cfg_collection_timeout_s(tx->cfg);
    tx->pcolls->rec[id] = pp_store_rec_create(tx->store, tx->pool, name, key, timeout,
                                              apr_time_sec(tx->start));
    pp_debug(tx, 4, "initcol: collection %s key \"%s\"", pcoll_names[id], key);
}

pp_store_rec_t *pp_tx_pcoll(pp_tx_t *tx, pp_pcoll_id_t id)
{
    if (!tx->pcolls || !tx->pcolls->rec[id])
        return NULL;
    pp_store_rec_t *r = tx->pcolls->rec[id];
    if (pp_store_is_loaded(r))
        return r;
    pp_store_rec_t *pending[PP_PCOLL_COUNT];
    int n = 0;
    for (int i = 0; i < PP_PCOLL_COUNT; i++)
        if (tx->pcolls->rec[i] && !pp_store_is_loaded(tx->pcolls->rec[i]))
            pending[n++] = tx->pcolls->rec[i];
    apr_time_t t0 = apr_time_now();
    pp_store_status_t st = pp_store_fetch(tx->store, tx->pool, n, pending,
                                          apr_time_sec(tx->start));
    pp_tx_changed(tx, PP_SRC_TX);
    if (!tx->store)
        return r;
    observe(tx, t0, st);
    if (st != PP_STORE_OK && pp_cfg_int(tx->cfg->collection_fail_closed, 0) == 1)
        pp_tx_fail(tx, 503, tx->phase_now ? tx->phase_now : PP_PHASE_REQUEST_HEADERS,
                   "persistent collection store unavailable (SecCollectionStoreFailClosed On)");
    return r;
}

void pp_tx_pcoll_changed(pp_tx_t *tx)
{
    pp_tx_changed(tx, PP_SRC_TX);
}

void pp_tx_pcoll_commit(pp_tx_t *tx)
{
    if (!tx->pcolls)
        return;
    pp_store_rec_t *recs[PP_PCOLL_COUNT];
    int n = 0;
    for (int i = 0; i < PP_PCOLL_COUNT; i++)
        if (tx->pcolls->rec[i])
            recs[n++] = tx->pcolls->rec[i];
    if (pp_tx_store_commit(tx, n, recs) != PP_STORE_OK)
        pp_debug(tx, 3, "persistent collections not written back: the store is unavailable");
}
