/*
 * Reference evaluators for tests/unit/rules/transforms/test_tfn_fastpath.c: the
 * transformations exactly as they were before their fast paths (commit 83b9be2), each a plain
 * byte loop whose output tests/e2e/test_ms2_transforms.py compared with ModSecurity 2.9.7.
 * The fast implementations must give the same bytes for every input.
 */
#ifndef PP_TFN_REFERENCE_H
#define PP_TFN_REFERENCE_H

#include <limits.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "rules/transforms/transforms.h"
#include "util/util.h"

static char *ref_copy(apr_pool_t *scratch, pp_str_t in)
{
    char *buf = apr_palloc(scratch, in.len);
    memcpy(buf, in.data, in.len);
    return buf;
}

static bool ref_is_ws(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r'); /* \t \n \v \f \r */
}

static bool ref_is_ws_nbsp(char c)
{
    return ref_is_ws(c) || (unsigned char)c == 0xA0;
}

static apr_status_t ref_lowercase(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    apr_size_t i = 0;
    while (i < in.len && !(in.data[i] >= 'A' && in.data[i] <= 'Z'))
        i++;
    *out = in;
    if (i == in.len)
        return APR_SUCCESS;
    char *buf = ref_copy(scratch, in);
    for (; i < in.len; i++)
        if (buf[i] >= 'A' && buf[i] <= 'Z')
            buf[i] = (char)(buf[i] + ('a' - 'A'));
    out->data = buf;
    return APR_SUCCESS;
}

static apr_status_t ref_compress_whitespace2(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0;
    bool run = false;
    for (apr_size_t i = 0; i < in.len; i++) {
        if (!ref_is_ws_nbsp(in.data[i])) {
            buf[o++] = in.data[i];
            run = false;
        } else if (!run) {
            buf[o++] = ' ';
            run = true;
        }
    }
    return pp_tfn_result(in, buf, o, out);
}

static apr_status_t ref_remove_whitespace(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0;
    for (apr_size_t i = 0; i < in.len; i++)
        if (!ref_is_ws_nbsp(in.data[i]))
            buf[o++] = in.data[i];
    return pp_tfn_result(in, buf, o, out);
}

static apr_status_t ref_trim_left(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    apr_size_t start = 0;
    while (start < in.len && ref_is_ws(in.data[start]))
        start++;
    char *buf = apr_palloc(scratch, in.len - start + 1);
    memcpy(buf, in.data + start, in.len - start);
    return pp_tfn_result(in, buf, in.len - start, out);
}

static apr_status_t ref_trim_right(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    apr_size_t end = in.len;
    while (end > 0 && ref_is_ws(in.data[end - 1]))
        end--;
    char *buf = apr_palloc(scratch, end + 1);
    memcpy(buf, in.data, end);
    return pp_tfn_result(in, buf, end, out);
}

static apr_status_t ref_url_decode_uni(apr_pool_t *scratch, const pp_unicode_map_t *map, pp_str_t in,
                                   pp_str_t *out)
{
    const char *s = in.data;
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0, i = 0;
    while (i < in.len) {
        if (s[i] == '%' && i + 1 < in.len && (s[i + 1] == 'u' || s[i + 1] == 'U')) {
            int hi, lo;
            if (i + 5 < in.len && (hi = pp_hex_pair(s + i + 2)) >= 0 &&
                (lo = pp_hex_pair(s + i + 4)) >= 0) {
                int mapped = map ? pp_unicode_map_byte(map, (unsigned)(hi << 8 | lo)) : -1;
                unsigned char c = (unsigned char)lo;
                if (mapped != -1)
                    c = (unsigned char)mapped;
                else if (hi == 0xff && c > 0x00 && c < 0x5f)
                    c += 0x20;
                buf[o++] = (char)c;
                i += 6;
            } else {
                buf[o++] = s[i++];
                buf[o++] = s[i++];
            }
        } else if (s[i] == '%' && i + 2 < in.len && pp_hex_pair(s + i + 1) >= 0) {
            buf[o++] = (char)pp_hex_pair(s + i + 1);
            i += 3;
        } else {
            buf[o++] = s[i] == '+' ? ' ' : s[i];
            i++;
        }
    }
    return pp_tfn_result(in, buf, o, out);
}

static apr_size_t ref_put_unicode(char *buf, apr_size_t o, unsigned long cp)
{
    char digits[16];
    int n = snprintf(digits, sizeof digits, "%lx", cp);
    buf[o++] = '%';
    buf[o++] = 'u';
    for (int pad = n; pad < 4; pad++)
        buf[o++] = '0';
    memcpy(buf + o, digits, (apr_size_t)n);
    return o + (apr_size_t)n;
}

