/*
 * Hexadecimal, as ModSecurity 2.9.7 does it:
 *   hexDecode     takes the value two characters at a time WITHOUT checking that they are hex
 *                 digits (each character counts as c - '0', or for c >= 'A' as
 *                 (c & 0xDF) - 'A' + 10; the byte is the low eight bits); an odd last
 *                 character is dropped.
 *   sqlHexDecode  turns each "0x"/"0X" followed by pairs of hex digits into those bytes; the
 *                 byte right after such a run is copied without being looked at. It reads a C
 *                 string and its result is one: both end at the first NUL, decoded or not.
 *   hexEncode     two lower-case hex digits per byte.
 */
#include "rules/transforms/transforms.h"

#include "util/util.h"

static int lax_digit(unsigned char c)
{
    return c >= 'A' ? (c & 0xDF) - 'A' + 10 : c - '0';
}

apr_status_t pp_tfn_hex_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    char *buf = apr_palloc(scratch, in.len / 2 + 1);
    apr_size_t o = 0;
    for (apr_size_t i = 0; i + 2 <= in.len; i += 2) {
        int v = lax_digit((unsigned char)in.data[i]) * 16 + lax_digit((unsigned char)in.data[i + 1]);
        buf[o++] = (char)(v & 0xFF);
    }
    return pp_tfn_result(in, buf, o, out);
}

apr_status_t pp_tfn_sql_hex_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    const char *nul = in.len ? memchr(in.data, '\0', in.len) : NULL;
    apr_size_t len = nul ? (apr_size_t)(nul - in.data) : in.len;
    const char *s = in.data;
    char *buf = apr_palloc(scratch, len + 1);
    apr_size_t o = 0, i = 0;
    while (i < len) {
        if (s[i] == '0' && i + 3 < len && (s[i + 1] | 0x20) == 'x' &&
            pp_hex_pair(s + i + 2) >= 0) {
            i += 2;
            while (i + 1 < len && pp_hex_pair(s + i) >= 0) {
                buf[o++] = (char)pp_hex_pair(s + i);
                i += 2;
            }
            if (i >= len)
                break; /* ModSecurity copies the terminating NUL here: the string ends */
        }
        buf[o++] = s[i++];
    }
    char *cut = memchr(buf, '\0', o);
    return pp_tfn_result(in, buf, cut ? (apr_size_t)(cut - buf) : o, out);
}

apr_status_t pp_tfn_hex_encode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    static const char hex[] = "0123456789abcdef";
    char *buf = apr_palloc(scratch, in.len * 2 + 1);
    for (apr_size_t i = 0; i < in.len; i++) {
        buf[2 * i] = hex[(unsigned char)in.data[i] >> 4];
        buf[2 * i + 1] = hex[(unsigned char)in.data[i] & 15];
    }
    return pp_tfn_result(in, buf, in.len * 2, out);
}
