/*
 * Operator family (rules/operators/): every vector of operator_vectors.h through the row's
 * parse and exec, in a real transaction. Where the row has a literal prefilter (needs), a value
 * that matches must also pass the prefilter: the evaluator skips exec for values that do not.
 * The same holds for every regex of the OWASP CRS 3.3.4 package (modsecurity-crs, installed by
 * tools/deps.sh) against the values of the CRS differential corpus (tests/crs/corpus.jsonl).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <json-c/json.h>

#include "config/config.h"
#include "request/request.h"
#include "rules/operators/operator_vectors.h"
#include "rules/operators/operators.h"
#include "tx.h"
#include "pp_random.h"

static apr_pool_t *pool;

static void test_vectors(void **state)
{
    pp_tx_t *tx = pp_tx_create(pp_cfg_create(pool), pool, "t");
    for (size_t i = 0; i < sizeof op_vectors / sizeof op_vectors[0]; i++) {
        const op_vector_t *v = &op_vectors[i];
        const pp_op_def_t *def = pp_op_find(v->name);
        if (!def)
            fail_msg("vector %zu: no operator \"%s\"", i, v->name);
        void *compiled = NULL;
        const char *err = def->parse(pool, v->arg, &compiled);
        if (v->error) {
            if (!err || !strstr(err, v->error))
                fail_msg("%s \"%s\": expected error \"%s\", got \"%s\"", v->name, v->arg,
                         v->error, err ? err : "(accepted)");
            continue;
        }
        if (err)
            fail_msg("%s \"%s\": unexpected error %s", v->name, v->arg, err);
        bool m = !v->match;
        pp_str_t in = { v->in, v->in_len };
        pp_op_out_t out = { .want_captures = false };
        assert_int_equal(def->exec(tx, compiled, in, &m, &out), APR_SUCCESS);
        if (m != v->match)
            fail_msg("%s \"%s\" on \"%s\": match %d, expected %d", v->name, v->arg, v->in, m,
                     v->match);
        /* A match always says what matched (MATCHED_VAR, [data]): within the value or in
         * transaction memory, never unset; captures only when asked for. */
        if (m && (!out.data.data || out.data.len > in.len || out.ncaptures != 0))
            fail_msg("%s \"%s\" on \"%s\": matched data unset or captures unasked", v->name,
                     v->arg, v->in);
        const pp_rx_needs_t *needs = def->needs ? def->needs(compiled) : NULL;
        if (m && needs && !pp_rx_needs_met(needs, in, pp_sketch_build(pool, in)))
            fail_msg("%s \"%s\": the prefilter rules out \"%s\", which matches", v->name,
                     v->arg, v->in);
    }
}

/* The operator interface's output (docs/rule-core.md): a regex reports its whole match as the
 * matched data, and with want_captures the groups up to the last one set (an unset group in
 * between is ""), at most 10; @detectSQLi's capture is its fingerprint. */
