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
bool pp_op_rx_exact(const void *compiled);
/* The expand column (rules/model.h): @rx escapes the expansion as ModSecurity does; the other
 * rows that expand take it as it is. */
const char *pp_op_rx_expand(apr_pool_t *p, pp_str_t expanded);
const char *pp_op_text_expand(apr_pool_t *p, pp_str_t expanded);
/* The words column (rules/model.h): ModSecurity 2.9.7's match messages, and its log_escape of
 * the text they quote ('"' and '\\' backslashed, \b \n \r \t \v named, other bytes below 0x20
 * or from 0x7f as \xHH). */
const char *pp_ms_log_escape(apr_pool_t *p, pp_str_t s);
#define PP_OP_WORDS(name)                                                                   \
    const char *name(apr_pool_t *p, const void *compiled, const char *arg, pp_str_t value,  \
                     const pp_op_out_t *out, const char *var)
PP_OP_WORDS(pp_op_string_words);
PP_OP_WORDS(pp_op_within_words);
PP_OP_WORDS(pp_op_strmatch_words);
PP_OP_WORDS(pp_op_eq_words);
PP_OP_WORDS(pp_op_ge_words);
PP_OP_WORDS(pp_op_gt_words);
PP_OP_WORDS(pp_op_le_words);
PP_OP_WORDS(pp_op_lt_words);
PP_OP_WORDS(pp_op_ipmatch_words);
PP_OP_WORDS(pp_op_ipmatchf_words);
PP_OP_WORDS(pp_op_pm_words);
PP_OP_WORDS(pp_op_sqli_words);
PP_OP_WORDS(pp_op_xss_words);
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
/* @detectXSS's compiled form is its literal needs ('<' or '='), which pp_op_xss_needs returns:
 * pp_xss_detect is false on a value holding neither (xss.c). */
const char *pp_op_xss_parse(apr_pool_t *cp, const char *arg, void **compiled);
const pp_rx_needs_t *pp_op_xss_needs(const void *compiled);

/* Whether value is SQL injection; on true, fingerprint holds the token-type fingerprint (1 to
 * 5 characters, NUL-terminated; ModSecurity puts it in TX:0), else "". Cannot fail. */
bool pp_sqli_detect(pp_str_t value, char fingerprint[PP_SQLI_FINGERPRINT_SIZE]);

/* Whether value is cross-site scripting: HTML5 tokenizing from five starting states (text,
 * unquoted / single / double / back-quoted attribute value) against blacklists of tags,
 * attributes and URL schemes. Cannot fail. */
bool pp_xss_detect(pp_str_t value);

/* ModSecurity 2.9.7's other operators (pm.c, strops.c; docs/operators.md). Rows whose argument
 * names a file (@pmFromFile, @ipMatchFromFile) resolve a relative path against the directory
 * the front end set with pp_op_set_base_dir (the rule file's), else the working directory. */
void pp_op_set_base_dir(apr_pool_t *cp, const char *dir);
const char *pp_op_resolve_path(apr_pool_t *cp, const char *fn);
const char *pp_op_pm_parse(apr_pool_t *cp, const char *arg, void **compiled);
const char *pp_op_pmf_parse(apr_pool_t *cp, const char *arg, void **compiled);
/* The phrases, or prefixes of them, as literal needs (NULL for an empty list). */
const pp_rx_needs_t *pp_op_pm_needs(const void *compiled);
apr_status_t pp_op_pm_exec(pp_tx_t *tx, const void *compiled, pp_str_t value, bool *match,
                           pp_op_out_t *out);
/* The phrase matcher alone: true and *phrase (the reported text, in the configuration pool)
 * when value holds a phrase; pp_pm_phrases counts the distinct phrases. */
bool pp_pm_match(const void *compiled, pp_str_t value, pp_str_t *phrase);
apr_size_t pp_pm_phrases(const void *compiled);
/* The same answer as pp_pm_match, from walking the trie instead of the start-up table (the
 * tests' reference, and what a list too large for the table uses); whether there is a table. */
bool pp_pm_match_trie(const void *compiled, pp_str_t value, pp_str_t *phrase);
bool pp_pm_uses_table(const void *compiled);
/* ModSecurity's @pm content syntax (quotes, |hex|, \ escapes) or NULL when it refuses it. */
const char *pp_pm_content(apr_pool_t *p, const char *arg);
/* glibc atoi() of a value that need not end in NUL. */
int pp_ms_atoi(const char *s, apr_size_t len);

