/*
 * The operator registry, sorted by name. 1.9 rules only use rx19 (a case-insensitive regex,
 * reference §3.3); rx is the 2.x operator for the SecRule front end. The rows with an expand
 * column take macro templates (%{...}) as ModSecurity 2.9.7 does (reference §8.1; rules/oparg.c).
 */
#include "rules/operators/operators.h"

/* clang-format off */
static const pp_op_def_t op_table[] = {
    /* name                  parse                    exec                      needs           help, expand, words */
    { "beginsWith",          pp_op_str_parse,         pp_op_beginswith_exec,    pp_op_str_needs,     "value starts with the argument (empty argument: always)", pp_op_text_expand, pp_op_string_words },
    { "contains",            pp_op_str_parse,         pp_op_contains_exec,      pp_op_str_needs,     "value contains the argument (empty argument: always)", pp_op_text_expand, pp_op_string_words },
    { "containsWord",        pp_op_str_parse,         pp_op_containsword_exec,  pp_op_str_needs,     "value contains the argument between non-word bytes or the edges", pp_op_text_expand, pp_op_string_words },
    { "detectSQLi",          pp_op_noarg_parse,       pp_op_sqli_exec,          NULL,           "libinjection-compatible SQL injection check (fingerprint as TX:0)", NULL, pp_op_sqli_words },
    { "detectXSS",           pp_op_xss_parse,         pp_op_xss_exec,           pp_op_xss_needs, "libinjection-compatible cross-site scripting check", NULL, pp_op_xss_words },
    { "endsWith",            pp_op_str_parse,         pp_op_endswith_exec,      pp_op_str_needs,     "value ends with the argument (empty argument: always)", pp_op_text_expand, pp_op_string_words },
    { "eq",                  pp_op_num_parse,         pp_op_eq_exec,            NULL,           "atoi(value) == atoi(argument)", pp_op_text_expand, pp_op_eq_words, .cmp = PP_CMP_EQ },
    { "fuzzyHash",           pp_op_unsupported_parse, pp_op_never_exec,         NULL,           "not supported (refused at start-up: Debian's ssdeep-less ModSecurity 2.9.7 accepts it and fails open on every request)" },
    { "ge",                  pp_op_num_parse,         pp_op_ge_exec,            NULL,           "atoi(value) >= atoi(argument)", pp_op_text_expand, pp_op_ge_words, .cmp = PP_CMP_GE },
    { "geoLookup",           pp_op_anyarg_parse,      pp_op_geolookup_exec,     NULL,           "the address is in SecGeoLookupDb's MaxMind database: fills GEO (a failed lookup empties it)", NULL, pp_op_geolookup_words },
    { "gsbLookup",           pp_op_anyarg_parse,      pp_op_never_exec,         NULL,           "no Google Safe Browsing database: never matches (warned at start-up)", .warn = "Parapet has no Google Safe Browsing database (ModSecurity's SecGsbLookupDb format is gone): the operator never matches" },
    { "gt",                  pp_op_num_parse,         pp_op_gt_exec,            NULL,           "atoi(value) > atoi(argument)", pp_op_text_expand, pp_op_gt_words, .cmp = PP_CMP_GT },
    { "inspectFile",         pp_op_inspect_parse,     pp_op_inspect_exec,       NULL,           "the approver script, run on the file the value names, does not print 1 first (fails closed)" },
    { "ipMatch",             pp_op_ipmatch_parse,     pp_op_ipmatch_exec,       NULL,           "value is an IPv4/IPv6 address in one of the comma-separated addresses or CIDR blocks", NULL, pp_op_ipmatch_words },
    { "ipMatchF",            pp_op_ipmatchf_parse,    pp_op_ipmatch_exec,       NULL,           "@ipMatchFromFile", NULL, pp_op_ipmatchf_words },
    { "ipMatchFromFile",     pp_op_ipmatchf_parse,    pp_op_ipmatch_exec,       NULL,           "@ipMatch with one entry a line from a file (relative to the rule file)", NULL, pp_op_ipmatchf_words },
    { "le",                  pp_op_num_parse,         pp_op_le_exec,            NULL,           "atoi(value) <= atoi(argument)", pp_op_text_expand, pp_op_le_words, .cmp = PP_CMP_LE },
    { "lt",                  pp_op_num_parse,         pp_op_lt_exec,            NULL,           "atoi(value) < atoi(argument)", pp_op_text_expand, pp_op_lt_words, .cmp = PP_CMP_LT },
    { "noMatch",             pp_op_anyarg_parse,      pp_op_never_exec,         NULL,           "never matches" },
    { "pm",                  pp_op_pm_parse,          pp_op_pm_exec,            pp_op_pm_needs, "any of the blank-separated phrases, case-insensitive (Aho-Corasick)", NULL, pp_op_pm_words, NULL, true },
    { "pmFromFile",          pp_op_pmf_parse,         pp_op_pm_exec,            pp_op_pm_needs, "@pm with one phrase a line from files (relative to the rule file)", NULL, pp_op_pm_words, NULL, true },
    { "pmf",                 pp_op_pmf_parse,         pp_op_pm_exec,            pp_op_pm_needs, "@pmFromFile", NULL, pp_op_pm_words, NULL, true },
    { "rbl",                 pp_op_rbl_parse,         pp_op_rbl_exec,           NULL,           "the reversed IPv4 address (or the name) under the zone has an address: one DNS question, bounded wait, fail open" },
    { "rsub",                pp_op_unsupported_parse, pp_op_never_exec,         NULL,           "not supported (refused at start-up)" },
    { "rx",                  pp_op_rx_parse,          pp_op_rx_exec,            pp_op_rx_needs, "PCRE2 match, compiled once with JIT", pp_op_rx_expand, .exact = pp_op_rx_exact },
    { "rx19",                pp_op_rx19_parse,        pp_op_rx_exec,            pp_op_rx_needs, "1.9 keyword: case-insensitive PCRE2 match", .exact = pp_op_rx_exact },
    { "streq",               pp_op_str_parse,         pp_op_streq_exec,         pp_op_str_needs,     "value equals the argument (bytes)", pp_op_text_expand, pp_op_string_words },
    { "strmatch",            pp_op_strmatch_parse,    pp_op_strmatch_exec,      pp_op_str_needs,     "value contains the argument (@pm content syntax)", NULL, pp_op_strmatch_words },
    { "unconditionalMatch",  pp_op_anyarg_parse,      pp_op_always_exec,        NULL,           "always matches" },
    { "validateByteRange",   pp_op_byterange_parse,   pp_op_byterange_exec,     NULL,           "some byte is outside the listed ranges (n or a-b, comma-separated)" },
    { "validateDTD",         pp_op_dtd_parse,         pp_op_dtd_exec,           NULL,           "the XML body is not well formed or not valid against the DTD (read at start-up, no network)" },
    { "validateHash",        pp_op_unsupported_parse, pp_op_never_exec,         NULL,           "not supported (refused at start-up)" },
    { "validateSchema",      pp_op_schema_parse,      pp_op_schema_exec,        NULL,           "the XML body is not well formed or not valid against the XML Schema (read at start-up, no network)" },
    { "validateUrlEncoding", pp_op_anyarg_parse,      pp_op_urlenc_exec,        NULL,           "a % not followed by two hex digits" },
    { "validateUtf8Encoding", pp_op_anyarg_parse,     pp_op_utf8_exec,          NULL,           "not well-formed UTF-8 (as ModSecurity 2 checks it)" },
    { "verifyCC",            pp_op_verify_parse,      pp_op_verifycc_exec,      NULL,           "a match of the regex argument whose digits pass the Luhn check (credit card numbers)", NULL, pp_op_verifycc_words },
    { "verifyCPF",           pp_op_verify_parse,      pp_op_verifycpf_exec,     NULL,           "a match of the regex argument whose 11 digits are a valid Brazilian CPF", NULL, pp_op_verifycpf_words },
    { "verifySSN",           pp_op_verify_parse,      pp_op_verifyssn_exec,     NULL,           "a match of the regex argument whose 9 digits are a plausible US social security number", NULL, pp_op_verifyssn_words },
    { "within",              pp_op_str_parse,         pp_op_within_exec,        NULL,           "value is a substring of the argument (empty value: always)", pp_op_text_expand, pp_op_within_words },
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
        if (strcasecmp(t[i].name, name) == 0) /* ModSecurity 2: @RX is @rx */
            return &t[i];
    return NULL;
}
