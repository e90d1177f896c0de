/*
 * The SecRule action registry (reference secrule-2.9 §9): one row per action, with its
 * category, whether it takes a value, when it takes effect (the run column) and the function
 * that compiles it at start-up. The front end (lang/secrule.c) walks a rule's action list
 * through this table; nothing about an action is decided in the rule loop by name.
 *
 * when = PP_A2_CONFIG: compile changes the rule being built (metadata, disruptive action,
 *        logging, phase, t:) and nothing runs per request.
 * when = PP_A2_MATCH:  compile also fills one row of the rule's run list; the loop calls its
 *        exec once per matching value, in the order written (setvar, ctl, initcol, ...).
 */
#ifndef PP_ACTIONS2_H
#define PP_ACTIONS2_H

#include "config/config.h"
#include "rules/model.h"

/* A rule while its action list is compiled. */
typedef struct pp_rule_build_t {
    pp_rule_t *rule;
    pp_actionset_t *as;
    apr_array_header_t *run;  /* pp_rule_action_t */
    apr_array_header_t *tags; /* const char * */
    apr_array_header_t *tfns; /* const pp_tfn_def_t *, the t: actions in order */
    int phase;                /* 0: not given */
    apr_array_header_t *xmlns; /* const char *: prefix, URI, ... (xmlns actions), or NULL */
    bool block;
} pp_rule_build_t;

typedef enum { PP_A2_DISRUPTIVE, PP_A2_FLOW, PP_A2_META, PP_A2_LOGGING, PP_A2_DATA } pp_a2_cat_t;
typedef enum { PP_A2_NOVALUE, PP_A2_VALUE, PP_A2_OPTIONAL } pp_a2_arity_t;
typedef enum { PP_A2_CONFIG, PP_A2_MATCH } pp_a2_when_t;

/* Compiles one action. value is NULL for an action without one. For PP_A2_MATCH rows `run`
 * is the rule's new run-list row (name already set): compile sets run->exec and run->arg.
 * Returns NULL or the reason (in ctx->tp); the front end adds file:line and the rule id. */
typedef const char *(*pp_a2_compile_fn)(const pp_setter_ctx_t *ctx, pp_rule_build_t *b,
                                        const char *value, pp_rule_action_t *run);

typedef struct pp_action2_def_t {
    const char *name;
    pp_a2_cat_t category;
    pp_a2_arity_t arity;
    pp_a2_when_t when;
    pp_a2_compile_fn compile;
    const char *help;
} pp_action2_def_t;

/* Case-insensitive look-up (ModSecurity's action names are); NULL when unknown. */
const pp_action2_def_t *pp_action2_find(const char *name);
/* A reference action without a row yet (refused as "not supported yet"). */
bool pp_action2_pending(const char *name);
/* The whole table, sorted by name (registry tests, `parapet help`). */
const pp_action2_def_t *pp_action2_table(apr_size_t *n);

/* Row functions, one file per family (actions2/<family>.c). */
#define PP_A2_FN(fn) \
    const char *fn(const pp_setter_ctx_t *, pp_rule_build_t *, const char *, pp_rule_action_t *)
/* meta.c */
PP_A2_FN(pp_a2_id); PP_A2_FN(pp_a2_rev); PP_A2_FN(pp_a2_msg); PP_A2_FN(pp_a2_logdata);
PP_A2_FN(pp_a2_tag); PP_A2_FN(pp_a2_severity); PP_A2_FN(pp_a2_ver);
PP_A2_FN(pp_a2_maturity); PP_A2_FN(pp_a2_accuracy);
/* disruptive.c */
PP_A2_FN(pp_a2_deny); PP_A2_FN(pp_a2_pass); PP_A2_FN(pp_a2_block); PP_A2_FN(pp_a2_status);
PP_A2_FN(pp_a2_allow); PP_A2_FN(pp_a2_drop); PP_A2_FN(pp_a2_redirect); PP_A2_FN(pp_a2_proxy);
PP_A2_FN(pp_a2_pause);
/* flow.c */
PP_A2_FN(pp_a2_chain); PP_A2_FN(pp_a2_phase); PP_A2_FN(pp_a2_skip_after); PP_A2_FN(pp_a2_t);
PP_A2_FN(pp_a2_skip); PP_A2_FN(pp_a2_multi_match);
/* logging.c */
PP_A2_FN(pp_a2_log); PP_A2_FN(pp_a2_nolog); PP_A2_FN(pp_a2_auditlog);
PP_A2_FN(pp_a2_noauditlog); PP_A2_FN(pp_a2_capture);
PP_A2_FN(pp_a2_sanitise_arg); PP_A2_FN(pp_a2_sanitise_request_header);
PP_A2_FN(pp_a2_sanitise_response_header); PP_A2_FN(pp_a2_sanitise_matched);
PP_A2_FN(pp_a2_sanitise_matched_bytes);
/* setvar.c */
PP_A2_FN(pp_a2_setvar);
/* xmlns: meta.c */
PP_A2_FN(pp_a2_xmlns);
/* process.c */
PP_A2_FN(pp_a2_setenv); PP_A2_FN(pp_a2_exec); PP_A2_FN(pp_a2_append); PP_A2_FN(pp_a2_prepend);
/* ctl.c */
PP_A2_FN(pp_a2_ctl);
/* The i-th ctl name (sorted), NULL past the last: for the registry test. */
const char *pp_a2_ctl_name(apr_size_t i);
/* persist.c */
PP_A2_FN(pp_a2_initcol); PP_A2_FN(pp_a2_setsid); PP_A2_FN(pp_a2_setuid); PP_A2_FN(pp_a2_setrsc);
PP_A2_FN(pp_a2_expirevar); PP_A2_FN(pp_a2_deprecatevar);

#endif
