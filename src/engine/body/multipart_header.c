/*
 * Header-level parsing for body/multipart.c: the boundary parameter of the request's
 * Content-Type (RFC 2046 §5.1.1) and one part's header section with its Content-Disposition
 * (RFC 7578 §4.2, quoting as in RFC 7230 §3.2.6, filename* as in RFC 5987). Reference §6.3.
 *
 * It sits between multipart.c's streaming scanner (which collects a part's header bytes, at most
 * max_header_bytes) and the callbacks (which get the field name, file name and content type).
 * Every irregularity becomes a PP_MP_* flag; the only hard failures are in the Content-Type,
 * where without one well-formed boundary there is nothing to parse.
 *
 * Deliberately not done: RFC 2047 decoding, percent-decoding of filename (browsers send %22
 * for a quote and we pass it on as sent), charset conversion, or any guess at a boundary from a
 * malformed Content-Type (PHP, for one, takes the first "boundary" substring anywhere in the
 * header; we refuse headers where that would differ from ours).
 */
#include <string.h>

#include <apr_base64.h>
#include <apr_strings.h>

#include "body/multipart.h"
#include "util/util.h"

/* A read position inside one header value. */
typedef struct cursor_t {
    const char *p;
    const char *end;
} cursor_t;

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

static bool str_ieq(pp_str_t s, const char *lit)
{
    apr_size_t n = strlen(lit);
    if (s.len != n) {
        return false;
    }
    for (apr_size_t i = 0; i < n; i++) {
        if (lower(s.data[i]) != lit[i]) {
            return false;
        }
    }
    return true;
}

