/*
 * Query strings and application/x-www-form-urlencoded bodies → argument fields (ARGS,
 * ARG_name, ARGS_NAMES, ARGS_VALUES; reference §4.2). The transaction calls this once for the
 * query string after the request line and once for a buffered urlencoded body; the
 * variables collectors then read the fields. Decoding here is only what the format itself
 * defines ('+' and %XX); the anti-evasion normalisation of §5.1 (self references, slashes,
 * NUL bytes) belongs to the rules' transformation pipeline, and rejecting malformed escapes
 * (SecFilterCheckURLEncoding, §5.2) belongs to validation: this file only counts them.
 * ';' is not a separator, as in 1.9; SecArgumentSeparator names another character than '&'.
 */
#include "request/request.h"
#include "util/util.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* One byte (or escape) at src[i] into dst[o]: a '%' with two hex digits decodes, any other
 * '%' stays and is counted; '+' is a space when plus. Returns the input bytes consumed. */
static inline apr_size_t decode_one(char *dst, apr_size_t o, const char *src, apr_size_t i,
                                    apr_size_t len, bool plus, unsigned *bad)
{
    char c = src[i];
    if (c == '%') {
        int hi = i + 2 < len ? pp_hex_value((unsigned char)src[i + 1]) : -1;
        int lo = hi >= 0 ? pp_hex_value((unsigned char)src[i + 2]) : -1;
        if (lo >= 0) {
            dst[o] = (char)(hi << 4 | lo);
            return 3;
        }
        (*bad)++;
    } else if (c == '+' && plus) {
        c = ' ';
    }
    dst[o] = c;
    return 1;
}

/* Decodes len bytes of src into dst (at least len bytes); returns the decoded length.
 * An escape is only decoded when both digits are present, so "%4" at the end of an item
 * stays literal. Sixteen bytes at a time with SSE2 up to the next '%' ('+' becomes a space
 * in the register): a 2 KB form body costs ~2 instructions a byte instead of ~12. The output
 * never runs ahead of the input, so a whole block stored at dst + o stays within dst's len
 * bytes; the bytes past a '%' are written again. */
static apr_size_t decode_into(char *dst, const char *src, apr_size_t len, bool plus,
                              unsigned *bad)
{
    apr_size_t o = 0, i = 0;
#ifdef __SSE2__
    const __m128i pct = _mm_set1_epi8('%'), pls = _mm_set1_epi8('+'),
                  plus_on = _mm_set1_epi8(plus ? (char)0xff : 0), space = _mm_set1_epi8(' ');
    while (i + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, pct));
        __m128i p = _mm_and_si128(_mm_cmpeq_epi8(v, pls), plus_on);
        v = _mm_or_si128(_mm_and_si128(p, space), _mm_andnot_si128(p, v));
        _mm_storeu_si128((__m128i *)(void *)(dst + o), v);
        if (!m) {
            i += 16;
            o += 16;
            continue;
        }
        unsigned j = (unsigned)__builtin_ctz(m);
        i += j;
        o += j;
        i += decode_one(dst, o++, src, i, len, plus, bad);
    }
#endif
    while (i < len)
        i += decode_one(dst, o++, src, i, len, plus, bad);
    return o;
}

static pp_str_t decode_copy(apr_pool_t *p, const char *src, apr_size_t len, bool plus,
                            unsigned *bad)
{
    char *dst = apr_palloc(p, len + 1);
    apr_size_t n = decode_into(dst, src, len, plus, bad);
    dst[n] = '\0';
    return (pp_str_t){ dst, n };
}

apr_status_t pp_url_decode(apr_pool_t *p, pp_str_t in, bool plus_as_space, pp_str_t *out,
                           unsigned *bad_escapes)
{
    unsigned bad = 0;
    bool needed = in.len > 0 && (memchr(in.data, '%', in.len) != NULL ||
                                 (plus_as_space && memchr(in.data, '+', in.len) != NULL));
    *out = needed ? decode_copy(p, in.data, in.len, plus_as_space, &bad) : in;
    if (bad_escapes)
        *bad_escapes += bad;
    return APR_SUCCESS;
}

/* One non-empty "name[=value]" item. */
static void add_item(apr_pool_t *p, const char *item, apr_size_t len, apr_array_header_t *out,
                     unsigned *bad)
{
    const char *eq = memchr(item, '=', len);
    apr_size_t name_len = eq ? (apr_size_t)(eq - item) : len;
    pp_field_t *f = apr_array_push(out);
    f->name = decode_copy(p, item, name_len, true, bad);
    if (eq)
        f->value = decode_copy(p, eq + 1, len - name_len - 1, true, bad);
    else
        f->value = decode_copy(p, item, 0, true, bad);
}

