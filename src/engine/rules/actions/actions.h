/*
 * Action family: parse functions the action table points at (config time) and the run-time
 * side effects of matched rules (setenv, setnote, pause, exec).
 */
#ifndef PP_ACTIONS_H
#define PP_ACTIONS_H

#include "rules/model.h"

const char *pp_act_deny_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_allow_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_pass_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_redirect_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_proxy_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_status_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_log_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_nolog_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_auditlog_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_noauditlog_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_exec_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_pause_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_setenv_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_setnote_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_logparts_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_id_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_rev_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_msg_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_severity_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_chain_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_skipnext_parse(apr_pool_t *, const char *, pp_actionset_t *);
const char *pp_act_mandatory_parse(apr_pool_t *, const char *, pp_actionset_t *);

/* Starts the exec action's program (argv only, no shell) with a CGI-like environment
 * describing the request and the match, without waiting for it; the transaction pool reaps it,
 * ending it after a bounded time (util/proc.h pp_proc_start). Failures to start are logged,
 * never fatal: the verdict is already decided. */
struct pp_tx_t;
void pp_actions_exec(struct pp_tx_t *tx, const char *program, const pp_match_t *m);

/* Syslog names printed for severity 0-7 (EMERGENCY ... DEBUG). */
const char *pp_severity_name(int severity);

#endif
