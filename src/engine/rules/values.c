/*
 * The values a rule tests, per transaction: collected once per target and source generation,
 * transformed once per chain prefix, cached in the transaction's slots (rules/eval.c asks,
 * rules/target.c interned the targets), plus the literal-prefilter sketch of a value and a
 * rule's exclusions. Split out of eval.c, which keeps the phase loop.
 */
#include "rules/eval_parts.h"
#include "rules/transforms/transforms.h"
#include "rules/variables/collection.h"
#include "tx.h"


/* Whether t's values are kept in the cache: a rule tests t, or more than one chain extends it
 * (a prefix that only one chain extends is transformed in place instead of copied). */
static inline bool worth_caching(const pp_target_t *t)
{
    return t->direct || t->prefix_uses > 1;
}

/* Whether re matches name; a name without the regex's literal needs is answered without PCRE2
 * (a regex that hits a limit does not match). */
static bool name_matches(pp_tx_t *tx, const pp_regex_t *re, pp_str_t name)
{
    const pp_rx_needs_t *needs = pp_regex_needs(re);
    bool m = false;
    if (needs && !pp_rx_needs_met(needs, name, NULL))
        return false;
    return pp_regex_exec(re, tx->rx, name, &m) == APR_SUCCESS && m;
}

/* 2.x VAR:/re/ keeps the members whose name matches; &VAR becomes one value, the count. */
static void keys_and_count(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *vals)
{
    if (t->key_regex) {
        int n = 0;
        for (int i = 0; i < vals->nelts; i++) {
            pp_value_t *v = &APR_ARRAY_IDX(vals, i, pp_value_t);
            if (v->name.data && name_matches(tx, t->key_regex, v->name))
                APR_ARRAY_IDX(vals, n++, pp_value_t) = *v;
        }
        vals->nelts = n;
    }
    if (t->count) {
        const char *c = apr_itoa(tx->pool, vals->nelts);
        vals->nelts = 0;
        *(pp_value_t *)apr_array_push(vals) =
            (pp_value_t){ pp_str_from_cstr(c), PP_STR_NULL, NULL, 0 };
    }
}

bool pp_exclusion_names(pp_tx_t *tx, const pp_exclusion_t *e, pp_str_t name)
{
    if (e->re)
        return name_matches(tx, e->re, name);
    apr_size_t n = e->name_len1 ? e->name_len1 - 1 : strlen(e->name);
    return name.len == n &&
           (e->icase ? strncasecmp(name.data, e->name, n) : memcmp(name.data, e->name, n)) == 0;
}

/* Which of the configuration's exclusions name each collected value (pp_value_t.excl): once
 * here, where the values are collected, instead of once per rule and value. CRS puts
 * !REQUEST_COOKIES:/__utm/ on ~150 rules, a regex run per cookie and rule before. Transformed
 * copies of the values carry the bits along. */
static void mark_exclusions(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *vals)
{
    unsigned n, na = 0;
    const pp_exclusion_t *const *all = pp_excl_set_entries(t->excl_set, &n);
    if (!n)
        return; /* no exclusion has a bit: the values stay unmarked, nothing asks */
    const pp_exclusion_t *found[PP_EXCL_BITS];
    const pp_exclusion_t *const *apply = found;
    if (t->excl_apply && t->excl_nseen == n) { /* found at start-up (pp_target_excl_finish) */
        apply = t->excl_apply;
        na = t->excl_napply;
    } else {
        for (unsigned k = 0; k < n; k++)
            if (pp_exclusion_applies(all[k], t))
                found[na++] = all[k];
    }
    for (int i = 0; i < vals->nelts; i++) {
        pp_value_t *v = &APR_ARRAY_IDX(vals, i, pp_value_t);
        uint64_t bits = PP_EXCL_KNOWN;
        for (unsigned k = 0; k < na && v->name.data; k++)
            if (pp_exclusion_names(tx, apply[k], v->name))
                bits |= apply[k]->bit;
        v->excl = bits;
    }
}

/* An empty array of values with room for one, in one allocation (apr_array_make makes two).
 * The room is cleared as apr_array_make clears it: apr_array_push hands out room as it is, and
 * collectors leave the fields they do not set (sketch, checks, excl) zero. apr_array_push grows
 * it as any array (clearing the new room). */