apr_status_t pp_urlencoded_parse(apr_pool_t *p, pp_str_t in, apr_array_header_t *out,
                                 unsigned *bad_escapes)
{
    return pp_urlencoded_parse_sep(p, in, '&', out, bad_escapes);
}

/* Whether s holds a byte that decoding changes ('%', '+'). */
static bool needs_decoding(const char *s, apr_size_t len)
{
    apr_size_t i = 0;
#ifdef __SSE2__
    const __m128i pct = _mm_set1_epi8('%'), pls = _mm_set1_epi8('+');
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        if (_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, pct), _mm_cmpeq_epi8(v, pls))))
            return true;
    }
#endif
    for (; i < len; i++)
        if (s[i] == '%' || s[i] == '+')
            return true;
    return false;
}

/* The usual query string, with nothing to decode: one copy of it, each name and value a span
 * of the copy ended by a NUL written over its '=' or separator (an item without '=' has the
 * empty value at its name's NUL), instead of two allocations and decodings per item. The same
 * fields as parse's loop below. */
static void parse_plain(apr_pool_t *p, pp_str_t in, char sep, apr_array_header_t *out,
                        bool keep_empty)
{
    char *buf = apr_palloc(p, in.len + 1);
    memcpy(buf, in.data, in.len);
    buf[in.len] = '\0';
    apr_size_t start = 0;
    while (start < in.len) {
        char *amp = memchr(buf + start, sep, in.len - start);
        apr_size_t end = amp ? (apr_size_t)(amp - buf) : in.len;
        if (end > start || keep_empty) {
            char *item = buf + start, *eq = memchr(item, '=', end - start);
            apr_size_t name_len = eq ? (apr_size_t)(eq - item) : end - start;
            pp_field_t *f = apr_array_push(out);
            buf[end] = '\0';
            f->name = (pp_str_t){ item, name_len };
            if (eq) {
                *eq = '\0';
                f->value = (pp_str_t){ eq + 1, end - start - name_len - 1 };
            } else {
                f->value = (pp_str_t){ buf + end, 0 };
            }
        }
        start = end + 1;
    }
}

static apr_status_t parse(apr_pool_t *p, pp_str_t in, char sep, apr_array_header_t *out,
                          unsigned *bad_escapes, bool keep_empty)
{
    if (!out || out->elt_size != sizeof(pp_field_t))
        return APR_EINVAL;
    if (in.len == 0)
        return APR_SUCCESS;
    if (sep != '%' && sep != '+' && !needs_decoding(in.data, in.len)) {
        parse_plain(p, in, sep, out, keep_empty);
        return APR_SUCCESS;
    }
    unsigned bad = 0;
    apr_size_t start = 0;
    while (start < in.len) {
        const char *amp = memchr(in.data + start, sep, in.len - start);
        apr_size_t end = amp ? (apr_size_t)(amp - in.data) : in.len;
        if (end > start || keep_empty)
            add_item(p, in.data + start, end - start, out, &bad);
        start = end + 1;
    }
    if (bad_escapes)
        *bad_escapes += bad;
    return APR_SUCCESS;
}

apr_status_t pp_urlencoded_parse_sep(apr_pool_t *p, pp_str_t in, char sep,
                                     apr_array_header_t *out, unsigned *bad_escapes)
{
    return parse(p, in, sep, out, bad_escapes, false);
}

apr_status_t pp_urlencoded_parse2(apr_pool_t *p, pp_str_t in, char sep,
                                  apr_array_header_t *out, unsigned *bad_escapes)
{
    return parse(p, in, sep, out, bad_escapes, true);
}

bool pp_fields_nul_name(const apr_array_header_t *a, int from, bool encoded_too)
{
    for (int i = from; a && i < a->nelts; i++) {
        pp_str_t n = APR_ARRAY_IDX(a, i, pp_field_t).name;
        if (memchr(n.data, '\0', n.len) != NULL)
            return true;
        for (apr_size_t k = 0; encoded_too && k + 2 < n.len; k++)
            if (n.data[k] == '%' && n.data[k + 1] == '0' && n.data[k + 2] == '0')
                return true;
    }
    return false;
}
