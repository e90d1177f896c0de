/*
 * The rule index (rules/index.c): which 2.x rules a plan gates, and its safety property, "a
 * value that matches a gated rule's operator sets the rule's bit", so that skipping a rule
 * whose bits are clear never changes a verdict:
 *   - over the operator vectors: every vector of a row with needs that matches sets its
 *     member's bit in a union of all of them (util/rx_literals.c, as the index joins them);
 *   - over small configurations: which rules are gated, and the same matches with the index
 *     as without it (a plan without one: pp_rule_plan_build_light), including values that
 *     change within the phase (TX), skipAfter and chains;
 *   - over CRS 3.3.4 at paranoia level 4 and the differential corpus (tests/crs/corpus.jsonl):
 *     for every gated rule, every value of its targets that its operator matches sets its bit,
 *     and every request gives the same matches, in the same order, and the same verdict with
 *     the index and without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "config/config.h"
#include "rules/eval_parts.h"
#include "rules/operators/operator_vectors.h"
#include "rules/operators/operators.h"
#include "tx.h"

#include "pp_request.h"

static apr_pool_t *root;

#include "pp_test.h"

#define CRS_SETUP "/etc/modsecurity/crs/crs-setup.conf"
#define CRS_RULES "/usr/share/modsecurity-crs/rules"
#define CORPUS "tests/crs/corpus.jsonl"

/* ---- the operator vectors ---------------------------------------------------------------- */

static void test_union_of_vectors(void **state)
{
    apr_pool_t *p = *state;
    pp_tx_t *tx = pp_tx_create(pp_cfg_create(p), p, "t");
    size_t nv = sizeof op_vectors / sizeof op_vectors[0];
    const pp_rx_needs_t **needs = apr_pcalloc(p, nv * sizeof *needs);
    const op_vector_t **vec = apr_pcalloc(p, nv * sizeof *vec);
    unsigned n = 0, matched = 0;
    for (size_t i = 0; i < nv; i++) {
        const op_vector_t *v = &op_vectors[i];
        const pp_op_def_t *def = pp_op_find(v->name);
        void *compiled = NULL;
        if (v->error || !def || !def->needs || def->parse(p, v->arg, &compiled))
            continue;
        const pp_rx_needs_t *nd = def->needs(compiled);
        if (!nd)
            continue;
        bool m = false;
        pp_op_out_t out = { .want_captures = false };
        assert_int_equal(def->exec(tx, compiled, (pp_str_t){ v->in, v->in_len }, &m, &out),
                         APR_SUCCESS);
        if (!m)
            continue;
        needs[n] = nd;
        vec[n++] = v;
    }
    assert_true(n >= 5); /* the vectors do hold matches of operators with needs */
    for (unsigned base = 0; base < n; base += 64) {
        unsigned k = n - base < 64 ? n - base : 64;
        const pp_rx_needs_t *u = pp_rx_needs_union(p, needs + base, k);
        assert_non_null(u);
        for (unsigned j = 0; j < k; j++) {
            const op_vector_t *v = vec[base + j];
            pp_str_t in = { v->in, v->in_len };
            uint64_t with = pp_rx_needs_members(u, in, pp_sketch_build(p, in));
            uint64_t without = pp_rx_needs_members(u, in, NULL);
            uint64_t ac = pp_rule_index_members(p, needs + base, k, in, true);
            if (!(with >> j & 1) || !(without >> j & 1) || !(ac >> j & 1))
                fail_msg("%s \"%s\" matches \"%s\" but its bit is clear (sketch %d, search %d, "
                         "automaton %d)", v->name, v->arg, v->in, (int)(with >> j & 1),
                         (int)(without >> j & 1), (int)(ac >> j & 1));
            matched++;
        }
    }
    assert_int_equal(matched, n);
}

/* The automaton and the union's sketch check decide "the value contains a literal of member
 * m" alike: both exactly, case-folded. The needs of CRS-style patterns against values made of
 * attack strings in either case, random printable and other bytes; a fixed seed, so a failure
 * repeats. (The CRS test below runs every CRS index target through its automaton.) */
static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static unsigned compare_automaton(apr_pool_t *p, const pp_rx_needs_t **parts, unsigned np,
                                  const char *const *pieces, size_t npieces, unsigned n);

