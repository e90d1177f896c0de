/*
 * The step memo of the value cache (rules/values.c): a transformation step applied to an array
 * of values is computed once per transaction, whichever chain reaches that array, so chains that
 * leave the values alone share one array (and the rule index scans it once). Checked: the
 * sharing itself (it failed before the memo: each chain made its own array), a new source
 * generation (body arguments appended) computed anew, and, over random values and random
 * chains asked in random order, every target's values equal the chain applied to the raw
 * values without any cache (pp_chain_apply).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "rules/eval_parts.h"
#include "rules/transforms/transforms.h"
#include "tx.h"

static apr_pool_t *pool;

static const char *apply(pp_cfg_t *cfg, apr_pool_t *cp, const char *name, const char *args)
{
    pp_cfg_site_t site = { 0 };
    return pp_cfg_apply(cfg, pp_directive_find(name), args, &site, cp, cp);
}

/* A configuration of the given SecRule lines; t[i] the first target of rule i. */
static pp_cfg_t *config(apr_pool_t *cp, const char *const *rules, int n, const pp_target_t **t)
{
    pp_cfg_t *cfg = pp_cfg_create(cp);
    assert_null(apply(cfg, cp, "SecRuleEngine", "On"));
    assert_null(apply(cfg, cp, "SecRequestBodyAccess", "On"));
    for (int i = 0; i < n; i++) {
        const char *err = apply(cfg, cp, "SecRule", rules[i]);
        if (err)
            fail_msg("%s: %s", rules[i], err);
    }
    assert_int_equal(cfg->rules->nelts, n);
    for (int i = 0; i < n; i++)
        t[i] = APR_ARRAY_IDX(cfg->rules, i, const pp_rule_t *)->targets[0];
    assert_null(pp_cfg_finish(cfg, cp, cp));
    return cfg;
}

static const char *text(apr_pool_t *p, const apr_array_header_t *vals)
{
    assert_non_null(vals);
    const char *s = "";
    for (int i = 0; i < vals->nelts; i++) {
        const pp_value_t *v = &APR_ARRAY_IDX(vals, i, pp_value_t);
        s = apr_psprintf(p, "%s%.*s=%.*s;", s, (int)v->name.len, v->name.data ? v->name.data : "",
                         (int)v->value.len, v->value.data);
    }
    return s;
}

static pp_tx_t *get(const pp_cfg_t *cfg, apr_pool_t *rp, const char *query)
{
    pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
    const char *line = apr_psprintf(rp, "GET /?%s HTTP/1.1", query);
    pp_tx_set_request_line(tx, pp_str_from_cstr(line));
    pp_tx_add_request_header(tx, PP_STR("Host"), PP_STR("x"));
    pp_tx_finish_request_headers(tx);
    return tx;
}

static const apr_array_header_t *values(pp_tx_t *tx, const pp_target_t *t, pp_phase_t ph)
{
    return pp_eval_target_values(tx, t, ph);
}

enum { UNI_LOW, LOW, HTML_UNI_LOW, UNI, NONE, NRULES };
static const char *const sharing_rules[NRULES] = {
    "ARGS \"@rx ^$\" \"id:1,phase:2,pass,t:none,t:urlDecodeUni,t:lowercase\"",
    "ARGS \"@rx ^$\" \"id:2,phase:2,pass,t:none,t:lowercase\"",
    "ARGS \"@rx ^$\" \"id:3,phase:2,pass,t:none,t:htmlEntityDecode,t:urlDecodeUni,t:lowercase\"",
    "ARGS \"@rx ^$\" \"id:4,phase:2,pass,t:none,t:urlDecodeUni\"",
    "ARGS \"@rx ^$\" \"id:5,phase:2,pass,t:none\"",
};

