/*
 * The XML body processor (body/xml.c, dispatch.c, the XML variable): XPath values as
 * xmlNodeGetContent gives them (spec §12.5, observed: <root><xmla x="1">jv <b>t</b></xmla>
 * <c>d</c></root> with XML:/&#42; is one value "jv td"), attributes by //@&#42;, the same document
 * at any chunking, no external entity ever read, entity expansion bounded by the budget, and in
 * a transaction: selected only by pp_tx_set_body_processor, no ARGS, parsed whole at the end
 * (400 for a broken document, whatever the chunking).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "body/xml.h"
#include "config/config.h"
#include "tx.h"

static apr_pool_t *root;
#include "pp_test.h"
#include "pp_request.h"

/* Parses text in chunks (0: whole), evaluates expr; "ERR" when not well formed, else the
 * values joined by '|'. */
static const char *xpath(apr_pool_t *p, const char *text, size_t chunk, const char *expr,
                         apr_size_t budget, apr_status_t *xrv)
{
    pp_xml_t *x = pp_xml_create(p);
    assert_non_null(x);
    size_t len = strlen(text), step = chunk ? chunk : (len ? len : 1);
    apr_status_t rv = APR_SUCCESS;
    for (size_t i = 0; i < len && rv == APR_SUCCESS; i += step)
        rv = pp_xml_feed(x, text + i, len - i < step ? len - i : step);
    if (rv == APR_SUCCESS)
        rv = pp_xml_finish(x);
    if (rv != APR_SUCCESS) {
        assert_false(pp_xml_has_document(x));
        return "ERR";
    }
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(pp_str_t));
    const char *err = NULL;
    *xrv = pp_xml_xpath(x, p, expr, budget, out, &err);
    const char *s = "";
    for (int i = 0; i < out->nelts; i++) {
        pp_str_t v = APR_ARRAY_IDX(out, i, pp_str_t);
        assert_int_equal(strlen(v.data), v.len);
        s = apr_psprintf(p, "%s%s%s", s, i ? "|" : "", v.data);
    }
    return s;
}

static const struct {
    const char *xml, *expr, *want;
} cases[] = {
    /* spec §12.5, observed with ModSecurity 2.9.7 */
    { "<root><xmla x=\"1\">jv <b>t</b></xmla><c>d</c></root>", "/*", "jv td" },
    { "<root><xmla x=\"1\">jv <b>t</b></xmla><c>d</c></root>", "//@*", "1" },
    { "<r a=\"x\" b=\"y\"><s c=\"z\"/></r>", "//@*", "x|y|z" },
    { "<r><a>1</a><a>2</a></r>", "/r/a", "1|2" },
    { "<r><a>1</a></r>", "/nothing", "" },
    { "<r><![CDATA[<x>]]><!-- c --><?pi v?>t</r>", "/*", "<x>t" },
    { "<r>&lt;&#65;&amp;</r>", "/*", "<A&" },
    { "<!DOCTYPE r [<!ENTITY e \"ent\">]><r>a&e;b</r>", "/*", "aentb" },
    { "<r><a>x</a></r>", "count(//a)", "" }, /* not a node set: no values */
};

static void test_xpath(void **state)
{
    apr_pool_t *p = *state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t chunk = 0; chunk <= 3; chunk += 3) {
            apr_status_t rv = APR_EGENERAL;
            const char *got = xpath(p, cases[i].xml, chunk, cases[i].expr, 1 << 20, &rv);
            assert_int_equal(rv, APR_SUCCESS);
            if (strcmp(got, cases[i].want) != 0)
                fail_msg("%s %s (chunk %zu): got \"%s\", expected \"%s\"", cases[i].xml,
                         cases[i].expr, chunk, got, cases[i].want);
        }
}