static void test_automaton_equals_union(void **state)
{
    apr_pool_t *p = *state;
    static const char *const pieces[] = {
        "union", "SELECT", "<script", "/etc/passwd", "../", "%2e%2e", "eval(", "${jndi:",
        "cmd.exe", "onerror=", "' or 1=1--", "<?php", "base64_decode", "x", "a",
        "\xc3\xa9", "javascript:", "document.cookie", "wget ", "; ls", "|id", "sleep(",
    };
    const char *const patterns[] = {
        "(?i)union[[:space:]]+(all[[:space:]]+)?select", "(?i)<script[^>]*>",
        "(?:/etc/passwd|/etc/shadow|boot\\.ini)", "\\.\\./", "(?i:eval|exec|system)\\(",
        "\\$\\{jndi:", "(?i)on(?:error|load|click)=", "(?i)javascript:", "wget |curl ",
        "(?:;|\\|)[[:space:]]*(?:ls|id|cat)\\b", "a", "sleep\\(\\d+\\)", "\\xc3\\xa9",
    };
    unsigned np = sizeof patterns / sizeof patterns[0];
    const pp_rx_needs_t **parts = apr_palloc(p, np * sizeof *parts);
    for (unsigned i = 0; i < np; i++) {
        parts[i] = pp_rx_needs_derive(p, patterns[i]);
        if (!parts[i])
            fail_msg("no needs for %s", patterns[i]);
    }
    unsigned some = compare_automaton(p, parts, np, pieces, sizeof pieces / sizeof pieces[0],
                                      20000);
    assert_true(some > 1000); /* the values do hold literals */
    /* Chunks of one or two members: few bytes leave the start state, and the automaton jumps
     * from one of them to the next (one start byte, two to four, more). */
    for (unsigned i = 0; i < np; i++) {
        compare_automaton(p, parts + i, 1, pieces, sizeof pieces / sizeof pieces[0], 2000);
        if (i + 1 < np)
            compare_automaton(p, parts + i, 2, pieces, sizeof pieces / sizeof pieces[0], 2000);
    }
}

/* Values of random pieces (either case) and bytes, up to 120 bytes: the automaton over parts
 * must answer as the union's check. Returns how many values held a literal. */
static unsigned compare_automaton(apr_pool_t *p, const pp_rx_needs_t **parts, unsigned np,
                                  const char *const *pieces, size_t npieces, unsigned n)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    unsigned differ = 0, some = 0;
    apr_pool_t *vp;
    assert_int_equal(apr_pool_create(&vp, p), APR_SUCCESS);
    for (unsigned t = 0; t < n; t++) {
        char buf[160];
        apr_pool_clear(vp); /* each value's automaton and union */
        size_t len = 0, want = rnd(&x) % 120;
        while (len < want) {
            if (rnd(&x) % 3 == 0) {
                const char *pc = pieces[rnd(&x) % npieces];
                for (size_t j = 0; pc[j] && len < sizeof buf; j++)
                    buf[len++] = rnd(&x) % 2 ? (char)toupper((unsigned char)pc[j]) : pc[j];
            } else {
                buf[len++] = (char)(rnd(&x) % 4 ? 32 + rnd(&x) % 95 : rnd(&x) % 256);
            }
        }
        pp_str_t v = { buf, len };
        uint64_t a = pp_rule_index_members(vp, parts, np, v, true);
        uint64_t b = pp_rule_index_members(vp, parts, np, v, false);
        differ += a != b;
        some += a != 0;
        if (a != b)
            fail_msg("value %u (%u members): automaton %llx, union %llx on \"%.*s\"", t, np,
                     (unsigned long long)a, (unsigned long long)b, (int)len, buf);
    }
    apr_pool_destroy(vp);
    assert_int_equal(differ, 0);
    return some;
}

/* ---- small configurations ---------------------------------------------------------------- */

static pp_cfg_t *config(apr_pool_t *p, const char *text)
{
    char path[] = "/tmp/pp-index-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    pp_cfg_t *cfg = pp_cfg_create(p);
    const char *err = pp_cfg_read_file(cfg, path, p, p);
    unlink(path);
    if (err)
        fail_msg("%s", err);
    assert_non_null(cfg->plan);
    return cfg;
}

/* The same configuration with a plan that gates nothing. */
static pp_cfg_t *without_index(apr_pool_t *p, const pp_cfg_t *cfg)
{
    pp_cfg_t *c = apr_pmemdup(p, cfg, sizeof *c);
    c->plan = pp_rule_plan_build_light(p, cfg->effective_rules);
    assert_null(c->plan->index);
    return c;
}

