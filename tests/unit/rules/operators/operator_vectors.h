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
    OPV("rx",   "^abc$",        "abc",                 true),
    OPV("rx",   "^abc$",        "ABC",                 false), /* rx is case-sensitive */
    OPV("rx",   "^abc$",        "abc\n",               false), /* $ is the very end (DOLLAR_ENDONLY) */
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
};
/* clang-format on */

#endif