static void test_not_well_formed(void **state)
{
    apr_pool_t *p = *state;
    apr_status_t rv;
    assert_string_equal(xpath(p, "<a><b></a>", 0, "/*", 1024, &rv), "ERR");
    assert_string_equal(xpath(p, "<a>", 0, "/*", 1024, &rv), "ERR");
    assert_string_equal(xpath(p, "", 0, "/*", 1024, &rv), "ERR");
    assert_string_equal(xpath(p, "<a/><b/>", 1, "/*", 1024, &rv), "ERR");
    /* a bad expression is an error, not "no values" */
    apr_array_header_t *out = apr_array_make(p, 1, sizeof(pp_str_t));
    pp_xml_t *x = pp_xml_create(p);
    assert_int_equal(pp_xml_feed(x, "<a/>", 4), APR_SUCCESS);
    assert_int_equal(pp_xml_finish(x), APR_SUCCESS);
    const char *err = NULL;
    assert_int_equal(pp_xml_xpath(x, p, "///[", 1024, out, &err), APR_EINVAL);
    assert_non_null(err);
}

/* An external entity is never read: its reference stays empty. */
static void test_no_external_entities(void **state)
{
    apr_pool_t *p = *state;
    char path[] = "/tmp/parapet-xxe-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "SECRET", 6), 6);
    close(fd);
    const char *doc = apr_psprintf(p, "<!DOCTYPE r [<!ENTITY x SYSTEM \"file://%s\">]><r>a&x;b</r>",
                                   path);
    apr_status_t rv;
    const char *got = xpath(p, doc, 0, "/*", 1024, &rv);
    unlink(path);
    assert_null(strstr(got, "SECRET"));
}

/* Entity references multiply text: the values stop at the budget. A nested "billion laughs"
 * document is refused by libxml2 itself (an entity reference loop). */
static void test_budget(void **state)
{
    apr_pool_t *p = *state;
    const char *doc = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">"
                      "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                      "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><r>&c;</r>";
    apr_status_t rv = APR_SUCCESS;
    assert_string_equal(xpath(p, doc, 0, "/*", 1 << 20, &rv), "ERR");
    const char *refs = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">]><r>";
    for (int i = 0; i < 100; i++)
        refs = apr_pstrcat(p, refs, "&a;", NULL);
    refs = apr_pstrcat(p, refs, "</r>", NULL);
    rv = APR_SUCCESS;
    xpath(p, refs, 0, "/*", 999, &rv);
    assert_int_equal(rv, APR_ENOSPC);
    const char *got = xpath(p, refs, 0, "/*", 1000, &rv);
    assert_int_equal(rv, APR_SUCCESS);
    assert_int_equal(strlen(got), 1000);
}

/* ---- in a transaction ------------------------------------------------------------------ */

static pp_tx_t *post(apr_pool_t *p, const char *proc, const char *body, size_t chunk)
{
    pp_cfg_t *cfg = pp_cfg_create(p);
    pp_cfg_site_t site = { 0 };
    assert_null(pp_cfg_apply(cfg, pp_directive_find("SecFilterEngine"), "On", &site, p, p));
    assert_null(pp_cfg_apply(cfg, pp_directive_find("SecFilterScanPOST"), "On", &site, p, p));
    assert_null(pp_cfg_finish(cfg, p, p));
    pp_tx_t *tx = pp_tx_create(cfg, p, "t");
    pp_tx_set_request_line(tx, PP_STR("POST /soap?q=1 HTTP/1.1"));
    pp_tx_add_request_header(tx, PP_STR("Content-Type"), PP_STR("text/xml"));
    pp_tx_finish_request_headers(tx);
    if (proc)
        assert_int_equal(pp_tx_set_body_processor(tx, proc), APR_SUCCESS);
    pp_test_feed_request_body(tx, body, strlen(body), chunk);
    return tx;
}

