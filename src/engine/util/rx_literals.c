/*
 * Literal prefilter for regexes. Most rule patterns cannot match unless the subject contains
 * some fixed text: "union[[:space:]]+select" needs "union", "(nmap|masscan)" needs "nmap" or
 * "masscan". At start-up we derive, from the pattern alone, one set of literals of which every
 * match must contain at least one (an OR-set); at run time a value that contains none of them
 * is answered "no match" without calling PCRE2. On benign traffic that is nearly every rule,
 * and the regex calls were half of the engine's cost per request.
 *
 * The derivation must never claim a literal that a match could lack (that would be a missed
 * attack), so it understands a small safe subset of the syntax and gives up (no prefilter, the
 * regex always runs) on anything else: inline options other than (?i) and (?i:...) (caseless,
 * which the folded comparison below covers), \Q..\E, verbs, named groups, unusual
 * escapes. Within a sequence it keeps the best required run of literal bytes or group; a group
 * or alternation contributes the union of its branches' requirements when every branch has
 * one; anything optional (?, *, {0,n}) contributes nothing. A run followed by a group whose
 * branches are all fixed texts (none empty) multiplies out, up to NEEDS_MAX texts:
 * "de(?:lete|sc)" needs "delete" or "desc", not just "de". A character class (and \s, \R) is
 * the set of bytes it matches: one byte once folded ([sS], [.]) continues a run, a few bytes
 * ([\r\n]) are a requirement of one-byte literals. Escapes of fixed bytes (\n, \t, \x5c) and
 * a '{' that cannot start a quantifier in any PCRE2 version are literal bytes. An OR-set keeps
 * no literal that holds another of the set, and one that grows past NEEDS_MAX literals is cut
 * to shorter prefixes until it fits (a prefix of a required literal is required). Comparison
 * folds ASCII case, which is a superset of both case-sensitive and PCRE2-caseless matching in
 * non-UTF mode, so the same prefilter serves rx and rx19.
 */
#include "util/util.h"

#include <stdint.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define LIT_MAX 32     /* bytes kept per literal: a prefix of a required literal is required */
#define NEEDS_MAX 16   /* literals in one OR-set; more alternatives are not worth checking */
#define DEPTH_MAX 32   /* group nesting we follow */

#define SKETCH_BITS 1024u /* a value's 2-gram bitmap (see Matching below) */
#define SKETCH_WORDS (SKETCH_BITS / 64)
#define NO_TEST 0xffffu /* a one-byte literal: searched, not sketched */

typedef struct lit_t {
    unsigned char len;
    unsigned char b[LIT_MAX];
} lit_t;

/* What a check reads first, kept apart from the bytes so the literals of a whole rule group sit
 * in a few cache lines: the sketch bits (2-gram codes) of the literal's first and last 2-grams
 * (NO_TEST for a one-byte literal) and its length. */
typedef struct lit_key_t {
    uint16_t t0, t1;
    uint16_t len;
} lit_key_t;

typedef struct needs_t {
    unsigned n;
    lit_t lit[NEEDS_MAX];
} needs_t;

struct pp_rx_needs_t {
    unsigned n;
    const lit_key_t *key;
    const lit_t *lit;
    const uint64_t *members; /* union of a rule group: which members need each literal */
    const uint32_t *hash4;   /* per literal of 4 bytes or more: its first and last 4-grams'
                                hashes, tested in a long value's 4-gram map */
    /* Index for long lists: keys sorted by first 2-gram (one-byte literals last, from
     * nsketched on) and the set of those first 2-grams, so a check visits only the literals
     * whose first 2-gram the value has. NULL for short lists. */
    const uint64_t *first;
    unsigned nsketched;
    /* One-byte literals come after the longer ones (from nmulti on) and are also kept as a
     * set of bytes, tested in one go against the bytes a value's sketch records. */
    unsigned nmulti;
    uint64_t onebyte[4];
};

#define INDEX_MIN 8 /* literals from which a list is indexed by first 2-gram */

typedef struct parser_t {
    const char *p;
    bool fail;
    int depth;
} parser_t;

static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

static lit_key_t literal_key(const lit_t *l);
static void literal_hash4(const lit_t *l, uint32_t *h);

/* ---- Derivation ------------------------------------------------------------------------ */

/* How rare a literal is in benign values. A byte is rare when it is neither alphanumeric nor
 * one of the separators text and query strings are full of. Longer is rarer, and rare bytes
 * make a short literal rarer still: ");" or "${" beat a three-letter word, "function" beats
 * "new". A single common byte filters little, a single letter or digit less. */
static bool rare_byte(unsigned char c)
{
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
    return !alnum && !strchr(" /.-_=&%+,:", c);
}

static unsigned rarity(const lit_t *l)
{
    unsigned rare = 0;
    for (unsigned i = 0; i < l->len; i++)
        rare += rare_byte(l->b[i]);
    if (l->len >= 5)
        return 7;
    if (l->len >= 3)
        return rare ? 7 : 6;
    if (l->len == 2)
        return rare == 2 ? 7 : rare ? 5 : 4;
    unsigned char c = l->b[0];
    return rare ? 5 : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ? 0 : 1;
}

/* A requirement is as good as its commonest literal; among equals, fewer literals are fewer
 * checks per value, and then the longer shortest literal is the rarer. */