static void test_match_output(void **state)
{
    pp_tx_t *tx = pp_tx_create(pp_cfg_create(pool), pool, "t");
    const pp_op_def_t *rx = pp_op_find("rx");
    void *c = NULL;
    assert_null(rx->parse(pool, "(a+)(x)?(b)c", &c));
    bool m = false;
    pp_op_out_t out = { .want_captures = false };
    assert_int_equal(rx->exec(tx, c, PP_STR("zzaabcd"), &m, &out), APR_SUCCESS);
    assert_true(m);
    assert_int_equal(out.data.len, 4);
    assert_memory_equal(out.data.data, "aabc", 4);
    assert_int_equal(out.ncaptures, 0);
    out = (pp_op_out_t){ .want_captures = true };
    assert_int_equal(rx->exec(tx, c, PP_STR("zzaabcd"), &m, &out), APR_SUCCESS);
    assert_int_equal(out.ncaptures, 4);
    const char *want[] = { "aabc", "aa", "", "b" };
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(out.captures[i].len, strlen(want[i]));
        assert_memory_equal(out.captures[i].data, want[i], strlen(want[i]));
    }
    /* Twelve groups: only ten are kept. */
    assert_null(rx->parse(pool, "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)", &c));
    out = (pp_op_out_t){ .want_captures = true };
    assert_int_equal(rx->exec(tx, c, PP_STR("abcdefghijk"), &m, &out), APR_SUCCESS);
    assert_true(m);
    assert_int_equal(out.ncaptures, PP_OP_CAPTURES);
    assert_memory_equal(out.captures[9].data, "i", 1);

    const pp_op_def_t *sqli = pp_op_find("detectSQLi");
    out = (pp_op_out_t){ .want_captures = true };
    assert_int_equal(sqli->exec(tx, NULL, PP_STR("1' or '1'='1"), &m, &out), APR_SUCCESS);
    assert_true(m);
    assert_int_equal(out.ncaptures, 1);
    assert_true(out.captures[0].len >= 1 && out.captures[0].len <= 5);
    assert_int_equal(out.data.len, out.captures[0].len);
}

/* @pmFromFile reads its files as ModSecurity does: relative to the rule file's directory (set
 * by the front end), one phrase a line, trimmed, '#' lines, empty lines and (ModSecurity's
 * off-by-one) one-byte lines skipped, the @pm content syntax applied per line; the phrase found
 * is the matched data and, with captures, TX:0. */
static void test_pm_files(void **state)
{
    char dir[] = "/tmp/parapet-pmXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/p.data", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# a comment\n  Alpha  \nb\n\n|62 65|ta\r\ngam ma\n", f);
    fclose(f);
    apr_pool_t *cp;
    apr_pool_create(&cp, pool);
    const pp_op_def_t *pmf = pp_op_find("pmFromFile");
    void *c = NULL;
    pp_op_set_base_dir(cp, dir);
    assert_null(pmf->parse(cp, "p.data", &c));
    assert_int_equal(pp_pm_phrases(c), 3); /* Alpha, beta, "gam ma" */
    /* The same directory again (every rule of a file sets it) keeps the copy made before; a
     * change or NULL replaces it. */
    char again[sizeof dir];
    strcpy(again, dir);
    pp_op_set_base_dir(cp, again);
    memset(again, 'x', sizeof again - 1);
    assert_string_equal(pp_op_resolve_path(cp, "p.data"), path);
    pp_op_set_base_dir(cp, NULL);
    assert_string_equal(pp_op_resolve_path(cp, "p.data"), "p.data");
    pp_op_set_base_dir(cp, dir);
    assert_string_equal(pp_op_resolve_path(cp, "p.data"), path);
    bool m = false;
    pp_op_out_t out = { .want_captures = true };
    assert_int_equal(pmf->exec(NULL, c, PP_STR("xxBETAxx"), &m, &out), APR_SUCCESS);
    assert_true(m);
    assert_int_equal(out.data.len, 4);
    assert_memory_equal(out.data.data, "beta", 4); /* the phrase as written */
    assert_int_equal(out.ncaptures, 1);
    assert_int_equal(pmf->exec(NULL, c, PP_STR("b # comment"), &m, &out), APR_SUCCESS);
    assert_false(m);
    assert_int_equal(pmf->exec(NULL, c, PP_STR("a gam ma"), &m, &out), APR_SUCCESS);
    assert_true(m);
    pp_op_set_base_dir(cp, "/nonexistent");
    const char *err = pmf->parse(cp, "p.data", &c);
    assert_non_null(err);
    assert_non_null(strstr(err, "\"/nonexistent/p.data\""));
    unlink(path);
    rmdir(dir);
    apr_pool_destroy(cp);
}

/* ---- CRS regexes against the CRS corpus ---- */

#define CRS_SETUP "/etc/modsecurity/crs/crs-setup.conf"
#define CRS_RULES "/usr/share/modsecurity-crs/rules"
#define CRS_CORPUS "tests/crs/corpus.jsonl"

