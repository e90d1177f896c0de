/*
 * Internal header of rules/transforms/: the scans behind the transformations' fast paths.
 * Most values a transformation sees hold nothing it would change (no '%' for urlDecodeUni, no
 * upper case for lowercase, no byte from 0x80 for utf8toUnicode), and the contract "*out is in
 * when unchanged" lets such a value go through without a copy. These find the first byte that
 * may need work, 16 bytes at a time with SSE2 (every x86-64), a byte at a time elsewhere; each
 * returns an index from i on, or len when there is none.
 */
#ifndef PP_TRANSFORMS_SCAN_H
#define PP_TRANSFORMS_SCAN_H

#include <apr.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static inline apr_size_t pp_scan_first(unsigned mask, apr_size_t i)
{
    return i + (apr_size_t)__builtin_ctz(mask);
}

#ifdef __SSE2__
static inline __m128i pp_scan_load(const char *s, apr_size_t i)
{
    return _mm_loadu_si128((const __m128i *)(const void *)(s + i));
}

/* Where the block that covers i starts: at i while 16 bytes remain; the last partial block of
 * a value of 16 bytes or more is read as the block that ends at len (pp_scan_from drops its
 * bytes before i), so most values need no byte-wise tail. PP_SCAN_BYTES: the rest (under 16
 * bytes of a value shorter than 16, or nothing) goes byte by byte. */
#define PP_SCAN_BYTES ((apr_size_t)-1)
static inline apr_size_t pp_scan_at(apr_size_t i, apr_size_t len)
{
    if (i + 16 <= len)
        return i;
    return i < len && len >= 16 ? len - 16 : PP_SCAN_BYTES;
}

/* A block mask read at at, as bits from position i on (at <= i < at + 16). */
static inline unsigned pp_scan_from(unsigned mask, apr_size_t i, apr_size_t at)
{
    return mask >> (i - at);
}

/* Bytes of v in [lo, hi] (unsigned), as a compare mask. */
static inline __m128i pp_scan_in_range(__m128i v, unsigned char lo, unsigned char hi)
{
    __m128i shifted = _mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - lo)));
    return _mm_cmplt_epi8(shifted, _mm_set1_epi8((char)(0x80 + (hi - lo) + 1 - 256)));
}
#endif

/* First byte equal to a or b. */
static inline apr_size_t pp_scan_eq2(const char *s, apr_size_t i, apr_size_t len, char a, char b)
{
#ifdef __SSE2__
    __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
    for (;; i += 16) {
        apr_size_t at = pp_scan_at(i, len);
        if (at == PP_SCAN_BYTES)
            break;
        __m128i v = pp_scan_load(s, at);
        unsigned m = pp_scan_from((unsigned)_mm_movemask_epi8(
                                      _mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb))),
                                  i, at);
        if (m)
            return pp_scan_first(m, i);
        if (at < i)
            return len;
    }
#endif
    while (i < len && s[i] != a && s[i] != b)
        i++;
    return i;
}

/* First byte in [lo, hi] (unsigned; hi - lo < 128). */
static inline apr_size_t pp_scan_range(const char *s, apr_size_t i, apr_size_t len,
                                       unsigned char lo, unsigned char hi)
{
#ifdef __SSE2__
    for (;; i += 16) {
        apr_size_t at = pp_scan_at(i, len);
        if (at == PP_SCAN_BYTES)
            break;
        unsigned m = pp_scan_from(
            (unsigned)_mm_movemask_epi8(pp_scan_in_range(pp_scan_load(s, at), lo, hi)), i, at);
        if (m)
            return pp_scan_first(m, i);
        if (at < i)
            return len;
    }
#endif
    while (i < len && !((unsigned char)s[i] >= lo && (unsigned char)s[i] <= hi))
        i++;
    return i;
}

/* First byte that is NUL or from 0x80 on. */
static inline apr_size_t pp_scan_nul_or_high(const char *s, apr_size_t i, apr_size_t len)
{
#ifdef __SSE2__
    __m128i zero = _mm_setzero_si128();
    for (;; i += 16) {
        apr_size_t at = pp_scan_at(i, len);
        if (at == PP_SCAN_BYTES)
            break;
        __m128i v = pp_scan_load(s, at);
        unsigned m = pp_scan_from(
            (unsigned)_mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, zero))), i, at);
        if (m)
            return pp_scan_first(m, i);
        if (at < i)
            return len;
    }
#endif
    while (i < len && s[i] != '\0' && !((unsigned char)s[i] & 0x80))
        i++;
    return i;
}

/* First byte for which table[byte] is not zero. */
static inline apr_size_t pp_scan_table(const unsigned char table[256], const char *s, apr_size_t i,
                                       apr_size_t len)
{
    while (i < len && !table[(unsigned char)s[i]])
        i++;
    return i;
}

#endif
