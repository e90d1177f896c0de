/*
 * ModSecurity 2.9.7's unmatched-boundary test (multipart_msflag.h), apart from the parser in
 * multipart.c, whose own strict PP_MP_UNMATCHED_BOUNDARY is narrower.
 */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PP_MP_AVX2 1
#endif

#include "body/multipart_msflag.h"

/* MULTIPART_UNMATCHED_BOUNDARY as 2.9.7's multipart_process_chunk sets it, recomputed over the
 * body as sent: until the close delimiter line, a line is flagged when it starts with "--", its
 * first four bytes (its line end counts) hold no NUL, and it does not go on with the boundary (a
 * delimiter or, for ModSecurity, an "Invalid boundary" error, which the parser refuses anyway);
 * or when "--boundary" appears in it after its first byte. ModSecurity looks for the latter only in
 * a line's first 4 KiB (its line buffer); we look at the whole line, so a long line cannot hide
 * one. A position p of the body is looked at once the win bytes from p are there (or at the
 * end); the last win - 1 are kept for the next chunk, so chunking never changes the result. */

/* Whether the position at s (one byte before a line or before "--") decides the flag; avail
 * bytes are there (fewer than win only at the end of the body). */
static void ms_position(pp_mp_msflag_t *ms, const char *s, apr_size_t avail)
{
    const apr_size_t blen = ms->dash_len - 2;
    if (avail < 2 || s[1] != '-') {
        return;
    }
    if (s[0] != '\n') {
        if (avail > ms->dash_len && s[2] == '-' && memcmp(s + 1, ms->dash, ms->dash_len) == 0) {
            ms->found = true;
            ms->done = true;
        }
        return;
    }
    const char *l = s + 1; /* the line */
    apr_size_t n = avail - 1;
    if (n < 4 || l[1] != '-' || l[2] == '\0' || l[2] == '\n' || l[3] == '\0') {
        return; /* shorter than four bytes (or cut by the end of the body), or a NUL in them */
    }
    if (n >= 2 + blen && memcmp(l + 2, ms->dash + 2, blen) == 0) {
        const char *t = l + 2 + blen;
        apr_size_t rest = n - 2 - blen;
        if (rest >= 3 && t[0] == '-' && t[1] == '-' &&
            (t[2] == '\n' || (rest >= 4 && t[2] == '\r' && t[3] == '\n'))) {
            ms->done = true; /* the close delimiter: ModSecurity reads no further */
        }
        return;
    }
    ms->found = true;
    ms->done = true;
}

/* The scan looks only for "--": ms_position decides nothing unless s[1] and s[2] are both '-'
 * (a line "\n--..." or "--boundary" inside a line), and a pair of dashes is rare in any
 * content but text that has such lines (one in 65,536 positions of random bytes). The SIMD
 * stretches below test 64 positions per step for that pair, with the widest instructions
 * ms->simd allows (PP_MP_SIMD_*); memchr does the rest. Each returns where it stopped: fewer than 64
 * positions left, or ms->done. */

/* ms_position for every set bit of mask (bit i: p[i] and p[i + 1] are "--"). */
static void ms_hits(pp_mp_msflag_t *ms, const char *p, apr_uint64_t mask)
{
    do {
        ms_position(ms, p + __builtin_ctzll(mask) - 1, ms->win);
        mask &= mask - 1;
    } while (mask != 0 && !ms->done);
}

#ifdef PP_MP_AVX2
/* The first 64-byte step from p, while stop - p >= 64, with a "--": returns it with *mask set
 * (bit i: p[i] and p[i + 1]), or where it stopped with *mask 0. A leaf, so its loop keeps the
 * vector in a register (as the parser's lf_last_avx512). */
__attribute__((target("avx512bw"), noinline)) static const char *
dashes_avx512(const char *p, const char *stop, apr_uint64_t *mask)
{
    const __m512i dash = _mm512_set1_epi8('-');
    for (; stop - p >= 64; p += 64) {
        __m512i a = _mm512_loadu_si512((const void *)p);
        __m512i b = _mm512_loadu_si512((const void *)(p + 1));
        __mmask64 m = _mm512_mask_cmpeq_epi8_mask(_mm512_cmpeq_epi8_mask(a, dash), b, dash);
        if (__builtin_expect(m != 0, 0)) {
            *mask = (apr_uint64_t)m;
            return p;
        }
    }
    *mask = 0;
    return p;
}

__attribute__((target("avx512bw"))) static const char *
ms_scan_avx512(pp_mp_msflag_t *ms, const char *p, const char *stop)
{
    apr_uint64_t m;
    while ((p = dashes_avx512(p, stop, &m)), m != 0) {
        ms_hits(ms, p, m);
        if (ms->done) {
            return p;
        }
        p += 64;
    }
    return p;
}

__attribute__((target("avx2"))) static const char *ms_scan_avx2(pp_mp_msflag_t *ms,
                                                                  const char *p,
                                                                  const char *stop)
{
    const __m256i dash = _mm256_set1_epi8('-');
    while (stop - p >= 64) {
        const __m256i *q = (const __m256i *)(const void *)p;
        const __m256i *r = (const __m256i *)(const void *)(p + 1);
        __m256i m0 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_loadu_si256(q), dash),
                                      _mm256_cmpeq_epi8(_mm256_loadu_si256(r), dash));
        __m256i m1 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_loadu_si256(q + 1), dash),
                                      _mm256_cmpeq_epi8(_mm256_loadu_si256(r + 1), dash));
        if (__builtin_expect(!_mm256_testz_si256(_mm256_or_si256(m0, m1),
                                                 _mm256_or_si256(m0, m1)), 0)) {
            ms_hits(ms, p, (apr_uint64_t)(unsigned)_mm256_movemask_epi8(m0) |
                               (apr_uint64_t)(unsigned)_mm256_movemask_epi8(m1) << 32);
            if (ms->done) {
                return p;
            }
        }
        p += 64;
    }
    return p;
}
#endif

