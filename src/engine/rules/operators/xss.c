/*
 * @detectXSS: cross-site scripting detection, the algorithm of libinjection 3.9.2's XSS check
 * as compiled into ModSecurity 2.9.7 (the oracle in tests/oracle/ defines right, quirks
 * included; this copy, for one, takes every attribute name of five or more bytes starting
 * with "on" for an event handler).
 *
 * The value is run through a small HTML5 tokenizer (the states of the HTML5 spec §12.2.4 that
 * matter for tags, attributes and comments, plus a few old-browser habits: NUL ignored in tag
 * names, back-quoted attribute values, <% %> comments) from five starting states: text, and
 * inside an unquoted, single-, double- or back-quoted attribute value. A value is XSS when
 * any pass meets a DOCTYPE, a blacklisted tag, an event-handler / style / blacklisted
 * attribute, a URL attribute whose value starts with a script-capable scheme (after entity
 * decoding), or a comment that old IE would execute.
 *
 * Pure function of the value; nothing is allocated. Bytes past the end read as NUL, as in
 * ModSecurity, whose values are NUL-terminated.
 */
#include "rules/operators/operators.h"

typedef enum {
    H_DATA_TEXT, H_TAG_NAME_OPEN, H_TAG_NAME_CLOSE, H_TAG_NAME_SELFCLOSE, H_TAG_CLOSE,
    H_ATTR_NAME, H_ATTR_VALUE, H_TAG_COMMENT, H_DOCTYPE
} h5_token_t;

typedef enum {
    S_EOF, S_DATA, S_TAG_OPEN, S_TAG_NAME_CLOSE, S_BEFORE_ATTR_NAME, S_AFTER_ATTR_NAME,
    S_BEFORE_ATTR_VALUE, S_VALUE_DQ, S_VALUE_SQ, S_VALUE_BQ, S_VALUE_NQ, S_AFTER_VALUE_QUOTED,
    S_SELF_CLOSING
} h5_state_t;

typedef struct h5_t {
    const char *s;
    apr_size_t len, pos;
    h5_state_t state;
    bool is_close; /* inside "</...": survives until a '>' ends that tag name */
    h5_token_t type;
    const char *tok;
    apr_size_t tok_len;
} h5_t;

#define EOF_CH (-1)

/* HTML white space as the tokenizer sees it: NUL counts. */
static bool h5_white(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == 0;
}

static bool alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Skips white space; returns the next byte as a signed char value, or EOF_CH. (A 0xFF byte
 * therefore reads as the end, as in the reference.) */
static int skip_white(h5_t *h)
{
    while (h->pos < h->len) {
        char c = h->s[h->pos];
        if (!(c == 0 || c == ' ' || (c >= '\t' && c <= '\r')))
            return (signed char)c;
        h->pos++;
    }
    return EOF_CH;
}

static int emit(h5_t *h, h5_token_t type, apr_size_t start, apr_size_t len)
{
    h->type = type;
    h->tok = h->s + start;
    h->tok_len = len;
    return 1;
}

static int st_data(h5_t *h);
static int st_tag_name(h5_t *h);
static int st_before_attr_name(h5_t *h);
static int st_self_closing(h5_t *h);
static int st_value_quoted(h5_t *h, char q);

static int st_tag_name_close(h5_t *h)
{
    h->is_close = false;
    emit(h, H_TAG_NAME_CLOSE, h->pos, 1);
    h->pos++;
    h->state = h->pos < h->len ? S_DATA : S_EOF;
    return 1;
}

/* Up to the next '>' (or the end) as a comment. */
static int st_bogus_comment(h5_t *h)
{
    const char *gt = memchr(h->s + h->pos, '>', h->len - h->pos);
    apr_size_t start = h->pos;
    if (!gt) {
        h->pos = h->len;
        h->state = S_EOF;
        return emit(h, H_TAG_COMMENT, start, h->len - start);
    }
    h->pos = (apr_size_t)(gt - h->s) + 1;
    h->state = S_DATA;
    return emit(h, H_TAG_COMMENT, start, (apr_size_t)(gt - h->s) - start);
}