/* Ids of the gated rules of a phase, "1 7". */
static const char *gated(apr_pool_t *p, const pp_cfg_t *cfg, pp_phase_t ph)
{
    const pp_rule_plan_t *plan = cfg->plan;
    const char *s = "";
    for (int i = 0; i < plan->nsteps[ph]; i++)
        if (plan->steps[ph][i].gate)
            s = apr_psprintf(p, "%s%s%s", s, *s ? " " : "",
                             APR_ARRAY_IDX(plan->rules, plan->steps[ph][i].first,
                                           const pp_rule_t *)->id);
    return s;
}

/* Runs raw through cfg, response (the request echoed as HTML) included; returns the matches
 * as "id@var id@var ... status". */
static const char *run(apr_pool_t *p, const pp_cfg_t *cfg, const char *raw, size_t len)
{
    apr_pool_t *rp;
    apr_pool_create(&rp, p);
    pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
    pp_conn_info_t ci = { 0 };
    ci.client_ip = "127.0.0.1";
    ci.server_ip = "127.0.0.1";
    ci.server_port = 80;
    pp_tx_set_conn(tx, &ci);
    pp_test_feed_request(tx, raw, len, 0);
    if (!pp_tx_verdict(tx)->intercepted) {
        const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n";
        char *resp = apr_pstrcat(rp, head, apr_pstrmemdup(rp, raw, len), NULL);
        pp_test_feed_response(tx, resp, strlen(resp));
    }
    pp_tx_finish(tx);
    const pp_verdict_t *v = pp_tx_verdict(tx);
    const char *s = "";
    for (int i = 0; v->matches && i < v->matches->nelts; i++) {
        const pp_match_t *m = APR_ARRAY_IDX(v->matches, i, const pp_match_t *);
        s = apr_psprintf(p, "%s%s@%s ", s, m->id ? m->id : "-", m->var ? m->var : "");
    }
    s = apr_psprintf(p, "%s%d", s, v->intercepted ? v->status : 0);
    apr_pool_destroy(rp);
    return s;
}

static const char *const small_rules =
    "SecRuleEngine On\n"
    "SecRequestBodyAccess On\n"
    "SecDefaultAction \"phase:2,log,pass\"\n"
    "SecRule ARGS \"@rx attack\" \"id:1,phase:2,pass,setvar:tx.a=1\"\n"
    "SecRule ARGS \"!@rx attack\" \"id:2,phase:2,pass\"\n"
    "SecRule ARGS \"@rx attack\" \"id:3,phase:2,pass,multiMatch,t:lowercase\"\n"
    "SecRule ARGS|ENV:x \"@rx attack\" \"id:4,phase:2,pass\"\n"
    "SecRule ARGS \"@rx ^%{tx.a}$\" \"id:5,phase:2,pass\"\n"
    "SecRule ARGS \"@rx attack\" \"id:6,phase:2,pass,chain\"\n"
    "    SecRule ARGS_NAMES \"@rx q\" \"\"\n"
    "SecRule REQUEST_HEADERS|ARGS \"@rx (?:foo|bar)\" \"id:7,phase:2,pass,t:lowercase\"\n"
    "SecRule TX:foo \"@rx attack\" \"id:8,phase:2,pass\"\n"
    "SecRule ARGS \"@rx attack\" \"id:9,phase:2,pass,setvar:tx.foo=attack\"\n"
    "SecRule TX:foo \"@rx attack\" \"id:10,phase:2,pass\"\n"
    "SecRule ARGS \"@rx skipme\" \"id:11,phase:2,pass,skipAfter:END\"\n"
    "SecAction \"id:12,phase:2,pass,log\"\n"
    "SecMarker END\n"
    "SecRule ARGS:q \"@rx attack\" \"id:13,phase:1,deny,status:403\"\n";

/* Runs each request with the index (cfg) and without it (plain): both must give want[i]. */
static void same_runs(apr_pool_t *p, const pp_cfg_t *cfg, const pp_cfg_t *plain,
                      const char *const *reqs, const char *const *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *a = run(p, cfg, reqs[i], strlen(reqs[i]));
        const char *b = run(p, plain, reqs[i], strlen(reqs[i]));
        if (strcmp(a, b) != 0 || strcmp(a, want[i]) != 0)
            fail_msg("request %zu: with the index \"%s\", without \"%s\", expected \"%s\"", i,
                     a, b, want[i]);
    }
}

