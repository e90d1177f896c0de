/*
 * Streaming multipart/form-data parser (RFC 2046 §5.1, RFC 7578), reference §6.3: the scanner.
 *
 * body/dispatch.c feeds it the request body in whatever chunks Apache delivers. It walks the
 * body as preamble -> (delimiter, part headers, part content)* -> close delimiter -> epilogue.
 * Part content is searched for "\n--boundary" 16 bytes at a time (next_candidate), and each
 * chunk's content goes out as one maximal run (file_data, or appended to the field value). A delimiter cut by a chunk edge is kept in a look-behind of under 256 bytes
 * (CRLF + "--" + boundary + padding + CRLF) and decided when the next chunk arrives; the result
 * never depends on where the chunks were cut.
 *
 * A part's header section and content are multipart_part.c's, its headers' meaning multipart_header.c's. Deliberately not
 * done here: storing files, building arguments, deciding the verdict (the caller turns strict
 * flags into a rejection), and any recovery that guesses what a malformed body meant.
 */
#include <assert.h>
#include <string.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PP_MP_AVX2 1
#endif

#include "body/multipart_int.h"

/* ---- Delimiter recognition ------------------------------------------------------------------ */

/* What follows "--boundary" at t: "--" (close), or padding and a line end. */
static int delim_tail(const char *t, const char *end, bool final, delim_t *d, unsigned *flag)
{
    apr_size_t avail = (apr_size_t)(end - t), i = 0;
    int need = final ? D_NO : D_NEED;

    memset(d, 0, sizeof(*d));
    if (avail == 0 || (t[0] == '-' && avail < 2)) {
        return need;
    }
    if (t[0] == '-') {
        if (t[1] != '-') {
            *flag = PP_MP_UNMATCHED_BOUNDARY;
            return D_NO;
        }
        d->close = true;
        d->after = t + 2;
        return D_YES;
    }
    while (i < avail && i <= PAD_MAX && (t[i] == ' ' || t[i] == '\t')) {
        i++;
    }
    if (i == avail || (t[i] == '\r' && i + 1 == avail)) {
        return need;
    }
    if (i <= PAD_MAX && t[i] == '\n') {
        d->eol = EOL_LF;
        d->after = t + i + 1;
    } else if (i <= PAD_MAX && t[i] == '\r' && t[i + 1] == '\n') {
        d->eol = EOL_CRLF;
        d->after = t + i + 2;
    } else {
        /* PHP ends the part at "--boundary" whatever follows: we must not read on silently. */
        *flag = PP_MP_UNMATCHED_BOUNDARY;
        return D_NO;
    }
    d->padded = i > 0;
    return D_YES;
}

int pp_mp_delim_check(const pp_multipart_t *mp, const char *q, const char *end, bool final,
                      delim_t *d, unsigned *flag)
{
    apr_size_t avail = (apr_size_t)(end - q), k = 0;
    *flag = 0;
    while (k < mp->dash_len && k < avail && q[k] == mp->dash[k]) {
        k++;
    }
    if (k == mp->dash_len) {
        return delim_tail(q + k, end, final, d, flag);
    }
    if (k == avail) {
        return final ? D_NO : D_NEED;
    }
    if (k >= mp->prefix_min && (q[k] == '\r' || q[k] == '\n')) {
        *flag = PP_MP_UNMATCHED_BOUNDARY; /* a truncated copy of our delimiter */
    }
    return D_NO;
}

static apr_size_t feed_epilogue(pp_multipart_t *mp, const char *buf, apr_size_t len)
{
    for (apr_size_t i = 0; i < len && !(mp->flags & PP_MP_DATA_AFTER); i++) {
        if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n') {
            mp->flags |= PP_MP_DATA_AFTER;
        }
    }
    return len;
}

/* ---- Candidate search ----------------------------------------------------------------------
 * delim_check can say anything but a plain D_NO only for a line whose first bytes match
 * mp->dash for min(prefix_min, dash_len) bytes, or for all the bytes left when the buffer ends
 * sooner (a delimiter needs the whole dash, a resembling line at least prefix_min of it). So the
 * scanner looks only for "\n" followed by that prefix: with SSE2, 16 positions at a time whose
 * first byte is LF and whose last needle byte matches, then a memcmp for those few; with
 * AVX-512BW or AVX2 (checked at run time: the build targets plain x86-64), 64 at a time. On
 * binary content this skips 16 or 64 bytes per step instead of stopping at every LF (one byte
 * in 256). */