static unsigned char ref_at(pp_str_t in, apr_size_t i)
{
    return i < in.len ? (unsigned char)in.data[i] : 0;
}

static bool ref_cont(pp_str_t in, apr_size_t i)
{
    return (ref_at(in, i) & 0xC0) == 0x80;
}

static apr_status_t ref_utf8_to_unicode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    /* At most 10 output bytes for 4 input bytes (lead copy, %u + 6 digits, overlong copy). */
    char *buf = apr_palloc(scratch, in.len * 3 + 8);
    apr_size_t o = 0, i = 0;
    while (i < in.len) {
        unsigned char c = (unsigned char)in.data[i];
        unsigned long cp = 0;
        int seq = 0; /* length of a valid sequence, 0 for a single or dropped byte */
        if (c < 0x80) {
            if (c)
                buf[o++] = (char)c;
        } else if ((c & 0xE0) == 0xC0) {
            if (in.len >= 2 && ref_cont(in, i + 1)) {
                seq = 2;
                cp = (unsigned long)(c & 0x1F) << 6 | (ref_at(in, i + 1) & 0x3F);
            }
        } else if ((c & 0xF0) == 0xE0) {
            if (in.len >= 3 && ref_cont(in, i + 1) && ref_cont(in, i + 2)) {
                seq = 3;
                cp = (unsigned long)(c & 0x0F) << 12 | (unsigned long)(ref_at(in, i + 1) & 0x3F) << 6 |
                     (ref_at(in, i + 2) & 0x3F);
            }
        } else if ((c & 0xF8) == 0xF0) {
            if (c >= 0xF5)
                buf[o++] = (char)c;
            if (in.len >= 4 && ref_cont(in, i + 1) && ref_cont(in, i + 2) && ref_cont(in, i + 3)) {
                seq = 4;
                cp = (unsigned long)(c & 0x07) << 18 | (unsigned long)(ref_at(in, i + 1) & 0x3F) << 12 |
                     (unsigned long)(ref_at(in, i + 2) & 0x3F) << 6 | (ref_at(in, i + 3) & 0x3F);
            }
        } else {
            buf[o++] = (char)c;
        }
        if (seq)
            o = ref_put_unicode(buf, o, cp);
        if (cp >= 0xD800 && cp <= 0xDFFF)
            buf[o++] = (char)c;
        if ((seq == 4 && cp < 0x10000) || (seq == 3 && cp < 0x800) || (seq == 2 && cp < 0x80))
            buf[o++] = (char)c;
        i += seq ? (apr_size_t)seq : 1;
    }
    return pp_tfn_result(in, buf, o, out);
}

static apr_size_t ref_normalise2_inplace(unsigned char *p, apr_size_t len, bool win)
{
    if (len == 0)
        return 0;
    unsigned char *src = p, *dst = p, *end = p + len - 1;
    bool relative = !(*p == '/' || (win && *p == '\\'));
    bool trailing = *end == '/' || (win && *end == '\\');
    bool hitroot = false, done = false;
    while (!done && src <= end && dst <= end) {
        if (win) {
            if (*src == '\\')
                *src = '/';
            if (src < end && src[1] == '\\')
                src[1] = '/';
        }
        if (src == end)
            done = true;
        else if (src[1] != '/')
            goto copy; /* not the last byte of a segment */
        if (src != end && *src == '/') {
            goto copy; /* an empty segment: the copy below skips repeated slashes */
        } else if (*src == '.') {
            if (dst > p && dst[-1] == '.') { /* "..": a back-reference */
                if (relative && (hitroot || dst - 2 <= p)) {
                    hitroot = true;
                    goto copy; /* nothing to resolve it against */
                }
                dst = dst - p < 3 ? p : dst - 3; /* never before the buffer */
                while (dst > p && *dst != '/')
                    dst--;
                if (dst <= p) {
                    hitroot = true;
                    dst = p;
                    if (!relative && src == end)
                        dst++; /* keep the root slash */
                }
                if (done)
                    continue;
                src++;
            } else if (dst == p) { /* "./" at the start */
                if (done)
                    continue;
                src++;
            } else if (dst[-1] == '/') { /* "/./" */
                if (done)
                    continue;
                dst--;
                src++;
            }
        } else if (dst > p) {
            hitroot = false; /* an ordinary segment */
        }
    copy:
        if (*src == '/') {
            while (src < end && (src[1] == '/' || (win && src[1] == '\\')))
                src++;
            if (relative && dst == p) {
                src++; /* a relative path does not start with the slash */
                continue;
            }
        }
        *dst++ = *src++;
    }
    apr_size_t n = (apr_size_t)(dst - p);
    if (!trailing && n > 0 && p[n - 1] == '/')
        n--;
    return n;
}

