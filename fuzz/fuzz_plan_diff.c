/*
 * Differential libFuzzer target for the phase loop (rules/eval.c, plan.c, group.c, target.c,
 * util/rx_literals.c). docs/architecture.md promises that the planned, grouped evaluation gives
 * the verdict the rules give one by one; this checks it on random rule lists and requests.
 *
 * The input is read as a sequence of choices (every byte string is a valid input). It picks a
 * parent context of up to 24 1.9 rules (SecFilter / SecFilterSelective over a small alphabet of
 * locations, patterns, negation and action lists with chain, pass, deny, allow, status,
 * skipnext, mandatory; SecFilterDefaultAction and SecFilterSignatureAction in between), an
 * optional child context (SecFilterRemove, SecFilterInheritance Off with SecFilterImport, rules
 * of its own, in the parent's pool or a pool of its own as .htaccess has), a request (GET or
 * urlencoded POST; query, headers, cookies and body from a small alphabet of tokens) and a
 * response for the OUTPUT / OUTPUT_STATUS rules (outbound phase).
 *
 * The engine evaluates the request as the adapter would (pp_tx_*). Then a naive loop written
 * here evaluates the same rule list on the same parsed request one rule at a time: it collects
 * every target afresh through the variable table, normalises it, runs every operator on every
 * value (no plan, no groups, no literal prefilter, no cache), and follows 1.9's flow (reference
 * §8.2, §8.4: a chain fires when every member matches, with its last member's actions; skipnext
 * counts rules, chained ones individually, and a chain any of whose members is skipped does not
 * run). The two must agree on intercepted, status and the ids of the matched rules, in order.
 */
#include <apr_general.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "fuzz.h"
#include "rules/transforms/transforms.h"
#include "tx.h"

#define MAX_RULES 24
#define MAX_CHILD_RULES 6

static apr_pool_t *root, *scratch;

typedef struct input_t {
    const uint8_t *d;
    size_t n, i;
} input_t;

/* The next choice among n (0 when the input is used up). */
static unsigned pick(input_t *in, unsigned n)
{
    return in->i < in->n ? in->d[in->i++] % n : 0;
}

#define PICK(in, arr) (arr)[pick(in, sizeof(arr) / sizeof((arr)[0]))]

/* ---- rule lists ------------------------------------------------------------------------ */

static const char *const locations[] = {
    "ARGS",          "ARG_a",          "ARG_b",           "ARGS_NAMES",
    "ARGS_VALUES",   "QUERY_STRING",   "REQUEST_URI",     "REQUEST_METHOD",
    "HTTP_X",        "HEADER_Y",       "HEADERS",         "HEADERS_VALUES",
    "COOKIE_c",      "COOKIES_VALUES", "COOKIES_NAMES",   "POST_PAYLOAD",
    "THE_REQUEST",   "ARGS|!ARG_a",    "ARGS_VALUES|!ARG_b", "ARG_a|ARG_b",
    "REQUEST_URI|ARGS", "HEADERS_VALUES|!HEADER_X", "ARGS_COUNT", "REQUEST_BASENAME",
    "COOKIES_VALUES|!COOKIE_d", "ARGS_NAMES|ARG_b",
};
/* Outbound locations: no chain or skipnext may touch these rules (reference §7). */
static const char *const out_locations[] = { "OUTPUT", "OUTPUT_STATUS" };

/* Patterns with and without literals (literal groups and alternation groups), patterns a group
 * cannot join (inline options, back references), anchors, classes and decoded forms. */
static const char *const patterns[] = {
    "a",        "ab",       "^a",        "b$",       "[ab]c",     "\\d",     "a|b",
    "(a|b)c",   "sel.ct",   "select",    "x+z",      "^$",        "\\.\\./", "(?i)AB",
    "(a)\\1",   "[xy][z]",  "A",         "c.*c",     "^[^a]*$",   "ab|^$",   ".",
    "a{2}",     " ",        "\\+",       "%41",      "union.+select", "[0-9]+", "bc|ca",
    "^/a",      "x",        "(?:ab)+",   "b(?=c)",   "[^/]$",     "/b",
};