static inline apr_array_header_t *values_array(apr_pool_t *p)
{
    struct {
        apr_array_header_t h;
        pp_value_t first;
    } *a = apr_palloc(p, sizeof *a);
    a->h = (apr_array_header_t){ .pool = p, .elt_size = (int)sizeof(pp_value_t), .nelts = 0,
                                 .nalloc = 1, .elts = (char *)&a->first };
    memset(&a->first, 0, sizeof a->first);
    return &a->h;
}

/* The values of t's variable, collected afresh (its chain is not applied). */
static inline apr_array_header_t *collect_values(pp_tx_t *tx, const pp_target_t *t,
                                                 pp_phase_t phase)
{
    apr_array_header_t *vals = values_array(tx->pool);
    apr_status_t rv = t->var->collect(tx, t, vals);
    if (rv != APR_SUCCESS) {
        char buf[120];
        pp_tx_fail(tx, 500, phase, apr_psprintf(tx->pool, "Variable %s could not be collected "
                                                          "(%s); failing closed", t->label,
                                                apr_strerror(rv, buf, sizeof buf)));
        return NULL;
    }
    if (vals->nelts == 0 && t->missing_as_empty)
        *(pp_value_t *)apr_array_push(vals) = (pp_value_t){ PP_STR(""), PP_STR_NULL };
    if (t->key_regex || t->count)
        keys_and_count(tx, t, vals);
    mark_exclusions(tx, t, vals);
    return vals;
}

/* Whether computing t's values starts from a cached prefix's values (with their sketches). */
static bool reaches_cached(const pp_target_t *t)
{
    for (const pp_target_t *p = t->prefix; p; p = p->prefix)
        if (worth_caching(p))
            return true;
    return false;
}

/* ---- the step memo -------------------------------------------------------------------------
 * One transformation step applied to one array of values, once per transaction: different
 * chains reach the same values by different paths (urlDecodeUni leaves a benign argument as it
 * is, so urlDecodeUni,lowercase and lowercase both apply lowercase to the collected array), and
 * CRS's ~40 chains over ARGS apply only ~15 distinct steps to it. Keyed by the input array (an
 * array that is cached or memoised never changes, and its address is not reused within the
 * transaction) and the step (the function, so normalisePath and normalizePath are one; the
 * unicode map for a step that reads it); the output is the input itself when the step changed
 * no value, so chains that leave the values alone keep sharing one array, which the rule index
 * then scans once (rules/index.c). Open addressing in the transaction pool, doubled at half
 * load; one entry per step computed, so bounded by the work the cache already does. */
typedef struct memo_entry_t {
    const apr_array_header_t *in; /* NULL: free */
    uintptr_t step;
    const void *aux;
    union {
        apr_array_header_t *out; /* a step's entry */
        uintptr_t sum;           /* step SUMMARY_STEP's: the PP_TB_* classes of in's bytes */
    };
} memo_entry_t;

/* No padding: an entry is copied whole (memo_insert), and padding copied from a stack literal
 * would leave uninitialised bytes in the transaction pool. A later transaction reusing that
 * memory for a value's bytes then has them just past the value's end, where the PCRE2 JIT's
 * 16-byte loads read: its result does not depend on them, but valgrind memcheck reports its
 * branches on them (an "unsigned sum" after out did that: 765 reports in test_index). */
_Static_assert(sizeof(memo_entry_t) == 3 * sizeof(void *) + sizeof(uintptr_t),
               "memo_entry_t has padding");

/* The memo's key for an array's byte summary (below any function's address, above the 1.9
 * normaliser's flags). */
#define SUMMARY_STEP ((uintptr_t)0x100)

struct pp_tfn_memo_t {
    memo_entry_t *e;
    unsigned mask, n;
};

static inline unsigned memo_hash(const apr_array_header_t *in, uintptr_t step, unsigned mask)
{
    uint64_t h = ((uint64_t)(uintptr_t)in ^ ((uint64_t)step << 7)) * 0x9e3779b97f4a7c15ull;
    return (unsigned)(h >> 40) & mask;
}