/* Chains that reach the same values share the array of the step that made them. */
static void test_steps_shared(void **state)
{
    apr_pool_t *cp, *rp;
    apr_pool_create(&cp, pool);
    const pp_target_t *t[NRULES];
    const pp_cfg_t *cfg = config(cp, sharing_rules, NRULES, t);
    const pp_phase_t ph = PP_PHASE_REQUEST_BODY;

    /* Nothing for urlDecodeUni or htmlEntityDecode to do: all three lowercase chains are
     * lowercase of the raw values, one array; urlDecodeUni is the raw array itself. */
    apr_pool_create(&rp, pool);
    pp_tx_t *tx = get(cfg, rp, "a=Hello&b=world");
    const apr_array_header_t *low = values(tx, t[LOW], ph);
    assert_string_equal(text(rp, low), "a=hello;b=world;");
    assert_ptr_equal(values(tx, t[UNI_LOW], ph), low);
    assert_ptr_equal(values(tx, t[HTML_UNI_LOW], ph), low);
    assert_ptr_equal(values(tx, t[UNI], ph), values(tx, t[NONE], ph));
    assert_string_equal(text(rp, values(tx, t[NONE], ph)), "a=Hello;b=world;");
    apr_pool_destroy(rp);

    /* urlDecodeUni changes a: its chains part from lowercase alone, and meet again after
     * htmlEntityDecode left the values alone. */
    apr_pool_create(&rp, pool);
    tx = get(cfg, rp, "a=%2541B&b=x");
    assert_string_equal(text(rp, values(tx, t[NONE], ph)), "a=%41B;b=x;");
    assert_string_equal(text(rp, values(tx, t[LOW], ph)), "a=%41b;b=x;");
    const apr_array_header_t *ul = values(tx, t[UNI_LOW], ph);
    assert_string_equal(text(rp, ul), "a=ab;b=x;");
    assert_ptr_not_equal(ul, values(tx, t[LOW], ph));
    assert_ptr_equal(values(tx, t[HTML_UNI_LOW], ph), ul);
    assert_string_equal(text(rp, values(tx, t[UNI], ph)), "a=AB;b=x;");
    apr_pool_destroy(rp);
    apr_pool_destroy(cp);
}

/* Collected values start with no sketch, no checks and no exclusion bits, whatever the
 * transaction pool's memory held before (collect_values makes the array and its first room in
 * one allocation and clears the room, as apr_array_make does): the pool's blocks are filled
 * with 0xa5 and cleared, then reused by the transaction. */
static void test_collected_values_clear(void **state)
{
    apr_pool_t *cp, *rp;
    apr_pool_create(&cp, pool);
    const pp_target_t *t[NRULES];
    const pp_cfg_t *cfg = config(cp, sharing_rules, NRULES, t);
    apr_pool_create(&rp, pool);
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 64; k++)
            memset(apr_palloc(rp, 16384), 0xa5, 16384);
        apr_pool_clear(rp);
        pp_tx_t *tx = get(cfg, rp, round == 0 ? "a=1" : round == 1 ? "a=1&b=2" : "a=1&b=2&c=3");
        const apr_array_header_t *v = values(tx, t[NONE], PP_PHASE_REQUEST_BODY);
        assert_int_equal(v->nelts, round + 1);
        for (int i = 0; i < v->nelts; i++) {
            const pp_value_t *x = &APR_ARRAY_IDX(v, i, pp_value_t);
            assert_null(x->sketch);
            assert_int_equal(x->checks, 0);
            assert_true(x->excl == 0 || x->excl == PP_EXCL_KNOWN);
        }
        apr_pool_clear(rp);
    }
    apr_pool_destroy(rp);
    apr_pool_destroy(cp);
}

/* Body arguments appended (a new generation of ARGS): the steps run again on the new array,
 * and the phase-1 arrays stay as they were. */
