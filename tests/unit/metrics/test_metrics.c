/*
 * The engine's counting points for host metrics (metrics.def, issue 18): histogram buckets at
 * their edges, the registry's descriptions (Prometheus names, one help per family), and what a
 * transaction counts through the public API (body bytes, regex limit hits, multipart flags).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tx.h"

static apr_pool_t *root;

#include "pp_test.h"

static void test_histogram_edges(void **state)
{
    static const apr_interval_time_t bounds[PP_HIST_BUCKETS - 1] = PP_HIST_BOUNDS_US;
    pp_histogram_t h = { 0 };

    pp_hist_observe(&h, -5);                 /* a clock step back counts as 0 */
    pp_hist_observe(&h, bounds[0]);          /* le is inclusive */
    pp_hist_observe(&h, bounds[0] + 1);
    pp_hist_observe(&h, bounds[PP_HIST_BUCKETS - 2] + 1); /* +Inf */
    assert_int_equal(h.bucket[0], 2);
    assert_int_equal(h.bucket[1], 1);
    assert_int_equal(h.bucket[PP_HIST_BUCKETS - 1], 1);
    assert_int_equal(h.count, 4);
    assert_int_equal(h.sum_us, (uint64_t)(2 * bounds[0] + 1 + bounds[PP_HIST_BUCKETS - 2] + 1));
    for (int b = 1; b < PP_HIST_BUCKETS - 1; b++)
        assert_true(bounds[b] > bounds[b - 1]);
}

static void test_registry_names(void **state)
{
    const char *family = "";
    for (int i = 0; i < PP_METRIC_COUNT; i++) {
        const pp_metric_desc_t *d = pp_metric_desc((pp_metric_id_t)i);
        size_t n = strlen(d->family);
        assert_true(n > 14 && strncmp(d->family, "parapet_", 8) == 0);
        assert_string_equal(d->family + n - 6, "_total");
        for (const char *c = d->family; *c; c++)
            assert_true((*c >= 'a' && *c <= 'z') || *c == '_');
        /* a new family starts with its help; rows continuing one may leave it empty */
        if (strcmp(family, d->family) != 0)
            assert_true(strlen(d->help) > 10);
        family = d->family;
    }
    for (int i = 0; i < PP_HIST_COUNT; i++)
        assert_non_null(strstr(pp_hist_desc((pp_hist_id_t)i)->family, "_seconds"));
    assert_null(pp_metric_desc(PP_METRIC_COUNT));
    assert_string_equal(pp_metric_multipart_flag(2), "MULTIPART_DATA_BEFORE");
    assert_null(pp_metric_multipart_flag(31));
}

static pp_tx_t *run(apr_pool_t *p, const char *rules, const char *line, const char *ctype,
                    const char *body)
{
    pp_cfg_t *cfg = pp_cfg_create(p);
    char *path = apr_psprintf(p, "/tmp/parapet-test-metrics-%ld.conf", (long)getpid());
    apr_file_t *f;
    assert_int_equal(apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE |
                                   APR_FOPEN_TRUNCATE, APR_FPROT_UREAD | APR_FPROT_UWRITE, p),
                     APR_SUCCESS);
    apr_file_puts(rules, f);
    apr_file_close(f);
    assert_null(pp_cfg_read_file(cfg, path, p, p));
    apr_file_remove(path, p);
    pp_tx_t *tx = pp_tx_create(cfg, p, "t");
    pp_tx_set_request_line(tx, pp_str_from_cstr(line));
    if (ctype)
        pp_tx_add_request_header(tx, PP_STR("Content-Type"), pp_str_from_cstr(ctype));
    pp_tx_finish_request_headers(tx);
    if (body)
        pp_tx_feed_request_body(tx, body, strlen(body));
    pp_tx_finish_request_body(tx);
    return tx;
}

static void test_transaction_counts(void **state)
{
    apr_pool_t *p = *state;
    pp_tx_t *tx = run(p, "SecFilterEngine On\nSecFilterScanPOST On\n"
                         "SecFilterSelective ARG_x \"^(a+)+$\" \"id:90\"\n",
                      "POST /?x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab HTTP/1.1",
                      "application/x-www-form-urlencoded", "a=1&b=22");
    const pp_tx_metrics_t *m = pp_tx_metrics(tx);
    assert_int_equal(m->counter[PP_METRIC_REGEX_LIMIT_HITS], 1);
    assert_int_equal(m->counter[PP_METRIC_REQUEST_BODY_BYTES], 8);
    assert_int_equal(m->counter[PP_METRIC_MULTIPART_REJECTED], 0);

    tx = run(p, "SecFilterEngine On\nSecFilterScanPOST On\n", "POST / HTTP/1.1",
             "multipart/form-data; boundary=b",
             "junk\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b--\r\n");
    m = pp_tx_metrics(tx);
    assert_true(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(m->counter[PP_METRIC_MULTIPART_REJECTED], 1);
    assert_int_equal(m->multipart_rejected_flags, 1u << 2); /* DATA_BEFORE */
    assert_int_equal(m->counter[PP_METRIC_REGEX_LIMIT_HITS], 0);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram_edges),
        cmocka_unit_test(test_registry_names),
        cmocka_unit_test_setup_teardown(test_transaction_counts, pp_test_pool_setup,
                                        pp_test_pool_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
