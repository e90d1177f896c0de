/*
 * The phase loop across configuration pools: rules parsed into different pools (server
 * configuration vs .htaccess, which Apache parses per request) get target cache slots from
 * different registries; a merged configuration must still test each rule on its own target.
 * Exclusions interned per configuration keep the verdicts of testing each by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "rules/transforms/transforms.h"
#include "tx.h"

#include "pp_request.h"

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
    group_case("[p-z][p-z]", false); /* classes of many bytes hold no literal: no needs */
}

/* A variable whose collector fails, as one reading a body processor's broken state or a
 * persistent collection could: a test row of the variable table. */
static apr_status_t collect_fails(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    (void)tx;
    (void)t;
    (void)out;
    return APR_ENOMEM;
}

static const pp_var_def_t failing_var = { "FAILING_VAR", PP_SEL_NONE, PP_PHASE_REQUEST_HEADERS,
                                          collect_fails, 0, 0, NULL, "test row" };

/* Points the first target of every rule of cfg (and of their groups, which share it) at an
 * interned target of the failing variable. */
static void make_targets_fail(pp_cfg_t *cfg)
{
    pp_target_t t = { .var = &failing_var, .label = "FAILING_VAR", .missing_as_empty = true };
    const pp_target_t *it = pp_target_intern(pool, &t);
    for (int i = 0; i < cfg->rules->nelts; i++) {
        pp_rule_t *r = APR_ARRAY_IDX(cfg->rules, i, pp_rule_t *);
        r->targets[0] = it;
        if (r->group)
            for (unsigned k = 0; k < r->group->ntargets; k++)
                ((const pp_target_t **)r->group->targets)[k] = it;
    }
}

static void expect_fail_closed(const pp_cfg_t *cfg)
{
    apr_pool_t *rp;
    apr_pool_create(&rp, pool);
    pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
    const char *line = "GET /?a=b HTTP/1.1";
    pp_tx_set_request_line(tx, (pp_str_t){ line, strlen(line) });
    pp_tx_finish_request_headers(tx);
    pp_tx_finish_request_body(tx);
    const pp_verdict_t *v = pp_tx_verdict(tx);
    assert_true(v->intercepted);
    assert_int_equal(v->status, 500);
    assert_true(v->matches->nelts >= 1);
    const char *text = pp_match_text(APR_ARRAY_IDX(v->matches, 0, pp_match_t *));
    if (!strstr(text, "FAILING_VAR could not be collected"))
        fail_msg("message: %s", text);
    apr_pool_destroy(rp);
}

/* Review M4: a collector's error is not "no values" (which is "no match", fail open). The
 * transaction is intercepted with 500 and the reason logged, for a rule evaluated alone and
 * for members of a prefiltered group, even when the rule itself would only pass. */
static void test_collector_error_fails_closed(void **state)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    assert_null(apply(cfg, pool, "SecFilterEngine", "On"));
    assert_null(apply(cfg, pool, "SecFilterSelective", "REQUEST_URI ^zzz$ id:1,pass"));
    make_targets_fail(cfg);
    expect_fail_closed(cfg);

    pp_cfg_t *grouped = pp_cfg_create(pool);
    assert_null(apply(grouped, pool, "SecFilterEngine", "On"));
    assert_null(apply(grouped, pool, "SecFilterSelective", "ARGS aaa id:1,pass"));
    assert_null(apply(grouped, pool, "SecFilterSelective", "ARGS bbb id:2,pass"));
    assert_null(apply(grouped, pool, "SecFilterSelective", "ARGS ccc id:3,pass"));
    assert_non_null(APR_ARRAY_IDX(grouped->rules, 0, pp_rule_t *)->group);
    make_targets_fail(grouped);
    expect_fail_closed(grouped);
}

/* The value cache is stamped with its source's generation (docs/rule-core.md): a phase-1 rule
 * on ARGS caches the query arguments, and a phase-2 rule on the same (interned) target must
 * then see the body's arguments too, not the cached query-only list (review §1.2: a bypass by
 * design). The 1.9 front end makes phase-2 rules only, so the first rule is moved to phase 1
 * here, as a SecRule phase:1 would be. */
