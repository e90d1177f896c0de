/*
 * Macro templates (reference secrule-2.9 §10): text with %{VAR} and %{COLLECTION.KEY}
 * references, compiled once at start-up into literal parts and (variable row, key) references,
 * and expanded per transaction into its pool. Variable names and keys are case-insensitive;
 * the text up to the first '.' is the variable, the rest (dots included) the key, always
 * literal (never a /regex/). An unknown variable, a missing key or an empty collection expands
 * to nothing; a "%{" without its "}" stays literal text; expansion is single-pass (what a
 * reference produces is not expanded again). The value is the first one the variable
 * produces, untransformed.
 */
#include "rules/model.h"
#include "rules/variables/collection.h"
#include "tx.h"

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

typedef struct macro_part_t {
    pp_str_t literal;           /* when var is NULL and !ref */
    const pp_var_def_t *var;    /* reference: the row (NULL with ref: unknown, expands to "") */
    const char *key;            /* reference key, or NULL */
    const pp_coll_key_t *tx_key; /* %{tx.key}: the key prepared, read straight from TX */
    bool ref;
} macro_part_t;

struct pp_macro_t {
    const char *text;
    const macro_part_t *parts;
    unsigned nparts;
    bool has_refs;
};

static void add_literal(apr_array_header_t *parts, const char *s, apr_size_t n)
{
    if (!n)
        return;
    macro_part_t *last = parts->nelts ? &APR_ARRAY_IDX(parts, parts->nelts - 1, macro_part_t) : NULL;
    if (last && !last->ref && last->literal.data + last->literal.len == s) {
        last->literal.len += n;
        return;
    }
    *(macro_part_t *)apr_array_push(parts) = (macro_part_t){ .literal = { s, n } };
}

const pp_macro_t *pp_macro_compile(apr_pool_t *cp, const char *text)
{
    pp_macro_t *m = apr_pcalloc(cp, sizeof *m);
    m->text = apr_pstrdup(cp, text ? text : "");
    /* Most templates (CRS: ~6,500 of ~7,100 msg, tag, logdata and setvar values) are plain
     * text: they expand to m->text and need no parts. */
    if (!strstr(m->text, "%{"))
        return m;
    apr_array_header_t *parts = apr_array_make(cp, 2, sizeof(macro_part_t));
    const char *s = m->text;
    while (*s) {
        const char *open = strstr(s, "%{");
        const char *close = open ? strchr(open + 2, '}') : NULL;
        if (!open || !close) {
            add_literal(parts, s, strlen(s));
            break;
        }
        add_literal(parts, s, (apr_size_t)(open - s));
        const char *name = open + 2;
        const char *dot = memchr(name, '.', (apr_size_t)(close - name));
        apr_size_t nlen = (apr_size_t)((dot ? dot : close) - name);
        char *upper = apr_pstrmemdup(cp, name, nlen);
        for (char *c = upper; *c; c++)
            *c = (char)apr_toupper((unsigned char)*c);
        macro_part_t p = { .ref = true, .var = pp_var_find(upper) };
        if (dot)
            p.key = apr_pstrmemdup(cp, dot + 1, (apr_size_t)(close - dot - 1));
        if (p.key && p.var && strcmp(p.var->name, "TX") == 0)
            p.tx_key = pp_coll_key_make(cp, pp_str_from_cstr(p.key));
        *(macro_part_t *)apr_array_push(parts) = p;
        m->has_refs = true;
        s = close + 1;
    }
    m->parts = (const macro_part_t *)parts->elts;
    m->nparts = (unsigned)parts->nelts;
    return m;
}

#define MACROS_SHARED "parapet-macros-shared"

