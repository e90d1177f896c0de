/*
 * Rule plans (rules/plan.c): the chains of each phase as (first, last) index pairs, and the
 * group a step may carry. A step carries a group only when the group's members stand whole and
 * in order at that point of the effective list and the group has a check (needs or an
 * alternation); SecFilterRemove, inheritance and imports can split a group, and then its rules
 * must be evaluated one by one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"

static apr_pool_t *root;

#include "pp_test.h"

static void rule(apr_pool_t *p, pp_cfg_t *cfg, const char *args)
{
    pp_cfg_site_t site = { 0 };
    const char *err = pp_cfg_apply(cfg, pp_directive_find("SecFilterSelective"), args, &site, p, p);
    if (err)
        fail_msg("%s: %s", args, err);
}

static pp_cfg_t *finished(apr_pool_t *p, pp_cfg_t *cfg)
{
    assert_null(pp_cfg_finish(cfg, p, p));
    return cfg;
}

/* The plan's steps of one phase as "first-last" or "first-last+g" (a step with a group). */
static const char *steps(apr_pool_t *p, const pp_rule_plan_t *plan, pp_phase_t ph)
{
    const char *s = "";
    for (int i = 0; i < plan->nsteps[ph]; i++) {
        const pp_plan_step_t *st = &plan->steps[ph][i];
        s = apr_psprintf(p, "%s%s%d-%d%s", s, i ? " " : "", st->first, st->last,
                         st->group ? "+g" : "");
    }
    return s;
}

static void test_empty(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *cfg = finished(p, pp_cfg_create(p));
    assert_non_null(cfg->plan);
    assert_ptr_equal(cfg->plan->rules, cfg->effective_rules);
    for (int ph = 0; ph < PP_PLAN_PHASES; ph++) {
        assert_int_equal(cfg->plan->nsteps[ph], 0);
        assert_null(cfg->plan->steps[ph]);
    }
}

/* Chains are one step from their first to their last member; phases are planned apart, in
 * rule order. */
static void test_chains_and_phases(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *cfg = pp_cfg_create(p);
    rule(p, cfg, "REQUEST_METHOD ^POST$ chain");     /* 0 */
    rule(p, cfg, "ARG_a x chain");                   /* 1 */
    rule(p, cfg, "ARG_b y id:1");                    /* 2 */
    rule(p, cfg, "OUTPUT secret id:2");              /* 3: outbound */
    rule(p, cfg, "REMOTE_ADDR \\d\\d \"id:3,pass\""); /* 4: no literals, no group */
    rule(p, cfg, "OUTPUT_STATUS ^5 id:4");           /* 5: outbound */
    rule(p, cfg, "HTTP_X ^a$ chain");                /* 6 */
    rule(p, cfg, "HTTP_Y ^b$ skipnext:1");           /* 7 */
    finished(p, cfg);
    const pp_rule_plan_t *plan = cfg->plan;
    assert_string_equal(steps(p, plan, PP_PHASE_REQUEST_BODY), "0-2 4-4 6-7");
    /* Each outbound rule has a literal ("secret", "5"): a group of one. */
    assert_string_equal(steps(p, plan, PP_PHASE_RESPONSE_BODY), "3-3+g 5-5+g");
    assert_int_equal(plan->nsteps[PP_PHASE_REQUEST_HEADERS], 0);
    assert_int_equal(plan->nsteps[PP_PHASE_RESPONSE_HEADERS], 0);
    assert_int_equal(plan->nsteps[PP_PHASE_LOGGING], 0);
    /* Building again from the same list gives the same plan. */
    const pp_rule_plan_t *again = pp_rule_plan_build(p, cfg->effective_rules);
    for (int ph = 0; ph < PP_PLAN_PHASES; ph++)
        assert_string_equal(steps(p, again, ph), steps(p, plan, ph));
}

/* A group that stands whole carries its check on its first step only; the other members keep
 * their own steps (the loop jumps over them after the group check). */