typedef struct values_t {
    apr_pool_t *p;
    apr_hash_t *seen;
    apr_array_header_t *all; /* pp_str_t, each once */
} values_t;

static void add_value(values_t *vs, const char *data, apr_size_t len)
{
    if (apr_hash_get(vs->seen, data, (apr_ssize_t)len))
        return;
    char *copy = apr_pstrmemdup(vs->p, data, len);
    apr_hash_set(vs->seen, copy, (apr_ssize_t)len, copy);
    APR_ARRAY_PUSH(vs->all, pp_str_t) = (pp_str_t){ copy, len };
}

/* name=value pairs separated by sep: names and values as sent and URL-decoded. */
static void add_pairs(values_t *vs, apr_pool_t *tp, pp_str_t s, char sep)
{
    const char *p = s.data, *end = s.data + s.len;
    while (p < end) {
        const char *e = memchr(p, sep, (apr_size_t)(end - p));
        if (!e)
            e = end;
        while (p < e && *p == ' ')
            p++;
        const char *eq = memchr(p, '=', (apr_size_t)(e - p));
        pp_str_t parts[2] = { { p, (apr_size_t)((eq ? eq : e) - p) },
                              { eq ? eq + 1 : e, eq ? (apr_size_t)(e - eq - 1) : 0 } };
        for (int k = 0; k < 2; k++) {
            pp_str_t dec;
            add_value(vs, parts[k].data, parts[k].len);
            if (pp_url_decode(tp, parts[k], true, &dec, NULL) == APR_SUCCESS)
                add_value(vs, dec.data, dec.len);
        }
        p = e + 1;
    }
}

static void add_json(values_t *vs, json_object *o)
{
    switch (json_object_get_type(o)) {
    case json_type_object: {
        json_object_object_foreach(o, key, val) {
            add_value(vs, key, strlen(key));
            add_json(vs, val);
        }
        break;
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(o); i++)
            add_json(vs, json_object_array_get_idx(o, i));
        break;
    default: {
        const char *t = json_object_get_string(o);
        if (t)
            add_value(vs, t, strlen(t));
    }
    }
}

/* The pieces of one raw request a rule may read: request line, URI, path, query, header names
 * and values, cookies, arguments (as sent and decoded), the body, its lines and, for JSON, its
 * strings. */
static void add_request(values_t *vs, apr_pool_t *tp, const char *raw, apr_size_t len)
{
    const char *end = raw + len, *p = raw;
    const char *hdr_end = NULL;
    for (const char *q = raw; q + 3 < end; q++)
        if (memcmp(q, "\r\n\r\n", 4) == 0) {
            hdr_end = q;
            break;
        }
    if (!hdr_end)
        hdr_end = end;
    bool first = true;
    while (p < hdr_end) {
        const char *e = p;
        while (e < hdr_end && !(e + 1 < end && e[0] == '\r' && e[1] == '\n'))
            e++;
        pp_str_t line = { p, (apr_size_t)(e - p) };
        add_value(vs, line.data, line.len);
        if (first) {
            const char *sp1 = memchr(line.data, ' ', line.len);
            const char *sp2 =
                sp1 ? memchr(sp1 + 1, ' ', line.len - (apr_size_t)(sp1 + 1 - line.data)) : NULL;
            if (sp1 && sp2) {
                pp_str_t uri = { sp1 + 1, (apr_size_t)(sp2 - sp1 - 1) };
                add_value(vs, uri.data, uri.len);
                const char *qm = memchr(uri.data, '?', uri.len);
                pp_str_t path = { uri.data, qm ? (apr_size_t)(qm - uri.data) : uri.len }, dec;
                add_value(vs, path.data, path.len);
                if (pp_url_decode(tp, path, false, &dec, NULL) == APR_SUCCESS)
                    add_value(vs, dec.data, dec.len);
                if (qm) {
                    pp_str_t query = { qm + 1, uri.len - (apr_size_t)(qm + 1 - uri.data) };
                    add_value(vs, query.data, query.len);
                    add_pairs(vs, tp, query, '&');
                }
            }
        } else {
            const char *colon = memchr(line.data, ':', line.len);
            if (colon) {
                const char *v = colon + 1;
                while (v < e && (*v == ' ' || *v == '\t'))
                    v++;
                add_value(vs, line.data, (apr_size_t)(colon - line.data));
                add_value(vs, v, (apr_size_t)(e - v));
                if (colon - line.data == 6 && strncasecmp(line.data, "Cookie", 6) == 0)
                    add_pairs(vs, tp, (pp_str_t){ v, (apr_size_t)(e - v) }, ';');
            }
        }
        first = false;
        p = e + 2;
    }
    if (hdr_end + 4 > end)
        return;
    pp_str_t body = { hdr_end + 4, (apr_size_t)(end - hdr_end - 4) };
    if (!body.len)
        return;
    add_value(vs, body.data, body.len);
    add_pairs(vs, tp, body, '&');
    for (const char *q = body.data, *be = body.data + body.len; q < be;) {
        const char *nl = memchr(q, '\n', (apr_size_t)(be - q));
        const char *le = nl ? nl : be;
        add_value(vs, q, (apr_size_t)(le > q && le[-1] == '\r' ? le - 1 - q : le - q));
        q = le + 1;
    }
    json_object *j = json_tokener_parse(apr_pstrmemdup(tp, body.data, body.len));
    if (j) {
        add_json(vs, j);
        json_object_put(j);
    }
}