/* <% ... %>, an old IE and Safari comment form. */
static int st_percent_comment(h5_t *h)
{
    apr_size_t from = h->pos, start = h->pos;
    for (;;) {
        const char *p = memchr(h->s + from, '%', h->len - from);
        if (!p || p + 1 >= h->s + h->len) {
            h->pos = h->len;
            h->state = S_EOF;
            return emit(h, H_TAG_COMMENT, start, h->len - start);
        }
        if (p[1] != '>') {
            from = (apr_size_t)(p - h->s) + 1;
            continue;
        }
        h->pos = (apr_size_t)(p - h->s) + 2;
        h->state = S_DATA;
        return emit(h, H_TAG_COMMENT, start, (apr_size_t)(p - h->s) - start);
    }
}

/* <!-- ... --> or --!>; NULs between the dashes are ignored. */
static int st_comment(h5_t *h)
{
    apr_size_t from = h->pos, start = h->pos, n = h->len;
    const char *s = h->s;
    for (;;) {
        const char *d = memchr(s + from, '-', n - from);
        if (!d || (apr_ssize_t)(d - s) > (apr_ssize_t)n - 3)
            break;
        apr_size_t i = (apr_size_t)(d - s) + 1;
        while (i < n && s[i] == 0)
            i++;
        if (i == n)
            break;
        if (s[i] != '-' && s[i] != '!') {
            from = (apr_size_t)(d - s) + 1;
            continue;
        }
        if (++i == n)
            break;
        if (s[i] != '>') {
            from = (apr_size_t)(d - s) + 1;
            continue;
        }
        h->pos = i + 1;
        h->state = S_DATA;
        return emit(h, H_TAG_COMMENT, start, (apr_size_t)(d - s) - start);
    }
    h->state = S_EOF;
    return emit(h, H_TAG_COMMENT, start, n - start);
}

/* <![CDATA[ ... ]]> is text. */
static int st_cdata(h5_t *h)
{
    apr_size_t from = h->pos, start = h->pos, n = h->len;
    const char *s = h->s;
    for (;;) {
        const char *b = memchr(s + from, ']', n - from);
        if (!b || (apr_ssize_t)(b - s) > (apr_ssize_t)n - 3) {
            h->state = S_EOF;
            return emit(h, H_DATA_TEXT, start, n - start);
        }
        if (b[1] == ']' && b[2] == '>') {
            h->state = S_DATA;
            h->pos = (apr_size_t)(b - s) + 3;
            return emit(h, H_DATA_TEXT, start, (apr_size_t)(b - s) - start);
        }
        from = (apr_size_t)(b - s) + 1;
    }
}

static int st_doctype(h5_t *h)
{
    apr_size_t start = h->pos;
    const char *gt = memchr(h->s + h->pos, '>', h->len - h->pos);
    if (!gt) {
        h->state = S_EOF;
        return emit(h, H_DOCTYPE, start, h->len - start);
    }
    h->state = S_DATA;
    h->pos = (apr_size_t)(gt - h->s) + 1;
    return emit(h, H_DOCTYPE, start, (apr_size_t)(gt - h->s) - start);
}

/* After "<!". */
static int st_markup_declaration(h5_t *h)
{
    const char *p = h->s + h->pos;
    apr_size_t left = h->len - h->pos;
    if (left >= 7) {
        int i = 0;
        while (i < 7 && (p[i] == "DOCTYPE"[i] || p[i] == "doctype"[i]))
            i++;
        if (i == 7)
            return st_doctype(h);
    }
    if (left >= 7 && memcmp(p, "[CDATA[", 7) == 0) {
        h->pos += 7;
        return st_cdata(h);
    }
    if (left >= 2 && p[0] == '-' && p[1] == '-') {
        h->pos += 2;
        return st_comment(h);
    }
    return st_bogus_comment(h);
}

static int st_end_tag_open(h5_t *h)
{
    if (h->pos >= h->len)
        return 0;
    char c = h->s[h->pos];
    if (c == '>')
        return st_data(h); /* "</>": is_close stays set, as in the reference */
    if (alpha(c))
        return st_tag_name(h);
    h->is_close = false;
    return st_bogus_comment(h);
}

/* After '<'. */
static int st_tag_open(h5_t *h)
{
    if (h->pos >= h->len)
        return 0;
    char c = h->s[h->pos];
    switch (c) {
    case '!': h->pos++; return st_markup_declaration(h);
    case '/': h->pos++; h->is_close = true; return st_end_tag_open(h);
    case '?': h->pos++; return st_bogus_comment(h);
    case '%': h->pos++; return st_percent_comment(h);
    default: break;
    }
    if (alpha(c) || c == 0)
        return st_tag_name(h);
    if (h->pos == 0)
        return st_data(h);
    h->state = S_DATA;
    return emit(h, H_DATA_TEXT, h->pos - 1, 1); /* a '<' that opens nothing */
}