static void test_cache_goes_stale_with_body_args(void **state)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    assert_null(apply(cfg, pool, "SecFilterEngine", "On"));
    assert_null(apply(cfg, pool, "SecFilterScanPOST", "On"));
    assert_null(apply(cfg, pool, "SecFilterSelective", "ARG_a evil id:1,pass"));
    assert_null(apply(cfg, pool, "SecFilterSelective", "ARG_a evil id:2,deny,status:406"));
    pp_rule_t *early = APR_ARRAY_IDX(cfg->rules, 0, pp_rule_t *);
    early->phase = PP_PHASE_REQUEST_HEADERS;
    cfg->phase_mask |= 1u << PP_PHASE_REQUEST_HEADERS;
    assert_ptr_equal(early->targets[0], APR_ARRAY_IDX(cfg->rules, 1, pp_rule_t *)->targets[0]);
    assert_null(pp_cfg_finish(cfg, pool, pool));
    static const char req[] = "POST /?a=ok HTTP/1.1\r\nHost: x\r\n"
                              "Content-Type: application/x-www-form-urlencoded\r\n"
                              "Content-Length: 6\r\n\r\na=evil";
    apr_pool_t *rp;
    apr_pool_create(&rp, pool);
    pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
    pp_test_feed_request(tx, req, sizeof req - 1, 0);
    const pp_verdict_t *v = pp_tx_verdict(tx);
    assert_true(v->intercepted);
    assert_int_equal(v->matches->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(v->matches, 0, pp_match_t *)->id, "2");
    apr_pool_destroy(rp);
}

/* Chains are interned into a trie per configuration pool: same prefix and step, same node;
 * "none" resets; ids are dense; the 1.9 normaliser is a step like the others. */
static void test_chain_interning(void **state)
{
    apr_pool_t *cp;
    apr_pool_create(&cp, pool);
    const pp_tfn_def_t *uni = pp_tfn_find("urlDecodeUni"), *low = pp_tfn_find("LOWERCASE"),
                       *none = pp_tfn_find("none");
    assert_int_equal(pp_chain_count(cp), 1);
    const pp_chain_t *a = pp_chain_append(cp, NULL, uni);
    const pp_chain_t *ab = pp_chain_append(cp, a, low);
    assert_ptr_equal(pp_chain_append(cp, pp_chain_empty(), uni), a);
    assert_ptr_equal(pp_chain_append(cp, pp_chain_append(cp, NULL, uni), low), ab);
    assert_ptr_equal(ab->prefix, a);
    assert_int_equal(a->id, 1);
    assert_int_equal(ab->id, 2);
    assert_int_equal(ab->depth, 2);
    assert_ptr_equal(pp_chain_append(cp, ab, none), pp_chain_empty());
    assert_int_equal(pp_chain_empty()->id, 0);
    const pp_chain_t *n = pp_chain_append_norm19(cp, ab, PP_N19_URLDECODE, false);
    assert_int_equal(n->depth, 3);
    assert_null(n->tfn);
    assert_ptr_equal(pp_chain_append_norm19(cp, ab, 0, false), ab); /* nothing to do: no step */
    assert_int_equal(pp_chain_count(cp), 4);
    assert_string_equal(pp_chain_name(pool, ab), "urlDecodeUni,lowercase");
    pp_str_t out;
    pp_chain_apply(NULL, pool, ab, PP_STR("%41B%u0043"), &out);
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.data, "abc", 3);
    apr_pool_destroy(cp);
}

/* Two rules on one argument, one with urlDecodeUni, the other with urlDecodeUni,lowercase:
 * the shared prefix's values are cached once (the memo per value and chain prefix) and the
 * longer chain starts from them; the raw values, which no rule tests and only one chain
 * extends, are not kept. */