/* The corpus's requests were stored as latin-1 text in JSON: back to their bytes. */
static apr_size_t latin1_bytes(const char *utf8, char *out)
{
    apr_size_t n = 0;
    const unsigned char *s = (const unsigned char *)utf8;
    while (*s) {
        if (*s < 0x80) {
            out[n++] = (char)*s++;
        } else {
            out[n++] = (char)(((s[0] & 0x1f) << 6) | (s[1] & 0x3f));
            s += 2;
        }
    }
    return n;
}

static void crs_corpus_values(values_t *vs, apr_pool_t *tp)
{
    FILE *f = fopen(CRS_CORPUS, "r");
    if (!f)
        fail_msg("%s is missing", CRS_CORPUS);
    static char line[1 << 20];
    while (fgets(line, sizeof line, f)) {
        json_object *j = json_tokener_parse(line), *raw;
        if (!j || !json_object_object_get_ex(j, "raw", &raw))
            fail_msg("%s: a line without \"raw\"", CRS_CORPUS);
        const char *text = json_object_get_string(raw);
        char *bytes = apr_palloc(tp, strlen(text) + 1);
        add_request(vs, tp, bytes, latin1_bytes(text, bytes));
        json_object_put(j);
    }
    fclose(f);
}

/* Every CRS regex with a literal prefilter, on every corpus value through each of the rule's
 * transformation chains: when the regex matches, the prefilter lets the value through (with
 * and without the value's sketch). A value ruled out that would match is an attack let
 * through. */
