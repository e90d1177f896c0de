/*
 * The embedded store: one LMDB file per server (SecDataDir/parapet-collections.lmdb, or the path
 * configured). Why LMDB rather than APR shared memory: records survive a restart (as
 * ModSecurity's SDBM files do), the size is bounded by the map size and not by a fixed slot
 * table, readers take no lock at all (MVCC), writers from every process and thread are
 * serialised by LMDB's own robust lock (exact counts under prefork, worker and event), and its
 * copy-on-write B+tree is never left half-written by a crashed worker. MDB_NOSYNC: a write does
 * not wait for the disk (counters are not worth an fsync per request); after an operating system
 * crash the file may have to be deleted (it holds only counters), an Apache crash is harmless.
 *
 * Record key: "PREFIXNAME:key" (NAME upper case). Value: name\0value\0... (store.c). A write re-reads
 * the record inside the write transaction and applies the request's changes to it (store.c
 * pp_store_merge), so =+1 from many processes at once loses nothing. Each write also looks at
 * the next few records of a round-robin walk over the whole file (per process) and deletes the
 * expired ones, so a flood of distinct keys is cleaned up as it goes; when the map is full a
 * full sweep runs and the write is tried once more.
 *
 * Failure, as for Redis (store.h): a child that cannot open the file (permissions changed after
 * start-up, a file that is not an LMDB file, a full disk) gets a store that is unavailable, not no
 * store at all (conf.open_retry): loads fail at once with empty collections (fail open, or 503
 * with SecCollectionStoreFailClosed On), and the open is retried after 100 ms, doubling to 5 s;
 * the first failure logs one line, the first success after it one more. An open store whose
 * reads or writes fail (map full of live records, a damaged file) is an outage the same way, one
 * line when it starts and one when it ends, never one per request. While writes fail, a write
 * is tried at most every 100 ms doubling to 5 s (each failed one runs the full sweep) and loads
 * answer PP_STORE_READ_ONLY: the records are there for the rules, but under FailClosed On the
 * request gets 503, since nothing it counts would be kept; when such a request writes nothing, a
 * load past the back-off sweeps and tries a probe write, so the outage ends without one.
 */
#include "store/store_int.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include <apr_sha1.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <lmdb.h>

#define SWEEP_PER_WRITE 8
#define SWEEP_BATCH 1024
#define RETRY_FIRST_US 100000u
#define RETRY_MAX_US 5000000u

enum { DOWN_READ = 1, DOWN_WRITE = 2 }; /* cannot open or read / cannot write */

/* A key where a sweep goes on (len 0: from the first record). */
typedef struct {
    char at[512];
    size_t len;
} sweep_pos_t;

typedef struct {
    MDB_env *env; /* NULL until open; set once under mu, read with acquire ordering */
    MDB_dbi dbi;
    apr_thread_mutex_t *mu; /* the open and the outage state below */
    /* What is failing (DOWN_*; 0: no outage): changed under mu, read without it on the fast
     * path (atomic). A read that works does not end an outage of writes (a map full of live
     * records still reads). */
    unsigned down;
    uint64_t down_since, retry_at, backoff_us;
    uint64_t wretry_at, wbackoff_us; /* writes while they fail: tried at most this often */
    /* Where this process's bounded sweep goes on: only touched inside a write transaction,
     * which LMDB holds for one thread at a time. */
    sweep_pos_t sweep;
} emb_t;

static apr_status_t emb_close(void *data)
{
    emb_t *e = data;
    if (e->env) {
        mdb_env_close(e->env);
        e->env = NULL;
    }
    return APR_SUCCESS;
}

