/*
 * URL decoding transformations and the fixed 1.9 normaliser (reference §5.1). The rules'
 * evaluation loop applies these to each target value before the operator; for 1.9 rules
 * pp_tfn_normalise19 runs on every value tested, so it is written as one pass that allocates
 * nothing for the common value that needs no change. Decoding is lenient: a malformed escape
 * is kept as it is, because rejecting it is validation's job (§5.2, operators/validate.c),
 * and decoding happens once, never recursively. "/../" is not resolved (§5.1).
 */
#include "rules/transforms/transforms.h"
#include "rules/transforms/scan.h"
#include "util/util.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* For each byte, the flags under which it may need work. A byte whose class shares no bit
 * with the flags is copied as is: that is the fast path for ordinary text. A decoded byte is
 * not looked up here; it always takes the slow path because its '%' did. */
static const unsigned char n19_class[256] = {
    [0] = PP_N19_NULLS,  ['%'] = PP_N19_URLDECODE,  ['+'] = PP_N19_PLUS,
    ['/'] = PP_N19_PATH, ['\\'] = PP_N19_BACKSLASH,
};

/* Output under construction. While buf is NULL the output equals in[0, o) and o is also the
 * input position; the first change copies that prefix into one buffer of in.len bytes,
 * enough because no step makes the value longer. */
typedef struct n19_t {
    apr_pool_t *scratch;
    pp_str_t in;
    char *buf;
    apr_size_t o;
} n19_t;

static void n19_own(n19_t *n)
{
    if (!n->buf) {
        n->buf = apr_palloc(n->scratch, n->in.len);
        memcpy(n->buf, n->in.data, n->o);
    }
}

/* The byte the character steps (backslash, decoding, '+', NUL) make of in[i]; *step is the
 * number of input bytes it stands for. The backslash step sees only raw bytes, so a decoded
 * %5c stays '\'. */
static char n19_byte(pp_str_t in, apr_size_t i, unsigned flags, apr_size_t *step)
{
    char c = in.data[i];
    *step = 1;
    if (c == '\\' && (flags & PP_N19_BACKSLASH)) {
        c = '/';
    } else if (c == '%' && (flags & PP_N19_URLDECODE) && i + 2 < in.len) {
        int hi = pp_hex_value((unsigned char)in.data[i + 1]);
        int lo = pp_hex_value((unsigned char)in.data[i + 2]);
        if (hi >= 0 && lo >= 0) {
            c = (char)(hi << 4 | lo);
            *step = 3;
        }
    } else if (c == '+' && (flags & PP_N19_PLUS)) {
        c = ' ';
    }
    if (c == '\0' && (flags & PP_N19_NULLS))
        c = ' ';
    return c;
}

/* Appends c, running the path step against the output so far. Working on the output rather
 * than the input is what makes the result free of "//" and "/./" even when removing one
 * creates another ("/.//", "/././"), and what lets a decoded "%2f" collapse. */
static void n19_put(n19_t *n, char c, bool changed, bool path)
{
    const char *o = n->buf ? n->buf : n->in.data;
    if (path && c == '/' && n->o > 0) {
        if (o[n->o - 1] == '/') {
            n19_own(n);
            return;
        }
        if (n->o > 1 && o[n->o - 1] == '.' && o[n->o - 2] == '/') {
            n19_own(n);
            n->o--;
            return;
        }
    }
    if (changed)
        n19_own(n);
    if (n->buf)
        n->buf[n->o] = c;
    n->o++;
}

/* Finds the bytes that may need work under a set of flags. Most values hold few of them, so
 * this scan is the normaliser's whole cost: with SSE2 (every x86-64) it tests 16 bytes at a
 * time against the (at most five) special bytes the flags select. */
typedef struct n19_scan_t {
    unsigned flags;
#ifdef __SSE2__
    __m128i want[5];
    int nwant;
#endif
} n19_scan_t;

/* The registers only for a value of 16 bytes or more: a shorter one is scanned a byte at a
 * time (n19_next_special), and most arguments are short. */
static void n19_scan_init(n19_scan_t *sc, unsigned flags, apr_size_t len)
{
    sc->flags = flags;
#ifdef __SSE2__
    static const unsigned flag_of[5] = { PP_N19_URLDECODE, PP_N19_PLUS, PP_N19_PATH,
                                         PP_N19_BACKSLASH, PP_N19_NULLS };
    static const char byte_of[5] = { '%', '+', '/', '\\', '\0' };
    sc->nwant = 0;
    if (len < 16)
        return;
    for (int b = 0; b < 5; b++)
        if (flags & flag_of[b])
            sc->want[sc->nwant++] = _mm_set1_epi8(byte_of[b]);
#else
    (void)len;
#endif
}

#ifdef __SSE2__
static inline unsigned n19_block(const n19_scan_t *sc, const char *s, apr_size_t at)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + at));
    __m128i hit = _mm_cmpeq_epi8(v, sc->want[0]);
    for (int b = 1; b < sc->nwant; b++)
        hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, sc->want[b]));
    return (unsigned)_mm_movemask_epi8(hit);
}
#endif

/* The first index from i on whose byte may need work, or len. The last partial block of a
 * value of 16 bytes or more is read as the block that ends at len (its bytes before i
 * masked off), not a byte at a time: most header values end in one. */
static apr_size_t n19_next_special(const n19_scan_t *sc, const char *s, apr_size_t i,
                                   apr_size_t len)
{
#ifdef __SSE2__
    for (; i + 16 <= len; i += 16) {
        unsigned mask = n19_block(sc, s, i);
        if (mask)
            return i + (apr_size_t)__builtin_ctz(mask);
    }
    if (i < len && len >= 16) {
        unsigned mask = n19_block(sc, s, len - 16) >> (i - (len - 16));
        return mask ? i + (apr_size_t)__builtin_ctz(mask) : len;
    }
#endif
    while (i < len && !(n19_class[(unsigned char)s[i]] & sc->flags))
        i++;
    return i;
}

