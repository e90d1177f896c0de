/*
 * Request body limits in body/dispatch.c: SecRequestBodyNoFilesLimit bounds the form data the
 * rules hold in memory (attack run D7, review H2), counted while the body arrives, and a
 * refused body is not kept (nothing more is buffered or spooled). File contents do not count.
 * SecRequestBodyLimit bounds every body before it is spooled (attack run D9): by its declared
 * Content-Length before a byte is kept, else as the bytes arrive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"

static apr_pool_t *root;
#include "pp_test.h"

#define MiB (1024 * 1024)
#define BOUNDARY "XyZ0123"

static pp_cfg_t *config(apr_pool_t *p, const char *const *lines)
{
    pp_cfg_t *cfg = pp_cfg_create(p);
    pp_cfg_site_t site = { 0 };
    for (; *lines; lines += 2) {
        const char *err = pp_cfg_apply(cfg, pp_directive_find(lines[0]), lines[1], &site, p, p);
        if (err)
            fail_msg("%s %s: %s", lines[0], lines[1], err);
    }
    assert_null(pp_cfg_finish(cfg, p, p));
    return cfg;
}

/* Appends one multipart part: a field, or a file when filename is given. */
static void part(apr_pool_t *p, apr_array_header_t *out, const char *name, const char *filename,
                 apr_size_t size)
{
    const char *head = apr_psprintf(p, "--" BOUNDARY "\r\nContent-Disposition: form-data; "
                                    "name=\"%s\"%s%s%s\r\n\r\n", name,
                                    filename ? "; filename=\"" : "", filename ? filename : "",
                                    filename ? "\"" : "");
    char *data = apr_palloc(p, size);
    memset(data, 'x', size);
    APR_ARRAY_PUSH(out, pp_str_t) = pp_str_from_cstr(head);
    APR_ARRAY_PUSH(out, pp_str_t) = (pp_str_t){ data, size };
    APR_ARRAY_PUSH(out, pp_str_t) = PP_STR("\r\n");
}

typedef struct sent_t {
    const pp_verdict_t *v;
    apr_off_t kept;  /* body bytes the engine holds for replay */
    int args;
} sent_t;

static sent_t post_cl(apr_pool_t *p, const pp_cfg_t *cfg, const char *ct,
                      const apr_array_header_t *pieces, const char *content_length)
{
    pp_tx_t *tx = pp_tx_create(cfg, p, "t");
    const char *line = "POST /form HTTP/1.1";
    pp_tx_set_request_line(tx, (pp_str_t){ line, strlen(line) });
    pp_tx_add_request_header(tx, PP_STR("Content-Type"), pp_str_from_cstr(ct));
    if (content_length)
        pp_tx_add_request_header(tx, PP_STR("Content-Length"), pp_str_from_cstr(content_length));
    pp_tx_finish_request_headers(tx);
    for (int i = 0; i < pieces->nelts; i++) {
        pp_str_t s = APR_ARRAY_IDX(pieces, i, pp_str_t);
        for (apr_size_t off = 0; off < s.len; off += 8192)
            pp_tx_feed_request_body(tx, s.data + off, s.len - off < 8192 ? s.len - off : 8192);
    }
    sent_t r = { NULL, pp_tx_request_body_length(tx), 0 };
    pp_tx_finish_request_body(tx);
    r.v = pp_tx_verdict(tx);
    return r;
}

static sent_t post(apr_pool_t *p, const pp_cfg_t *cfg, const char *ct,
                   const apr_array_header_t *pieces)
{
    return post_cl(p, cfg, ct, pieces, NULL);
}

