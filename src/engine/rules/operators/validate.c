/*
 * Implicit validation of request data (reference §5.2): malformed URL escapes
 * (SecFilterCheckURLEncoding), malformed UTF-8 (SecFilterCheckUnicodeEncoding) and bytes
 * outside the allowed range (SecFilterForceByteRange). The transaction runs these on the
 * request data before any rule, and the operator table exposes them as operators. They only
 * answer valid or not, with the reason and place for the log; what a failure does (the
 * default action) is decided by the caller, and which data is checked (the raw multipart
 * body is not) is the caller's business too. They run on every checked value, so each is a
 * single tight loop with no allocation.
 */
#include "rules/operators/validate.h"

#include <stdint.h>
#include <string.h>

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

bool pp_validate_url_encoding(pp_str_t in, apr_size_t *bad_offset)
{
    apr_size_t i = 0;
    while (i < in.len) {
        const char *pc = memchr(in.data + i, '%', in.len - i);
        if (!pc)
            return true;
        i = (apr_size_t)(pc - in.data);
        if (i + 2 >= in.len || !is_hex((unsigned char)in.data[i + 1]) ||
            !is_hex((unsigned char)in.data[i + 2])) {
            if (bad_offset)
                *bad_offset = i;
            return false;
        }
        i += 3;
    }
    return true;
}

/* Length of the sequence a lead byte announces; 0 for a byte that cannot lead (a
 * continuation byte, or the 5- and 6-byte forms UTF-8 no longer has). */
static apr_size_t utf8_seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c < 0xC0)
        return 0;
    if (c < 0xE0)
        return 2;
    if (c < 0xF0)
        return 3;
    return c < 0xF8 ? 4 : 0;
}

/* Checks the multi-byte sequence at s (avail bytes left). NULL and *len set when valid, else
 * the reason. A bad continuation byte is reported before running out of data, so
 * "\xE2A" at the end is an invalid byte rather than a truncation. */
static const char *utf8_check(const unsigned char *s, apr_size_t avail, apr_size_t *len)
{
    static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    apr_size_t n = utf8_seq_len(s[0]);
    if (n == 0)
        return "invalid byte";
    uint32_t cp = s[0] & (0x7Fu >> n);
    for (apr_size_t k = 1; k < n; k++) {
        if (k >= avail)
            return "not enough bytes";
        if ((s[k] & 0xC0) != 0x80)
            return "invalid byte";
        cp = cp << 6 | (s[k] & 0x3Fu);
    }
    if (cp < min_cp[n])
        return "overlong character";
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return "invalid code point";
    *len = n;
    return NULL;
}

bool pp_validate_utf8(pp_str_t in, const char **why, apr_size_t *bad_offset)
{
    const unsigned char *s = (const unsigned char *)in.data;
    apr_size_t i = 0;
    while (i < in.len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        apr_size_t n;
        const char *err = utf8_check(s + i, in.len - i, &n);
        if (err) {
            if (why)
                *why = err;
            if (bad_offset)
                *bad_offset = i;
            return false;
        }
        i += n;
    }
    return true;
}

bool pp_validate_byte_range(pp_str_t in, int min, int max, int *bad_byte)
{
    if (min <= 0 && max >= 255)
        return true;
    const unsigned char *s = (const unsigned char *)in.data;
    for (apr_size_t i = 0; i < in.len; i++) {
        int c = s[i];
        if (c < min || c > max) {
            if (bad_byte)
                *bad_byte = c;
            return false;
        }
    }
    return true;
}
