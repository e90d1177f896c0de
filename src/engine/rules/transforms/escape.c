/*
 * Backslash escapes of three languages, decoded as ModSecurity 2.9.7 decodes them (CRS runs
 * jsDecode and cssDecode in its XSS chains):
 *   jsDecode        \uHHHH (low byte; +0x20 for full-width ASCII U+FF01..U+FF5E), \xHH,
 *                   octal of 1-3 digits (3 only when the first is 0-3), \a \b \f \n \r \t \v,
 *                   any other escaped character stands for itself; a lone trailing '\' stays.
 *                   Only a lower-case 'u' or 'x' introduces an escape.
 *   cssDecode       '\' + 1..6 hex digits → one byte (the value of the last two digits; a
 *                   single digit is its own value), full-width ASCII rule for FFxx, 0FFxx and
 *                   00FFxx; one whitespace byte after the digits is consumed; '\' + newline
 *                   is removed; '\' + other byte gives that byte; a trailing '\' is dropped.
 *   escapeSeqDecode ANSI C: \a \b \f \n \r \t \v \\ \? \' \", \xHH (exactly two digits, 'x'
 *                   or 'X'), octal of 1-3 digits (the value's low byte); '\' + anything else
 *                   gives that byte; a lone trailing '\' stays.
 */
#include "rules/transforms/transforms.h"

#include "util/util.h"

static bool is_odigit(char c)
{
    return c >= '0' && c <= '7';
}

static bool is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Low byte of a %u-style code point whose four hex digits start at h: the last two digits,
 * plus 0x20 for full-width ASCII (the first two digits "ff", any case). */
static char wide_low_byte(const char *h)
{
    unsigned char c = (unsigned char)pp_hex_pair(h + 2);
    if ((h[0] | 0x20) == 'f' && (h[1] | 0x20) == 'f' && c > 0x00 && c < 0x5f)
        c += 0x20;
    return (char)c;
}

/* Octal digits after a backslash at i: up to three, *n of them used; the byte they make. */
static char octal_byte(pp_str_t in, apr_size_t i, bool max_one_byte, apr_size_t *n)
{
    apr_size_t j = 0;
    unsigned v = 0;
    while (i + 1 + j < in.len && j < 3 && is_odigit(in.data[i + 1 + j]))
        j++;
    if (max_one_byte && j == 3 && in.data[i + 1] > '3')
        j = 2;
    for (apr_size_t k = 0; k < j; k++)
        v = v * 8 + (unsigned)(in.data[i + 1 + k] - '0');
    *n = j;
    return (char)(unsigned char)v;
}

static char simple_escape(char c)
{
    switch (c) {
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    default: return c;
    }
}

apr_status_t pp_tfn_js_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    const char *s = in.data;
    if (!in.len || !memchr(s, '\\', in.len)) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0, i = 0, n;
    while (i < in.len) {
        if (s[i] != '\\') {
            buf[o++] = s[i++];
        } else if (i + 5 < in.len && s[i + 1] == 'u' && pp_hex_pair(s + i + 2) >= 0 &&
                   pp_hex_pair(s + i + 4) >= 0) {
            buf[o++] = wide_low_byte(s + i + 2);
            i += 6;
        } else if (i + 3 < in.len && s[i + 1] == 'x' && pp_hex_pair(s + i + 2) >= 0) {
            buf[o++] = (char)pp_hex_pair(s + i + 2);
            i += 4;
        } else if (i + 1 < in.len && is_odigit(s[i + 1])) {
            buf[o++] = octal_byte(in, i, true, &n);
            i += 1 + n;
        } else if (i + 1 < in.len) {
            buf[o++] = simple_escape(s[i + 1]);
            i += 2;
        } else {
            buf[o++] = s[i++];
        }
    }
    return pp_tfn_result(in, buf, o, out);
}

apr_status_t pp_tfn_css_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    const char *s = in.data;
    if (!in.len || !memchr(s, '\\', in.len)) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0, i = 0;
    while (i < in.len) {
        if (s[i] != '\\') {
            buf[o++] = s[i++];
            continue;
        }
        if (++i == in.len)
            break; /* a trailing backslash continues to nothing */
        apr_size_t j = 0;
        while (j < 6 && i + j < in.len && pp_hex_value((unsigned char)s[i + j]) >= 0)
            j++;
        if (j == 0) {
            if (s[i] != '\n')
                buf[o++] = s[i];
            i++;
            continue;
        }
        const char *last2 = s + i + j - 2;
        if (j == 1) {
            buf[o++] = (char)pp_hex_value((unsigned char)s[i]);
        } else if (j == 4 || (j == 5 && s[i] == '0') || (j == 6 && s[i] == '0' && s[i + 1] == '0')) {
            buf[o++] = wide_low_byte(last2 - 2);
        } else {
            buf[o++] = (char)pp_hex_pair(last2);
        }
        if (i + j < in.len && is_space(s[i + j]))
            j++;
        i += j;
    }
    return pp_tfn_result(in, buf, o, out);
}

apr_status_t pp_tfn_escape_seq_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    const char *s = in.data;
    if (!in.len || !memchr(s, '\\', in.len)) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0, i = 0, n;
    while (i < in.len) {
        if (s[i] != '\\' || i + 1 == in.len) {
            buf[o++] = s[i++];
            continue;
        }
        char e = s[i + 1];
        if (strchr("abfnrtv\\?'\"", e) && e != '\0') {
            buf[o++] = simple_escape(e);
            i += 2;
        } else if ((e == 'x' || e == 'X') && i + 3 < in.len && pp_hex_pair(s + i + 2) >= 0) {
            buf[o++] = (char)pp_hex_pair(s + i + 2);
            i += 4;
        } else if (is_odigit(e)) {
            buf[o++] = octal_byte(in, i, false, &n);
            i += 1 + n;
        } else {
            buf[o++] = e;
            i += 2;
        }
    }
    return pp_tfn_result(in, buf, o, out);
}