static unsigned score(const needs_t *n)
{
    if (!n->n)
        return 0;
    unsigned m = 7, shortest = LIT_MAX;
    for (unsigned i = 0; i < n->n; i++) {
        if (rarity(&n->lit[i]) < m)
            m = rarity(&n->lit[i]);
        if (n->lit[i].len < shortest)
            shortest = n->lit[i].len;
    }
    return (m * 32 + (NEEDS_MAX - n->n)) * 64 + shortest;
}

static void consider(needs_t *best, const needs_t *cand)
{
    if (score(cand) > score(best))
        *best = *cand;
}

/* Whether a occurs in b (both folded). */
static bool lit_within(const lit_t *a, const lit_t *b)
{
    for (unsigned i = 0; i + a->len <= b->len; i++)
        if (b->b[i] == a->b[0] && memcmp(b->b + i, a->b, a->len) == 0)
            return true;
    return false;
}

/* Adds l to the OR-set n. A literal that contains another one of the set is redundant (a
 * value holding it holds the other), so only the shorter is kept. When the set is full, every
 * literal is cut to a shorter prefix until they fit (a prefix of a required literal is
 * required): coarser, but still a filter. False when even single bytes do not fit. */
static bool needs_add(needs_t *n, const lit_t *l)
{
    lit_t cur = *l;
    for (;;) {
        unsigned k = 0;
        bool redundant = false;
        for (unsigned i = 0; i < n->n; i++) {
            if (lit_within(&n->lit[i], &cur)) {
                redundant = true;
                break;
            }
        }
        if (redundant)
            return true;
        for (unsigned i = 0; i < n->n; i++) /* the new literal makes longer ones redundant */
            if (!lit_within(&cur, &n->lit[i]) && k++ != i)
                n->lit[k - 1] = n->lit[i];
        n->n = k;
        if (n->n < NEEDS_MAX) {
            n->lit[n->n++] = cur;
            return true;
        }
        /* Full: cut everything to one byte shorter than the longest, and merge. */
        unsigned longest = cur.len;
        for (unsigned i = 0; i < n->n; i++)
            if (n->lit[i].len > longest)
                longest = n->lit[i].len;
        if (longest <= 1)
            return false;
        needs_t cut;
        cut.n = 0;
        for (unsigned i = 0; i < n->n; i++) {
            lit_t t = n->lit[i];
            if (t.len == longest)
                t.len--;
            if (!needs_add(&cut, &t))
                return false;
        }
        *n = cut;
        if (cur.len == longest)
            cur.len--;
    }
}

static void parse_alt(parser_t *x, needs_t *out, needs_t *lean, needs_t *texts);

/* A set of bytes (a character class, folded to lower case when it stands for needs). */
typedef struct byteset_t {
    uint64_t w[4];
} byteset_t;

static void set_add(byteset_t *s, unsigned c)
{
    s->w[c >> 6] |= 1ull << (c & 63);
}

static void set_range(byteset_t *s, unsigned lo, unsigned hi)
{
    for (unsigned c = lo; c <= hi; c++)
        set_add(s, c);
}

/* PCRE2's \d, \s, \w (and the POSIX classes) in 8-bit mode without UCP, with its built-in
 * character tables: ASCII only. \s is HT, LF, VT, FF, CR and space. */
static void set_type(byteset_t *s, char type)
{
    switch (type) {
    case 'd':
        set_range(s, '0', '9');
        break;
    case 's':
        set_range(s, 9, 13);
        set_add(s, ' ');
        break;
    case 'w':
        set_range(s, '0', '9');
        set_range(s, 'a', 'z');
        set_range(s, 'A', 'Z');
        set_add(s, '_');
        break;
    }
}

/* The POSIX class at p ("[:name:]", "[:^name:]") into s, as every byte where it is not
 * modelled exactly (*inexact set); the position after it, else NULL. */
static const char *posix_class(const char *p, byteset_t *s, bool *inexact)
{
    static const char *const names[] = { "alnum", "alpha", "ascii", "blank", "cntrl", "digit",
                                         "graph", "lower", "print", "punct", "space", "upper",
                                         "word", "xdigit" };
    if (p[1] != ':')
        return NULL;
    const char *n = p + 2;
    bool neg = *n == '^';
    if (neg)
        n++;
    const char *e = n;
    while (*e >= 'a' && *e <= 'z')
        e++;
    if (e[0] != ':' || e[1] != ']')
        return NULL;
    size_t len = (size_t)(e - n), k = 0;
    while (k < sizeof names / sizeof names[0] &&
           !(strlen(names[k]) == len && memcmp(names[k], n, len) == 0))
        k++;
    if (k == sizeof names / sizeof names[0])
        return NULL;
    byteset_t c = { { 0 } };
    if (strcmp(names[k], "digit") == 0) {
        set_type(&c, 'd');
    } else if (strcmp(names[k], "space") == 0) {
        set_type(&c, 's');
    } else if (strcmp(names[k], "blank") == 0) {
        set_add(&c, ' ');
        set_add(&c, '\t');
    } else {
        memset(&c, 0xff, sizeof c); /* the other names: not modelled, any byte */
        neg = false;
        *inexact = true;
    }
    for (int i = 0; i < 4; i++)
        s->w[i] |= neg ? ~c.w[i] : c.w[i];
    return e + 2;
}

/* One member of a class at p: a byte (returned, p advanced), or a type escape added to s
 * (returns -1; *inexact set when s got every byte instead of the type's own), or -2 when not
 * modelled. */