apr_status_t pp_tfn_normalise19(apr_pool_t *scratch, pp_str_t in, unsigned flags, pp_str_t *out)
{
    n19_t n = { scratch, in, NULL, 0 };
    bool path = (flags & PP_N19_PATH) != 0;
    apr_size_t i = 0;
    flags &= PP_N19_URLDECODE | PP_N19_PLUS | PP_N19_PATH | PP_N19_BACKSLASH | PP_N19_NULLS;
    if (!flags) {
        *out = in;
        return APR_SUCCESS;
    }
    n19_scan_t sc;
    n19_scan_init(&sc, flags, in.len);
    while (i < in.len) {
        apr_size_t run = n19_next_special(&sc, in.data, i, in.len);
        if (n.buf)
            memcpy(n.buf + n.o, in.data + i, run - i);
        n.o += run - i;
        i = run;
        if (i == in.len)
            break;
        apr_size_t step;
        char c = n19_byte(in, i, flags, &step);
        n19_put(&n, c, step != 1 || c != in.data[i], path);
        i += step;
    }
    *out = n.buf ? (pp_str_t){ n.buf, n.o } : in;
    return APR_SUCCESS;
}

/* urlDecode leaves a value without '%' (or '+') as it is: one scan answers that, without the
 * normaliser's set-up. */
apr_status_t pp_tfn_url_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    if (pp_scan_eq2(in.data, 0, in.len, '%', '%') == in.len) {
        *out = in;
        return APR_SUCCESS;
    }
    return pp_tfn_normalise19(scratch, in, PP_N19_URLDECODE, out);
}

apr_status_t pp_tfn_url_decode_form(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    if (pp_scan_eq2(in.data, 0, in.len, '%', '+') == in.len) {
        *out = in;
        return APR_SUCCESS;
    }
    return pp_tfn_normalise19(scratch, in, PP_N19_URLDECODE | PP_N19_PLUS, out);
}

/* urlDecodeUni: %HH and IIS's %uHHHH (either case of the u). A %u escape becomes one byte: the
 * byte SecUnicodeMapFile's table gives its code point when a map is configured and lists it,
 * else the low byte of the code point, plus 0x20 for full-width ASCII (U+FF01..U+FF5E →
 * '!'..'~'). A '%' or '%u' without enough valid hex digits is copied as it is and decoding
 * resumes right after it ("%u12" stays, "%%41" gives "%A"); a raw '+' becomes a space. */
static apr_status_t url_decode_uni(apr_pool_t *scratch, const pp_unicode_map_t *map, pp_str_t in,
                                   pp_str_t *out)
{
    const char *s = in.data;
    /* Bytes other than '%' and '+' are copied as they are: a value without either is
     * unchanged, and the runs between them are copied whole. */
    apr_size_t i = pp_scan_eq2(s, 0, in.len, '%', '+');
    if (i == in.len) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len + 1);
    memcpy(buf, s, i);
    apr_size_t o = i;
    while (i < in.len) {
        if (s[i] != '%' && s[i] != '+') {
            apr_size_t next = pp_scan_eq2(s, i, in.len, '%', '+');
            memcpy(buf + o, s + i, next - i);
            o += next - i;
            i = next;
            continue;
        }
        if (s[i] == '%' && i + 1 < in.len && (s[i + 1] == 'u' || s[i + 1] == 'U')) {
            int hi, lo;
            if (i + 5 < in.len && (hi = pp_hex_pair(s + i + 2)) >= 0 &&
                (lo = pp_hex_pair(s + i + 4)) >= 0) {
                int mapped = map ? pp_unicode_map_byte(map, (unsigned)(hi << 8 | lo)) : -1;
                unsigned char c = (unsigned char)lo;
                if (mapped != -1)
                    c = (unsigned char)mapped;
                else if (hi == 0xff && c > 0x00 && c < 0x5f)
                    c += 0x20;
                buf[o++] = (char)c;
                i += 6;
            } else {
                buf[o++] = s[i++];
                buf[o++] = s[i++];
            }
        } else if (s[i] == '%' && i + 2 < in.len && pp_hex_pair(s + i + 1) >= 0) {
            buf[o++] = (char)pp_hex_pair(s + i + 1);
            i += 3;
        } else {
            buf[o++] = s[i] == '+' ? ' ' : s[i];
            i++;
        }
    }
    return pp_tfn_result(in, buf, o, out);
}

apr_status_t pp_tfn_url_decode_uni(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return url_decode_uni(scratch, NULL, in, out);
}

apr_status_t pp_tfn_url_decode_uni_env(apr_pool_t *scratch, const pp_tfn_env_t *env, pp_str_t in,
                                       pp_str_t *out)
{
    return url_decode_uni(scratch, env->unicode_map, in, out);
}

/* urlEncode: a space becomes '+', every byte other than A-Z, a-z, 0-9 and '*' becomes %hh in
 * lower-case hex ('-', '.' and '_' included, as ModSecurity does). */
apr_status_t pp_tfn_url_encode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    static const char hex[] = "0123456789abcdef";
    char *buf = apr_palloc(scratch, in.len * 3 + 1);
    apr_size_t o = 0;
    for (apr_size_t i = 0; i < in.len; i++) {
        unsigned char c = (unsigned char)in.data[i];
        if (c == ' ') {
            buf[o++] = '+';
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '*') {
            buf[o++] = (char)c;
        } else {
            buf[o++] = '%';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        }
    }
    return pp_tfn_result(in, buf, o, out);
}
