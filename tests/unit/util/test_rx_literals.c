/*
 * Unit tests for util/rx_literals.c, the literal prefilter in front of rule regexes. What must
 * never happen is a false miss: a value the regex matches but the prefilter rules out (that
 * would be an attack let through). So besides the derivation table, a differential test runs
 * every pattern of a realistic rule set and a set of syntax edge cases against many generated
 * values (random bytes, pattern fragments, flipped case) and checks "regex matches => needs
 * met", with and without the value's sketch, and for the union of a rule group.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "util/util.h"

static apr_pool_t *root;

#include "pp_test.h"

static const char *needs_of(apr_pool_t *p, const char *pattern)
{
    const pp_rx_needs_t *n = pp_rx_needs_derive(p, pattern);
    return n ? pp_rx_needs_describe(p, n) : NULL;
}

static void test_derivation(void **state)
{
    apr_pool_t *p = *state;
    static const char *const table[][2] = {
        /* pattern                                  needs ("" = none) */
        { "nikto", "nikto" },
        { "NiKtO", "nikto" },
        { "union[[:space:]]+(all[[:space:]]+)?select", "select" }, /* the longer word */
        { "(nmap|masscan|zgrab)", "nmap|masscan|zgrab" },
        { "/etc/(passwd|shadow)", "/etc/" },
        { "\\.\\./", "../" },
        { "\\.\\.\\x5c", "..\\" },
        { "'[[:space:]]*(and|or)[[:space:]]",             /* the words and the space after them */
          "and\t|and\n|and\v|and\f|and\r|and |or\t|or\n|or\v|or\f|or\r|or " },
        { "ab?c", "a" },                                /* b is optional: not contiguous */
        { "abc*d", "ab" },
        { "abc+d", "abc" },
        { "ab{0,3}cd", "cd" },
        { "ab{2}cd", "ab" },            /* b at least once: "ab" is contiguous */
        { "(abc)?def", "def" },
        { "(abc)*", "" },
        { "a.b", "a" },
        { "x(?=abc)", "x" },                            /* lookahead text is not consumed */
        { "(?i)abc", "abc" },           /* caseless: the comparison folds case anyway */
        { "ab(?i)cd", "ab" },           /* the run stops at the option */
        { "(?i:nikto|nmap)x", "niktox|nmapx" },
        { "(?is)abc", "" },                             /* other inline options: not modelled */
        { "(?i-x)abc", "" },
        { "(?i", "" },
        { "(?x) a b c", "" },
        { "\\Qabc\\E", "" },
        { "(a)\\1", "a" },                             /* a back reference: nothing known */
        { "(x)abc\\1def", "xabc" },
        { "(a)\\12b", "a" },                           /* \12: reference or octal, not a '2' */
        { "ab|", "" },                                  /* an empty branch needs nothing */
        { "abc|de", "abc|de" },
        { "(abc|d.)x", "x" },
        { "(abc|[de])xyz", "xyz" },
        { "[abc]def", "def" },
        { "[]abc]def", "def" },
        { "[^]a]bcd", "bcd" },
        { "[[:alpha:]]+bcd", "bcd" },
        { "a{,3}bcd", "" },                             /* "{,3}" differs between PCRE2 versions */
        { "\\x{41}bc", "" },
        { "\\d+abc", "abc" },
        { "^abc$", "abc" },
        { "\\babc\\b", "abc" },
        /* A '[' in a class opens a POSIX item only as PCRE2's check_posix_syntax says
         * ("[:x]" has no ":]" before the ']'): otherwise it is a literal byte. */
        { "[[:x]ab|c:]d]e", ":ab|[ab|xab|c:]d]e" },
        { "having[\\'\" ?[=<>]+", "having" },           /* CRS 942380 */
        { "xy[[=<>]z", "xy<z|xy=z|xy>z|xy[z" },
        { "ab[[:x\\]:]]cd", "" },                     /* "\\]" skipped: a bad POSIX name */
        { "ab[[.a.]]cd", "" },                          /* a collating item: an error */
        /* A pattern that is one group (after a leading (?i)) with weak needs: its body is
         * derived as a pattern, so a wide alternation one or two groups in counts (942470). */
        { "(?i:(?:alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|juliet|kilo|lima|"
          "mike|november|oscar|papa|quebec))",
          "alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|juliet|kilo|lima|mike|"
          "november|oscar|papa|quebec" },
        { "(?:(?i)(?>alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|juliet|kilo|lima|"
          "mike|november|oscar|papa|quebec))",
          "alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|juliet|kilo|lima|mike|"
          "november|oscar|papa|quebec" },
        { "((?:alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|juliet|kilo|lima|mike|"
          "november|oscar|papa|quebec)|a)", "" },        /* a branch without needs */
        { "(?=(?:alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|juliet|kilo|lima|"
          "mike|november|oscar|papa|quebec))", "" },     /* a lookahead consumes nothing */
        /* A '{' that cannot start a quantifier is a literal in every PCRE2 version. */
        { "function\\s*\\(\\s*\\)\\s*{", "function" },
        { "a{b", "a{b" },
        { "{x}", "{x}" },
        { "x{ 2}y", "" },                               /* a quantifier from 10.43 on */
        { "a{1,x}", "" },
        /* Escapes of fixed bytes; classes of one byte (folded) join the run, small ones are a
         * set of one-byte needs; big, negated or inexact ones need nothing. */
        { "a\\nb\\tc", "a\nb\tc" },
        { "[sS][eE][lL]", "sel" },
        { "(?i)[\\x41]bc", "abc" },
        { "[\\n\\r]", "\n|\r" },
        { "[ab]{2}", "a|b" },
        { "x?[[:blank:]]", "\t| " },
        { "(?:\\s|;|\\||&|<|>)", "\t|\n|\v|\f|\r| |;|||&|<|>" },
        { "[^\\W]x", "x" },
        { "[^\\Wa]", "" },
        { "[\\s\\d]", "" },
        { "[\\Sa]", "" },
        { "[^a]", "" },
        { "[\\x00-\\x1f]", "" },
        { "[a-\\d]", "" },
        { "[\\w-]", "" },
        { "[\\b]x", "" },                              /* backspace in a class: not modelled */
        /* The best requirement of a sequence: rarer, then fewer literals, then longer. */
        { "new\\s+function", "function" },
        { "(?:and|or)\\s*\\)", ")" },
        { "end\\s*\\);", ");" },
        /* A literal holding another of the set is redundant; a set too big is cut to shorter
         * prefixes until it fits, or gives nothing. */
        { "(?:lock|unlock|block)", "lock" },
        { "(?:ab1|ab2|ab3|ab4|ab5|ab6|ab7|ab8|ab9|ab10|ab11|ab12|ab13|ab14|ab15|ab16|ab17)",
          "ab1|ab2|ab3|ab4|ab5|ab6|ab7|ab8|ab9" },
        /* one alternation of more branches than an OR-set holds: every branch's requirement
         * (not cut to "x", as the same alternation followed by more pattern is) */
        { "(?:xa1|xb2|xc3|xd4|xe5|xf6|xg7|xh8|xi9|xj0|xk1|xl2|xm3|xn4|xo5|xp6|xq7)",
          "xa1|xb2|xc3|xd4|xe5|xf6|xg7|xh8|xi9|xj0|xk1|xl2|xm3|xn4|xo5|xp6|xq7" },
        { "(?:xa1|xb2|xc3|xd4|xe5|xf6|xg7|xh8|xi9|xj0|xk1|xl2|xm3|xn4|xo5|xp6|xq7)y?z", "x" },
        { "(?i)xa1|xb2|xc3|xd4|xe5|xf6|xg7|xh8|xi9|xj0|xk1|xl2|xm3|xn4|xo5|xp6|xq7|y",
          "x|y" },                                      /* a branch of one letter: no better */
        { "(?:alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|juliet|kilo|lima|mike|"
          "november|oscar|papa|quebec)",
          "alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|juliet|kilo|lima|mike|"
          "november|oscar|papa|quebec" },
        { "(?:alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|juliet|kilo|lima|mike|"
          "november|oscar|papa|quebec)+", "" },        /* more follows the group: cut, none */
        { "[\\Q]\\E]ab", "" },                       /* \Q..\E in a class */
        { "[\\c]]ab", "" },
        { "", "" },
        /* A run followed by a group of fixed texts multiplies out, up to NEEDS_MAX texts. */
        { "de(?:lete|sc)", "delete|desc" },
        { "(?:inser|selec)t", "insert|select" },
        { "(?i)DE(?:LETE|Sc)", "delete|desc" },
        { "de(?:l(?:ete|ay)|sc)", "delete|delay|desc" },
        { "(?:ab|a)c", "abc|ac" },
        { "q[xy](?:z|w)", "qxz|qxw|qyz|qyw" },
        { "(?:ab|cd)(?:ef|gh)\\b", "abef|abgh|cdef|cdgh" },
        { "de(?:lete|sc){1,3}x", "delete|desc" },      /* the first repetition only */
        { "x(?:bc|de)*yz", "yz" },
        { "de(?:lete|sc)?x", "de" },                    /* optional: nothing to join */
        { "de(?:lete|sc){0,3}x", "de" },
        { "de(?:lete|)x", "de" },                       /* an empty branch: no texts */
        { "de(?:|lete)x", "de" },
        { "a{2}(?:bc|de)", "bc|de" },                   /* a repeated byte ends the run */
        { "abc\\Rdef", "abc" },                       /* \R may be two bytes */
        { "x(?:ab.|cd)", "ab|cd" },                     /* a branch that is not fixed text */
        { "x(?:ab|c+)", "x" },
        { "x(?:(?=y)ab|cd)", "ab|cd" },                 /* a lookahead in a branch */
        { "ab(?=cd)ef", "ab" },
        /* 4 x 4 texts, then x 2 would be 32: the 16 are kept, the run starts again */
        { "x(?:a|b|c|d)(?:e|f|g|h)(?:i|j)",
          "xae|xaf|xag|xah|xbe|xbf|xbg|xbh|xce|xcf|xcg|xch|xde|xdf|xdg|xdh" },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *got = needs_of(p, table[i][0]);
        const char *want = table[i][1][0] ? table[i][1] : NULL;
        if (!want != !got || (want && strcmp(want, got) != 0))
            fail_msg("pattern \"%s\": needs \"%s\", expected \"%s\"", table[i][0],
                     got ? got : "(none)", want ? want : "(none)");
    }
}

