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
#include <stdint.h>
#include <string.h>

/* The index: open addressing over the lower-cased keys, linear probing, a power-of-two number
 * of cells kept at most half full. A cell points to its key's record, which is made with the
 * key's first entry and never moves, so the table a transaction zeroes and doubles is one
 * pointer a cell (CRS makes ~60 TX keys a request: 1 KB of cells instead of 5 KB of 40-byte
 * slots, and two doublings that copied them). A removed entry keeps its key's record (e = NULL)
 * so that probes pass it and the same key set again takes it back. */
typedef struct slot_t {
    const char *key; /* lower-cased */
    apr_size_t len;
    uint32_t hash;
    pp_coll_entry_t *e;
} slot_t;

struct pp_coll_t {
    const char *name;
    apr_pool_t *pool;
    slot_t **cells;            /* NULL: an empty cell */
    uint32_t mask;             /* number of cells - 1 */
    uint32_t used;             /* keys (cells in use) */
    apr_array_header_t *order; /* pp_coll_entry_t*, insertion order; NULL: deleted */
    unsigned live;
    unsigned clock; /* changes so far: a change takes the next tick as its stamp */
    unsigned added; /* the clock when the last new key was made */
    bool dirty;
};

/* Sized for TX under CRS (~60 keys a request): 128 cells and 64 places, where 64 and 8 took a
 * doubling of the cells (rehashing 32 keys) and three of the places on every request. */
#define COLL_CELLS0 128u
#define COLL_PLACES0 64

pp_coll_t *pp_coll_create(apr_pool_t *p, const char *name)
{
    pp_coll_t *c = apr_pcalloc(p, sizeof *c);
    c->name = apr_pstrdup(p, name);
    c->pool = p;
    c->cells = apr_pcalloc(p, COLL_CELLS0 * sizeof *c->cells);
    c->mask = COLL_CELLS0 - 1;
    c->order = apr_array_make(p, COLL_PLACES0, sizeof(pp_coll_entry_t *));
    return c;
}

const char *pp_coll_name(const pp_coll_t *c)
{
    return c->name;
}

/* key lower-cased (apr_tolower, as ModSecurity folds collection keys) into buf, which holds
 * key.len bytes, and its FNV-1a hash. */
static uint32_t fold_hash(pp_str_t key, char *buf)
{
    uint32_t h = 2166136261u;
    for (apr_size_t i = 0; i < key.len; i++) {
        buf[i] = (char)apr_tolower((unsigned char)key.data[i]);
        h = (h ^ (unsigned char)buf[i]) * 16777619u;
    }
    return h;
}

/* The cell of the folded key k (hash h): the one holding it, or the empty one it would go to. */
static inline __attribute__((always_inline)) slot_t **probe(const pp_coll_t *c, const char *k,
                                                           apr_size_t len, uint32_t h)
{
    for (uint32_t i = h & c->mask;; i = (i + 1) & c->mask) {
        slot_t **cell = &c->cells[i], *s = *cell;
        /* a key made through a prepared key holds that key's folded text itself */
        if (!s || (s->hash == h && s->len == len && (s->key == k || memcmp(s->key, k, len) == 0)))
            return cell;
    }
}

/* The cell for key, found or empty; *k gets the folded key (in buf when it fits, else in
 * the collection's pool) and *h its hash. */
static slot_t **lookup(const pp_coll_t *c, pp_str_t key, char *buf, apr_size_t bufsize,
                      const char **k, uint32_t *h)
{
    char *f = key.len <= bufsize ? buf : apr_palloc(c->pool, key.len);
    *h = fold_hash(key, f);
    *k = f;
    return probe(c, f, key.len, *h);
}

static pp_coll_entry_t *find(const pp_coll_t *c, pp_str_t key)
{
    char buf[128];
    const char *k;
    uint32_t h;
    const slot_t *s = *lookup(c, key, buf, sizeof buf, &k, &h);
    return s ? s->e : NULL;
}

const pp_coll_entry_t *pp_coll_get(const pp_coll_t *c, pp_str_t key)
{
    return find(c, key);
}

/* Doubles the index when it is half full. */
static void grow(pp_coll_t *c)
{
    uint32_t n = (c->mask + 1) * 2;
    slot_t **old = c->cells;
    uint32_t old_n = c->mask + 1;
    c->cells = apr_pcalloc(c->pool, n * sizeof *c->cells);
    c->mask = n - 1;
    for (uint32_t i = 0; i < old_n; i++)
        if (old[i])
            *probe(c, old[i]->key, old[i]->len, old[i]->hash) = old[i];
}