static int class_atom(const char **pp, byteset_t *s, bool *inexact)
{
    const char *p = *pp;
    if (p[0] != '\\') {
        *pp = p + 1;
        return (unsigned char)p[0];
    }
    unsigned char n = (unsigned char)p[1];
    static const char ctl[] = "t\tn\nr\rf\fe\033a\007";
    const char *k = n ? strchr("tnrfea", n) : NULL;
    if (k) {
        *pp = p + 2;
        return (unsigned char)ctl[2 * (k - "tnrfea") + 1];
    }
    if (n == 'x') {
        if (pp_hex_value((unsigned char)p[2]) < 0 || pp_hex_value((unsigned char)p[3]) < 0)
            return -2; /* \x{...}, a short \x */
        *pp = p + 4;
        return pp_hex_pair(p + 2);
    }
    if (n == 'd' || n == 's' || n == 'w') {
        set_type(s, (char)n);
        *pp = p + 2;
        return -1;
    }
    if (n && strchr("DSWhHvVN", n)) { /* negated types, \h, \v: any byte will do */
        memset(s, 0xff, sizeof *s);
        *inexact = true;
        *pp = p + 2;
        return -1;
    }
    bool alnum = (n >= '0' && n <= '9') || (n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z');
    if (!n || alnum) /* \Q..\E, \c, \b (backspace here), octal, \p{..}: not modelled */
        return -2;
    *pp = p + 2;
    return n;
}

/* [...] into s: the bytes it matches (a superset where not modelled exactly). False (with
 * x->fail) for what we cannot read; x->p is then after it. */
static bool parse_class(parser_t *x, byteset_t *s)
{
    const char *p = x->p + 1;
    byteset_t in = { { 0 } };
    bool inexact = false; /* some member was taken as every byte: its complement is unknown */
    bool neg = *p == '^';
    if (neg)
        p++;
    bool first = true;
    while (*p && (*p != ']' || first)) {
        first = false;
        if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            /* Only a well-formed POSIX name is read; whether anything else opens a POSIX
             * item or is a literal '[' depends on what follows, so the pattern is not
             * modelled (a fuzzer found "[[:x]...:]" read wrongly). */
            const char *e = posix_class(p, &in, &inexact);
            if (!e) {
                x->fail = true;
                return false;
            }
            p = e;
            if (*p == '-' && p[1] != ']') { /* a range from a class: not modelled */
                x->fail = true;
                return false;
            }
            continue;
        }
        int lo = class_atom(&p, &in, &inexact);
        if (lo == -2) {
            x->fail = true;
            return false;
        }
        if (*p == '-' && p[1] && p[1] != ']') {
            if (lo < 0) { /* "\d-z": an error or a literal '-' depending on the version */
                x->fail = true;
                return false;
            }
            p++;
            if (p[0] == '[') { /* "a-[:digit:]" and the like: not modelled */
                x->fail = true;
                return false;
            }
            int hi = class_atom(&p, &in, &inexact);
            if (hi < 0 || hi < lo) {
                x->fail = true;
                return false;
            }
            set_range(&in, (unsigned)lo, (unsigned)hi);
        } else if (lo >= 0) {
            set_add(&in, (unsigned)lo);
        }
    }
    if (*p != ']') {
        x->fail = true;
        return false;
    }
    x->p = p + 1;
    for (int i = 0; i < 4; i++)
        in.w[i] = !neg ? in.w[i] : inexact ? ~0ull : ~in.w[i];
    /* Folded as the comparison folds ASCII case: 'A'-'Z' (bits 1-26 of the second word)
     * become 'a'-'z' (bits 33-58). */
    const uint64_t upper = 0x3ffffffull << 1;
    *s = in;
    s->w[1] = (in.w[1] & ~upper) | (in.w[1] & upper) << 32;
    return true;
}

#define SET_LITS 8 /* a class of at most this many bytes (folded) is a set of one-byte needs */

/* A byte set as needs: the one-byte literals, or none when there are too many. */
static void set_needs(const byteset_t *s, needs_t *out)
{
    out->n = 0;
    unsigned count = 0;
    for (int i = 0; i < 4; i++)
        count += (unsigned)__builtin_popcountll(s->w[i]);
    if (count > SET_LITS)
        return;
    for (unsigned i = 0; i < 4; i++)
        for (uint64_t bits = s->w[i]; bits; bits &= bits - 1) {
            out->lit[out->n].len = 1;
            out->lit[out->n++].b[0] = (unsigned char)(i * 64 + (unsigned)__builtin_ctzll(bits));
        }
}

/* An escape outside a class: returns the literal byte, -1 for an atom that is not a fixed
 * byte (then *set holds what it can match when that is small, \s), or sets fail for anything
 * we do not model. */
static int parse_escape(parser_t *x, needs_t *set)
{
    const char *p = x->p;
    set->n = 0;
    if (p[1] == 'b' || p[1] == 'B') { /* word boundaries: zero-width, not the class byte */
        x->p = p + 2;
        return -1;
    }
    if (p[1] && strchr("ABzZG", p[1])) { /* anchors */
        x->p = p + 2;
        return -1;
    }
    if (p[1] == 'R') { /* a line break: one of LF, VT, FF, CR (with or without CR), NEL */
        byteset_t s = { { 0 } };
        set_range(&s, 10, 13);
        set_add(&s, 0x85);
        set_needs(&s, set);
        x->p = p + 2;
        return -1;
    }
    byteset_t s = { { 0 } };
    const char *q = p;
    bool inexact = false;
    int c = class_atom(&q, &s, &inexact);
    if (c == -2) {
        x->fail = true; /* back references, \Q, \p{..}, \K, \c, octal ... */
        return -1;
    }
    x->p = q;
    if (c == -1)
        set_needs(&s, set);
    return c;
}