static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 7230 tchar. */
static bool is_tchar(unsigned char c)
{
    return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 2046 bchars (a space is allowed, just not last). */
static bool is_bchar(unsigned char c)
{
    return is_alnum(c) || (c != 0 && strchr("'()+_,-./:=? ", c) != NULL);
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Skips optional white space; true when there was some. */
static bool skip_ows(cursor_t *c)
{
    const char *start = c->p;
    while (c->p < c->end && is_ows(*c->p)) {
        c->p++;
    }
    return c->p != start;
}

static pp_str_t take_tchars(cursor_t *c)
{
    const char *start = c->p;
    while (c->p < c->end && is_tchar((unsigned char)*c->p)) {
        c->p++;
    }
    return (pp_str_t){ start, (apr_size_t)(c->p - start) };
}

static void skip_to_semicolon(cursor_t *c)
{
    while (c->p < c->end && *c->p != ';') {
        c->p++;
    }
}

static pp_str_t trim_ows(pp_str_t s)
{
    while (s.len > 0 && is_ows(s.data[0])) {
        s.data++;
        s.len--;
    }
    while (s.len > 0 && is_ows(s.data[s.len - 1])) {
        s.len--;
    }
    return s;
}

/* ---- Content-Type: the boundary ------------------------------------------------------------- */

/* Position of the first "boundary" in s, ignoring case, or NULL. */
static const char *find_boundary_word(pp_str_t s)
{
    static const char word[] = "boundary";
    for (apr_size_t i = 0; i + sizeof(word) - 1 <= s.len; i++) {
        if (str_ieq((pp_str_t){ s.data + i, sizeof(word) - 1 }, word)) {
            return s.data + i;
        }
    }
    return NULL;
}

/* The value of the boundary parameter: a quoted string of bchars or an unquoted token that is
 * also made of bchars (an unquoted ',' or '=' would be cut elsewhere by lenient parsers). */
static const char *take_boundary(cursor_t *c, char *out, apr_size_t *len, unsigned *flags)
{
    pp_str_t v;
    if (c->p < c->end && *c->p == '"') {
        const char *close = memchr(c->p + 1, '"', (apr_size_t)(c->end - c->p - 1));
        if (close == NULL) {
            return "unterminated quoted boundary in Content-Type";
        }
        v = (pp_str_t){ c->p + 1, (apr_size_t)(close - c->p - 1) };
        c->p = close + 1;
        *flags |= PP_MP_BOUNDARY_QUOTED;
    } else {
        const char *start = c->p;
        while (c->p < c->end && *c->p != ';' && !is_ows(*c->p)) {
            c->p++;
        }
        v = (pp_str_t){ start, (apr_size_t)(c->p - start) };
        for (apr_size_t i = 0; i < v.len; i++) {
            if (!is_tchar((unsigned char)v.data[i])) {
                return "invalid character in unquoted boundary";
            }
        }
    }
    if (v.len == 0) {
        return "empty boundary in Content-Type";
    }
    if (v.len > PP_MP_MAX_BOUNDARY) {
        return "boundary longer than 70 characters";
    }
    for (apr_size_t i = 0; i < v.len; i++) {
        if (!is_bchar((unsigned char)v.data[i])) {
            return "invalid character in boundary";
        }
    }
    if (v.data[v.len - 1] == ' ') {
        return "boundary ends with a space";
    }
    if (memchr(v.data, ' ', v.len) != NULL) {
        *flags |= PP_MP_BOUNDARY_WHITESPACE;
    }
    memcpy(out, v.data, v.len);
    *len = v.len;
    return NULL;
}

/* Skips the value of a parameter we do not use (token or quoted string). */
static const char *skip_param_value(cursor_t *c)
{
    if (c->p < c->end && *c->p == '"') {
        for (c->p++; c->p < c->end; c->p++) {
            if (*c->p == '\\') {
                c->p++;
            } else if (*c->p == '"') {
                c->p++;
                return NULL;
            }
        }
        return "unterminated quoted parameter in Content-Type";
    }
    while (c->p < c->end && *c->p != ';' && !is_ows(*c->p)) {
        c->p++;
    }
    return NULL;
}

/* One "; name=value" of the Content-Type. *found tracks the boundary parameter. */
static const char *take_ct_param(cursor_t *c, const char *first_word, bool *found, char *out,
                                 apr_size_t *len, unsigned *flags)
{
    pp_str_t name = take_tchars(c);
    bool ws = skip_ows(c);
    if (name.len == 0 || c->p == c->end || *c->p != '=') {
        return "malformed parameter in Content-Type";
    }
    c->p++;
    ws |= skip_ows(c);
    if (!str_ieq(name, "boundary")) {
        return skip_param_value(c);
    }
    if (*found) {
        return "more than one boundary parameter in Content-Type";
    }
    if (name.data != first_word) {
        return "\"boundary\" occurs in Content-Type before the boundary parameter";
    }
    *found = true;
    if (ws) {
        *flags |= PP_MP_BOUNDARY_WHITESPACE;
    }
    return take_boundary(c, out, len, flags);
}

const char *pp_multipart_boundary_parse(pp_str_t content_type, char *out, apr_size_t *len,
                                        unsigned *flags)
{
    cursor_t c = { content_type.data, content_type.data + content_type.len };
    const char *first_word = find_boundary_word(content_type);
    bool found = false;

    skip_ows(&c);
    const char *type_start = c.p;
    while (c.p < c.end && (is_tchar((unsigned char)*c.p) || *c.p == '/')) {
        c.p++;
    }
    if (!str_ieq((pp_str_t){ type_start, (apr_size_t)(c.p - type_start) }, "multipart/form-data")) {
        return "Content-Type is not multipart/form-data";
    }
    for (;;) {
        skip_ows(&c);
        if (c.p == c.end) {
            break;
        }
        if (*c.p != ';') {
            return "malformed parameter list in Content-Type";
        }
        c.p++;
        skip_ows(&c);
        if (c.p == c.end) {
            break;
        }
        const char *err = take_ct_param(&c, first_word, &found, out, len, flags);
        if (err != NULL) {
            return err;
        }
    }
    return found ? NULL : "no boundary in Content-Type";
}

/* ---- Content-Disposition -------------------------------------------------------------------- */

enum { CD_NAME, CD_FILENAME, CD_FILENAME_STAR, CD_COUNT };

typedef struct cd_params_t {
    pp_str_t v[CD_COUNT];
    bool seen[CD_COUNT];
    bool php_quote; /* an unquoted value left a ' open: PHP reads on to the next ' */
} cd_params_t;

/* Copies a quoted string's content, turning \" and \\ into " and \ (other backslashes stay:
 * browsers send Windows paths unescaped). */
static pp_str_t unescape_quoted(apr_pool_t *p, pp_str_t s)
{
    char *out = apr_palloc(p, s.len + 1);
    apr_size_t n = 0;
    for (apr_size_t i = 0; i < s.len; i++) {
        if (s.data[i] == '\\' && i + 1 < s.len && (s.data[i + 1] == '"' || s.data[i + 1] == '\\')) {
            i++;
        }
        out[n++] = s.data[i];
    }
    return (pp_str_t){ out, n };
}

/* A quoted-string value starting at the opening quote. */
static unsigned take_quoted(apr_pool_t *p, cursor_t *c, pp_str_t *out, bool is_name)
{
    unsigned f = 0;
    bool escaped = false;
    const char *start = ++c->p;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p == '\\' && c->p + 1 < c->end && (c->p[1] == '"' || c->p[1] == '\\')) {
            escaped = true;
            c->p++;
        } else if (*c->p == '\\' && is_name) {
            /* PHP keeps this backslash, Go and Python drop it: the name would differ. */
            f |= PP_MP_INVALID_QUOTING;
        }
        c->p++;
    }
    pp_str_t raw = { start, (apr_size_t)(c->p - start) };
    if (c->p >= c->end) {
        *out = raw;
        return f | PP_MP_INVALID_QUOTING;
    }
    c->p++;
    *out = escaped ? unescape_quoted(p, raw) : raw;
    if (c->p < c->end && *c->p != ';' && !is_ows(*c->p)) {
        f |= PP_MP_INVALID_QUOTING; /* name="a"b */
        while (c->p < c->end && *c->p != ';' && !is_ows(*c->p)) {
            c->p++;
        }
    }
    return f;
}

