/*
 * Target interning. A target is a variable, a selector and a transformation chain; every 1.9
 * rule on ARGS uses the same one, so a transaction collects and transforms each distinct target
 * once and every rule reuses the result (the per-transaction cache is indexed by the slot handed
 * out here). A target whose chain has steps has a prefix target (same variable and selector,
 * the chain without its last step), interned with it: the cache keeps the values of a prefix
 * that other targets or rules share, so a chain's prefixes are computed once per value. Rules get their
 * ordinals here too, and exclusions their bits (equal exclusions share one, which values carry
 * once collected, rules/values.c). The registry lives in the configuration pool's user data:
 * one per configuration generation, no globals.
 */
#include "rules/model.h"
#include "rules/variables/collection.h"

#include <apr_hash.h>

/* A configuration's exclusions: each distinct one gets a bit (its index), up to
 * PP_EXCL_BITS. */
struct pp_excl_set_t {
    apr_hash_t *by_key;
    unsigned n;
    const pp_exclusion_t *entries[PP_EXCL_BITS];
};

typedef struct intern_registry_t {
    apr_hash_t *by_key;
    unsigned count;
    unsigned rules; /* rule ordinals handed out */
    pp_excl_set_t excl;
    /* TX:/re/ patterns, each distinct one numbered (pp_target_t.key_rx_bit) */
    unsigned nkey_rx;
    const char *key_rx_src[PP_KEY_RX_MAX];
    const pp_regex_t *key_rx[PP_KEY_RX_MAX];
} intern_registry_t;

static intern_registry_t *registry(apr_pool_t *cp)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, "parapet-targets", cp);
    if (!data) {
        intern_registry_t *r = apr_pcalloc(cp, sizeof *r);
        r->by_key = apr_hash_make(cp);
        r->excl.by_key = apr_hash_make(cp);
        apr_pool_userdata_set(r, "parapet-targets", apr_pool_cleanup_null, cp);
        data = r;
    }
    return data;
}

/* t's TX:/re/ pattern numbered: the same pattern text (compiled the same way) the same
 * number; none past PP_KEY_RX_MAX. */
static void key_rx_number(intern_registry_t *r, pp_target_t *t)
{
    unsigned i = 0;
    while (i < r->nkey_rx && strcmp(r->key_rx_src[i], t->key_regex_src) != 0)
        i++;
    if (i == r->nkey_rx) {
        if (i == PP_KEY_RX_MAX)
            return;
        r->key_rx_src[i] = t->key_regex_src;
        r->key_rx[i] = t->key_regex;
        r->nkey_rx++;
    }
    t->key_rx_bit = i;
    t->key_rx_set = r;
}

void pp_target_keys_finish(apr_pool_t *cp)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, "parapet-targets", cp);
    apr_array_header_t *keys = pp_coll_keys_made(cp);
    const intern_registry_t *r = data;
    if (!r || !keys)
        return;
    /* CRS prepares ~1,500 keys of ~200 spellings: each spelling answered once */
    apr_pool_t *tp;
    if (apr_pool_create(&tp, cp) != APR_SUCCESS)
        return; /* unanswered: searched per request */
    apr_hash_t *seen = apr_hash_make(tp);
    for (int i = 0; i < keys->nelts; i++) {
        pp_coll_key_t *k = APR_ARRAY_IDX(keys, i, pp_coll_key_t *);
        if (k->key_rx_set == r && k->key_rx_n == r->nkey_rx)
            continue; /* answered by an earlier call (one per server and section) */
        const pp_coll_key_t *same = apr_hash_get(seen, k->key.data, (apr_ssize_t)k->key.len);
        uint64_t no = 0;
        if (same && same->key_rx_set == r && same->key_rx_n == r->nkey_rx) {
            no = same->key_rx_no;
        } else {
            for (unsigned b = 0; b < r->nkey_rx; b++) {
                const pp_rx_needs_t *needs = pp_regex_needs(r->key_rx[b]);
                if (needs && !pp_rx_needs_met(needs, k->key, NULL))
                    no |= 1ull << b;
            }
            apr_hash_set(seen, k->key.data, (apr_ssize_t)k->key.len, k);
        }
        k->key_rx_no = no;
        k->key_rx_n = r->nkey_rx;
        k->key_rx_set = r;
    }
    apr_pool_destroy(tp);
}