#define PP_OP_EXEC(name)                                                                    \
    apr_status_t name(pp_tx_t *tx, const void *compiled, pp_str_t value, bool *match,       \
                      pp_op_out_t *out)
const char *pp_op_str_parse(apr_pool_t *cp, const char *arg, void **compiled);
/* The argument as a literal every match contains (NULL for an empty one). */
const pp_rx_needs_t *pp_op_str_needs(const void *compiled);
const char *pp_op_strmatch_parse(apr_pool_t *cp, const char *arg, void **compiled);
const char *pp_op_num_parse(apr_pool_t *cp, const char *arg, void **compiled);
const char *pp_op_byterange_parse(apr_pool_t *cp, const char *arg, void **compiled);
const char *pp_op_ipmatch_parse(apr_pool_t *cp, const char *arg, void **compiled);
const char *pp_op_ipmatchf_parse(apr_pool_t *cp, const char *arg, void **compiled);
const char *pp_op_anyarg_parse(apr_pool_t *cp, const char *arg, void **compiled);
const char *pp_op_unsupported_parse(apr_pool_t *cp, const char *arg, void **compiled);
PP_OP_EXEC(pp_op_streq_exec);
PP_OP_EXEC(pp_op_contains_exec);
PP_OP_EXEC(pp_op_containsword_exec);
PP_OP_EXEC(pp_op_beginswith_exec);
PP_OP_EXEC(pp_op_endswith_exec);
PP_OP_EXEC(pp_op_within_exec);
PP_OP_EXEC(pp_op_strmatch_exec);
PP_OP_EXEC(pp_op_eq_exec);
PP_OP_EXEC(pp_op_gt_exec);
PP_OP_EXEC(pp_op_ge_exec);
PP_OP_EXEC(pp_op_lt_exec);
PP_OP_EXEC(pp_op_le_exec);
PP_OP_EXEC(pp_op_always_exec);
PP_OP_EXEC(pp_op_never_exec);
PP_OP_EXEC(pp_op_byterange_exec);
PP_OP_EXEC(pp_op_urlenc_exec);
PP_OP_EXEC(pp_op_utf8_exec);
PP_OP_EXEC(pp_op_ipmatch_exec);
/* geo.c: SecGeoLookupDb's MaxMind database, opened into cp (closed by a cp cleanup); NULL or
 * the reason it cannot be read. @geoLookup fills tx->geo (GEO) from it. */
typedef struct pp_geo_db_t pp_geo_db_t;
const char *pp_geo_open(apr_pool_t *cp, const char *path, const pp_geo_db_t **out);
PP_OP_EXEC(pp_op_geolookup_exec);
PP_OP_WORDS(pp_op_geolookup_words);
/* rbl.c: @rbl ZONE over one UDP question to SecRblResolver (or resolv.conf's first
 * nameserver) with a bounded wait; pp_rbl_resolver_parse reads "IP", "IP:PORT", "[IPv6]:PORT". */
#include <sys/socket.h>
bool pp_rbl_resolver_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len);
const char *pp_op_rbl_parse(apr_pool_t *cp, const char *arg, void **compiled);
PP_OP_EXEC(pp_op_rbl_exec);
/* inspect.c: @inspectFile SCRIPT through the upload approval runner, failing closed. */
const char *pp_op_inspect_parse(apr_pool_t *cp, const char *arg, void **compiled);
PP_OP_EXEC(pp_op_inspect_exec);
/* xmlvalid.c: @validateDTD / @validateSchema on the XML body's document (libxml2). */
const char *pp_op_dtd_parse(apr_pool_t *cp, const char *arg, void **compiled);
const char *pp_op_schema_parse(apr_pool_t *cp, const char *arg, void **compiled);
PP_OP_EXEC(pp_op_dtd_exec);
PP_OP_EXEC(pp_op_schema_exec);
/* verify.c: @verifyCC, @verifyCPF, @verifySSN (regex candidates, then a checksum). */
const char *pp_op_verify_parse(apr_pool_t *cp, const char *arg, void **compiled);
PP_OP_EXEC(pp_op_verifycc_exec);
PP_OP_EXEC(pp_op_verifycpf_exec);
PP_OP_EXEC(pp_op_verifyssn_exec);
PP_OP_WORDS(pp_op_verifycc_words);
PP_OP_WORDS(pp_op_verifycpf_words);
PP_OP_WORDS(pp_op_verifyssn_words);

#endif
