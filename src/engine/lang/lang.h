/*
 * Rule-language front ends: they turn directive text into the rule model (rules/model.h).
 * secfilter.c handles the 1.9 SecFilter / SecFilterSelective directives, names19.c maps 1.9
 * location names to targets, actionlist.c parses action lists (shared with SecRule later).
 */
#ifndef PP_LANG_H
#define PP_LANG_H

#include "config/config.h"

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
 * actions in `actions`) and appends it to cfg. NULL on success, else the message. */
const char *pp_secrule_parse(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, const char *variables,
                             const char *op, const char *actions);

/* SecDefaultAction ACTIONS: the base of the SecRules that follow in the context, for the
 * phase it names (default 2): disruptive action (what block means), status, logging, t:. */
const char *pp_secrule_default_action(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx,
                                      const char *actions);
/* SecMarker NAME: a place skipAfter:NAME continues after, in every phase. */
const char *pp_secrule_marker(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, const char *name);

#endif
