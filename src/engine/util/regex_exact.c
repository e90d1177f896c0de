/*
 * The exact set of a pattern that is an anchored alternation of plain words, such as
 * ModSecurity rules' "^(?:GET|HEAD|POST)$" over REQUEST_METHOD or "^HTTP/(0\.9|1\.[01])$" over
 * REQUEST_PROTOCOL: such a pattern matches a value exactly when the value is one of a small
 * set of strings, which a length and byte compare answers in a few instructions where PCRE2's
 * JIT call costs ~800 (issue 13, ms2-100: three negated rules of this shape per request).
 *
 * Only patterns whose meaning is certain are taken, everything else keeps PCRE2 alone: an
 * optional leading (?i), then '^', a concatenation of atoms, then a final '$' (regex.c compiles
 * every pattern with PCRE2_DOLLAR_ENDONLY, so '$' is the very end of the value, never before a
 * final newline; a multi-line pattern is not taken). Atoms: a printable ASCII byte that is no
 * metacharacter, a backslash before a printable ASCII punctuation byte, a class of such bytes
 * and ranges ([01], [a-c]; not negated, no POSIX class), and a group, capturing or (?:...), of
 * alternatives built the same way. No quantifier follows any atom. The set is the product of
 * the atoms' choices, at most PP_RX_EXACT_MAX_WORDS words of at most PP_RX_EXACT_MAX_LEN bytes.
 * Caseless (PP_RX_ICASE or the leading (?i)) folds the ASCII letters only, as PCRE2 does with
 * its default tables and neither UTF nor UCP.
 */
#include "util/util.h"

#include <string.h>

#define PP_RX_EXACT_MAX_WORDS 64
#define PP_RX_EXACT_MAX_LEN 128

struct pp_rx_exact_t {
    bool icase;
    unsigned n;
    apr_size_t minlen, maxlen;
    pp_str_t *words;
    /* When no word is longer than 16 bytes: each word (lower case when caseless) as two
     * zero-padded integers, compared with the value folded the same way. */
    uint64_t (*keys)[2];
};

#define PP_RX_EXACT_KEY_LEN 16

/* A set of words under construction (bounded; overflow makes the pattern not taken). */
typedef struct {
    unsigned n;
    char *w[PP_RX_EXACT_MAX_WORDS];
    apr_size_t len[PP_RX_EXACT_MAX_WORDS];
} wordset_t;

typedef struct {
    apr_pool_t *p;
    const char *s;   /* next byte of the pattern */
    const char *end; /* the final '$' */
} parser_t;

static bool plain_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && !strchr("\\^$.[]|()?*+{}", c);
}

static bool escapable(unsigned char c)
{
    /* \ before a non-alphanumeric printable byte is that byte in PCRE2. */
    return c > 0x20 && c < 0x7f && !((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
                                                                 (c | 0x20) <= 'z'));
}

static void set_one(wordset_t *ws, apr_pool_t *p)
{
    ws->n = 1;
    ws->w[0] = apr_palloc(p, PP_RX_EXACT_MAX_LEN);
    ws->len[0] = 0;
}

/* ws := ws x choices (nbytes single bytes). */
static bool product_bytes(parser_t *ps, wordset_t *ws, const unsigned char *bytes, unsigned nb)
{
    if (nb == 0 || (unsigned long)ws->n * nb > PP_RX_EXACT_MAX_WORDS)
        return false;
    wordset_t out = { 0 };
    for (unsigned i = 0; i < ws->n; i++) {
        if (ws->len[i] + 1 > PP_RX_EXACT_MAX_LEN)
            return false;
        for (unsigned b = 0; b < nb; b++) {
            char *w = apr_palloc(ps->p, PP_RX_EXACT_MAX_LEN);
            memcpy(w, ws->w[i], ws->len[i]);
            w[ws->len[i]] = (char)bytes[b];
            out.w[out.n] = w;
            out.len[out.n++] = ws->len[i] + 1;
        }
    }
    *ws = out;
    return true;
}

static bool product_set(parser_t *ps, wordset_t *ws, const wordset_t *tail)
{
    if ((unsigned long)ws->n * tail->n > PP_RX_EXACT_MAX_WORDS)
        return false;
    wordset_t out = { 0 };
    for (unsigned i = 0; i < ws->n; i++) {
        for (unsigned j = 0; j < tail->n; j++) {
            if (ws->len[i] + tail->len[j] > PP_RX_EXACT_MAX_LEN)
                return false;
            char *w = apr_palloc(ps->p, PP_RX_EXACT_MAX_LEN);
            memcpy(w, ws->w[i], ws->len[i]);
            memcpy(w + ws->len[i], tail->w[j], tail->len[j]);
            out.w[out.n] = w;
            out.len[out.n++] = ws->len[i] + tail->len[j];
        }
    }
    *ws = out;
    return true;
}