static int st_data(h5_t *h)
{
    apr_size_t start = h->pos;
    const char *lt = memchr(h->s + h->pos, '<', h->len - h->pos);
    if (!lt) {
        h->state = S_EOF;
        emit(h, H_DATA_TEXT, start, h->len - start);
        return h->tok_len > 0;
    }
    h->pos = (apr_size_t)(lt - h->s) + 1;
    h->state = S_TAG_OPEN;
    if (lt - h->s == (apr_ssize_t)start)
        return st_tag_open(h);
    return emit(h, H_DATA_TEXT, start, (apr_size_t)(lt - h->s) - start);
}

static int st_tag_name(h5_t *h)
{
    apr_size_t start = h->pos;
    for (apr_size_t p = h->pos; p < h->len; p++) {
        char c = h->s[p];
        if (c == 0)
            continue; /* old browsers ignore NUL in tag names */
        if (h5_white(c) || c == '/') {
            h->pos = p + 1;
            h->state = c == '/' ? S_SELF_CLOSING : S_BEFORE_ATTR_NAME;
            return emit(h, H_TAG_NAME_OPEN, start, p - start);
        }
        if (c == '>') {
            if (h->is_close) {
                h->pos = p + 1;
                h->is_close = false;
                h->state = S_DATA;
                return emit(h, H_TAG_CLOSE, start, p - start);
            }
            h->pos = p;
            h->state = S_TAG_NAME_CLOSE;
            return emit(h, H_TAG_NAME_OPEN, start, p - start);
        }
    }
    h->state = S_EOF;
    return emit(h, H_TAG_NAME_OPEN, start, h->len - start);
}

/* The name's first byte is taken whatever it is ('=' included). */
static int st_attr_name(h5_t *h)
{
    apr_size_t start = h->pos;
    for (apr_size_t p = h->pos + 1; p < h->len; p++) {
        char c = h->s[p];
        if (h5_white(c) || c == '/' || c == '=') {
            h->pos = p + 1;
            h->state = c == '/' ? S_SELF_CLOSING
                       : c == '=' ? S_BEFORE_ATTR_VALUE : S_AFTER_ATTR_NAME;
            return emit(h, H_ATTR_NAME, start, p - start);
        }
        if (c == '>') {
            h->pos = p;
            h->state = S_TAG_NAME_CLOSE;
            return emit(h, H_ATTR_NAME, start, p - start);
        }
    }
    h->state = S_EOF;
    h->pos = h->len;
    return emit(h, H_ATTR_NAME, start, h->len - start);
}

static int st_before_attr_name(h5_t *h)
{
    int c = skip_white(h);
    if (c == EOF_CH)
        return 0;
    if (c == '/') {
        h->pos++;
        return st_self_closing(h);
    }
    if (c == '>') {
        h->state = S_DATA;
        emit(h, H_TAG_NAME_CLOSE, h->pos, 1);
        h->pos++;
        return 1;
    }
    return st_attr_name(h);
}

static int st_value_unquoted(h5_t *h);

static int st_before_attr_value(h5_t *h)
{
    int c = skip_white(h);
    if (c == EOF_CH) {
        h->state = S_EOF;
        return 0;
    }
    if (c == '"' || c == '\'' || c == '`')
        return st_value_quoted(h, (char)c);
    return st_value_unquoted(h);
}

static int st_after_attr_name(h5_t *h)
{
    int c = skip_white(h);
    switch (c) {
    case EOF_CH: return 0;
    case '/': h->pos++; return st_self_closing(h);
    case '=': h->pos++; return st_before_attr_value(h);
    case '>': return st_tag_name_close(h);
    default: return st_attr_name(h);
    }
}

static int st_value_quoted(h5_t *h, char q)
{
    /* At position 0 the value started inside quotes (a starting state): no quote to skip. */
    if (h->pos > 0)
        h->pos++;
    apr_size_t start = h->pos;
    const char *end = memchr(h->s + h->pos, q, h->len - h->pos);
    if (!end) {
        h->state = S_EOF;
        return emit(h, H_ATTR_VALUE, start, h->len - start);
    }
    h->state = S_AFTER_VALUE_QUOTED;
    h->pos = (apr_size_t)(end - h->s) + 1;
    return emit(h, H_ATTR_VALUE, start, (apr_size_t)(end - h->s) - start);
}