static void test_group_standing(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *cfg = pp_cfg_create(p);
    rule(p, cfg, "ARGS aaa id:1");
    rule(p, cfg, "ARGS bbb id:2");
    rule(p, cfg, "ARGS ccc id:3");
    rule(p, cfg, "ARGS !never id:4,pass"); /* negated: not grouped */
    rule(p, cfg, "ARGS [p-z][p-z] id:5");  /* no literals: a lone rule without a check */
    finished(p, cfg);
    assert_string_equal(steps(p, cfg->plan, PP_PHASE_REQUEST_BODY), "0-0+g 1-1 2-2 3-3 4-4");
    const pp_rule_group_t *g = cfg->plan->steps[PP_PHASE_REQUEST_BODY][0].group;
    assert_int_equal(g->size, 3);
    assert_ptr_equal(APR_ARRAY_IDX(g->members, 0, pp_rule_t *),
                     APR_ARRAY_IDX(cfg->effective_rules, 0, pp_rule_t *));
}

/* A lone rule with literal needs is a group of one; two rules without literals get an
 * alternation; a rule with flow actions breaks a run. */
static void test_group_kinds(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *cfg = pp_cfg_create(p);
    rule(p, cfg, "ARGS select id:1");
    rule(p, cfg, "ARGS \"union skipnext:1\" \"id:2,skipnext:1\""); /* flow action */
    rule(p, cfg, "ARGS [a-k][c-n] id:3"); /* classes of many bytes: no literals */
    rule(p, cfg, "ARGS [c-n][e-r] id:4");
    rule(p, cfg, "REQUEST_URI [a-k][c-n] id:5"); /* other targets: a new run, alone, no literals */
    finished(p, cfg);
    assert_string_equal(steps(p, cfg->plan, PP_PHASE_REQUEST_BODY), "0-0+g 1-1 2-2+g 3-3 4-4");
    const pp_plan_step_t *st = cfg->plan->steps[PP_PHASE_REQUEST_BODY];
    assert_non_null(st[0].group->needs);
    assert_int_equal(st[0].group->size, 1);
    assert_null(st[2].group->needs);
    assert_non_null(st[2].group->prefilter);
    assert_int_equal(st[2].group->size, 2);
}

/* Removing a member, or inheriting the group behind other rules, splits it: no step of the
 * merged list carries it, and the rules stand as single steps. */
static void test_group_split_by_merge(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *parent = pp_cfg_create(p);
    rule(p, parent, "ARGS aaa id:1");
    rule(p, parent, "ARGS bbb id:2");
    rule(p, parent, "ARGS ccc id:3");
    finished(p, parent);
    assert_string_equal(steps(p, parent->plan, PP_PHASE_REQUEST_BODY), "0-0+g 1-1 2-2");

    pp_cfg_site_t site = { 0 };
    pp_cfg_t *child = pp_cfg_create(p);
    assert_null(pp_cfg_apply(child, pp_directive_find("SecFilterRemove"), "2", &site, p, p));
    pp_cfg_t *m = pp_cfg_merge(p, parent, child);
    assert_int_equal(m->effective_rules->nelts, 2);
    assert_string_equal(steps(p, pp_rule_plan_build(p, m->effective_rules), PP_PHASE_REQUEST_BODY),
                        "0-0 1-1");

    /* Removing the last member also splits it (the group would run past the list). */
    child = pp_cfg_create(p);
    assert_null(pp_cfg_apply(child, pp_directive_find("SecFilterRemove"), "3", &site, p, p));
    m = pp_cfg_merge(p, parent, child);
    assert_string_equal(steps(p, pp_rule_plan_build(p, m->effective_rules), PP_PHASE_REQUEST_BODY),
                        "0-0 1-1");

    /* Inherited whole, followed by the child's own rules: the group still stands. */
    child = pp_cfg_create(p);
    rule(p, child, "ARGS ddd id:9");
    finished(p, child);
    m = pp_cfg_merge(p, parent, child);
    const char *merged = steps(p, pp_rule_plan_build(p, m->effective_rules), PP_PHASE_REQUEST_BODY);
    assert_string_equal(merged, "0-0+g 1-1 2-2 3-3+g");

    /* Imported out of order (inheritance Off): members do not follow each other. */
    child = pp_cfg_create(p);
    assert_null(pp_cfg_apply(child, pp_directive_find("SecFilterInheritance"), "Off", &site, p, p));
    assert_null(pp_cfg_apply(child, pp_directive_find("SecFilterImport"), "3 1", &site, p, p));
    m = pp_cfg_merge(p, parent, child);
    assert_string_equal(steps(p, pp_rule_plan_build(p, m->effective_rules), PP_PHASE_REQUEST_BODY),
                        "0-0 1-1");
}

