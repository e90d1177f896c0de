/*
 * util/regex.c: matching stays decided on long benign values (the JIT stack grows past PCRE2's
 * 32 KiB default), and the resource limits still stop a pathological pattern/input pair.
 * The heavy patterns are CRS 3.3.4's 932100 and 932150, read from the Debian package
 * modsecurity-crs (tools/deps.sh installs it), so that no third-party text is copied here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "util/util.h"

static apr_pool_t *root;
#include "pp_random.h"
#include "pp_test.h"

#define CRS_RCE "/usr/share/modsecurity-crs/rules/REQUEST-932-APPLICATION-ATTACK-RCE.conf"

/* The @rx argument of the SecRule whose action list holds "id:<id>,": continuation lines are
 * joined, and Apache's \" unquoting is applied (the only escape the rule files need). */
static const char *crs_pattern(apr_pool_t *p, const char *id)
{
    char *text = NULL;
    apr_size_t len = 0;
    apr_finfo_t fi;
    apr_file_t *f;
    if (apr_stat(&fi, CRS_RCE, APR_FINFO_SIZE, p) != APR_SUCCESS ||
        apr_file_open(&f, CRS_RCE, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
        fail_msg("%s is missing: install modsecurity-crs (tools/deps.sh)", CRS_RCE);
    len = (apr_size_t)fi.size;
    text = apr_palloc(p, len + 1);
    assert_int_equal(apr_file_read_full(f, text, len, &len), APR_SUCCESS);
    text[len] = '\0';
    char *o = text;
    for (const char *s = text; *s; s++) {
        if (s[0] == '\\' && s[1] == '\n')
            s++;
        else
            *o++ = *s;
    }
    *o = '\0';
    const char *key = apr_pstrcat(p, "\"id:", id, ",", NULL);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "SecRule", 7) != 0 || !strstr(line, key))
            continue;
        char *start = strstr(line, "\"@rx ");
        assert_non_null(start);
        start += 5;
        char *pat = apr_palloc(p, strlen(start) + 1), *w = pat;
        for (const char *s = start; *s && *s != '"'; s++) {
            if (s[0] == '\\' && s[1] == '"')
                s++;
            else if (s[0] == '\\' && s[1])
                *w++ = *s++;
            *w++ = *s;
        }
        *w = '\0';
        return pat;
    }
    fail_msg("rule %s not found in %s", id, CRS_RCE);
    return NULL;
}

static pp_str_t repeat(apr_pool_t *p, const char *unit, apr_size_t total)
{
    apr_size_t n = strlen(unit);
    char *s = apr_palloc(p, total + n + 1);
    apr_size_t len = 0;
    while (len < total) {
        memcpy(s + len, unit, n);
        len += n;
    }
    s[len] = '\0';
    return (pp_str_t){ s, len };
}

/* CRS 932100/932150 on 8-64 KiB of a plain query string: PCRE2's default 32 KiB JIT stack
 * runs out (PCRE2_ERROR_JIT_STACKLIMIT), which the rules would count as a match. */
static void test_long_benign_value_no_match(void **state)
{
    apr_pool_t *p = *state;
    const char *ids[] = { "932100", "932150" }, *attacks[] = { "x; cat /etc/passwd", "ls -la" };
    pp_rx_state_t *st = pp_rx_state_create(p);
    for (size_t i = 0; i < 2; i++) {
        const char *err = NULL;
        pp_regex_t *re = pp_regex_compile(p, crs_pattern(p, ids[i]), 0, &err);
        if (!re)
            fail_msg("%s: %s", ids[i], err);
        for (apr_size_t kib = 8; kib <= 64; kib *= 2) {
            bool m = true;
            apr_status_t rv = pp_regex_exec(re, st, repeat(p, "a=1&b=2 ", kib * 1024), &m);
            if (rv != APR_SUCCESS)
                fail_msg("CRS %s on %zu KiB of \"a=1&b=2 \": undecided (%d)", ids[i],
                         (size_t)kib, rv);
            assert_false(m);
        }
        bool m = false; /* the pattern still matches what it is for */
        assert_int_equal(pp_regex_exec(re, st, pp_str_from_cstr(attacks[i]), &m),
                         APR_SUCCESS);
        assert_true(m);
    }
}

