/*
 * The store interface's shared half: records, queued changes, and the semantics both back ends
 * apply (store.h). The Redis back end runs the same write-back as a Lua script (redis.c); the unit
 * test table runs against both so the two stay identical.
 */
#include "store/store_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#define EXPIRE_PREFIX "__expire_"
#define EXPIRE_PLEN 9

char *pp_store_upper(apr_pool_t *p, const char *name)
{
    char *c = apr_pstrdup(p, name);
    for (size_t i = 0; c[i]; i++)
        c[i] = (char)toupper((unsigned char)c[i]);
    return c;
}

pp_sfield_t *pp_store_find(apr_array_header_t *fields, const char *name)
{
    pp_sfield_t *f = (pp_sfield_t *)fields->elts;
    for (int i = 0; i < fields->nelts; i++)
        if (strcasecmp(f[i].name, name) == 0)
            return &f[i];
    return NULL;
}

void pp_store_put(apr_pool_t *p, apr_array_header_t *fields, const char *name, const char *value)
{
    pp_sfield_t *f = pp_store_find(fields, name);
    if (!f) {
        f = apr_array_push(fields);
        f->name = apr_pstrdup(p, name);
    }
    f->value = apr_pstrdup(p, value);
}

/* An absolute assignment takes its own spelling of the name (ModSecurity's tables do). */
static void put_as(apr_pool_t *p, apr_array_header_t *fields, const char *name, const char *value)
{
    pp_store_put(p, fields, name, value);
    pp_store_find(fields, name)->name = apr_pstrdup(p, name);
}

void pp_store_del(apr_array_header_t *fields, const char *name)
{
    pp_sfield_t *f = (pp_sfield_t *)fields->elts;
    for (int i = 0; i < fields->nelts; i++) {
        if (strcasecmp(f[i].name, name) == 0) {
            memmove(&f[i], &f[i + 1], (size_t)(fields->nelts - i - 1) * sizeof(*f));
            fields->nelts--;
            return;
        }
    }
}

/* ModSecurity's atoi: leading blanks, optional sign, digits; anything else 0. Clamped to int. */
long long pp_store_atoi(const char *s)
{
    if (!s)
        return 0;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE || v > INT_MAX)
        return v < 0 ? INT_MIN : INT_MAX;
    if (v < INT_MIN)
        return INT_MIN;
    return v;
}

long long pp_store_atoi_text(const char *s)
{
    return pp_store_atoi(s);
}

/* v in decimal, as "%lld" writes it (LLONG_MIN too), without the formatter. */
static char *num(apr_pool_t *p, long long v)
{
    char buf[24], *e = buf + sizeof buf, *s = e;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do
        *--s = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--s = '-';
    return apr_pstrmemdup(p, s, (apr_size_t)(e - s));
}

static long long clamp0(long long v)
{
    return v < 0 ? 0 : v > INT_MAX ? INT_MAX : v;
}

/* A field of a record being made: the names are distinct, so no look-up (pp_store_put). The
 * name and value are used as they are: no field's text is changed in place (a change stores a
 * new pointer), so the built-in names and constant values are the literals themselves and the
 * key and name the record's own copies (CRS initcols IP and GLOBAL on every request: ~1,700
 * instructions of copies). */
static void make_field(apr_array_header_t *fields, const char *name, const char *value)
{
    pp_sfield_t *f = apr_array_push(fields);
    f->name = (char *)name;
    f->value = (char *)value;
}

static void new_record(pp_store_rec_t *r, int64_t now)
{
    apr_pool_t *p = r->pool;
    r->fields = apr_array_make(p, 10, sizeof(pp_sfield_t));
    r->is_new = true;
    /* ModSecurity 2.9.7's order (rules iterating IP:/./ see them so). */
    make_field(r->fields, EXPIRE_PREFIX "KEY", num(p, now + r->timeout));
    make_field(r->fields, "KEY", r->key);
    make_field(r->fields, "TIMEOUT", num(p, r->timeout));
    make_field(r->fields, "__key", r->key);
    make_field(r->fields, "__name", r->dname);
    make_field(r->fields, "CREATE_TIME", num(p, now));
    make_field(r->fields, "UPDATE_COUNTER", "0");
    make_field(r->fields, "IS_NEW", "1");
}

/* Drops every X whose __expire_X has passed (and the __expire_X); true if the record itself
 * (__expire_KEY) has expired. */