/* A parameter value: quoted string or token. */
static unsigned take_value(apr_pool_t *p, cursor_t *c, pp_str_t *out, bool is_name)
{
    unsigned f = 0;
    if (c->p < c->end && *c->p == '"') {
        return take_quoted(p, c, out, is_name);
    }
    if (c->p < c->end && *c->p == '\'') {
        f |= PP_MP_INVALID_QUOTING; /* PHP strips single quotes, others keep them */
    }
    const char *start = c->p;
    while (c->p < c->end && *c->p != ';' && !is_ows(*c->p)) {
        c->p++;
    }
    *out = (pp_str_t){ start, (apr_size_t)(c->p - start) };
    if (memchr(out->data, '"', out->len) != NULL) {
        f |= PP_MP_INVALID_QUOTING;
    }
    return f;
}

static int cd_param_index(pp_str_t name)
{
    if (str_ieq(name, "name")) {
        return CD_NAME;
    }
    if (str_ieq(name, "filename")) {
        return CD_FILENAME;
    }
    if (str_ieq(name, "filename*")) {
        return CD_FILENAME_STAR;
    }
    return -1;
}

/* One name=value after a ';'. Always consumes at least one byte when not at a ';'. */
static unsigned take_cd_param(apr_pool_t *p, cursor_t *c, cd_params_t *cd)
{
    pp_str_t name = take_tchars(c), value;
    bool ws = skip_ows(c);
    if (name.len == 0 || c->p == c->end || *c->p != '=') {
        skip_to_semicolon(c);
        return PP_MP_MALFORMED_CD;
    }
    c->p++;
    ws |= skip_ows(c);
    int idx = cd_param_index(name);
    bool quoted = c->p < c->end && *c->p == '"';
    unsigned f = take_value(p, c, &value, idx == CD_NAME);
    /* PHP's parameter splitter also quotes with ', even inside an unquoted value: after
     * x=q' it reads on to the next ', so a name or filename there is invisible to PHP (a field
     * to PHP, a file to us). .NET's unquoted filename=O'Brien.txt, followed by filename*,
     * stays accepted. */
    if (cd->php_quote && (idx == CD_NAME || idx == CD_FILENAME)) {
        f |= PP_MP_MALFORMED_CD;
    }
    if (!quoted) {
        unsigned n = 0;
        for (apr_size_t i = 0; i < value.len; i++) {
            n += value.data[i] == '\'';
        }
        cd->php_quote = cd->php_quote || (n & 1u);
    }
    /* A space around '=' hides the parameter from PHP, which would see a plain field. */
    if (ws) {
        return f | PP_MP_MALFORMED_CD;
    }
    if (idx < 0) {
        /* A parameter no back end reads for the field or file name (RFC 2183's creation-date,
         * modification-date, read-date, size; extension parameters that Java clients add) is
         * ignored, as every back end ignores it. Its syntax was still checked above: a broken
         * quote would shift what follows. Only RFC 2231 forms (name*, name*0, filename*0*, ...)
         * stay ambiguous: Go's mime package decodes them into name and filename, PHP does not. */
        return f | (memchr(name.data, '*', name.len) != NULL ? PP_MP_MALFORMED_CD : 0);
    }
    if (cd->seen[idx]) {
        return f | PP_MP_MALFORMED_CD;
    }
    cd->seen[idx] = true;
    cd->v[idx] = value;
    if (memchr(value.data, '\0', value.len) != NULL) {
        f |= PP_MP_NUL_IN_NAME;
    }
    return f;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(pp_str_t s)
{
    const unsigned char *b = (const unsigned char *)s.data;
    apr_size_t i = 0;
    while (i < s.len) {
        unsigned char c = b[i];
        apr_size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            lo = (c == 0xE0) ? 0xA0 : 0x80;
            hi = (c == 0xED) ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            lo = (c == 0xF0) ? 0x90 : 0x80;
            hi = (c == 0xF4) ? 0x8F : 0xBF;
        } else {
            return false;
        }
        if (s.len - i - 1 < n || b[i + 1] < lo || b[i + 1] > hi) {
            return false;
        }
        for (apr_size_t k = 2; k <= n; k++) {
            if (b[i + k] < 0x80 || b[i + k] > 0xBF) {
                return false;
            }
        }
        i += n + 1;
    }
    return true;
}

