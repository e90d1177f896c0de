/*
 * Configuration merged once (config/merge_once.c): permanent configurations give the same
 * merged result, with its plan, for every request; configurations that are not permanent are
 * merged per request; concurrent first requests agree on one result; 2.x removals in the child
 * filter the parent's rules in the memoized result too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"

#include <apr_thread_proc.h>

static apr_pool_t *pool;

static pp_cfg_t *make(const char *const *lines, bool permanent)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    if (permanent)
        pp_cfg_make_permanent(cfg, pool);
    for (int i = 0; lines[i]; i += 2) {
        pp_cfg_site_t site = { 0 };
        const char *err = pp_cfg_apply(cfg, pp_directive_find(lines[i]), lines[i + 1], &site,
                                       pool, pool);
        if (err)
            fail_msg("%s", err);
    }
    assert_null(pp_cfg_finish_check(cfg, pool, pool));
    return cfg;
}

static const char *const server[] = {
    "SecRuleEngine", "On",
    "SecRule", "ARGS x \"id:1,deny\"",
    "SecRule", "ARGS y \"id:2,deny\"", NULL };
static const char *const location[] = {
    "SecRuleRemoveById", "2",
    "SecRule", "ARGS z \"id:3,deny\"", NULL };

static void test_once(void **state)
{
    (void)state;
    pp_cfg_t *s = make(server, true), *l = make(location, true);
    apr_pool_t *r1, *r2;
    apr_pool_create(&r1, pool);
    apr_pool_create(&r2, pool);
    pp_cfg_t *a = pp_cfg_merge_once(r1, s, l);
    apr_pool_destroy(r1); /* the result outlives the request that made it */
    pp_cfg_t *b = pp_cfg_merge_once(r2, s, l);
    assert_ptr_equal(a, b);
    assert_int_equal(pp_cfg_memo_size(l), 1);
    assert_non_null(a->plan);
    assert_ptr_equal(a->plan->rules, a->effective_rules);
    /* 1 and 3; 2 removed by the child. */
    assert_int_equal(a->effective_rules->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(a->effective_rules, 0, pp_rule_t *)->id, "1");
    assert_string_equal(APR_ARRAY_IDX(a->effective_rules, 1, pp_rule_t *)->id, "3");
    /* The result can be a parent in its turn, also merged once. */
    pp_cfg_t *l2 = make(location, true);
    assert_ptr_equal(pp_cfg_merge_once(r2, a, l2), pp_cfg_merge_once(pool, a, l2));
    apr_pool_destroy(r2);
}

static void test_not_permanent(void **state)
{
    (void)state;
    pp_cfg_t *s = make(server, true), *h = make(location, false);
    pp_cfg_t *a = pp_cfg_merge_once(pool, s, h), *b = pp_cfg_merge_once(pool, s, h);
    assert_ptr_not_equal(a, b); /* an .htaccess configuration: merged per request */
    assert_int_equal(pp_cfg_memo_size(h), -1);
    assert_int_equal(a->effective_rules->nelts, 2);
}

/* Threads look up and add (parent, child) pairs at once: 4 parents, each thread asking for
 * every pair many times, so look-ups (lock-free) run while other threads add entries. Every
 * thread must get the one result per pair, fully built (its plan), and the memo one entry each. */
enum { PARENTS = 4, ROUNDS = 500 };

typedef struct race_t {
    pp_cfg_t **parents, *l;
    pp_cfg_t *got[PARENTS];
    bool built;
} race_t;

static void *APR_THREAD_FUNC racer(apr_thread_t *t, void *data)
{
    race_t *r = data;
    apr_pool_t *p;
    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    r->built = true;
    for (int k = 0; k < ROUNDS; k++)
        for (int i = 0; i < PARENTS; i++) {
            pp_cfg_t *m = pp_cfg_merge_once(p, r->parents[(i + k) % PARENTS], r->l);
            int at = (i + k) % PARENTS;
            if (!r->got[at])
                r->got[at] = m;
            if (r->got[at] != m || !m->plan)
                r->built = false;
        }
    apr_pool_destroy(p);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void test_threads_agree(void **state)
{
    (void)state;
    pp_cfg_t *parents[PARENTS], *l = make(location, true);
    for (int i = 0; i < PARENTS; i++)
        parents[i] = make(server, true);
    enum { N = 8 };
    race_t r[N];
    apr_thread_t *th[N];
    for (int i = 0; i < N; i++) {
        r[i] = (race_t){ .parents = parents, .l = l };
        assert_int_equal(apr_thread_create(&th[i], NULL, racer, &r[i], pool), APR_SUCCESS);
    }
    for (int i = 0; i < N; i++) {
        apr_status_t rv;
        apr_thread_join(&rv, th[i]);
    }
    for (int i = 0; i < N; i++) {
        assert_true(r[i].built);
        for (int k = 0; k < PARENTS; k++)
            assert_ptr_equal(r[i].got[k], r[0].got[k]);
    }
    for (int k = 1; k < PARENTS; k++)
        assert_ptr_not_equal(r[0].got[k], r[0].got[0]);
    assert_int_equal(pp_cfg_memo_size(l), PARENTS);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_once),
        cmocka_unit_test(test_not_permanent),
        cmocka_unit_test(test_threads_agree),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
