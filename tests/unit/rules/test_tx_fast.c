/*
 * The TX fast paths, held to the general ones they stand in for:
 *  - a rule whose targets are all TX:key or &TX:key (no transformation, no exclusion) reads
 *    the keys straight from TX (rules/eval.c tx_key_value) instead of collecting value arrays;
 *  - setvar:tx.key with a literal name uses a key folded at start-up, stores a literal value
 *    without a copy and adds a literal delta as a number (lang/actions2/setvar.c);
 *  - %{tx.key} reads the entry without pp_var_get (lang/macro.c);
 *  - a number comparison (@eq @gt @ge @lt @le) of such a rule that does not match only counts
 *    the operator run (rules/eval.c num_compare);
 *  - such a rule alone (no chain) is decided by the phase loop itself (rules/eval.c
 *    run_tx_step) unless a ctl: override changes how it runs (removed, a target removed, the
 *    engine off, a debug level that logs every rule): the sets hold such ctl: actions too.
 * Random rule sets over a few keys (spelt in several cases) and awkward values (signs, blanks,
 * overflow, text) run twice from the same TX: once as written, once rewritten so that every
 * rule and setvar takes the general path (an exclusion of a key never set, a name with an empty
 * macro in it). TX afterwards, the matches, MATCHED_VAR as each rule saw it and the count of
 * operator runs must be equal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "rules/variables/collection.h"
#include "tx.h"

#include "pp_random.h"

static apr_pool_t *pool;

static const char *const keys[] = { "a", "A", "Score", "score", "pl", "missing" };
static const char *const values[] = { "0",  "1",   "5",          "-3",          " 7", "+2",
                                      "abc", "", "2147483647", "99999999999", "1x", "--3" };
#define NKEYS (sizeof keys / sizeof *keys)
#define NVALUES (sizeof values / sizeof *values)

static uint64_t seed = 11;
static unsigned rnd(unsigned n)
{
    return (unsigned)(pp_test_rnd(&seed) % n);
}

/* A setvar action; general: its name made to go the general way. */
static const char *setvar(unsigned id, bool general)
{
    const char *k = keys[rnd(NKEYS - 1)], *k2 = keys[rnd(NKEYS)];
    const char *name = general ? apr_psprintf(pool, "tx.%%{tx.zz_never}%s", k)
                               : apr_psprintf(pool, "tx.%s", k);
    switch (rnd(8)) {
    case 0: return apr_psprintf(pool, "setvar:'%s=+%d'", name, (int)rnd(7) - 3);
    case 1: return apr_psprintf(pool, "setvar:'%s=-%%{tx.%s}'", name, k2);
    case 2: return apr_psprintf(pool, "setvar:'%s=+%%{tx.%s}'", name, k2);
    case 3: return apr_psprintf(pool, "setvar:'%s=%%{tx.%s}'", name, k2);
    case 4: return apr_psprintf(pool, "setvar:'%s=v%u'", name, id);
    case 5: return apr_psprintf(pool, "setvar:'!%s'", name);
    case 6: return apr_psprintf(pool, "setvar:'%s=x%%{tx.%s}y'", name, k2);
    default: return apr_psprintf(pool, "setvar:'%s=%s'", name, values[rnd(NVALUES)]);
    }
}

/* One link's variable and operator. */
static const char *link_text(bool general)
{
    const char *k = keys[rnd(NKEYS)];
    const char *target = apr_psprintf(pool, "%sTX:%s", rnd(3) == 0 ? "&" : "", k);
    if (rnd(3) == 0) /* two keys (CRS: &TX:x|TX:x) */
        target = apr_psprintf(pool, "%s|%sTX:%s", target, rnd(2) ? "&" : "", keys[rnd(NKEYS)]);
    if (general)
        target = apr_psprintf(pool, "%s|!TX:zz_never", target);
    static const char *const ops[] = {
        "@eq 0", "@eq 1", "@ge 1", "@gt 2", "@le 5", "@lt 2", "@lt abc", "!@eq 0",
        "@streq 5", "@rx ^[0-9]", "@ge %{tx.score}", "@lt %{tx.pl}", "@within 1 5 abc",
    };
    return apr_psprintf(pool, "%s \"%s\"", target, ops[rnd(sizeof ops / sizeof *ops)]);
}