/* RFC 5987 ext-value charset'language'pct-encoded -> the raw bytes; false if malformed. */
static bool decode_ext_value(apr_pool_t *p, pp_str_t v, pp_str_t *out)
{
    const char *q1 = memchr(v.data, '\'', v.len);
    const char *q2 = q1 ? memchr(q1 + 1, '\'', (apr_size_t)(v.data + v.len - q1 - 1)) : NULL;
    if (q2 == NULL) {
        return false;
    }
    const char *s = q2 + 1, *end = v.data + v.len;
    char *buf = apr_palloc(p, (apr_size_t)(end - s) + 1);
    apr_size_t n = 0;
    while (s < end) {
        if (*s == '%') {
            int byte = end - s < 3 ? -1 : pp_hex_pair(s + 1);
            if (byte < 0) {
                return false;
            }
            buf[n++] = (char)byte;
            s += 3;
        } else {
            buf[n++] = *s++;
        }
    }
    *out = (pp_str_t){ buf, n };
    return true;
}

static unsigned check_filename(pp_str_t name)
{
    unsigned f = 0;
    if (memchr(name.data, '/', name.len) != NULL || memchr(name.data, '\\', name.len) != NULL) {
        f |= PP_MP_FILENAME_PATH;
    }
    for (apr_size_t i = 0; i + 1 < name.len; i++) {
        if (name.data[i] == '.' && name.data[i + 1] == '.') {
            f |= PP_MP_FILENAME_PATH;
            break;
        }
    }
    if (!utf8_valid(name)) {
        f |= PP_MP_FILENAME_ENCODING;
    }
    return f;
}

/* One RFC 2047 encoded word in UTF-8, "=?utf-8?B?...?=" or "=?utf-8?Q?...?=", as .NET's
 * MultipartFormDataContent writes a non-ASCII filename next to filename*. False if v is not
 * exactly one such word. */