static const char *const action_lists[] = {
    NULL,          "pass",          "deny",             "allow",
    "deny,status:401", "pass,skipnext:1", "pass,skipnext:2", "chain",
    "chain",       "nolog,pass",    "status:406",       "log,pass,skipnext:3",
    "deny,chain",  "pass,mandatory", "redirect:http://127.0.0.1/r", "pass,nolog,chain",
};

static const char *const default_actions[] = {
    "\"deny,log,status:403\"", "\"pass,log\"", "\"deny,nolog,status:500\"", "\"allow\"",
};

static const char *apply(pp_cfg_t *cfg, apr_pool_t *cp, const char *directive, const char *args)
{
    pp_cfg_site_t site = { 0 };
    site.file = "fuzz.conf";
    site.checking_only = true;
    return pp_cfg_apply(cfg, pp_directive_find(directive), args, &site, cp, scratch);
}

/* One rule line; ids are unique (1.., 101.. in the child) so matches can be told apart.
 * *chained says whether the previous rule left a chain open (then no OUTPUT rule may follow). */
static const char *rule(input_t *in, pp_cfg_t *cfg, apr_pool_t *cp, int id, bool *chained)
{
    const char *pat = PICK(in, patterns);
    const char *neg = pick(in, 5) == 0 ? "!" : "";
    const char *acts = PICK(in, action_lists);
    bool output = !*chained && pick(in, 6) == 0;
    if (output && acts && (strstr(acts, "chain") || strstr(acts, "skipnext")))
        acts = "pass";
    *chained = acts && strstr(acts, "chain");
    const char *list = acts ? apr_psprintf(scratch, "\"%s,id:%d\"", acts, id)
                            : apr_psprintf(scratch, "\"id:%d\"", id);
    const char *loc = output ? PICK(in, out_locations) : PICK(in, locations);
    if (!output && pick(in, 8) == 0)
        return apply(cfg, cp, "SecFilter", apr_psprintf(scratch, "\"%s%s\" %s", neg, pat, list));
    return apply(cfg, cp, "SecFilterSelective",
                 apr_psprintf(scratch, "\"%s\" \"%s%s\" %s", loc, neg, pat, list));
}

/* Builds the parent (and child) configuration; NULL when a line is refused (the input is then
 * of no interest: a chain left open, say). */
static const pp_cfg_t *configure(input_t *in, apr_pool_t *pp)
{
    pp_cfg_t *parent = pp_cfg_create(pp);
    if (apply(parent, pp, "SecFilterEngine", "On") || apply(parent, pp, "SecFilterScanPOST", "On") ||
        apply(parent, pp, "SecFilterScanOutput", "On") ||
        apply(parent, pp, "SecFilterOutputMimeTypes", "text/html"))
        return NULL;
    if (pick(in, 4) == 0 && apply(parent, pp, "SecFilterNormalizeCookies", "On"))
        return NULL;
    int n = (int)pick(in, MAX_RULES + 1);
    bool chained = false;
    for (int i = 0; i < n; i++) {
        unsigned extra = pick(in, 16);
        const char *err = NULL;
        if (extra == 0)
            err = apply(parent, pp, "SecFilterDefaultAction", PICK(in, default_actions));
        else if (extra == 1)
            err = apply(parent, pp, "SecFilterSignatureAction", "\"log,pass\"");
        if (err || rule(in, parent, pp, i + 1, &chained))
            return NULL;
    }
    if (pp_cfg_finish(parent, pp, scratch))
        return NULL;
    if (pick(in, 3) == 0)
        return parent;

    apr_pool_t *cp = pp;
    if (pick(in, 2))
        apr_pool_create(&cp, pp); /* .htaccess: rules parsed into a pool of their own */
    pp_cfg_t *child = pp_cfg_create(cp);
    if (pick(in, 4) == 0) {
        if (apply(child, cp, "SecFilterInheritance", "Off") ||
            apply(child, cp, "SecFilterImport",
                  apr_psprintf(scratch, "%u %u", pick(in, 30) + 1, pick(in, 30) + 1)))
            return NULL;
    }
    for (unsigned k = pick(in, 4); k > 0; k--)
        if (apply(child, cp, "SecFilterRemove", apr_psprintf(scratch, "%u", pick(in, 30) + 1)))
            return NULL;
    chained = false;
    for (int k = (int)pick(in, MAX_CHILD_RULES + 1), id = 101; k > 0; k--, id++)
        if (rule(in, child, cp, id, &chained))
            return NULL;
    if (pp_cfg_finish(child, cp, scratch))
        return NULL;
    return pp_cfg_merge(pp, parent, child);
}

