/*
 * ModSecurity 2's alert text (log/errlog.c, reference secrule-2.9 §14.1): the two escapes, the
 * operator messages, the order of the metadata items, the [data] cut at 509 escaped bytes and
 * the 1023-byte cut of the whole text. The expected strings are what ModSecurity 2.9.7 wrote
 * for the same input in tests/e2e/test_ms2_logs.py runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log/log.h"
#include "pp_random.h"
#include "rules/actions/actions.h"

static apr_pool_t *pool;

static pp_str_t S(const char *s)
{
    return pp_str_from_cstr(s);
}

static void test_log_escape(void **state)
{
    (void)state;
    assert_string_equal(pp_ms2_escape(pool, S("bad \"q\" \\d")), "bad \\\"q\\\" \\\\d");
    assert_string_equal(pp_ms2_escape(pool, (pp_str_t){ "a\n\r\t\v\b\x01\x7f\xff", 9 }),
                        "a\\n\\r\\t\\v\\b\\x01\\x7f\\xff");
}

static void test_hex_escape(void **state)
{
    (void)state;
    assert_string_equal(pp_ms2_escape_hex(pool, (pp_str_t){ "A\"\\\x01\n\xc3", 6 }),
                        "A\\x22\\x5c\\x01\\x0a\\xc3");
}

static void test_op_messages(void **state)
{
    (void)state;
    pp_ms2_op_t rx = { .name = "rx", .param = "^[\\d.:]+$", .var = "REQUEST_HEADERS:Host" };
    assert_string_equal(pp_ms2_op_message(pool, &rx),
                        "Pattern match \"^[\\\\d.:]+$\" at REQUEST_HEADERS:Host.");
    pp_ms2_op_t ge = { .name = "ge", .param = "5", .var = "TX:anomaly_score" };
    assert_string_equal(pp_ms2_op_message(pool, &ge), "Operator GE matched 5 at TX:anomaly_score.");
    pp_ms2_op_t neg = { .name = "rx", .param = "^[a-z]*$", .negated = true, .var = "ARGS:neg" };
    assert_string_equal(pp_ms2_op_message(pool, &neg),
                        "Match of \"rx ^[a-z]*$\" against \"ARGS:neg\" required.");
    pp_ms2_op_t pm = { .name = "pm", .param = "foo bar", .var = "ARGS:a", .data = S("Bar") };
    assert_string_equal(pp_ms2_op_message(pool, &pm), "Matched phrase \"Bar\" at ARGS:a.");
    pp_ms2_op_t sqli = { .name = "detectSQLi", .var = "ARGS:id", .data = S("s&sos") };
    assert_string_equal(pp_ms2_op_message(pool, &sqli),
                        "detected SQLi using libinjection with fingerprint 's&sos'");
    pp_ms2_op_t within = { .name = "within", .param = "|a|b|", .var = "ARGS:x" };
    assert_string_equal(pp_ms2_op_message(pool, &within),
                        "String match within \"|a|b|\" at ARGS:x.");
    /* A pattern longer than 252 escaped bytes is quoted up to there, then " ...". */
    char longpat[301];
    memset(longpat, 'a', 300);
    longpat[300] = '\0';
    pp_ms2_op_t lrx = { .name = "rx", .param = longpat, .var = "ARGS" };
    const char *m = pp_ms2_op_message(pool, &lrx);
    assert_int_equal(strlen(m), strlen("Pattern match \"") + 252 + strlen(" ...\" at ARGS."));
    assert_non_null(strstr(m, "aaaa ...\" at ARGS."));
}