static bool parse_alt(parser_t *ps, wordset_t *out);

/* A class: [ then bytes, escaped bytes and ranges, then ]. */
static bool parse_class(parser_t *ps, unsigned char *bytes, unsigned *nb)
{
    bool seen[256] = { false };
    *nb = 0;
    ps->s++; /* '[' */
    if (ps->s < ps->end && (*ps->s == '^' || *ps->s == ']'))
        return false;
    while (ps->s < ps->end && *ps->s != ']') {
        unsigned char lo;
        if (*ps->s == '[')
            return false; /* POSIX class or a nested bracket: not taken */
        if (*ps->s == '\\') {
            if (ps->s + 1 >= ps->end || !escapable((unsigned char)ps->s[1]))
                return false;
            lo = (unsigned char)ps->s[1];
            ps->s += 2;
        } else {
            lo = (unsigned char)*ps->s;
            if (lo < 0x20 || lo >= 0x7f)
                return false;
            ps->s++;
        }
        unsigned char hi = lo;
        if (ps->s + 1 < ps->end && *ps->s == '-' && ps->s[1] != ']') {
            hi = (unsigned char)ps->s[1];
            if (hi == '\\' || hi == '[' || hi < 0x20 || hi >= 0x7f || hi < lo)
                return false;
            ps->s += 2;
        }
        for (unsigned c = lo; c <= hi; c++) {
            if (!seen[c]) {
                if (*nb >= PP_RX_EXACT_MAX_WORDS)
                    return false;
                seen[c] = true;
                bytes[(*nb)++] = (unsigned char)c;
            }
        }
    }
    if (ps->s >= ps->end)
        return false;
    ps->s++; /* ']' */
    return *nb > 0;
}

/* A concatenation, up to '|', ')' or the end. */
static bool parse_seq(parser_t *ps, wordset_t *ws)
{
    set_one(ws, ps->p);
    while (ps->s < ps->end && *ps->s != '|' && *ps->s != ')') {
        unsigned char c = (unsigned char)*ps->s, one[1];
        unsigned char cls[PP_RX_EXACT_MAX_WORDS];
        unsigned nb;
        if (c == '(') {
            ps->s++;
            if (ps->s < ps->end && *ps->s == '?') {
                if (ps->s + 1 >= ps->end || ps->s[1] != ':')
                    return false; /* options, look-arounds, named groups: not taken */
                ps->s += 2;
            }
            wordset_t inner;
            if (!parse_alt(ps, &inner) || !product_set(ps, ws, &inner))
                return false;
        } else if (c == '[') {
            if (!parse_class(ps, cls, &nb) || !product_bytes(ps, ws, cls, nb))
                return false;
        } else if (c == '\\') {
            if (ps->s + 1 >= ps->end || !escapable((unsigned char)ps->s[1]))
                return false;
            one[0] = (unsigned char)ps->s[1];
            ps->s += 2;
            if (!product_bytes(ps, ws, one, 1))
                return false;
        } else if (plain_byte(c)) {
            one[0] = c;
            ps->s++;
            if (!product_bytes(ps, ws, one, 1))
                return false;
        } else {
            return false;
        }
        /* A quantifier after the atom: not taken ('{' is one only sometimes: never taken). */
        if (ps->s < ps->end && strchr("?*+{", *ps->s))
            return false;
    }
    return true;
}

/* A group's alternatives, up to and with its ')'. */
static bool parse_alt(parser_t *ps, wordset_t *out)
{
    out->n = 0;
    for (;;) {
        wordset_t seq;
        if (!parse_seq(ps, &seq))
            return false;
        if (out->n + seq.n > PP_RX_EXACT_MAX_WORDS)
            return false;
        for (unsigned i = 0; i < seq.n; i++) {
            out->w[out->n] = seq.w[i];
            out->len[out->n++] = seq.len[i];
        }
        if (ps->s >= ps->end)
            return false; /* the group is not closed before the final '$' */
        if (*ps->s == ')') {
            ps->s++;
            return true;
        }
        ps->s++; /* '|' */
    }
}