static void test_which_rules_are_gated(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *cfg = config(p, small_rules);
    /* Not 2 (negated), 4 (ENV: volatile), 5 (a macro: no needs), 12 (SecAction); 6's chain
     * by its starter; 3 (multiMatch) by its target and the target before t:lowercase. */
    assert_string_equal(gated(p, cfg, PP_PHASE_REQUEST_BODY), "1 3 6 7 8 9 10 11");
    assert_string_equal(gated(p, cfg, PP_PHASE_REQUEST_HEADERS), "13");
    assert_int_equal(cfg->plan->index->ngated, 9);
    for (int s = 0; s < cfg->plan->nsteps[PP_PHASE_REQUEST_BODY]; s++) {
        const pp_plan_step_t *st = &cfg->plan->steps[PP_PHASE_REQUEST_BODY][s];
        const pp_rule_t *r = APR_ARRAY_IDX(cfg->plan->rules, st->first, const pp_rule_t *);
        if (st->gate && strcmp(r->id, "3") == 0)
            assert_int_equal(st->gate->n, 2);
    }
}

static void test_same_matches_as_without(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *cfg = config(p, small_rules), *plain = without_index(p, cfg);
    const char *reqs[] = {
        "GET /?q=benign HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?a=attack HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?q=ATTACK HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?z=skipme&y=attack HTTP/1.1\r\nHost: x\r\nX-A: FOO\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 20\r\n\r\nb=attack&c=barskipme",
        "GET /?q=attack HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    const char *want[] = {
        "2@ARGS:q 12@ 0",
        /* 8 sees TX:foo before 9 sets it, 10 after: the index pass runs again on the new
         * values. */
        "1@ARGS:a 3@ARGS:a 4@ARGS:a 9@ARGS:a 10@TX:foo 12@ 0",
        "2@ARGS:q 3@ARGS:q 12@ 0",
        /* 11 skips 12; 7 finds "foo" in a header (t:lowercase) */
        "1@ARGS:y 2@ARGS:z 3@ARGS:y 4@ARGS:y 7@REQUEST_HEADERS:X-A 9@ARGS:y 10@TX:foo 11@ARGS:z 0",
        "1@ARGS:b 2@ARGS:c 3@ARGS:b 4@ARGS:b 7@ARGS:c 9@ARGS:b 10@TX:foo 11@ARGS:c 0",
        "13@ARGS:q 403",
    };
    same_runs(p, cfg, plain, reqs, want, sizeof reqs / sizeof reqs[0]);
}

/* A multiMatch rule tests each value before its transformations too: its gate also looks at
 * the values before each step ("attack" holds the literal, its t:length "6" does not; t:none
 * then t:lowercase: "ATTACK" only after the last step). */
static void test_multimatch_gated_by_every_level(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *cfg = config(p, "SecRuleEngine On\n"
                              "SecRule ARGS \"@rx attack\" \"id:31,phase:2,pass,log,multiMatch,"
                              "t:none,t:length\"\n"
                              "SecRule ARGS \"@rx attack\" \"id:32,phase:2,pass,log,t:none,"
                              "t:length\"\n"
                              "SecRule ARGS \"@rx attack\" \"id:33,phase:2,pass,log,multiMatch,"
                              "t:none,t:lowercase\"\n");
    pp_cfg_t *plain = without_index(p, cfg);
    assert_string_equal(gated(p, cfg, PP_PHASE_REQUEST_BODY), "31 32 33");
    const char *reqs[] = {
        "GET /?q=benign HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?q=attack HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?q=ATTACK HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?a=x&q=attack&b=y HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    const char *want[] = { "0", "31@ARGS:q 33@ARGS:q 0", "33@ARGS:q 0",
                           "31@ARGS:q 33@ARGS:q 0" };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        const char *a = run(p, cfg, reqs[i], strlen(reqs[i]));
        const char *b = run(p, plain, reqs[i], strlen(reqs[i]));
        if (strcmp(a, b) != 0 || strcmp(a, want[i]) != 0)
            fail_msg("request %zu: with the index \"%s\", without \"%s\", expected \"%s\"", i,
                     a, b, want[i]);
    }
}

/* @pm and @pmFromFile rules are gated by their phrases (or prefixes of them), compared on the
 * transformed value the rule sees and in either case; negated ones are not gated. */