/* ---- requests -------------------------------------------------------------------------- */

static const char *const tokens[] = {
    "a",   "b",   "c",  "ab", "A",   "x",      "z",   "select", "sel%20ect", "..%2f",
    "../", "1",   "%41", "%2e", "+", "<",      "%00", "ac",     "bc",        "union+all+select",
    "/",   "%2F", "xz", "ca", "AB",  "%5c", "aa",
};
static const char *const names[] = { "a", "b", "c", "ab", "x", "d" };

static const char *value(input_t *in)
{
    const char *v = "";
    for (unsigned k = pick(in, 4); k > 0; k--)
        v = apr_pstrcat(scratch, v, PICK(in, tokens), NULL);
    return v;
}

static const char *pairs(input_t *in, const char *sep)
{
    const char *s = "";
    for (unsigned k = pick(in, 4); k > 0; k--)
        s = apr_pstrcat(scratch, s, *s ? sep : "", PICK(in, names), "=", value(in), NULL);
    return s;
}

typedef struct request_t {
    const char *line, *x, *y, *cookie, *body;
    int status;             /* of the response */
    const char *response;   /* its body */
} request_t;

static void make_request(input_t *in, request_t *rq)
{
    static const char *const paths[] = { "/", "/a", "/x/../b", "/%41b", "/a/b.c", "/b//c" };
    bool post = pick(in, 2);
    const char *query = pairs(in, "&");
    rq->line = apr_psprintf(scratch, "%s %s%s%s HTTP/1.1", post ? "POST" : "GET", PICK(in, paths),
                            *query ? "?" : "", query);
    rq->x = pick(in, 3) ? value(in) : NULL;
    rq->y = pick(in, 3) ? value(in) : NULL;
    rq->cookie = pick(in, 2) ? pairs(in, "; ") : NULL;
    rq->body = post ? pairs(in, "&") : NULL;
    static const int statuses[] = { 200, 404, 500, 302 };
    rq->status = PICK(in, statuses);
    rq->response = apr_pstrcat(scratch, value(in), " ", value(in), NULL);
}

static pp_tx_t *run_engine(const pp_cfg_t *cfg, apr_pool_t *p, const request_t *rq)
{
    pp_tx_t *tx = pp_tx_create(cfg, p, "diff");
    pp_conn_info_t ci = { .client_ip = "127.0.0.1", .server_ip = "127.0.0.1", .server_port = 80 };
    pp_tx_set_conn(tx, &ci);
    pp_tx_set_request_line(tx, pp_str_from_cstr(rq->line));
    pp_tx_add_request_header(tx, PP_STR("Host"), PP_STR("localhost"));
    if (rq->x)
        pp_tx_add_request_header(tx, PP_STR("X"), pp_str_from_cstr(rq->x));
    if (rq->y)
        pp_tx_add_request_header(tx, PP_STR("Y"), pp_str_from_cstr(rq->y));
    if (rq->cookie)
        pp_tx_add_request_header(tx, PP_STR("Cookie"), pp_str_from_cstr(rq->cookie));
    if (rq->body)
        pp_tx_add_request_header(tx, PP_STR("Content-Type"),
                                 PP_STR("application/x-www-form-urlencoded"));
    pp_tx_finish_request_headers(tx);
    if (rq->body && pp_tx_wants_request_body(tx))
        pp_tx_feed_request_body(tx, rq->body, strlen(rq->body));
    pp_tx_finish_request_body(tx);
    if (pp_tx_verdict(tx)->intercepted)
        return tx;
    pp_tx_set_response_status(tx, rq->status, NULL);
    pp_tx_add_response_header(tx, PP_STR("Content-Type"), PP_STR("text/html"));
    pp_tx_finish_response_headers(tx);
    if (pp_tx_wants_response_body(tx, "text/html"))
        pp_tx_feed_response_body(tx, rq->response, strlen(rq->response));
    pp_tx_finish_response_body(tx);
    return tx;
}

