/* Internal to src/engine/store: the record, the queued changes and the back-end table. */
#ifndef PP_STORE_INT_H
#define PP_STORE_INT_H

#include "store/store.h"

#include <apr_time.h>

typedef struct {
    char *name;  /* as spelt by the assignment that made it; compared case-insensitively */
    char *value;
} pp_sfield_t;

/* The write-back, one per field the request touched (pp_store_commit makes them). */
typedef enum { PP_SOP_SET, PP_SOP_UNSET, PP_SOP_DELTA } pp_sop_kind_t;

typedef struct {
    pp_sop_kind_t kind;
    const char *field;  /* the request's spelling */
    const char *value;  /* SET: the value; DELTA: the value when the store has none */
    long long a;        /* DELTA: added to the stored value (floor 0) */
} pp_sop_t;

struct pp_store_rec_t {
    pp_store_t *store;
    apr_pool_t *pool;
    const char *name;    /* storage name, upper case: IP, GLOBAL, SHOP_SESSION */
    const char *dname;   /* ModSecurity's __name: ip, global, shop_SESSION */
    const char *key;
    long timeout;
    bool is_new, loaded;
    apr_array_header_t *fields;  /* pp_sfield_t: the request's copy */
    apr_array_header_t *touched; /* const char *: fields changed, in order of first change */
    apr_array_header_t *orig;    /* pp_sfield_t: value before the first relative change */
    apr_array_header_t *ops;     /* pp_sop_t: the write-back (made at commit) */
};

typedef struct {
    pp_store_status_t (*load)(pp_store_t *s, apr_pool_t *p, int n, pp_store_rec_t **recs, int64_t now);
    pp_store_status_t (*commit)(pp_store_t *s, int n, pp_store_rec_t **recs, int64_t now);
    long (*sweep)(pp_store_t *s, int64_t now, long max);
    long (*count)(pp_store_t *s);
} pp_store_backend_t;

struct pp_store_t {
    pp_store_conf_t conf;
    const pp_store_backend_t *be;
    void *impl;
    pp_store_stats_t stats; /* updated with __atomic builtins */
};

/* name upper-cased (in p). */
char *pp_store_upper(apr_pool_t *p, const char *name);
/* Record helpers shared by the back ends; names compare case-insensitively, put keeps an existing
 * field's spelling. */
pp_sfield_t *pp_store_find(apr_array_header_t *fields, const char *name);
void pp_store_put(apr_pool_t *p, apr_array_header_t *fields, const char *name, const char *value);
void pp_store_del(apr_array_header_t *fields, const char *name);
/* Turns stored fields into what a request sees: drops expired fields, replaces an expired or
 * absent record by a new one, computes UPDATE_RATE. fields may be NULL (absent). */
void pp_store_loaded(pp_store_rec_t *r, apr_array_header_t *fields, int64_t now);
/* The write-back on the record as stored now (stored: NULL when absent): the caller stores the
 * returned field list. Applies the queued changes, then the write's built-ins. */
apr_array_header_t *pp_store_merge(apr_pool_t *p, const pp_store_rec_t *r,
                                   apr_array_header_t *stored, int64_t now, int64_t *expires);
long long pp_store_atoi(const char *s);
/* An outage of the back end what ("collection store") at where began: counted, and logged
 * (level 3) as "<what> <where> unavailable (<why>): <what requests do>". */
void pp_store_outage_begin(pp_store_t *s, const char *what, const char *where, const char *why);
/* The outage that began at since (pp_store_usec_now) ended: logged (level 5) as "<what> <where>
 * available again after N ms". */
void pp_store_outage_end(pp_store_t *s, const char *what, const char *where, uint64_t since);
/* Microseconds since the epoch: outages, back-off and round-trip times of the back ends. */
static inline uint64_t pp_store_usec_now(void)
{
    return (uint64_t)apr_time_now();
}
void pp_store_account(pp_store_t *s, bool ok, uint64_t usec, int trips);

/* Serialised form (embedded store): name\0value\0... */
void *pp_store_serialise(apr_pool_t *p, apr_array_header_t *fields, size_t *len);
apr_array_header_t *pp_store_deserialise(apr_pool_t *p, const void *data, size_t len);

extern const pp_store_backend_t pp_store_embedded_backend;
extern const pp_store_backend_t pp_store_redis_backend;
const char *pp_store_embedded_open(pp_store_t *s, apr_pool_t *p);
const char *pp_store_redis_open(pp_store_t *s, apr_pool_t *p);
/* NULL when uri is a well-formed redis:// or redis+unix:// address, else the message. */
const char *pp_store_redis_check(apr_pool_t *p, const char *uri);

#endif