/* Patterns of a realistic 1.9 rule set (the shared benchmark's categories) and edge cases. */
static const char *const patterns[] = {
    "de(?:lete|sc)", "(?:inser|selec)t", "(?i)DE(?:LETE|Sc)", "de(?:l(?:ete|ay)|sc)", "(?:ab|a)c",
    "q[xy](?:z|w)", "(?:ab|cd)(?:ef|gh)\\b", "de(?:lete|sc){1,3}x", "x(?:bc|de)*yz",
    "de(?:lete|sc)?x", "de(?:lete|)x", "de(?:|lete)x", "abc\\Rdef", "a\\R(?:b|c)",
    "x(?:(?=y)ab|cd)", "x(?:a|b|c|d)(?:e|f|g|h)(?:i|j)", "(?:a|b)(?:|c)(?:d|e)",
    "s(?:e|E)(?:l|L)(?:ect|)\\s+(?:f|F)rom", "(?:\\s|;)(?:ab|cd){2}(?:ef|)",
    "union[[:space:]]+(all[[:space:]]+)?select", "select.+from", "insert[[:space:]]+into",
    "drop[[:space:]]+(table|database)", "update[[:space:]]+[a-z0-9_]+[[:space:]]+set",
    "'[[:space:]]*(and|or)[[:space:]]+'?[0-9a-z]+'?[[:space:]]*(=|<|>|like)",
    "(;|')[[:space:]]*(shutdown|exec|execute|declare)[[:space:]]",
    "xp_(cmdshell|regread|regwrite|dirtree)", "benchmark[[:space:]]*\\(",
    "(sleep|pg_sleep)[[:space:]]*\\([[:space:]]*[0-9]+", "(load_file[[:space:]]*\\(|into[[:space:]]+(out|dump)file)",
    "char[[:space:]]*\\([[:space:]]*[0-9]+[[:space:]]*(,[[:space:]]*[0-9]+[[:space:]]*)+\\)",
    "concat(_ws)?[[:space:]]*\\(", "/\\*.*\\*/", "'[[:space:]]*(--|#)",
    "(having[[:space:]]+[0-9]+[[:space:]]*=|order[[:space:]]+by[[:space:]]+[0-9]+)",
    "<[[:space:]]*script", "on(load|unload|error|mouseover)[[:space:]]*=", "<[[:space:]]*i?frame",
    "<[[:space:]]*img[^>]+src", "document\\.(cookie|write|location|domain)", "\\.\\./",
    "\\.\\.\\x5c", "/etc/(passwd|shadow|group|hosts|issue)", "(boot|win|system)\\.ini",
    "\\.(bak|old|orig|save|swp|sql|inc|tmp)(\\?|$)",
    ";[[:space:]]*(ls|id|cat|uname|wget|curl|nc|bash|sh|ping|echo)([[:space:]]|$)",
    "`[^`]+`", "\\$\\([^)]+\\)", "/usr/(local/)?bin/(perl|python|gcc|cc|id|whoami)",
    "cmd(\\.exe)?[[:space:]]+/[ck]", "(rm[[:space:]]+-[a-z]*(rf|fr)|mkfifo|/dev/tcp/)",
    "^(https?|ftp)://.*\\?+$", "<\\?(php|=|[[:space:]])", "\\$_(GET|POST|COOKIE)\\[",
    "^(GLOBALS|_REQUEST|_SESSION)", "mosconfig_[a-z_]+", "(nmap|masscan|zgrab)",
    "(libwww-perl|lwp-trivial|python-urllib)", "/(\\.git|\\.svn|CVS|\\.ssh)/", "\\(\\)[[:space:]]*\\{",
    "^(GET|HEAD|POST|OPTIONS)$", "ab?c", "abc*d", "abc+d", "ab{0,3}cd", "ab{2}cd", "ab{2,}?cd",
    "(abc)?def", "x(?=abc)", "x(?!abc)y", "(?<=ab)cd", "(?:ab|cd)+ef", "a(?>bc|b)c", "abc|de",
    "[[:x]ab|c:]d]e", "having[\\'\" ?[=<>]+", "xy[[=<>]z", "a[[:b]c|d:]e", "[[=x]=]]y",
    "(?i:(?:alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|juliet|kilo|lima|mike|"
    "november|oscar|papa|quebec))", "(?:(?i)(?:ab|cd|ef|gh|ij|kl|mn|op|qr|st|uv|wx|yz|"
    "a1|b2|c3|d4|e5))", "[[:alpha:]]xyz", "[\\Q]\\E]ab", "(abc|d.)x", "[]abc]def", "[^]a]bcd",
    "a\\tb", "\\x41\\x42c", "a\\.b\\*c", "\\bword\\b",
    "(?i)union[[:space:]]+select", "(?i:nmap|masscan)x?", "sel(?i)ECT", "(?i:pass(?i)wd)",
    /* literal '{', fixed-byte escapes, classes as bytes, redundant and cut literals */
    "function\\s*\\(\\s*\\)\\s*{", "a{b", "{x}", "\\$+\\s*{.+}", "a\\nb", "x\\ry\\t",
    "[sS][eE][lL]", "(?i)[\\x41]bc", "[\\n\\r]", "[ab]{2}c", "x?[[:blank:]]y",
    "(?:\\s|;|\\||&|<|>)", "[^\\W]x", "[^\\Wa]", "x\\Ry", "\\sid\\s", "[^a-z]{2}",
    "(?:lock|unlock|block)", "(?:ab1|ab2|ab3|ab4|ab5|ab6|ab7|ab8|ab9|ab10|ab11|ab12|ab13|ab14)",
    "(?:xa1|xb2|xc3|xd4|xe5|xf6|xg7|xh8|xi9|xj0|xk1|xl2|xm3|xn4|xo5|xp6|xq7)",
    "(x)abc\\1def", "(ab|cd)\\1", "(\\w+)=\\1", "(a)\\12b",
    "(?:union|select|from|passwd|script|etc|php|win|ini|abc|def|http://|ftp://|rm|ls|-rf|a1|b2)",
    "(?i:ab|bc|cd|def|abc|etc|passwd|union all|select|from|where|script|php|\\.ini|'|win)",
    "end\\s*\\);", "[\\x5c/]\\.\\.", "[[:digit:]][[:space:]]x", "[\\d.]+e",
    /* shapes of CRS 3.3.4 patterns (tests/unit/rules/operators/test_operators.c runs the
     * package's own against the CRS corpus) */
    "(?:get|post|put|lock|unlock)\\s+(?:\\/|\\w)[^\\s]*(?:\\s+http\\/\\d|[\\r\\n])",
    "(?:;|\\{|\\||&&|\\n|\\$\\(|`|\\${|<\\()\\s*(?:{|\\w+=(?:[^\\s]*|\\$.*)\\s+|!\\s*)*"
    "[\\\\'\"]*(?:l[\\\\'\"]*s|i[\\\\'\"]*d|c[\\\\'\"]*a[\\\\'\"]*t)\\b",
    "(?:new\\s+Function|\\beval)\\s*\\(|function\\s*\\(\\s*\\)\\s*{",
};

