/*
 * Comment and shell-syntax removal, as ModSecurity 2.9.7 does it (CRS's SQL and command
 * injection rules depend on the exact output, quirks included):
 *   removeComments     drops C comments (slash-star to star-slash) and HTML comments. Outside a comment, "--" or '#'
 *                      ends the value there. After a comment closes, the next byte is copied
 *                      without being looked at (past the end that byte is the terminating
 *                      NUL, so a value that is one C comment gives one NUL byte). An unterminated comment
 *                      leaves one space.
 *   removeCommentsChar removes only the markers: slash-star, star-slash, "<!--", "-->", "--",
 *                      '#'.
 *   replaceComments    each C comment becomes one space (an unterminated one too).
 *   cmdLine            lower-case, deletes \ " ' ^, turns each run of space , ; \t \r \n
 *                      into one space and deletes a space right before '/' or '('; works on
 *                      a C string, so it stops at the first NUL byte.
 */
#include "rules/transforms/transforms.h"
#include "rules/transforms/scan.h"

static bool at_str(pp_str_t in, apr_size_t i, const char *lit)
{
    apr_size_t n = strlen(lit);
    return i + n <= in.len && memcmp(in.data + i, lit, n) == 0;
}

apr_status_t pp_tfn_remove_comments(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0, i = 0;
    bool in_comment = false;
    while (i < in.len) {
        if (!in_comment) {
            if (at_str(in, i, "/*")) {
                in_comment = true;
                i += 2;
            } else if (at_str(in, i, "<!--")) {
                in_comment = true;
                i += 4;
            } else if (at_str(in, i, "--") || in.data[i] == '#') {
                break;
            } else {
                buf[o++] = in.data[i++];
            }
        } else if (at_str(in, i, "*/") || at_str(in, i, "-->")) {
            in_comment = false;
            i += in.data[i] == '*' ? 2 : 3;
            buf[o++] = i < in.len ? in.data[i] : '\0';
            i++;
        } else {
            i++;
        }
    }
    if (in_comment)
        buf[o++] = ' ';
    return pp_tfn_result(in, buf, o, out);
}

apr_status_t pp_tfn_remove_comments_char(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0, i = 0;
    while (i < in.len) {
        if (at_str(in, i, "/*") || at_str(in, i, "*/") || at_str(in, i, "--"))
            i += at_str(in, i, "-->") ? 3 : 2;
        else if (at_str(in, i, "<!--"))
            i += 4;
        else if (in.data[i] == '#')
            i++;
        else
            buf[o++] = in.data[i++];
    }
    return pp_tfn_result(in, buf, o, out);
}

/* Whether in holds the start of a C comment (replaceComments leaves a value without one
 * alone). */
static bool has_comment_start(pp_str_t in)
{
    for (apr_size_t i = 0; (i = pp_scan_eq2(in.data, i, in.len, '/', '/')) + 1 < in.len; i++)
        if (in.data[i + 1] == '*')
            return true;
    return false;
}

apr_status_t pp_tfn_replace_comments(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    if (!has_comment_start(in)) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0, i = 0;
    bool in_comment = false;
    while (i < in.len) {
        if (!in_comment && at_str(in, i, "/*")) {
            in_comment = true;
            i += 2;
        } else if (!in_comment) {
            buf[o++] = in.data[i++];
        } else if (at_str(in, i, "*/")) {
            in_comment = false;
            i += 2;
            buf[o++] = ' ';
        } else {
            i++;
        }
    }
    if (in_comment)
        buf[o++] = ' ';
    return pp_tfn_result(in, buf, o, out);
}

/* For cmdLine's fast path: 1 = a byte it always changes (deleted, turned into a space,
 * lower-cased, or the NUL it stops at), 2 = a space, 3 = '/' or '(' (which delete a space
 * before them). */
static const unsigned char cmd_class[256] = {
    ['"'] = 1, ['\''] = 1, ['\\'] = 1, ['^'] = 1, [','] = 1, [';'] = 1, ['\t'] = 1,
    ['\r'] = 1, ['\n'] = 1, ['\0'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
    ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1,
    ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
    ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, [' '] = 2, ['/'] = 3, ['('] = 3,
};

/* Whether cmdLine changes in: a byte of class 1, or a space before a space, '/' or '('. */
static bool cmd_line_changes(pp_str_t in)
{
    for (apr_size_t i = pp_scan_table(cmd_class, in.data, 0, in.len); i < in.len;
         i = pp_scan_table(cmd_class, in.data, i + 1, in.len))
        if (cmd_class[(unsigned char)in.data[i]] == 1 || (i > 0 && in.data[i - 1] == ' '))
            return true;
    return false;
}

apr_status_t pp_tfn_cmd_line(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    if (!cmd_line_changes(in)) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0;
    bool space = false;
    for (apr_size_t i = 0; i < in.len && in.data[i] != '\0'; i++) {
        char c = in.data[i];
        switch (c) {
        case '"': case '\'': case '\\': case '^':
            break;
        case ' ': case ',': case ';': case '\t': case '\r': case '\n':
            if (!space) {
                buf[o++] = ' ';
                space = true;
            }
            break;
        case '/': case '(':
            if (space)
                o--;
            space = false;
            buf[o++] = c;
            break;
        default:
            buf[o++] = (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
            space = false;
            break;
        }
    }
    return pp_tfn_result(in, buf, o, out);
}