/* Two versions of one random rule set: [0] as written, [1] with every TX read and setvar made
 * general. The same random draws make both. */
static apr_array_header_t *rule_set(bool general, uint64_t s)
{
    seed = s;
    apr_array_header_t *rules = apr_array_make(pool, 16, sizeof(const char *));
    unsigned n = 4 + rnd(12), id = 100;
    for (unsigned i = 0; i < n; i++, id++) {
        const char *trace = apr_psprintf(pool, "setvar:'tx.mv_%u=%%{matched_var_name}/"
                                               "%%{matched_var}'", id);
        APR_ARRAY_PUSH(rules, const char *) = apr_psprintf(pool, "SecMarker M%u", i);
        if (rnd(6) == 0) { /* a gate to a marker further down, or a skip */
            APR_ARRAY_PUSH(rules, const char *) = apr_psprintf(
                pool, "SecRule %s \"id:%u,phase:1,pass,nolog,%s\"", link_text(general), id,
                rnd(3) ? apr_psprintf(pool, "skipAfter:M%u", i + 2) : "skip:1");
            continue;
        }
        if (rnd(8) == 0) { /* ctl: overrides, which the one-rule TX step must see (or not) */
            static const char *const ctls[] = {
                "ctl:forceRequestBodyVariable=On", /* leaves the rules as they are */
                "ctl:ruleRemoveById=%u",           /* removes a rule further down */
                "ctl:ruleRemoveTargetById=%u;TX:a", "ctl:ruleRemoveTargetById=%u;TX:score",
                "ctl:debugLogLevel=4",             /* logs every rule */
                "ctl:ruleEngine=Off",
            };
            const char *ctl = apr_psprintf(pool, ctls[rnd(sizeof ctls / sizeof *ctls)],
                                           id + 1 + rnd(4));
            APR_ARRAY_PUSH(rules, const char *) = apr_psprintf(
                pool, "SecRule %s \"id:%u,phase:1,pass,nolog,%s\"", link_text(general), id, ctl);
            continue;
        }
        bool chain = rnd(4) == 0;
        APR_ARRAY_PUSH(rules, const char *) = apr_psprintf(
            pool, "SecRule %s \"id:%u,phase:1,pass,log,%s%s,%s\"", link_text(general), id, trace,
            chain ? ",chain" : "", setvar(id, general));
        if (chain)
            APR_ARRAY_PUSH(rules, const char *) = apr_psprintf(
                pool, "SecRule %s \"%s,%s\"", link_text(general), setvar(id, general),
                apr_psprintf(pool, "setvar:'tx.mw_%u=%%{matched_var}'", id));
    }
    for (unsigned i = n; i < n + 3; i++)
        APR_ARRAY_PUSH(rules, const char *) = apr_psprintf(pool, "SecMarker M%u", i);
    return rules;
}

static pp_cfg_t *config(const apr_array_header_t *rules)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    pp_cfg_site_t site = { 0 };
    assert_null(pp_cfg_apply(cfg, pp_directive_find("SecRuleEngine"), "On", &site, pool, pool));
    for (int i = 0; i < rules->nelts; i++) {
        const char *line = APR_ARRAY_IDX(rules, i, const char *);
        const char *sp = strchr(line, ' ');
        const char *name = apr_pstrmemdup(pool, line, (apr_size_t)(sp - line));
        const char *err = pp_cfg_apply(cfg, pp_directive_find(name), sp + 1, &site, pool, pool);
        if (err)
            fail_msg("%s: %s", line, err);
    }
    assert_null(pp_cfg_finish(cfg, pool, pool));
    return cfg;
}