/* Whether "{" at p starts what some PCRE2 version reads as a quantifier: a digit, a comma or
 * (10.43 on) a space may follow. Anything else makes it a literal '{' in every version. */
static bool brace_may_quantify(const char *p)
{
    return (p[1] >= '0' && p[1] <= '9') || p[1] == ',' || p[1] == ' ' || p[1] == '\t';
}

/* A quantifier after an atom: returns its minimum (1 when there is none), -1 on failure. */
static int parse_quantifier(parser_t *x, bool *quantified)
{
    const char *p = x->p;
    int qmin = 1;
    *quantified = true;
    if (*p == '*' || *p == '?') {
        qmin = 0;
        p++;
    } else if (*p == '+') {
        p++;
    } else if (*p == '{' && brace_may_quantify(p)) {
        const char *q = p + 1;
        if (*q < '0' || *q > '9')
            return -1; /* "{,n}" and "{ n}" differ between PCRE2 versions */
        long v = 0;
        for (; *q >= '0' && *q <= '9'; q++)
            if (v < 100000)
                v = v * 10 + (*q - '0');
        if (*q == ',') {
            q++;
            while (*q >= '0' && *q <= '9')
                q++;
        }
        if (*q != '}')
            return -1;
        qmin = v > 0;
        p = q + 1;
    } else {
        *quantified = false; /* a '{' that cannot quantify is the next atom, a literal */
        return 1;
    }
    if (*p == '?' || *p == '+') /* lazy, possessive */
        p++;
    x->p = p;
    return qmin;
}

/* The texts a piece of the pattern can match, folded: every match of the piece, folded, is one
 * of them (extra ones are harmless). Only pieces built of fixed bytes, small classes and groups
 * of such pieces without an empty branch have them; n == 0 when unknown. A literal followed by
 * a group multiplies out ("de(?:lete|sc)" is "delete" or "desc"), so a sequence's needs get
 * longer and rarer. Never cut or reduced like an OR-set: a text that is kept shorter would no
 * longer be the whole text of the piece, and what follows it would be claimed contiguous. */
typedef needs_t texts_t;

/* Adds l to t unless it is there already; false when t is full. */
static bool texts_add(texts_t *t, const lit_t *l)
{
    for (unsigned i = 0; i < t->n; i++)
        if (t->lit[i].len == l->len && memcmp(t->lit[i].b, l->b, l->len) == 0)
            return true;
    if (t->n == NEEDS_MAX)
        return false;
    t->lit[t->n++] = *l;
    return true;
}

/* out = every text of a followed by every text of b; false when that is more than NEEDS_MAX
 * texts or one longer than LIT_MAX bytes. */
static bool texts_product(texts_t *out, const texts_t *a, const texts_t *b)
{
    out->n = 0;
    for (unsigned i = 0; i < a->n; i++)
        for (unsigned j = 0; j < b->n; j++) {
            if (a->lit[i].len + b->lit[j].len > LIT_MAX)
                return false;
            lit_t l;
            memset(&l, 0, sizeof l); /* bytes past len are copied with the struct: keep them defined */
            l.len = (unsigned char)(a->lit[i].len + b->lit[j].len);
            memcpy(l.b, a->lit[i].b, a->lit[i].len);
            memcpy(l.b + a->lit[i].len, b->lit[j].b, b->lit[j].len);
            if (!texts_add(out, &l))
                return false;
        }
    return true;
}

/* t grows by b (t = t followed by b), unchanged when that does not fit (false). One text of b
 * is appended in place: the common case of a byte after a byte, at start-up for every rule. */
static bool texts_grow(texts_t *t, const texts_t *b)
{
    if (b->n == 1) {
        for (unsigned i = 0; i < t->n; i++)
            if (t->lit[i].len + b->lit[0].len > LIT_MAX)
                return false;
        for (unsigned i = 0; i < t->n; i++) {
            memcpy(t->lit[i].b + t->lit[i].len, b->lit[0].b, b->lit[0].len);
            t->lit[i].len = (unsigned char)(t->lit[i].len + b->lit[0].len);
        }
        return true;
    }
    texts_t grown;
    memset(&grown, 0, sizeof grown);
    if (!texts_product(&grown, t, b))
        return false;
    *t = grown;
    return true;
}

/* The run so far (texts of contiguous text the sequence must match) as a candidate
 * requirement: when none of its texts is empty, a match holds one of them. */
static void consider_run(needs_t *best, const texts_t *run)
{
    needs_t n;
    n.n = 0;
    for (unsigned i = 0; i < run->n; i++)
        if (run->lit[i].len == 0 || !needs_add(&n, &run->lit[i]))
            return;
    consider(best, &n);
}

static void flush_run(needs_t *best, texts_t *run)
{
    consider_run(best, run);
    run->n = 1; /* the empty text: nothing contiguous yet */
    run->lit[0].len = 0;
}

/* The lean derivation's run (runs of single bytes only, no texts joined) is a candidate for
 * both requirements. */
static void flush_lean(needs_t *best, needs_t *lean, texts_t *run)
{
    consider_run(best, run);
    flush_run(lean, run);
}

/* One branch: a sequence of atoms up to '|', ')' or the end. Its best requirement goes to
 * best, its texts (when every atom has texts and occurs exactly once) to whole. lean gets the
 * requirement derived without joining texts: joined texts are more literals, and where many
 * branches' literals are united they may overflow NEEDS_MAX and be cut to short prefixes, so
 * parse_alt keeps whichever union scores better. */