const pp_macro_t *pp_macro_compile_shared(apr_pool_t *cp, const char *text)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, MACROS_SHARED, cp);
    apr_hash_t *h = data;
    if (!h) {
        h = apr_hash_make(cp);
        apr_pool_userdata_setn(h, MACROS_SHARED, apr_pool_cleanup_null, cp);
    }
    const char *t = text ? text : "";
    const pp_macro_t *m = apr_hash_get(h, t, APR_HASH_KEY_STRING);
    if (!m) {
        m = pp_macro_compile(cp, t);
        apr_hash_set(h, m->text, APR_HASH_KEY_STRING, m);
    }
    return m;
}

bool pp_macro_has_refs(const pp_macro_t *m)
{
    return m->has_refs;
}

const char *pp_macro_text(const pp_macro_t *m)
{
    return m->text;
}

const pp_coll_key_t *pp_macro_tx_key(const pp_macro_t *m)
{
    return m->nparts == 1 ? m->parts[0].tx_key : NULL;
}

bool pp_var_get(pp_tx_t *tx, const pp_var_def_t *def, const char *key, pp_str_t *out)
{
    /* label_colon: a 2.x target (selectors ignore case) */
    pp_target_t t = { .var = def, .selector = key, .label = def->name, .label_colon = true };
    /* Room for the one value read on the stack (a macro per logged CRS match reads
     * MATCHED_VAR and MATCHED_VAR_NAME); a collector that gives more grows it into the pool. */
    pp_value_t first;
    apr_array_header_t vals = { .pool = tx->pool, .elt_size = sizeof(pp_value_t), .nelts = 0,
                                .nalloc = 1, .elts = (char *)&first };
    if (def->collect(tx, &t, &vals) != APR_SUCCESS || vals.nelts == 0)
        return false;
    *out = APR_ARRAY_IDX(&vals, 0, pp_value_t).value;
    return true;
}

/* %{tx.key}: what pp_var_get gives for it (the TX row's collector: the entry's value, or
 * nothing), without a target or an array. */
static bool tx_key_get(pp_tx_t *tx, const pp_coll_key_t *key, pp_str_t *out)
{
    const pp_coll_entry_t *e = tx->coll_tx ? pp_coll_get_key(tx->coll_tx, key) : NULL;
    if (e)
        *out = e->value;
    return e != NULL;
}

pp_str_t pp_macro_expand(pp_tx_t *tx, const pp_macro_t *m)
{
    if (!m->has_refs)
        return (pp_str_t){ m->text, strlen(m->text) };
    if (m->nparts == 1 && m->parts[0].tx_key) {
        /* The whole text is %{tx.key} (an operator's threshold, setvar:tx.a=%{tx.b}): the
         * entry's own value, NUL-terminated as every TX value is, never changed in place. */
        pp_str_t v;
        return tx_key_get(tx, m->parts[0].tx_key, &v) ? v : (pp_str_t){ "", 0 };
    }
    pp_str_t *vals = apr_palloc(tx->pool, m->nparts * sizeof *vals);
    apr_size_t total = 0;
    for (unsigned i = 0; i < m->nparts; i++) {
        const macro_part_t *p = &m->parts[i];
        vals[i] = p->ref ? (pp_str_t){ "", 0 } : p->literal;
        /* A variable that needs a key (IP, ENV) named without one expands to nothing, as in
         * ModSecurity, which cannot make the variable. */
        if (p->ref && p->var && !p->key && p->var->selector == PP_SEL_REQUIRED)
            continue;
        if (p->ref && p->var &&
            !(p->tx_key ? tx_key_get(tx, p->tx_key, &vals[i]) : pp_var_get(tx, p->var, p->key, &vals[i])))
            vals[i] = (pp_str_t){ "", 0 };
        total += vals[i].len;
    }
    char *buf = apr_palloc(tx->pool, total + 1), *w = buf;
    for (unsigned i = 0; i < m->nparts; i++) {
        if (vals[i].len)
            memcpy(w, vals[i].data, vals[i].len);
        w += vals[i].len;
    }
    *w = '\0';
    return (pp_str_t){ buf, total };
}