/* Does the line after the LF at nl start with the needle, as far as the buffer goes? */
static bool candidate_at(const pp_multipart_t *mp, const char *nl, const char *end)
{
    apr_size_t avail = (apr_size_t)(end - nl - 1);
    apr_size_t n = avail < mp->needle_len ? avail : mp->needle_len;
    return memcmp(nl + 1, mp->dash, n) == 0;
}

#ifdef PP_MP_AVX2
/* The first candidate among the LFs at mask's bits (bit i: p[i]), or NULL. */
static const char *first_candidate(const pp_multipart_t *mp, const char *p, apr_uint64_t mask,
                                   const char *end)
{
    for (; mask != 0; mask &= mask - 1) {
        const char *nl = p + __builtin_ctzll(mask);
        if (candidate_at(mp, nl, end)) {
            return nl;
        }
    }
    return NULL;
}

/* next_candidate's first stretch, 64 positions per step, with AVX-512BW or AVX2: returns the
 * first candidate and sets *pp to it, or NULL with *pp where fewer than needle_len + 64 bytes
 * are left. */
/* The first 64-byte step from p, while end - p >= off + 64, with an LF whose byte off further
 * on is last: returns it with *mask set (bit i: p[i]), or where it stopped with *mask 0. A leaf
 * of its own, so the loop keeps its vectors in registers (a loop that may call memcmp reloads
 * them from the stack in every step: a quarter of its speed). */
__attribute__((target("avx512bw"), noinline)) static const char *
lf_last_avx512(const char *p, const char *end, apr_size_t off, char last, apr_uint64_t *mask)
{
    const __m512i vlf = _mm512_set1_epi8('\n'), vlast = _mm512_set1_epi8(last);
    for (; (apr_size_t)(end - p) >= off + 64; p += 64) {
        __m512i a = _mm512_loadu_si512((const void *)p);
        __m512i b = _mm512_loadu_si512((const void *)(p + off));
        __mmask64 m = _mm512_mask_cmpeq_epi8_mask(_mm512_cmpeq_epi8_mask(a, vlf), b, vlast);
        if (__builtin_expect(m != 0, 0)) {
            *mask = (apr_uint64_t)m;
            return p;
        }
    }
    *mask = 0;
    return p;
}

__attribute__((target("avx512bw"))) static const char *
next_candidate_avx512(const pp_multipart_t *mp, const char **pp, const char *end)
{
    const char *p = *pp, *nl;
    apr_uint64_t m;
    while ((p = lf_last_avx512(p, end, mp->needle_len, mp->dash[mp->needle_len - 1], &m)),
           m != 0) {
        if ((nl = first_candidate(mp, p, m, end)) != NULL) {
            *pp = nl;
            return nl;
        }
        p += 64;
    }
    *pp = p;
    return NULL;
}

__attribute__((target("avx2"))) static const char *
next_candidate_avx2(const pp_multipart_t *mp, const char **pp, const char *end)
{
    const char *p = *pp, *nl;
    const apr_size_t span = mp->needle_len + 64;
    const __m256i lf = _mm256_set1_epi8('\n');
    const __m256i last = _mm256_set1_epi8(mp->dash[mp->needle_len - 1]);
    for (; (apr_size_t)(end - p) >= span; p += 64) {
        const __m256i *q = (const __m256i *)(const void *)p;
        const __m256i *r = (const __m256i *)(const void *)(p + mp->needle_len);
        __m256i m0 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_loadu_si256(q), lf),
                                      _mm256_cmpeq_epi8(_mm256_loadu_si256(r), last));
        __m256i m1 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_loadu_si256(q + 1), lf),
                                      _mm256_cmpeq_epi8(_mm256_loadu_si256(r + 1), last));
        __m256i any = _mm256_or_si256(m0, m1);
        if (__builtin_expect(!_mm256_testz_si256(any, any), 0) &&
            (nl = first_candidate(mp, p,
                                  (apr_uint64_t)(unsigned)_mm256_movemask_epi8(m0) |
                                      (apr_uint64_t)(unsigned)_mm256_movemask_epi8(m1) << 32,
                                  end)) != NULL) {
            *pp = nl;
            return nl;
        }
    }
    *pp = p;
    return NULL;
}
#endif