static void parse_seq(parser_t *x, needs_t *best, needs_t *lean, texts_t *whole)
{
    texts_t run = { 1, { { 0 } } }; /* the empty text: nothing contiguous yet */
    texts_t lrun = run;
    bool whole_ok = true;
    best->n = 0;
    lean->n = 0;
    while (!x->fail && *x->p && *x->p != '|' && *x->p != ')') {
        const char *p = x->p;
        int c = -1;
        bool group = false, look = false;
        needs_t inner, inner_lean;
        texts_t atom; /* the texts of this atom, when known */
        inner.n = 0;
        inner_lean.n = 0;
        atom.n = 0;
        switch (*p) {
        case '\\':
            c = parse_escape(x, &inner);
            group = inner.n > 0; /* \s, \R: one of a few bytes */
            if (group && p[1] != 'R') /* \R also matches CR LF: two bytes */
                atom = inner;
            break;
        case '[': {
            byteset_t s;
            if (!parse_class(x, &s))
                break;
            set_needs(&s, &inner);
            if (inner.n == 1) /* [sS], [.]: one byte, part of a run */
                c = inner.lit[0].b[0];
            else
                group = inner.n > 0;
            atom = inner;
            break;
        }
        case '(':
            if (p[1] == '*') {
                x->fail = true;
                break;
            }
            if (p[1] == '?' && p[2] == 'i' && p[3] == ')') {
                x->p = p + 4; /* caseless from here on: the folded comparison covers it */
                break;
            }
            if (p[1] == '?') {
                if (p[2] == 'i' && p[3] == ':') {
                    x->p = p + 4; /* (?i:...): a caseless group, likewise */
                } else if (p[2] == ':' || p[2] == '>') {
                    x->p = p + 3;
                } else if (p[2] == '=' || p[2] == '!') {
                    x->p = p + 3, look = true;
                } else if (p[2] == '<' && (p[3] == '=' || p[3] == '!')) {
                    x->p = p + 4, look = true;
                } else {
                    x->fail = true; /* options, named groups, comments, conditionals */
                    break;
                }
            } else {
                x->p = p + 1;
            }
            if (++x->depth > DEPTH_MAX) {
                x->fail = true;
                break;
            }
            parse_alt(x, &inner, &inner_lean, &atom);
            x->depth--;
            if (x->fail || *x->p != ')') {
                x->fail = true;
                break;
            }
            x->p++;
            group = true;
            if (look) { /* zero-width: its text is not consumed where the sequence is */
                inner.n = 0;
                inner_lean.n = 0;
                atom.n = 0;
            }
            break;
        case '.':
        case '^':
        case '$':
            x->p = p + 1;
            break;
        case '{':
            if (brace_may_quantify(p)) {
                x->fail = true; /* a quantifier without an atom: not modelled */
                break;
            }
            c = '{'; /* a literal in every PCRE2 version */
            x->p = p + 1;
            break;
        case '*':
        case '+':
        case '?':
            x->fail = true; /* quantifier without an atom: not modelled */
            break;
        default:
            c = (unsigned char)*p;
            x->p = p + 1;
            break;
        }
        if (x->fail)
            break;
        bool quantified;
        int qmin = parse_quantifier(x, &quantified);
        if (qmin < 0) {
            x->fail = true;
            break;
        }
        if (group && *p != '(')
            inner_lean = inner; /* a few bytes: the same in both derivations */
        if (c >= 0) {
            atom.n = 1;
            atom.lit[0].len = 1;
            atom.lit[0].b[0] = fold((unsigned char)c);
        }
        if (c >= 0 && qmin > 0) {
            if (!texts_grow(&lrun, &atom)) {
                flush_lean(best, lean, &lrun);
                lrun = atom;
            }
            if (quantified)
                flush_lean(best, lean, &lrun);
        } else {
            flush_lean(best, lean, &lrun);
            if (group && qmin > 0 && inner_lean.n) {
                consider(lean, &inner_lean);
                consider(best, &inner_lean);
            }
        }
        if (group && qmin > 0 && inner.n)
            consider(best, &inner);
        if (qmin > 0 && atom.n) {
            /* The atom's first occurrence follows the run: the run grows by it. Several
             * texts make more literals, which may not pay: the run as it is stays a
             * candidate. */
            if (atom.n > 1)
                consider_run(best, &run);
            if (!texts_grow(&run, &atom)) {
                flush_run(best, &run);
                run = atom;
                whole_ok = false;
            }
            if (quantified) { /* later occurrences: not contiguous with what follows */
                flush_run(best, &run);
                whole_ok = false;
            }
        } else {
            flush_run(best, &run);
            whole_ok = false;
        }
    }
    if (whole_ok)
        *whole = run;
    else
        whole->n = 0;
    flush_run(best, &run);
    flush_lean(best, lean, &lrun);
}

/* Branches separated by '|': required is one of the branches' requirements. The texts are
 * all the branches' texts, when every branch has them and none is empty (an empty branch
 * matches nothing that a following literal could be joined to). */