/* A chain is one step; a merge removes or keeps it whole (decided on its first rule), so its
 * members never start a step of their own. */
static void test_chain_kept_whole(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *parent = pp_cfg_create(p);
    rule(p, parent, "ARG_a x \"id:1,chain\"");
    rule(p, parent, "ARG_b y id:2");
    rule(p, parent, "ARG_c \\d id:3");
    finished(p, parent);
    assert_string_equal(steps(p, parent->plan, PP_PHASE_REQUEST_BODY), "0-1 2-2");
    pp_cfg_site_t site = { 0 };
    pp_cfg_t *child = pp_cfg_create(p);
    assert_null(pp_cfg_apply(child, pp_directive_find("SecFilterRemove"), "1", &site, p, p));
    pp_cfg_t *m = pp_cfg_merge(p, parent, child);
    assert_int_equal(m->effective_rules->nelts, 1);
    assert_string_equal(steps(p, pp_rule_plan_build(p, m->effective_rules), PP_PHASE_REQUEST_BODY),
                        "0-0");
    /* A member's own id does not remove it from its chain. */
    child = pp_cfg_create(p);
    assert_null(pp_cfg_apply(child, pp_directive_find("SecFilterRemove"), "2", &site, p, p));
    m = pp_cfg_merge(p, parent, child);
    assert_string_equal(steps(p, pp_rule_plan_build(p, m->effective_rules), PP_PHASE_REQUEST_BODY),
                        "0-1 2-2");
}

static void secrule(apr_pool_t *p, pp_cfg_t *cfg, const char *name, const char *args)
{
    pp_cfg_site_t site = { 0 };
    const char *err = pp_cfg_apply(cfg, pp_directive_find(name), args, &site, p, p);
    if (err)
        fail_msg("%s %s: %s", name, args, err);
}

/* A SecMarker is a step of every phase; skipAfter resolves to the step after the first marker
 * of its name that follows in the phase, or to the end of the phase. */
static void test_markers_and_skip_after(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *cfg = pp_cfg_create(p);
    secrule(p, cfg, "SecRule", "ARGS a \"id:1,phase:2,pass,skipAfter:M\"");     /* 0 */
    secrule(p, cfg, "SecRule", "ARGS b \"id:2,phase:1,pass,skipAfter:M\"");     /* 1 */
    secrule(p, cfg, "SecRule", "ARGS c \"id:3,phase:2,pass,skipAfter:NONE\"");  /* 2 */
    secrule(p, cfg, "SecMarker", "M");                                        /* 3 */
    secrule(p, cfg, "SecRule", "ARGS d \"id:4,phase:2,deny\"");                /* 4 */
    finished(p, cfg);
    const pp_rule_plan_t *plan = cfg->plan;
    assert_string_equal(steps(p, plan, PP_PHASE_REQUEST_BODY), "0-0 2-2 3-3 4-4");
    assert_string_equal(steps(p, plan, PP_PHASE_REQUEST_HEADERS), "1-1 3-3");
    assert_string_equal(steps(p, plan, PP_PHASE_LOGGING), "3-3");
    assert_int_equal(plan->steps[PP_PHASE_REQUEST_BODY][0].skip_to, 3); /* after M: rule 4 */
    assert_int_equal(plan->steps[PP_PHASE_REQUEST_BODY][1].skip_to, 4); /* no NONE: the end */
    assert_int_equal(plan->steps[PP_PHASE_REQUEST_HEADERS][0].skip_to, 2);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    assert_null(pp_engine_init(root));
#define T(f) cmocka_unit_test_setup_teardown(f, pp_test_pool_setup, pp_test_pool_teardown)
    const struct CMUnitTest tests[] = {
        T(test_empty),
        T(test_chains_and_phases),
        T(test_group_standing),
        T(test_group_kinds),
        T(test_group_split_by_merge),
        T(test_chain_kept_whole),
        T(test_markers_and_skip_after),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
