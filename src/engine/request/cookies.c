/*
 * The Cookie request header → cookie fields (COOKIE_name, COOKIES_NAMES, COOKIES_VALUES;
 * reference §4.2), in the syntax chosen by SecFilterCookieFormat (§2.2): 0 is the Netscape
 * form "a=b; c=d", 1 is RFC 2109 with quoted values and "$" attributes. The transaction calls
 * this once per Cookie header after the request headers are in. It reports whether the header
 * was well formed (for SecFilterCheckCookieFormat, §5.2) but never rejects anything itself,
 * and it does not URL-decode values (SecFilterNormalizeCookies is the rules' business, §5.1).
 * A malformed item is still turned into a field so its bytes are inspected.
 */
#include "request/request.h"

#include <apr_strings.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef struct cookie_cursor_t {
    apr_pool_t *p;
    pp_str_t h; /* the header value */
    apr_size_t i;
    int format;
    apr_array_header_t *out;
    bool malformed;
    char v0_sep; /* format 0's item separator: ';' or SecCookiev0Separator */
} cookie_cursor_t;

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 2109 allows ',' between cookies as well as ';'. */
static bool is_sep(const cookie_cursor_t *cc, char c)
{
    return c == ';' || (c == ',' && cc->format == PP_COOKIE_FORMAT_RFC2109);
}

static bool has_control(pp_str_t h)
{
    apr_size_t i = 0;
#ifdef __SSE2__
    /* 16 bytes at a time: below 0x20 (unsigned, by flipping the sign bit) but not '\t', or
     * 0x7f. */
    const __m128i flip = _mm_set1_epi8((char)0x80), lim = _mm_set1_epi8((char)(0x20 ^ 0x80)),
                  tab = _mm_set1_epi8('\t'), del = _mm_set1_epi8(0x7f);
    for (; i + 16 <= h.len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(h.data + i));
        __m128i low = _mm_andnot_si128(_mm_cmpeq_epi8(v, tab),
                                       _mm_cmplt_epi8(_mm_xor_si128(v, flip), lim));
        if (_mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(v, del))))
            return true;
    }
#endif
    for (; i < h.len; i++) {
        unsigned char c = (unsigned char)h.data[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return true;
    }
    return false;
}

static pp_str_t trim_span(const char *s, apr_size_t n)
{
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    while (n && is_space(s[n - 1]))
        n--;
    return (pp_str_t){ s, n };
}

static pp_str_t dup_span(apr_pool_t *p, pp_str_t s)
{
    return (pp_str_t){ apr_pstrmemdup(p, s.len ? s.data : "", s.len), s.len };
}

/* name and value are in the pool, NUL-ended. */
static void add_field(cookie_cursor_t *cc, pp_str_t name, pp_str_t value, bool has_eq)
{
    if (!has_eq || name.len == 0)
        cc->malformed = true;
    if (cc->format == PP_COOKIE_FORMAT_RFC2109 && name.len && name.data[0] == '$')
        return; /* $Version, $Path, $Domain, $Port describe the cookie, they are not cookies */
    pp_field_t *f = apr_array_push(cc->out);
    f->name = name;
    f->value = value;
}

/* name is a span of the header, value is already in the pool. */
static void add_cookie(cookie_cursor_t *cc, pp_str_t name, pp_str_t value, bool has_eq)
{
    add_field(cc, dup_span(cc->p, name), value, has_eq);
}

/* ---- Netscape: items split on ';', spaces around names and values ignored ---------------- */

/* item is a span of the header's copy (parse_netscape), whose byte after it is a separator,
 * a space or the copy's NUL: the name and the value are spans of the copy too, each ended by a
 * NUL written over the byte after it ('=', a space, the separator), not copies of their own. */
static void netscape_item(cookie_cursor_t *cc, pp_str_t item)
{
    char *eq = memchr(item.data, '=', item.len);
    if (!eq) {
        ((char *)item.data)[item.len] = '\0';
        add_field(cc, item, (pp_str_t){ item.data + item.len, 0 }, false);
        return;
    }
    apr_size_t name_len = (apr_size_t)(eq - item.data);
    pp_str_t value = trim_span(eq + 1, item.len - name_len - 1);
    pp_str_t name = trim_span(item.data, name_len);
    ((char *)value.data)[value.len] = '\0';
    ((char *)name.data)[name.len] = '\0';
    add_field(cc, name, value, true);
}

static void parse_netscape(cookie_cursor_t *cc)
{
    char *s = apr_pstrmemdup(cc->p, cc->h.len ? cc->h.data : "", cc->h.len);
    while (cc->i < cc->h.len) {
        const char *semi = memchr(s + cc->i, cc->v0_sep, cc->h.len - cc->i);
        apr_size_t end = semi ? (apr_size_t)(semi - s) : cc->h.len;
        pp_str_t item = trim_span(s + cc->i, end - cc->i);
        if (item.len)
            netscape_item(cc, item);
        cc->i = end + 1;
    }
}