static apr_array_header_t *memo_get(const pp_tx_t *tx, const apr_array_header_t *in,
                                    uintptr_t step, const void *aux)
{
    const struct pp_tfn_memo_t *m = tx->tfn_memo;
    if (!m)
        return NULL;
    for (unsigned i = memo_hash(in, step, m->mask);; i = (i + 1) & m->mask) {
        const memo_entry_t *e = &m->e[i];
        if (!e->in)
            return NULL;
        if (e->in == in && e->step == step && e->aux == aux)
            return e->out;
    }
}

static void memo_insert(struct pp_tfn_memo_t *m, const memo_entry_t *x)
{
    unsigned i = memo_hash(x->in, x->step, m->mask);
    while (m->e[i].in)
        i = (i + 1) & m->mask;
    m->e[i] = *x;
    m->n++;
}

/* A table of size slots, all free (set here rather than by pcalloc's memset). */
static memo_entry_t *memo_table(apr_pool_t *p, unsigned size)
{
    memo_entry_t *e = apr_palloc(p, size * sizeof *e);
    for (unsigned i = 0; i < size; i++)
        e[i].in = NULL;
    return e;
}

static void memo_put(pp_tx_t *tx, memo_entry_t x)
{
    struct pp_tfn_memo_t *m = tx->tfn_memo;
    if (!m) {
        /* At most one entry per cached target and generation: sized by the targets (CRS has
         * ~480 and makes 60-130 entries per request; 100 rules of one family, ~30). */
        unsigned size = 16;
        while (size < tx->ncache && size < 256)
            size *= 2;
        m = apr_palloc(tx->pool, sizeof *m);
        m->mask = size - 1;
        m->n = 0;
        m->e = memo_table(tx->pool, m->mask + 1);
        tx->tfn_memo = m;
    }
    if (2 * (m->n + 1) > m->mask + 1) {
        memo_entry_t *old = m->e;
        unsigned size = m->mask + 1;
        m->mask = 2 * size - 1;
        m->n = 0;
        m->e = memo_table(tx->pool, 2 * size);
        for (unsigned i = 0; i < size; i++)
            if (old[i].in)
                memo_insert(m, &old[i]);
    }
    memo_insert(m, &x);
}

/* The byte summary of an immutable array (cached or memoised): which PP_TB_* classes occur in
 * its values, computed at the first step that asks and kept in the memo. */
static unsigned array_summary(pp_tx_t *tx, const apr_array_header_t *in)
{
    const struct pp_tfn_memo_t *m = tx->tfn_memo;
    if (m)
        for (unsigned i = memo_hash(in, SUMMARY_STEP, m->mask);; i = (i + 1) & m->mask) {
            const memo_entry_t *e = &m->e[i];
            if (!e->in)
                break;
            if (e->in == in && e->step == SUMMARY_STEP)
                return (unsigned)e->sum;
        }
    unsigned sum = 0;
    for (int i = 0; i < in->nelts; i++)
        sum = pp_tfn_bytes_add(sum, APR_ARRAY_IDX(in, i, pp_value_t).value);
    memo_put(tx, (memo_entry_t){ in, SUMMARY_STEP, NULL, { .sum = sum } });
    return sum;
}

/* t's values, computed afresh: collected (chain empty), or t's prefix's values with the
 * chain's last step applied. The array returned is new and may be changed in place, unless
 * *shared is set: then it is a cached prefix's own array (the step changed no value) or a
 * memoised one, which nobody may change. */