static void test_pm_gated(void **state)
{
    apr_pool_t *p = *state;
    char path[] = "/tmp/pp-index-pm-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *phrases = "# a comment\n/etc/Shadow\nboot.ini\n";
    assert_int_equal(write(fd, phrases, strlen(phrases)), (ssize_t)strlen(phrases));
    close(fd);
    pp_cfg_t *cfg = config(
        p, apr_psprintf(p,
                        "SecRuleEngine On\n"
                        "SecRule ARGS \"@pm evil Danger\" \"id:21,phase:2,pass,log\"\n"
                        "SecRule ARGS \"@pm attack\" \"id:22,phase:2,pass,log,t:urlDecode\"\n"
                        "SecRule ARGS \"!@pm benign\" \"id:23,phase:2,pass,log\"\n"
                        "SecRule ARGS|REQUEST_FILENAME \"@pmFromFile %s\" "
                        "\"id:24,phase:2,pass,log,t:lowercase\"\n",
                        path));
    unlink(path);
    pp_cfg_t *plain = without_index(p, cfg);
    assert_string_equal(gated(p, cfg, PP_PHASE_REQUEST_BODY), "21 22 24");
    const char *reqs[] = {
        "GET /?q=benign HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?q=DANGER HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?q=%2561ttack HTTP/1.1\r\nHost: x\r\n\r\n", /* ARGS:q "%61ttack": urlDecode */
        "GET /?q=evi%256c HTTP/1.1\r\nHost: x\r\n\r\n",   /* 21 has no urlDecode */
        "GET /a/ETC/shadow?q=benign HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?q=Boot.Ini HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    const char *want[] = {
        "0",
        "21@ARGS:q 23@ARGS:q 0",
        "22@ARGS:q 23@ARGS:q 0",
        "23@ARGS:q 0",
        "24@REQUEST_FILENAME 0",
        "23@ARGS:q 24@ARGS:q 0",
    };
    same_runs(p, cfg, plain, reqs, want, sizeof reqs / sizeof reqs[0]);
}

/* The phase-level skip (rules/eval.c run_steps, pp_rule_index_walk): runs of gated rules are
 * passed in one walk that reads each target's values once, so it must stop at each rule its
 * gate lets through and read again after that rule ran: 32 reads TX:x that 31 just set (30
 * read it unset, in the walk that stopped at 31), 33's
 * ctl: removes 35 and 34's skip passes over it, an ungated rule (37) stands between runs. */
static void test_walk_stops_and_rereads(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *cfg = config(p, "SecRuleEngine On\n"
                              "SecDefaultAction \"phase:2,log,pass\"\n"
                              "SecRule TX:x \"@rx two\" \"id:30,phase:2,pass\"\n"
                              "SecRule ARGS \"@rx one\" \"id:31,phase:2,pass,setvar:tx.x=two\"\n"
                              "SecRule TX:x \"@rx two\" \"id:32,phase:2,pass\"\n"
                              "SecRule ARGS \"@rx three\" "
                              "\"id:33,phase:2,pass,ctl:ruleRemoveById=35\"\n"
                              "SecRule ARGS_NAMES \"@rx four\" \"id:34,phase:2,pass,skip:1\"\n"
                              "SecRule ARGS \"@rx one\" \"id:35,phase:2,pass\"\n"
                              "SecRule REQUEST_HEADERS \"@rx five\" \"id:36,phase:2,pass\"\n"
                              "SecRule ARGS \"!@rx zzz\" \"id:37,phase:2,pass\"\n"
                              "SecRule ARGS \"@rx one\" \"id:38,phase:2,pass\"\n");
    pp_cfg_t *plain = without_index(p, cfg);
    assert_string_equal(gated(p, cfg, PP_PHASE_REQUEST_BODY), "30 31 32 33 34 35 36 38");
    const char *reqs[] = {
        "GET /?q=one HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?q=one&r=three HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?four=one HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX-A: five\r\n\r\n",
        "GET /?q=benign HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    const char *want[] = {
        "31@ARGS:q 32@TX:x 35@ARGS:q 37@ARGS:q 38@ARGS:q 0",
        "31@ARGS:q 32@TX:x 33@ARGS:r 37@ARGS:q 37@ARGS:r 38@ARGS:q 0",
        "31@ARGS:four 32@TX:x 34@ARGS_NAMES:four 37@ARGS:four 38@ARGS:four 0",
        "36@REQUEST_HEADERS:X-A 0",
        "37@ARGS:q 0",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        const char *a = run(p, cfg, reqs[i], strlen(reqs[i]));
        const char *b = run(p, plain, reqs[i], strlen(reqs[i]));
        if (strcmp(a, b) != 0 || strcmp(a, want[i]) != 0)
            fail_msg("request %zu: with the index \"%s\", without \"%s\", expected \"%s\"", i,
                     a, b, want[i]);
    }
}

