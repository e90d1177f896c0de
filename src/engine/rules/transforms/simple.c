/*
 * Byte-level transformations that need no state: NUL bytes (replaced or removed), ASCII
 * case, whitespace compression and trimming. The rules' evaluation loop applies them to a
 * target value before the operator; replacing NULs is also the last step of the 1.9
 * normaliser (reference §5.1), which does it inline in url.c. Everything here is ASCII and
 * locale-independent on purpose: a rule must not match differently under another locale,
 * and multi-byte characters are left alone.
 */
#include "rules/transforms/transforms.h"
#include "rules/transforms/scan.h"

#include <string.h>

static bool is_ws(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r'); /* \t \n \v \f \r */
}

/* Copy of in[0, len) into a buffer of in.len bytes in scratch. */
static char *copy_prefix(apr_pool_t *scratch, pp_str_t in, apr_size_t len)
{
    char *buf = apr_palloc(scratch, in.len);
    memcpy(buf, in.data, len);
    return buf;
}

apr_status_t pp_tfn_replace_nulls(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    const char *nul = in.len ? memchr(in.data, '\0', in.len) : NULL;
    *out = in;
    if (!nul)
        return APR_SUCCESS;
    char *buf = copy_prefix(scratch, in, in.len);
    for (apr_size_t i = (apr_size_t)(nul - in.data); i < in.len; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    out->data = buf;
    return APR_SUCCESS;
}

apr_status_t pp_tfn_remove_nulls(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    const char *nul = in.len ? memchr(in.data, '\0', in.len) : NULL;
    *out = in;
    if (!nul)
        return APR_SUCCESS;
    apr_size_t o = (apr_size_t)(nul - in.data);
    char *buf = copy_prefix(scratch, in, o);
    for (apr_size_t i = o + 1; i < in.len; i++)
        if (in.data[i] != '\0')
            buf[o++] = in.data[i];
    *out = (pp_str_t){ buf, o };
    return APR_SUCCESS;
}

apr_status_t pp_tfn_lowercase(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    apr_size_t i = pp_scan_range(in.data, 0, in.len, 'A', 'Z');
    *out = in;
    if (i == in.len)
        return APR_SUCCESS;
    char *buf = copy_prefix(scratch, in, i);
#ifdef __SSE2__
    __m128i bit = _mm_set1_epi8(0x20);
    for (; i + 16 <= in.len; i += 16) {
        __m128i v = pp_scan_load(in.data, i);
        v = _mm_or_si128(v, _mm_and_si128(pp_scan_in_range(v, 'A', 'Z'), bit));
        _mm_storeu_si128((__m128i *)(void *)(buf + i), v);
    }
#endif
    for (; i < in.len; i++) {
        char c = in.data[i];
        buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
    }
    out->data = buf;
    return APR_SUCCESS;
}

/* Position of the first byte compression would change: whitespace other than a space, or
 * whitespace right after whitespace. in.len if there is none. */
static apr_size_t first_ws_change(pp_str_t in)
{
    for (apr_size_t i = 0; i < in.len; i++)
        if (is_ws(in.data[i]) && (in.data[i] != ' ' || (i > 0 && is_ws(in.data[i - 1]))))
            return i;
    return in.len;
}

apr_status_t pp_tfn_compress_whitespace(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    apr_size_t o = first_ws_change(in);
    *out = in;
    if (o == in.len)
        return APR_SUCCESS;
    char *buf = copy_prefix(scratch, in, o);
    /* Every whitespace byte is written as ' ', so buf[o - 1] == ' ' means "in a run". */
    for (apr_size_t i = o; i < in.len; i++) {
        if (!is_ws(in.data[i]))
            buf[o++] = in.data[i];
        else if (o == 0 || buf[o - 1] != ' ')
            buf[o++] = ' ';
    }
    *out = (pp_str_t){ buf, o };
    return APR_SUCCESS;
}

apr_status_t pp_tfn_trim(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    apr_size_t start = 0, end = in.len;
    while (start < end && is_ws(in.data[start]))
        start++;
    while (end > start && is_ws(in.data[end - 1]))
        end--;
    *out = in;
    if (start == 0 && end == in.len)
        return APR_SUCCESS;
    /* A copy rather than a slice, so that "same pointer" always means "unchanged". */
    char *buf = apr_palloc(scratch, in.len);
    memcpy(buf, in.data + start, end - start);
    *out = (pp_str_t){ buf, end - start };
    return APR_SUCCESS;
}

/* ---- 2.x whitespace: ModSecurity counts the byte 0xA0 (NBSP) as whitespace here ----------- */

static bool is_ws_nbsp(char c)
{
    return is_ws(c) || (unsigned char)c == 0xA0;
}

/* The bytes of v that are whitespace other than a space, or NBSP. */
#ifdef __SSE2__
static __m128i ws_other(__m128i v)
{
    return _mm_or_si128(pp_scan_in_range(v, '\t', '\r'),
                        _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xA0)));
}
#endif

