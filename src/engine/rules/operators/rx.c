/*
 * Regular-expression operators. Patterns compile once into the configuration pool with JIT;
 * matching uses the transaction's match data. A resource limit hit is returned as an error so
 * the evaluator can fail closed.
 */
#include "rules/operators/operators.h"

static const char *compile(apr_pool_t *cp, const char *arg, unsigned flags, void **compiled)
{
    const char *err;
    pp_regex_t *re = pp_regex_compile(cp, arg, flags, &err);
    if (!re)
        return err;
    *compiled = re;
    return NULL;
}

const char *pp_op_rx_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    return compile(cp, arg, 0, compiled);
}

const char *pp_op_rx19_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    return compile(cp, arg, PP_RX_ICASE, compiled);
}

const pp_rx_needs_t *pp_op_rx_needs(const void *compiled)
{
    return pp_regex_needs(compiled);
}

apr_status_t pp_op_rx_exec(pp_tx_t *tx, const void *compiled, pp_str_t value, bool *match,
                           pp_op_out_t *out)
{
    /* The whole match is the matched data; the groups only when the rule keeps them. */
    apr_status_t rv = pp_regex_exec_captures(compiled, tx->rx, value, match, out->captures,
                                             out->want_captures ? PP_OP_CAPTURES : 1,
                                             &out->ncaptures);
    if (*match) {
        out->data = out->ncaptures ? out->captures[0] : value;
        if (!out->want_captures)
            out->ncaptures = 0;
    }
    return rv;
}