/* Runs phase 1 from the TX state given as key/value index pairs; TX afterwards and the ids
 * that matched, as one string. */
static const char *run(const pp_cfg_t *cfg, const unsigned *state, unsigned nstate)
{
    apr_pool_t *rp;
    apr_pool_create(&rp, pool);
    pp_tx_t *tx = pp_tx_create(cfg, rp, "t");
    pp_tx_set_request_line(tx, PP_STR("GET /x?y=1 HTTP/1.1"));
    for (unsigned i = 0; i < nstate; i++)
        pp_coll_set(pp_tx_collection(tx), pp_str_from_cstr(keys[state[2 * i]]),
                    pp_str_from_cstr(values[state[2 * i + 1]]));
    pp_tx_finish_request_headers(tx);
    const char *out = "";
    int pos = 0;
    for (const pp_coll_entry_t *e; tx->coll_tx && (e = pp_coll_next(tx->coll_tx, &pos));)
        out = apr_psprintf(pool, "%s%.*s=%.*s;", out, (int)e->name.len, e->name.data,
                           (int)e->value.len, e->value.data);
    const apr_array_header_t *m = pp_tx_verdict(tx)->matches;
    for (int i = 0; i < m->nelts; i++) /* each match's id and its message as logged */
        out = apr_psprintf(pool, "%s #%s %s", out, APR_ARRAY_IDX(m, i, pp_match_t *)->id,
                           pp_match_text(APR_ARRAY_IDX(m, i, pp_match_t *)));
    /* The operator runs the budget counts (a number comparison that does not match is
     * counted without running the operator, rules/eval.c num_compare). */
    out = apr_psprintf(pool, "%s runs=%u", out, (unsigned)tx->budget.op_runs);
    apr_pool_destroy(rp);
    return out;
}

static void test_fast_paths_equal_general(void **state)
{
    unsigned differ = 0, fast_rules = 0, tx_steps = 0;
    for (uint64_t set = 1; set <= 300; set++) {
        const apr_array_header_t *f = rule_set(false, set * 7919), *g = rule_set(true, set * 7919);
        pp_cfg_t *cf = config(f), *cg = config(g);
        /* The rewritten set really goes the general way, the other the fast one. */
        for (int i = 0; i < cf->rules->nelts; i++) {
            const pp_rule_t *rf = APR_ARRAY_IDX(cf->rules, i, const pp_rule_t *);
            const pp_rule_t *rg = APR_ARRAY_IDX(cg->rules, i, const pp_rule_t *);
            for (const pp_rule_t *c = rf; c; c = c->chain_next) {
                if (c->ntargets >= 1 && c->targets[0]->tx_key && !c->nexclusions)
                    fast_rules++;
                tx_steps += c->tx_step;
            }
            for (const pp_rule_t *c = rg; c; c = c->chain_next) {
                assert_true(c->marker || c->nexclusions);
                assert_false(c->tx_keys_only || c->tx_step);
            }
        }
        for (unsigned run_no = 0; run_no < 8; run_no++) {
            unsigned st[2 * 6], n = rnd(6);
            for (unsigned i = 0; i < n; i++) {
                st[2 * i] = rnd(NKEYS);
                st[2 * i + 1] = rnd(NVALUES);
            }
            const char *a = run(cf, st, n), *b = run(cg, st, n);
            if (strcmp(a, b) != 0) {
                differ++;
                for (int i = 0; i < f->nelts; i++)
                    print_message("  %s\n", APR_ARRAY_IDX(f, i, const char *));
                fail_msg("rule set %u, run %u:\n fast    %s\n general %s", (unsigned)set, run_no,
                         a, b);
            }
        }
    }
    assert_int_equal(differ, 0);
    assert_true(fast_rules > 1000); /* the fast path was taken, many times */
    assert_true(tx_steps > 300);    /* and the one-rule TX step (rules/eval.c run_tx_step) */
    print_message("fast rules %u, TX steps %u\n", fast_rules, tx_steps);
}