static const char *const on[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On", NULL };

/* Attack run D7: 2 MB of multipart fields (two of 1 MiB - 16 each) are refused with 413 as
 * soon as the form data passes 1 MiB; the rest of the body is not kept. */
static void test_multipart_fields_over_limit(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *pieces = apr_array_make(p, 8, sizeof(pp_str_t));
    for (int i = 0; i < 2; i++)
        part(p, pieces, apr_psprintf(p, "f%d", i), NULL, MiB - 16);
    APR_ARRAY_PUSH(pieces, pp_str_t) = PP_STR("--" BOUNDARY "--\r\n");
    sent_t r = post(p, config(p, on), "multipart/form-data; boundary=" BOUNDARY, pieces);
    assert_true(r.v->intercepted);
    assert_int_equal(r.v->status, 413);
    assert_non_null(strstr(r.v->reason, "over SecRequestBodyNoFilesLimit 1048576"));
    assert_true(r.kept <= MiB + 8192);

    /* Raised, the same body passes. */
    const char *big[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                          "SecRequestBodyNoFilesLimit", "4194304", NULL };
    r = post(p, config(p, big), "multipart/form-data; boundary=" BOUNDARY, pieces);
    assert_false(r.v->intercepted);
}

/* File contents do not count: 3 MiB of file and a small field pass. */
static void test_multipart_files_not_counted(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *pieces = apr_array_make(p, 8, sizeof(pp_str_t));
    part(p, pieces, "note", NULL, 100);
    part(p, pieces, "doc", "a.bin", 3 * MiB);
    APR_ARRAY_PUSH(pieces, pp_str_t) = PP_STR("--" BOUNDARY "--\r\n");
    sent_t r = post(p, config(p, on), "multipart/form-data; boundary=" BOUNDARY, pieces);
    assert_false(r.v->intercepted);
}

/* An urlencoded body over the limit is refused while it arrives, not spooled whole first. */
static void test_urlencoded_over_limit(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *pieces = apr_array_make(p, 2, sizeof(pp_str_t));
    char *body = apr_palloc(p, 2 * MiB);
    memset(body, 'a', 2 * MiB);
    body[0] = 'q', body[1] = '=';
    APR_ARRAY_PUSH(pieces, pp_str_t) = (pp_str_t){ body, 2 * MiB };
    sent_t r = post(p, config(p, on), "application/x-www-form-urlencoded", pieces);
    assert_int_equal(r.v->status, 413);
    assert_true(r.kept <= MiB);
    const char *small[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                            "SecRequestBodyNoFilesLimit", "1000", NULL };
    ((apr_array_header_t *)pieces)->nelts = 0;
    APR_ARRAY_PUSH(pieces, pp_str_t) = (pp_str_t){ body, 1000 };
    const char *form = "application/x-www-form-urlencoded";
    assert_false(post(p, config(p, small), form, pieces).v->intercepted);
    APR_ARRAY_PUSH(pieces, pp_str_t) = PP_STR("a");
    assert_int_equal(post(p, config(p, small), form, pieces).v->status, 413);
}

/* Attack run D9: a 200 MB raw body was spooled whole before the verdict. A Content-Length over
 * SecRequestBodyLimit (default 13107200) is refused before a byte is kept; a body without one
 * (chunked) when the bytes pass the limit. */
static void test_request_body_limit(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *pieces = apr_array_make(p, 2, sizeof(pp_str_t));
    char *block = apr_palloc(p, MiB);
    memset(block, 0, MiB);
    for (int i = 0; i < 14; i++)
        APR_ARRAY_PUSH(pieces, pp_str_t) = (pp_str_t){ block, MiB };
    sent_t r = post_cl(p, config(p, on), "application/octet-stream", pieces, "209715200");
    assert_int_equal(r.v->status, 413);
    assert_int_equal(r.kept, 0);
    assert_non_null(strstr(r.v->reason, "Content-Length 209715200 bytes, over SecRequestBodyLimit "
                                        "13107200"));
    r = post(p, config(p, on), "application/octet-stream", pieces); /* chunked: no length */
    assert_int_equal(r.v->status, 413);
    assert_true(r.kept <= 13107200);
    assert_non_null(strstr(r.v->reason, "over SecRequestBodyLimit 13107200"));
    r = post(p, config(p, on), "multipart/form-data; boundary=" BOUNDARY, pieces);
    assert_int_equal(r.v->status, 413);

    const char *small[] = { "SecFilterEngine", "On", "SecFilterScanPOST", "On",
                            "SecRequestBodyLimit", "1000", NULL };
    pieces->nelts = 0;
    APR_ARRAY_PUSH(pieces, pp_str_t) = (pp_str_t){ block, 1000 };
    assert_false(post_cl(p, config(p, small), "text/plain", pieces, "1000").v->intercepted);
    APR_ARRAY_PUSH(pieces, pp_str_t) = (pp_str_t){ block, 1 };
    assert_int_equal(post(p, config(p, small), "text/plain", pieces).v->status, 413);
    assert_int_equal(post_cl(p, config(p, small), "text/plain", pieces, "1001").kept, 0);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_multipart_fields_over_limit, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_multipart_files_not_counted, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_urlencoded_over_limit, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_request_body_limit, pp_test_pool_setup,
                                        pp_test_pool_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
