/*
 * Persistent collections (IP, SESSION, USER, GLOBAL, RESOURCE) behind one store interface
 * (reference secrule-2.9 §11.3-11.4). Two back ends with identical semantics: the embedded store
 * (LMDB, one file per server, the default) and Redis (shared by a fleet). A request loads each
 * collection it uses once (one round trip), reads and changes the loaded copy, and writes the
 * changes back at the end in one more round trip. The write applies the changes to what is stored
 * *then*, atomically (LMDB write transaction / one Lua script on the Redis server): a relative
 * change (=+ / =-) adds its delta to the stored value, so two servers incrementing at once lose
 * nothing; absolute sets are last-writer-wins, as in ModSecurity.
 *
 * Stored record, in ModSecurity 2.9.7's order: `__expire_KEY` (the record's own expiry, now +
 * TIMEOUT at each write), KEY, TIMEOUT, `__key`, `__name`, CREATE_TIME, UPDATE_COUNTER, the
 * user's fields and their `__expire_X` (expirevar), LAST_UPDATE_TIME (after the first write).
 * Field names keep the spelling of the assignment that made them and compare case-insensitively.
 * On load, every `__expire_X` at or before now removes X and itself, an expired record counts as
 * absent (a new one: IS_NEW = 1, UPDATE_COUNTER = 0), and UPDATE_RATE (updates per minute since
 * CREATE_TIME, 0 within its first second) is computed; IS_NEW and UPDATE_RATE are never stored.
 * A record only read is not written (its timeout is not extended).
 *
 * Write-back (ModSecurity's merge, reference §11.4): a field the request changed relatively
 * (=+ / =-) becomes the value stored now plus the request's net change since its first relative
 * change (floor 0); a field changed otherwise (=, !, expirevar, deprecatevar) takes the request's
 * value; fields the request did not touch keep what is stored now (ModSecurity rewrites them
 * with the request's possibly stale copy: a difference only under concurrency, where ours
 * loses nothing).
 *
 * Failure: when the store cannot answer within its timeout (Redis), or its file cannot be
 * opened, read or written (embedded), the load returns PP_STORE_UNAVAILABLE with an empty (new)
 * record, so rules see an empty collection; the caller fails open, or closed (503) when the
 * configuration asks. One log line per outage (when it starts and when it ends), not per request;
 * while down, the store retries with back-off (Redis: reconnect; embedded: reopen a file it could
 * not open) and fails fast in between.
 *
 * Memory: records live in the request pool given to pp_store_load; the store itself in the pool
 * given to pp_store_open (a process's pool: open it in child_init). A store is safe to use from
 * many threads at once (LMDB: MDB_NOTLS read transactions; Redis: a mutex-guarded set of
 * connections, one per thread in use). No globals.
 */
#ifndef PP_STORE_H
#define PP_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct pp_store_t pp_store_t;
typedef struct pp_store_rec_t pp_store_rec_t;

typedef enum { PP_STORE_EMBEDDED = 0, PP_STORE_REDIS } pp_store_kind_t;

enum { PP_STORE_OUTAGE_OPEN = 0, PP_STORE_OUTAGE_CLOSED, PP_STORE_OUTAGE_MIXED };

typedef enum {
    PP_STORE_OK = 0,
    PP_STORE_UNAVAILABLE, /* timeout, connection refused, server error: fail open (or 503) */
    PP_STORE_READ_ONLY,   /* embedded: loaded, but writes fail (a map full of live records, a
                           * disk error): rules see the records; 503 under FailClosed On, since
                           * nothing this request counts would be kept */
} pp_store_status_t;

/* Log callback: level as syslog (3 error, 5 notice); the store never logs per request. */
typedef void (*pp_store_log_fn)(void *baton, int level, const char *msg);