static void test_alert_order_and_escapes(void **state)
{
    (void)state;
    const char *tags[] = { "a", "b c" };
    pp_str_t data = S("an attack");
    pp_ms2_alert_t a = { .action = "Access denied with code 403 (phase 2).",
                         .what = "Pattern match \"attack\" at ARGS:q.",
                         .file = "/etc/x.conf", .line = 72, .id = "10", .rev = "2",
                         .msg = "bad \"q\" x", .data = &data, .severity = 2, .ver = "X/1",
                         .maturity = "9", .accuracy = "8", .tags = tags, .ntags = 2 };
    assert_string_equal(pp_ms2_alert_text(pool, &a),
                        "Access denied with code 403 (phase 2). Pattern match \"attack\" at "
                        "ARGS:q. [file \"/etc/x.conf\"] [line \"72\"] [id \"10\"] [rev \"2\"] "
                        "[msg \"bad \\\"q\\\" x\"] [data \"an attack\"] [severity \"CRITICAL\"] "
                        "[ver \"X/1\"] [maturity \"9\"] [accuracy \"8\"] [tag \"a\"] "
                        "[tag \"b c\"]");
    /* No metadata but the file and line; a severity outside 0-7 is not logged. */
    pp_ms2_alert_t b = { .action = "Warning.", .what = "Operator GE matched 5 at TX:s.",
                         .file = "/f", .line = 3, .severity = 9 };
    assert_string_equal(pp_ms2_alert_text(pool, &b),
                        "Warning. Operator GE matched 5 at TX:s. [file \"/f\"] [line \"3\"]");
}

static void test_data_cut(void **state)
{
    (void)state;
    /* 511 escaped bytes stay whole; 512 are cut to 509 and "...". */
    char v[600];
    memset(v, 'x', sizeof v);
    pp_str_t d511 = { v, 511 }, d512 = { v, 512 };
    pp_ms2_alert_t a = { .action = "Warning.", .what = "w", .data = &d511, .severity = -1 };
    const char *t = pp_ms2_alert_text(pool, &a);
    assert_int_equal(strlen(t), strlen("Warning. w [data \"") + 511 + 2);
    a.data = &d512;
    t = pp_ms2_alert_text(pool, &a);
    assert_int_equal(strlen(t), strlen("Warning. w [data \"") + 509 + strlen("...\"]"));
    assert_non_null(strstr(t, "xxx...\"]"));
    /* An escape sequence is cut, as ModSecurity does: 128 bytes 0x01 escape to 512, the 128th
     * keeps only its backslash. */
    char c[128];
    memset(c, 1, sizeof c);
    pp_str_t dc = { c, sizeof c };
    a.data = &dc;
    t = pp_ms2_alert_text(pool, &a);
    assert_non_null(strstr(t, "\\x01\\...\"]"));
}

static void test_text_cut_at_1023(void **state)
{
    (void)state;
    const char *tags[40];
    for (int i = 0; i < 40; i++)
        tags[i] = "a-rather-long-tag-name-for-testing";
    pp_ms2_alert_t a = { .action = "Warning.", .what = "w", .severity = -1, .tags = tags,
                         .ntags = 40 };
    const char *t = pp_ms2_alert_text(pool, &a);
    assert_int_equal(strlen(t), PP_MS2_TEXT_MAX_BYTES);
}

/* The alert text as it was made with a printf per item (each item escaped into a copy of its
 * own first): the text made in place must be the same, byte for byte. */
static const char *alert_by_printf(apr_pool_t *p, const pp_ms2_alert_t *a)
{
    const char *t = apr_psprintf(p, "%s %s", a->action, a->what);
    if (a->file)
        t = apr_psprintf(p, "%s [file \"%s\"]", t, pp_ms2_escape(p, S(a->file)));
    if (a->line > 0)
        t = apr_psprintf(p, "%s [line \"%d\"]", t, a->line);
    if (a->id)
        t = apr_psprintf(p, "%s [id \"%s\"]", t, pp_ms2_escape(p, S(a->id)));
    if (a->rev)
        t = apr_psprintf(p, "%s [rev \"%s\"]", t, pp_ms2_escape(p, S(a->rev)));
    if (a->msg)
        t = apr_psprintf(p, "%s [msg \"%s\"]", t, pp_ms2_escape(p, S(a->msg)));
    if (a->data) {
        const char *d = pp_ms2_escape_hex(p, *a->data);
        t = strlen(d) > 511 ? apr_psprintf(p, "%s [data \"%.*s...\"]", t, 509, d)
                            : apr_psprintf(p, "%s [data \"%s\"]", t, d);
    }
    if (a->severity >= 0)
        t = apr_psprintf(p, "%s [severity \"%s\"]", t, pp_severity_name(a->severity));
    if (a->ver)
        t = apr_psprintf(p, "%s [ver \"%s\"]", t, pp_ms2_escape(p, S(a->ver)));
    if (a->maturity)
        t = apr_psprintf(p, "%s [maturity \"%d\"]", t, atoi(a->maturity));
    if (a->accuracy)
        t = apr_psprintf(p, "%s [accuracy \"%d\"]", t, atoi(a->accuracy));
    for (unsigned i = 0; i < a->ntags; i++)
        t = apr_psprintf(p, "%s [tag \"%s\"]", t, pp_ms2_escape(p, S(a->tags[i])));
    return strlen(t) > PP_MS2_TEXT_MAX_BYTES ? apr_pstrndup(p, t, PP_MS2_TEXT_MAX_BYTES) : t;
}