#if defined(__SSE2__)
static const char *ms_scan_sse2(pp_mp_msflag_t *ms, const char *p, const char *stop)
{
    const __m128i dash = _mm_set1_epi8('-');
    while (stop - p >= 64) {
        __m128i m[4];
        for (int k = 0; k < 4; k++) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k + 1));
            m[k] = _mm_and_si128(_mm_cmpeq_epi8(a, dash), _mm_cmpeq_epi8(b, dash));
        }
        __m128i any = _mm_or_si128(_mm_or_si128(m[0], m[1]), _mm_or_si128(m[2], m[3]));
        if (__builtin_expect(_mm_movemask_epi8(any) != 0, 0)) {
            apr_uint64_t mask = 0;
            for (int k = 0; k < 4; k++) {
                mask |= (apr_uint64_t)(unsigned)_mm_movemask_epi8(m[k]) << (16 * k);
            }
            ms_hits(ms, p, mask);
            if (ms->done) {
                return p;
            }
        }
        p += 64;
    }
    return p;
}
#endif

/* Positions [0, n - win] of data, each with its whole window: their "--" at [1, n - win + 1]. */
static void ms_scan(pp_mp_msflag_t *ms, const char *data, apr_size_t n)
{
    if (n < ms->win) {
        return;
    }
    const char *p = data + 1, *stop = data + n - ms->win + 2;
    if (stop - p >= 64) {
#ifdef PP_MP_AVX2
        if (ms->simd >= PP_MP_SIMD_AVX512) {
            p = ms_scan_avx512(ms, p, stop);
        } else if (ms->simd == PP_MP_SIMD_AVX2) {
            p = ms_scan_avx2(ms, p, stop);
        }
#endif
#if defined(__SSE2__)
        if (ms->simd >= PP_MP_SIMD_SSE2) {
            p = ms->done ? stop : ms_scan_sse2(ms, p, stop);
        }
#endif
    }
    while (!ms->done && p < stop) {
        const char *q = memchr(p, '-', (apr_size_t)(stop - p));
        if (q == NULL) {
            return;
        }
        if (q[1] == '-') { /* q + 1 < stop <= data + n */
            ms_position(ms, q - 1, ms->win);
        }
        p = q + 1;
    }
}

/* The next len bytes of the body. The positions kept from the last chunk are decided first,
 * their windows completed with data's first bytes; those with no '-' right after them cannot
 * matter, so a chunk whose last win - 1 bytes have no '-' keeps only its last byte. */
static void ms_feed(pp_mp_msflag_t *ms, const char *data, apr_size_t len)
{
    const apr_size_t w = ms->win, old = ms->len;
    if (ms->done || len == 0) {
        return;
    }
    apr_size_t take = len < w ? len : w, tot = old + take, i = 0;
    /* Those with i + w <= tot are decided now; s[1] of position i is buf[i + 1]. */
    apr_size_t decided = tot < w ? 0 : (tot + 1 - w < old ? tot + 1 - w : old);
    memcpy(ms->buf + old, data, take);
    if (memchr(ms->buf + 1, '-', decided) != NULL) {
        for (; i < decided; i++) {
            if (ms->buf[i + 1] == '-' && ms->buf[i + 2] == '-') { /* i + 2 < w <= tot */
                ms_position(ms, ms->buf + i, w);
                if (ms->done) {
                    return;
                }
            }
        }
    }
    if (decided < old) { /* data was too short to decide them all: keep what is left */
        memmove(ms->buf, ms->buf + decided, tot - decided);
        ms->len = tot - decided;
        return;
    }
    ms_scan(ms, data, len); /* len >= w - 1 here, as decided == old */
    const char *tail = data + len - (w - 1);
    if (memchr(tail + 1, '-', w - 2) == NULL) {
        ms->buf[0] = data[len - 1];
        ms->len = 1;
    } else {
        memcpy(ms->buf, tail, w - 1);
        ms->len = w - 1;
    }
}

/* End of body: the kept positions with what there is. */
static void ms_finish(pp_mp_msflag_t *ms)
{
    for (apr_size_t i = 0; i < ms->len && !ms->done; i++) {
        ms_position(ms, ms->buf + i, ms->len - i);
    }
    ms->len = 0;
}

void pp_mp_msflag_init(pp_mp_msflag_t *ms, const char *dash, apr_size_t dash_len,
                       unsigned simd)
{
    memset(ms, 0, sizeof(*ms));
    ms->simd = simd;
    ms->dash = dash;
    ms->dash_len = dash_len;
    ms->win = 1 + dash_len + 4;
    ms->buf[0] = '\n'; /* the body starts a line */
    ms->len = 1;
}

bool pp_mp_msflag_feed(pp_mp_msflag_t *ms, const char *data, apr_size_t len)
{
    ms_feed(ms, data, len);
    return ms->found;
}

bool pp_mp_msflag_finish(pp_mp_msflag_t *ms)
{
    ms_finish(ms);
    return ms->found;
}
