/*
 * Rule groups: a prefilter for runs of similar rules. 1.9 rule sets are long runs of
 * `SecFilterSelective ARGS "..."` lines; on a benign request none of them matches, yet each
 * costs a regex call. Consecutive rules of one context with the same (interned) targets, a
 * plain rx19 operator, no exclusions and no flow actions are grouped at parse time. At start-up
 * each group gets one of two checks:
 *   - when every member has literal needs (util/rx_literals.c: literals one of which every
 *     match contains), the union of those literals, up to PP_GROUP_MAX_LITERAL members; it
 *     also says which members may match, so only those are evaluated (a lone rule with needs
 *     is a group of one);
 *   - otherwise one alternation "(?:p1)|(?:p2)|..." of up to PP_GROUP_MAX_MEMBERS patterns,
 *     which says only whether any member can match.
 * At run time (rules/eval.c), when the group still stands whole in the effective rule list,
 * the check over the targets' values decides which members run; a run nothing can match is
 * skipped. Any doubt (a pattern that cannot be joined safely, a regex resource limit) means no
 * skipping, so the verdict is always the one the members would give one by one.
 */
#include "rules/model.h"
/* Alternations of more patterns cost about as much as the rules one by one (PCRE2's start
 * optimisations weaken as alternatives add up); 8 measured best on the 100-rule set. */
#define PP_GROUP_MAX_MEMBERS 8
/* A group whose members all have literal needs (util/rx_literals.c) is checked with the union
 * of those literals, which costs a bit test or two per literal: it can be longer. */
#define PP_GROUP_MAX_LITERAL 64

/* Constructs whose meaning changes inside an alternation: back references and group numbers,
 * \Q...\E (could swallow the joiners), verbs, inline option settings such as (?x) (a '#' comment
 * would run to the end of the joined pattern), recursion and conditionals. */
static bool joinable_pattern(const char *p)
{
    for (const char *c = p; *c; c++) {
        if (c[0] == '\\' && c[1]) {
            char n = c[1];
            if ((n >= '1' && n <= '9') || n == 'g' || n == 'k' || n == 'Q' || n == 'E')
                return false;
            c++;
        } else if (c[0] == '(' && c[1] == '*') {
            return false;
        } else if (c[0] == '(' && c[1] == '?') {
            char n = c[2];
            bool look = n == ':' || n == '=' || n == '!' ||
                        (n == '<' && (c[3] == '=' || c[3] == '!'));
            if (!look)
                return false;
        }
    }
    return true;
}

static bool groupable(const pp_rule_t *r)
{
    return !r->lang2 && r->nexclusions == 0 && !r->op.negated && strcmp(r->op.def->name, "rx19") == 0 &&
           !r->chain_member && !(r->own && (r->own->chain || r->own->skipnext)) &&
           joinable_pattern(r->op.arg);
}

static bool same_targets(const pp_rule_t *a, const pp_rule_t *b)
{
    if (a->ntargets != b->ntargets)
        return false;
    for (unsigned i = 0; i < a->ntargets; i++)
        if (a->targets[i] != b->targets[i])
            return false;
    return true;
}

void pp_rule_group_join(apr_pool_t *cp, pp_rule_t *prev, pp_rule_t *rule)
{
    if (!prev || prev->phase != rule->phase || !groupable(prev) || !groupable(rule) ||
        !same_targets(prev, rule))
        return;
    bool literal = rule->op.needs && (prev->group ? prev->group->literal_only : prev->op.needs != NULL);
    int size = prev->group ? prev->group->members->nelts : 1;
    if (size >= (literal ? PP_GROUP_MAX_LITERAL : PP_GROUP_MAX_MEMBERS))
        return;
    if (!prev->group) {
        prev->group = apr_pcalloc(cp, sizeof *prev->group);
        prev->group->members = apr_array_make(cp, 8, sizeof(pp_rule_t *));
        prev->group->literal_only = prev->op.needs != NULL;
        APR_ARRAY_PUSH(prev->group->members, pp_rule_t *) = prev;
    }
    prev->group->literal_only = literal;
    rule->group = prev->group;
    APR_ARRAY_PUSH(rule->group->members, pp_rule_t *) = rule;
}

static void compile_group(apr_pool_t *cp, pp_rule_group_t *g)
{
    const pp_rule_t *first = APR_ARRAY_IDX(g->members, 0, const pp_rule_t *);
    g->finished = true;
    g->targets = first->targets;
    g->ntargets = first->ntargets;
    g->size = g->members->nelts;
    /* When every member has literal needs, their union is checked instead of an alternation:
     * cheaper, and it rules out more. */
    if (g->literal_only) {
        const pp_rx_needs_t **parts = apr_palloc(cp, g->members->nelts * sizeof *parts);
        for (int i = 0; i < g->members->nelts; i++)
            parts[i] = APR_ARRAY_IDX(g->members, i, pp_rule_t *)->op.needs;
        g->needs = pp_rx_needs_union(cp, parts, (unsigned)g->members->nelts);
        if (g->needs)
            return;
    }
    if (g->size < 2) /* an alternation of one is the rule itself */
        return;
    apr_size_t len = 0;
    for (int i = 0; i < g->members->nelts; i++)
        len += strlen(APR_ARRAY_IDX(g->members, i, pp_rule_t *)->op.arg) + 5;
    char *alt = apr_palloc(cp, len + 1), *o = alt;
    for (int i = 0; i < g->members->nelts; i++) {
        const char *p = APR_ARRAY_IDX(g->members, i, pp_rule_t *)->op.arg;
        o += sprintf(o, "%s(?:%s)", i ? "|" : "", p);
    }
    const char *err;
    g->prefilter = pp_regex_compile(cp, alt, PP_RX_ICASE, &err);
}

void pp_rule_groups_finish(apr_pool_t *cp, const apr_array_header_t *rules)
{
    for (int i = 0; i < rules->nelts; i++) {
        pp_rule_t *r = APR_ARRAY_IDX(rules, i, pp_rule_t *);
        /* A lone rule with literal needs is a group of one: the phase loop checks its
         * literals from the group, without reading the rule's record. */
        if (!r->group && groupable(r) && r->op.needs) {
            r->group = apr_pcalloc(cp, sizeof *r->group);
            r->group->members = apr_array_make(cp, 1, sizeof(pp_rule_t *));
            r->group->literal_only = true;
            APR_ARRAY_PUSH(r->group->members, pp_rule_t *) = r;
        }
        if (r->group && !r->group->finished)
            compile_group(cp, r->group);
    }
}