static int st_value_unquoted(h5_t *h)
{
    apr_size_t start = h->pos;
    for (apr_size_t p = h->pos; p < h->len; p++) {
        char c = h->s[p];
        if (h5_white(c)) {
            h->pos = p + 1;
            h->state = S_BEFORE_ATTR_NAME;
            return emit(h, H_ATTR_VALUE, start, p - start);
        }
        if (c == '>') {
            h->pos = p;
            h->state = S_TAG_NAME_CLOSE;
            return emit(h, H_ATTR_VALUE, start, p - start);
        }
    }
    h->state = S_EOF;
    return emit(h, H_ATTR_VALUE, start, h->len - start);
}

static int st_after_value_quoted(h5_t *h)
{
    if (h->pos >= h->len)
        return 0;
    char c = h->s[h->pos];
    if (h5_white(c)) {
        h->pos++;
        return st_before_attr_name(h);
    }
    if (c == '/') {
        h->pos++;
        return st_self_closing(h);
    }
    if (c == '>') {
        emit(h, H_TAG_NAME_CLOSE, h->pos, 1);
        h->pos++;
        h->state = S_DATA;
        return 1;
    }
    return st_before_attr_name(h);
}

static int st_self_closing(h5_t *h)
{
    if (h->pos >= h->len)
        return 0;
    if (h->s[h->pos] == '>') {
        emit(h, H_TAG_NAME_SELFCLOSE, h->pos - 1, 2);
        h->state = S_DATA;
        h->pos++;
        return 1;
    }
    return st_before_attr_name(h);
}

/* The next token into h->type / tok / tok_len; 0 at the end. */
static int h5_next(h5_t *h)
{
    switch (h->state) {
    case S_EOF: return 0;
    case S_DATA: return st_data(h);
    case S_TAG_OPEN: return st_tag_open(h);
    case S_TAG_NAME_CLOSE: return st_tag_name_close(h);
    case S_BEFORE_ATTR_NAME: return st_before_attr_name(h);
    case S_AFTER_ATTR_NAME: return st_after_attr_name(h);
    case S_BEFORE_ATTR_VALUE: return st_before_attr_value(h);
    case S_VALUE_DQ: return st_value_quoted(h, '"');
    case S_VALUE_SQ: return st_value_quoted(h, '\'');
    case S_VALUE_BQ: return st_value_quoted(h, '`');
    case S_VALUE_NQ: return st_value_unquoted(h);
    case S_AFTER_VALUE_QUOTED: return st_after_value_quoted(h);
    case S_SELF_CLOSING: return st_self_closing(h);
    }
    return 0;
}

/* ---- blacklists ---------------------------------------------------------------------------- */

typedef enum { A_NONE, A_BLACK, A_URL, A_STYLE, A_INDIRECT } attr_kind_t;

/* s (NUL bytes dropped, a-z upper-cased) equals the upper-case word. */
static bool eq_ignoring_nul(const char *word, const char *s, apr_size_t n)
{
    for (apr_size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == 0)
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (*word++ != c)
            return false;
    }
    return *word == '\0';
}

static bool prefix3(const char *s, const char *up)
{
    for (int i = 0; i < 3; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c != up[i])
            return false;
    }
    return true;
}

static bool black_tag(const char *s, apr_size_t n)
{
    /* clang-format off */
    static const char *const tags[] = {
        "APPLET", "BASE", "COMMENT", "EMBED", "FRAME", "FRAMESET", "HANDLER", "IFRAME", "IMPORT",
        "ISINDEX", "LINK", "LISTENER", "META", "NOSCRIPT", "OBJECT", "SCRIPT", "STYLE",
        "VMLFRAME", "XML", "XSS",
    };
    /* clang-format on */
    if (n < 3)
        return false;
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        if (eq_ignoring_nul(tags[i], s, n))
            return true;
    return prefix3(s, "SVG") || prefix3(s, "XSL"); /* anything SVG or XSL(T) */
}