static bool drop_expired(apr_array_header_t *fields, int64_t now)
{
    pp_sfield_t *f = (pp_sfield_t *)fields->elts;
    for (int i = 0; i < fields->nelts; i++) {
        if (strncasecmp(f[i].name, EXPIRE_PREFIX, EXPIRE_PLEN) != 0)
            continue;
        if (pp_store_atoi(f[i].value) > now) /* gone at the second it names (observed) */
            continue;
        const char *target = f[i].name + EXPIRE_PLEN;
        if (strcasecmp(target, "KEY") == 0)
            return true;
        char *x = apr_pstrdup(fields->pool, f[i].name);
        pp_store_del(fields, x + EXPIRE_PLEN);
        pp_store_del(fields, x);
        i = -1; /* the array moved: start again (records are small) */
        f = (pp_sfield_t *)fields->elts;
    }
    return false;
}

void pp_store_loaded(pp_store_rec_t *r, apr_array_header_t *fields, int64_t now)
{
    if (!fields || fields->nelts == 0 || drop_expired(fields, now)) {
        new_record(r, now);
        return;
    }
    r->fields = fields;
    r->is_new = false;
    pp_store_del(fields, "IS_NEW");
    const pp_sfield_t *ct = pp_store_find(fields, "CREATE_TIME");
    const pp_sfield_t *uc = pp_store_find(fields, "UPDATE_COUNTER");
    if (ct && uc) {
        /* Updates per minute; 0 within the second of creation (ModSecurity 2.9.7, observed). */
        long long td = now - pp_store_atoi(ct->value);
        pp_store_put(r->pool, fields, "UPDATE_RATE",
                     num(r->pool, td > 0 ? pp_store_atoi(uc->value) * 60 / td : 0));
    }
}

/* One change of the write-back on the record as stored now (ModSecurity 2.9.7's merge, §11.4):
 * a field this request changed relatively gets the stored value plus the request's net change
 * (floor 0), or the request's value when the store has none; other changes are absolute. */
static void apply(apr_pool_t *p, apr_array_header_t *fields, const pp_sop_t *op)
{
    const pp_sfield_t *f;
    switch (op->kind) {
    case PP_SOP_SET:
        put_as(p, fields, op->field, op->value);
        break;
    case PP_SOP_UNSET:
        pp_store_del(fields, op->field);
        break;
    case PP_SOP_DELTA:
        f = pp_store_find(fields, op->field);
        put_as(p, fields, op->field,
               f ? num(p, clamp0(pp_store_atoi(f->value) + op->a)) : op->value);
        break;
    }
}

apr_array_header_t *pp_store_merge(apr_pool_t *p, const pp_store_rec_t *r,
                                   apr_array_header_t *stored, int64_t now, int64_t *expires)
{
    pp_store_rec_t cur = *r;
    cur.pool = p;
    pp_store_loaded(&cur, stored, now);
    const pp_sop_t *op = (const pp_sop_t *)r->ops->elts;
    for (int i = 0; i < r->ops->nelts; i++)
        apply(p, cur.fields, &op[i]);
    pp_store_del(cur.fields, "IS_NEW");
    pp_store_del(cur.fields, "UPDATE_RATE");
    const pp_sfield_t *uc = pp_store_find(cur.fields, "UPDATE_COUNTER");
    pp_store_put(p, cur.fields, "UPDATE_COUNTER",
                 num(p, clamp0((uc ? pp_store_atoi(uc->value) : 0) + 1)));
    pp_store_put(p, cur.fields, "LAST_UPDATE_TIME", num(p, now));
    const pp_sfield_t *to = pp_store_find(cur.fields, "TIMEOUT");
    long long timeout = to ? pp_store_atoi(to->value) : r->timeout;
    *expires = now + timeout;
    pp_store_put(p, cur.fields, EXPIRE_PREFIX "KEY", num(p, *expires));
    return cur.fields;
}

void *pp_store_serialise(apr_pool_t *p, apr_array_header_t *fields, size_t *len)
{
    const pp_sfield_t *f = (const pp_sfield_t *)fields->elts;
    size_t n = 0;
    for (int i = 0; i < fields->nelts; i++)
        n += strlen(f[i].name) + strlen(f[i].value) + 2;
    char *buf = apr_palloc(p, n ? n : 1), *w = buf;
    for (int i = 0; i < fields->nelts; i++) {
        size_t a = strlen(f[i].name) + 1, b = strlen(f[i].value) + 1;
        memcpy(w, f[i].name, a);
        memcpy(w + a, f[i].value, b);
        w += a + b;
    }
    *len = n;
    return buf;
}