static pp_target_t *intern(apr_pool_t *cp, const pp_target_t *t)
{
    intern_registry_t *r = registry(cp);
    const pp_chain_t *chain = t->chain && t->chain->depth ? t->chain : NULL;
    const char *key = apr_psprintf(cp, "%s\x01%s\x01%u\x01%d\x01%s\x01%d%d%d\x01%s\x01%s",
                                   t->var->name, t->selector ? t->selector : "",
                                   chain ? chain->id : 0, t->missing_as_empty, t->label,
                                   t->label_names_value, t->label_colon, t->count,
                                   t->key_regex_src ? t->key_regex_src : "",
                                   t->xmlns_key ? t->xmlns_key : "");
    pp_target_t *found = apr_hash_get(r->by_key, key, APR_HASH_KEY_STRING);
    if (found)
        return found;
    found = apr_pmemdup(cp, t, sizeof *t);
    found->chain = chain;
    found->direct = false;
    found->prefix_uses = 0;
    found->prefix = NULL;
    if (chain) {
        /* The prefix target first: its values are what this one's last step transforms. */
        pp_target_t p = *t;
        p.chain = chain->prefix;
        pp_target_t *prefix = intern(cp, &p);
        prefix->prefix_uses++;
        found->prefix = prefix;
    }
    found->slot = r->count++;
    found->source = pp_var_source(t->var);
    found->excl_set = &r->excl;
    found->tx_key = found->source == PP_SRC_TXCOLL && found->selector && !found->key_regex &&
                            !chain && !found->missing_as_empty
                        ? pp_coll_key_make(cp, pp_str_from_cstr(found->selector))
                        : NULL;
    found->key_rx_bit = PP_KEY_RX_NONE;
    found->key_rx_set = NULL;
    if (found->source == PP_SRC_TXCOLL && found->key_regex && found->key_regex_src)
        key_rx_number(r, found);
    apr_hash_set(r->by_key, key, APR_HASH_KEY_STRING, found);
    return found;
}

const pp_target_t *pp_target_intern(apr_pool_t *cp, const pp_target_t *t)
{
    pp_target_t *found = intern(cp, t);
    found->direct = true;
    return found;
}

/* Runs per request from many threads: it must only read. A configuration without rules has no
 * registry, and creating one here would write to the shared configuration pool. */
unsigned pp_target_slot_count(apr_pool_t *cp)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, "parapet-targets", cp);
    return data ? ((const intern_registry_t *)data)->count : 0;
}

void pp_rule_register(apr_pool_t *cp, pp_rule_t *rule)
{
    rule->ordinal = registry(cp)->rules++;
}

unsigned pp_rule_count(apr_pool_t *cp)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, "parapet-targets", cp);
    return data ? ((const intern_registry_t *)data)->rules : 0;
}

void pp_exclusion_intern(apr_pool_t *cp, pp_exclusion_t *e)
{
    pp_excl_set_t *s = &registry(cp)->excl;
    const char *key = apr_psprintf(cp, "%s\x01%d%d%d\x01%s", e->family, e->by_var, e->icase,
                                   e->re != NULL, e->name);
    const pp_exclusion_t *found = apr_hash_get(s->by_key, key, APR_HASH_KEY_STRING);
    e->set = s;
    e->var = e->by_var ? pp_var_find(e->family) : NULL;
    e->name_len1 = strlen(e->name) + 1;
    if (found) {
        e->bit = found->bit;
        return;
    }
    e->bit = s->n < PP_EXCL_BITS ? 1ull << s->n : 0;
    pp_exclusion_t *copy = apr_pmemdup(cp, e, sizeof *e);
    if (s->n < PP_EXCL_BITS)
        s->entries[s->n++] = copy;
    apr_hash_set(s->by_key, key, APR_HASH_KEY_STRING, copy);
}

bool pp_exclusion_applies(const pp_exclusion_t *e, const pp_target_t *t)
{
    if (!t->var->family)
        return false;
    return e->by_var ? (e->var ? e->var == t->var : strcmp(e->family, t->var->name) == 0)
                     : strcmp(e->family, t->var->family) == 0;
}

void pp_target_excl_finish(apr_pool_t *cp)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, "parapet-targets", cp);
    intern_registry_t *r = data;
    if (!r)
        return;
    const pp_excl_set_t *s = &r->excl;
    for (apr_hash_index_t *hi = apr_hash_first(NULL, r->by_key); hi; hi = apr_hash_next(hi)) {
        pp_target_t *t = apr_hash_this_val(hi);
        if (t->excl_set != s || (t->excl_apply && t->excl_nseen == s->n))
            continue;
        const pp_exclusion_t **apply = apr_palloc(cp, (s->n ? s->n : 1) * sizeof *apply);
        unsigned na = 0;
        for (unsigned k = 0; k < s->n; k++)
            if (pp_exclusion_applies(s->entries[k], t))
                apply[na++] = s->entries[k];
        t->excl_apply = apply;
        t->excl_napply = na;
        t->excl_nseen = s->n;
    }
}

const pp_exclusion_t *const *pp_excl_set_entries(const pp_excl_set_t *s, unsigned *n)
{
    *n = s ? s->n : 0;
    return s ? s->entries : NULL;
}

void pp_rule_set_exclusions(pp_rule_t *r, const pp_exclusion_t *ex, unsigned n)
{
    r->exclusions = ex;
    r->nexclusions = n;
    r->excl_set = n ? ex[0].set : NULL;
    r->excl_mask = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!ex[i].bit || ex[i].set != r->excl_set)
            r->excl_set = NULL;
        r->excl_mask |= ex[i].bit;
    }
}