static void parse_alt(parser_t *x, needs_t *out, needs_t *lean, texts_t *texts)
{
    bool ok = true, lean_ok = true, texts_ok = true;
    out->n = 0;
    lean->n = 0;
    texts->n = 0;
    for (;;) {
        needs_t branch, branch_lean;
        texts_t bt;
        parse_seq(x, &branch, &branch_lean, &bt);
        if (x->fail)
            return;
        if (branch.n == 0)
            ok = false;
        for (unsigned i = 0; ok && i < branch.n; i++)
            ok = needs_add(out, &branch.lit[i]);
        if (branch_lean.n == 0)
            lean_ok = false;
        for (unsigned i = 0; lean_ok && i < branch_lean.n; i++)
            lean_ok = needs_add(lean, &branch_lean.lit[i]);
        if (bt.n == 0)
            texts_ok = false;
        for (unsigned i = 0; texts_ok && i < bt.n; i++)
            texts_ok = bt.lit[i].len > 0 && texts_add(texts, &bt.lit[i]);
        if (*x->p != '|')
            break;
        x->p++;
    }
    if (!ok)
        out->n = 0;
    if (!lean_ok)
        lean->n = 0;
    if (!texts_ok)
        texts->n = 0;
    consider(out, lean);
}

static const pp_rx_needs_t *needs_make(apr_pool_t *p, const lit_t *lits, unsigned n,
                                       const uint64_t *members)
{
    pp_rx_needs_t *out = apr_pcalloc(p, sizeof *out);
    uint64_t *mem = members ? apr_pmemdup(p, members, n * sizeof *members) : NULL;
    lit_key_t *key = apr_palloc(p, n * sizeof *key);
    lit_t *lit = apr_pmemdup(p, lits, n * sizeof *lit);
    for (unsigned i = 0; i < n; i++)
        key[i] = literal_key(&lit[i]);
    if (n >= INDEX_MIN) {
        /* Insertion sort by first 2-gram (NO_TEST sorts last), moving the bytes and members
         * along: start-up work on a few dozen entries. */
        for (unsigned i = 1; i < n; i++)
            for (unsigned j = i; j > 0 && key[j - 1].t0 > key[j].t0; j--) {
                lit_key_t tk = key[j];
                key[j] = key[j - 1], key[j - 1] = tk;
                lit_t tl = lit[j];
                lit[j] = lit[j - 1], lit[j - 1] = tl;
                if (mem) {
                    uint64_t tm = mem[j];
                    mem[j] = mem[j - 1], mem[j - 1] = tm;
                }
            }
        uint64_t *first = apr_pcalloc(p, SKETCH_WORDS * sizeof *first);
        unsigned ns = 0;
        while (ns < n && key[ns].t0 != NO_TEST) {
            first[key[ns].t0 >> 6] |= 1ull << (key[ns].t0 & 63);
            ns++;
        }
        out->first = first;
        out->nsketched = ns;
    } else {
        /* One-byte literals last, the others in their order. */
        for (unsigned i = 1; i < n; i++)
            for (unsigned j = i; j > 0 && key[j - 1].t0 == NO_TEST && key[j].t0 != NO_TEST; j--) {
                lit_key_t tk = key[j];
                key[j] = key[j - 1], key[j - 1] = tk;
                lit_t tl = lit[j];
                lit[j] = lit[j - 1], lit[j - 1] = tl;
                if (mem) {
                    uint64_t tm = mem[j];
                    mem[j] = mem[j - 1], mem[j - 1] = tm;
                }
            }
    }
    unsigned nm = 0;
    while (nm < n && key[nm].t0 != NO_TEST)
        nm++;
    for (unsigned i = nm; i < n; i++) { /* both cases: a sketch records bytes as they are */
        unsigned char c = lit[i].b[0], u = c >= 'a' && c <= 'z' ? c ^ 0x20 : c;
        out->onebyte[c >> 6] |= 1ull << (c & 63);
        out->onebyte[u >> 6] |= 1ull << (u & 63);
    }
    out->nmulti = nm;
    uint32_t *h = apr_palloc(p, 2 * n * sizeof *h);
    for (unsigned i = 0; i < n; i++)
        literal_hash4(&lit[i], h + 2 * i);
    out->n = n;
    out->key = key;
    out->lit = lit;
    out->members = mem;
    out->hash4 = h;
    return out;
}

const pp_rx_needs_t *pp_rx_needs_derive(apr_pool_t *p, const char *pattern)
{
    parser_t x = { pattern, false, 0 };
    needs_t top, lean, texts;
    parse_alt(&x, &top, &lean, &texts);
    if (x.fail || *x.p || top.n == 0)
        return NULL;
    return needs_make(p, top.lit, top.n, NULL);
}

const pp_rx_needs_t *pp_rx_needs_union(apr_pool_t *p, const pp_rx_needs_t *const *parts,
                                       unsigned nparts)
{
    unsigned total = 0;
    if (nparts > 64)
        return NULL;
    for (unsigned i = 0; i < nparts; i++) {
        if (!parts[i])
            return NULL;
        total += parts[i]->n;
    }
    lit_t *all = apr_palloc(p, (total ? total : 1) * sizeof *all);
    uint64_t *members = apr_pcalloc(p, (total ? total : 1) * sizeof *members);
    unsigned n = 0;
    for (unsigned i = 0; i < nparts; i++)
        for (unsigned j = 0; j < parts[i]->n; j++) {
            const lit_t *l = &parts[i]->lit[j];
            unsigned k = 0;
            while (k < n && !(all[k].len == l->len && memcmp(all[k].b, l->b, l->len) == 0))
                k++;
            if (k == n)
                all[n++] = *l;
            members[k] |= 1ull << i;
        }
    return n ? needs_make(p, all, n, members) : NULL;
}

char *pp_rx_needs_describe(apr_pool_t *p, const pp_rx_needs_t *n)
{
    char *out = "";
    for (unsigned i = 0; n && i < n->n; i++)
        out = apr_pstrcat(p, out, i ? "|" : "", apr_pstrmemdup(p, (const char *)n->lit[i].b,
                                                                n->lit[i].len), NULL);
    return out;
}

