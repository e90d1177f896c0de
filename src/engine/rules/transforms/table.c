/*
 * The transformation registry (ModSecurity 2.9.7's set, reference secrule-2.9 §7), sorted
 * case-insensitively by name: rule languages look names up here, ignoring case as ModSecurity
 * does. normalisePath and normalizePath are the same function under both spellings.
 */
#include "rules/transforms/transforms.h"

#include <stdlib.h>
#include <strings.h>

#include <apr_strings.h>

/* clang-format off */
static const pp_tfn_def_t tfn_table[] = {
    { "base64Decode",       pp_tfn_base64_decode,          "leading run of base64 characters decoded (APR)" },
    { "base64DecodeExt",    pp_tfn_base64_decode_ext,      "base64 decoded, characters outside the alphabet skipped" },
    { "base64Encode",       pp_tfn_base64_encode,          "base64 with padding" },
    { "cmdLine",            pp_tfn_cmd_line,               "shell normalisation: lower case, \\ \" ' ^ deleted, separators to one space", NULL, true },
    { "compressWhitespace", pp_tfn_compress_whitespace2,   "each run of whitespace or NBSP becomes one space" },
    { "cssDecode",          pp_tfn_css_decode,             "CSS 2 backslash escapes decoded" },
    { "escapeSeqDecode",    pp_tfn_escape_seq_decode,      "ANSI C escape sequences decoded" },
    { "hexDecode",          pp_tfn_hex_decode,             "pairs of hex characters to bytes (not validated)", NULL, true },
    { "hexEncode",          pp_tfn_hex_encode,             "each byte as two lower-case hex digits", NULL, true },
    { "htmlEntityDecode",   pp_tfn_html_entity_decode,     "HTML numeric and five named entities to one byte each" },
    { "jsDecode",           pp_tfn_js_decode,              "JavaScript escapes decoded (\\uHHHH to its low byte)" },
    { "length",             pp_tfn_length,                 "the value's length in bytes, in decimal", NULL, true },
    { "lowercase",          pp_tfn_lowercase,              "ASCII A-Z to a-z" },
    { "md5",                pp_tfn_md5,                    "raw MD5 digest (16 bytes)", NULL, true },
    { "none",               NULL,                          "clears the transformations listed before it" },
    { "normalisePath",      pp_tfn_normalise_path2,        "removes ./ and //, resolves ../" },
    { "normalisePathWin",   pp_tfn_normalise_path2_win,    "\\ to /, then as normalisePath" },
    { "normalizePath",      pp_tfn_normalise_path2,        "removes ./ and //, resolves ../" },
    { "normalizePathWin",   pp_tfn_normalise_path2_win,    "\\ to /, then as normalizePath" },
    { "parityEven7bit",     pp_tfn_parity_even7,           "bit 7 set for even parity" },
    { "parityOdd7bit",      pp_tfn_parity_odd7,            "bit 7 set for odd parity" },
    { "parityZero7bit",     pp_tfn_parity_zero7,           "bit 7 cleared" },
    { "removeComments",     pp_tfn_remove_comments,        "C and HTML comments removed; -- and # end the value" },
    { "removeCommentsChar", pp_tfn_remove_comments_char,   "comment markers removed, their text kept" },
    { "removeNulls",        pp_tfn_remove_nulls,           "NUL bytes removed" },
    { "removeWhitespace",   pp_tfn_remove_whitespace,      "whitespace and NBSP removed" },
    { "replaceComments",    pp_tfn_replace_comments,       "each C comment becomes one space" },
    { "replaceNulls",       pp_tfn_replace_nulls,          "NUL bytes become spaces" },
    { "sha1",               pp_tfn_sha1,                   "raw SHA-1 digest (20 bytes)", NULL, true },
    { "sqlHexDecode",       pp_tfn_sql_hex_decode,         "SQL 0xHHHH literals to bytes", NULL, true },
    { "trim",               pp_tfn_trim,                   "whitespace removed at both ends" },
    { "trimLeft",           pp_tfn_trim_left,              "whitespace removed at the start" },
    { "trimRight",          pp_tfn_trim_right,             "whitespace removed at the end" },
    { "urlDecode",          pp_tfn_url_decode_form,        "%HH and + decoded" },
    { "urlDecodeUni",       pp_tfn_url_decode_uni,         "%HH, %uHHHH and + decoded", pp_tfn_url_decode_uni_env },
    { "urlEncode",          pp_tfn_url_encode,             "URL-encoded (space as +)" },
    { "utf8toUnicode",      pp_tfn_utf8_to_unicode,        "UTF-8 sequences to %uHHHH" },
};
/* clang-format on */

const pp_tfn_def_t *pp_tfn_table(apr_size_t *n)
{
    *n = sizeof tfn_table / sizeof tfn_table[0];
    return tfn_table;
}

static int by_name(const void *key, const void *row)
{
    return strcasecmp(key, ((const pp_tfn_def_t *)row)->name);
}

const pp_tfn_def_t *pp_tfn_find(const char *name)
{
    return bsearch(name, tfn_table, sizeof tfn_table / sizeof tfn_table[0], sizeof tfn_table[0],
                   by_name);
}

const char *pp_transform(apr_pool_t *p, const char *names, pp_str_t in, pp_str_t *out)
{
    const pp_tfn_def_t *chain[64];
    int n = 0;
    char *list = apr_pstrdup(p, names), *last = NULL;
    for (char *name = apr_strtok(list, ",", &last); name; name = apr_strtok(NULL, ",", &last)) {
        const pp_tfn_def_t *def = pp_tfn_find(name);
        if (!def)
            return apr_psprintf(p, "unknown transformation \"%s\"", name);
        if (!def->apply)
            n = 0;
        else if (n == (int)(sizeof chain / sizeof chain[0]))
            return "too many transformations";
        else
            chain[n++] = def;
    }
    *out = in;
    for (int i = 0; i < n; i++)
        chain[i]->apply(p, *out, out);
    return NULL;
}