static const char *next_candidate(const pp_multipart_t *mp, const char *p, const char *end)
{
#ifdef PP_MP_AVX2
    if ((apr_size_t)(end - p) >= mp->needle_len + 64) {
        if (mp->simd >= PP_MP_SIMD_AVX512) {
            if (next_candidate_avx512(mp, &p, end) != NULL) {
                return p;
            }
        } else if (mp->simd == PP_MP_SIMD_AVX2 && next_candidate_avx2(mp, &p, end) != NULL) {
            return p;
        }
    }
#endif
#if defined(__SSE2__)
    /* Block i covers LFs at p[i..i+15]; its last-byte test reads up to p[i + needle_len + 15]. */
    const apr_size_t span = mp->needle_len + 16;
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i last = _mm_set1_epi8(mp->dash[mp->needle_len - 1]);
    while (mp->simd >= PP_MP_SIMD_SSE2 && (apr_size_t)(end - p) >= span) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + mp->needle_len));
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_and_si128(_mm_cmpeq_epi8(a, lf), _mm_cmpeq_epi8(b, last)));
        while (mask != 0) {
            const char *nl = p + __builtin_ctz(mask);
            if (candidate_at(mp, nl, end)) {
                return nl;
            }
            mask &= mask - 1;
        }
        p += 16;
    }
#endif
    for (;;) {
        const char *nl = memchr(p, '\n', (apr_size_t)(end - p));
        if (nl == NULL || candidate_at(mp, nl, end)) {
            return nl;
        }
        p = nl + 1;
    }
}

/* Emits a run of content whose scan found a resembling line starting at flag_at (relative;
 * (apr_size_t)-1 = none). A field that overflows stops the parser at its first byte that does
 * not fit, so only a line starting at or before that byte counts: otherwise how far one chunk
 * let us look ahead would change the flags. */
static bool emit_run(pp_multipart_t *mp, const char *buf, apr_size_t n, apr_size_t flag_at)
{
    apr_size_t reached = n;
    if (mp->state == ST_BODY && (!mp->hdr.is_file || mp->hdr.also_field) &&
        n > pp_sbuf_room(&mp->field)) {
        reached = pp_sbuf_room(&mp->field);
    }
    if (flag_at <= reached) {
        mp->flags |= PP_MP_UNMATCHED_BOUNDARY;
    }
    return pp_mp_emit(mp, buf, n);
}

/* Preamble or part content up to the next delimiter. Returns the bytes consumed: less than len
 * when the tail might begin a delimiter (never when final), or when a delimiter changed state. */
static apr_size_t scan_content(pp_multipart_t *mp, const char *buf, apr_size_t len, bool final)
{
    const char *p = buf, *end = buf + len;
    apr_size_t flag_at = (apr_size_t)-1;
    unsigned flag;
    delim_t d;

    if (mp->bol) {
        int r = pp_mp_delim_check(mp, buf, end, final, &d, &flag);
        if (r == D_NEED) {
            return 0;
        }
        mp->bol = false;
        mp->flags |= flag;
        if (r == D_YES) {
            pp_mp_at_delimiter(mp, 0, &d);
            return (apr_size_t)(d.after - buf);
        }
    }
    for (;;) {
        const char *nl = next_candidate(mp, p, end);
        if (nl == NULL) {
            break;
        }
        int r = pp_mp_delim_check(mp, nl + 1, end, final, &d, &flag);
        if (r == D_NO) {
            flag_at = (flag && flag_at == (apr_size_t)-1) ? (apr_size_t)(nl + 1 - buf) : flag_at;
            p = nl + 1;
            continue;
        }
        /* A CR before the LF belongs to the delimiter; a trailing CR is never consumed early. */
        const char *start = (nl > buf && nl[-1] == '\r') ? nl - 1 : nl;
        if (!emit_run(mp, buf, (apr_size_t)(start - buf), flag_at) || r == D_NEED) {
            return (apr_size_t)(start - buf);
        }
        pp_mp_at_delimiter(mp, start == nl ? EOL_LF : EOL_CRLF, &d);
        return (apr_size_t)(d.after - buf);
    }
    apr_size_t keep = (!final && len > 0 && end[-1] == '\r') ? 1 : 0;
    emit_run(mp, buf, len - keep, flag_at);
    return len - keep;
}

/* Runs the state machine over buf; returns the bytes consumed (all of them when final or when
 * parsing stopped). */
static apr_size_t run(pp_multipart_t *mp, const char *buf, apr_size_t len, bool final)
{
    apr_size_t pos = 0;
    while (pos < len) {
        apr_size_t n;
        switch (mp->state) {
        case ST_PREAMBLE:
        case ST_BODY:
            n = scan_content(mp, buf + pos, len - pos, final);
            break;
        case ST_HEADERS:
            n = pp_mp_feed_headers(mp, buf + pos, len - pos);
            break;
        case ST_EPILOGUE:
            n = feed_epilogue(mp, buf + pos, len - pos);
            break;
        default:
            return len;
        }
        if (n == 0 && mp->state != ST_FAILED) {
            break;
        }
        pos += n;
    }
    return mp->state == ST_FAILED ? len : pos;
}