static void test_new_generation(void **state)
{
    apr_pool_t *cp, *rp;
    apr_pool_create(&cp, pool);
    const pp_target_t *t[NRULES];
    const pp_cfg_t *cfg = config(cp, sharing_rules, NRULES, t);
    apr_pool_create(&rp, pool);
    pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
    pp_tx_set_request_line(tx, PP_STR("POST /?q=One HTTP/1.1"));
    pp_tx_add_request_header(tx, PP_STR("Host"), PP_STR("x"));
    pp_tx_add_request_header(tx, PP_STR("Content-Type"),
                             PP_STR("application/x-www-form-urlencoded"));
    pp_tx_add_request_header(tx, PP_STR("Content-Length"), PP_STR("9"));
    pp_tx_finish_request_headers(tx);
    const apr_array_header_t *low1 = values(tx, t[LOW], PP_PHASE_REQUEST_HEADERS);
    assert_string_equal(text(rp, low1), "q=one;");
    assert_ptr_equal(values(tx, t[UNI_LOW], PP_PHASE_REQUEST_HEADERS), low1);
    assert_true(pp_tx_wants_request_body(tx));
    assert_int_equal(pp_tx_feed_request_body(tx, "b=Two%41C", 9), APR_SUCCESS);
    pp_tx_finish_request_body(tx);
    const apr_array_header_t *low2 = values(tx, t[LOW], PP_PHASE_REQUEST_BODY);
    assert_ptr_not_equal(low2, low1);
    assert_string_equal(text(rp, low2), "q=one;b=twoac;");
    assert_ptr_equal(values(tx, t[UNI_LOW], PP_PHASE_REQUEST_BODY), low2);
    assert_string_equal(text(rp, low1), "q=one;");
    apr_pool_destroy(rp);
    apr_pool_destroy(cp);
}

/* ---- random chains over random values, against pp_chain_apply ----------------------------- */

static const char *const tfns[] = {
    "lowercase", "urlDecodeUni", "urlDecode", "htmlEntityDecode", "jsDecode", "cssDecode",
    "removeNulls", "replaceNulls", "compressWhitespace", "removeWhitespace", "cmdLine",
    "normalizePath", "normalisePath", "normalizePathWin", "utf8toUnicode", "trim",
    "replaceComments", "removeComments", "hexEncode", "length", "sqlHexDecode", "base64Decode",
};
#define NTFNS (sizeof tfns / sizeof tfns[0])
#define NCHAINS 48

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

/* A query value of random pieces, percent-encoded where needed. */
static const char *random_value(apr_pool_t *p, unsigned *seed)
{
    static const char *const pieces[] = {
        "a", "B", "%41", "%2541", "%26lt;", "%26%2365;", "\\x41", "\\u0041", "%u0041", "/./", "//",
        "..%2f", "%00", "%20%20", " ", "+", "%C3%A9", "/*c*/", "0x41", "--", "QUJD", "\\",
        "SeLeCt", "%5c",
    };
    int n = (int)(rnd(seed) % 6);
    const char *s = "";
    for (int i = 0; i < n; i++)
        s = apr_pstrcat(p, s, pieces[rnd(seed) % (sizeof pieces / sizeof pieces[0])], NULL);
    return s;
}

static void test_random_chains_match_reference(void **state)
{
    unsigned seed = 12345;
    apr_pool_t *cp;
    apr_pool_create(&cp, pool);
    /* Chains drawn from a few first steps, so that many share prefixes (cached or not) and
     * many reach equal values by different paths. */
    const char *rules[NCHAINS];
    for (int i = 0; i < NCHAINS; i++) {
        const char *acts = "t:none";
        int depth = 1 + (int)(rnd(&seed) % 5);
        for (int k = 0; k < depth; k++) {
            unsigned pick = k == 0 ? rnd(&seed) % 4 : rnd(&seed) % NTFNS;
            acts = apr_pstrcat(cp, acts, ",t:", tfns[pick], NULL);
        }
        const char *var = i % 3 == 2 ? "ARGS_NAMES" : "ARGS";
        rules[i] = apr_psprintf(cp, "%s \"@rx ^$\" \"id:%d,phase:2,pass,%s\"", var, 100 + i, acts);
    }
    const pp_target_t *t[NCHAINS];
    const pp_cfg_t *cfg = config(cp, rules, NCHAINS, t);
    unsigned compared = 0, changed = 0;
    for (int round = 0; round < 200; round++) {
        apr_pool_t *rp;
        apr_pool_create(&rp, pool);
        const char *q = "";
        int nargs = 1 + (int)(rnd(&seed) % 4);
        for (int i = 0; i < nargs; i++)
            q = apr_psprintf(rp, "%s%s%s%s=%s", q, i ? "&" : "", random_value(rp, &seed),
                             i % 2 ? "" : "n", random_value(rp, &seed));
        pp_tx_t *tx = get(cfg, rp, q);
        /* Asked in a random order, twice (the second time from the cache). */
        for (int pass = 0; pass < 2; pass++) {
            int order[NCHAINS];
            for (int i = 0; i < NCHAINS; i++)
                order[i] = i;
            for (int i = NCHAINS - 1; i > 0; i--) {
                int j = (int)(rnd(&seed) % (unsigned)(i + 1)), x = order[i];
                order[i] = order[j];
                order[j] = x;
            }
            for (int k = 0; k < NCHAINS; k++) {
                const pp_target_t *x = t[order[k]], *root = x;
                while (root->prefix)
                    root = root->prefix;
                const apr_array_header_t *got = values(tx, x, PP_PHASE_REQUEST_BODY);
                const apr_array_header_t *raw = values(tx, root, PP_PHASE_REQUEST_BODY);
                assert_non_null(got);
                assert_int_equal(got->nelts, raw->nelts);
                for (int i = 0; i < raw->nelts; i++) {
                    pp_str_t want, have = APR_ARRAY_IDX(got, i, pp_value_t).value;
                    pp_chain_apply(tx, rp, x->chain, APR_ARRAY_IDX(raw, i, pp_value_t).value,
                                   &want);
                    if (have.len != want.len || memcmp(have.data, want.data, want.len) != 0)
                        fail_msg("query %s, %s, value %d: \"%.*s\", expected \"%.*s\"", q,
                                 rules[order[k]], i, (int)have.len, have.data, (int)want.len,
                                 want.data);
                    compared++;
                    changed += have.data != APR_ARRAY_IDX(raw, i, pp_value_t).value.data;
                }
            }
        }
        apr_pool_destroy(rp);
    }
    /* The values were there, and the chains changed many of them. */
    assert_true(compared > 20000);
    assert_true(changed > compared / 4);
    apr_pool_destroy(cp);
}