/* Opens the environment; 0 or an LMDB/errno code (the environment is closed again on failure). */
static int env_open(pp_store_t *s, MDB_env **out, MDB_dbi *dbi)
{
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (rc)
        return rc;
    size_t map = s->conf.map_size ? s->conf.map_size : (size_t)256 << 20;
    rc = mdb_env_set_mapsize(env, map);
    if (!rc)
        rc = mdb_env_set_maxreaders(env, 1024);
    if (!rc)
        rc = mdb_env_open(env, s->conf.path, MDB_NOSUBDIR | MDB_NOTLS | MDB_NOSYNC, 0640);
    if (!rc) {
        int dead = 0;
        mdb_reader_check(env, &dead); /* slots of processes that died holding a read txn */
        MDB_txn *txn;
        rc = mdb_txn_begin(env, NULL, 0, &txn);
        if (!rc) {
            rc = mdb_dbi_open(txn, NULL, 0, dbi);
            if (!rc)
                rc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn);
        }
    }
    if (rc) {
        mdb_env_close(env);
        return rc;
    }
    *out = env;
    return 0;
}

/* An operation failed (what: DOWN_*): true for the first failure of an outage, which logs one
 * line. Under e->mu. */
static bool down_locked(emb_t *e, unsigned what, uint64_t now)
{
    unsigned was = e->down;
    __atomic_store_n(&e->down, was | what, __ATOMIC_RELAXED);
    if (was)
        return false;
    e->down_since = now;
    return true;
}

static void log_down(pp_store_t *s, const char *why)
{
    pp_store_outage_begin(s, "embedded collection store", s->conf.path, why);
}

static void failed(pp_store_t *s, unsigned what, int rc)
{
    emb_t *e = s->impl;
    uint64_t now = pp_store_usec_now();
    apr_thread_mutex_lock(e->mu);
    if (what == DOWN_WRITE && !(e->down & DOWN_WRITE)) {
        e->wbackoff_us = RETRY_FIRST_US;
        e->wretry_at = now + e->wbackoff_us;
    }
    bool first = down_locked(e, what, now);
    apr_thread_mutex_unlock(e->mu);
    if (first) {
        char why[256];
        snprintf(why, sizeof(why), "%s: %s", what == DOWN_WRITE ? "write" : "read",
                 mdb_strerror(rc));
        log_down(s, why);
    }
}

/* An operation worked (what: DOWN_READ for a load, both for a write, which reads too): the
 * outage ends, with one line, when nothing is failing any more. */
static void succeeded(pp_store_t *s, unsigned what)
{
    emb_t *e = s->impl;
    if (!(__atomic_load_n(&e->down, __ATOMIC_RELAXED) & what))
        return;
    apr_thread_mutex_lock(e->mu);
    bool ended = e->down && !(e->down & ~what);
    uint64_t since = e->down_since;
    __atomic_store_n(&e->down, e->down & ~what, __ATOMIC_RELAXED);
    apr_thread_mutex_unlock(e->mu);
    if (ended)
        pp_store_outage_end(s, "embedded collection store", s->conf.path, since);
}

/* The open environment, or NULL: not open and within the back-off, or the retry failed. */
static MDB_env *env_get(pp_store_t *s)
{
    emb_t *e = s->impl;
    MDB_env *env = __atomic_load_n(&e->env, __ATOMIC_ACQUIRE);
    if (env)
        return env;
    uint64_t now = pp_store_usec_now();
    int rc = 0;
    bool first = false;
    apr_thread_mutex_lock(e->mu);
    env = e->env;
    if (!env && now >= e->retry_at) {
        MDB_dbi dbi;
        rc = env_open(s, &env, &dbi);
        if (!rc) {
            e->dbi = dbi;
            __atomic_store_n(&e->env, env, __ATOMIC_RELEASE);
        } else {
            env = NULL;
            first = down_locked(e, DOWN_READ, now);
            e->backoff_us = e->backoff_us ? e->backoff_us * 2 : RETRY_FIRST_US;
            if (e->backoff_us > RETRY_MAX_US)
                e->backoff_us = RETRY_MAX_US;
            e->retry_at = now + e->backoff_us;
        }
    }
    apr_thread_mutex_unlock(e->mu);
    if (first) {
        char why[256];
        snprintf(why, sizeof(why), "open: %s", mdb_strerror(rc));
        log_down(s, why);
    }
    return env;
}

