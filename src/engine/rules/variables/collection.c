/*
 * Collections (reference secrule-2.9 §11): named sets of string variables with case-insensitive
 * keys, kept in insertion order. TX is one per transaction; the persistent ones (IP, SESSION,
 * USER, GLOBAL, RESOURCE) are loaded into the same structure from a store (rules/variables/
 * collection.h says what the store interface will be). Values are text; arithmetic follows
 * ModSecurity's atoi rules (§11.2): relative updates add atoi(delta) to atoi(current), a
 * missing entry counting 0, and the result is clamped at 0 and stored as decimal.
 */
#include "rules/variables/collection.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <limits.h>

struct pp_coll_t {
    const char *name;
    apr_pool_t *pool;
    apr_hash_t *index;         /* lower-cased key → pp_coll_entry_t* */
    apr_array_header_t *order; /* pp_coll_entry_t*, insertion order; NULL: deleted */
    unsigned live;
    bool dirty;
};

static const char *fold(apr_pool_t *p, pp_str_t key)
{
    char *k = apr_pstrmemdup(p, key.data ? key.data : "", key.len);
    for (apr_size_t i = 0; i < key.len; i++)
        k[i] = (char)apr_tolower((unsigned char)k[i]);
    return k;
}

pp_coll_t *pp_coll_create(apr_pool_t *p, const char *name)
{
    pp_coll_t *c = apr_pcalloc(p, sizeof *c);
    c->name = apr_pstrdup(p, name);
    c->pool = p;
    c->index = apr_hash_make(p);
    c->order = apr_array_make(p, 8, sizeof(pp_coll_entry_t *));
    return c;
}

const char *pp_coll_name(const pp_coll_t *c)
{
    return c->name;
}

static pp_coll_entry_t *find(const pp_coll_t *c, pp_str_t key)
{
    char buf[128];
    const char *k;
    if (key.len < sizeof buf) {
        for (apr_size_t i = 0; i < key.len; i++)
            buf[i] = (char)apr_tolower((unsigned char)key.data[i]);
        buf[key.len] = '\0';
        k = buf;
    } else {
        k = fold(c->pool, key);
    }
    return apr_hash_get(c->index, k, (apr_ssize_t)key.len);
}

const pp_coll_entry_t *pp_coll_get(const pp_coll_t *c, pp_str_t key)
{
    return find(c, key);
}

static pp_coll_entry_t *put(pp_coll_t *c, pp_str_t key, pp_str_t value, bool respell)
{
    pp_coll_entry_t *e = find(c, key);
    if (!e) {
        e = apr_pcalloc(c->pool, sizeof *e);
        const char *k = fold(c->pool, key);
        apr_hash_set(c->index, k, (apr_ssize_t)key.len, e);
        APR_ARRAY_PUSH(c->order, pp_coll_entry_t *) = e;
        c->live++;
        respell = true;
    }
    if (respell)
        e->name = pp_str_dup(c->pool, key);
    e->value = pp_str_dup(c->pool, value);
    c->dirty = true;
    return e;
}

void pp_coll_set(pp_coll_t *c, pp_str_t key, pp_str_t value)
{
    /* An absolute assignment keeps its own spelling of the key (reference §11.1). */
    put(c, key, value, true);
}

/* C atoi on a counted string: blanks, a sign, digits; saturates instead of overflowing. */
static long long atoi_str(pp_str_t s)
{
    apr_size_t i = 0;
    while (i < s.len && apr_isspace((unsigned char)s.data[i]))
        i++;
    bool neg = false;
    if (i < s.len && (s.data[i] == '+' || s.data[i] == '-'))
        neg = s.data[i++] == '-';
    long long v = 0;
    for (; i < s.len && apr_isdigit((unsigned char)s.data[i]); i++)
        if (v < INT_MAX)
            v = v * 10 + (s.data[i] - '0');
    if (v > INT_MAX)
        v = INT_MAX;
    return neg ? -v : v;
}

long long pp_coll_add(pp_coll_t *c, pp_str_t key, pp_str_t delta)
{
    const pp_coll_entry_t *e = find(c, key);
    long long v = (e ? atoi_str(e->value) : 0) + atoi_str(delta);
    if (v < 0)
        v = 0;
    if (v > INT_MAX)
        v = INT_MAX;
    char num[24];
    int n = apr_snprintf(num, sizeof num, "%" APR_INT64_T_FMT, (apr_int64_t)v);
    put(c, key, (pp_str_t){ num, (apr_size_t)n }, false);
    return v;
}

bool pp_coll_unset(pp_coll_t *c, pp_str_t key)
{
    pp_coll_entry_t *e = find(c, key);
    if (!e)
        return false;
    apr_hash_set(c->index, fold(c->pool, key), (apr_ssize_t)key.len, NULL);
    for (int i = 0; i < c->order->nelts; i++)
        if (APR_ARRAY_IDX(c->order, i, pp_coll_entry_t *) == e)
            APR_ARRAY_IDX(c->order, i, pp_coll_entry_t *) = NULL;
    c->live--;
    c->dirty = true;
    return true;
}

unsigned pp_coll_count(const pp_coll_t *c)
{
    return c->live;
}

const pp_coll_entry_t *pp_coll_next(const pp_coll_t *c, int *pos)
{
    while (*pos < c->order->nelts) {
        const pp_coll_entry_t *e = APR_ARRAY_IDX(c->order, *pos, pp_coll_entry_t *);
        (*pos)++;
        if (e)
            return e;
    }
    return NULL;
}

bool pp_coll_dirty(const pp_coll_t *c)
{
    return c->dirty;
}