/* The limits stay for genuinely pathological input: exponential backtracking gives up. */
static void test_pathological_still_limited(void **state)
{
    apr_pool_t *p = *state;
    const char *err = NULL;
    pp_regex_t *re = pp_regex_compile(p, "^(a+)+$", 0, &err);
    assert_non_null(re);
    pp_rx_state_t *st = pp_rx_state_create(p);
    bool m = true;
    assert_int_equal(pp_regex_exec(re, st, repeat(p, "aaaaaaaaaa", 40), &m), APR_SUCCESS);
    assert_true(m);
    pp_str_t evil = repeat(p, "aaaaaaaaaa", 40);
    ((char *)evil.data)[evil.len - 1] = 'b';
    assert_int_equal(pp_regex_exec(re, st, evil, &m), APR_EGENERAL);
}

/* PCRE2's contexts are made at the first match (pp_rx_state_create makes none): limits given
 * before it apply to it, and limits given after it to the next match. */
static void test_limits_before_and_after_first_match(void **state)
{
    apr_pool_t *p = *state;
    const char *err = NULL;
    pp_regex_t *re = pp_regex_compile(p, "^(a+)+$", 0, &err);
    assert_non_null(re);
    pp_str_t v = repeat(p, "a", 14); /* 2^13 ways to split the a before the b at the end */
    ((char *)v.data)[v.len - 1] = 'b';
    bool m = true;
    pp_rx_state_t *st = pp_rx_state_create(p);
    assert_int_equal(pp_regex_exec(re, st, v, &m), APR_SUCCESS); /* the default limits */
    assert_false(m);
    pp_rx_state_t *low = pp_rx_state_create(p);
    pp_rx_state_set_limits(low, 50, 50);
    assert_int_equal(pp_regex_exec(re, low, v, &m), APR_EGENERAL);
    pp_rx_state_set_limits(st, 50, 50);
    assert_int_equal(pp_regex_exec(re, st, v, &m), APR_EGENERAL);
    pp_rx_state_set_limits(st, PP_RX_DEFAULT_MATCH_LIMIT, PP_RX_DEFAULT_DEPTH_LIMIT);
    assert_int_equal(pp_regex_exec(re, st, v, &m), APR_SUCCESS);
}

/* A configuration that is only validated (apache2 -t, parapet check) still has its patterns
 * checked and usable, but derives no prefilter literals (and skips the JIT). */
static void test_validate_only(void **state)
{
    apr_pool_t *p = *state, *vp;
    const char *err = NULL;
    assert_int_equal(apr_pool_create(&vp, p), APR_SUCCESS);
    pp_regex_t *full = pp_regex_compile(p, "foo(bar|baz)", 0, &err);
    assert_non_null(full);
    assert_non_null(pp_regex_needs(full));
    pp_regex_validate_only(vp);
    assert_null(pp_regex_compile(vp, "(unclosed", 0, &err));
    assert_non_null(strstr(err, "missing closing parenthesis"));
    pp_regex_t *re = pp_regex_compile(vp, "foo(bar|baz)", 0, &err);
    assert_non_null(re);
    assert_null(pp_regex_needs(re));
    pp_rx_state_t *st = pp_rx_state_create(vp);
    bool m = false;
    assert_int_equal(pp_regex_exec(re, st, pp_str_from_cstr("a foobaz"), &m), APR_SUCCESS);
    assert_true(m);
    assert_int_equal(pp_regex_exec(re, st, pp_str_from_cstr("a fooba"), &m), APR_SUCCESS);
    assert_false(m);
    /* the mark is the pool's: another pool compiles as always */
    assert_non_null(pp_regex_needs(pp_regex_compile(p, "foo(bar|baz)", 0, &err)));
}

