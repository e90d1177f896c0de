/*
 * The phase loop across configuration pools: rules parsed into different pools (server
 * configuration vs .htaccess, which Apache parses per request) get target cache slots from
 * different registries; a merged configuration must still test each rule on its own target.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"

static apr_pool_t *pool;

static const char *apply(pp_cfg_t *cfg, apr_pool_t *cp, const char *name, const char *args)
{
    pp_cfg_site_t site = { 0 };
    return pp_cfg_apply(cfg, pp_directive_find(name), args, &site, cp, pool);
}

static bool intercepted(const pp_cfg_t *cfg, const char *line)
{
    apr_pool_t *rp;
    apr_pool_create(&rp, pool);
    pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
    pp_tx_set_request_line(tx, (pp_str_t){ line, strlen(line) });
    pp_tx_finish_request_headers(tx);
    pp_tx_finish_request_body(tx);
    bool v = pp_tx_verdict(tx)->intercepted;
    apr_pool_destroy(rp);
    return v;
}

static void test_rules_from_two_pools(void **state)
{
    apr_pool_t *server_pool, *htaccess_pool;
    apr_pool_create(&server_pool, pool);
    apr_pool_create(&htaccess_pool, pool);
    pp_cfg_t *server = pp_cfg_create(server_pool), *dir = pp_cfg_create(htaccess_pool);
    assert_null(apply(server, server_pool, "SecFilterEngine", "On"));
    assert_null(apply(server, server_pool, "SecFilterSelective", "ARGS ^zzz$ id:1,pass"));
    assert_null(apply(dir, htaccess_pool, "SecFilterSelective", "REQUEST_URI ^/admin id:2,deny"));
    pp_cfg_t *merged = pp_cfg_merge(htaccess_pool, server, dir);
    assert_true(intercepted(merged, "GET /admin/?a=b HTTP/1.1"));
    assert_false(intercepted(merged, "GET /public/?a=b HTTP/1.1"));
}

static void test_chain_and_skipnext(void **state)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    assert_null(apply(cfg, pool, "SecFilterEngine", "On"));
    assert_null(apply(cfg, pool, "SecFilterSelective", "REQUEST_METHOD ^GET$ chain"));
    assert_null(apply(cfg, pool, "SecFilterSelective", "ARG_x ^1$ deny,status:409"));
    assert_true(intercepted(cfg, "GET /?x=1 HTTP/1.1"));
    assert_false(intercepted(cfg, "GET /?x=2 HTTP/1.1"));
    assert_false(intercepted(cfg, "POST /?x=1 HTTP/1.1"));
}

static const char *first_id(const pp_cfg_t *cfg, const char *line)
{
    apr_pool_t *rp;
    apr_pool_create(&rp, pool);
    pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
    pp_tx_set_request_line(tx, (pp_str_t){ line, strlen(line) });
    pp_tx_finish_request_headers(tx);
    pp_tx_finish_request_body(tx);
    const apr_array_header_t *m = pp_tx_verdict(tx)->matches;
    const char *id = m->nelts ? apr_pstrdup(pool, APR_ARRAY_IDX(m, 0, pp_match_t *)->id) : "";
    apr_pool_destroy(rp);
    return id;
}

/* A run of ARGS rules is prefiltered as one group: the verdict must be the one the rules give
 * one by one (first matching rule, in order), also when the effective list splits the group.
 * With literal needs on every member the group is checked by their union (which also says which
 * members may match); with a member that has none, by a compiled alternation. */
static void group_case(const char *third, bool literal)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    assert_null(apply(cfg, pool, "SecFilterEngine", "On"));
    assert_null(apply(cfg, pool, "SecFilterSelective", "ARGS aaa id:1"));
    assert_null(apply(cfg, pool, "SecFilterSelective", "ARGS bbb id:2"));
    assert_null(apply(cfg, pool, "SecFilterSelective", apr_psprintf(pool, "ARGS %s id:3", third)));
    assert_null(apply(cfg, pool, "SecFilterSelective", "ARGS !never id:4,pass"));
    assert_null(pp_cfg_finish(cfg, pool, pool));
    pp_rule_t *r1 = APR_ARRAY_IDX(cfg->rules, 0, pp_rule_t *);
    assert_non_null(r1->group);
    assert_int_equal(r1->group->members->nelts, 3); /* the negated rule is not grouped */
    if (literal) {
        assert_non_null(r1->group->needs);
        assert_null(r1->group->prefilter);
    } else {
        assert_null(r1->group->needs);
        assert_non_null(r1->group->prefilter);
    }
    assert_string_equal(first_id(cfg, "GET /?q=YZ HTTP/1.1"), "3");
    assert_string_equal(first_id(cfg, "GET /?q=bbb+aaa HTTP/1.1"), "1");
    assert_string_equal(first_id(cfg, "GET /?q=benign HTTP/1.1"), "4");

    pp_cfg_t *child = pp_cfg_create(pool);
    assert_null(apply(child, pool, "SecFilterRemove", "2"));
    pp_cfg_t *m = pp_cfg_merge(pool, cfg, child);
    assert_string_equal(first_id(m, "GET /?q=bbb+xz HTTP/1.1"), "3");
    assert_string_equal(first_id(m, "GET /?q=bbb HTTP/1.1"), "4");
    /* Only the members whose literals the value holds are evaluated, in order. */
    assert_string_equal(first_id(cfg, "GET /?a=xz&b=bbb HTTP/1.1"), "2");
}

static void test_group_prefilter(void **state)
{
    group_case("(x|y)z", true);
    group_case("[xy][z]", false); /* classes hold no literal: no needs */
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_from_two_pools),
        cmocka_unit_test(test_chain_and_skipnext),
        cmocka_unit_test(test_group_prefilter),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