static void test_chain_prefix_shared(void **state)
{
    apr_pool_t *cp;
    apr_pool_create(&cp, pool);
    pp_cfg_t *cfg = pp_cfg_create(cp);
    assert_null(apply(cfg, cp, "SecFilterEngine", "On"));
    assert_null(apply(cfg, cp, "SecFilterSelective", "ARG_a ^nomatch$ id:1,pass"));
    assert_null(apply(cfg, cp, "SecFilterSelective", "ARG_a ^abc$ id:2,pass"));
    const pp_chain_t *uni = pp_chain_append(cp, NULL, pp_tfn_find("urlDecodeUni"));
    const pp_chain_t *low = pp_chain_append(cp, uni, pp_tfn_find("lowercase"));
    pp_target_t t = { .var = pp_var_find("ARGS"), .selector = "a", .label = "ARGS:a",
                      .chain = uni };
    const pp_target_t *t1 = pp_target_intern(cp, &t);
    t.chain = low;
    const pp_target_t *t2 = pp_target_intern(cp, &t);
    assert_ptr_equal(t2->prefix, t1);
    assert_non_null(t1->prefix);
    assert_null(t1->prefix->prefix);
    assert_true(t1->direct && t2->direct);
    assert_false(t1->prefix->direct);
    assert_int_equal(t1->prefix_uses, 1);
    APR_ARRAY_IDX(cfg->rules, 0, pp_rule_t *)->targets[0] = t1;
    APR_ARRAY_IDX(cfg->rules, 1, pp_rule_t *)->targets[0] = t2;
    assert_null(pp_cfg_finish(cfg, cp, pool));
    apr_pool_t *rp;
    apr_pool_create(&rp, pool);
    pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
    pp_tx_set_request_line(tx, PP_STR("GET /?a=%41B%u0043 HTTP/1.1"));
    pp_tx_finish_request_headers(tx);
    pp_tx_finish_request_body(tx);
    const apr_array_header_t *m = pp_tx_verdict(tx)->matches;
    assert_int_equal(m->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(m, 0, pp_match_t *)->id, "2");
    const pp_cache_entry_t *e1 = &tx->cache[t1->slot], *e2 = &tx->cache[t2->slot];
    assert_ptr_equal(e1->target, t1);
    assert_ptr_equal(e2->target, t2);
    const pp_value_t *v1 = &APR_ARRAY_IDX(e1->values, 0, pp_value_t);
    const pp_value_t *v2 = &APR_ARRAY_IDX(e2->values, 0, pp_value_t);
    assert_int_equal(v1->value.len, 3);
    assert_memory_equal(v1->value.data, "ABC", 3);
    assert_memory_equal(v2->value.data, "abc", 3);
    assert_ptr_not_equal(tx->cache[t1->prefix->slot].target, t1->prefix); /* raw: not kept */
    /* The match is MATCHED_VAR (as the operator saw it) and MATCHED_VAR_NAME. */
    pp_str_t mv, mvn;
    assert_true(pp_var_get(tx, pp_var_find("MATCHED_VAR"), NULL, &mv));
    assert_true(pp_var_get(tx, pp_var_find("MATCHED_VAR_NAME"), NULL, &mvn));
    assert_int_equal(mv.len, 3);
    assert_memory_equal(mv.data, "abc", 3);
    assert_int_equal(mvn.len, 6);
    assert_memory_equal(mvn.data, "ARGS:a", 6);
    apr_pool_destroy(rp);
}

/* Rule ordinals are dense per configuration pool, in the order rules are made. */
static void test_rule_ordinals(void **state)
{
    apr_pool_t *a, *b;
    apr_pool_create(&a, pool);
    apr_pool_create(&b, pool);
    pp_cfg_t *ca = pp_cfg_create(a), *cb = pp_cfg_create(b);
    assert_int_equal(pp_rule_count(a), 0);
    assert_null(apply(ca, a, "SecFilterSelective", "ARGS one id:1"));
    assert_null(apply(ca, a, "SecFilter", "two"));
    assert_null(apply(cb, b, "SecFilterSelective", "ARGS three id:3"));
    assert_int_equal(APR_ARRAY_IDX(ca->rules, 0, pp_rule_t *)->ordinal, 0);
    assert_int_equal(APR_ARRAY_IDX(ca->rules, 1, pp_rule_t *)->ordinal, 1);
    assert_int_equal(APR_ARRAY_IDX(cb->rules, 0, pp_rule_t *)->ordinal, 0);
    assert_int_equal(pp_rule_count(a), 2);
    assert_int_equal(pp_rule_count(b), 1);
}