/* A variable without values (XML without an XML body, ARGS on a GET without a query): every
 * chain over it is empty, at once, whether its prefixes are cached or not; a count (&VAR) is
 * a value ("0") that the chain still transforms (t:length: "1"). */
static void test_no_values(void **state)
{
    static const char *const rules[] = {
        "XML:/* \"@rx ^$\" \"id:1,phase:2,pass,t:none,t:length\"",
        "XML:/* \"@rx ^$\" \"id:2,phase:2,pass,t:none,t:urlDecodeUni,t:length\"",
        "XML:/* \"@rx ^$\" \"id:3,phase:2,pass,t:none,t:urlDecodeUni,t:htmlEntityDecode,t:length\"",
        "&XML:/* \"@rx ^$\" \"id:4,phase:2,pass,t:none,t:length\"",
        "ARGS \"@rx ^$\" \"id:5,phase:2,pass,t:none,t:urlDecodeUni,t:length\"",
        "&ARGS \"@rx ^$\" \"id:6,phase:2,pass,t:none,t:length,t:length\"",
        "ARGS_NAMES \"@rx ^$\" \"id:7,phase:2,pass,t:none,t:hexEncode,t:length\"",
    };
    enum { N = sizeof rules / sizeof rules[0] };
    static const char *const want[N] = { "", "", "", "=1;", "", "=1;", "" };
    apr_pool_t *cp, *rp;
    apr_pool_create(&cp, pool);
    apr_pool_create(&rp, pool);
    const pp_target_t *t[N];
    const pp_cfg_t *cfg = config(cp, rules, N, t);
    pp_tx_t *tx = get(cfg, rp, "");
    for (int pass = 0; pass < 2; pass++)
        for (int i = N - 1; i >= 0; i--)
            assert_string_equal(text(rp, values(tx, t[i], PP_PHASE_REQUEST_BODY)), want[i]);
    /* the same chains over values: transformed (the test can tell) */
    pp_tx_t *tx2 = get(cfg, rp, "a=xy");
    assert_string_equal(text(rp, values(tx2, t[4], PP_PHASE_REQUEST_BODY)), "a=2;");
    assert_string_equal(text(rp, values(tx2, t[6], PP_PHASE_REQUEST_BODY)), "a=2;");
    apr_pool_destroy(rp);
    apr_pool_destroy(cp);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_shared),
        cmocka_unit_test(test_collected_values_clear),
        cmocka_unit_test(test_new_generation),
        cmocka_unit_test(test_random_chains_match_reference),
        cmocka_unit_test(test_no_values),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