typedef struct pp_store_conf_t {
    pp_store_kind_t kind;
    const char *path;          /* embedded: LMDB directory (made 0750, file 0640) */
    size_t map_size;           /* embedded: LMDB map size in bytes (0: 256 MiB) */
    const char *uri;           /* redis://HOST:PORT/DB or redis+unix:///path?db=N */
    const char *password_file; /* redis: first line is the password (NULL: none) */
    const char *prefix;        /* key prefix (SecCollectionKeyPrefix); NULL: "" */
    int timeout_ms;            /* redis: connect and command timeout (0: 50 ms) */
    /* embedded: a file that cannot be opened gives a store that is unavailable (an outage,
     * retried with back-off) instead of an error: for Apache's children, whose parent made the
     * file at start-up; false: the error (start-up refuses it) */
    bool open_retry;
    /* What an outage means for requests, for its log line: PP_STORE_OUTAGE_OPEN (they go on
     * without persistent collections), _CLOSED (503), _MIXED (servers sharing the store
     * differ). */
    int on_outage;
    pp_store_log_fn log;
    void *log_baton;
} pp_store_conf_t;

/* Per-operation timing and error counters (for the metrics handler), process-wide per store. */
typedef struct pp_store_stats_t {
    uint64_t loads, commits, errors, outages;
    uint64_t round_trips;
    uint64_t usec_total; /* time spent in round trips */
    uint64_t usec_max;
} pp_store_stats_t;

/* Opens the store (connects lazily for Redis). NULL with *err on a configuration error. */
pp_store_t *pp_store_open(apr_pool_t *p, const pp_store_conf_t *conf, const char **err);
/* Parses a SecCollectionStore value into conf->kind / uri; NULL or an error message. */
const char *pp_store_parse_uri(apr_pool_t *p, const char *value, pp_store_conf_t *conf);

/* A record of collection `name` (ModSecurity's __name: "ip", "global", "shop_SESSION"; the
 * storage name is it upper-cased) and `key`, not loaded yet: it reads as a new record until
 * pp_store_fetch. In p. Cannot fail. */
pp_store_rec_t *pp_store_rec_create(pp_store_t *s, apr_pool_t *p, const char *name,
                                    const char *key, long timeout_s, int64_t now);
/* Loads the records in one round trip (Redis pipelines them); s NULL: they stay new (no store).
 * On PP_STORE_UNAVAILABLE they are empty and new. Call before any change to them. */
pp_store_status_t pp_store_fetch(pp_store_t *s, apr_pool_t *p, int n, pp_store_rec_t **recs,
                                 int64_t now);
bool pp_store_is_loaded(const pp_store_rec_t *r);
/* pp_store_rec_create + pp_store_fetch of one collection `name` record `key`.
 * timeout_s is SecCollectionTimeout (for a new record's TIMEOUT); now is the request time in
 * seconds. Always returns a record (empty and new on PP_STORE_UNAVAILABLE). */
pp_store_status_t pp_store_load(pp_store_t *s, apr_pool_t *p, const char *name, const char *key,
                                long timeout_s, int64_t now, pp_store_rec_t **rec);
/* Loads n records in one round trip (Redis pipelines them); recs[i] as pp_store_load. */
pp_store_status_t pp_store_load_many(pp_store_t *s, apr_pool_t *p, int n, const char *const *names,
                                     const char *const *keys, long timeout_s, int64_t now,
                                     pp_store_rec_t **recs);

/* Field access on the loaded copy (case-insensitive names). */
const char *pp_store_get(const pp_store_rec_t *r, const char *field);
/* Fields in order, built-ins included, __expire_* included (as ModSecurity shows them):
 * *pos = 0 to start; false at the end. */
bool pp_store_next(const pp_store_rec_t *r, int *pos, const char **field, const char **value);
bool pp_store_is_new(const pp_store_rec_t *r);

/* Changes: applied to the loaded copy at once and queued for the write-back. */
void pp_store_set(pp_store_rec_t *r, const char *field, const char *value);
/* =+ / =- : delta is ModSecurity's atoi of the text; the result floors at 0. Returns the local
 * result. */
long long pp_store_add(pp_store_rec_t *r, const char *field, long long delta);
void pp_store_unset(pp_store_rec_t *r, const char *field);
/* ModSecurity's atoi of a setvar value ("+5", " -3", "12abc"), clamped to int. */
long long pp_store_atoi_text(const char *s);
/* expirevar: field disappears `seconds` after now. */
void pp_store_expire(pp_store_rec_t *r, const char *field, long seconds, int64_t now);
/* deprecatevar N/S: value -= N for every S seconds since LAST_UPDATE_TIME (floor 0); no effect on
 * a record without LAST_UPDATE_TIME (new) or a missing field. True when the value changed (only
 * then is the record written for it). */