static apr_array_header_t *compute_values(pp_tx_t *tx, const pp_target_t *t, pp_phase_t phase,
                                          bool *shared)
{
    *shared = false;
    if (!t->prefix)
        return collect_values(tx, t, phase);
    apr_array_header_t *vals;
    /* No value has a sketch yet: collected here, or computed by a recursion that reached no
     * cached prefix. Values that come from a cached prefix carry the prefix's sketches,
     * which must be dropped wherever a step changes the bytes. */
    bool fresh = true, from_cache = false;
    if (worth_caching(t->prefix)) {
        /* Shared prefix: its cached values stay as they are; a step that changes one
         * transforms a copy (made at the first change, below). */
        vals = (apr_array_header_t *)pp_eval_target_values(tx, t->prefix, phase);
        fresh = false;
        from_cache = true;
    } else if (!t->prefix->prefix) {
        vals = collect_values(tx, t->prefix, phase); /* the usual 1.9 case: one step */
    } else {
        vals = compute_values(tx, t->prefix, phase, &from_cache);
        fresh = !from_cache && !reaches_cached(t->prefix);
    }
    if (!vals)
        return NULL;
    if (vals->nelts == 0) {
        /* No value (CRS's XML targets without an XML body, FILES and REQUEST_BODY on a GET):
         * no step changes anything. */
        *shared = from_cache;
        return vals;
    }
    const pp_chain_t *c = t->chain;
    unsigned flags = 0;
    pp_tfn_env_t env = { NULL }; /* read only by a step with apply_env */
    uintptr_t step;
    const void *aux = NULL;
    if (!c->tfn) {
        /* The 1.9 normaliser; a cookie under SecFilterNormalizeCookies On gets the full one. */
        flags = c->norm19;
        if (c->cookie19 && pp_cfg_int(tx->cfg->normalize_cookies, 0) == 1)
            flags = PP_N19_URLDECODE | PP_N19_PATH | PP_N19_NULLS;
        if (!flags) {
            *shared = from_cache;
            return vals;
        }
        if (fresh) {
            for (int i = 0; i < vals->nelts; i++) {
                pp_value_t *v = &APR_ARRAY_IDX(vals, i, pp_value_t);
                pp_tfn_normalise19(tx->pool, v->value, flags, &v->value);
            }
            return vals;
        }
        step = flags; /* below any function's address */
    } else if (c->tfn->apply_env) {
        env.unicode_map = tx && tx->cfg ? pp_cfg_unicode_map(tx->cfg) : NULL;
        step = (uintptr_t)c->tfn->apply_env;
        aux = env.unicode_map;
    } else {
        step = (uintptr_t)c->tfn->apply;
    }
    /* An immutable input (cached or memoised) of a source whose arrays are kept: the step is
     * applied to it once. Volatile values are collected anew at every read, and TX's go stale
     * within a phase: memoising their steps would only fill the table. */
    bool memo = from_cache && t->source != PP_SRC_VOLATILE && t->source != PP_SRC_TXCOLL;
    const apr_array_header_t *in = vals;
    if (memo) {
        apr_array_header_t *out = memo_get(tx, in, step, aux);
        if (out) {
            *shared = true;
            return out;
        }
        /* A step that needs bytes none of the values holds leaves the array as it is. */
        if (c->tfn && c->tfn->bytes && !(array_summary(tx, in) & c->tfn->bytes)) {
            memo_put(tx, (memo_entry_t){ in, step, aux, { .out = vals } });
            *shared = true;
            return vals;
        }
    }
    for (int i = 0; i < vals->nelts; i++) {
        pp_value_t *v = &APR_ARRAY_IDX(vals, i, pp_value_t);
        pp_str_t out;
        if (c->tfn)
            pp_tfn_run(c->tfn, &env, tx->pool, v->value, &out);
        else
            pp_tfn_normalise19(tx->pool, v->value, flags, &out);
        if (out.data == v->value.data && out.len == v->value.len)
            continue; /* unchanged (transforms.h: the same pointer) */
        if (from_cache) {
            vals = apr_array_copy(tx->pool, vals);
            v = &APR_ARRAY_IDX(vals, i, pp_value_t);
            from_cache = false;
        }
        if (!fresh) {
            /* New bytes: the prefilter's sketch of the old ones no longer applies. */
            v->sketch = NULL;
            v->checks = 0;
        }
        v->value = out;
    }
    if (memo) {
        /* vals is in, or a copy that now stays as it is */
        memo_put(tx, (memo_entry_t){ in, step, aux, { .out = vals } });
        *shared = true;
        return vals;
    }
    *shared = from_cache;
    return vals;
}

/* pp_eval_target_values for a TX target: TX keeps its own clock (collection.h), not tx->gen,
 * so a setvar of another key or a match (MATCHED_VAR) leaves TX:key as it was. TX:key stays
 * current while the entry it found has not changed (or, when there was none, while no key was
 * made); TX, TX:/re/ and &TX while nothing in TX has changed. Out of line: the other targets'
 * path stays as short as it was. */