/* The phase entry points a host uses to run the 2.x phases where ModSecurity 2 runs them
 * (docs/architecture.md): phase 1 only through pp_tx_finish_request_headers, no rule while the
 * host turned the rules off, phase 3 once, and phase 5 whole after an interception, its
 * disruptive actions only warning. */
static int count_ids(const pp_tx_t *tx, const char *id)
{
    int n = 0;
    const apr_array_header_t *m = pp_tx_verdict(tx)->matches;
    for (int i = 0; i < m->nelts; i++) {
        const pp_match_t *x = APR_ARRAY_IDX(m, i, const pp_match_t *);
        n += x->id && strcmp(x->id, id) == 0;
    }
    return n;
}

static void test_phase_entry_points(void **state)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    assert_null(apply(cfg, pool, "SecRuleEngine", "On"));
    assert_null(apply(cfg, pool, "SecRule", "REQUEST_METHOD ^GET$ id:1,phase:1,deny,status:406"));
    assert_null(apply(cfg, pool, "SecRule", "REQUEST_METHOD ^POST$ id:3,phase:3,pass,log"));
    assert_null(apply(cfg, pool, "SecRule", "REQUEST_METHOD . id:5,phase:5,pass,log"));
    assert_null(apply(cfg, pool, "SecRule", "RESPONSE_STATUS ^0$ id:6,phase:5,pass,log"));
    assert_true(pp_cfg_has_rules2(cfg, PP_PHASE_REQUEST_HEADERS));
    assert_false(pp_cfg_has_rules2(cfg, PP_PHASE_REQUEST_BODY));
    assert_true(pp_cfg_has_rules2(cfg, PP_PHASE_NONE));
    const char *get = "GET / HTTP/1.1", *post = "POST / HTTP/1.1";

    apr_pool_t *rp;
    apr_pool_create(&rp, pool);
    /* Phase 1 denies; phase 5 still runs every rule. */
    pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
    pp_tx_set_request_line(tx, (pp_str_t){ get, strlen(get) });
    pp_tx_finish_request_headers(tx);
    assert_true(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_verdict(tx)->status, 406);
    assert_false(pp_tx_wants_response_phases(tx));
    pp_tx_finish(tx);
    assert_int_equal(count_ids(tx, "5"), 1);
    assert_int_equal(count_ids(tx, "6"), 1); /* RESPONSE_STATUS is 0 without a response */

    /* Parsed without phase 1 (it ran earlier, or never runs with this configuration). */
    tx = pp_tx_create(cfg, rp, "t2");
    pp_tx_set_request_line(tx, (pp_str_t){ get, strlen(get) });
    pp_tx_parse_request_headers(tx);
    pp_tx_finish_request_headers(tx);
    assert_false(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(count_ids(tx, "1"), 0);

    /* Rules off: no phase runs a rule, phase 5 included. */
    tx = pp_tx_create(cfg, rp, "t3");
    pp_tx_set_rules_enabled(tx, false);
    assert_false(pp_tx_rules_enabled(tx));
    pp_tx_set_request_line(tx, (pp_str_t){ get, strlen(get) });
    pp_tx_finish_request_headers(tx);
    pp_tx_finish(tx);
    assert_false(pp_tx_verdict(tx)->intercepted);
    assert_int_equal(pp_tx_verdict(tx)->matches->nelts, 0);

    /* Phase 3 runs once. */
    tx = pp_tx_create(cfg, rp, "t4");
    pp_tx_set_request_line(tx, (pp_str_t){ post, strlen(post) });
    pp_tx_finish_request_headers(tx);
    pp_tx_finish_request_body(tx);
    assert_true(pp_tx_wants_response_phases(tx));
    pp_tx_set_response_status(tx, 200, NULL);
    pp_tx_finish_response_headers(tx);
    pp_tx_finish_response_headers(tx);
    assert_int_equal(count_ids(tx, "3"), 1);
    apr_pool_destroy(rp);
}