/* Rules on one target, one after the other, are walked as runs (pp_walk_ent_t.run): 70 rules
 * on ARGS:q make a run of 64 (a mask word) and one of 6. Each match the rules give one by one
 * is found, at the start, middle and end of a run, across the word's end, and when the walk
 * restarts inside a run after a match. */
static void test_walk_runs(void **state)
{
    apr_pool_t *p = *state;
    const char *text = "SecRuleEngine On\nSecDefaultAction \"phase:2,log,pass\"\n";
    for (int i = 100; i < 170; i++)
        text = apr_psprintf(p, "%sSecRule ARGS:q \"@rx a%d:\" \"id:%d,phase:2,pass\"\n", text,
                            i, i);
    text = apr_pstrcat(p, text, "SecRule ARGS:r \"@rx a170:\" \"id:170,phase:2,pass\"\n", NULL);
    pp_cfg_t *cfg = config(p, text), *plain = without_index(p, cfg);
    const pp_walk_ent_t *we = cfg->plan->index->walk[PP_PHASE_REQUEST_BODY];
    assert_int_equal(we[0].run, 64);
    assert_int_equal(we[1].run, 63);
    assert_int_equal(we[63].run, 1);
    assert_int_equal(we[64].run, 6);
    assert_int_equal(we[70].run, 1);
    const char *reqs[] = {
        "GET /?q=a100:a101:a163:a164:a169: HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?q=a130:&r=a170: HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?q=a17:a1000:&r=a130: HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /?q=a165: HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    const char *want[] = {
        "100@ARGS:q 101@ARGS:q 163@ARGS:q 164@ARGS:q 169@ARGS:q 0",
        "130@ARGS:q 170@ARGS:r 0",
        "0",
        "165@ARGS:q 0",
    };
    same_runs(p, cfg, plain, reqs, want, sizeof reqs / sizeof reqs[0]);
}

/* ---- CRS and the corpus ------------------------------------------------------------------ */

/* The family of the index targets of variable name (without selector). */
static const struct pp_index_family_t *family_of(const pp_rule_index_t *ix, const char *name)
{
    for (unsigned i = 0; i < ix->ntargets; i++) {
        const pp_target_t *root = ix->targets[i].target;
        while (root->prefix)
            root = root->prefix;
        if (strcmp(root->var->name, name) == 0 && !root->selector)
            return ix->targets[i].family;
    }
    return NULL;
}

/* Families built from the same members (the same rules through the same chains) share their
 * automaton's tables, each with its own words; the others have their own. */
static void test_same_families_share(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *cfg = config(p, "SecRuleEngine On\n"
                              "SecRule ARGS_NAMES|REQUEST_COOKIES_NAMES \"@rx union\" "
                              "\"id:1,phase:2,pass\"\n"
                              "SecRule ARGS_NAMES|REQUEST_COOKIES_NAMES \"@rx passwd\" "
                              "\"id:2,phase:2,pass,t:lowercase\"\n"
                              "SecRule ARGS_NAMES|REQUEST_COOKIES_NAMES|ARGS \"@rx select\" "
                              "\"id:3,phase:2,pass\"\n"
                              "SecRule ARGS \"@rx script\" \"id:4,phase:2,pass,t:lowercase\"\n");
    pp_cfg_t *plain = without_index(p, cfg);
    const pp_rule_index_t *ix = cfg->plan->index;
    assert_int_equal(ix->nfamilies, 3);
    const struct pp_index_family_t *names = family_of(ix, "ARGS_NAMES"),
                                   *cookies = family_of(ix, "REQUEST_COOKIES_NAMES"),
                                   *args = family_of(ix, "ARGS");
    assert_non_null(names);
    assert_non_null(cookies);
    assert_non_null(args);
    assert_ptr_not_equal(names, cookies);
    assert_ptr_equal(pp_rule_index_family_table(names), pp_rule_index_family_table(cookies));
    assert_ptr_not_equal(pp_rule_index_family_table(names), pp_rule_index_family_table(args));
    const char *req = "GET /?union=1&x=select HTTP/1.1\r\nHost: x\r\n"
                      "Cookie: PassWD=1; select=2\r\n\r\n";
    const char *a = run(p, cfg, req, strlen(req)), *b = run(p, plain, req, strlen(req));
    assert_string_equal(a, b);
    assert_string_equal(a, "1@ARGS_NAMES:union 2@REQUEST_COOKIES_NAMES:PassWD "
                           "3@REQUEST_COOKIES_NAMES:select 3@ARGS:x 0");
}

