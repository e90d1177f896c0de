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
apr_status_t pp_op_rx_exec(pp_tx_t *tx, const void *compiled, pp_str_t value, bool *match,
                           pp_op_out_t *out);

/* @detectSQLi and @detectXSS (sqli.c, sqli_fold.c, xss.c): libinjection 3.9.2's algorithms as
 * ModSecurity 2.9.7 runs them. Neither takes an argument (one is accepted and ignored, as
 * ModSecurity does). */
#define PP_SQLI_FINGERPRINT_SIZE 8
const char *pp_op_noarg_parse(apr_pool_t *cp, const char *arg, void **compiled);
apr_status_t pp_op_sqli_exec(pp_tx_t *tx, const void *compiled, pp_str_t value, bool *match,
                             pp_op_out_t *out);
apr_status_t pp_op_xss_exec(pp_tx_t *tx, const void *compiled, pp_str_t value, bool *match,
                            pp_op_out_t *out);

/* Whether value is SQL injection; on true, fingerprint holds the token-type fingerprint (1 to
 * 5 characters, NUL-terminated; ModSecurity puts it in TX:0), else "". Cannot fail. */
bool pp_sqli_detect(pp_str_t value, char fingerprint[PP_SQLI_FINGERPRINT_SIZE]);

/* Whether value is cross-site scripting: HTML5 tokenizing from five starting states (text,
 * unquoted / single / double / back-quoted attribute value) against blacklists of tags,
 * attributes and URL schemes. Cannot fail. */
bool pp_xss_detect(pp_str_t value);

#endif
