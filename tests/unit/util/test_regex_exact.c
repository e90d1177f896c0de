/*
 * util/regex_exact.c: a pattern that is an anchored alternation of plain words is answered by
 * a set look-up instead of PCRE2 (REQUEST_METHOD "!^(?:GET|HEAD|POST)$" and kin). The answer
 * is held to PCRE2's own, compiled here directly with the options regex.c uses, on the words,
 * their edge variants (case, one byte changed, a final newline, which PCRE2's '$' would accept without
 * PCRE2_DOLLAR_ENDONLY, a NUL, one byte more or less, empty) and seeded random values over the
 * pattern's bytes. Patterns of any other shape must keep PCRE2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <apr_strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "util/util.h"

static apr_pool_t *root;
#include "pp_random.h"
#include "pp_test.h"

typedef struct {
    const char *pattern;
    unsigned flags;
    bool exact;           /* whether the set look-up must answer it */
    const char *words[6]; /* members to build edge values from (NULL-terminated) */
} case_t;

static const case_t cases[] = {
    /* ms2-100 and its 1.9 form (tests/prof configurations), as the rules write them. */
    { "(?i)^(GET|HEAD|POST|OPTIONS)$", PP_RX_DOTALL, true, { "GET", "HEAD", "OPTIONS" } },
    { "^(GET|HEAD|POST|OPTIONS)$", PP_RX_ICASE, true, { "GET", "POST" } },
    { "(?i)^HTTP/(0\\.9|1\\.[01])$", PP_RX_DOTALL, true, { "HTTP/0.9", "HTTP/1.1", "HTTP/1.0" } },
    { "^HTTP/(0\\.9|1\\.[01])$", PP_RX_ICASE, true, { "HTTP/1.0", "http/0.9" } },
    { "^(?:GET|HEAD)$", PP_RX_DOTALL, true, { "GET", "HEAD", "get" } },
    { "^GET$", 0, true, { "GET" } },
    { "^$", PP_RX_DOTALL, true, { "" } },
    { "^(?:|a)$", 0, true, { "", "a" } },
    { "^[a-c][-x]\\-\\.$", 0, true, { "a--.", "cx-." } },
    { "^(?:ab(c|d)|e)f$", PP_RX_ICASE, true, { "abcf", "ef", "ABDF" } },
    { "^a b#$", 0, true, { "a b#" } },
    { "^a\\\\$", 0, true, { "a\\" } },
    { "^[@`]$", PP_RX_ICASE, true, { "@", "`" } },
    /* Caseless folds letters only: not '@' and '`', '[' and '{' (0x20 apart as well). */
    { "^@\\[$", PP_RX_ICASE, true, { "@[", "`{", "`[", "@{" } },
    /* Words longer than 16 bytes take the byte-wise compare. */
    { "^(?:application/x-www-form-urlencoded|text/plain|multipart/form-data)$", PP_RX_ICASE,
      true, { "application/x-www-form-urlencoded", "Multipart/Form-Data", "text/plain" } },
    { "^(?:application/x-www-form-urlencoded|text/plain)$", 0, true,
      { "application/x-www-form-urlencoded", "Text/plain", "text/plain" } },
    /* Not of that shape: PCRE2 answers. */
    { "^GET|POST$", 0, false, { "GET", "POST", "GETx", "xPOST" } },
    { "^(GET)+$", 0, false, { "GET", "GETGET" } },
    { "^GE?T$", 0, false, { "GT", "GET" } },
    { "^G.T$", PP_RX_DOTALL, false, { "GET", "G\nT" } },
    { "^GET\\$", 0, false, { "GET$" } },
    { "^GET$", PP_RX_MULTILINE, false, { "GET", "x\nGET" } },
    { "(?m)^GET$", 0, false, { "GET", "x\nGET\ny" } },
    { "^(?i:GET)$", 0, false, { "GET", "get" } },
    { "^[^a]$", 0, false, { "b" } },
    { "^\\d$", 0, false, { "1" } },
    { "^[[:alpha:]]$", 0, false, { "a" } },
    { "^G{2}$", 0, false, { "GG" } },
    { "^(GET$", 0, false, { NULL } },
    { "GET$", 0, false, { "xGET" } },
    { "^GET", 0, false, { "GETx" } },
};

static pcre2_code *reference(const case_t *c)
{
    int errcode;
    PCRE2_SIZE erroff;
    uint32_t opts = PCRE2_DOLLAR_ENDONLY; /* as regex.c compiles every pattern */
    if (c->flags & PP_RX_ICASE)
        opts |= PCRE2_CASELESS;
    if (c->flags & PP_RX_DOTALL)
        opts |= PCRE2_DOTALL;
    if (c->flags & PP_RX_MULTILINE)
        opts |= PCRE2_MULTILINE;
    return pcre2_compile((PCRE2_SPTR)c->pattern, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff,
                         NULL);
}

typedef struct {
    const case_t *c;
    const pp_regex_t *re;
    pcre2_code *ref;
    pcre2_match_data *md;
    pp_rx_state_t *st;
    unsigned checked, matched;
} check_t;