static const char *const alphabet[] = {
    "union", "select", "SeLeCt", "from", " ", "  ", "\t", "'", "\"", ";", "|", "`", "$(", ")",
    "(", "<", ">", "/", "../", "..\\", "etc", "passwd", "script", "ls", "id", "-rf", "rm",
    "=", "?", "http://", "ftp://", "php", "GET", "get", "\\", "a", "b", "c", "d", "e", "x", "y",
    "ab", "bc", "cd", "def", "abc", "0", "12", ".ini", "win", "{", "}", "()", "/*", "*/", "--",
    "#", "and", "or", "OR", "xp_", "cmdshell", "_", "mosconfig", "nmap", "\n", "\xff", "word",
    "document.", "cookie", "img", "src", "on", "load", "char", "concat", "sleep", "into",
    "outfile", ".bak", ".git/", "/usr/bin/id", "cmd", "/c", "<?", "GLOBALS",
    "\r", "\x0b", "\x85", "}", ":", "\"", "&#", "function", "eval", "http/1", "POST", "put",
    "lock", "ab1", "ab12", "xq7", ");", "end", "S", "eL", "$", "${", "fromCharCode", "_js_",
    "O:", "12:", "{x}", "{", "&&", "||", "!", "'ls'", "c\\at", "\\",
};