static bool decode_encoded_word(apr_pool_t *p, pp_str_t v, pp_str_t *out)
{
    static const char prefix[] = "=?utf-8?";
    apr_size_t pl = sizeof prefix - 1;
    if (v.len < pl + 4 || strncasecmp(v.data, prefix, pl) != 0 || v.data[pl + 1] != '?' ||
        v.data[v.len - 2] != '?' || v.data[v.len - 1] != '=')
        return false;
    char enc = (char)(v.data[pl] | 0x20);
    const char *text = v.data + pl + 2;
    apr_size_t n = v.len - pl - 4;
    char *buf = apr_palloc(p, n + 4);
    if (enc == 'b') {
        char *src = apr_pstrmemdup(p, text, n);
        int len = apr_base64_decode_len(src);
        char *dec = apr_palloc(p, (apr_size_t)len + 1);
        *out = (pp_str_t){ dec, (apr_size_t)apr_base64_decode(dec, src) };
        return true;
    }
    if (enc != 'q')
        return false;
    apr_size_t o = 0;
    for (apr_size_t i = 0; i < n; i++) {
        if (text[i] == '_') {
            buf[o++] = ' ';
        } else if (text[i] == '=' && i + 2 < n && pp_hex_pair(text + i + 1) >= 0) {
            buf[o++] = (char)pp_hex_pair(text + i + 1);
            i += 2;
        } else {
            buf[o++] = text[i];
        }
    }
    *out = (pp_str_t){ buf, o };
    return true;
}

static bool same_str(pp_str_t a, pp_str_t b)
{
    return a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
}

/* filename / filename* -> hdr. Both present must say the same, or back ends that prefer one
 * (ASP.NET, Django) and the other (PHP) would store different names. filename* alone is
 * ambiguous: PHP and Tomcat know only filename and read the part as a form field, while Go,
 * Django, Werkzeug, busboy and ASP.NET read it as a file (attack run D1). urllib3 before 1.25
 * sent a non-ASCII file name that way, so the part is not refused: it is inspected as both
 * (also_field), within the field size limit. */
static unsigned resolve_filename(apr_pool_t *p, const cd_params_t *cd, pp_mp_part_hdr_t *hdr)
{
    unsigned f = 0;
    if (cd->seen[CD_FILENAME]) {
        hdr->is_file = true;
        hdr->filename = cd->v[CD_FILENAME];
        f |= check_filename(hdr->filename);
    }
    if (cd->seen[CD_FILENAME_STAR]) {
        pp_str_t decoded;
        bool both = hdr->is_file;
        f |= PP_MP_FILENAME_ENCODING;
        if (!both) {
            hdr->is_file = true;
            hdr->filename = cd->v[CD_FILENAME_STAR];
            hdr->also_field = true;
        }
        if (!decode_ext_value(p, cd->v[CD_FILENAME_STAR], &decoded)) {
            return f | PP_MP_MALFORMED_CD;
        }
        f |= check_filename(decoded) & PP_MP_FILENAME_PATH;
        pp_str_t word;
        if (both && !same_str(decoded, hdr->filename) &&
            !(decode_encoded_word(p, hdr->filename, &word) && same_str(decoded, word))) {
            f |= PP_MP_MALFORMED_CD;
        }
    }
    return f;
}

/* form-data; name="..."[; filename="..."] */
static unsigned parse_cd(apr_pool_t *p, pp_str_t value, pp_mp_part_hdr_t *hdr)
{
    cursor_t c = { value.data, value.data + value.len };
    cd_params_t cd;
    unsigned f = 0;

    memset(&cd, 0, sizeof(cd));
    if (!str_ieq(take_tchars(&c), "form-data")) {
        f |= PP_MP_MALFORMED_CD;
    }
    for (;;) {
        skip_ows(&c);
        if (c.p == c.end) {
            break;
        }
        if (*c.p == ';') {
            c.p++;
            skip_ows(&c);
            if (c.p == c.end) {
                break;
            }
        } else {
            f |= PP_MP_MISSING_SEMICOLON;
        }
        f |= take_cd_param(p, &c, &cd);
    }
    if (!cd.seen[CD_NAME]) {
        f |= PP_MP_MALFORMED_CD;
        cd.v[CD_NAME] = (pp_str_t){ "", 0 };
    }
    hdr->name = cd.v[CD_NAME];
    return f | resolve_filename(p, &cd, hdr);
}

/* ---- The header section --------------------------------------------------------------------- */