/* %{tx.key} (lang/macro.c's direct read) gives what pp_var_get gives for TX, key in any case,
 * alone and within text. */
static void test_macro_tx_key(void **state)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    pp_tx_t *tx = pp_tx_create(cfg, pool, "t");
    const pp_var_def_t *txrow = pp_var_find("TX");
    assert_non_null(txrow);
    seed = 5;
    for (int op = 0; op < 2000; op++) {
        const char *k = keys[rnd(NKEYS)];
        if (rnd(4) == 0)
            pp_coll_unset(pp_tx_collection(tx), pp_str_from_cstr(k));
        else
            pp_coll_set(pp_tx_collection(tx), pp_str_from_cstr(k),
                        pp_str_from_cstr(values[rnd(NVALUES)]));
        const char *q = keys[rnd(NKEYS)];
        pp_str_t want = PP_STR("");
        if (!pp_var_get(tx, txrow, q, &want))
            want = PP_STR("");
        pp_str_t got = pp_macro_expand(tx, pp_macro_compile(pool, apr_psprintf(pool, "%%{TX.%s}", q)));
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, want.len);
        assert_int_equal(got.data[got.len], '\0');
        pp_str_t in = pp_macro_expand(tx, pp_macro_compile(pool, apr_psprintf(pool, "<%%{tx.%s}>", q)));
        assert_string_equal(in.data, apr_psprintf(pool, "<%.*s>", (int)want.len, want.data));
    }
}

/* The prepared-key functions do what the plain ones do, spelling and stamps included. */
static void test_coll_key_functions(void **state)
{
    pp_coll_t *a = pp_coll_create(pool, "TX"), *b = pp_coll_create(pool, "TX");
    seed = 3;
    for (int op = 0; op < 5000; op++) {
        const char *k = keys[rnd(NKEYS)];
        const pp_coll_key_t *pk = pp_coll_key_make(pool, pp_str_from_cstr(k));
        pp_str_t v = pp_str_from_cstr(values[rnd(NVALUES)]);
        switch (rnd(3)) {
        case 0:
            pp_coll_set(a, pp_str_from_cstr(k), v);
            pp_coll_set_key(b, pk, v, rnd(2) == 0);
            break;
        case 1:
            assert_int_equal(pp_coll_add(a, pp_str_from_cstr(k), v),
                             pp_coll_add_key(b, pk, pp_coll_atoi(v)));
            break;
        default:
            assert_int_equal(pp_coll_unset(a, pp_str_from_cstr(k)), pp_coll_unset_key(b, pk));
        }
        assert_int_equal(pp_coll_clock(a), pp_coll_clock(b));
        assert_int_equal(pp_coll_added(a), pp_coll_added(b));
        assert_int_equal(pp_coll_count(a), pp_coll_count(b));
        int pa = 0, pb = 0;
        const pp_coll_entry_t *ea, *eb;
        while ((ea = pp_coll_next(a, &pa))) {
            eb = pp_coll_next(b, &pb);
            assert_non_null(eb);
            assert_int_equal(ea->name.len, eb->name.len);
            assert_memory_equal(ea->name.data, eb->name.data, ea->name.len);
            assert_int_equal(ea->value.len, eb->value.len);
            assert_memory_equal(ea->value.data, eb->value.data, ea->value.len);
            assert_int_equal(ea->stamp, eb->stamp);
            assert_ptr_equal(pp_coll_get_key(b, pp_coll_key_make(pool, ea->name)), eb);
        }
        assert_null(pp_coll_next(b, &pb));
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    assert_null(pp_engine_init(pool));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_paths_equal_general),
        cmocka_unit_test(test_macro_tx_key),
        cmocka_unit_test(test_coll_key_functions),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