/* ---- Matching -------------------------------------------------------------------------- */

/* A value's sketch: one bit per 2-gram it contains, each byte reduced to its low 5 bits, which
 * folds ASCII case for free (and merges a few punctuation bytes with letters: more false passes,
 * never a false miss). A literal is tested with its first and last 2-grams, so a value lacking
 * it is nearly always ruled out by two bit tests; a pass is confirmed by a search.
 * A long value holds most of the 1,024 2-gram codes, so it also gets a map of its hashed
 * (case-folded) 4-grams, sized to it, and literals of 4 bytes or more are tested there too. */
#define LONG_VALUE 256u          /* from this length on a value also gets a 4-gram map */
#define LONG_MAP_MAX_SHIFT 16u   /* 4-gram map: at most 65,536 bits (8 KiB) */

struct pp_sketch_t {
    uint64_t w[SKETCH_WORDS];
    uint64_t bytes[4];           /* the bytes the value holds (as they are), for one-byte
                                    literals: recorded the first time one is asked about */
    bool bytes_done;
    uint64_t *long_map;          /* NULL for short values */
    unsigned long_shift;         /* 32 - log2(bits of long_map) */
};

static uint16_t gram2(unsigned char a, unsigned char b)
{
    return (uint16_t)((a & 0x1fu) << 5 | (b & 0x1fu));
}

/* The hash of a 4-gram packed big-endian into g. A literal's key and a value's long map must
 * hash alike, or a present literal would be ruled out: both come here. */
static uint32_t mix4(uint32_t g)
{
    return g * 0x9E3779B1u;
}

static uint32_t hash4(const unsigned char *b)
{
    return mix4((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
}

static lit_key_t literal_key(const lit_t *l)
{
    lit_key_t k = { NO_TEST, NO_TEST, l->len };
    if (l->len >= 2) {
        k.t0 = gram2(l->b[0], l->b[1]);
        k.t1 = gram2(l->b[l->len - 2], l->b[l->len - 1]);
    }
    return k;
}

static void literal_hash4(const lit_t *l, uint32_t *h)
{
    h[0] = l->len >= 4 ? hash4(l->b) : 0;
    h[1] = l->len >= 4 ? hash4(l->b + l->len - 4) : 0;
}

static void build_long_map(apr_pool_t *p, pp_sketch_t *sk, pp_str_t v)
{
    unsigned log2 = 12; /* about 8 bits per 4-gram keeps false passes near 12 % */
    while (log2 < LONG_MAP_MAX_SHIFT && ((apr_size_t)1 << log2) < v.len * 8)
        log2++;
    uint64_t *m = apr_pcalloc(p, ((apr_size_t)1 << log2) / 8);
    unsigned shift = 32 - log2;
    const unsigned char *s = (const unsigned char *)v.data;
    uint32_t g = 0;
    for (apr_size_t i = 0; i < v.len; i++) {
        g = g << 8 | fold(s[i]);
        if (i >= 3) {
            uint32_t h = mix4(g) >> shift;
            m[h >> 6] |= 1ull << (h & 63);
        }
    }
    sk->long_map = m;
    sk->long_shift = shift;
}

pp_sketch_t *pp_sketch_build(apr_pool_t *p, pp_str_t v)
{
    if (v.len < 2) /* holds no 2-gram: every literal longer than a byte is ruled out by length */
        return NULL;
    pp_sketch_t *sk = apr_pcalloc(p, sizeof *sk);
    uint64_t *w = sk->w;
    const unsigned char *s = (const unsigned char *)v.data;
    unsigned prev = s[0] & 0x1fu;
    for (apr_size_t i = 1; i < v.len; i++) {
        unsigned c = s[i] & 0x1fu, g = prev << 5 | c;
        w[g >> 6] |= 1ull << (g & 63);
        prev = c;
    }
    if (v.len >= LONG_VALUE)
        build_long_map(p, sk, v);
    return sk;
}

static inline unsigned sketch_bit(const pp_sketch_t *sk, unsigned t)
{
    return (unsigned)(sk->w[t >> 6] >> (t & 63)) & 1u;
}

static inline bool long_map_allows(const pp_sketch_t *sk, const uint32_t *h)
{
    uint32_t a = h[0] >> sk->long_shift, b = h[1] >> sk->long_shift;
    return (sk->long_map[a >> 6] >> (a & 63)) & (sk->long_map[b >> 6] >> (b & 63)) & 1;
}

/* The next position from s on (up to end, inclusive) holding c in either ASCII case. */
static const unsigned char *find_first(const unsigned char *s, const unsigned char *end,
                                       unsigned char c)
{
    bool letter = c >= 'a' && c <= 'z';
    if (!letter)
        return memchr(s, c, (apr_size_t)(end - s) + 1);
#ifdef __SSE2__
    __m128i lo = _mm_set1_epi8((char)c), up = _mm_set1_epi8((char)(c ^ 0x20));
    for (; s + 16 <= end + 1; s += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, lo), _mm_cmpeq_epi8(v, up)));
        if (mask)
            return s + __builtin_ctz(mask);
    }
#endif
    for (; s <= end; s++)
        if ((*s | 0x20) == c)
            return s;
    return NULL;
}

