/* setvar (reference §11.2): set, add to or remove a variable of a collection, per match: TX, or
 * a persistent collection initcol named (loaded at its first use, written back at the end).
 *
 * CRS runs ~60 per request, nearly all on TX with a literal name (setvar:tx.anomaly_score_pl1=
 * +%{tx.critical_anomaly_score}): such a name is split and its key folded and hashed at
 * start-up (pp_coll_key_t), a literal value is stored without a copy, and a literal relative
 * value is converted to its number once, and a relative value that is one TX reference
 * (+%{tx.critical_anomaly_score}) reads that entry's number without expanding the template; a
 * name with macros goes the general way. */
#include "lang/actions2/actions2.h"
#include "rules/variables/collection.h"
#include "store/store.h"
#include "tx.h"

#include <apr_lib.h>

typedef struct setvar_t {
    const pp_macro_t *name;  /* "tx.key", expanded per match */
    const pp_macro_t *value; /* NULL: unset (!tx.key) */
    bool relative;           /* value starts with + or - */
    const pp_coll_key_t *tx_key; /* the name is "tx.key" without macros: the key, prepared */
    long long delta;         /* relative, value without macros: its atoi */
    pp_str_t literal;        /* value without macros: its text (kept by the configuration) */
    const pp_coll_key_t *delta_key; /* relative value "+%{tx.key}" / "-%{tx.key}": that key */
    bool delta_neg;          /* ... with "-" */
} setvar_t;

/* The number "+V" or "-V" makes (V: delta_key's value, "" without one), as pp_coll_atoi would
 * read the expansion: the sign, then V's leading digits; V starting otherwise (blank, sign,
 * letter) makes 0. Read from TX without expanding the template (CRS's
 * setvar:tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}, ~25 a request). */
static long long delta_of(pp_tx_t *tx, const setvar_t *sv)
{
    const pp_coll_entry_t *e = tx->coll_tx ? pp_coll_get_key(tx->coll_tx, sv->delta_key) : NULL;
    if (!e || !e->value.len || !apr_isdigit((unsigned char)e->value.data[0]))
        return 0;
    long long v = pp_coll_atoi(e->value);
    return sv->delta_neg ? -v : v;
}

/* setvar on IP, SESSION, USER, GLOBAL or RESOURCE: false when name is not in one. */
static bool setvar_pcoll(pp_tx_t *tx, const setvar_t *sv, pp_str_t coll, pp_str_t key)
{
    int id = pp_pcoll_find(coll.data, coll.len);
    pp_store_rec_t *r = id >= 0 ? pp_tx_pcoll(tx, (pp_pcoll_id_t)id) : NULL;
    if (!r)
        return false;
    const char *field = apr_pstrmemdup(tx->pool, key.data, key.len);
    if (!sv->value) {
        pp_store_unset(r, field);
    } else {
        pp_str_t v = pp_macro_expand(tx, sv->value);
        const char *text = apr_pstrmemdup(tx->pool, v.data, v.len);
        if (sv->relative)
            pp_store_add(r, field, pp_store_atoi_text(text));
        else
            pp_store_set(r, field, text);
    }
    pp_tx_pcoll_changed(tx);
    return true;
}

/* Runs one setvar (reference §11.2); a collection that is not initialised is skipped, as
 * ModSecurity skips it. */
static void setvar_exec(pp_tx_t *tx, const void *arg)
{
    const setvar_t *sv = arg;
    if (sv->tx_key) {
        pp_coll_t *c = pp_tx_collection(tx);
        if (!sv->value)
            pp_coll_unset_key(c, sv->tx_key);
        else if (!pp_macro_has_refs(sv->value) && sv->relative)
            pp_coll_add_key(c, sv->tx_key, sv->delta);
        else if (sv->delta_key)
            pp_coll_add_key(c, sv->tx_key, delta_of(tx, sv));
        else if (sv->relative)
            pp_coll_add_key(c, sv->tx_key, pp_coll_atoi(pp_macro_expand(tx, sv->value)));
        else if (!pp_macro_has_refs(sv->value)) /* the literal, kept by the configuration */
            pp_coll_set_key(c, sv->tx_key, sv->literal, true);
        else /* the expansion is new text in the transaction's pool, NUL-terminated, or a TX
              * value (never changed in place): kept as it is, as TX lives in that pool */
            pp_coll_set_key(c, sv->tx_key, pp_macro_expand(tx, sv->value), true);
        pp_tx_changed(tx, PP_SRC_TX);
        return;
    }
    pp_str_t name = pp_macro_expand(tx, sv->name);
    const char *dot = memchr(name.data, '.', name.len);
    pp_str_t key = { dot ? dot + 1 : NULL, dot ? name.len - (apr_size_t)(dot + 1 - name.data) : 0 };
    if (!dot || (apr_size_t)(dot - name.data) != 2 || strncasecmp(name.data, "tx", 2) != 0) {
        if (!dot || !setvar_pcoll(tx, sv, (pp_str_t){ name.data, (apr_size_t)(dot - name.data) }, key))
            pp_debug(tx, 3, "Could not set variable \"%.*s\" as the collection does not exist.",
                     (int)name.len, name.data); /* ModSecurity 2.9.7's words */
        return;
    }
    pp_coll_t *c = pp_tx_collection(tx);
    if (!sv->value)
        pp_coll_unset(c, key);
    else if (sv->relative)
        pp_coll_add(c, key, pp_macro_expand(tx, sv->value));
    else /* the expanded name and value: new text in the transaction's pool (TX's), or a
          * configuration's or TX's text (never changed in place) */
        pp_coll_set_kept(c, key, pp_macro_expand(tx, sv->value));
    pp_tx_changed(tx, PP_SRC_TX);
}

const char *pp_a2_setvar(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                         pp_rule_action_t *a)
{
    (void)b;
    apr_pool_t *cp = ctx->cp;
    setvar_t *sv = apr_pcalloc(cp, sizeof *sv);
    bool unset = v[0] == '!';
    const char *eq = strchr(v, '=');
    const char *name = unset ? v + 1 : v;
    if (unset && eq)
        return "setvar: \"!\" removes a variable and takes no value";
    sv->name = pp_macro_compile_shared(
        cp, eq ? apr_pstrmemdup(ctx->tp, name, (apr_size_t)(eq - name)) : name);
    if (!unset) {
        const char *val = eq ? eq + 1 : "1";
        while (*val == ' ' || *val == '\t')
            val++;
        sv->relative = val[0] == '+' || val[0] == '-';
        sv->value = pp_macro_compile_shared(cp, val);
        if (sv->relative && !pp_macro_has_refs(sv->value))
            sv->delta = pp_coll_atoi(pp_str_from_cstr(val));
        else if (sv->relative) {
            sv->delta_key = pp_macro_tx_key(pp_macro_compile_shared(cp, val + 1));
            sv->delta_neg = val[0] == '-';
        }
        sv->literal = pp_str_from_cstr(pp_macro_text(sv->value));
    }
    /* "tx.key": the key prepared once (setvar_exec's general path splits it per match) */
    const char *text = pp_macro_text(sv->name), *dot = strchr(text, '.');
    if (!pp_macro_has_refs(sv->name) && dot && dot - text == 2 && strncasecmp(text, "tx", 2) == 0)
        sv->tx_key = pp_coll_key_make(cp, pp_str_from_cstr(dot + 1));
    a->exec = setvar_exec;
    a->arg = sv;
    return NULL;
}