apr_array_header_t *pp_store_deserialise(apr_pool_t *p, const void *data, size_t len)
{
    apr_array_header_t *fields = apr_array_make(p, 8, sizeof(pp_sfield_t));
    const char *s = data, *end = s + len;
    while (s < end) {
        const char *name = s, *nz = memchr(s, 0, (size_t)(end - s));
        if (!nz)
            break;
        const char *value = nz + 1, *vz = value < end ? memchr(value, 0, (size_t)(end - value)) : NULL;
        if (!vz)
            break;
        pp_sfield_t *f = apr_array_push(fields);
        f->name = apr_pstrmemdup(p, name, (size_t)(nz - name));
        f->value = apr_pstrmemdup(p, value, (size_t)(vz - value));
        s = vz + 1;
    }
    return fields;
}

void pp_store_account(pp_store_t *s, bool ok, uint64_t usec, int trips)
{
    __atomic_add_fetch(&s->stats.round_trips, (uint64_t)trips, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->stats.usec_total, usec, __ATOMIC_RELAXED);
    uint64_t m = __atomic_load_n(&s->stats.usec_max, __ATOMIC_RELAXED);
    while (usec > m &&
           !__atomic_compare_exchange_n(&s->stats.usec_max, &m, usec, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
        ;
    if (!ok)
        __atomic_add_fetch(&s->stats.errors, 1, __ATOMIC_RELAXED);
}

void pp_store_outage_begin(pp_store_t *s, const char *what, const char *where, const char *why)
{
    static const char *const effect[] = {
        [PP_STORE_OUTAGE_OPEN] = "requests go on without persistent collections",
        [PP_STORE_OUTAGE_CLOSED] = "requests that use persistent collections get 503 "
                                   "(SecCollectionStoreFailClosed On)",
        [PP_STORE_OUTAGE_MIXED] = "requests go on without persistent collections, or get 503 "
                                  "where SecCollectionStoreFailClosed is On",
    };
    int k = s->conf.on_outage;
    if (k < PP_STORE_OUTAGE_OPEN || k > PP_STORE_OUTAGE_MIXED)
        k = PP_STORE_OUTAGE_OPEN;
    __atomic_add_fetch(&s->stats.outages, 1, __ATOMIC_RELAXED);
    if (!s->conf.log)
        return;
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s %s unavailable (%s): %s until it answers again", what, where,
             why, effect[k]);
    s->conf.log(s->conf.log_baton, 3, msg);
}

void pp_store_outage_end(pp_store_t *s, const char *what, const char *where, uint64_t since)
{
    if (!s->conf.log)
        return;
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s %s available again after %llu ms", what, where,
             (unsigned long long)((pp_store_usec_now() - since) / 1000));
    s->conf.log(s->conf.log_baton, 5, msg);
}

void pp_store_get_stats(pp_store_t *s, pp_store_stats_t *out)
{
    out->loads = __atomic_load_n(&s->stats.loads, __ATOMIC_RELAXED);
    out->commits = __atomic_load_n(&s->stats.commits, __ATOMIC_RELAXED);
    out->errors = __atomic_load_n(&s->stats.errors, __ATOMIC_RELAXED);
    out->outages = __atomic_load_n(&s->stats.outages, __ATOMIC_RELAXED);
    out->round_trips = __atomic_load_n(&s->stats.round_trips, __ATOMIC_RELAXED);
    out->usec_total = __atomic_load_n(&s->stats.usec_total, __ATOMIC_RELAXED);
    out->usec_max = __atomic_load_n(&s->stats.usec_max, __ATOMIC_RELAXED);
}

const char *pp_store_parse_uri(apr_pool_t *p, const char *value, pp_store_conf_t *conf)
{
    if (strcasecmp(value, "embedded") == 0) {
        conf->kind = PP_STORE_EMBEDDED;
        conf->uri = NULL;
        return NULL;
    }
    if (strncmp(value, "redis://", 8) == 0 || strncmp(value, "redis+unix://", 13) == 0) {
        const char *e = pp_store_redis_check(p, value);
        if (e)
            return e;
        conf->kind = PP_STORE_REDIS;
        conf->uri = apr_pstrdup(p, value);
        return NULL;
    }
    return apr_psprintf(p, "SecCollectionStore: expected embedded, redis://HOST:PORT/DB or "
                           "redis+unix:///path?db=N, not \"%s\"", value);
}