/* Case-folded search of the (folded) literal in the raw value. */
static bool contains(pp_str_t v, const lit_t *l)
{
    if (v.len < l->len)
        return false;
    const unsigned char *s = (const unsigned char *)v.data, *end = s + v.len - l->len;
    for (; s <= end; s++) {
        s = find_first(s, end, l->b[0]);
        if (!s)
            return false;
        unsigned i = 1;
        while (i < l->len && fold(s[i]) == l->b[i])
            i++;
        if (i == l->len)
            return true;
    }
    return false;
}

/* The bytes of v, recorded in its sketch on first use: a value whose needs are all longer
 * than a byte never pays for them. The sketch belongs to the value, in transaction memory
 * (rules/values.c), so filling it in here is caching, not sharing. */
static const uint64_t *sketch_bytes(const pp_sketch_t *csk, pp_str_t v)
{
    pp_sketch_t *sk = (pp_sketch_t *)csk;
    if (!sk->bytes_done) {
        const unsigned char *s = (const unsigned char *)v.data;
        for (apr_size_t i = 0; i < v.len; i++)
            sk->bytes[s[i] >> 6] |= 1ull << (s[i] & 63);
        sk->bytes_done = true;
    }
    return sk->bytes;
}

/* Whether the value holds the (folded) byte c in either case. */
static inline bool has_byte(const pp_sketch_t *sk, pp_str_t v, unsigned char c)
{
    const uint64_t *bytes = sketch_bytes(sk, v);
    unsigned char u = c >= 'a' && c <= 'z' ? c ^ 0x20 : c;
    return ((bytes[c >> 6] >> (c & 63)) | (bytes[u >> 6] >> (u & 63))) & 1;
}

static inline __attribute__((always_inline)) bool
literal_in(const pp_rx_needs_t *n, unsigned i, pp_str_t v, const pp_sketch_t *sk)
{
    const lit_key_t *k = &n->key[i];
    if (k->len > v.len)
        return false;
    if (sk && k->t0 == NO_TEST) /* one byte: the sketch knows exactly */
        return has_byte(sk, v, n->lit[i].b[0]);
    if (sk && !(sketch_bit(sk, k->t0) & sketch_bit(sk, k->t1)))
        return false;
    if (sk && sk->long_map && k->len >= 4 && !long_map_allows(sk, n->hash4 + 2 * i))
        return false;
    return contains(v, &n->lit[i]);
}

/* Whether the sketched value holds any byte of a needs' one-byte literals. */
static inline bool any_onebyte(const pp_rx_needs_t *n, pp_str_t v, const pp_sketch_t *sk)
{
    const uint64_t *b = sketch_bytes(sk, v);
    return ((b[0] & n->onebyte[0]) | (b[1] & n->onebyte[1]) | (b[2] & n->onebyte[2]) |
            (b[3] & n->onebyte[3])) != 0;
}

/* Whether v holds one of the bytes of set (which has both cases of its letters). */
static bool any_byte(const uint64_t *set, pp_str_t v)
{
    const unsigned char *s = (const unsigned char *)v.data;
    for (apr_size_t i = 0; i < v.len; i++)
        if ((set[s[i] >> 6] >> (s[i] & 63)) & 1)
            return true;
    return false;
}

bool pp_rx_needs_met(const pp_rx_needs_t *n, pp_str_t v, const pp_sketch_t *sk)
{
    for (unsigned i = 0; i < n->nmulti; i++)
        if (literal_in(n, i, v, sk))
            return true;
    if (n->nmulti == n->n)
        return false;
    if (sk)
        return any_onebyte(n, v, sk);
    if (n->nmulti + 1 == n->n) /* one byte: memchr */
        return contains(v, &n->lit[n->nmulti]);
    return any_byte(n->onebyte, v);
}

static inline __attribute__((always_inline)) uint64_t
check_literal(const pp_rx_needs_t *n, unsigned i, pp_str_t v, const pp_sketch_t *sk,
              uint64_t found)
{
    uint64_t m = n->members ? n->members[i] : 1;
    return (found & m) != m && literal_in(n, i, v, sk) ? found | m : found;
}

uint64_t pp_rx_needs_members(const pp_rx_needs_t *n, pp_str_t v, const pp_sketch_t *sk)
{
    uint64_t found = 0;
    unsigned i = 0;
    if (!sk || !n->first) {
        for (; i < n->nmulti; i++)
            found = check_literal(n, i, v, sk, found);
    } else {
        /* Only the literals whose first 2-gram the value holds; their keys are sorted by it,
         * and the 2-grams come in increasing order, so one forward pass finds them. */
        for (unsigned w = 0; w < SKETCH_WORDS && i < n->nsketched; w++) {
            for (uint64_t bits = sk->w[w] & n->first[w]; bits; bits &= bits - 1) {
                unsigned t0 = w * 64 + (unsigned)__builtin_ctzll(bits);
                while (i < n->nsketched && n->key[i].t0 < t0)
                    i++;
                for (; i < n->nsketched && n->key[i].t0 == t0; i++)
                    found = check_literal(n, i, v, sk, found);
            }
        }
    }
    /* The one-byte literals, when the value holds one of their bytes at all. */
    if (n->nmulti < n->n && (!sk || any_onebyte(n, v, sk)))
        for (i = n->nmulti; i < n->n; i++)
            found = check_literal(n, i, v, sk, found);
    return found;
}

unsigned pp_rx_needs_count(const pp_rx_needs_t *n)
{
    return n->n;
}

pp_str_t pp_rx_needs_literal(const pp_rx_needs_t *n, unsigned i)
{
    return (pp_str_t){ (const char *)n->lit[i].b, n->lit[i].len };
}