/* compressWhitespace leaves a value alone when it holds no whitespace but single spaces. */
static bool compress2_changes(pp_str_t in)
{
    apr_size_t i = 0;
    bool prev_space = false;
#ifdef __SSE2__
    __m128i sp = _mm_set1_epi8(' ');
    for (; i + 16 <= in.len; i += 16) {
        __m128i v = pp_scan_load(in.data, i);
        if (_mm_movemask_epi8(ws_other(v)))
            return true;
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, sp));
        if ((m & (m >> 1)) || (prev_space && (m & 1)))
            return true;
        prev_space = (m >> 15) & 1;
    }
#endif
    for (; i < in.len; i++) {
        char c = in.data[i];
        if (is_ws_nbsp(c) && (c != ' ' || prev_space))
            return true;
        prev_space = c == ' ';
    }
    return false;
}

/* compressWhitespace (2.x): each run of whitespace or NBSP becomes one space. */
apr_status_t pp_tfn_compress_whitespace2(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    if (!compress2_changes(in)) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0;
    bool run = false;
    for (apr_size_t i = 0; i < in.len; i++) {
        if (!is_ws_nbsp(in.data[i])) {
            buf[o++] = in.data[i];
            run = false;
        } else if (!run) {
            buf[o++] = ' ';
            run = true;
        }
    }
    return pp_tfn_result(in, buf, o, out);
}

/* removeWhitespace: whitespace and NBSP bytes deleted. */
apr_status_t pp_tfn_remove_whitespace(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    apr_size_t i = 0;
#ifdef __SSE2__
    for (; i + 16 <= in.len; i += 16) {
        __m128i v = pp_scan_load(in.data, i);
        if (_mm_movemask_epi8(_mm_or_si128(ws_other(v), _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')))))
            break;
    }
#endif
    while (i < in.len && !is_ws_nbsp(in.data[i]))
        i++;
    if (i == in.len) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = 0;
    for (apr_size_t i = 0; i < in.len; i++)
        if (!is_ws_nbsp(in.data[i]))
            buf[o++] = in.data[i];
    return pp_tfn_result(in, buf, o, out);
}

/* trimLeft / trimRight: whitespace (not NBSP) at one end removed. */
apr_status_t pp_tfn_trim_left(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    apr_size_t start = 0;
    while (start < in.len && is_ws(in.data[start]))
        start++;
    if (start == 0) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len - start + 1);
    memcpy(buf, in.data + start, in.len - start);
    return pp_tfn_result(in, buf, in.len - start, out);
}

apr_status_t pp_tfn_trim_right(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    apr_size_t end = in.len;
    while (end > 0 && is_ws(in.data[end - 1]))
        end--;
    if (end == in.len) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, end + 1);
    memcpy(buf, in.data, end);
    return pp_tfn_result(in, buf, end, out);
}

/* parity*7bit: bit 7 of each byte set or cleared so that the byte has even (or odd) parity,
 * or cleared. As in ModSecurity, the parity deciding it is the whole byte's, bit 7 included:
 * a byte whose eight bits have odd parity gets bit 7 set for even parity, cleared for odd. */
static apr_status_t parity(apr_pool_t *scratch, pp_str_t in, int mode, pp_str_t *out)
{
    char *buf = apr_palloc(scratch, in.len + 1);
    for (apr_size_t i = 0; i < in.len; i++) {
        unsigned char c = (unsigned char)in.data[i];
        bool odd = __builtin_popcount(c) & 1;
        bool set = (mode == 0 && odd) || (mode == 1 && !odd);
        buf[i] = (char)(set ? c | 0x80 : c & 0x7F);
    }
    return pp_tfn_result(in, buf, in.len, out);
}

apr_status_t pp_tfn_parity_even7(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return parity(scratch, in, 0, out);
}

apr_status_t pp_tfn_parity_odd7(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return parity(scratch, in, 1, out);
}

apr_status_t pp_tfn_parity_zero7(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return parity(scratch, in, 2, out);
}
