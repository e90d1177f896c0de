/*
 * Path normalisation transformations: self-references "/./" and repeated slashes, the two
 * path steps of the 1.9 normaliser (reference §5.1), available on their own for rules that
 * ask for them. Applied by the rules' evaluation loop to a target value before the operator.
 * "/../" is deliberately left in place: 1.x rule sets match "../" themselves, and resolving
 * it would hide a traversal attempt (§5.1). No URL decoding happens here (url.c does it; its
 * pp_tfn_normalise19 runs these steps after decoding in the same pass).
 */
#include "rules/transforms/transforms.h"
#include "rules/transforms/scan.h"

#include <string.h>

static char path_byte(char c, bool win)
{
    return (win && c == '\\') ? '/' : c;
}

/* Whether normalising changes anything: a '\' on Windows, or a '/' that ends "//" or "/./"
 * in the (backslash-converted) input. */
static bool path_needs_work(pp_str_t in, bool win)
{
    for (apr_size_t i = 0; i < in.len; i++) {
        if (win && in.data[i] == '\\')
            return true;
        if (in.data[i] != '/' || i == 0)
            continue;
        char prev = path_byte(in.data[i - 1], win);
        if (prev == '/' || (prev == '.' && i > 1 && path_byte(in.data[i - 2], win) == '/'))
            return true;
    }
    return false;
}

/* Each '/' is checked against the output written so far, so removals that expose a new
 * "//" or "/./" ("/.//", "/././") are handled in the same pass. */
static apr_size_t path_write(char *buf, pp_str_t in, bool win)
{
    apr_size_t o = 0;
    for (apr_size_t i = 0; i < in.len; i++) {
        char c = path_byte(in.data[i], win);
        if (c == '/' && o > 0 && buf[o - 1] == '/')
            continue;
        if (c == '/' && o > 1 && buf[o - 1] == '.' && buf[o - 2] == '/') {
            o--;
            continue;
        }
        buf[o++] = c;
    }
    return o;
}

static apr_status_t normalise(apr_pool_t *scratch, pp_str_t in, bool win, pp_str_t *out)
{
    if (!path_needs_work(in, win)) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len);
    *out = (pp_str_t){ buf, path_write(buf, in, win) };
    return APR_SUCCESS;
}

apr_status_t pp_tfn_normalise_path(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return normalise(scratch, in, false, out);
}

apr_status_t pp_tfn_normalise_path_win(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return normalise(scratch, in, true, out);
}

/* ---- ModSecurity 2's normalizePath ---------------------------------------------------------
 * Unlike the 1.9 steps above, this resolves "../" against the previous segment. It reproduces
 * ModSecurity 2.9.7's in-place algorithm exactly, because CRS's LFI rules see its output: a
 * relative path keeps leading ".." it cannot resolve ("a/../../b/" → "../b/"), an absolute one
 * cannot climb above '/' ("/../x" → "/x"), "./" segments and repeated '/' go, and a trailing
 * '/' is kept only if the input had one. The work happens in a copy: dst never passes src, so
 * one buffer is enough (as in ModSecurity). */
static apr_size_t normalise2_inplace(unsigned char *p, apr_size_t len, bool win)
{
    if (len == 0)
        return 0;
    unsigned char *src = p, *dst = p, *end = p + len - 1;
    bool relative = !(*p == '/' || (win && *p == '\\'));
    bool trailing = *end == '/' || (win && *end == '\\');
    bool hitroot = false, done = false;
    while (!done && src <= end && dst <= end) {
        if (!win && *src != '/' && src < end && src[1] != '/') {
            /* Inside a segment, before its last byte: the bytes up to that one are copied as
             * they are (what the steps below do to each of them), in one move. */
            const unsigned char *sl = memchr(src + 1, '/', (apr_size_t)(end - src));
            unsigned char *last = sl ? (unsigned char *)sl - 1 : end;
            memmove(dst, src, (apr_size_t)(last - src));
            dst += last - src;
            src = last;
        }
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

/* Whether the algorithm above can change in. It only acts at the last byte of a segment (the
 * byte before a separator, or the value's last byte) when that byte is '.' (a "." or ".."
 * segment, or ModSecurity's reading of "x.." as one) or '/' (a repeated slash), and on Windows
 * at every '\\'. A value with none of these (most header values with a '/', "Mozilla/5.0" or
 * "text/html") goes through it unchanged, so it needs no copy. */
static bool normalise2_needs_work(pp_str_t in, bool win)
{
    const char *s = in.data;
    apr_size_t len = in.len;
    if (s[len - 1] == '.')
        return true;
    /* On Windows every '\\' is work; otherwise a '/' after '.' or '/' (a '/' after a '\\' is
     * after work already). */
#ifdef __SSE2__
    if (len > 16) {
        /* Blocks from 1 on, each with the block one byte before it (the bytes before its
         * bytes); the last one ends at len. */
        if (win && s[0] == '\\')
            return true;
        const __m128i slash = _mm_set1_epi8('/'), dot = _mm_set1_epi8('.'),
                      back = _mm_set1_epi8(win ? '\\' : '/');
        for (apr_size_t i = 1;; i += 16) {
            apr_size_t at = i + 16 <= len ? i : len - 16;
            __m128i v = pp_scan_load(s, at), prev = pp_scan_load(s, at - 1);
            __m128i after = _mm_or_si128(_mm_cmpeq_epi8(prev, dot), _mm_cmpeq_epi8(prev, slash));
            __m128i work = _mm_and_si128(_mm_cmpeq_epi8(v, slash), after);
            if (win)
                work = _mm_or_si128(work, _mm_cmpeq_epi8(v, back));
            if (_mm_movemask_epi8(work))
                return true;
            if (at + 16 >= len)
                return false;
        }
    }
#endif
    if (!win) { /* the usual short value (an argument) has no '/' at all: one memchr */
        for (const char *sl = memchr(s + 1, '/', len - 1); sl;
             sl = memchr(sl + 1, '/', (apr_size_t)(s + len - sl - 1)))
            if (sl[-1] == '.' || sl[-1] == '/')
                return true;
        return false;
    }
    for (apr_size_t i = 0; i < len; i++) {
        if (s[i] == '\\')
            return true;
        if (s[i] == '/' && i > 0 && (s[i - 1] == '.' || s[i - 1] == '/'))
            return true;
    }
    return false;
}

/* The copy and the algorithm, out of line: the common value that needs no work does not pay
 * for its registers. */
static __attribute__((noinline)) apr_status_t normalise2_copy(apr_pool_t *scratch, pp_str_t in,
                                                              bool win, pp_str_t *out)
{
    unsigned char *buf = apr_palloc(scratch, in.len + 2);
    if (in.len)
        memcpy(buf, in.data, in.len);
    buf[in.len] = buf[in.len + 1] = '\0';
    return pp_tfn_result(in, (char *)buf, normalise2_inplace(buf, in.len, win), out);
}

static apr_status_t normalise2(apr_pool_t *scratch, pp_str_t in, bool win, pp_str_t *out)
{
    if (in.len == 0 || !normalise2_needs_work(in, win)) {
        *out = in;
        return APR_SUCCESS;
    }
    return normalise2_copy(scratch, in, win, out);
}

apr_status_t pp_tfn_normalise_path2(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return normalise2(scratch, in, false, out);
}

apr_status_t pp_tfn_normalise_path2_win(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return normalise2(scratch, in, true, out);
}
