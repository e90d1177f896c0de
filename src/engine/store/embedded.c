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
 */
#include "store/store_int.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <apr_sha1.h>
#include <apr_strings.h>
#include <lmdb.h>

#define SWEEP_PER_WRITE 8

typedef struct {
    MDB_env *env;
    MDB_dbi dbi;
    /* Where this process's bounded sweep goes on: only touched inside a write transaction,
     * which LMDB holds for one thread at a time. */
    char sweep_at[512];
    size_t sweep_len;
} emb_t;

static uint64_t usec_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static apr_status_t emb_close(void *data)
{
    emb_t *e = data;
    if (e->env) {
        mdb_env_close(e->env);
        e->env = NULL;
    }
    return APR_SUCCESS;
}

const char *pp_store_embedded_open(pp_store_t *s, apr_pool_t *p)
{
    emb_t *e = apr_pcalloc(p, sizeof(*e));
    const char *path = s->conf.path;
    if (!path)
        return "embedded collection store: no file (SecDataDir)";
    int rc = mdb_env_create(&e->env);
    if (rc)
        return apr_psprintf(p, "embedded collection store: %s", mdb_strerror(rc));
    apr_pool_cleanup_register(p, e, emb_close, apr_pool_cleanup_null);
    size_t map = s->conf.map_size ? s->conf.map_size : (size_t)256 << 20;
    rc = mdb_env_set_mapsize(e->env, map);
    if (!rc)
        rc = mdb_env_set_maxreaders(e->env, 1024);
    if (!rc)
        rc = mdb_env_open(e->env, path, MDB_NOSUBDIR | MDB_NOTLS | MDB_NOSYNC, 0640);
    if (rc)
        return apr_psprintf(p, "embedded collection store %s: %s", path, mdb_strerror(rc));
    int dead = 0;
    mdb_reader_check(e->env, &dead); /* slots of processes that died holding a read txn */
    MDB_txn *txn;
    rc = mdb_txn_begin(e->env, NULL, 0, &txn);
    if (!rc) {
        rc = mdb_dbi_open(txn, NULL, 0, &e->dbi);
        if (!rc)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    if (rc)
        return apr_psprintf(p, "embedded collection store %s: %s", path, mdb_strerror(rc));
    s->impl = e;
    return NULL;
}

/* "PREFIXNAME:key"; a key LMDB cannot hold (over its 511-byte limit: a long session cookie)
 * becomes "PREFIXNAME:#" and the SHA-1 of the key in hex (the record's KEY keeps the key). */
static const char *rec_key(apr_pool_t *p, const pp_store_rec_t *r, size_t *len)
{
    const emb_t *e = r->store->impl;
    const char *k = apr_pstrcat(p, r->store->conf.prefix, r->name, ":", r->key, NULL);
    *len = strlen(k);
    if (*len <= (size_t)mdb_env_get_maxkeysize(e->env))
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

static pp_store_status_t emb_load(pp_store_t *s, apr_pool_t *p, int n, pp_store_rec_t **recs,
                                  int64_t now)
{
    emb_t *e = s->impl;
    uint64_t t0 = usec_now();
    MDB_txn *txn;
    int rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn);
    if (rc) {
        pp_store_account(s, false, usec_now() - t0, 1);
        return PP_STORE_UNAVAILABLE;
    }
    for (int i = 0; i < n; i++) {
        MDB_val k, v;
        k.mv_data = (void *)rec_key(p, recs[i], &k.mv_size);
        apr_array_header_t *fields = NULL;
        if (mdb_get(txn, e->dbi, &k, &v) == 0)
            fields = pp_store_deserialise(p, v.mv_data, v.mv_size);
        pp_store_loaded(recs[i], fields, now);
    }
    mdb_txn_abort(txn);
    pp_store_account(s, true, usec_now() - t0, 1);
    return PP_STORE_OK;
}

static bool expired_value(apr_pool_t *p, const MDB_val *v, int64_t now)
{
    apr_array_header_t *f = pp_store_deserialise(p, v->mv_data, v->mv_size);
    const pp_sfield_t *x = pp_store_find(f, "__expire_KEY");
    return !x || pp_store_atoi(x->value) <= now;
}

/* Deletes expired records from start on (NULL: the first), at most max looked at, wrapping
 * around once; *next (when given) is where the next sweep should start. */
static long sweep_from(MDB_txn *txn, MDB_dbi dbi, const MDB_val *start, int64_t now, long max,
                       emb_t *next)
{
    MDB_cursor *c;
    if (mdb_cursor_open(txn, dbi, &c))
        return 0;
    apr_pool_t *tmp;
    apr_pool_create(&tmp, NULL);
    MDB_val k, v;
    long removed = 0, seen = 0;
    int rc;
    if (start) {
        k = *start;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    } else {
        rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    }
    while (rc == 0 && seen < max) {
        seen++;
        if (expired_value(tmp, &v, now) && mdb_cursor_del(c, 0) == 0) {
            removed++;
            rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
            if (rc == 0)
                continue;
            break;
        }
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        if (rc == MDB_NOTFOUND && start) {
            rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); /* wrap around once */
            start = NULL;
        }
    }
    if (next) {
        if (rc == 0 && k.mv_size <= sizeof(next->sweep_at)) {
            memcpy(next->sweep_at, k.mv_data, k.mv_size);
            next->sweep_len = k.mv_size;
        } else {
            next->sweep_len = 0;
        }
    }
    mdb_cursor_close(c);
    apr_pool_destroy(tmp);
    return removed;
}