static attr_kind_t black_attr(const char *s, apr_size_t n)
{
    /* clang-format off */
    static const struct { const char *name; attr_kind_t kind; } attrs[] = {
        { "ACTION", A_URL },      { "ATTRIBUTENAME", A_INDIRECT }, { "BY", A_URL },
        { "BACKGROUND", A_URL },  { "DATAFORMATAS", A_BLACK },     { "DATASRC", A_BLACK },
        { "DYNSRC", A_URL },      { "FILTER", A_STYLE },           { "FORMACTION", A_URL },
        { "FOLDER", A_URL },      { "FROM", A_URL },               { "HANDLER", A_URL },
        { "HREF", A_URL },        { "LOWSRC", A_URL },             { "POSTER", A_URL },
        { "SRC", A_URL },         { "STYLE", A_STYLE },            { "TO", A_URL },
        { "VALUES", A_URL },      { "XLINK:HREF", A_URL },
    };
    /* clang-format on */
    if (n < 2)
        return A_NONE;
    if (n >= 5) {
        if ((s[0] == 'o' || s[0] == 'O') && (s[1] == 'n' || s[1] == 'N'))
            return A_BLACK; /* any on* of five bytes or more: an event handler */
        if (eq_ignoring_nul("XMLNS", s, 5) || eq_ignoring_nul("XLINK", s, 5))
            return A_BLACK; /* namespaces can create arbitrary tags */
    }
    /* Most names are ordinary: compare only candidates with the same first letter (and, when
     * there is no NUL to drop, the same length). */
    apr_size_t k = 0;
    while (k < n && s[k] == 0)
        k++;
    if (k == n)
        return A_NONE;
    char first = s[k] >= 'a' && s[k] <= 'z' ? (char)(s[k] - 32) : s[k];
    bool has_nul = k > 0 || memchr(s, 0, n) != NULL;
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        if (attrs[i].name[0] != first || (!has_nul && strlen(attrs[i].name) != n))
            continue;
        if (eq_ignoring_nul(attrs[i].name, s, n))
            return attrs[i].kind;
    }
    return A_NONE;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One character of an HTML-encoded value: &#DDD; and &#xHH; are decoded (a missing ';' is
 * fine; values past 0x1000FF are left as '&'), any other '&' stays '&'. The reference peeks up
 * to three bytes ahead even past n; end bounds those peeks (beyond it reads as NUL). */
static int decode_char(const char *src, apr_size_t n, const char *end, apr_size_t *used)
{
#define AT(i) (src + (i) < end ? (unsigned char)src[i] : 0)
    *used = 1;
    if (src[0] != '&' || n < 2)
        return (unsigned char)src[0];
    if (src[1] != '#')
        return '&';
    int val;
    apr_size_t i;
    if (AT(2) == 'x' || AT(2) == 'X') {
        val = hex_value(AT(3));
        if (val < 0)
            return '&';
        for (i = 4; i < n; i++) {
            unsigned char c = (unsigned char)src[i];
            if (c == ';') {
                *used = i + 1;
                return val;
            }
            int d = hex_value(c);
            if (d < 0) {
                *used = i;
                return val;
            }
            val = val * 16 + d;
            if (val > 0x1000FF) {
                *used = 1;
                return '&';
            }
        }
    } else {
        unsigned char c = AT(2);
        if (c < '0' || c > '9')
            return '&';
        val = c - '0';
        for (i = 3; i < n; i++) {
            c = (unsigned char)src[i];
            if (c == ';') {
                *used = i + 1;
                return val;
            }
            if (c < '0' || c > '9') {
                *used = i;
                return val;
            }
            val = val * 10 + (c - '0');
            if (val > 0x1000FF) {
                *used = 1;
                return '&';
            }
        }
    }
    *used = i;
    return val;
#undef AT
}

/* Whether the HTML-encoded s starts with the upper-case prefix: leading control bytes and
 * spaces, NULs and newlines anywhere are ignored, and decoded characters compare by their
 * low byte (as the reference does). */
static bool encoded_starts_with(const char *prefix, const char *s, apr_size_t n,
                                const char *end)
{
    bool first = true;
    while (n > 0) {
        if (*prefix == '\0')
            return true;
        apr_size_t used;
        int c = decode_char(s, n, end, &used);
        if (used > n)
            used = n;
        s += used;
        n -= used;
        if (first && c <= 32)
            continue;
        first = false;
        if (c == 0 || c == '\n')
            continue;
        if (c >= 'a' && c <= 'z')
            c -= 32;
        if (*prefix != (char)c)
            return false;
        prefix++;
    }
    return *prefix == '\0';
}