/* Stores value in the entry of the folded key k (hash h) found at cell, making the key and the
 * entry when there is none. spelling: the key as written (a new entry, or respell, takes it).
 * k_kept, value_kept: that memory outlives the collection and is used as it is (a
 * pp_coll_key_t, a configuration's literal), else it is copied. ck: the prepared key the
 * spelling is (kept as it is, and remembered by the entry while its name is that spelling), or
 * NULL. */
static pp_coll_entry_t *store(pp_coll_t *c, slot_t **cell, const char *k, bool k_kept, uint32_t h,
                              pp_str_t spelling, const pp_coll_key_t *ck, pp_str_t value,
                              bool value_kept, bool respell, bool spelling_kept)
{
    slot_t *s = *cell;
    pp_coll_entry_t *e = s ? s->e : NULL;
    bool made = !e;
    if (!s) { /* a new key: its record and its first entry in one block */
        struct {
            slot_t s;
            pp_coll_entry_t e;
        } *b = apr_palloc(c->pool, sizeof *b);
        if ((c->used + 1) * 2 > c->mask + 1) {
            grow(c);
            cell = probe(c, k, spelling.len, h);
        }
        b->s = (slot_t){ k_kept ? k : apr_pmemdup(c->pool, k, spelling.len), spelling.len, h,
                         NULL };
        b->e = (pp_coll_entry_t){ .name = { NULL, 0 } };
        *cell = s = &b->s;
        c->used++;
        e = &b->e;
    } else if (!e) {
        e = apr_pcalloc(c->pool, sizeof *e);
    }
    if (made) {
        s->e = e;
        e->pos = (unsigned)c->order->nelts;
        APR_ARRAY_PUSH(c->order, pp_coll_entry_t *) = e;
        c->live++;
        respell = true;
    }
    /* the spelling is kept when it is the same bytes (most setvars repeat it) */
    if (respell && (e->name.len != spelling.len ||
                    (spelling.len && memcmp(e->name.data, spelling.data, spelling.len) != 0))) {
        e->name = ck || spelling_kept ? spelling : pp_str_dup(c->pool, spelling);
        e->key = ck;
    } else if (respell && ck) {
        e->key = ck; /* the same bytes */
    }
    e->value = value_kept ? value : pp_str_dup(c->pool, value);
    e->stamp = ++c->clock;
    if (made)
        c->added = e->stamp;
    c->dirty = true;
    return e;
}

static pp_coll_entry_t *put(pp_coll_t *c, pp_str_t key, pp_str_t value, bool respell, bool kept)
{
    char buf[128];
    const char *k;
    uint32_t h;
    slot_t **cell = lookup(c, key, buf, sizeof buf, &k, &h);
    /* k is in buf or already in the collection's pool: copied only when it is buf */
    return store(c, cell, k, k != buf, h, key, NULL, value, kept, respell, kept);
}

void pp_coll_set(pp_coll_t *c, pp_str_t key, pp_str_t value)
{
    /* An absolute assignment keeps its own spelling of the key (reference §11.1). */
    put(c, key, value, true, false);
}

