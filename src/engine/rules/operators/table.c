/*
 * The operator registry, sorted by name. 1.9 rules only use rx19 (a case-insensitive regex,
 * reference §3.3); rx is the 2.x operator for the SecRule front end.
 */
#include "rules/operators/operators.h"

/* clang-format off */
static const pp_op_def_t op_table[] = {
    /* name          parse              exec             needs           help */
    { "detectSQLi",  pp_op_noarg_parse, pp_op_sqli_exec, NULL,           "libinjection-compatible SQL injection check (fingerprint as TX:0)" },
    { "detectXSS",   pp_op_noarg_parse, pp_op_xss_exec,  NULL,           "libinjection-compatible cross-site scripting check" },
    { "rx",          pp_op_rx_parse,    pp_op_rx_exec,   pp_op_rx_needs, "PCRE2 match, compiled once with JIT" },
    { "rx19",        pp_op_rx19_parse,  pp_op_rx_exec,   pp_op_rx_needs, "1.9 keyword: case-insensitive PCRE2 match" },
};
/* clang-format on */

const pp_op_def_t *pp_op_table(apr_size_t *n)
{
    *n = sizeof op_table / sizeof op_table[0];
    return op_table;
}

const pp_op_def_t *pp_op_find(const char *name)
{
    apr_size_t n;
    const pp_op_def_t *t = pp_op_table(&n);
    for (apr_size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}