static const pp_match_t *match_of(const pp_tx_t *tx, const char *id)
{
    const apr_array_header_t *m = pp_tx_verdict(tx)->matches;
    for (int i = 0; i < m->nelts; i++) {
        const pp_match_t *x = APR_ARRAY_IDX(m, i, const pp_match_t *);
        if (x->id && strcmp(x->id, id) == 0)
            return x;
    }
    fail_msg("no match of rule %s", id);
    return NULL;
}

/* A match's message is made only when something reads it (issue 15, cost): a nolog pass
 * rule's match makes nothing (CRS: ~70 per benign request); a logged one is made when it
 * matches, with the values then (a later setvar does not change it); a host that keeps every
 * text (parapet eval) gets the nolog one as it was at the match too. */
static void test_match_text_made_when_read(void **state)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    assert_null(apply(cfg, pool, "SecRuleEngine", "On"));
    assert_null(apply(cfg, pool, "SecAction", "\"id:10,phase:1,pass,nolog,setvar:tx.n=1\""));
    assert_null(apply(cfg, pool, "SecRule",
                      "TX:n \"@eq 1\" \"id:11,phase:1,pass,nolog,msg:'n is %{tx.n}',tag:'t%{tx.n}'\""));
    assert_null(apply(cfg, pool, "SecRule",
                      "TX:n \"@eq 1\" \"id:12,phase:1,pass,log,msg:'n is %{tx.n}',tag:'t%{tx.n}'\""));
    assert_null(apply(cfg, pool, "SecAction", "\"id:13,phase:1,pass,nolog,setvar:tx.n=2\""));
    assert_null(pp_cfg_finish(cfg, pool, pool));
    const char *get = "GET / HTTP/1.1";
    apr_pool_t *rp;
    apr_pool_create(&rp, pool);
    for (int keep = 0; keep <= 1; keep++) {
        pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
        if (keep)
            pp_tx_keep_match_texts(tx);
        pp_tx_set_request_line(tx, (pp_str_t){ get, strlen(get) });
        pp_tx_finish_request_headers(tx);
        const pp_match_t *nolog = match_of(tx, "11"), *logged = match_of(tx, "12");
        assert_null(logged->pending);
        assert_string_equal(logged->msg, "n is 1");
        assert_int_equal(logged->ntags, 1);
        assert_string_equal(logged->tags[0], "t1");
        assert_string_equal(logged->var, "TX:n");
        if (!strstr(logged->text, "Warning. Operator EQ matched 1 at TX:n. ") ||
            !strstr(logged->text, "[id \"12\"] [msg \"n is 1\"]") ||
            !strstr(logged->text, "[tag \"t1\"]"))
            fail_msg("logged: %s", logged->text);
        if (keep) {
            assert_null(nolog->pending);
            assert_string_equal(nolog->msg, "n is 1");
        } else {
            assert_non_null(nolog->pending); /* nothing made */
            assert_null(nolog->text);
            assert_null(nolog->msg);
            assert_null(nolog->var);
        }
        /* Made when asked, in the same words. */
        const pp_match_t *full = pp_match_full(nolog);
        assert_ptr_equal(full, nolog);
        assert_null(full->pending);
        assert_string_equal(full->var, "TX:n");
        if (!strstr(pp_match_text(nolog), "Warning. Operator EQ matched 1 at TX:n. ") ||
            !strstr(pp_match_text(nolog), "[id \"11\"]"))
            fail_msg("nolog: %s", pp_match_text(nolog));
        assert_ptr_equal(pp_match_text(nolog), full->text); /* made once */
    }
    apr_pool_destroy(rp);
}