bool pp_store_deprecate(pp_store_rec_t *r, const char *field, long amount, long period_s,
                        int64_t now);
bool pp_store_dirty(const pp_store_rec_t *r);

/* Writes back the changes of the records that are dirty (one round trip for all). */
pp_store_status_t pp_store_commit(pp_store_t *s, int n, pp_store_rec_t **recs, int64_t now);

void pp_store_get_stats(pp_store_t *s, pp_store_stats_t *out);
/* Deletes expired records (embedded: a bounded sweep also runs on writes; Redis expires them
 * itself). Returns how many were removed. */
long pp_store_sweep(pp_store_t *s, int64_t now, long max_records);
/* Embedded: records stored now (for tests and the flood bench); Redis: DBSIZE-like count of this
 * prefix is not cheap, returns -1. */
long pp_store_count(pp_store_t *s);

/* ---- Transaction side (tx_store.c): what initcol and the end of the request call ---- */
#include "parapet.h"

/* The host hands each transaction its server's store (NULL: collections live for the
 * transaction only). */
void pp_tx_set_store(pp_tx_t *tx, pp_store_t *store);
pp_store_t *pp_tx_store(const pp_tx_t *tx);
/* pp_store_load_many at the transaction's start time, timed into the collection-store latency
 * histogram; on PP_STORE_UNAVAILABLE with SecCollectionStoreFailClosed On the transaction is
 * intercepted with 503 in phase. */
pp_store_status_t pp_tx_store_load(pp_tx_t *tx, pp_phase_t phase, int n, const char *const *names,
                                   const char *const *keys, long timeout_s, pp_store_rec_t **recs);
/* pp_store_commit of the dirty records at the transaction's start time, timed likewise. */
pp_store_status_t pp_tx_store_commit(pp_tx_t *tx, int n, pp_store_rec_t **recs);

/* ---- The persistent collections of a transaction (reference §9.5, §11.3) ---- */

typedef enum {
    PP_PCOLL_GLOBAL, PP_PCOLL_IP, PP_PCOLL_RESOURCE, PP_PCOLL_SESSION, PP_PCOLL_USER,
    PP_PCOLL_COUNT
} pp_pcoll_id_t;

/* The collection called name (len bytes, any case), or -1 when it is not one of the five. */
int pp_pcoll_find(const char *name, apr_size_t len);
/* "GLOBAL", "IP", ... */
const char *pp_pcoll_name(pp_pcoll_id_t id);
/* initcol / setsid / setuid / setrsc: names the record the collection holds for the rest of the
 * transaction. Nothing is read yet. A collection already initialised keeps its record (the call
 * is ignored, as in ModSecurity). SESSION, USER and RESOURCE are stored under
 * "<SecWebAppId>_SESSION" etc. */
void pp_tx_pcoll_init(pp_tx_t *tx, pp_pcoll_id_t id, const char *key);
/* The collection's record for reading or changing, loaded on first use together with every other
 * initialised collection not loaded yet (one round trip); NULL when the collection was not
 * initialised. A store that cannot answer gives an empty record (fail open), or a 503 verdict
 * with SecCollectionStoreFailClosed On. */
pp_store_rec_t *pp_tx_pcoll(pp_tx_t *tx, pp_pcoll_id_t id);
/* setsid / setuid: SESSIONID / USERID (copied); NULL until set. */
void pp_tx_pcoll_set_id(pp_tx_t *tx, bool session, const char *id);
const char *pp_tx_pcoll_id(const pp_tx_t *tx, bool session);
/* A change to a collection's record was made: rules reading it see it (generation bump). */
void pp_tx_pcoll_changed(pp_tx_t *tx);
/* End of the transaction: writes back every changed collection (one round trip). */
void pp_tx_pcoll_commit(pp_tx_t *tx);

#endif