const char *pp_store_embedded_open(pp_store_t *s, apr_pool_t *p)
{
    emb_t *e = apr_pcalloc(p, sizeof(*e));
    if (!s->conf.path)
        return "embedded collection store: no file (SecDataDir)";
    if (apr_thread_mutex_create(&e->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return "embedded collection store: cannot create a mutex";
    apr_pool_cleanup_register(p, e, emb_close, apr_pool_cleanup_null);
    s->impl = e;
    int rc = env_open(s, &e->env, &e->dbi);
    if (!rc)
        return NULL;
    if (!s->conf.open_retry)
        return apr_psprintf(p, "embedded collection store %s: %s", s->conf.path,
                            mdb_strerror(rc));
    /* A child: the store exists but is unavailable until a retry opens it. */
    uint64_t now = pp_store_usec_now();
    apr_thread_mutex_lock(e->mu);
    down_locked(e, DOWN_READ, now);
    e->backoff_us = RETRY_FIRST_US;
    e->retry_at = now + e->backoff_us;
    apr_thread_mutex_unlock(e->mu);
    char why[256];
    snprintf(why, sizeof(why), "open: %s", mdb_strerror(rc));
    log_down(s, why);
    return NULL;
}

/* "PREFIXNAME:key"; a key LMDB cannot hold (over its 511-byte limit: a long session cookie)
 * becomes "PREFIXNAME:#" and the SHA-1 of the key in hex (the record's KEY keeps the key). */
static const char *rec_key(apr_pool_t *p, MDB_env *env, const pp_store_rec_t *r, size_t *len)
{
    const char *k = apr_pstrcat(p, r->store->conf.prefix, r->name, ":", r->key, NULL);
    *len = strlen(k);
    if (*len <= (size_t)mdb_env_get_maxkeysize(env))
        return k;
    unsigned char d[APR_SHA1_DIGESTSIZE];
    apr_sha1_ctx_t ctx;
    apr_sha1_init(&ctx);
    apr_sha1_update(&ctx, r->key, (unsigned int)strlen(r->key));
    apr_sha1_final(d, &ctx);
    char hex[2 * APR_SHA1_DIGESTSIZE + 1];
    for (int i = 0; i < APR_SHA1_DIGESTSIZE; i++)
        apr_snprintf(hex + 2 * i, 3, "%02x", d[i]);
    k = apr_pstrcat(p, r->store->conf.prefix, r->name, ":#", hex, NULL);
    *len = strlen(k);
    return k;
}

/* Whether a write may be tried: always, unless writes are failing and their back-off has not
 * passed; when it has, the next try is pushed out (doubling to 5 s). */
static bool write_due(emb_t *e)
{
    if (!(__atomic_load_n(&e->down, __ATOMIC_RELAXED) & DOWN_WRITE))
        return true;
    uint64_t now = pp_store_usec_now();
    bool due = false;
    apr_thread_mutex_lock(e->mu);
    if (!(e->down & DOWN_WRITE)) {
        due = true;
    } else if (now >= e->wretry_at) {
        due = true;
        e->wbackoff_us = e->wbackoff_us * 2 > RETRY_MAX_US ? RETRY_MAX_US : e->wbackoff_us * 2;
        e->wretry_at = now + e->wbackoff_us;
    }
    apr_thread_mutex_unlock(e->mu);
    return due;
}

static long sweep_env(emb_t *e, MDB_env *env, int64_t now, long max);

/* Whether writes work again, without a request's record: the expired records swept, then a
 * record of a typical size written and deleted in one committed transaction. */
static int probe_write(emb_t *e, MDB_env *env, int64_t now)
{
    sweep_env(e, env, now, -1);
    MDB_txn *txn;
    int rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc)
        return rc;
    char key[] = "\001parapet-probe", val[512];
    memset(val, 'x', sizeof(val));
    MDB_val k = { sizeof(key) - 1, key }, v = { sizeof(val), val };
    rc = mdb_put(txn, e->dbi, &k, &v, 0);
    if (!rc)
        rc = mdb_del(txn, e->dbi, &k, NULL);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

static pp_store_status_t emb_load(pp_store_t *s, apr_pool_t *p, int n, pp_store_rec_t **recs,
                                  int64_t now)
{
    emb_t *e = s->impl;
    uint64_t t0 = pp_store_usec_now();
    MDB_env *env = env_get(s);
    if (!env) {
        pp_store_account(s, false, pp_store_usec_now() - t0, 0);
        return PP_STORE_UNAVAILABLE;
    }
    MDB_txn *txn;
    int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (!rc) {
        for (int i = 0; i < n && !rc; i++) {
            MDB_val k, v;
            k.mv_data = (void *)rec_key(p, env, recs[i], &k.mv_size);
            rc = mdb_get(txn, e->dbi, &k, &v);
            if (rc == MDB_NOTFOUND) {
                pp_store_loaded(recs[i], NULL, now);
                rc = 0;
            } else if (rc == 0) {
                pp_store_loaded(recs[i], pp_store_deserialise(p, v.mv_data, v.mv_size), now);
            } /* otherwise a damaged file: an outage, not an empty record to write back */
        }
        mdb_txn_abort(txn);
    }
    pp_store_account(s, rc == 0, pp_store_usec_now() - t0, 1);
    if (rc) {
        failed(s, DOWN_READ, rc);
        return PP_STORE_UNAVAILABLE;
    }
    if (__atomic_load_n(&e->down, __ATOMIC_RELAXED) & DOWN_WRITE) {
        if (!write_due(e) || probe_write(e, env, now)) {
            succeeded(s, DOWN_READ);
            return PP_STORE_READ_ONLY;
        }
        succeeded(s, DOWN_READ | DOWN_WRITE);
        return PP_STORE_OK;
    }
    succeeded(s, DOWN_READ);
    return PP_STORE_OK;
}

static bool expired_value(apr_pool_t *p, const MDB_val *v, int64_t now)
{
    apr_array_header_t *f = pp_store_deserialise(p, v->mv_data, v->mv_size);
    const pp_sfield_t *x = pp_store_find(f, "__expire_KEY");
    return !x || pp_store_atoi(x->value) <= now;
}

/* Deletes the expired records among the next max from pos on; wrap: go on from the first record
 * at the end (once), otherwise stop there. pos is left where the next sweep should start (len 0
 * when the end was reached). 0, or the LMDB error of a deletion (the transaction must then be
 * aborted: a map full of live records cannot even delete). */
static int sweep_from(MDB_txn *txn, MDB_dbi dbi, sweep_pos_t *pos, bool wrap, int64_t now,
                      long max, long *removed)
{
    MDB_cursor *c;
    *removed = 0;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc)
        return rc;
    apr_pool_t *tmp;
    apr_pool_create(&tmp, NULL);
    MDB_val k, v;
    long seen = 0;
    int err = 0;
    if (pos->len) {
        k = (MDB_val){ pos->len, pos->at };
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    } else {
        wrap = false; /* from the first: nothing before it to wrap to */
        rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    }
    while (rc == 0 && seen < max) {
        seen++;
        if (expired_value(tmp, &v, now)) {
            err = mdb_cursor_del(c, 0);
            if (err)
                break;
            ++*removed;
            rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
            if (rc == 0)
                continue;
            break;
        }
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        if (rc == MDB_NOTFOUND && wrap) {
            rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); /* wrap around once */
            wrap = false;
        }
    }
    if (!err && rc == 0 && k.mv_size <= sizeof(pos->at)) {
        memcpy(pos->at, k.mv_data, k.mv_size);
        pos->len = k.mv_size;
    } else {
        pos->len = 0;
    }
    mdb_cursor_close(c);
    apr_pool_destroy(tmp);
    return err;
}