/* The status a raw request gets (0: not intercepted). */
static int status_of(const pp_cfg_t *cfg, const char *raw)
{
    apr_pool_t *rp;
    apr_pool_create(&rp, pool);
    pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
    pp_test_feed_request(tx, raw, strlen(raw), 0);
    int status = pp_tx_verdict(tx)->intercepted ? pp_tx_verdict(tx)->status : 0;
    apr_pool_destroy(rp);
    return status;
}

static const char *cookie_request(apr_pool_t *p, const char *cookies)
{
    return apr_psprintf(p, "GET /?a=1 HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n", cookies);
}

/* The verdicts of test_exclusions_interned's first rules on cookies and body arguments. */
static void cookies_and_bodies(pp_cfg_t *cfg, apr_pool_t *cp)
{
    assert_int_equal(status_of(cfg, cookie_request(cp, "__utma=EVIL; __utmb=bad")), 0);
    assert_int_equal(status_of(cfg, cookie_request(cp, "__utma=x; s=EviL")), 401);
    assert_int_equal(status_of(cfg, cookie_request(cp, "KEEP=bad")), 0);   /* keys: any case */
    assert_int_equal(status_of(cfg, cookie_request(cp, "keep=x; k=bad")), 402);
    /* !REQUEST_COOKIES:... leaves REQUEST_COOKIES_NAMES alone (ModSecurity). */
    assert_int_equal(status_of(cfg, cookie_request(cp, "__utmz=1")), 403);
    const char *post = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: "
                       "application/x-www-form-urlencoded\r\nContent-Length: %"
                       APR_SIZE_T_FMT "\r\n\r\n%s";
    const char *bodies[][2] = { { "safe_1=evil&SAFE2=evil", "0" }, { "safe=1&x=evil", "404" },
                                { "quiet=grave", "0" }, { "loud=grave", "405" } };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        const char *raw = apr_psprintf(cp, post, strlen(bodies[i][0]), bodies[i][0]);
        if (status_of(cfg, raw) != atoi(bodies[i][1]))
            fail_msg("body \"%s\": status %d, expected %s", bodies[i][0], status_of(cfg, raw),
                     bodies[i][1]);
    }
}

/* After pp_target_excl_finish: each target of every rule (and its prefixes) lists exactly the
 * configuration's exclusions that apply to it, in the set's order. */
static void excl_apply_as_tested(const pp_cfg_t *cfg)
{
    for (int i = 0; i < cfg->rules->nelts; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(cfg->rules, i, const pp_rule_t *);
        for (unsigned j = 0; j < r->ntargets; j++)
            for (const pp_target_t *t = r->targets[j]; t; t = t->prefix) {
                unsigned n, na = 0;
                const pp_exclusion_t *const *all = pp_excl_set_entries(t->excl_set, &n);
                assert_non_null(t->excl_apply);
                assert_int_equal(t->excl_nseen, n);
                for (unsigned k = 0; k < n; k++)
                    if (pp_exclusion_applies(all[k], t)) {
                        assert_true(na < t->excl_napply);
                        assert_ptr_equal(t->excl_apply[na], all[k]);
                        na++;
                    }
                assert_int_equal(na, t->excl_napply);
            }
    }
}

/* Exclusions are interned per configuration: values carry the bits of the exclusions that name
 * them from where they are collected, through transformed copies, and a rule tests its mask.
 * The verdicts are those of testing each exclusion by name: shared and distinct exclusions,
 * name and regex ones, transformed targets, a body argument collected in phase 2, an exclusion
 * added by SecRuleUpdateTargetById, and exclusions past the 63 that get a bit. */
