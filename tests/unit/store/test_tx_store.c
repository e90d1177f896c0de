/*
 * The transaction side of the store (store/tx_store.c): with no store, collections are new and
 * live for the transaction; a store that does not answer gives empty collections and, with
 * SecCollectionStoreFailClosed On, a 503 verdict; every round trip lands in the
 * collection-store latency histogram and failures in the error counter.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "parapet.h"
#include "store/store.h"

static apr_pool_t *root;

#include "pp_test.h"

/* A 127.0.0.1 port nobody listens on (the kernel handed it out and we closed it). */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static pp_tx_t *make_tx(apr_pool_t *p, const char *fail_closed, pp_store_t *store)
{
    pp_cfg_t *cfg = pp_cfg_create(p);
    pp_cfg_site_t site = { .file = "unit", .line = 1 };
    if (fail_closed)
        assert_null(pp_cfg_apply(cfg, pp_directive_find("SecCollectionStoreFailClosed"),
                                 fail_closed, &site, p, p));
    assert_null(pp_cfg_finish(cfg, p, p));
    pp_tx_t *tx = pp_tx_create(cfg, p, "unit");
    pp_tx_set_store(tx, store);
    return tx;
}

static pp_store_t *unreachable(apr_pool_t *p)
{
    pp_store_conf_t c = { .kind = PP_STORE_REDIS, .timeout_ms = 100,
                          .uri = apr_psprintf(p, "redis://127.0.0.1:%d/0", dead_port()) };
    const char *err = NULL;
    pp_store_t *s = pp_store_open(p, &c, &err);
    assert_non_null(s);
    return s;
}

static void test_no_store_collections_live_for_the_transaction(void **state)
{
    pp_tx_t *tx = make_tx(*state, NULL, NULL);
    const char *names[] = { "IP" }, *keys[] = { "192.0.2.1" };
    pp_store_rec_t *r;
    assert_int_equal(pp_tx_store_load(tx, PP_PHASE_REQUEST_HEADERS, 1, names, keys, 600, &r),
                     PP_STORE_OK);
    assert_true(pp_store_is_new(r));
    assert_string_equal(pp_store_get(r, "KEY"), "192.0.2.1");
    assert_int_equal(pp_store_add(r, "counter", 1), 1);
    assert_int_equal(pp_tx_store_commit(tx, 1, &r), PP_STORE_OK);
    assert_false(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_metrics(tx)->hist[PP_HIST_COLLECTION_STORE].count, 0);
}

static void test_unavailable_fails_open_by_default(void **state)
{
    pp_tx_t *tx = make_tx(*state, NULL, unreachable(*state));
    const char *names[] = { "IP", "GLOBAL" }, *keys[] = { "192.0.2.1", "global" };
    pp_store_rec_t *r[2];
    assert_int_equal(pp_tx_store_load(tx, PP_PHASE_REQUEST_HEADERS, 2, names, keys, 600, r),
                     PP_STORE_UNAVAILABLE);
    assert_true(pp_store_is_new(r[0]) && pp_store_is_new(r[1]));
    assert_null(pp_store_get(r[0], "counter"));
    assert_false(pp_tx_verdict(tx)->intercepted);
    const pp_tx_metrics_t *m = pp_tx_metrics(tx);
    assert_int_equal(m->hist[PP_HIST_COLLECTION_STORE].count, 1);
    assert_int_equal(m->counter[PP_METRIC_COLLECTION_STORE_ERRORS], 1);
    pp_store_add(r[0], "counter", 1);
    assert_int_equal(pp_tx_store_commit(tx, 2, r), PP_STORE_UNAVAILABLE);
    assert_int_equal(pp_tx_metrics(tx)->counter[PP_METRIC_COLLECTION_STORE_ERRORS], 2);
    assert_int_equal(pp_tx_metrics(tx)->hist[PP_HIST_COLLECTION_STORE].count, 2);
}

static void test_unavailable_fails_closed_with_503(void **state)
{
    pp_tx_t *tx = make_tx(*state, "On", unreachable(*state));
    const char *names[] = { "IP" }, *keys[] = { "192.0.2.1" };
    pp_store_rec_t *r;
    assert_int_equal(pp_tx_store_load(tx, PP_PHASE_REQUEST_HEADERS, 1, names, keys, 600, &r),
                     PP_STORE_UNAVAILABLE);
    const pp_verdict_t *v = pp_tx_verdict(tx);
    assert_true(v->intercepted);
    assert_int_equal(v->status, 503);
    assert_int_equal(v->phase, PP_PHASE_REQUEST_HEADERS);
}

static void test_fail_closed_off_explicitly(void **state)
{
    pp_tx_t *tx = make_tx(*state, "Off", unreachable(*state));
    const char *names[] = { "IP" }, *keys[] = { "192.0.2.1" };
    pp_store_rec_t *r;
    assert_int_equal(pp_tx_store_load(tx, PP_PHASE_REQUEST_HEADERS, 1, names, keys, 600, &r),
                     PP_STORE_UNAVAILABLE);
    assert_false(pp_tx_verdict(tx)->intercepted);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    const char *err = pp_engine_init(root);
    if (err)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_store_collections_live_for_the_transaction, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_unavailable_fails_open_by_default, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_unavailable_fails_closed_with_503, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_fail_closed_off_explicitly, pp_test_pool_setup, pp_test_pool_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