static bool black_url(const char *s, apr_size_t n, const char *end)
{
    /* Skip white space, control bytes and every non-ASCII byte. */
    while (n > 0 && ((signed char)*s <= 32 || (signed char)*s >= 127)) {
        s++;
        n--;
    }
    return encoded_starts_with("DATA", s, n, end) ||
           encoded_starts_with("VIEW-SOURCE", s, n, end) ||
           encoded_starts_with("JAVA", s, n, end) || encoded_starts_with("VBSCRIPT", s, n, end);
}

/* Comments that IE or XML processors act on. */
static bool black_comment(const char *t, apr_size_t n)
{
    if (memchr(t, '`', n))
        return true; /* IE ends tags at a back quote */
    if (n > 3) {
        if (t[0] == '[' && (t[1] == 'i' || t[1] == 'I') && (t[2] == 'f' || t[2] == 'F'))
            return true; /* conditional comment */
        if (prefix3(t, "XML"))
            return true;
    }
    return n > 5 && (eq_ignoring_nul("IMPORT", t, 6) || eq_ignoring_nul("ENTITY", t, 6));
}

static bool xss_from(pp_str_t v, h5_state_t start)
{
    h5_t h = { .s = v.data, .len = v.len, .state = start };
    const char *end = v.data + v.len;
    attr_kind_t attr = A_NONE;
    while (h5_next(&h)) {
        if (h.type != H_ATTR_VALUE)
            attr = A_NONE;
        switch (h.type) {
        case H_DOCTYPE:
            return true;
        case H_TAG_NAME_OPEN:
            if (black_tag(h.tok, h.tok_len))
                return true;
            break;
        case H_ATTR_NAME:
            attr = black_attr(h.tok, h.tok_len);
            break;
        case H_ATTR_VALUE:
            if (attr == A_BLACK || attr == A_STYLE)
                return true;
            if (attr == A_URL && black_url(h.tok, h.tok_len, end))
                return true;
            if (attr == A_INDIRECT && black_attr(h.tok, h.tok_len) != A_NONE)
                return true; /* SVG names the attribute in a value */
            attr = A_NONE;
            break;
        case H_TAG_COMMENT:
            if (black_comment(h.tok, h.tok_len))
                return true;
            break;
        default:
            break;
        }
    }
    return false;
}

bool pp_xss_detect(pp_str_t value)
{
    static const h5_state_t starts[] = { S_DATA, S_BEFORE_ATTR_NAME, S_VALUE_SQ, S_VALUE_DQ,
                                         S_VALUE_BQ };
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
        if (xss_from(value, starts[i]))
            return true;
    return false;
}

/* Every way pp_xss_detect answers true goes through a '<' or a '=' of the value: a DOCTYPE, a
 * tag name or a comment is only tokenized after st_data found a '<' (S_TAG_OPEN is entered
 * nowhere else), and an attribute value follows an attribute name (the only way attr is not
 * A_NONE) only through S_BEFORE_ATTR_VALUE, entered on a '=' (the value a quoted starting
 * state opens with comes before any name). So a value holding neither is not XSS, and the
 * rule index and test_value2 skip it (CRS 941100/941101 on benign text: most values).
 * tests/unit/rules/operators/test_xss.c and fuzz/fuzz_xss_diff.c hold this against
 * libinjection itself. */
const char *pp_op_xss_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    (void)arg; /* ModSecurity 2 ignores an argument to @detectXSS; so do we */
    static const pp_str_t bytes[] = { { "<", 1 }, { "=", 1 } };
    *compiled = (void *)pp_rx_needs_of_texts(cp, bytes, 2, 2);
    return NULL;
}

const pp_rx_needs_t *pp_op_xss_needs(const void *compiled)
{
    return compiled;
}

apr_status_t pp_op_xss_exec(pp_tx_t *tx, const void *compiled, pp_str_t value, bool *match,
                            pp_op_out_t *out)
{
    *match = pp_xss_detect(value);
    if (*match) { /* ModSecurity logs the whole value as the matched data, and keeps it as
                   * TX:0 with `capture` (found by tests/e2e/test_ms2_detect.py) */
        out->data = value;
        out->ncaptures = 0;
        if (out->want_captures) {
            out->captures[0] = value;
            out->ncaptures = 1;
        }
    }
    return APR_SUCCESS;
}

PP_OP_WORDS(pp_op_xss_words)
{
    return "detected XSS using libinjection.";
}