static const char *crs_config(apr_pool_t *p, int pl)
{
    if (access(CRS_SETUP, R_OK) != 0 || access(CRS_RULES, R_OK) != 0)
        fail_msg("%s or %s is missing: install modsecurity-crs (tools/deps.sh)", CRS_SETUP,
                 CRS_RULES);
    return apr_psprintf(
        p,
        "SecRuleEngine On\n"
        "SecRequestBodyAccess On\n"
        "SecRule REQUEST_HEADERS:Content-Type \"^(?:application(?:/soap\\+|/)|text/)xml\" "
        "\"id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML\"\n"
        "SecRule REQUEST_HEADERS:Content-Type \"^application/json\" "
        "\"id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n"
        "SecRequestBodyLimit 13107200\n"
        "SecRequestBodyNoFilesLimit 131072\n"
        "SecResponseBodyAccess On\n"
        "SecResponseBodyMimeType text/plain text/html text/xml\n"
        "SecResponseBodyLimit 524288\n"
        "SecResponseBodyLimitAction ProcessPartial\n"
        "Include %s\n"
        "SecAction \"id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=%d\"\n"
        "Include %s/*.conf\n",
        CRS_SETUP, pl, CRS_RULES);
}

/* The safety property on the values of a finished transaction: for every gated rule of the
 * request phases, each value of each of its gate's index targets (its targets, and for
 * multiMatch their prefix targets: every value the rule tests is one of them) that its
 * operator matches sets its bit (asked of that reference alone). Returns how many matching
 * values were checked. */
static unsigned per_value; /* targets whose values check_bits checked one by one */

static unsigned check_bits(pp_tx_t *tx, const pp_rule_plan_t *plan, int id)
{
    unsigned checked = 0;
    for (pp_phase_t ph = PP_PHASE_REQUEST_HEADERS; ph <= PP_PHASE_REQUEST_BODY; ph++)
        for (int s = 0; s < plan->nsteps[ph]; s++) {
            const pp_rule_gate_t *g = plan->steps[ph][s].gate;
            if (!g)
                continue;
            const pp_rule_t *r = APR_ARRAY_IDX(plan->rules, plan->steps[ph][s].first,
                                               const pp_rule_t *);
            unsigned levels = 0; /* the references a rule's targets need */
            for (unsigned ti = 0; ti < r->ntargets; ti++)
                for (const pp_target_t *x = r->targets[ti]; x;
                     x = r->multi_match ? x->prefix : NULL)
                    levels++;
            assert_int_equal(g->n, levels);
            for (unsigned ri = 0; ri < g->n; ri++) {
                const pp_target_t *t = plan->index->targets[g->refs[ri].target].target;
                const apr_array_header_t *vals = pp_eval_target_values(tx, t, ph);
                assert_non_null(vals);
                const pp_rule_gate_t one = { g->ordinal, 1, &g->refs[ri] };
                bool open = pp_rule_index_gate(tx, plan->index, &one, ph) == PP_GATE_OPEN;
                /* Exactly the rules one of whose literals a value holds: the index's matcher
                 * (a target's own automaton, or the one its family shares) decides as the
                 * per-value check does. */
                bool any = false;
                for (int i = 0; i < vals->nelts && !any; i++)
                    any = pp_rx_needs_met(r->op.needs, APR_ARRAY_IDX(vals, i, pp_value_t).value,
                                          NULL);
                if (any != open)
                    fail_msg("corpus request %d: rule %s on %s: the index says %s, the needs %s",
                             id, r->id, t->label, open ? "open" : "closed",
                             any ? "met" : "not met");
                /* Per value too, where the index keeps the answer (the loop then skips the
                 * values without one of the rule's literals; not for multiMatch, whose
                 * references are not one per target). */
                apr_size_t stride = 0;
                uint64_t bit = 0;
                const uint64_t *bits =
                    r->multi_match ? NULL
                                   : pp_rule_index_value_bits(tx, g, ri, vals, &stride, &bit);
                for (int i = 0; bits && i < vals->nelts; i++) {
                    bool met = pp_rx_needs_met(r->op.needs,
                                               APR_ARRAY_IDX(vals, i, pp_value_t).value, NULL);
                    if (met != ((bits[(apr_size_t)i * stride] & bit) != 0))
                        fail_msg("corpus request %d: rule %s on %s value %d: the index says %d, "
                                 "the needs %d", id, r->id, t->label, i, !met, met);
                }
                per_value += bits != NULL;
                for (int i = 0; i < vals->nelts && !open; i++) {
                    const pp_value_t *v = &APR_ARRAY_IDX(vals, i, pp_value_t);
                    bool m = false;
                    pp_op_out_t out = { .want_captures = false };
                    if (pp_rule_op_exec(tx, r, v->value, &m, &out) != APR_SUCCESS)
                        continue; /* a resource limit: only values with a literal get there */
                    if (m)
                        fail_msg("corpus request %d: rule %s matches %s \"%.*s\", its bit is "
                                 "clear", id, r->id, t->label, (int)v->value.len, v->value.data);
                }
                checked += open;
            }
        }
    return checked;
}

