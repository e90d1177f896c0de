/*
 * Rule-language front ends: they turn directive text into the rule model (rules/model.h).
 * secfilter.c handles the 1.9 SecFilter / SecFilterSelective directives, names19.c maps 1.9
 * location names to targets, actionlist.c parses action lists (shared with SecRule later).
 */
#ifndef PP_LANG_H
#define PP_LANG_H

#include "config/config.h"
#include "rules/select.h"

/* Resolves one 1.9 location name (without a leading '!') to a target, or to an exclusion when
 * exclude is set. NULL on success, else a message in tp. The target is interned in cp. */
const char *pp_names19_resolve(apr_pool_t *cp, apr_pool_t *tp, const char *name, bool exclude,
                               const pp_target_t **target, pp_exclusion_t *exclusion);
/* Name of row i of the 1.9 location table, in table order (a prefix row ends in '_'), or NULL
 * past the end. For the registry test, which checks that every row has vectors. */
const char *pp_names19_row(apr_size_t i);
/* The target used for 1.9 ARGS when argument exclusions are present: one value per argument,
 * "name=value". */
const pp_target_t *pp_names19_args_pairs(apr_pool_t *cp);

/* Compiles a SecFilter (locations == NULL) or SecFilterSelective rule and appends it to cfg.
 * NULL on success, else the message. */
const char *pp_secfilter_parse(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, const char *locations,
                               const char *keyword, const char *actions);

/* Compiles a SecRule (variables, operator, actions) or a SecAction (variables == NULL, the
 * actions in `actions`) and appends it to cfg. NULL on success, else the message. op must
 * live in ctx->cp: the rule keeps it (op_text) and its operator's argument points into it. */
const char *pp_secrule_parse(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, const char *variables,
                             const char *op, const char *actions);

/* SecDefaultAction ACTIONS: the base of the SecRules that follow in the context, for the
 * phase it names (default 2): disruptive action (what block means), status, logging, t:. */
const char *pp_secrule_default_action(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx,
                                      const char *actions);
/* SecMarker NAME: a place skipAfter:NAME continues after, in every phase. */
const char *pp_secrule_marker(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, const char *name);

/* secrule.c, for secrule_edit.c: adds a variable list to a rule (replaced: the target whose
 * place the first new one takes), and merges an action list into a rule as
 * SecRuleUpdateActionById does. NULL or the reason. */
const char *pp_secrule_add_targets(const pp_setter_ctx_t *ctx, pp_rule_t *rule,
                                   const char *list, const char *replaced);
const char *pp_secrule_update_actions(const pp_setter_ctx_t *ctx, pp_rule_t *rule,
                                      const char *actions);

/* secrule_edit.c: SecRuleRemoveBy* (argv: the ids/ranges, or one regex), SecRuleUpdateTarget*
 * and SecRuleUpdateActionById. NULL or the message. */
const char *pp_secrule_remove(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, pp_rule_sel_kind_t kind,
                              int argc, char **argv);
const char *pp_secrule_update_target(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx,
                                     pp_rule_sel_kind_t kind, const char *selector,
                                     const char *targets, const char *replaced);
const char *pp_secrule_update_action(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx,
                                     const char *idspec, const char *actions);

#endif