/* ---- API ------------------------------------------------------------------------------------ */

pp_multipart_t *pp_multipart_create(apr_pool_t *p, pp_str_t content_type,
                                    const pp_multipart_limits_t *limits,
                                    const pp_multipart_cb_t *cb, const char **error)
{
    char boundary[PP_MP_MAX_BOUNDARY];
    apr_size_t blen = 0, lead = 0;
    unsigned flags = 0;
    const char *err = pp_multipart_boundary_parse(content_type, boundary, &blen, &flags);
    pp_multipart_t *mp = err ? NULL : apr_pcalloc(p, sizeof(*mp));

    if (mp != NULL && apr_pool_create(&mp->part_pool, p) != APR_SUCCESS) {
        err = "cannot create the multipart part pool";
    }
    if (err != NULL) {
        if (error != NULL) {
            *error = err;
        }
        return NULL;
    }
    mp->cb = cb ? *cb : (pp_multipart_cb_t){ 0 };
    mp->lim = limits ? *limits : (pp_multipart_limits_t){ 0 };
    if (mp->lim.max_header_bytes == 0) {
        mp->lim.max_header_bytes = PP_MP_DEFAULT_MAX_HEADER_BYTES;
    }
    if (mp->lim.max_field_bytes == 0) {
        mp->lim.max_field_bytes = PP_MP_DEFAULT_MAX_FIELD_BYTES;
    }
    if (mp->lim.max_parts == 0) {
        mp->lim.max_parts = PP_MP_DEFAULT_MAX_PARTS;
    }
    mp->hbuf = apr_palloc(p, mp->lim.max_header_bytes);
    pp_sbuf_init_bounded(&mp->field, mp->part_pool, PP_MP_FIELD_FIRST_BYTES,
                         mp->lim.max_field_bytes);
    memcpy(mp->dash, "--", 2);
    memcpy(mp->dash + 2, boundary, blen);
    mp->dash_len = blen + 2;
    /* Only a line holding more than half the boundary, past its leading dashes, counts as a
     * truncated delimiter: text files full of "-----" lines must not trip it. */
    while (lead < blen && boundary[lead] == '-') {
        lead++;
    }
    mp->prefix_min = 2 + ((lead + 1 > (blen + 1) / 2) ? lead + 1 : (blen + 1) / 2);
    mp->needle_len = mp->prefix_min < mp->dash_len ? mp->prefix_min : mp->dash_len;
    mp->flags = flags;
    mp->state = ST_PREAMBLE;
    mp->bol = true;
    mp->simd = pp_multipart_simd_max();
    pp_mp_msflag_init(&mp->ms, mp->dash, mp->dash_len, mp->simd);
    return mp;
}

unsigned pp_multipart_simd_max(void)
{
#ifdef PP_MP_AVX2
    /* The CPU's features as libgcc read them at start-up (not state of ours). */
    if (__builtin_cpu_supports("avx512bw")) {
        return PP_MP_SIMD_AVX512;
    }
    if (__builtin_cpu_supports("avx2")) {
        return PP_MP_SIMD_AVX2;
    }
#endif
#if defined(__SSE2__)
    return PP_MP_SIMD_SSE2;
#else
    return PP_MP_SIMD_NONE;
#endif
}

void pp_multipart_set_simd(pp_multipart_t *mp, unsigned level)
{
    mp->simd = level < pp_multipart_simd_max() ? level : pp_multipart_simd_max();
    mp->ms.simd = mp->simd;
}

/* The parser's share of pp_multipart_feed. */
static apr_status_t parse_chunk(pp_multipart_t *mp, const char *data, apr_size_t len)
{
    if (mp->hold_len > 0) {
        /* The held tail is decided within UNDECIDED_MAX bytes of its start, so either run()
         * gets past it, or all of data fitted behind it. */
        apr_size_t h = mp->hold_len, a = len < HOLD_CAP - h ? len : HOLD_CAP - h;
        memcpy(mp->hold + h, data, a);
        apr_size_t c = run(mp, mp->hold, h + a, false);
        if (mp->state == ST_FAILED) {
            return mp->status;
        }
        if (c < h) {
            assert(a == len);
            memmove(mp->hold, mp->hold + c, h + a - c);
            mp->hold_len = h + a - c;
            return APR_SUCCESS;
        }
        mp->hold_len = 0;
        data += c - h;
        len -= c - h;
    }
    apr_size_t c = run(mp, data, len, false);
    if (mp->state == ST_FAILED) {
        return mp->status;
    }
    assert(len - c <= UNDECIDED_MAX);
    memcpy(mp->hold, data + c, len - c);
    mp->hold_len = len - c;
    return APR_SUCCESS;
}