pp_store_t *pp_store_open(apr_pool_t *p, const pp_store_conf_t *conf, const char **err)
{
    pp_store_t *s = apr_pcalloc(p, sizeof(*s));
    s->conf = *conf;
    if (!s->conf.prefix)
        s->conf.prefix = "";
    if (s->conf.timeout_ms <= 0)
        s->conf.timeout_ms = 50;
    const char *e;
    if (conf->kind == PP_STORE_REDIS) {
        s->be = &pp_store_redis_backend;
        e = pp_store_redis_open(s, p);
    } else {
        s->be = &pp_store_embedded_backend;
        e = pp_store_embedded_open(s, p);
    }
    if (e) {
        *err = e;
        return NULL;
    }
    return s;
}

pp_store_rec_t *pp_store_rec_create(pp_store_t *s, apr_pool_t *p, const char *name,
                                    const char *key, long timeout_s, int64_t now)
{
    pp_store_rec_t *r = apr_pcalloc(p, sizeof(*r));
    r->store = s;
    r->pool = p;
    r->dname = apr_pstrdup(p, name);
    r->name = pp_store_upper(p, name);
    r->key = apr_pstrdup(p, key);
    r->timeout = timeout_s >= 0 ? timeout_s : 3600; /* 0: gone at once, as in ModSecurity */
    r->touched = apr_array_make(p, 4, sizeof(const char *));
    r->orig = apr_array_make(p, 2, sizeof(pp_sfield_t));
    r->ops = apr_array_make(p, 4, sizeof(pp_sop_t));
    new_record(r, now);
    return r;
}

bool pp_store_is_loaded(const pp_store_rec_t *r)
{
    return r->loaded;
}

pp_store_status_t pp_store_fetch(pp_store_t *s, apr_pool_t *p, int n, pp_store_rec_t **recs,
                                 int64_t now)
{
    for (int i = 0; i < n; i++)
        recs[i]->loaded = true;
    if (!s) /* no store: collections for this transaction only */
        return PP_STORE_OK;
    __atomic_add_fetch(&s->stats.loads, (uint64_t)n, __ATOMIC_RELAXED);
    pp_store_status_t st = s->be->load(s, p, n, recs, now);
    if (st == PP_STORE_UNAVAILABLE)
        for (int i = 0; i < n; i++)
            pp_store_loaded(recs[i], NULL, now);
    return st;
}

pp_store_status_t pp_store_load_many(pp_store_t *s, apr_pool_t *p, int n, const char *const *names,
                                     const char *const *keys, long timeout_s, int64_t now,
                                     pp_store_rec_t **recs)
{
    for (int i = 0; i < n; i++)
        recs[i] = pp_store_rec_create(s, p, names[i], keys[i], timeout_s, now);
    return pp_store_fetch(s, p, n, recs, now);
}

pp_store_status_t pp_store_load(pp_store_t *s, apr_pool_t *p, const char *name, const char *key,
                                long timeout_s, int64_t now, pp_store_rec_t **rec)
{
    return pp_store_load_many(s, p, 1, &name, &key, timeout_s, now, rec);
}

/* The write-back of one record: per field the request touched, in the order it first did, its
 * value now (SET), its absence (UNSET), or for a field changed relatively the net change since
 * its first relative change (DELTA, with the value now for a store that has none). */
static void make_ops(pp_store_rec_t *r)
{
    r->ops->nelts = 0;
    for (int i = 0; i < r->touched->nelts; i++) {
        const char *name = APR_ARRAY_IDX(r->touched, i, const char *);
        const pp_sfield_t *f = pp_store_find(r->fields, name);
        const pp_sfield_t *o = pp_store_find(r->orig, name);
        pp_sop_t *op = apr_array_push(r->ops);
        memset(op, 0, sizeof(*op));
        if (!f) {
            op->kind = PP_SOP_UNSET;
            op->field = name;
        } else if (o) {
            op->kind = PP_SOP_DELTA;
            op->field = f->name;
            op->value = f->value;
            op->a = pp_store_atoi(f->value) - pp_store_atoi(o->value);
        } else {
            op->kind = PP_SOP_SET;
            op->field = f->name;
            op->value = f->value;
        }
    }
}

pp_store_status_t pp_store_commit(pp_store_t *s, int n, pp_store_rec_t **recs, int64_t now)
{
    if (!s)
        return PP_STORE_OK;
    int dirty = 0;
    for (int i = 0; i < n; i++) {
        if (!pp_store_dirty(recs[i]))
            continue;
        make_ops(recs[i]);
        dirty++;
    }
    if (!dirty)
        return PP_STORE_OK;
    __atomic_add_fetch(&s->stats.commits, (uint64_t)dirty, __ATOMIC_RELAXED);
    pp_store_status_t st = s->be->commit(s, n, recs, now);
    for (int i = 0; i < n; i++) { /* written (or given up): nothing left to write */
        recs[i]->touched->nelts = 0;
        recs[i]->orig->nelts = 0;
    }
    return st;
}