/* The header being assembled (a line plus its folded continuations). */
typedef struct hdr_state_t {
    apr_pool_t *pool;
    pp_mp_part_hdr_t *hdr;
    pp_str_t name;
    pp_str_t value;
    bool open;
    bool have_ct;
    unsigned flags;
} hdr_state_t;

static void dispatch_header(hdr_state_t *st)
{
    pp_str_t v = trim_ows(st->value);
    st->open = false;
    if (str_ieq(st->name, "content-disposition")) {
        if (st->hdr->has_cd) {
            st->flags |= PP_MP_DUPLICATE_CD;
            return;
        }
        st->hdr->has_cd = true;
        st->flags |= parse_cd(st->pool, v, st->hdr);
        return;
    }
    if (memchr(v.data, '\0', v.len) != NULL) {
        st->flags |= PP_MP_INVALID_PART;
    }
    if (str_ieq(st->name, "content-type")) {
        st->flags |= st->have_ct ? PP_MP_INVALID_PART : 0;
        if (!st->have_ct) {
            st->hdr->content_type = v;
            st->have_ct = true;
        }
    } else if (str_ieq(st->name, "content-transfer-encoding")) {
        if (!str_ieq(v, "binary") && !str_ieq(v, "8bit") && !str_ieq(v, "7bit")) {
            st->flags |= PP_MP_ENCODED_PART;
        }
    } else {
        st->flags |= PP_MP_UNKNOWN_PART_HEADER;
    }
}

/* A continuation line: RFC 5322 unfolding removes only the line break. */
static void fold_line(hdr_state_t *st, pp_str_t line)
{
    if (!st->open) {
        st->flags |= PP_MP_INVALID_HEADER_FOLDING;
        return;
    }
    st->flags |= PP_MP_HEADER_FOLDING;
    char *joined = apr_palloc(st->pool, st->value.len + line.len + 1);
    memcpy(joined, st->value.data, st->value.len);
    memcpy(joined + st->value.len, line.data, line.len);
    st->value = (pp_str_t){ joined, st->value.len + line.len };
}

static void start_header(hdr_state_t *st, pp_str_t line)
{
    const char *colon = memchr(line.data, ':', line.len);
    if (colon == NULL) {
        st->flags |= PP_MP_HEADER_NO_COLON;
        return;
    }
    st->name = (pp_str_t){ line.data, (apr_size_t)(colon - line.data) };
    st->value = (pp_str_t){ colon + 1, (apr_size_t)(line.data + line.len - colon - 1) };
    st->open = true;
    /* "Content-Disposition :" is a different header to us but the same to a trimming parser. */
    bool token = st->name.len > 0;
    for (apr_size_t i = 0; i < st->name.len; i++) {
        token = token && is_tchar((unsigned char)st->name.data[i]);
    }
    if (!token) {
        st->flags |= PP_MP_INVALID_PART;
    }
}

unsigned pp_multipart_header_parse(apr_pool_t *p, pp_str_t raw, pp_mp_part_hdr_t *hdr)
{
    hdr_state_t st;
    const char *s = raw.data, *end = raw.data + raw.len;

    memset(hdr, 0, sizeof(*hdr));
    memset(&st, 0, sizeof(st));
    st.pool = p;
    st.hdr = hdr;
    hdr->content_type = (pp_str_t){ "", 0 };
    while (s < end) {
        const char *nl = memchr(s, '\n', (apr_size_t)(end - s));
        const char *line_end = nl ? nl : end;
        if (line_end > s && line_end[-1] == '\r') {
            line_end--;
        }
        pp_str_t line = { s, (apr_size_t)(line_end - s) };
        s = nl ? nl + 1 : end;
        if (memchr(line.data, '\r', line.len) != NULL) {
            st.flags |= PP_MP_INVALID_PART; /* a bare CR ends the line for some parsers */
        }
        if (line.len > 0 && is_ows(line.data[0])) {
            fold_line(&st, line);
            continue;
        }
        if (st.open) {
            dispatch_header(&st);
        }
        start_header(&st, line);
    }
    if (st.open) {
        dispatch_header(&st);
    }
    return st.flags;
}
