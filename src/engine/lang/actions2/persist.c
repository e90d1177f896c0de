/*
 * The actions on persistent collections (reference secrule-2.9 §9.5, §11.3): initcol, setsid,
 * setuid, setrsc name the record a collection holds for the transaction (nothing is read until a
 * rule uses it, store/tx_store.c); expirevar and deprecatevar change a loaded record; setvar on
 * them is in setvar.c (pp_a2_setvar_pcoll). Names and keys are macro templates expanded per
 * match. Where ModSecurity accepts an action it can never run (initcol without a key, a
 * collection other than the five, expirevar without seconds) Parapet refuses it at start-up.
 */
#include "lang/actions2/actions2.h"
#include "store/store.h"
#include "tx.h"

#include <stdlib.h>

typedef struct pcoll_action_t {
    int coll;                /* pp_pcoll_id_t; -1: named by the macro (expirevar, deprecatevar) */
    const pp_macro_t *name;  /* expirevar/deprecatevar: "ip.key" */
    const pp_macro_t *value; /* the key, the seconds, or N/S */
} pcoll_action_t;

/* ---- initcol, setsid, setuid, setrsc ---- */

static void initcol_exec(pp_tx_t *tx, const void *arg)
{
    const pcoll_action_t *a = arg;
    pp_str_t key = pp_macro_expand(tx, a->value);
    pp_tx_pcoll_init(tx, (pp_pcoll_id_t)a->coll, apr_pstrmemdup(tx->pool, key.data, key.len));
}

static void setsid_exec(pp_tx_t *tx, const void *arg)
{
    const pcoll_action_t *a = arg;
    pp_str_t key = pp_macro_expand(tx, a->value);
    const char *k = apr_pstrmemdup(tx->pool, key.data, key.len);
    if (a->coll != PP_PCOLL_RESOURCE)
        pp_tx_pcoll_set_id(tx, a->coll == PP_PCOLL_SESSION, k);
    pp_tx_pcoll_init(tx, (pp_pcoll_id_t)a->coll, k);
}

const char *pp_a2_initcol(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                          pp_rule_action_t *run)
{
    (void)b;
    const char *eq = strchr(v, '=');
    if (!eq || eq == v)
        return apr_psprintf(ctx->tp, "initcol:%s: expected COLLECTION=KEY", v);
    int id = pp_pcoll_find(v, (apr_size_t)(eq - v));
    if (id < 0)
        return apr_psprintf(ctx->tp, "initcol: collection \"%.*s\" is not one of IP, SESSION, "
                                     "USER, GLOBAL, RESOURCE", (int)(eq - v), v);
    pcoll_action_t *a = apr_pcalloc(ctx->cp, sizeof *a);
    a->coll = id;
    a->value = pp_macro_compile_shared(ctx->cp, eq + 1);
    run->exec = initcol_exec;
    run->arg = a;
    return NULL;
}

static const char *set_key(const pp_setter_ctx_t *ctx, const char *v, pp_rule_action_t *run,
                           pp_pcoll_id_t id)
{
    pcoll_action_t *a = apr_pcalloc(ctx->cp, sizeof *a);
    a->coll = id;
    a->value = pp_macro_compile_shared(ctx->cp, v);
    run->exec = setsid_exec;
    run->arg = a;
    return NULL;
}

const char *pp_a2_setsid(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                         pp_rule_action_t *run)
{
    (void)b;
    return set_key(ctx, v, run, PP_PCOLL_SESSION);
}

const char *pp_a2_setuid(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                         pp_rule_action_t *run)
{
    (void)b;
    return set_key(ctx, v, run, PP_PCOLL_USER);
}

const char *pp_a2_setrsc(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                         pp_rule_action_t *run)
{
    (void)b;
    return set_key(ctx, v, run, PP_PCOLL_RESOURCE);
}

/* ---- expirevar, deprecatevar ---- */

/* The loaded record and field "col.field" names, or NULL (TX, or a collection not initialised:
 * ignored, as ModSecurity ignores them). */
static pp_store_rec_t *target(pp_tx_t *tx, const pcoll_action_t *a, const char *what,
                              const char **field)
{
    pp_str_t name = pp_macro_expand(tx, a->name);
    const char *dot = memchr(name.data, '.', name.len);
    int id = dot ? pp_pcoll_find(name.data, (apr_size_t)(dot - name.data)) : -1;
    pp_store_rec_t *r = id >= 0 ? pp_tx_pcoll(tx, (pp_pcoll_id_t)id) : NULL;
    if (!r) {
        pp_debug(tx, 3, "Could not %s variable \"%.*s\" as the collection does not exist.",
                 what, (int)name.len, name.data); /* ModSecurity 2.9.7's words */
        return NULL;
    }
    *field = apr_pstrmemdup(tx->pool, dot + 1, name.len - (apr_size_t)(dot + 1 - name.data));
    return r;
}

static void expirevar_exec(pp_tx_t *tx, const void *arg)
{
    const pcoll_action_t *a = arg;
    const char *field;
    pp_store_rec_t *r = target(tx, a, "expire", &field);
    if (!r)
        return;
    pp_str_t s = pp_macro_expand(tx, a->value);
    long seconds = atol(apr_pstrmemdup(tx->pool, s.data, s.len));
    pp_store_expire(r, field, seconds, apr_time_sec(tx->start));
    pp_tx_pcoll_changed(tx);
}

static void deprecatevar_exec(pp_tx_t *tx, const void *arg)
{
    const pcoll_action_t *a = arg;
    const char *field;
    pp_store_rec_t *r = target(tx, a, "deprecate", &field);
    if (!r)
        return;
    pp_str_t s = pp_macro_expand(tx, a->value);
    const char *text = apr_pstrmemdup(tx->pool, s.data, s.len), *slash = strchr(text, '/');
    if (!slash) {
        pp_debug(tx, 3, "deprecatevar: \"%s\" is not N/S; ignored", text);
        return;
    }
    if (pp_store_deprecate(r, field, atol(text), atol(slash + 1), apr_time_sec(tx->start)))
        pp_tx_pcoll_changed(tx);
}

static const char *named(const pp_setter_ctx_t *ctx, const char *what, const char *v,
                         pp_rule_action_t *run, void (*exec)(pp_tx_t *, const void *))
{
    const char *eq = strchr(v, '=');
    const char *dot = eq ? memchr(v, '.', (apr_size_t)(eq - v)) : NULL;
    if (!eq || !dot || dot == v || dot + 1 == eq)
        return apr_psprintf(ctx->tp, "%s:%s: expected COLLECTION.NAME=%s", what, v,
                            exec == expirevar_exec ? "SECONDS" : "N/SECONDS");
    pcoll_action_t *a = apr_pcalloc(ctx->cp, sizeof *a);
    a->coll = -1;
    a->name = pp_macro_compile_shared(ctx->cp, apr_pstrmemdup(ctx->tp, v, (apr_size_t)(eq - v)));
    a->value = pp_macro_compile_shared(ctx->cp, eq + 1);
    run->exec = exec;
    run->arg = a;
    return NULL;
}

const char *pp_a2_expirevar(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                            pp_rule_action_t *run)
{
    (void)b;
    return named(ctx, "expirevar", v, run, expirevar_exec);
}

const char *pp_a2_deprecatevar(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                               pp_rule_action_t *run)
{
    (void)b;
    return named(ctx, "deprecatevar", v, run, deprecatevar_exec);
}