/* A random string of n bytes (no NUL: the items are C strings) over bytes that escape
 * differently: plain, quote, backslash, named controls, other controls, high bytes. */
static char *random_text(apr_pool_t *p, uint64_t *seed, size_t n)
{
    static const char bytes[] = "ab \"\\\n\r\t\v\b\x01\x7f\xff%";
    char *s = apr_palloc(p, n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = bytes[pp_test_rnd(seed) % (sizeof bytes - 1)];
    s[n] = '\0';
    return s;
}

static size_t random_len(uint64_t *seed)
{
    /* mostly short; around the data cut (127-130 bytes that escape to four each, 509-513
     * plain ones) and past the whole text's cut */
    static const size_t lens[] = { 0, 1, 5, 20, 127, 128, 129, 130, 509, 510, 511, 512, 513,
                                   1100 };
    return pp_test_rnd(seed) % 3 ? pp_test_rnd(seed) % 40 : lens[pp_test_rnd(seed) % 14];
}

static void test_alert_same_as_printf(void **state)
{
    (void)state;
    uint64_t seed = 15;
    for (int n = 0; n < 3000; n++) {
        apr_pool_t *p;
        apr_pool_create(&p, pool);
        const char *tags[24];
        unsigned ntags = (unsigned)(pp_test_rnd(&seed) % 24);
        for (unsigned i = 0; i < ntags; i++)
            tags[i] = random_text(p, &seed, random_len(&seed));
        pp_str_t data = { random_text(p, &seed, random_len(&seed)), 0 };
        data.len = strlen(data.data);
        unsigned has = (unsigned)pp_test_rnd(&seed);
        pp_ms2_alert_t a = {
            .action = "Warning.", .what = random_text(p, &seed, random_len(&seed)),
            .file = has & 1 ? random_text(p, &seed, random_len(&seed)) : NULL,
            .line = (int)(pp_test_rnd(&seed) % 3) - 1,
            .id = has & 2 ? random_text(p, &seed, random_len(&seed)) : NULL,
            .rev = has & 4 ? "1" : NULL,
            .msg = has & 8 ? random_text(p, &seed, random_len(&seed)) : NULL,
            .data = has & 16 ? &data : NULL, .severity = (int)(pp_test_rnd(&seed) % 9) - 1,
            .ver = has & 32 ? random_text(p, &seed, random_len(&seed)) : NULL,
            .maturity = has & 64 ? "9" : NULL, .accuracy = has & 128 ? "x7" : NULL,
            .tags = tags, .ntags = ntags,
        };
        const char *got = pp_ms2_alert_text(p, &a), *want = alert_by_printf(p, &a);
        if (strcmp(got, want) != 0)
            fail_msg("alert %d differs:\n got  %s\n want %s", n, got, want);
        apr_pool_destroy(p);
    }
}

/* ModSecurity's two escapes a byte at a time, as log/errlog.c wrote them before it copied
 * eight plain bytes at once: the escapes must give the same bytes for every input. */
static const char *escape_by_byte(apr_pool_t *p, pp_str_t s, bool hex_quotes)
{
    char *out = apr_palloc(p, s.len * 4 + 1), *o = out;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.data[i];
        const char *named = NULL;
        if (!hex_quotes) {
            switch (c) {
            case '"': named = "\\\""; break;
            case '\\': named = "\\\\"; break;
            case '\b': named = "\\b"; break;
            case '\n': named = "\\n"; break;
            case '\r': named = "\\r"; break;
            case '\t': named = "\\t"; break;
            case '\v': named = "\\v"; break;
            default: break;
            }
        }
        if (named) {
            *o++ = named[0];
            *o++ = named[1];
        } else if (c < 0x20 || c > 0x7e || (hex_quotes && (c == '"' || c == '\\'))) {
            o += sprintf(o, "\\x%02x", c);
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

static void test_escape_same_as_by_byte(void **state)
{
    (void)state;
    uint64_t seed = 16;
    for (int n = 0; n < 20000; n++) {
        apr_pool_t *p;
        apr_pool_create(&p, pool);
        size_t len = (size_t)(pp_test_rnd(&seed) % 70);
        char *v = apr_palloc(p, len + 1);
        /* mostly plain bytes (runs of eight are copied whole), one in `rare` any byte at all,
         * and the bytes at the edges of plain: 0x1f 0x20 0x7e 0x7f '"' '\\' 0x21 0x5b 0x5d */
        static const char edges[] = "\x1f\x20\x7e\x7f\"\\\x21\x5b\x5d\x80\xff\x00";
        unsigned rare = 1 + (unsigned)(pp_test_rnd(&seed) % 30);
        for (size_t i = 0; i < len; i++) {
            uint64_t r = pp_test_rnd(&seed);
            if (r % rare)
                v[i] = (char)(0x20 + r / 64 % 95);
            else if (r & 32)
                v[i] = edges[r / 64 % (sizeof edges - 1)];
            else
                v[i] = (char)(r / 64 % 256);
        }
        v[len] = '\0';
        pp_str_t s = { v, len };
        assert_string_equal(pp_ms2_escape(p, s), escape_by_byte(p, s, false));
        assert_string_equal(pp_ms2_escape_hex(p, s), escape_by_byte(p, s, true));
        apr_pool_destroy(p);
    }
}

/* The operator messages made in one buffer against the printf they replaced: a pattern (cut
 * at 252 escaped bytes, however the cut falls in an escape) and an operator without words of
 * its own. */
static void test_op_message_same_as_printf(void **state)
{
    (void)state;
    uint64_t seed = 17;
    for (int n = 0; n < 3000; n++) {
        apr_pool_t *p;
        apr_pool_create(&p, pool);
        static const size_t lens[] = { 0, 1, 62, 63, 64, 65, 250, 251, 252, 253, 254, 300 };
        size_t plen = pp_test_rnd(&seed) % 2 ? lens[pp_test_rnd(&seed) % 12]
                                              : (size_t)(pp_test_rnd(&seed) % 40);
        const char *param = random_text(p, &seed, plen);
        const char *var = random_text(p, &seed, (size_t)(pp_test_rnd(&seed) % 20));
        const char *name = pp_test_rnd(&seed) % 2 ? "validateByteRange"
                                                  : random_text(p, &seed, 1 + pp_test_rnd(&seed) % 6);
        pp_ms2_op_t rx = { .name = pp_test_rnd(&seed) % 2 ? "rx" : "RX", .param = param,
                           .var = var };
        const char *pat = pp_ms2_escape(p, S(param));
        const char *want = strlen(pat) > 252
                               ? apr_psprintf(p, "Pattern match \"%.*s ...\" at %s.", 252, pat, var)
                               : apr_psprintf(p, "Pattern match \"%s\" at %s.", pat, var);
        assert_string_equal(pp_ms2_op_message(p, &rx), want);
        pp_ms2_op_t other = { .name = name, .param = param, .var = var };
        bool known = false;
        static const char *const named[] = { "rx", "pm", "eq", "ge", "gt", "le", "lt", "within",
                                             "streq", "contains", "pmf", "ipMatchF" };
        for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
            known = known || strcasecmp(named[i], name) == 0;
        if (!known) {
            want = apr_psprintf(p, "Operator %s \"%s\" matched at %s.",
                                pp_ms2_escape(p, S(name)), pat, var);
            assert_string_equal(pp_ms2_op_message(p, &other), want);
        }
        apr_pool_destroy(p);
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_escape),
        cmocka_unit_test(test_hex_escape),
        cmocka_unit_test(test_op_messages),
        cmocka_unit_test(test_alert_order_and_escapes),
        cmocka_unit_test(test_data_cut),
        cmocka_unit_test(test_text_cut_at_1023),
        cmocka_unit_test(test_alert_same_as_printf),
        cmocka_unit_test(test_escape_same_as_by_byte),
        cmocka_unit_test(test_op_message_same_as_printf),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