long pp_store_sweep(pp_store_t *s, int64_t now, long max_records)
{
    return s->be->sweep(s, now, max_records);
}

long pp_store_count(pp_store_t *s)
{
    return s->be->count(s);
}

const char *pp_store_get(const pp_store_rec_t *r, const char *field)
{
    const pp_sfield_t *f = pp_store_find(r->fields, field);
    return f ? f->value : NULL;
}

bool pp_store_next(const pp_store_rec_t *r, int *pos, const char **field, const char **value)
{
    if (*pos < 0 || *pos >= r->fields->nelts)
        return false;
    const pp_sfield_t *f = &((const pp_sfield_t *)r->fields->elts)[(*pos)++];
    *field = f->name;
    *value = f->value;
    return true;
}

bool pp_store_is_new(const pp_store_rec_t *r)
{
    return r->is_new;
}

bool pp_store_dirty(const pp_store_rec_t *r)
{
    return r->touched->nelts > 0;
}

static void touch(pp_store_rec_t *r, const char *field)
{
    for (int i = 0; i < r->touched->nelts; i++)
        if (strcasecmp(APR_ARRAY_IDX(r->touched, i, const char *), field) == 0)
            return;
    APR_ARRAY_PUSH(r->touched, const char *) = apr_pstrdup(r->pool, field);
}

void pp_store_set(pp_store_rec_t *r, const char *field, const char *value)
{
    put_as(r->pool, r->fields, field, value);
    touch(r, field);
}

long long pp_store_add(pp_store_rec_t *r, const char *field, long long delta)
{
    const pp_sfield_t *f = pp_store_find(r->fields, field);
    /* The value before the first relative change is what the write-back's delta is taken from
     * (a missing field counts 0, as ModSecurity creates it with "0" first). */
    if (!pp_store_find(r->orig, field))
        pp_store_put(r->pool, r->orig, field, f ? f->value : "0");
    long long v = clamp0((f ? pp_store_atoi(f->value) : 0) + delta);
    pp_store_put(r->pool, r->fields, field, num(r->pool, v));
    touch(r, field);
    return v;
}

void pp_store_unset(pp_store_rec_t *r, const char *field)
{
    pp_store_del(r->fields, field);
    touch(r, field);
}

void pp_store_expire(pp_store_rec_t *r, const char *field, long seconds, int64_t now)
{
    const char *x = apr_pstrcat(r->pool, EXPIRE_PREFIX, field, NULL);
    /* expirevar's value is the rule's text: a huge one saturates instead of overflowing. */
    long long at;
    if (__builtin_add_overflow((long long)now, (long long)seconds, &at))
        at = seconds < 0 ? LLONG_MIN : LLONG_MAX;
    put_as(r->pool, r->fields, x, num(r->pool, at));
    touch(r, x);
}

bool pp_store_deprecate(pp_store_rec_t *r, const char *field, long amount, long period_s,
                        int64_t now)
{
    const pp_sfield_t *lut = pp_store_find(r->fields, "LAST_UPDATE_TIME");
    const pp_sfield_t *f = pp_store_find(r->fields, field);
    /* A collection made by this request has no LAST_UPDATE_TIME: nothing to deprecate. */
    if (!lut || !f || period_s <= 0)
        return false;
    long long elapsed = now - pp_store_atoi(lut->value);
    long long cur = pp_store_atoi(f->value);
    /* N and S are the rule's text and LAST_UPDATE_TIME a field a rule may set: a product
     * past the range saturates (the value then clamps to 0 or INT_MAX) instead of overflowing. */
    long long drop, v;
    if (__builtin_mul_overflow(elapsed / period_s, (long long)amount, &drop))
        drop = (elapsed / period_s < 0) != (amount < 0) ? LLONG_MIN : LLONG_MAX;
    if (__builtin_sub_overflow(cur, drop, &v))
        v = drop < 0 ? LLONG_MAX : LLONG_MIN;
    v = clamp0(v);
    if (v == cur) /* unchanged: the record is not written for it */
        return false;
    pp_store_put(r->pool, r->fields, field, num(r->pool, v));
    touch(r, field);
    return true;
}