static inline unsigned char lower(unsigned char c)
{
    return (unsigned char)(c | (((unsigned)(c - 'A') < 26u) << 5));
}

/* Whether v equals w, a word already in lower case when caseless. */
static inline bool word_eq(const char *w, const char *v, apr_size_t n, bool icase)
{
    if (!icase)
        return memcmp(w, v, n) == 0;
    for (apr_size_t i = 0; i < n; i++)
        if ((unsigned char)w[i] != lower((unsigned char)v[i]))
            return false;
    return true;
}

const pp_rx_exact_t *pp_rx_exact_derive(apr_pool_t *cp, const char *pattern, unsigned flags)
{
    if (flags & PP_RX_MULTILINE)
        return NULL;
    bool icase = (flags & PP_RX_ICASE) != 0;
    const char *s = pattern;
    if (strncmp(s, "(?i)", 4) == 0) {
        icase = true;
        s += 4;
    }
    apr_size_t len = strlen(s);
    if (len < 2 || s[0] != '^' || s[len - 1] != '$')
        return NULL;
    /* The final '$' must not be escaped: an odd run of backslashes before it escapes it. */
    apr_size_t bs = 0;
    while (len - 1 - bs > 1 && s[len - 2 - bs] == '\\')
        bs++;
    if (bs & 1)
        return NULL;
    apr_pool_t *tmp;
    if (apr_pool_create(&tmp, cp) != APR_SUCCESS)
        return NULL;
    parser_t ps = { tmp, s + 1, s + len - 1 };
    wordset_t ws;
    pp_rx_exact_t *ex = NULL;
    /* A top-level '|' splits the anchors (^a|b$ is "^a" or "b$"): one sequence only, which
     * stops before such a '|' and so does not reach the end. */
    if (parse_seq(&ps, &ws) && ps.s == ps.end) {
        ex = apr_pcalloc(cp, sizeof *ex);
        ex->icase = icase;
        ex->words = apr_palloc(cp, ws.n * sizeof *ex->words);
        ex->minlen = (apr_size_t)-1;
        for (unsigned i = 0; i < ws.n; i++) {
            char *w = apr_pstrmemdup(cp, ws.w[i], ws.len[i]);
            if (icase)
                for (apr_size_t k = 0; k < ws.len[i]; k++)
                    w[k] = (char)lower((unsigned char)w[k]);
            bool dup = false;
            for (unsigned j = 0; j < ex->n && !dup; j++)
                dup = ex->words[j].len == ws.len[i] && memcmp(ex->words[j].data, w, ws.len[i]) == 0;
            if (dup)
                continue;
            ex->words[ex->n++] = (pp_str_t){ w, ws.len[i] };
            if (ws.len[i] < ex->minlen)
                ex->minlen = ws.len[i];
            if (ws.len[i] > ex->maxlen)
                ex->maxlen = ws.len[i];
        }
    }
    if (ex && ex->maxlen <= PP_RX_EXACT_KEY_LEN) {
        ex->keys = apr_pcalloc(cp, ex->n * sizeof *ex->keys);
        for (unsigned i = 0; i < ex->n; i++)
            memcpy(ex->keys[i], ex->words[i].data, ex->words[i].len);
    }
    apr_pool_destroy(tmp);
    return ex;
}

bool pp_rx_exact_match(const pp_rx_exact_t *ex, pp_str_t v)
{
    if (v.len < ex->minlen || v.len > ex->maxlen)
        return false;
    if (ex->keys) {
        unsigned char b[PP_RX_EXACT_KEY_LEN] = { 0 };
        if (ex->icase)
            for (apr_size_t i = 0; i < v.len; i++)
                b[i] = lower((unsigned char)v.data[i]);
        else
            memcpy(b, v.data, v.len);
        uint64_t k[2];
        memcpy(k, b, sizeof k);
        for (unsigned i = 0; i < ex->n; i++)
            if (ex->words[i].len == v.len && ex->keys[i][0] == k[0] && ex->keys[i][1] == k[1])
                return true;
        return false;
    }
    for (unsigned i = 0; i < ex->n; i++) {
        if (ex->words[i].len != v.len)
            continue;
        if (word_eq(ex->words[i].data, v.data, v.len, ex->icase))
            return true;
    }
    return false;
}

unsigned pp_rx_exact_count(const pp_rx_exact_t *ex)
{
    return ex->n;
}