static void test_crs_needs_sound(void **state)
{
    (void)state;
    apr_pool_t *cp, *tp;
    apr_pool_create(&cp, pool);
    apr_pool_create(&tp, pool);
    char dir[] = "/tmp/parapet-crsXXXXXX";
    assert_non_null(mkdtemp(dir));
    char conf[64];
    snprintf(conf, sizeof conf, "%s/crs.conf", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "Include %s\nSecAction \"id:900000,phase:1,nolog,pass,"
               "setvar:tx.paranoia_level=4\"\nInclude %s/*.conf\n", CRS_SETUP, CRS_RULES);
    fclose(f);
    pp_cfg_t *cfg = pp_cfg_create(cp);
    const char *err = pp_cfg_read_file(cfg, conf, cp, tp);
    unlink(conf);
    rmdir(dir);
    if (err)
        fail_msg("CRS (modsecurity-crs, tools/deps.sh): %s", err);

    values_t vs = { tp, apr_hash_make(tp), apr_array_make(tp, 4096, sizeof(pp_str_t)) };
    crs_corpus_values(&vs, tp);
    assert_true(vs.all->nelts > 5000);

    pp_tx_t *tx = pp_tx_create(cfg, tp, "crs");
    apr_hash_t *chained = apr_hash_make(tp); /* chain id -> transformed values */
    unsigned rules = 0, matches = 0, ruled_out = 0, pm_rules = 0, pm_matches = 0;
    apr_pool_t *vp;
    apr_pool_create(&vp, tp);
    for (int i = 0; i < cfg->rules->nelts; i++) {
        for (const pp_rule_t *r = APR_ARRAY_IDX(cfg->rules, i, const pp_rule_t *); r;
             r = r->chain_next) {
            if (!r->op.needs)
                continue;
            rules++;
            bool pm = strncmp(r->op.def->name, "pm", 2) == 0; /* @pm, @pmFromFile */
            pm_rules += pm;
            for (unsigned ti = 0; ti < r->ntargets; ti++) {
                const pp_chain_t *c = r->targets[ti]->chain ? r->targets[ti]->chain
                                                             : pp_chain_empty();
                bool done = false; /* targets mostly share the rule's chain */
                for (unsigned tj = 0; tj < ti; tj++)
                    done = done || (r->targets[tj]->chain ? r->targets[tj]->chain
                                                          : pp_chain_empty()) == c;
                if (done)
                    continue;
                apr_array_header_t *tv = apr_hash_get(chained, &c->id, sizeof c->id);
                if (!tv) {
                    tv = apr_array_make(tp, vs.all->nelts, sizeof(pp_str_t));
                    for (int k = 0; k < vs.all->nelts; k++)
                        pp_chain_apply(tx, tp, c, APR_ARRAY_IDX(vs.all, k, pp_str_t),
                                       apr_array_push(tv));
                    apr_hash_set(chained, apr_pmemdup(tp, &c->id, sizeof c->id),
                                 sizeof c->id, tv);
                }
                for (int k = 0; k < tv->nelts; k++) {
                    pp_str_t v = APR_ARRAY_IDX(tv, k, pp_str_t);
                    pp_sketch_t *sk = pp_sketch_build(vp, v);
                    bool met = pp_rx_needs_met(r->op.needs, v, sk);
                    if (met != pp_rx_needs_met(r->op.needs, v, NULL))
                        fail_msg("rule %s: the sketch and the search disagree on \"%s\"",
                                 r->id ? r->id : "(chain)", pp_str_log_escape(vp, v, 200));
                    ruled_out += !met;
                    bool m = false;
                    pp_op_out_t out = { .want_captures = false };
                    if (r->op.def->exec(tx, r->op.compiled, v, &m, &out) != APR_SUCCESS)
                        continue; /* a resource limit: undecided */
                    matches += m;
                    pm_matches += m && pm;
                    if (m && !met)
                        fail_msg("CRS rule %s (%s, line %d): @%s matches \"%s\" but its "
                                 "prefilter (%s) rules it out", r->id ? r->id : "(chain)",
                                 r->file, r->line, r->op.def->name,
                                 pp_str_log_escape(vp, v, 200),
                                 pp_rx_needs_describe(vp, r->op.needs));
                    apr_pool_clear(vp);
                }
            }
        }
    }
    /* The test reaches what it checks: most CRS regexes have a prefilter, the corpus's
     * attacks match thousands of times, and most values are ruled out without PCRE2. */
    print_message("%u CRS operators with a prefilter (%u phrase lists), %d values, %u matches "
                  "(%u of phrase lists), %u ruled out\n", rules, pm_rules, vs.all->nelts,
                  matches, pm_matches, ruled_out);
    assert_true(rules > 250);
    assert_true(matches > 5000);
    assert_true(pm_rules >= 18 && pm_matches > 100); /* @pm and @pmFromFile are in */
    assert_true(ruled_out > matches);
    apr_pool_destroy(cp);
    apr_pool_destroy(tp);
}