static void test_exclusions_interned(void **state)
{
    apr_pool_t *cp;
    apr_pool_create(&cp, pool);
    pp_cfg_t *cfg = pp_cfg_create(cp);
    assert_null(apply(cfg, cp, "SecRuleEngine", "On"));
    assert_null(apply(cfg, cp, "SecRequestBodyAccess", "On"));
    assert_null(apply(cfg, cp, "SecRule", "REQUEST_COOKIES|!REQUEST_COOKIES:/__utm/ evil "
                                          "id:1,phase:1,deny,status:401,t:lowercase"));
    assert_null(apply(cfg, cp, "SecRule", "REQUEST_COOKIES|!REQUEST_COOKIES:/__utm/|"
                                          "!REQUEST_COOKIES:Keep bad "
                                          "id:2,phase:1,deny,status:402,t:none"));
    assert_null(apply(cfg, cp, "SecRule", "REQUEST_COOKIES_NAMES|!REQUEST_COOKIES:/__utm/ "
                                          "^__utmz$ id:3,phase:1,deny,status:403"));
    assert_null(apply(cfg, cp, "SecRule", "ARGS|!ARGS:/^safe/ evil "
                                          "id:4,phase:2,deny,status:404,t:urlDecode"));
    assert_null(apply(cfg, cp, "SecRule", "ARGS grave id:5,phase:2,deny,status:405"));
    assert_null(apply(cfg, cp, "SecRuleUpdateTargetById", "5 !ARGS:quiet"));
    /* Twice: each collection testing every exclusion against its variable, then with the
     * exclusions that apply to each target found at start-up (pp_target_excl_finish). */
    for (int finished = 0; finished < 2; finished++) {
        if (finished) {
            pp_target_excl_finish(cp);
            excl_apply_as_tested(cfg);
        }
        cookies_and_bodies(cfg, cp);
    }

    /* 70 distinct exclusions: the last ones get no bit and are tested by name, alone and next
     * to one that has a bit. The set grows past what start-up saw: the targets' lists are not
     * used (the set is searched), until start-up ends again. */
    for (int k = 0; k < 70; k++)
        assert_null(apply(cfg, cp, "SecRule", apr_psprintf(cp, "ARGS|!ARGS:n%d zzz "
                                                              "id:%d,phase:1,pass", k, 100 + k)));
    assert_null(apply(cfg, cp, "SecRule", "ARGS|!ARGS:n69 ^x$ id:200,phase:1,deny,status:406"));
    assert_null(apply(cfg, cp, "SecRule", "ARGS|!ARGS:n0|!ARGS:n68 ^y$ "
                                          "id:201,phase:1,deny,status:407"));
    /* Rules 1-3 share the bit of /__utm/; n59 and later have none (4 + 59 exclusions before
     * them), so rules 200 and 201 test theirs by name. */
    const pp_rule_t *byid[300] = { NULL };
    for (int i = 0; i < cfg->rules->nelts; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(cfg->rules, i, const pp_rule_t *);
        byid[atoi(r->id)] = r;
    }
    assert_non_null(byid[1]->excl_set);
    assert_true(byid[1]->excl_mask != 0);
    assert_true((byid[2]->excl_mask & byid[1]->excl_mask) == byid[1]->excl_mask);
    assert_int_equal(__builtin_popcountll(byid[2]->excl_mask), 2);
    assert_true(byid[3]->excl_mask == byid[1]->excl_mask);
    assert_non_null(byid[158]->excl_set);
    assert_null(byid[159]->excl_set);
    assert_null(byid[200]->excl_set);
    assert_null(byid[201]->excl_set);
    for (int finished = 0; finished < 2; finished++) {
        if (finished) {
            pp_target_excl_finish(cp);
            excl_apply_as_tested(cfg);
        }
        cookies_and_bodies(cfg, cp);
        const char *gets[][2] = { { "n69=x", "0" }, { "n68=x", "406" }, { "n0=y&n68=y", "0" },
                                  { "n1=y", "407" } };
        for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++) {
            const char *raw = apr_psprintf(cp, "GET /?%s HTTP/1.1\r\nHost: x\r\n\r\n", gets[i][0]);
            if (status_of(cfg, raw) != atoi(gets[i][1]))
                fail_msg("query \"%s\": status %d, expected %s", gets[i][0], status_of(cfg, raw),
                         gets[i][1]);
        }
    }
    apr_pool_destroy(cp);
}

static const pp_rule_t *rule_with_id(const pp_cfg_t *cfg, const char *id)
{
    for (int i = 0; i < cfg->rules->nelts; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(cfg->rules, i, const pp_rule_t *);
        if (r->id && strcmp(r->id, id) == 0)
            return r;
    }
    fail_msg("no rule %s", id);
    return NULL;
}