/* The write-back of the dirty records in one write transaction; with sweep, the bounded sweep
 * of the next few records first. */
static int write_all(emb_t *e, MDB_env *env, apr_pool_t *p, int n, pp_store_rec_t **recs,
                     int64_t now, bool sweep)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc)
        return rc;
    if (sweep) {
        long removed;
        rc = sweep_from(txn, e->dbi, &e->sweep, true, now, SWEEP_PER_WRITE, &removed);
    }
    for (int i = 0; i < n && !rc; i++) {
        if (!pp_store_dirty(recs[i]))
            continue;
        MDB_val k, v;
        k.mv_data = (void *)rec_key(p, env, recs[i], &k.mv_size);
        apr_array_header_t *stored = NULL;
        rc = mdb_get(txn, e->dbi, &k, &v);
        if (rc == 0)
            stored = pp_store_deserialise(p, v.mv_data, v.mv_size);
        else if (rc != MDB_NOTFOUND)
            break;
        int64_t expires;
        apr_array_header_t *merged = pp_store_merge(p, recs[i], stored, now, &expires);
        v.mv_data = pp_store_serialise(p, merged, &v.mv_size);
        rc = mdb_put(txn, e->dbi, &k, &v, 0);
    }
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

/* Deletes the expired records of the whole file (max < 0) or of its first max records, in
 * write transactions of up to SWEEP_BATCH records each: each commit frees pages for the next, so
 * a map that filled up with records which have expired since is emptied, where one transaction
 * deleting them all would itself run out of pages (MDB_MAP_FULL) and remove nothing; a batch
 * that still does not fit is halved. */
