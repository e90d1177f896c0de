/*
 * The action registry (reference §8.1–8.2): one row per action, sorted by name, carrying its
 * category, arity and whether it may repeat. actionlist.c enforces arity and restriction from
 * these rows.
 */
#include "rules/actions/actions.h"

#define DIS PP_ACAT_DISRUPTIVE
#define SEC PP_ACAT_SECONDARY
#define META PP_ACAT_METADATA
#define FLOW PP_ACAT_FLOW
#define NOARG PP_AARG_NONE
#define ONE PP_AARG_ONE

/* clang-format off */
static const pp_action_def_t action_table[] = {
    /* name          category arity  repeat parse                     help */
    { "allow",       DIS,  NOARG, false, pp_act_allow_parse,      "stop rule processing and let the request through" },
    { "auditlog",    SEC,  NOARG, false, pp_act_auditlog_parse,   "make the request relevant for the audit log" },
    { "chain",       FLOW, NOARG, false, pp_act_chain_parse,      "the next rule must match too (logical AND)" },
    { "deny",        DIS,  NOARG, false, pp_act_deny_parse,       "reject the request with the status" },
    { "exec",        SEC,  ONE,   false, pp_act_exec_parse,       "run a program (argv only, no shell) on a match" },
    { "id",          META, ONE,   false, pp_act_id_parse,         "rule id" },
    { "log",         SEC,  NOARG, false, pp_act_log_parse,        "log the match to the error log" },
    { "logparts",    SEC,  ONE,   false, pp_act_logparts_parse,   "audit log parts for this transaction" },
    { "mandatory",   SEC,  NOARG, false, pp_act_mandatory_parse,  "inherit the rule even where inheritance is Off" },
    { "msg",         META, ONE,   false, pp_act_msg_parse,        "message text" },
    { "noauditlog",  SEC,  NOARG, false, pp_act_noauditlog_parse, "this match does not make the request relevant" },
    { "nolog",       SEC,  NOARG, false, pp_act_nolog_parse,      "do not log the match" },
    { "pass",        DIS,  NOARG, false, pp_act_pass_parse,       "record the match and continue" },
    { "pause",       SEC,  ONE,   false, pp_act_pause_parse,      "delay the response by N milliseconds" },
    { "proxy",       DIS,  ONE,   false, pp_act_proxy_parse,      "hand the request to mod_proxy for URL" },
    { "redirect",    DIS,  ONE,   false, pp_act_redirect_parse,   "answer with a 302 redirect to URL" },
    { "rev",         META, ONE,   false, pp_act_rev_parse,        "rule revision" },
    { "setenv",      SEC,  ONE,   true,  pp_act_setenv_parse,     "set an environment variable NAME=VALUE" },
    { "setnote",     SEC,  ONE,   true,  pp_act_setnote_parse,    "set an Apache note NAME=VALUE" },
    { "severity",    META, ONE,   false, pp_act_severity_parse,   "0-7 or EMERGENCY ... DEBUG" },
    { "skipnext",    FLOW, ONE,   false, pp_act_skipnext_parse,   "on a match, skip the next N rules" },
    { "status",      SEC,  ONE,   false, pp_act_status_parse,     "HTTP status used by deny" },
};
/* clang-format on */

const pp_action_def_t *pp_action_table(apr_size_t *n)
{
    *n = sizeof action_table / sizeof action_table[0];
    return action_table;
}

const pp_action_def_t *pp_action_find(const char *name)
{
    apr_size_t n;
    const pp_action_def_t *t = pp_action_table(&n);
    for (apr_size_t i = 0; i < n; i++)
        if (strcasecmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}