static const char *values(pp_tx_t *tx, const char *var, const char *sel)
{
    const pp_var_def_t *def = pp_var_find(var);
    assert_non_null(def);
    pp_target_t t = { .var = def, .selector = sel };
    apr_array_header_t *out = apr_array_make(tx->pool, 4, sizeof(pp_value_t));
    assert_int_equal(def->collect(tx, &t, out), APR_SUCCESS);
    const char *s = "";
    for (int i = 0; i < out->nelts; i++) {
        const pp_value_t *v = &APR_ARRAY_IDX(out, i, pp_value_t);
        s = apr_psprintf(tx->pool, "%s%s%.*s", s, i ? "|" : "", (int)v->value.len, v->value.data);
    }
    return s;
}

static void test_transaction(void **state)
{
    apr_pool_t *p = *state;
    const char *body = "<root><xmla x=\"1\">jv <b>t</b></xmla><c>d</c></root>";
    for (size_t chunk = 0; chunk <= 5; chunk += 5) {
        pp_tx_t *tx = post(p, "XML", body, chunk);
        assert_false(pp_tx_verdict(tx)->intercepted);
        assert_string_equal(values(tx, "XML", "/*"), "jv td");
        assert_string_equal(values(tx, "XML", "//@*"), "1");
        assert_string_equal(values(tx, "XML", NULL), "[XML document tree]");
        assert_string_equal(values(tx, "ARGS", NULL), "1"); /* the query's only */
        assert_string_equal(values(tx, "REQBODY_PROCESSOR", NULL), "XML");
        assert_string_equal(values(tx, "REQBODY_ERROR", NULL), "0");
    }
    /* not selected: no document */
    pp_tx_t *tx = post(p, NULL, body, 0);
    assert_string_equal(values(tx, "XML", "/*"), "");
    assert_string_equal(values(tx, "XML", NULL), "");
}

static void test_transaction_errors(void **state)
{
    apr_pool_t *p = *state;
    /* the document is parsed whole at the end, however the body was cut: any error is 400 */
    pp_tx_t *tx = post(p, "XML", "<a></b><c>more</c>", 4);
    assert_true(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_verdict(tx)->status, 400);
    assert_string_equal(values(tx, "REQBODY_ERROR", NULL), "1");
    assert_string_equal(values(tx, "REQBODY_ERROR_MSG", NULL),
                        "XML parser error: XML: Failed parsing document.");
    assert_string_equal(values(tx, "XML", "/*"), "");
    /* UCS-4 cut into pieces parses as it does whole */
    static const char ucs4[] = { 0, 0, 0, '<', 0, 0, 0, 'a', 0, 0, 0, '/', 0, 0, 0, '>' };
    for (size_t chunk = 1; chunk <= 16; chunk *= 2) {
        pp_tx_t *u = pp_tx_create(tx->cfg, p, "u");
        pp_tx_set_request_line(u, PP_STR("POST / HTTP/1.1"));
        pp_tx_finish_request_headers(u);
        assert_int_equal(pp_tx_set_body_processor(u, "XML"), APR_SUCCESS);
        for (size_t i = 0; i < sizeof ucs4; i += chunk)
            pp_tx_feed_request_body(u, ucs4 + i, chunk);
        pp_tx_finish_request_body(u);
        assert_false(pp_tx_verdict(u)->intercepted);
        assert_string_equal(values(u, "XML", NULL), "[XML document tree]");
    }
    /* broken in the first chunk: ModSecurity sees it only at the end, and so does Parapet */
    tx = post(p, "XML", "<a></b>", 0);
    assert_true(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_verdict(tx)->status, 400);
    /* incomplete, seen only at the end: 400 */
    tx = post(p, "XML", "<a><b>", 0);
    assert_true(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_verdict(tx)->status, 400);
    assert_string_equal(values(tx, "REQBODY_ERROR_MSG", NULL),
                        "XML parser error: XML: Failed parsing document.");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_xpath, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_not_well_formed, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_no_external_entities, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_budget, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_transaction, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_transaction_errors, pp_test_pool_setup, pp_test_pool_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