/* @validateByteRange against a plain reading of its argument: random lists of bytes and ranges
 * (the CRS ones among them), random values mostly of allowed bytes with now and then one that
 * is not, at every position of values up to 70 bytes (the 16-byte checks and the tail). */
static void test_byterange_random(void **state)
{
    const pp_op_def_t *def = pp_op_find("validateByteRange");
    pp_tx_t *tx = pp_tx_create(pp_cfg_create(pool), pool, "t");
    static const char *const crs[] = { "1-255", "9,10,13,32-126,128-255", "32-36,38-126",
                                       "38,44-46,48-58,61,65-90,95,97-122",
                                       "32,34,38,42-59,61,65-90,95,97-122", "0-255", "0", "" };
    uint64_t seed = 920270;
    unsigned matches = 0, runs = 0;
    for (int k = 0; k < 3000; k++) {
        char arg[256] = "";
        bool allowed[256] = { false };
        if (k < (int)(sizeof crs / sizeof crs[0])) {
            strcpy(arg, crs[k]);
        } else {
            char *o = arg;
            for (uint64_t n = 1 + pp_test_rnd(&seed) % 6; n > 0; n--) {
                unsigned a = (unsigned)(pp_test_rnd(&seed) % 256), b = a;
                if (pp_test_rnd(&seed) % 2)
                    b = a + (unsigned)(pp_test_rnd(&seed) % (256 - a));
                o += a == b ? sprintf(o, "%s%u", o == arg ? "" : ",", a)
                            : sprintf(o, "%s%u-%u", o == arg ? "" : ",", a, b);
            }
        }
        /* The reference: the same items, read plainly. */
        char *copy = apr_pstrdup(pool, arg), *save = NULL;
        for (char *p = apr_strtok(copy, ",", &save); p; p = apr_strtok(NULL, ",", &save)) {
            const char *dash = strchr(p, '-');
            unsigned a = (unsigned)atoi(p), b = dash ? (unsigned)atoi(dash + 1) : a;
            for (unsigned c = a; c <= b && c < 256; c++)
                allowed[c] = true;
        }
        unsigned char good[256];
        unsigned ngood = 0;
        for (unsigned c = 0; c < 256; c++)
            if (allowed[c])
                good[ngood++] = (unsigned char)c;
        void *compiled = NULL;
        assert_null(def->parse(pool, arg, &compiled));
        for (int j = 0; j < 20; j++) {
            char buf[80];
            apr_size_t len = (apr_size_t)(pp_test_rnd(&seed) % 71);
            bool want = false;
            for (apr_size_t i = 0; i < len; i++) {
                unsigned char c = ngood && pp_test_rnd(&seed) % 40
                                      ? good[pp_test_rnd(&seed) % ngood]
                                      : (unsigned char)(pp_test_rnd(&seed) % 256);
                buf[i] = (char)c;
                want |= !allowed[c];
            }
            bool m = !want;
            pp_op_out_t out = { 0 };
            assert_int_equal(def->exec(tx, compiled, (pp_str_t){ buf, len }, &m, &out),
                             APR_SUCCESS);
            if (m != want)
                fail_msg("@validateByteRange %s on %s: %d, expected %d", arg,
                         pp_str_log_escape(pool, (pp_str_t){ buf, len }, 200), m, want);
            matches += want;
            runs++;
        }
    }
    assert_true(matches > runs / 5 && matches < runs - runs / 5); /* both answers, often */
}

static void test_unknown_operator(void **state)
{
    assert_null(pp_op_find("nosuchop"));
    assert_null(pp_op_find(""));
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_match_output),
        cmocka_unit_test(test_pm_files),
        cmocka_unit_test(test_crs_needs_sound),
        cmocka_unit_test(test_byterange_random),
        cmocka_unit_test(test_unknown_operator),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
