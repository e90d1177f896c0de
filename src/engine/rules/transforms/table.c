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
    { "cmdLine",            pp_tfn_cmd_line,               "shell normalisation: lower case, \\ \" ' ^ deleted, separators to one space", NULL, true,
                            .bytes = PP_TB_SHELL | PP_TB_BSL | PP_TB_WS | PP_TB_NUL | PP_TB_UPPER },
    { "compressWhitespace", pp_tfn_compress_whitespace2,   "each run of whitespace or NBSP becomes one space", .bytes = PP_TB_WS | PP_TB_HIGH },
    { "cssDecode",          pp_tfn_css_decode,             "CSS 2 backslash escapes decoded", .bytes = PP_TB_BSL },
    { "escapeSeqDecode",    pp_tfn_escape_seq_decode,      "ANSI C escape sequences decoded", .bytes = PP_TB_BSL },
    { "hexDecode",          pp_tfn_hex_decode,             "pairs of hex characters to bytes (not validated)", NULL, true },
    { "hexEncode",          pp_tfn_hex_encode,             "each byte as two lower-case hex digits", NULL, true },
    { "htmlEntityDecode",   pp_tfn_html_entity_decode,     "HTML numeric and five named entities to one byte each", .bytes = PP_TB_AMP },
    { "jsDecode",           pp_tfn_js_decode,              "JavaScript escapes decoded (\\uHHHH to its low byte)", .bytes = PP_TB_BSL },
    { "length",             pp_tfn_length,                 "the value's length in bytes, in decimal", NULL, true },
    { "lowercase",          pp_tfn_lowercase,              "ASCII A-Z to a-z", .bytes = PP_TB_UPPER },
    { "md5",                pp_tfn_md5,                    "raw MD5 digest (16 bytes)", NULL, true },
    { "none",               NULL,                          "clears the transformations listed before it" },
    { "normalisePath",      pp_tfn_normalise_path2,        "removes ./ and //, resolves ../", .bytes = PP_TB_SLASH | PP_TB_LASTDOT },
    { "normalisePathWin",   pp_tfn_normalise_path2_win,    "\\ to /, then as normalisePath", .bytes = PP_TB_SLASH | PP_TB_LASTDOT | PP_TB_BSL },
    { "normalizePath",      pp_tfn_normalise_path2,        "removes ./ and //, resolves ../", .bytes = PP_TB_SLASH | PP_TB_LASTDOT },
    { "normalizePathWin",   pp_tfn_normalise_path2_win,    "\\ to /, then as normalizePath", .bytes = PP_TB_SLASH | PP_TB_LASTDOT | PP_TB_BSL },
    { "parityEven7bit",     pp_tfn_parity_even7,           "bit 7 set for even parity" },
    { "parityOdd7bit",      pp_tfn_parity_odd7,            "bit 7 set for odd parity" },
    { "parityZero7bit",     pp_tfn_parity_zero7,           "bit 7 cleared", .bytes = PP_TB_HIGH },
    { "removeComments",     pp_tfn_remove_comments,        "C and HTML comments removed; -- and # end the value" },
    { "removeCommentsChar", pp_tfn_remove_comments_char,   "comment markers removed, their text kept" },
    { "removeNulls",        pp_tfn_remove_nulls,           "NUL bytes removed", .bytes = PP_TB_NUL },
    { "removeWhitespace",   pp_tfn_remove_whitespace,      "whitespace and NBSP removed", .bytes = PP_TB_WS | PP_TB_HIGH },
    { "replaceComments",    pp_tfn_replace_comments,       "each C comment becomes one space", .bytes = PP_TB_SLASH },
    { "replaceNulls",       pp_tfn_replace_nulls,          "NUL bytes become spaces", .bytes = PP_TB_NUL },
    { "sha1",               pp_tfn_sha1,                   "raw SHA-1 digest (20 bytes)", NULL, true },
    { "sqlHexDecode",       pp_tfn_sql_hex_decode,         "SQL 0xHHHH literals to bytes", NULL, true },
    { "trim",               pp_tfn_trim,                   "whitespace removed at both ends", .bytes = PP_TB_WS },
    { "trimLeft",           pp_tfn_trim_left,              "whitespace removed at the start", .bytes = PP_TB_WS },
    { "trimRight",          pp_tfn_trim_right,             "whitespace removed at the end", .bytes = PP_TB_WS },
    { "urlDecode",          pp_tfn_url_decode_form,        "%HH and + decoded", .bytes = PP_TB_PCT | PP_TB_PLUS },
    { "urlDecodeUni",       pp_tfn_url_decode_uni,         "%HH, %uHHHH and + decoded", pp_tfn_url_decode_uni_env, .bytes = PP_TB_PCT | PP_TB_PLUS },
    { "urlEncode",          pp_tfn_url_encode,             "URL-encoded (space as +)" },
    { "utf8toUnicode",      pp_tfn_utf8_to_unicode,        "UTF-8 sequences to %uHHHH", .bytes = PP_TB_HIGH | PP_TB_NUL },
};
/* clang-format on */

/* clang-format off */
#define U PP_TB_UPPER
#define H PP_TB_HIGH
#define H16 H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H
const unsigned short pp_tfn_byte_class[256] = {
    [0] = PP_TB_NUL, ['\t'] = PP_TB_WS, ['\n'] = PP_TB_WS, ['\v'] = PP_TB_WS, ['\f'] = PP_TB_WS,
    ['\r'] = PP_TB_WS, [' '] = PP_TB_WS, ['%'] = PP_TB_PCT, ['+'] = PP_TB_PLUS, ['&'] = PP_TB_AMP,
    ['\\'] = PP_TB_BSL, ['/'] = PP_TB_SLASH, ['"'] = PP_TB_SHELL, ['\''] = PP_TB_SHELL,
    ['^'] = PP_TB_SHELL, [','] = PP_TB_SHELL, [';'] = PP_TB_SHELL,
    ['A'] = U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
    [0x80] = H16, H16, H16, H16, H16, H16, H16, H16,
};
#undef U
#undef H
#undef H16
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