static pp_str_t random_value(apr_pool_t *p, unsigned *seed)
{
    /* Mostly short values; one in eight long enough for the 4-gram map (util: LONG_VALUE). */
    size_t n = rand_r(seed) % 8 ? (size_t)(rand_r(seed) % 12) : 60 + (size_t)(rand_r(seed) % 90);
    char *out = apr_palloc(p, 4096), *o = out;
    for (size_t i = 0; i < n; i++) {
        const char *frag = alphabet[rand_r(seed) % (sizeof alphabet / sizeof alphabet[0])];
        size_t len = strlen(frag);
        if (rand_r(seed) % 5 == 0) { /* a random byte instead */
            *o++ = (char)(rand_r(seed) % 256);
            continue;
        }
        for (size_t k = 0; k < len; k++) {
            char c = frag[k];
            if (rand_r(seed) % 3 == 0 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
                c ^= 0x20;
            *o++ = c;
        }
    }
    return (pp_str_t){ out, (apr_size_t)(o - out) };
}

static void test_no_false_miss(void **state)
{
    apr_pool_t *p = *state;
    const size_t np = sizeof patterns / sizeof patterns[0];
    pp_regex_t **re = apr_palloc(p, np * sizeof *re);
    const pp_rx_needs_t **needs = apr_palloc(p, np * sizeof *needs);
    unsigned with_needs = 0;
    for (size_t i = 0; i < np; i++) {
        const char *err = NULL;
        re[i] = pp_regex_compile(p, patterns[i], PP_RX_ICASE, &err);
        if (!re[i])
            fail_msg("%s: %s", patterns[i], err);
        needs[i] = pp_regex_needs(re[i]);
        with_needs += needs[i] != NULL;
    }
    assert_true(with_needs > np * 3 / 4); /* the derivation is useful, not just safe */

    /* Unions of consecutive patterns that all have needs, as rule groups are built. */
    const pp_rx_needs_t *groups[np];
    size_t gsize[np];
    for (size_t i = 0; i < np; i++) {
        size_t k = 0;
        while (i + k < np && k < 24 && needs[i + k]) /* long unions use the 2-gram index */
            k++;
        gsize[i] = k;
        groups[i] = k ? pp_rx_needs_union(p, needs + i, (unsigned)k) : NULL;
    }

    pp_rx_state_t *st = pp_rx_state_create(p);
    unsigned seed = 1, matches = 0;
    apr_pool_t *vp;
    apr_pool_create(&vp, p);
    for (int iter = 0; iter < 20000; iter++) {
        pp_str_t v = random_value(vp, &seed);
        pp_sketch_t *sk = pp_sketch_build(vp, v);
        uint64_t matched = 0;
        for (size_t i = 0; i < np; i++) {
            bool m = false;
            assert_int_equal(pp_regex_exec(re[i], st, v, &m), APR_SUCCESS);
            if (m)
                matched |= i < 64 ? 1ull << i : 0;
            if (!m || !needs[i])
                continue;
            matches++;
            if (!pp_rx_needs_met(needs[i], v, sk) || !pp_rx_needs_met(needs[i], v, NULL))
                fail_msg("false miss: pattern \"%s\" matches \"%s\" but needs %s are not met",
                         patterns[i], pp_str_log_escape(vp, v, 200),
                         pp_rx_needs_describe(vp, needs[i]));
        }
        for (size_t i = 0; i < np && i < 64; i++) {
            if (!groups[i])
                continue;
            uint64_t want = (matched >> i) & ((gsize[i] == 64 ? 0 : 1ull << gsize[i]) - 1);
            uint64_t got = pp_rx_needs_members(groups[i], v, sk);
            if ((want & got) != want)
                fail_msg("group at %zu: members %llx match \"%s\", union says %llx", i,
                         (unsigned long long)want, pp_str_log_escape(vp, v, 200),
                         (unsigned long long)got);
        }
        apr_pool_clear(vp);
    }
    assert_true(matches > 1000); /* the generator reaches the patterns often */
}

/* Needs of a phrase list (@pm): folded, cut to prefixes within the node budget, a text that
 * starts with another left out; an empty text gives none. Then "a value holding a phrase
 * (either case) meets the needs" over random lists and values, with and without the sketch,
 * at budgets that cut the phrases to a few bytes. */
static const char *texts_needs(apr_pool_t *p, const char *const *t, unsigned n, unsigned budget)
{
    pp_str_t *s = apr_palloc(p, n * sizeof *s);
    for (unsigned i = 0; i < n; i++)
        s[i] = (pp_str_t){ t[i], strlen(t[i]) };
    const pp_rx_needs_t *nd = pp_rx_needs_of_texts(p, s, n, budget);
    return nd ? pp_rx_needs_describe(p, nd) : NULL;
}

static uint64_t rnd64(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_phrase_needs(void **state)
{
    apr_pool_t *p = *state;
    const char *const a[] = { "Abc", "abcd", "xyz", "ABX" };
    assert_string_equal(texts_needs(p, a, 4, 100), "abc|abx|xyz");
    assert_string_equal(texts_needs(p, a, 4, 6), "ab|xy"); /* 3 bytes: 7 nodes, 2: 4 */
    assert_string_equal(texts_needs(p, a, 4, 3), "a|x");
    const char *const e[] = { "abc", "" };
    assert_null(texts_needs(p, e, 2, 100));
    assert_null(texts_needs(p, e, 0, 100));
    const char *const longp[] = { "0123456789012345678901234567890123456789" };
    assert_string_equal(texts_needs(p, longp, 1, 100), "01234567890123456789012345678901");

    static const char bytes[] = "abcABC/.-_%$(\x80\xe9";
    uint64_t x = 0x2545F4914F6CDD1Dull;
    unsigned hits = 0;
    for (unsigned round = 0; round < 300; round++) {
        unsigned n = 1 + (unsigned)(rnd64(&x) % 40);
        pp_str_t *ph = apr_palloc(p, n * sizeof *ph);
        for (unsigned i = 0; i < n; i++) {
            unsigned len = 1 + (unsigned)(rnd64(&x) % 40);
            char *b = apr_palloc(p, len);
            for (unsigned j = 0; j < len; j++)
                b[j] = bytes[rnd64(&x) % (sizeof bytes - 1)];
            ph[i] = (pp_str_t){ b, len };
        }
        unsigned budget = 16 + (unsigned)(rnd64(&x) % 200);
        const pp_rx_needs_t *nd = pp_rx_needs_of_texts(p, ph, n, budget);
        assert_non_null(nd); /* one byte a text fits in 16 nodes (12 folded bytes) */
        for (unsigned v = 0; v < 20; v++) {
            /* a value around one phrase, its letters' case flipped at random */
            const pp_str_t *one = &ph[rnd64(&x) % n];
            char buf[128];
            unsigned len = 0, pre = (unsigned)(rnd64(&x) % 20);
            for (unsigned j = 0; j < pre; j++)
                buf[len++] = bytes[rnd64(&x) % (sizeof bytes - 1)];
            for (apr_size_t j = 0; j < one->len; j++) {
                char c = one->data[j];
                buf[len++] = rnd64(&x) % 2 && c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
            }
            pp_str_t val = { buf, len };
            if (!pp_rx_needs_met(nd, val, pp_sketch_build(p, val)) ||
                !pp_rx_needs_met(nd, val, NULL))
                fail_msg("round %u: \"%.*s\" holds a phrase, needs %s not met", round,
                         (int)len, buf, pp_rx_needs_describe(p, nd));
            hits++;
        }
    }
    assert_int_equal(hits, 300 * 20);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_derivation, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_no_false_miss, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_phrase_needs, pp_test_pool_setup,
                                        pp_test_pool_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
