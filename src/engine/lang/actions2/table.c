/*
 * The SecRule action table (see actions2.h). Keep sorted by name; one row per action.
 * An action of the reference that is not here is refused at start-up with the reason.
 */
#include "lang/actions2/actions2.h"

#define DIS PP_A2_DISRUPTIVE
#define FLOW PP_A2_FLOW
#define META PP_A2_META
#define LOG PP_A2_LOGGING
#define DATA PP_A2_DATA
#define NOV PP_A2_NOVALUE
#define VAL PP_A2_VALUE
#define OPT PP_A2_OPTIONAL
#define CFG PP_A2_CONFIG
#define MATCH PP_A2_MATCH

/* clang-format off */
static const pp_action2_def_t table[] = {
    /* name          category arity when   compile            help */
    { "accuracy",    META, VAL, CFG,   pp_a2_accuracy,       "accuracy of the rule's detection (logged)" },
    { "allow",       DIS,  OPT, CFG,   pp_a2_allow,       "stop and let the request through (allow:phase, allow:request: less)" },
    { "append",      DATA, VAL, CFG,   pp_a2_append,      "response content injection: refused (not implemented)" },
    { "auditlog",    LOG,  NOV, CFG,   pp_a2_auditlog,    "a match makes the transaction relevant for the audit log" },
    { "block",       DIS,  NOV, CFG,   pp_a2_block,       "the disruptive action of the SecDefaultAction in force" },
    { "capture",     LOG,  NOV, CFG,   pp_a2_capture,     "keep the operator's captures as TX:0-9" },
    { "chain",       FLOW, NOV, CFG,   pp_a2_chain,       "the next rule is a link of this one (logical AND)" },
    { "ctl",         DATA, VAL, MATCH, pp_a2_ctl,         "change the configuration for the rest of the transaction" },
    { "deny",        DIS,  NOV, CFG,   pp_a2_deny,        "stop and answer with the status (403 unless status:)" },
    { "deprecatevar", DATA, VAL, MATCH, pp_a2_deprecatevar, "lower a persistent variable by N per S seconds since the last write (col.name=N/S)" },
    { "drop",        DIS,  NOV, CFG,   pp_a2_drop,        "stop and close the client connection" },
    { "exec",        DATA, VAL, MATCH, pp_a2_exec,        "start a program (absolute path, no arguments) per match" },
    { "expirevar",   DATA, VAL, MATCH, pp_a2_expirevar,   "remove a persistent variable SECONDS from now (col.name=SECONDS)" },
    { "id",          META, VAL, CFG,   pp_a2_id,          "the rule's id" },
    { "initcol",     DATA, VAL, MATCH, pp_a2_initcol,     "name the record a persistent collection holds (ip=%{remote_addr})" },
    { "log",         LOG,  NOV, CFG,   pp_a2_log,         "log a match to the error log and the audit log" },
    { "logdata",     META, VAL, CFG,   pp_a2_logdata,     "text logged as [data] (macros expanded)" },
    { "maturity",    META, VAL, CFG,   pp_a2_maturity,       "maturity of the rule (logged)" },
    { "msg",         META, VAL, CFG,   pp_a2_msg,         "the rule's message (macros expanded)" },
    { "multiMatch",  FLOW, NOV, CFG,   pp_a2_multi_match, "test the value before each transformation that changes it too" },
    { "noauditlog",  LOG,  NOV, CFG,   pp_a2_noauditlog,  "a match does not make the transaction relevant" },
    { "nolog",       LOG,  NOV, CFG,   pp_a2_nolog,       "no error-log line (and no audit-log message)" },
    { "pass",        DIS,  NOV, CFG,   pp_a2_pass,        "record the match and continue" },
    { "pause",       DIS,  VAL, CFG,   pp_a2_pause,       "sleep ms (at most 5000) before the interception" },
    { "phase",       FLOW, VAL, CFG,   pp_a2_phase,       "1-5, request (2), response (4) or logging (5)" },
    { "prepend",     DATA, VAL, CFG,   pp_a2_prepend,     "response content injection: refused (not implemented)" },
    { "proxy",       DIS,  VAL, CFG,   pp_a2_proxy,       "stop and forward the request to URL (mod_proxy)" },
    { "redirect",    DIS,  VAL, CFG,   pp_a2_redirect,    "stop and redirect to URL (macros expanded)" },
    { "rev",         META, VAL, CFG,   pp_a2_rev,         "the rule's revision" },
    { "sanitiseArg",            LOG, VAL, MATCH, pp_a2_sanitise_arg,             "mask the argument's value in the audit log" },
    { "sanitiseMatched",        LOG, NOV, MATCH, pp_a2_sanitise_matched,         "mask the matched argument or header in the audit log" },
    { "sanitiseMatchedBytes",   LOG, OPT, MATCH, pp_a2_sanitise_matched_bytes,   "mask the matched bytes (a/b: keep a first, b last) in the audit log" },
    { "sanitiseRequestHeader",  LOG, VAL, MATCH, pp_a2_sanitise_request_header,  "mask the request header's value in the audit log" },
    { "sanitiseResponseHeader", LOG, VAL, MATCH, pp_a2_sanitise_response_header, "mask the response header's value in the audit log" },
    { "sanitizeArg",            LOG, VAL, MATCH, pp_a2_sanitise_arg,             "mask the argument's value in the audit log" },
    { "sanitizeMatched",        LOG, NOV, MATCH, pp_a2_sanitise_matched,         "mask the matched argument or header in the audit log" },
    { "sanitizeMatchedBytes",   LOG, OPT, MATCH, pp_a2_sanitise_matched_bytes,   "mask the matched bytes (a/b: keep a first, b last) in the audit log" },
    { "sanitizeRequestHeader",  LOG, VAL, MATCH, pp_a2_sanitise_request_header,  "mask the request header's value in the audit log" },
    { "sanitizeResponseHeader", LOG, VAL, MATCH, pp_a2_sanitise_response_header, "mask the response header's value in the audit log" },
    { "setenv",      DATA, VAL, MATCH, pp_a2_setenv,      "set (name=value) or unset (!name) a request environment variable" },
    { "setrsc",      DATA, VAL, MATCH, pp_a2_setrsc,      "initialise RESOURCE with this key" },
    { "setsid",      DATA, VAL, MATCH, pp_a2_setsid,      "initialise SESSION with this key (and SESSIONID)" },
    { "setuid",      DATA, VAL, MATCH, pp_a2_setuid,      "initialise USER with this key (and USERID)" },
    { "setvar",      DATA, VAL, MATCH, pp_a2_setvar,      "set, add to or remove a collection variable" },
    { "severity",    META, VAL, CFG,   pp_a2_severity,    "0-7 or EMERGENCY ... DEBUG" },
    { "skip",        FLOW, VAL, CFG,   pp_a2_skip,        "after a match, skip the next N rules or chains of the phase" },
    { "skipAfter",   FLOW, VAL, CFG,   pp_a2_skip_after,  "after a match, continue after the SecMarker (or rule) named" },
    { "status",      DIS,  VAL, CFG,   pp_a2_status,      "HTTP status of an interception" },
    { "t",           DATA, VAL, CFG,   pp_a2_t,           "a transformation applied before the operator" },
    { "tag",         META, VAL, CFG,   pp_a2_tag,         "a tag (repeatable; logged, and matched by ...ByTag)" },
    { "ver",         META, VAL, CFG,   pp_a2_ver,         "the rule set's version (logged)" },
    { "xmlns",       DATA, VAL, CFG,   pp_a2_xmlns,       "a namespace prefix (prefix=URI) for this rule's XML:/xpath targets" },
};
/* clang-format on */

const pp_action2_def_t *pp_action2_table(apr_size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

const pp_action2_def_t *pp_action2_find(const char *name)
{
    for (apr_size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcasecmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/* Actions of the reference (§9) that have no row yet: refused as "not supported yet" rather
 * than "unknown", so the message says the configuration is valid ModSecurity. A row that
 * lands removes its name here. */
bool pp_action2_pending(const char *name)
{
    /* Every action of the reference has a row now; the list stays for the next one. */
    static const char *const pending[] = { NULL };
    for (size_t i = 0; pending[i]; i++)
        if (strcasecmp(pending[i], name) == 0)
            return true;
    return false;
}
