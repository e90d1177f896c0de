/*
 * Base64 as ModSecurity 2.9.7 decodes it. base64Decode is APR's decoder (the one ModSecurity
 * calls): it decodes the longest leading run of alphabet characters and stops at anything
 * else, '=' and NUL included. base64DecodeExt is RFC 2045-style: characters outside the
 * alphabet are skipped, '=' is skipped too, except that a '=' not followed by another '='
 * where a quantum holds a single character makes the whole result empty; it stops at a NUL.
 * base64Encode is standard base64 with padding.
 */
#include "rules/transforms/transforms.h"

#include <apr_base64.h>
#include <apr_strings.h>

apr_status_t pp_tfn_base64_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    /* APR reads a C string: a copy ends at the first NUL, as ModSecurity's input does. */
    char *src = apr_pstrmemdup(scratch, in.data, in.len);
    char *buf = apr_palloc(scratch, (apr_size_t)apr_base64_decode_len(src) + 1);
    int n = apr_base64_decode(buf, src);
    return pp_tfn_result(in, buf, n > 0 ? (apr_size_t)n : 0, out);
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

apr_status_t pp_tfn_base64_decode_ext(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    char *buf = apr_palloc(scratch, in.len + 2);
    apr_size_t o = 0, q = 0; /* q: alphabet characters seen so far */
    for (apr_size_t i = 0; i < in.len && in.data[i] != '\0'; i++) {
        unsigned char c = (unsigned char)in.data[i];
        if (c == '=') {
            char next = i + 1 < in.len ? in.data[i + 1] : '\0';
            if (next != '=' && q % 4 == 1)
                return pp_tfn_result(in, buf, 0, out);
            continue;
        }
        int v = b64_value(c);
        if (v < 0)
            continue;
        switch (q % 4) {
        case 0: buf[o] = (char)(v << 2); break;
        case 1: buf[o++] |= (char)(v >> 4); buf[o] = (char)((v & 0x0f) << 4); break;
        case 2: buf[o++] |= (char)(v >> 2); buf[o] = (char)((v & 0x03) << 6); break;
        case 3: buf[o++] |= (char)v; break;
        }
        q++;
    }
    return pp_tfn_result(in, buf, o, out);
}

apr_status_t pp_tfn_base64_encode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    char *buf = apr_palloc(scratch, (apr_size_t)apr_base64_encode_len((int)in.len) + 1);
    int n = apr_base64_encode_binary(buf, (const unsigned char *)in.data, (int)in.len);
    return pp_tfn_result(in, buf, n > 0 ? (apr_size_t)n - 1 : 0, out);
}