/* ---- the naive evaluator --------------------------------------------------------------- */

typedef struct outcome_t {
    bool intercepted;
    int status;
    const char *ids; /* matched rule ids in order, space-separated */
} outcome_t;

/* The target's values, collected afresh and transformed by the whole chain (for 1.9, the
 * normaliser of reference §5.1). */
static apr_array_header_t *values_of(pp_tx_t *tx, const pp_target_t *t)
{
    apr_array_header_t *vals = apr_array_make(scratch, 2, sizeof(pp_value_t));
    CHECK(t->var->collect(tx, t, vals) == APR_SUCCESS);
    if (vals->nelts == 0 && t->missing_as_empty)
        *(pp_value_t *)apr_array_push(vals) = (pp_value_t){ PP_STR(""), PP_STR_NULL };
    for (int i = 0; i < vals->nelts; i++) {
        pp_value_t *v = &APR_ARRAY_IDX(vals, i, pp_value_t);
        pp_chain_apply(tx, scratch, t->chain, v->value, &v->value); /* whole chain, no cache */
    }
    return vals;
}

static bool excluded(const pp_rule_t *r, const pp_target_t *t, pp_str_t name)
{
    for (unsigned i = 0; i < r->nexclusions && t->var->family && name.data; i++) {
        const pp_exclusion_t *e = &r->exclusions[i];
        if (strcmp(e->family, t->var->family) == 0 && name.len == strlen(e->name) &&
            (e->icase ? strncasecmp(name.data, e->name, name.len)
                      : memcmp(name.data, e->name, name.len)) == 0)
            return true;
    }
    return false;
}

static bool naive_matches(pp_tx_t *tx, const pp_rule_t *r)
{
    for (unsigned ti = 0; ti < r->ntargets; ti++) {
        const apr_array_header_t *vals = values_of(tx, r->targets[ti]);
        for (int i = 0; i < vals->nelts; i++) {
            const pp_value_t *v = &APR_ARRAY_IDX(vals, i, pp_value_t);
            if (excluded(r, r->targets[ti], v->name))
                continue;
            bool m = false;
            pp_op_out_t out = { .want_captures = false };
            if (r->op.def->exec(tx, r->op.compiled, v->value, &m, &out) != APR_SUCCESS)
                return pp_cfg_int(tx->cfg->regex_limit_fail_open, 0) != 1;
            if (m != r->op.negated)
                return true;
        }
    }
    return false;
}

static const pp_actionset_t *actions_of(const pp_cfg_t *cfg, const pp_rule_t *r)
{
    if (r->effective)
        return r->effective;
    const pp_actionset_t *dflt = pp_cfg_default_action(cfg);
    if (!r->own)
        return dflt;
    return pp_actionset_merge(scratch, pp_actionset_merge(scratch, dflt, r->signature), r->own);
}

