/*
 * Rule selectors: which rules SecRuleRemoveBy..., SecRuleUpdateTargetBy... (or a ctl:) name.
 * By id: ids and ranges ("942100", "942100-942199", and comma or space separated lists of
 * them); by tag or msg: a regular expression, case-sensitive and unanchored as in ModSecurity,
 * matched against each tag or the unexpanded msg.
 */
#ifndef PP_RULES_SELECT_H
#define PP_RULES_SELECT_H

#include "rules/model.h"

typedef enum { PP_SEL_BY_ID, PP_SEL_BY_TAG, PP_SEL_BY_MSG } pp_rule_sel_kind_t;

typedef struct pp_rule_sel_t {
    pp_rule_sel_kind_t kind;
    apr_int64_t lo, hi;       /* by id: inclusive range (lo == hi for one id) */
    const pp_regex_t *re;     /* by tag or msg */
} pp_rule_sel_t;

/* Appends the selectors of one argument to out (pp_rule_sel_t). By id: "1", "1-5", "1,2,3-5";
 * by tag/msg: the regex. NULL or the reason (in tp). */
const char *pp_rule_sel_parse(apr_pool_t *cp, apr_pool_t *tp, pp_rule_sel_kind_t kind,
                              const char *arg, apr_array_header_t *out);

/* Whether any selector of sels (may be NULL) names the rule (a chain starter; links are named
 * through their starter). rx: regex scratch state, NULL at start-up. Tags as written. */
bool pp_rule_sel_match(const apr_array_header_t *sels, const pp_rule_t *r, pp_rx_state_t *rx);

/* The rule's tag i as a by-tag selector sees it (ctl: macro-expanded at run time). */
typedef pp_str_t (*pp_rule_tag_fn)(void *ctx, const pp_rule_t *r, unsigned i);

/* pp_rule_sel_match with each tag given by tag(ctx, r, i); tag NULL: as written. */
bool pp_rule_sel_match_tags(const apr_array_header_t *sels, const pp_rule_t *r,
                            pp_rx_state_t *rx, pp_rule_tag_fn tag, void *ctx);

#endif