static void test_crs_corpus(void **state)
{
    apr_pool_t *p = *state;
    pp_cfg_t *cfg = config(p, crs_config(p, 4)), *plain = without_index(p, cfg);
    const pp_rule_index_t *ix = cfg->plan->index;
    assert_non_null(ix);
    assert_true(ix->ngated > 100);
    /* The index targets of one variable share an automaton: ARGS's ~15 chains, one family. */
    assert_true(ix->nfamilies >= 10);
    const void *args_family = NULL;
    unsigned args_targets = 0;
    for (unsigned i = 0; i < ix->ntargets; i++) {
        const pp_target_t *root = ix->targets[i].target;
        while (root->prefix)
            root = root->prefix;
        if (strcmp(root->var->name, "ARGS") != 0 || root->selector)
            continue;
        assert_non_null(ix->targets[i].family);
        assert_null(ix->targets[i].acs);
        if (args_family)
            assert_ptr_equal(ix->targets[i].family, args_family);
        args_family = ix->targets[i].family;
        args_targets++;
    }
    assert_true(args_targets >= 10);
    unsigned gated_pm = 0; /* the phrase lists are among them, and checked below */
    for (int ph = 0; ph < PP_PLAN_PHASES; ph++)
        for (int s = 0; s < cfg->plan->nsteps[ph]; s++)
            gated_pm += cfg->plan->steps[ph][s].gate &&
                        strncmp(APR_ARRAY_IDX(cfg->plan->rules, cfg->plan->steps[ph][s].first,
                                              const pp_rule_t *)->op.def->name, "pm", 2) == 0;
    assert_true(gated_pm >= 12);
    FILE *f = fopen(CORPUS, "r");
    if (!f)
        fail_msg("%s: cannot open (run from the repository's top)", CORPUS);
    char *line = NULL;
    size_t cap = 0;
    unsigned n = 0, open = 0;
    while (getline(&line, &cap, f) > 0) {
        json_object *row = json_tokener_parse(line);
        assert_non_null(row);
        json_object *jraw = NULL, *jid = NULL;
        assert_true(json_object_object_get_ex(row, "raw", &jraw));
        json_object_object_get_ex(row, "id", &jid);
        int id = jid ? json_object_get_int(jid) : -1;
        /* The corpus keeps bytes as latin-1 code points: back to bytes. */
        const char *u = json_object_get_string(jraw);
        size_t ulen = (size_t)json_object_get_string_len(jraw), len = 0;
        char *raw = apr_palloc(p, ulen + 1);
        for (size_t i = 0; i < ulen; i++) {
            unsigned char c = (unsigned char)u[i];
            if (c >= 0xc0 && i + 1 < ulen)
                raw[len++] = (char)(((c & 0x1f) << 6) | ((unsigned char)u[++i] & 0x3f));
            else
                raw[len++] = (char)c;
        }
        json_object_put(row);
        const char *a = run(p, cfg, raw, len), *b = run(p, plain, raw, len);
        if (strcmp(a, b) != 0)
            fail_msg("corpus request %d: with the index \"%s\", without \"%s\"", id, a, b);
        /* The property itself, on the values of a transaction through the request phases. */
        apr_pool_t *rp;
        apr_pool_create(&rp, p);
        pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
        pp_test_feed_request(tx, raw, len, 0);
        open += check_bits(tx, cfg->plan, id);
        apr_pool_destroy(rp);
        n++;
    }
    free(line);
    fclose(f);
    assert_true(n >= 5000);
    assert_true(open > 0); /* attacks do open gates */
    assert_true(per_value > 1000);
}

int main(void)
{
    apr_app_initialize(NULL, NULL, NULL);
    apr_pool_create(&root, NULL);
    pp_engine_init(root);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_union_of_vectors, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_automaton_equals_union, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_which_rules_are_gated, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_same_matches_as_without, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_pm_gated, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_multimatch_gated_by_every_level, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_walk_stops_and_rereads, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_walk_runs, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_same_families_share, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_crs_corpus, pp_test_pool_setup,
                                        pp_test_pool_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