/* A regex over a set of strings (util/regex_exact.c) runs on each value without the literal
 * prefilter first (pp_operator_t.exact): the verdicts stay the ones the prefilter gave, for
 * negated and plain rules, with and without capture, in both languages; a regex that is not
 * such a set keeps the prefilter. */
static void test_exact_regex_without_prefilter(void **state)
{
    (void)state;
    apr_pool_t *cp;
    apr_pool_create(&cp, pool);
    pp_cfg_t *cfg = pp_cfg_create(cp);
    assert_null(apply(cfg, cp, "SecRuleEngine", "On"));
    assert_null(apply(cfg, cp, "SecRule",
                      "REQUEST_METHOD \"!@rx ^(?:GET|HEAD)$\" \"id:1,phase:2,deny,status:405\""));
    assert_null(apply(cfg, cp, "SecRule",
                      "ARGS:u \"@rx ^(admin|root)$\" \"id:2,phase:2,deny,status:403\""));
    assert_null(apply(cfg, cp, "SecRule",
                      "ARGS:c \"@rx ^(x|yz)$\" \"id:3,phase:2,capture,deny,status:406\""));
    assert_null(apply(cfg, cp, "SecRule",
                      "ARGS:u \"@rx adm(in)+\" \"id:4,phase:2,deny,status:401\""));
    assert_true(rule_with_id(cfg, "1")->op.exact);
    assert_true(rule_with_id(cfg, "2")->op.exact);
    assert_true(rule_with_id(cfg, "3")->op.exact);
    assert_false(rule_with_id(cfg, "4")->op.exact);
    const char *cases[][2] = {
        { "GET /?u=guest HTTP/1.1", "0" },       { "PUT /?u=guest HTTP/1.1", "405" },
        { "GET /?u=admin HTTP/1.1", "403" },     { "GET /?u=root HTTP/1.1", "403" },
        { "GET /?u=admi HTTP/1.1", "0" },        { "GET /?u=xadminin HTTP/1.1", "401" },
        { "GET /?c=yz HTTP/1.1", "406" },        { "GET /?c=y HTTP/1.1", "0" },
        { "HEAD /?c=xyz HTTP/1.1", "0" },        { "GET /?u=ROOT HTTP/1.1", "0" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *raw = apr_psprintf(cp, "%s\r\nHost: x\r\n\r\n", cases[i][0]);
        if (status_of(cfg, raw) != atoi(cases[i][1]))
            fail_msg("\"%s\": status %d, expected %s", cases[i][0], status_of(cfg, raw),
                     cases[i][1]);
    }
    /* 1.9: rx19 is case-insensitive, and exact when the pattern is a set of strings. */
    pp_cfg_t *c19 = pp_cfg_create(cp);
    assert_null(apply(c19, cp, "SecFilterEngine", "On"));
    assert_null(apply(c19, cp, "SecFilterSelective",
                      "REQUEST_METHOD !^(GET|HEAD)$ id:5,deny,status:405"));
    assert_true(rule_with_id(c19, "5")->op.exact);
    assert_int_equal(status_of(c19, "get / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    assert_int_equal(status_of(c19, "PUT / HTTP/1.1\r\nHost: x\r\n\r\n"), 405);
    apr_pool_destroy(cp);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_from_two_pools),
        cmocka_unit_test(test_chain_and_skipnext),
        cmocka_unit_test(test_group_prefilter),
        cmocka_unit_test(test_collector_error_fails_closed),
        cmocka_unit_test(test_cache_goes_stale_with_body_args),
        cmocka_unit_test(test_rule_ordinals),
        cmocka_unit_test(test_chain_interning),
        cmocka_unit_test(test_chain_prefix_shared),
        cmocka_unit_test(test_phase_entry_points),
        cmocka_unit_test(test_match_text_made_when_read),
        cmocka_unit_test(test_exclusions_interned),
        cmocka_unit_test(test_exact_regex_without_prefilter),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
