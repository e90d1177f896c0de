/*
 * Operator family: parse (config time) and exec (per value) functions the operator table
 * points at.
 */
#ifndef PP_OPERATORS_H
#define PP_OPERATORS_H

#include "tx.h"

const char *pp_op_rx_parse(apr_pool_t *cp, const char *arg, void **compiled);
const char *pp_op_rx19_parse(apr_pool_t *cp, const char *arg, void **compiled);
const pp_rx_needs_t *pp_op_rx_needs(const void *compiled);
apr_status_t pp_op_rx_exec(pp_tx_t *tx, const void *compiled, pp_str_t value, bool *match);

#endif
