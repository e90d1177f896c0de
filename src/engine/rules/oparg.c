/*
 * Operator arguments that are macro templates (`@ge %{tx.inbound_anomaly_score_threshold}`,
 * `@within %{tx.allowed_methods}`, `@rx ^%{tx.allowed_request_content_type_charset}$`):
 * ModSecurity 2.9.7 expands them each time the operator runs (reference secrule-2.9 §8.1). The
 * front end keeps the template (pp_operator_t.macro) when the row has an `expand` column; here
 * it is expanded for each value, as ModSecurity does (MATCHED_VAR and TX may change between
 * values), and parsed only when the expansion differs from the one parsed last for this rule
 * in this transaction, so a rule tested on many values, or run in several phases, parses once.
 *
 * Memory: the first parse of a rule lives in the transaction pool; a rule whose expansion
 * changes within a transaction parses again into its own subpool, cleared each time, so a
 * template that follows MATCHED_VAR holds one compiled argument, not one per value.
 */
#include "tx.h"

#include <apr_strings.h>

typedef struct oparg_t {
    const pp_operator_t *op; /* the operator this argument is for (NULL: a free cell) */
    pp_str_t text;     /* the expansion compiled is for */
    void *compiled;
    const char *error; /* parse refused text */
    apr_pool_t *pool;  /* for the second and later parses (NULL until then) */
} oparg_t;

/* The transaction's arguments by operator: open addressing on the operator's address, at most
 * half full (CRS: ~10 operators a request, ~9 runs at PL1), in place of an apr_hash_t whose
 * get and first set cost ~300 instructions a run. */
struct pp_oparg_set_t {
    oparg_t *cells;
    unsigned mask, used;
};

#define OPARG_CELLS0 16u

static inline unsigned oparg_hash(const pp_operator_t *op)
{
    return (unsigned)(((uintptr_t)op >> 3) * 0x9E3779B1u >> 7);
}

/* The cell of op: its own, or the free one it takes. */
static oparg_t *oparg_cell(const struct pp_oparg_set_t *set, const pp_operator_t *op)
{
    for (unsigned i = oparg_hash(op) & set->mask;; i = (i + 1) & set->mask)
        if (set->cells[i].op == op || !set->cells[i].op)
            return &set->cells[i];
}

/* The cell op takes, made (doubling the table when it would be over half full). */
static oparg_t *oparg_add(pp_tx_t *tx, struct pp_oparg_set_t *set, const pp_operator_t *op)
{
    if ((set->used + 1) * 2 > set->mask + 1) {
        oparg_t *old = set->cells;
        unsigned n = set->mask + 1;
        set->cells = apr_pcalloc(tx->pool, 2 * n * sizeof *set->cells);
        set->mask = 2 * n - 1;
        for (unsigned i = 0; i < n; i++)
            if (old[i].op)
                *oparg_cell(set, old[i].op) = old[i];
    }
    oparg_t *a = oparg_cell(set, op);
    a->op = op;
    set->used++;
    return a;
}

static const oparg_t *oparg_get(pp_tx_t *tx, const pp_rule_t *r)
{
    const pp_operator_t *op = &r->op;
    pp_str_t x = pp_macro_expand(tx, op->macro);
    struct pp_oparg_set_t *set = tx->op_args;
    if (!set) {
        set = tx->op_args = apr_palloc(tx->pool, sizeof *set);
        set->cells = apr_pcalloc(tx->pool, OPARG_CELLS0 * sizeof *set->cells);
        set->mask = OPARG_CELLS0 - 1;
        set->used = 0;
    }
    oparg_t *a = oparg_cell(set, op);
    if (a->op && a->text.len == x.len && memcmp(a->text.data, x.data, x.len) == 0)
        return a;
    apr_pool_t *p = tx->pool;
    if (!a->op) {
        a = oparg_add(tx, set, op);
    } else {
        if (!a->pool && apr_pool_create(&a->pool, tx->pool) != APR_SUCCESS)
            a->pool = NULL;
        if (a->pool) {
            apr_pool_clear(a->pool);
            p = a->pool;
        }
    }
    a->text = (pp_str_t){ apr_pstrmemdup(p, x.data, x.len), x.len };
    a->compiled = NULL;
    a->error = op->def->parse(p, op->def->expand(p, x), &a->compiled);
    if (a->error)
        pp_debug(tx, 1, "Rule %s:%d%s%s%s: the argument of @%s \"%s\" expands to \"%s\", which "
                 "is refused (%s); the rule counts as matched (fail closed)",
                 r->file ? r->file : "?", r->line, r->id ? " [id \"" : "", r->id ? r->id : "",
                 r->id ? "\"]" : "", op->def->name, pp_macro_text(op->macro),
                 pp_str_log_escape(tx->pool, x, 256), a->error);
    return a;
}

apr_status_t pp_rule_op_exec(pp_tx_t *tx, const pp_rule_t *r, pp_str_t value, bool *match,
                             pp_op_out_t *out)
{
    if (!r->op.macro)
        return r->op.def->exec(tx, r->op.compiled, value, match, out);
    const oparg_t *a = oparg_get(tx, r);
    if (a->error) {
        *match = false;
        return APR_EINVAL;
    }
    return r->op.def->exec(tx, a->compiled, value, match, out);
}

const void *pp_rule_op_compiled(pp_tx_t *tx, const pp_rule_t *r)
{
    if (!r->op.macro)
        return r->op.compiled;
    const oparg_t *a = tx->op_args ? oparg_cell(tx->op_args, &r->op) : NULL;
    return a && a->op && !a->error ? a->compiled : NULL;
}