static __attribute__((noinline)) const apr_array_header_t *
tx_target_values(pp_tx_t *tx, const pp_target_t *t, pp_phase_t phase)
{
    const pp_coll_t *coll = tx->coll_tx;
    unsigned clock = pp_coll_clock(coll);
    pp_cache_entry_t *ce = &tx->cache[t->slot];
    if (ce->target == t) {
        unsigned stamp = !t->selector ? clock
                         : ce->watch  ? pp_coll_stamp_at(coll, ce->watch - 1)
                                      : pp_coll_added(coll);
        if (stamp <= ce->gen)
            return ce->values;
    }
    /* The entry the values come from: the collector's find, or the one the nearest cached
     * prefix keeps (compute_values starts from that prefix's values, current now). */
    const pp_target_t *p = t->prefix;
    while (p && !worth_caching(p))
        p = p->prefix;
    tx->coll_tx_found = NULL;
    bool shared;
    apr_array_header_t *vals = compute_values(tx, t, phase, &shared);
    if (!vals)
        return NULL;
    const pp_coll_entry_t *found = tx->coll_tx_found;
    unsigned watch = found ? found->pos + 1 : 0;
    if (p) {
        const pp_cache_entry_t *pe = &tx->cache[p->slot];
        if (p->slot >= tx->ncache || pe->target != p)
            return vals; /* not kept: t is not cached either */
        watch = pe->watch;
    }
    *ce = (pp_cache_entry_t){ t, vals, clock, t->selector ? watch : 0 };
    return vals;
}

/* The values of a target, transformed by its chain, computed once per generation of the
 * target's source (pp_tx_t.gen): a value cached in phase 1 is collected again once the body's
 * arguments were appended. The cache holds every target a rule tests and every chain prefix
 * that several chains share, so each prefix is computed once per value. NULL when the collector
 * failed: the transaction is then intercepted with 500 (review M4: an error is not "no values",
 * which would be "no match" and fail open). */
const apr_array_header_t *pp_eval_target_values(pp_tx_t *tx, const pp_target_t *t,
                                               pp_phase_t phase)
{
    pp_var_source_t src = t->source;
    bool cacheable = src != PP_SRC_VOLATILE && t->slot < tx->ncache;
    if (src == PP_SRC_TXCOLL && cacheable)
        return tx_target_values(tx, t, phase);
    unsigned gen = tx->gen[src];
    if (cacheable && tx->cache[t->slot].target == t && tx->cache[t->slot].gen == gen)
        return tx->cache[t->slot].values;
    bool shared;
    apr_array_header_t *vals = compute_values(tx, t, phase, &shared);
    if (vals && cacheable)
        tx->cache[t->slot] = (pp_cache_entry_t){ t, vals, gen, 0 };
    return vals;
}

/* The sketch of v for checking needs, or NULL to search directly: a value checked once for a
 * literal or two is searched; otherwise its sketch is built once and kept with the cached value,
 * and answers most literals with two bit tests. */
const pp_sketch_t *pp_eval_value_sketch(pp_tx_t *tx, const pp_rx_needs_t *needs, const pp_value_t *v)
{
    pp_value_t *mv = (pp_value_t *)v;
    if (!mv->sketch && (mv->checks++ >= 1 || pp_rx_needs_count(needs) > 2))
        mv->sketch = pp_sketch_build(tx->pool, v->value);
    return mv->sketch;
}

bool pp_eval_needs_met(pp_tx_t *tx, const pp_rx_needs_t *needs, const pp_value_t *v)
{
    return pp_rx_needs_met(needs, v->value, pp_eval_value_sketch(tx, needs, v));
}

bool pp_eval_excluded_each(pp_tx_t *tx, const pp_rule_t *r, const pp_target_t *t,
                           const pp_value_t *v)
{
    if (!t->var->family || !v->name.data)
        return false;
    bool known = (v->excl & PP_EXCL_KNOWN) != 0;
    for (unsigned i = 0; i < r->nexclusions; i++) {
        const pp_exclusion_t *e = &r->exclusions[i];
        if (known && e->bit && e->set == t->excl_set) {
            /* Marked when collected: set only where e applies to t's variable. */
            if (v->excl & e->bit)
                return true;
            continue;
        }
        if (strcmp(e->family, e->by_var ? t->var->name : t->var->family) == 0 &&
            pp_exclusion_names(tx, e, v->name))
            return true;
    }
    return false;
}
