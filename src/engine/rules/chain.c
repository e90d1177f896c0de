/*
 * Transformation chains, interned per configuration pool into a trie: a chain is its prefix
 * plus one step, and asking twice for the same prefix and step gives the same node. So a chain
 * is a small id, `none,urlDecodeUni` is the prefix node of `none,urlDecodeUni,lowercase`, and
 * the value cache (rules/eval.c) memoises transformed values per (raw value, chain prefix): 200
 * rules asking for urlDecodeUni,lowercase of one argument compute it once, and rules that share
 * only the urlDecodeUni prefix share that step. The 1.9 normaliser is one internal step, so a
 * 1.9 target is an ordinary chain of one step.
 *
 * The registry lives in the configuration pool's user data, like target slots: no globals.
 */
#include "rules/transforms/transforms.h"
#include "tx.h"

#include <apr_hash.h>

static const pp_chain_t empty_chain = { 0 };

typedef struct chain_registry_t {
    apr_hash_t *nodes; /* key: (prefix id, step) → pp_chain_t */
    unsigned count;    /* ids handed out; 0 is the empty chain */
} chain_registry_t;

static chain_registry_t *registry(apr_pool_t *cp)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, "parapet-chains", cp);
    if (!data) {
        chain_registry_t *r = apr_pcalloc(cp, sizeof *r);
        r->nodes = apr_hash_make(cp);
        r->count = 1;
        apr_pool_userdata_set(r, "parapet-chains", apr_pool_cleanup_null, cp);
        data = r;
    }
    return data;
}

const pp_chain_t *pp_chain_empty(void)
{
    return &empty_chain;
}

static const pp_chain_t *intern(apr_pool_t *cp, const pp_chain_t *prefix, const pp_chain_t *step)
{
    chain_registry_t *r = registry(cp);
    if (!prefix)
        prefix = &empty_chain;
    const char *key = apr_psprintf(cp, "%u\x01%s\x01%u\x01%d", prefix->id,
                                   step->tfn ? step->tfn->name : "", step->norm19,
                                   step->cookie19);
    pp_chain_t *found = apr_hash_get(r->nodes, key, APR_HASH_KEY_STRING);
    if (found)
        return found;
    found = apr_pmemdup(cp, step, sizeof *step);
    found->id = r->count++;
    found->depth = prefix->depth + 1;
    found->prefix = prefix;
    apr_hash_set(r->nodes, key, APR_HASH_KEY_STRING, found);
    return found;
}

const pp_chain_t *pp_chain_append(apr_pool_t *cp, const pp_chain_t *prefix,
                                  const pp_tfn_def_t *def)
{
    if (!def->apply) /* "none": a reset */
        return &empty_chain;
    pp_chain_t step = { .tfn = def };
    return intern(cp, prefix, &step);
}

const pp_chain_t *pp_chain_append_norm19(apr_pool_t *cp, const pp_chain_t *prefix,
                                         unsigned flags, bool cookie)
{
    if (!flags && !cookie)
        return prefix ? prefix : &empty_chain;
    pp_chain_t step = { .norm19 = flags, .cookie19 = cookie };
    return intern(cp, prefix, &step);
}

unsigned pp_chain_count(apr_pool_t *cp)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, "parapet-chains", cp);
    return data ? ((const chain_registry_t *)data)->count : 1;
}

void pp_chain_step(const pp_tx_t *tx, apr_pool_t *scratch, const pp_chain_t *c, pp_str_t in,
                   pp_str_t *out)
{
    if (c->tfn) {
        pp_tfn_env_t env = { tx && tx->cfg ? pp_cfg_unicode_map(tx->cfg) : NULL };
        pp_tfn_run(c->tfn, &env, scratch, in, out);
        return;
    }
    /* The 1.9 normaliser; a cookie under SecFilterNormalizeCookies On gets the full one. */
    unsigned flags = c->norm19;
    if (c->cookie19 && pp_cfg_int(tx->cfg->normalize_cookies, 0) == 1)
        flags = PP_N19_URLDECODE | PP_N19_PATH | PP_N19_NULLS;
    if (!flags) {
        *out = in;
        return;
    }
    pp_tfn_normalise19(scratch, in, flags, out);
}

void pp_chain_apply(const pp_tx_t *tx, apr_pool_t *scratch, const pp_chain_t *c, pp_str_t in,
                    pp_str_t *out)
{
    if (!c || !c->depth) {
        *out = in;
        return;
    }
    pp_str_t mid;
    pp_chain_apply(tx, scratch, c->prefix, in, &mid);
    pp_chain_step(tx, scratch, c, mid, out);
}

const char *pp_chain_name(apr_pool_t *p, const pp_chain_t *c)
{
    if (!c || !c->depth)
        return "";
    const char *step = c->tfn ? c->tfn->name
                              : apr_psprintf(p, "normalise19(%#x%s)", c->norm19,
                                             c->cookie19 ? ",cookie" : "");
    return c->prefix->depth ? apr_pstrcat(p, pp_chain_name(p, c->prefix), ",", step, NULL) : step;
}