/* A pattern whose text gives no literals but whose every match starts with one of a few special
 * bytes (PCRE2's start-of-match map, CRS 942420-942432's shape): those bytes are its needs,
 * and a value holding none of them is not given to PCRE2. A map with a letter, digit or space
 * in it, or none (a pattern that can match empty), gives no needs. Then random values: every
 * value a pattern matches meets its needs, with and without a sketch. */
static void test_first_bytes_needs(void **state)
{
    apr_pool_t *p = *state;
    const char *err = NULL;
    static const struct {
        const char *pattern;
        unsigned flags;
        const char *needs; /* NULL: none */
    } table[] = {
        { "((?:[~!@#$%^&*()\\-+=][^~!@#$%^&*()\\-+=]*?){2})", PP_RX_DOTALL,
          "!|#|$|%|&|(|)|*|+|-|=|@|^|~" },
        { "[!-/]{3}", PP_RX_ICASE, "!|\"|#|$|%|&|'|(|)|*|+|,|-|.|/" },
        { "\\W{4}", PP_RX_DOTALL, NULL },          /* the space starts a match */
        { "[!-/a]{3}", 0, NULL },                  /* a letter starts a match */
        { "(?:[!-/]|x?)", 0, NULL },               /* matches the empty string: no map */
    };
    pp_regex_t *re[sizeof table / sizeof table[0]];
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        re[i] = pp_regex_compile(p, table[i].pattern, table[i].flags, &err);
        assert_non_null(re[i]);
        const pp_rx_needs_t *n = pp_regex_needs(re[i]);
        const char *got = n ? pp_rx_needs_describe(p, n) : NULL;
        if (!got != !table[i].needs || (got && strcmp(got, table[i].needs) != 0))
            fail_msg("pattern \"%s\": needs \"%s\", expected \"%s\"", table[i].pattern,
                     got ? got : "(none)", table[i].needs ? table[i].needs : "(none)");
    }
    const pp_rx_needs_t *n0 = pp_regex_needs(re[0]);
    assert_false(pp_rx_needs_met(n0, pp_str_from_cstr("lorem ipsum dolor sit"), NULL));
    assert_true(pp_rx_needs_met(n0, pp_str_from_cstr("lorem (ipsum"), NULL));

    static const char *const alphabet[] = { "a", "B", " ", "!", "-", "/", "+", "=", "~", "@",
                                            "#", "\xe2\x80\x99", "x", "(", ")", "\n", "0" };
    pp_rx_state_t *st = pp_rx_state_create(p);
    uint64_t seed = 15;
    unsigned matches = 0;
    apr_pool_t *vp;
    assert_int_equal(apr_pool_create(&vp, p), APR_SUCCESS);
    for (int k = 0; k < 20000; k++) {
        char buf[256], *o = buf;
        for (uint64_t j = pp_test_rnd(&seed) % 16; j > 0; j--) {
            const char *a = alphabet[pp_test_rnd(&seed) % (sizeof alphabet / sizeof alphabet[0])];
            o = stpcpy(o, a);
        }
        pp_str_t v = { buf, (apr_size_t)(o - buf) };
        pp_sketch_t *sk = pp_sketch_build(vp, v);
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
            const pp_rx_needs_t *n = pp_regex_needs(re[i]);
            bool m = false;
            assert_int_equal(pp_regex_exec(re[i], st, v, &m), APR_SUCCESS);
            if (!m || !n)
                continue;
            matches++;
            if (!pp_rx_needs_met(n, v, sk) || !pp_rx_needs_met(n, v, NULL))
                fail_msg("pattern \"%s\" matches \"%s\" but its needs are not met",
                         table[i].pattern, pp_str_log_escape(vp, v, 200));
        }
        apr_pool_clear(vp);
    }
    assert_true(matches > 2000);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_long_benign_value_no_match, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_pathological_still_limited, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_limits_before_and_after_first_match,
                                        pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_validate_only, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_first_bytes_needs, pp_test_pool_setup,
                                        pp_test_pool_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