static apr_status_t ref_normalise2(apr_pool_t *scratch, pp_str_t in, bool win, pp_str_t *out)
{
    unsigned char *buf = apr_palloc(scratch, in.len + 2);
    if (in.len)
        memcpy(buf, in.data, in.len);
    buf[in.len] = buf[in.len + 1] = '\0';
    return pp_tfn_result(in, (char *)buf, ref_normalise2_inplace(buf, in.len, win), out);
}

static bool ref_at_str(pp_str_t in, apr_size_t i, const char *lit)
{
    apr_size_t n = strlen(lit);
    return i + n <= in.len && memcmp(in.data + i, lit, n) == 0;
}

static apr_status_t ref_replace_comments(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0, i = 0;
    bool in_comment = false;
    while (i < in.len) {
        if (!in_comment && ref_at_str(in, i, "/*")) {
            in_comment = true;
            i += 2;
        } else if (!in_comment) {
            buf[o++] = in.data[i++];
        } else if (ref_at_str(in, i, "*/")) {
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

static apr_status_t ref_cmd_line(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
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

/* html.c */
static bool ref_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool ref_is_alnum(char c)
{
    return ref_is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Value of the digits in [k, j), base 10 or 16, saturating as strtol does. */
static unsigned char ref_number_byte(const char *s, apr_size_t k, apr_size_t j, int base)
{
    unsigned long long v = 0;
    for (; k < j; k++) {
        int d = base == 16 ? pp_hex_value((unsigned char)s[k]) : s[k] - '0';
        v = v * (unsigned)base + (unsigned)d;
        if (v > (unsigned long long)LONG_MAX)
            return 0xFF;
    }
    return (unsigned char)v;
}

static int ref_named_entity(const char *name, apr_size_t n)
{
    static const struct {
        const char *name;
        unsigned char byte;
    } names[] = { { "quot", '"' }, { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "nbsp", 0xA0 } };
    for (size_t e = 0; e < sizeof names / sizeof names[0]; e++)
        if (strlen(names[e].name) == n && strncasecmp(names[e].name, name, n) == 0)
            return names[e].byte;
    return -1;
}

static apr_status_t ref_html_entity_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    const char *s = in.data;
    const char *amp = in.len ? memchr(s, '&', in.len) : NULL;
    if (!amp) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = (apr_size_t)(amp - s), i = o;
    memcpy(buf, s, o);
    while (i < in.len) {
        apr_size_t copy = 1;
        if (s[i] == '&' && i + 1 < in.len) {
            apr_size_t j = i + 1, k;
            int byte = -1;
            if (s[j] == '#') {
                copy = 2;
                j++;
                int base = 10;
                if (j < in.len && (s[j] == 'x' || s[j] == 'X')) {
                    copy = 3;
                    j++;
                    base = 16;
                }
                if (j < in.len) {
                    for (k = j; j < in.len && (base == 16 ? pp_hex_value((unsigned char)s[j]) >= 0
                                                          : ref_is_digit(s[j]));)
                        j++;
                    if (j > k)
                        byte = ref_number_byte(s, k, j, base);
                }
            } else {
                for (k = j; j < in.len && ref_is_alnum(s[j]);)
                    j++;
                if (j > k) {
                    byte = ref_named_entity(s + k, j - k);
                    if (byte < 0)
                        copy = j - k + 1;
                }
            }
            if (byte >= 0) {
                buf[o++] = (char)byte;
                i = (j < in.len && s[j] == ';') ? j + 1 : j;
                continue;
            }
        }
        for (apr_size_t z = 0; z < copy && i < in.len; z++)
            buf[o++] = s[i++];
    }
    return pp_tfn_result(in, buf, o, out);
}

static apr_status_t ref_url_decode_uni_plain(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return ref_url_decode_uni(scratch, NULL, in, out);
}

static apr_status_t ref_normalise_path2(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return ref_normalise2(scratch, in, false, out);
}

static apr_status_t ref_normalise_path2_win(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return ref_normalise2(scratch, in, true, out);
}

#endif
