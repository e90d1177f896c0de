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

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_from_two_pools),
        cmocka_unit_test(test_chain_and_skipnext),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
