/*
 * Vectors for the operator registry (rules/operators/table.c), one or more per row:
 * test_operators.c runs them and test_registry.c fails when a row has none (style §9).
 * A vector either expects a parse error (error: a substring of the message) or runs exec on
 * the input and expects a match or not.
 */
#ifndef PP_OPERATOR_VECTORS_H
#define PP_OPERATOR_VECTORS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct op_vector_t {
    const char *name;  /* operator row */
    const char *arg;
    const char *in;    /* value given to exec */
    size_t in_len;
    bool match;
    const char *error; /* non-NULL: parse must fail with a message containing this */
} op_vector_t;

#define OPV(op, arg, lit, m) { op, arg, lit, sizeof(lit) - 1, m, NULL }
#define OPV_ERR(op, arg, err) { op, arg, "", 0, false, err }

/* clang-format off */
static const op_vector_t op_vectors[] = {
    /* ModSecurity 2.9.7's string operators (strops.c); each checked against the module by
     * tests/e2e/test_ms2_operators.py. An empty argument matches anything. */
    OPV("beginsWith", "ab",      "abc",                 true),
    OPV("beginsWith", "ab",      "xab",                 false),
    OPV("beginsWith", "abc",     "ab",                  false),
    OPV("beginsWith", "",        "",                    true),
    OPV("contains",   "b\0",     "abc",                 true),  /* the argument is a C string */
    OPV("contains",   "bc",      "abcd",                true),
    OPV("contains",   "BC",      "abcd",                false), /* bytes, case-sensitive */
    OPV("contains",   "",        "",                    true),
    OPV("contains",   "b",       "a\0b",                true),
    OPV("containsWord", "ab",    "x ab-y",              true),
    OPV("containsWord", "ab",    "ab",                  true),
    OPV("containsWord", "ab",    "xab",                 false),
    OPV("containsWord", "ab",    "ab_",                 false), /* '_' is a word byte */
    OPV("containsWord", "ab",    "\xe9" "ab\xe9",       true),  /* bytes >= 0x80 are not */
    OPV("containsWord", "ab",    "abab ab",             true),
    OPV("containsWord", "",      "x",                   true),
    OPV("detectSQLi", "",       "1' OR '1'='1",        true),  /* fingerprint s&sos */
    OPV("detectSQLi", "",       "1 UNION SELECT 1,2--", true), /* 1UE1c */
    OPV("detectSQLi", "",       "admin'--",            true),  /* sc */
    OPV("detectSQLi", "",       "O'Brien",             false),
    OPV("detectSQLi", "",       "1 union",             false), /* "1U" alone is too common */
    OPV("detectSQLi", "",       "",                    false),
    OPV("detectSQLi", "ignored", "1 --",               true),  /* an argument is ignored */
    OPV("detectXSS",  "",       "<script>alert(1)</script>", true),
    OPV("detectXSS",  "",       "<x oncustom=1>",      true),  /* any on* of 5+ bytes */
    OPV("detectXSS",  "",       "<x on=1>",            false),
    OPV("detectXSS",  "",       "<a href=&#x6A;avascript:x>", true),
    OPV("detectXSS",  "",       "<b>bold</b>",         false),
    OPV("detectXSS",  "",       "it's 5 < 6",          false),
    OPV("endsWith",   "bc",      "abc",                 true),
    OPV("endsWith",   "bc",      "bcx",                 false),
    OPV("endsWith",   "",        "x",                   true),
    OPV("eq",         "5",       "5abc",                true),  /* atoi: leading digits count */
    OPV("eq",         "0",       "abc",                 true),  /* junk is 0 */
    OPV("eq",         "0",       "",                    true),
    OPV("eq",         "5",       " \t5",                true),
    OPV("eq",         "-3",      "-3x",                 true),
    OPV("eq",         "5",       "+-5",                 false),
    OPV("eq",         "-1",      "99999999999999999999", true), /* LONG_MAX cut to int */
    OPV("eq",         "1410065407", "9999999999",       true),  /* low 32 bits */
    OPV("eq",         "5abc",    "5",                   true),  /* the argument too */
    OPV("eq",         "5",       "\0" "5",              false), /* the value ends at NUL */
    OPV_ERR("fuzzyHash", "x",    "not supported"),
    OPV("ge",         "5",       "5",                   true),
    OPV("ge",         "5",       "4",                   false),
    OPV("geoLookup",  "",        "1.2.3.4",             false), /* no database: a failed lookup */
    OPV("gsbLookup",  "x",       "http://example.test/", false), /* accepted, never matches */
    OPV("gt",         "5",       "6",                   true),
    OPV("gt",         "5",       "5",                   false),
    OPV("inspectFile", "/bin/echo", "1",                false), /* echo prints "1": passes */
    OPV("inspectFile", "/bin/echo", "0 no",             true),  /* prints "0 no": refused */
    OPV("inspectFile", "/bin/false", "x",               true),  /* no output: fails closed */
    OPV_ERR("inspectFile", "/nonexistent/approve.sh", "does not exist"),
    OPV_ERR("inspectFile", "approve.lua", "Lua scripts are not supported"),
    OPV("ipMatch",    "127.0.0.1,::1", "127.0.0.1",     true),
    OPV("ipMatch",    "127.0.0.1,::1", "::1",           true),
    OPV("ipMatch",    "127.0.0.1,::1", "127.0.0.2",     false),
    OPV("ipMatch",    "10.0.0.0/8", "10.200.1.1",       true),
    OPV("ipMatch",    "10.0.0.0/8", "11.0.0.1",         false),
    OPV("ipMatch",    "1.2.3.4/31", "1.2.3.5",          true),
    OPV("ipMatch",    "2001:db8::/32", "2001:DB8::1",   true),
    OPV("ipMatch",    "1.2.3.0/24", "1.2.3.4\0x",       true),  /* read as a C string */
    OPV("ipMatch",    "1.2.3.0/24", "01.2.3.4",         false), /* not an address */
    OPV("ipMatch",    "1.2.3.0/24", "",                 false),
    OPV_ERR("ipMatch", "1.2.3.4/32", "Could not add entry \"1.2.3.4/32\""), /* as 2.9.7 */
    OPV_ERR("ipMatch", "::1/128", "Could not add entry"),
    OPV_ERR("ipMatch", "1.2.3.4/0", "Could not add entry"),
    OPV_ERR("ipMatch", "1.2.3.4, 5.6.7.8", "Could not add entry \" 5.6.7.8\""),
    OPV_ERR("ipMatchF", "/nonexistent/ips.txt", "Could not open ipmatch file"),
    OPV_ERR("ipMatchFromFile", "/nonexistent/ips.txt", "Could not open ipmatch file \"/nonexistent/ips.txt\""),
    OPV("le",         "5",       "5",                   true),
    OPV("le",         "5",       "6",                   false),
    OPV("lt",         "5",       "-6",                  true),
    OPV("lt",         "5",       "5",                   false),
    OPV("noMatch",    "",        "x",                   false),
    /* @pm: case-insensitive; ModSecurity's shortened failure links and reporting (pm.c). */
    OPV("pm",         "foo bar", "xFOOx",               true),
    OPV("pm",         "foo bar", "fo ba",               false),
    OPV("pm",         "foo bar", "",                    false), /* an empty value never */
    OPV("pm",         "|61 62|c", "xABCx",              true),  /* hex bytes */
    OPV("pm",         "a\\;b",   "a;b",                 true),  /* escapes */
    OPV("pm",         "\"ab cd\"", "cd",                true),  /* quotes go, blanks split */
    OPV("pm",         "a\\x",    "a\\x",                true),  /* a bad escape: taken as written */
    OPV("pm",         "abcd bc", "abcx",                true),  /* reports "abc": see pm.c */
    OPV("pm",         "Ab AcaB A bbaB c AB", "bBba ABcb", true),
    OPV_ERR("pmFromFile", "/nonexistent/p.data", "Could not open phrase file \"/nonexistent/p.data\""),
    OPV_ERR("pmFromFile", "http://example.invalid/p.data", "only local files"),
    OPV_ERR("pmf",    "/nonexistent/p.data", "Could not open phrase file"),
    /* @rbl's lookups are tested against a resolver on 127.0.0.1 (tests/e2e/test_rbl.py); a
     * value that makes no DNS name is not listed without any question asked. */
    OPV("rbl",        "sbl.example", "a..b",            false),
    OPV_ERR("rbl",    "",        "needs a zone"),
    OPV_ERR("rsub",   "s/a/b/",  "not supported"),
    OPV("rx",   "^abc$",        "abc",                 true),
    OPV("rx",   "^abc$",        "ABC",                 false), /* rx is case-sensitive */
    OPV("rx",   "^abc$",        "abc\n",               false), /* $ is the very end (DOLLAR_ENDONLY) */
    OPV("rx",   "x.y",          "x\ny",                true),  /* . matches a newline (DOTALL) */
    OPV("rx",   "a\\x00b",      "a\0b",                true),  /* values may hold NUL */
    OPV("rx",   "select.+from", "xx select * from t", true),
    OPV("rx",   "select.+from", "selectfrom",          false),
    OPV("rx",   "",             "",                    true),
    OPV_ERR("rx", "(bad", "missing closing parenthesis at offset 4"),
    OPV_ERR("rx", "a{2,1}", "invalid regular expression \"a{2,1}\""),
    OPV("rx19", "^abc$",        "ABC",                 true),  /* 1.9 keywords ignore case */
    OPV("rx19", "<script",      "x<ScRiPt>",           true),
    OPV("rx19", "<script",      "x<scr ipt>",          false),
    OPV("rx19", "union.+select", "1 UNION all SELECT", true),
    OPV("rx19", "[0-9]{4}",     "12a34",               false),
    OPV("rx19", "\\.\\./",      "/a/../b",             true),
    OPV_ERR("rx19", "[z-a]",    "range out of order"),
    OPV("streq",      "abc",     "abc",                 true),
    OPV("streq",      "abc",     "abcd",                false),
    OPV("streq",      "",        "",                    true),
    OPV("streq",      "abc",     "ABC",                 false),
    OPV("strmatch",   "bc",      "abcd",                true),
    OPV("strmatch",   "a|62|c",  "xabc",                true),  /* @pm content syntax */
    OPV("strmatch",   "",        "",                    true),
    OPV("strmatch",   "bd",      "abcd",                false),
    OPV("unconditionalMatch", "", "",                   true),
    OPV("unconditionalMatch", "", "x",                  true),
    OPV("validateByteRange", "32-126", "abc ~",         false),
    OPV("validateByteRange", "32-126", "a\tb",          true),
    OPV("validateByteRange", "9,10,13,32-126", "a\tb",  false),
    OPV("validateByteRange", "1-255", "a\0b",           true),
    OPV("validateByteRange", "1-2-3", "\x02",           false), /* "2-3" is atoi 2 */
    OPV("validateByteRange", "65", "A",                 false),
    OPV("validateByteRange", "65", "",                  false),
    OPV_ERR("validateByteRange", "10-5", "Invalid range: 10-5"),
    OPV_ERR("validateByteRange", "256", "Invalid range value: 256"),
    OPV_ERR("validateByteRange", "-5", "Invalid range start value: -5"), /* a range from atoi("-5") */
    OPV_ERR("validateByteRange", "1-300", "Invalid range end value: 300"),
    OPV_ERR("validateDTD", "/nonexistent/x.dtd", "Failed to load DTD: /nonexistent/x.dtd"),
    OPV_ERR("validateDTD", "", "needs the DTD"),
    OPV_ERR("validateHash", "x", "not supported"),
    OPV_ERR("validateSchema", "/nonexistent/x.xsd", "Failed to load Schema: /nonexistent/x.xsd"),
    OPV_ERR("validateSchema", "", "needs the schema"),
    OPV("validateUrlEncoding", "", "a%41b",             false),
    OPV("validateUrlEncoding", "", "a%4g",              true),
    OPV("validateUrlEncoding", "", "a%4",               true),
    OPV("validateUrlEncoding", "", "%",                 true),
    OPV("validateUtf8Encoding", "", "\xc3\xa9\xe2\x82\xac", false),
    OPV("validateUtf8Encoding", "", "\xc3",             true),
    OPV("validateUtf8Encoding", "", "\xc0\xaf",         true),  /* overlong */
    OPV("validateUtf8Encoding", "", "\xed\xa0\x80",     true),  /* surrogate */
    OPV("validateUtf8Encoding", "", "\xf4\x90\x80\x80", false), /* above U+10FFFF, let through */
    OPV("validateUtf8Encoding", "", "\xf5\x80\x80\x80", true),
    OPV("validateUtf8Encoding", "", "\x80",             true),
    /* @verifyCC / @verifyCPF / @verifySSN: regex candidates, then ModSecurity 2.9.7's checks
     * (verify.c); checked against the module by tests/e2e/test_ms2_operators.py. */
    OPV("verifyCC",   "\\d{16}", "card 4111111111111111.", true),
    OPV("verifyCC",   "\\d{16}", "4111111111111112",   false), /* Luhn fails */
    OPV("verifyCC",   "\\d{16}", "14111111111111111",  true),  /* again one byte on */
    OPV("verifyCC",   "(?:\\d{4}[- ]?){3}\\d{4}", "4111-1111 1111-1111", true), /* digits only */
    OPV("verifyCC",   "\\d{16}", "",                   false),
    OPV("verifyCC",   "^\\d+$",  "x\n0",                true),  /* MULTILINE; "0" passes Luhn */
    OPV_ERR("verifyCC", "(",     "invalid regular expression"),
    OPV("verifyCPF",  "\\d{3}\\.\\d{3}\\.\\d{3}-\\d{2}", "cpf 529.982.247-25", true),
    OPV("verifyCPF",  "\\d{3}\\.\\d{3}\\.\\d{3}-\\d{2}", "529.982.247-26", false),
    OPV("verifyCPF",  "\\d{11}", "11111111111",        false), /* all alike */
    OPV("verifyCPF",  "\\d{11}", "01234567890",        false), /* the listed sequence */
    OPV("verifyCPF",  "\\d{11}", "52998224725",        true),
    OPV("verifySSN",  "\\d{3}-\\d{2}-\\d{4}", "ssn 078-05-1120", true),
    OPV("verifySSN",  "\\d{3}-\\d{2}-\\d{4}", "123-45-6789", false), /* ascending */
    OPV("verifySSN",  "\\d{3}-\\d{2}-\\d{4}", "666-12-3456", false),
    OPV("verifySSN",  "\\d{3}-\\d{2}-\\d{4}", "740-12-3456", false),
    OPV("verifySSN",  "\\d{3}-\\d{2}-\\d{4}", "078-00-1120", false), /* zero group */
    OPV("verifySSN",  "\\d{3}-\\d{2}-\\d{4}", "555-55-5555", false), /* all alike */
    OPV("within",     "GET POST", "POST",               true),
    OPV("within",     "GET POST", "PUT",                false),
    OPV("within",     "GET",     "",                    true),  /* an empty value always */
    OPV("within",     "",        "x",                   false),
};
/* clang-format on */

#endif