static void check(check_t *k, const char *v, apr_size_t len)
{
    bool got = false;
    pp_str_t caps[1];
    unsigned n = 0;
    assert_int_equal(pp_regex_exec_captures(k->re, k->st, (pp_str_t){ v, len }, &got, caps, 1,
                                            &n),
                     APR_SUCCESS);
    int rc = pcre2_match(k->ref, (PCRE2_SPTR)v, len, 0, 0, k->md, NULL);
    bool want = rc >= 0;
    if (got != want)
        fail_msg("/%s/ (flags %u) on \"%.*s\" (%lu bytes): %s, PCRE2 says %s", k->c->pattern,
                 k->c->flags, (int)len, v, (unsigned long)len, got ? "match" : "no match",
                 want ? "match" : "no match");
    if (got) {
        /* The whole match is what PCRE2 reports: these patterns are anchored, so the value. */
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(k->md);
        assert_int_equal(n, 1);
        assert_int_equal(caps[0].len, ov[1] - ov[0]);
        assert_memory_equal(caps[0].data, v + ov[0], caps[0].len);
        k->matched++;
    }
    k->checked++;
}

/* The word and its neighbours: case flipped (all, first byte), with a final "\n", "\r\n" or
 * NUL, a leading "\n" or space, one byte less, one byte more, doubled. */
static void check_variants(check_t *k, const char *w)
{
    char buf[256];
    apr_size_t n = strlen(w);
    assert_true(n * 2 + 3 < sizeof buf);
    check(k, w, n);
    for (apr_size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        buf[i] = (char)((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ? c ^ 0x20 : c);
    }
    check(k, buf, n);
    if (n) {
        memcpy(buf, w, n);
        buf[0] = (char)(buf[0] ^ 0x20);
        check(k, buf, n);
        check(k, w, n - 1);
        check(k, w + 1, n - 1);
        for (apr_size_t i = 0; i < n; i++) { /* one byte changed, at each place */
            memcpy(buf, w, n);
            buf[i] = (char)(buf[i] ^ 1);
            check(k, buf, n);
        }
    }
    static const char *const tails[] = { "\n", "\r\n", " ", "x", "$" };
    for (unsigned t = 0; t < sizeof tails / sizeof *tails; t++) {
        memcpy(buf, w, n);
        memcpy(buf + n, tails[t], strlen(tails[t]));
        check(k, buf, n + strlen(tails[t]));
        memcpy(buf, tails[t], strlen(tails[t]));
        memcpy(buf + strlen(tails[t]), w, n);
        check(k, buf, n + strlen(tails[t]));
    }
    memcpy(buf, w, n);
    buf[n] = '\0';
    check(k, buf, n + 1);
    memcpy(buf + n, w, n);
    check(k, buf, n * 2);
    check(k, buf, n * 2 + 1); /* the NUL in the middle */
}

static void test_exact_agrees_with_pcre2(void **state)
{
    apr_pool_t *p = *state;
    uint64_t seed = 0x6e6567; /* "neg" */
    unsigned fast = 0, total_matched = 0;
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        const case_t *c = &cases[i];
        const char *err = NULL;
        check_t k = { .c = c };
        k.re = pp_regex_compile(p, c->pattern, c->flags, &err);
        if (!k.re) {
            assert_false(c->exact); /* an invalid pattern is PCRE2's to reject */
            continue;
        }
        if (pp_regex_exact(k.re) != c->exact)
            fail_msg("/%s/ (flags %u): exact set %s, expected %s", c->pattern, c->flags,
                     pp_regex_exact(k.re) ? "taken" : "not taken", c->exact ? "taken" : "not");
        fast += c->exact;
        k.ref = reference(c);
        assert_non_null(k.ref);
        k.md = pcre2_match_data_create_from_pattern(k.ref, NULL);
        k.st = pp_rx_state_create(p);
        for (unsigned w = 0; w < 6 && c->words[w]; w++)
            check_variants(&k, c->words[w]);
        check(&k, "", 0);
        check(&k, NULL, 0);
        /* Random values over the pattern's own bytes and a few edge bytes. */
        char alphabet[300];
        apr_size_t na = 0;
        for (const char *s = c->pattern; *s && na < 200; s++)
            alphabet[na++] = *s;
        static const char extra[] = "\n\r \0gGtTxX";
        memcpy(alphabet + na, extra, sizeof extra - 1);
        na += sizeof extra - 1;
        for (unsigned r = 0; r < 3000; r++) {
            char v[16];
            apr_size_t len = pp_test_rnd(&seed) % sizeof v;
            for (apr_size_t j = 0; j < len; j++)
                v[j] = alphabet[pp_test_rnd(&seed) % na];
            check(&k, v, len);
        }
        /* Random case of random members: for a set, most draws are members. */
        for (unsigned w = 0; w < 6 && c->words[w]; w++) {
            for (unsigned r = 0; r < 50; r++) {
                char v[64];
                apr_size_t len = strlen(c->words[w]);
                for (apr_size_t j = 0; j < len; j++) {
                    unsigned char ch = (unsigned char)c->words[w][j];
                    bool letter = (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z';
                    v[j] = (char)(letter && (pp_test_rnd(&seed) & 1) ? ch ^ 0x20 : ch);
                }
                check(&k, v, len);
            }
        }
        if (c->exact && c->words[0])
            assert_true(k.matched > 0); /* the listed members do match: not a vacuous pass */
        total_matched += k.matched;
        pcre2_match_data_free(k.md);
        pcre2_code_free(k.ref);
    }
    assert_true(fast >= 16);
    assert_true(total_matched > 500);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exact_agrees_with_pcre2, pp_test_pool_setup,
                                        pp_test_pool_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