static long sweep_env(emb_t *e, MDB_env *env, int64_t now, long max)
{
    sweep_pos_t pos = { .len = 0 };
    long total = 0, left = max < 0 ? LONG_MAX : max, size = SWEEP_BATCH;
    while (left > 0) {
        MDB_txn *txn;
        if (mdb_txn_begin(env, NULL, 0, &txn))
            break;
        sweep_pos_t from = pos;
        long removed, batch = left < size ? left : size;
        int rc = sweep_from(txn, e->dbi, &pos, false, now, batch, &removed);
        if (rc)
            mdb_txn_abort(txn);
        else
            rc = mdb_txn_commit(txn); /* may need pages too (the free list); frees txn */
        if (rc) {
            if (size == 1)
                break;
            size /= 2; /* fewer deletions need fewer free pages */
            pos = from;
            continue;
        }
        total += removed;
        left -= batch;
        if (!pos.len) /* the end */
            break;
    }
    return total;
}

static pp_store_status_t emb_commit(pp_store_t *s, int n, pp_store_rec_t **recs, int64_t now)
{
    emb_t *e = s->impl;
    uint64_t t0 = pp_store_usec_now();
    MDB_env *env = env_get(s);
    if (!env) {
        pp_store_account(s, false, pp_store_usec_now() - t0, 0);
        return PP_STORE_UNAVAILABLE;
    }
    if (!write_due(e)) { /* writes are failing: not again before the back-off has passed */
        pp_store_account(s, false, pp_store_usec_now() - t0, 0);
        return PP_STORE_UNAVAILABLE;
    }
    apr_pool_t *p = recs[0]->pool;
    int rc = write_all(e, env, p, n, recs, now, true);
    if (rc == MDB_MAP_FULL) {
        sweep_env(e, env, now, -1);
        rc = write_all(e, env, p, n, recs, now, false);
    }
    pp_store_account(s, rc == 0, pp_store_usec_now() - t0, 1);
    if (rc) {
        failed(s, DOWN_WRITE, rc);
        return PP_STORE_UNAVAILABLE;
    }
    succeeded(s, DOWN_READ | DOWN_WRITE);
    return PP_STORE_OK;
}

static long emb_sweep(pp_store_t *s, int64_t now, long max)
{
    MDB_env *env = env_get(s);
    return env ? sweep_env(s->impl, env, now, max) : 0;
}

static long emb_count(pp_store_t *s)
{
    emb_t *e = s->impl;
    MDB_env *env = env_get(s);
    MDB_txn *txn;
    MDB_stat st;
    if (!env || mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
        return -1;
    int rc = mdb_stat(txn, e->dbi, &st);
    mdb_txn_abort(txn);
    return rc ? -1 : (long)st.ms_entries;
}

const pp_store_backend_t pp_store_embedded_backend = {
    .load = emb_load, .commit = emb_commit, .sweep = emb_sweep, .count = emb_count,
};