/* One phase, rule by rule, recording into o. */
static void naive_phase(pp_tx_t *tx, const pp_cfg_t *cfg, pp_phase_t phase, outcome_t *o)
{
    const apr_array_header_t *all = cfg->effective_rules;
    apr_array_header_t *rules = apr_array_make(scratch, all->nelts + 1, sizeof(pp_rule_t *));
    for (int i = 0; i < all->nelts; i++)
        if (APR_ARRAY_IDX(all, i, pp_rule_t *)->phase == phase)
            APR_ARRAY_PUSH(rules, pp_rule_t *) = APR_ARRAY_IDX(all, i, pp_rule_t *);
    int skip = 0;
    for (int i = 0; i < rules->nelts;) {
        const pp_rule_t *r = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
        int len = 1; /* the chain's members follow its first rule */
        while (i + len < rules->nelts && APR_ARRAY_IDX(rules, i + len, pp_rule_t *)->chain_member)
            len++;
        if (r->chain_member || skip > 0) {
            skip = skip > len ? skip - len : 0;
            i += len;
            continue;
        }
        bool matched = true;
        for (int k = 0; k < len && matched; k++) {
            const pp_rule_t *c = APR_ARRAY_IDX(rules, i + k, const pp_rule_t *);
            CHECK(k == 0 || APR_ARRAY_IDX(rules, i + k - 1, pp_rule_t *)->chain_next == c);
            matched = naive_matches(tx, c);
        }
        const pp_rule_t *last = APR_ARRAY_IDX(rules, i + len - 1, const pp_rule_t *);
        i += len;
        if (!matched)
            continue;
        const pp_actionset_t *as = actions_of(cfg, last);
        o->ids = apr_pstrcat(scratch, o->ids, " ", as->id ? as->id : "-", NULL);
        if (as->disruptive == PP_ACTION_DENY || as->disruptive == PP_ACTION_REDIRECT ||
            as->disruptive == PP_ACTION_PROXY) {
            o->intercepted = true;
            o->status = as->disruptive == PP_ACTION_REDIRECT ? 302
                        : as->status != PP_TRI_UNSET       ? as->status
                                                            : 403;
            return;
        }
        if (as->disruptive == PP_ACTION_ALLOW) /* ends this phase; OUTPUT rules still run */
            return;
        if (last->own && last->own->skipnext)
            skip = last->own->skipnext;
    }
}

static outcome_t naive(pp_tx_t *tx, const pp_cfg_t *cfg)
{
    outcome_t o = { false, 0, "" };
    naive_phase(tx, cfg, PP_PHASE_REQUEST_BODY, &o);
    if (!o.intercepted)
        naive_phase(tx, cfg, PP_PHASE_RESPONSE_BODY, &o);
    return o;
}

static outcome_t engine_outcome(const pp_tx_t *tx)
{
    const pp_verdict_t *v = pp_tx_verdict(tx);
    outcome_t o = { v->intercepted, v->intercepted ? v->status : 0, "" };
    for (int i = 0; i < v->matches->nelts; i++) {
        const pp_match_t *m = APR_ARRAY_IDX(v->matches, i, const pp_match_t *);
        o.ids = apr_pstrcat(scratch, o.ids, " ", m->id ? m->id : "-", NULL);
    }
    return o;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_pools_init(&root, &scratch);
    CHECK(pp_engine_init(root) == NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input_t in = { data, size, 0 };
    apr_pool_t *p;
    apr_pool_create(&p, root);
    const pp_cfg_t *cfg = configure(&in, p);
    if (cfg) {
        request_t rq;
        make_request(&in, &rq);
        pp_tx_t *tx = run_engine(cfg, p, &rq);
        outcome_t planned = engine_outcome(tx), one_by_one = naive(tx, cfg);
        if (planned.intercepted != one_by_one.intercepted ||
            planned.status != one_by_one.status || strcmp(planned.ids, one_by_one.ids) != 0) {
            fprintf(stderr, "request: %s | X: %s | Y: %s | Cookie: %s | body: %s\n", rq.line,
                    rq.x ? rq.x : "-", rq.y ? rq.y : "-", rq.cookie ? rq.cookie : "-",
                    rq.body ? rq.body : "-");
            const apr_array_header_t *rules = cfg->effective_rules;
            for (int i = 0; i < rules->nelts; i++) {
                const pp_rule_t *r = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
                fprintf(stderr, "rule %d: %s %s\"%s\" id %s%s%s\n", i, r->targets[0]->label,
                        r->op.negated ? "!" : "", r->op.arg, r->id ? r->id : "-",
                        r->chain_member ? " (chained)" : "", r->group ? " (grouped)" : "");
            }
            fprintf(stderr, "planned: intercepted %d status %d ids%s\n", planned.intercepted,
                    planned.status, planned.ids);
            fprintf(stderr, "naive:   intercepted %d status %d ids%s\n", one_by_one.intercepted,
                    one_by_one.status, one_by_one.ids);
            CHECK(!"the planned evaluation and the naive loop disagree");
        }
    }
    apr_pool_destroy(p);
    apr_pool_clear(scratch);
    return 0;
}