apr_status_t pp_multipart_feed(pp_multipart_t *mp, const char *data, apr_size_t len)
{
    if (mp->state == ST_FAILED || mp->state == ST_DONE) {
        return mp->state == ST_FAILED ? mp->status : APR_EGENERAL;
    }
    if (len == 0) {
        return APR_SUCCESS;
    }
    apr_status_t rv = parse_chunk(mp, data, len);
    if (rv == APR_SUCCESS) {
        /* second: the parser brought the chunk into the cache */
        if (pp_mp_msflag_feed(&mp->ms, data, len)) {
            mp->flags |= PP_MP_BOUNDARY_LIKE_LINE;
        }
    }
    return rv;
}

apr_status_t pp_multipart_finish(pp_multipart_t *mp)
{
    if (mp->state == ST_FAILED || mp->state == ST_DONE) {
        return mp->state == ST_FAILED ? mp->status : APR_SUCCESS;
    }
    if (pp_mp_msflag_finish(&mp->ms)) {
        mp->flags |= PP_MP_BOUNDARY_LIKE_LINE;
    }
    if (mp->hold_len > 0) {
        run(mp, mp->hold, mp->hold_len, true);
        mp->hold_len = 0;
        if (mp->state == ST_FAILED) {
            return mp->status;
        }
    }
    if (mp->state != ST_EPILOGUE) {
        fail(mp, PP_MP_MISSING_FINAL_BOUNDARY, "multipart body ends before the final boundary");
        return mp->status;
    }
    mp->state = ST_DONE;
    return APR_SUCCESS;
}

unsigned pp_multipart_flags(const pp_multipart_t *mp)
{
    /* After a failure the body is refused, and how far ModSecurity's line test got would
     * depend on where the chunks were cut. */
    return mp->state == ST_FAILED ? mp->flags & ~PP_MP_BOUNDARY_LIKE_LINE : mp->flags;
}

pp_str_t pp_multipart_part_type(const pp_multipart_t *mp)
{
    return mp->hdr.content_type.data ? mp->hdr.content_type : (pp_str_t){ "", 0 };
}

bool pp_multipart_crlf_line(const pp_multipart_t *mp)
{
    return (mp->eols & EOL_CRLF) != 0;
}

const char *pp_multipart_error(const pp_multipart_t *mp)
{
    return mp->error;
}

/* clang-format off */
static const char *const flag_names[PP_MP_FLAG_COUNT] = {
    "MULTIPART_BOUNDARY_QUOTED",
    "MULTIPART_BOUNDARY_WHITESPACE",
    "MULTIPART_DATA_BEFORE",
    "MULTIPART_DATA_AFTER",
    "MULTIPART_HEADER_FOLDING",
    "MULTIPART_LF_LINE",
    "MULTIPART_CRLF_LF_LINES",
    "MULTIPART_MISSING_SEMICOLON",
    "MULTIPART_INVALID_QUOTING",
    "MULTIPART_INVALID_PART",
    "MULTIPART_INVALID_HEADER_FOLDING",
    "MULTIPART_PART_LIMIT_EXCEEDED",
    "MULTIPART_UNKNOWN_PART_HEADER",
    "MULTIPART_DUPLICATE_CD",
    "MULTIPART_MALFORMED_CD",
    "MULTIPART_NUL_IN_NAME",
    "MULTIPART_FILENAME_PATH",
    "MULTIPART_FILENAME_ENCODING",
    "MULTIPART_UNMATCHED_BOUNDARY",
    "MULTIPART_MISSING_FINAL_BOUNDARY",
    "MULTIPART_OVERSIZED_HEADER",
    "MULTIPART_HEADER_NO_COLON",
    "MULTIPART_ENCODED_PART",
    "MULTIPART_FIELD_LIMIT_EXCEEDED",
    "MULTIPART_BOUNDARY_LIKE_LINE",
};
/* clang-format on */

const char *pp_multipart_flag_name(unsigned single_flag)
{
    for (unsigned i = 0; i < PP_MP_FLAG_COUNT; i++) {
        if (single_flag == (1u << i)) {
            return flag_names[i];
        }
    }
    return NULL;
}

unsigned pp_multipart_flag_by_name(const char *name)
{
    for (unsigned i = 0; i < PP_MP_FLAG_COUNT; i++) {
        if (strcasecmp(name, flag_names[i]) == 0) {
            return 1u << i;
        }
    }
    return 0;
}