void pp_coll_set_kept(pp_coll_t *c, pp_str_t key, pp_str_t value)
{
    put(c, key, value, true, true);
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

long long pp_coll_atoi(pp_str_t s)
{
    return atoi_str(s);
}

/* v (0..INT_MAX) in decimal into buf (>= 11 bytes), NUL-terminated; returns the length. */
static apr_size_t decimal(long long v, char *buf)
{
    char tmp[24];
    apr_size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    for (apr_size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

/* atoi(e's value, missing = 0) + delta, clamped to [0, INT_MAX]. */
static long long sum(const pp_coll_entry_t *e, long long delta)
{
    long long v = (e ? atoi_str(e->value) : 0) + delta;
    return v < 0 ? 0 : v > INT_MAX ? INT_MAX : v;
}

long long pp_coll_add(pp_coll_t *c, pp_str_t key, pp_str_t delta)
{
    char buf[128];
    const char *k;
    uint32_t h;
    slot_t **cell = lookup(c, key, buf, sizeof buf, &k, &h);
    long long v = sum(*cell ? (*cell)->e : NULL, atoi_str(delta));
    char num[24];
    apr_size_t n = decimal(v, num);
    store(c, cell, k, k != buf, h, key, NULL, (pp_str_t){ num, n }, false, false, false);
    return v;
}

#define KEYS_MADE "parapet-coll-keys"
#define KEYS_FOLDED "parapet-coll-folded"

apr_array_header_t *pp_coll_keys_made(apr_pool_t *p)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, KEYS_MADE, p);
    return data;
}

const pp_coll_key_t *pp_coll_key_make(apr_pool_t *p, pp_str_t key)
{
    pp_coll_key_t *k = apr_pcalloc(p, sizeof *k);
    k->key = pp_str_dup(p, key);
    char *f = apr_palloc(p, key.len + 1);
    k->hash = fold_hash(key, f);
    f[key.len] = '\0';
    apr_array_header_t *made = pp_coll_keys_made(p);
    if (!made) {
        made = apr_array_make(p, 64, sizeof(pp_coll_key_t *));
        apr_pool_userdata_set(made, KEYS_MADE, apr_pool_cleanup_null, p);
        apr_pool_userdata_set(apr_hash_make(p), KEYS_FOLDED, apr_pool_cleanup_null, p);
    }
    APR_ARRAY_PUSH(made, pp_coll_key_t *) = k;
    /* Keys that fold alike share one folded text: a slot made through any of them then finds
     * the others by pointer (probe). CRS prepares anomaly_score_pl1 alone ~300 times. */
    void *data = NULL;
    apr_pool_userdata_get(&data, KEYS_FOLDED, p);
    const char *same = data ? apr_hash_get(data, f, (apr_ssize_t)key.len) : NULL;
    if (!same && data)
        apr_hash_set(data, f, (apr_ssize_t)key.len, f);
    k->folded = same ? same : f;
    return k;
}

static __attribute__((noinline)) const pp_coll_entry_t *get_key_probe(const pp_coll_t *c,
                                                                     const pp_coll_key_t *key)
{
    const slot_t *s = *probe(c, key->folded, key->key.len, key->hash);
    return s ? s->e : NULL;
}

const pp_coll_entry_t *pp_coll_get_key(const pp_coll_t *c, const pp_coll_key_t *key)
{
    /* The usual answers first, without the probe loop's frame (CRS: ~120 look-ups a request,
     * each ~55 instructions through it): the key's own cell is empty, or holds the key made
     * through a prepared key, whose folded text is the very same (pp_coll_key_make). */
    const slot_t *s = c->cells[key->hash & c->mask];
    if (!s)
        return NULL;
    if (s->key == key->folded && s->hash == key->hash && s->len == key->key.len)
        return s->e;
    return get_key_probe(c, key);
}

void pp_coll_set_key(pp_coll_t *c, const pp_coll_key_t *key, pp_str_t value, bool value_kept)
{
    store(c, probe(c, key->folded, key->key.len, key->hash), key->folded, true, key->hash, key->key, key, value, value_kept, true, false);
}

long long pp_coll_add_key(pp_coll_t *c, const pp_coll_key_t *key, long long delta)
{
    slot_t **cell = probe(c, key->folded, key->key.len, key->hash);
    long long v = sum(*cell ? (*cell)->e : NULL, delta);
    char num[24];
    apr_size_t n = decimal(v, num);
    store(c, cell, key->folded, true, key->hash, key->key, key, (pp_str_t){ num, n }, false, false, false);
    return v;
}

/* Removes the entry of the key at cell, if any. */
static bool remove_at(pp_coll_t *c, slot_t **cell)
{
    pp_coll_entry_t *e = *cell ? (*cell)->e : NULL;
    if (!e)
        return false;
    (*cell)->e = NULL;
    e->stamp = ++c->clock;
    APR_ARRAY_IDX(c->order, e->pos, pp_coll_entry_t *) = NULL;
    c->live--;
    c->dirty = true;
    return true;
}

bool pp_coll_unset(pp_coll_t *c, pp_str_t key)
{
    char buf[128];
    const char *k;
    uint32_t h;
    return remove_at(c, lookup(c, key, buf, sizeof buf, &k, &h));
}

bool pp_coll_unset_key(pp_coll_t *c, const pp_coll_key_t *key)
{
    return remove_at(c, probe(c, key->folded, key->key.len, key->hash));
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

const pp_coll_entry_t *const *pp_coll_places(const pp_coll_t *c, int *n)
{
    *n = c->order->nelts;
    return (const pp_coll_entry_t *const *)c->order->elts;
}

unsigned pp_coll_clock(const pp_coll_t *c)
{
    return c ? c->clock : 0;
}

unsigned pp_coll_stamp_at(const pp_coll_t *c, unsigned pos)
{
    const pp_coll_entry_t *e = pos < (unsigned)c->order->nelts
                                   ? APR_ARRAY_IDX(c->order, pos, pp_coll_entry_t *) : NULL;
    return e ? e->stamp : UINT_MAX;
}

unsigned pp_coll_added(const pp_coll_t *c)
{
    return c ? c->added : 0;
}

bool pp_coll_dirty(const pp_coll_t *c)
{
    return c->dirty;
}