/* ---- RFC 2109: name = token | quoted-string, items split on ';' or ',' ------------------ */

static void skip_space(cookie_cursor_t *cc)
{
    while (cc->i < cc->h.len && is_space(cc->h.data[cc->i]))
        cc->i++;
}

static void skip_to_sep(cookie_cursor_t *cc)
{
    while (cc->i < cc->h.len && !is_sep(cc, cc->h.data[cc->i]))
        cc->i++;
}

/* Index of the quote closing a quoted-string whose content starts at j, or len if none.
 * A backslash escapes the next byte, so \" does not close. */
static apr_size_t find_close_quote(pp_str_t h, apr_size_t j)
{
    while (j < h.len) {
        if (h.data[j] == '"')
            return j;
        j += (h.data[j] == '\\' && j + 1 < h.len) ? 2 : 1;
    }
    return h.len;
}

/* Copies h[from, to) into the pool without its backslash escapes (pairs them exactly as
 * find_close_quote did). */
static pp_str_t unescape_span(apr_pool_t *p, pp_str_t h, apr_size_t from, apr_size_t to)
{
    char *d = apr_palloc(p, to - from + 1);
    apr_size_t n = 0;
    for (apr_size_t k = from; k < to; k++) {
        if (h.data[k] == '\\' && k + 1 < to)
            k++;
        d[n++] = h.data[k];
    }
    d[n] = '\0';
    return (pp_str_t){ d, n };
}

/* Cursor on the opening quote; leaves it on the separator or the end. */
static pp_str_t rfc2109_quoted(cookie_cursor_t *cc)
{
    apr_size_t open = cc->i;
    apr_size_t close = find_close_quote(cc->h, open + 1);
    if (close >= cc->h.len) {
        cc->malformed = true;
        cc->i = cc->h.len;
        return unescape_span(cc->p, cc->h, open + 1, close);
    }
    cc->i = close + 1;
    skip_space(cc);
    if (cc->i < cc->h.len && !is_sep(cc, cc->h.data[cc->i])) {
        /* a="b"c is not a quoted-string: keep the whole thing raw so "c" is inspected too */
        cc->malformed = true;
        skip_to_sep(cc);
        return dup_span(cc->p, trim_span(cc->h.data + open, cc->i - open));
    }
    return unescape_span(cc->p, cc->h, open + 1, close);
}

/* Cursor on the first byte of an item (not a space, not a separator). */
static void rfc2109_item(cookie_cursor_t *cc)
{
    const char *s = cc->h.data;
    apr_size_t start = cc->i;
    while (cc->i < cc->h.len && s[cc->i] != '=' && !is_sep(cc, s[cc->i]))
        cc->i++;
    pp_str_t name = trim_span(s + start, cc->i - start);
    if (cc->i >= cc->h.len || s[cc->i] != '=') {
        add_cookie(cc, name, dup_span(cc->p, PP_STR("")), false);
        return;
    }
    cc->i++;
    skip_space(cc);
    pp_str_t value;
    if (cc->i < cc->h.len && s[cc->i] == '"') {
        value = rfc2109_quoted(cc);
    } else {
        apr_size_t vstart = cc->i;
        skip_to_sep(cc);
        value = dup_span(cc->p, trim_span(s + vstart, cc->i - vstart));
    }
    add_cookie(cc, name, value, true);
}

static void parse_rfc2109(cookie_cursor_t *cc)
{
    for (;;) {
        skip_space(cc);
        if (cc->i >= cc->h.len)
            return;
        if (is_sep(cc, cc->h.data[cc->i]))
            cc->i++; /* the separator after an item, or an empty item */
        else
            rfc2109_item(cc);
    }
}

apr_status_t pp_cookies_parse(apr_pool_t *p, pp_str_t header, int format,
                              apr_array_header_t *out, bool *malformed)
{
    return pp_cookies_parse_sep(p, header, format, ';', out, malformed);
}

apr_status_t pp_cookies_parse_sep(apr_pool_t *p, pp_str_t header, int format, char v0_sep,
                                  apr_array_header_t *out, bool *malformed)
{
    if (!out || out->elt_size != sizeof(pp_field_t) ||
        (format != PP_COOKIE_FORMAT_NETSCAPE && format != PP_COOKIE_FORMAT_RFC2109))
        return APR_EINVAL;
    cookie_cursor_t cc = { p, header, 0, format, out, has_control(header), v0_sep };
    if (format == PP_COOKIE_FORMAT_NETSCAPE)
        parse_netscape(&cc);
    else
        parse_rfc2109(&cc);
    if (malformed)
        *malformed = cc.malformed;
    return APR_SUCCESS;
}