static int write_all(emb_t *e, apr_pool_t *p, int n, pp_store_rec_t **recs, int64_t now)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(e->env, NULL, 0, &txn);
    if (rc)
        return rc;
    for (int i = 0; i < n && !rc; i++) {
        if (!pp_store_dirty(recs[i]))
            continue;
        MDB_val k, v;
        k.mv_data = (void *)rec_key(p, recs[i], &k.mv_size);
        apr_array_header_t *stored = NULL;
        if (mdb_get(txn, e->dbi, &k, &v) == 0)
            stored = pp_store_deserialise(p, v.mv_data, v.mv_size);
        int64_t expires;
        apr_array_header_t *merged = pp_store_merge(p, recs[i], stored, now, &expires);
        v.mv_data = pp_store_serialise(p, merged, &v.mv_size);
        rc = mdb_put(txn, e->dbi, &k, &v, 0);
    }
    if (!rc) {
        MDB_val at = { e->sweep_len, e->sweep_at };
        sweep_from(txn, e->dbi, e->sweep_len ? &at : NULL, now, SWEEP_PER_WRITE, e);
    }
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

static long emb_sweep(pp_store_t *s, int64_t now, long max);

static pp_store_status_t emb_commit(pp_store_t *s, int n, pp_store_rec_t **recs, int64_t now)
{
    emb_t *e = s->impl;
    uint64_t t0 = usec_now();
    apr_pool_t *p = recs[0]->pool;
    int rc = write_all(e, p, n, recs, now);
    if (rc == MDB_MAP_FULL) {
        emb_sweep(s, now, -1);
        rc = write_all(e, p, n, recs, now);
    }
    pp_store_account(s, rc == 0, usec_now() - t0, 1);
    if (rc && s->conf.log)
        s->conf.log(s->conf.log_baton, 3,
                    apr_psprintf(p, "embedded collection store: write failed: %s",
                                 mdb_strerror(rc)));
    return rc ? PP_STORE_UNAVAILABLE : PP_STORE_OK;
}

static long emb_sweep(pp_store_t *s, int64_t now, long max)
{
    emb_t *e = s->impl;
    MDB_txn *txn;
    if (mdb_txn_begin(e->env, NULL, 0, &txn))
        return 0;
    long removed = sweep_from(txn, e->dbi, NULL, now, max < 0 ? (long)1 << 62 : max, NULL);
    if (mdb_txn_commit(txn))
        return 0;
    return removed;
}

static long emb_count(pp_store_t *s)
{
    emb_t *e = s->impl;
    MDB_txn *txn;
    MDB_stat st;
    if (mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn))
        return -1;
    int rc = mdb_stat(txn, e->dbi, &st);
    mdb_txn_abort(txn);
    return rc ? -1 : (long)st.ms_entries;
}

const pp_store_backend_t pp_store_embedded_backend = {
    .load = emb_load, .commit = emb_commit, .sweep = emb_sweep, .count = emb_count,
};
