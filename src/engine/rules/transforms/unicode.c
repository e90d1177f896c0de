/*
 * utf8toUnicode: every UTF-8 sequence becomes IIS-style "%uHHHH" text, so that the rules that
 * follow (usually urlDecodeUni) see one form whatever encoding a client used. This is
 * ModSecurity 2.9.7's behaviour byte for byte, including what it gets wrong, because CRS's
 * XSS rules run it first and a different output would change what they match:
 *   - lengths are checked against the whole value, not against the bytes left, so a
 *     truncated sequence at the end is judged on the byte after it (the terminating NUL,
 *     which is never a continuation byte): that sequence's lead byte is dropped;
 *   - a lead byte whose continuation bytes are wrong is dropped, and the bytes after it are
 *     examined on their own;
 *   - surrogates and overlong forms give the %u form AND then the raw lead byte;
 *   - a lead byte from 0xF5 on is copied before its %u form;
 *   - NUL bytes are dropped.
 * Hex digits are lower case, at least four of them.
 */
#include "rules/transforms/transforms.h"
#include "rules/transforms/scan.h"

#include <stdio.h>

static apr_size_t put_unicode(char *buf, apr_size_t o, unsigned long cp)
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

/* Byte at i, or 0 past the end (where ModSecurity reads the terminating NUL). */
static unsigned char at(pp_str_t in, apr_size_t i)
{
    return i < in.len ? (unsigned char)in.data[i] : 0;
}

static bool cont(pp_str_t in, apr_size_t i)
{
    return (at(in, i) & 0xC0) == 0x80;
}

apr_status_t pp_tfn_utf8_to_unicode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    /* ASCII other than NUL is copied as it is: a value of nothing else is unchanged, and its
     * runs are copied whole. */
    apr_size_t i = pp_scan_nul_or_high(in.data, 0, in.len);
    if (i == in.len) {
        *out = in;
        return APR_SUCCESS;
    }
    /* At most 10 output bytes for 4 input bytes (lead copy, %u + 6 digits, overlong copy). */
    char *buf = apr_palloc(scratch, in.len * 3 + 8);
    memcpy(buf, in.data, i);
    apr_size_t o = i;
    while (i < in.len) {
        unsigned char c = (unsigned char)in.data[i];
        if (c && c < 0x80) {
            apr_size_t next = pp_scan_nul_or_high(in.data, i, in.len);
            memcpy(buf + o, in.data + i, next - i);
            o += next - i;
            i = next;
            continue;
        }
        unsigned long cp = 0;
        int seq = 0; /* length of a valid sequence, 0 for a single or dropped byte */
        if (c < 0x80) {
            if (c)
                buf[o++] = (char)c;
        } else if ((c & 0xE0) == 0xC0) {
            if (in.len >= 2 && cont(in, i + 1)) {
                seq = 2;
                cp = (unsigned long)(c & 0x1F) << 6 | (at(in, i + 1) & 0x3F);
            }
        } else if ((c & 0xF0) == 0xE0) {
            if (in.len >= 3 && cont(in, i + 1) && cont(in, i + 2)) {
                seq = 3;
                cp = (unsigned long)(c & 0x0F) << 12 | (unsigned long)(at(in, i + 1) & 0x3F) << 6 |
                     (at(in, i + 2) & 0x3F);
            }
        } else if ((c & 0xF8) == 0xF0) {
            if (c >= 0xF5)
                buf[o++] = (char)c;
            if (in.len >= 4 && cont(in, i + 1) && cont(in, i + 2) && cont(in, i + 3)) {
                seq = 4;
                cp = (unsigned long)(c & 0x07) << 18 | (unsigned long)(at(in, i + 1) & 0x3F) << 12 |
                     (unsigned long)(at(in, i + 2) & 0x3F) << 6 | (at(in, i + 3) & 0x3F);
            }
        } else {
            buf[o++] = (char)c;
        }
        if (seq)
            o = put_unicode(buf, o, cp);
        if (cp >= 0xD800 && cp <= 0xDFFF)
            buf[o++] = (char)c;
        if ((seq == 4 && cp < 0x10000) || (seq == 3 && cp < 0x800) || (seq == 2 && cp < 0x80))
            buf[o++] = (char)c;
        i += seq ? (apr_size_t)seq : 1;
    }
    return pp_tfn_result(in, buf, o, out);
}
