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
 * to shorter prefixes until it fits (a prefix of a required literal is required); a pattern
 * that is one alternation (or one group) of more branches than that keeps every branch's
 * requirement, cut only as far as a 128-node trie needs. A back reference is text (maybe
 * empty) we claim nothing about. Comparison folds ASCII case, which is a superset of both case-sensitive and PCRE2-caseless matching in
 * non-UTF mode, so the same prefilter serves rx and rx19.
 *
 * The code is in three files by purpose: rx_literals.c (this file) parses a pattern and derives
 * the OR-set, building OR-sets and scoring candidate requirements with the helpers of
 * rx_literals_orset.h (static inline: the parser calls them in its inner loop);
 * rx_literals_set.c compiles an OR-set into the pp_rx_needs_t that is checked, and joins several
 * rules' needs; rx_literals_match.c sketches values and checks needs against them at run time.
 * rx_literals_int.h is what they share.
 */
#include "util/rx_literals_orset.h"

#define DEPTH_MAX 32   /* group nesting we follow */

typedef struct parser_t {
    const char *p;
    bool fail;
    int depth;
    /* For wide alternations (pp_rx_needs_derive): every branch's requirement, uncut, of the
     * top-level alternation (slot 0) and of the group that opens at wide_at, the pattern's
     * start after a leading (?i) (slot 1; wide_end: the position after its ')'). */
    apr_array_header_t *wide[2]; /* lit_t */
    unsigned wide_branches[2];
    bool wide_ok[2];
    const char *wide_at, *wide_end;
    bool in_wide;
    /* The group that opens the wide group's body (after a (?i)), and the position after its
     * ')': when that is the wide group's own ')', the body is one group (derive). */
    const char *body_at, *body_end;
} parser_t;

/* ---- Derivation ------------------------------------------------------------------------ */

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

/* Whether the '[' before q (q: the ':', '.' or '=' after it) opens a POSIX item inside a
 * class, as PCRE2 decides it (pcre2_compile.c check_posix_syntax, the same in every 10.x):
 * at least three bytes from q on, and q's byte followed by ']' before any ']' or another '['
 * with q's byte (a backslash before ']' or '\\' skips that pair). Otherwise the '[' is a
 * literal byte of the class (CRS 942380: [\'" ?[=<>]). */
static bool posix_syntax(const char *q)
{
    if (strnlen(q, 3) < 3)
        return false;
    char t = *q++;
    for (; q[0] && q[1]; q++) {
        if (q[0] == '\\' && (q[1] == ']' || q[1] == '\\'))
            q++;
        else if ((q[0] == '[' && q[1] == t) || q[0] == ']')
            return false;
        else if (q[0] == t && q[1] == ']')
            return true;
    }
    return false;
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
        if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=') && posix_syntax(p + 1)) {
            /* Only a well-formed POSIX name is read; any other POSIX item ([:x], [.a.],
             * [=a=]) is not modelled (a fuzzer found "[[:x]...:]" read wrongly). */
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
    if (p[1] >= '1' && p[1] <= '9') {
        /* A back reference (or, past the number of groups, an octal byte): text we claim
         * nothing about, possibly empty. Every digit is taken with it, as PCRE2 reads a
         * reference's number; an octal escape that leaves a digit literal only loses it. */
        const char *q = p + 1;
        while (*q >= '0' && *q <= '9')
            q++;
        x->p = q;
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
            bool wide = p == x->wide_at && !look, body = p == x->body_at && !look;
            if (wide)
                x->body_at = x->p + (strncmp(x->p, "(?i)", 4) == 0 ? 4 : 0);
            x->in_wide = wide;
            parse_alt(x, &inner, &inner_lean, &atom);
            x->in_wide = false;
            x->depth--;
            if (x->fail || *x->p != ')') {
                x->fail = true;
                break;
            }
            x->p++;
            if (wide)
                x->wide_end = x->p;
            if (body)
                x->body_end = x->p;
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
            atom.lit[0].b[0] = rxl_fold((unsigned char)c);
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
    int slot = x->depth == 0 ? 0 : x->depth == 1 && x->in_wide ? 1 : -1;
    for (;;) {
        needs_t branch, branch_lean;
        texts_t bt;
        parse_seq(x, &branch, &branch_lean, &bt);
        if (x->fail)
            return;
        if (slot >= 0 && x->wide[slot] && x->wide_ok[slot]) {
            x->wide_ok[slot] = branch.n > 0;
            x->wide_branches[slot]++;
            for (unsigned i = 0; i < branch.n; i++)
                APR_ARRAY_PUSH(x->wide[slot], lit_t) = branch.lit[i];
        }
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

/* A pattern that is one alternation of more branches than an OR-set holds (CRS 944300: ~70
 * base64 fragments) is cut by parse_alt to prefixes of a byte or two. Each branch's own
 * requirement, kept by the parse (parser_t.wide), is in every match of that branch, so their
 * union is cut to prefixes only as far as a trie of WIDE_NODES nodes needs (as for @pm, the
 * rule index's tables grow with it)
 * (pp_rx_needs_of_texts, as a phrase list). The alternation is the whole pattern, or the
 * whole of one group ((...), (?:...), (?i:...)) after a leading (?i). */
#define WIDE_NODES 128

static const pp_rx_needs_t *wide_needs(apr_pool_t *p, apr_pool_t *tp, const parser_t *x)
{
    int slot = x->wide_branches[0] > 1 ? 0 : x->wide_end && !*x->wide_end ? 1 : -1;
    if (slot < 0 || !x->wide_ok[slot] || x->wide_branches[slot] < 2)
        return NULL;
    const apr_array_header_t *a = x->wide[slot];
    pp_str_t *s = apr_palloc(tp, (apr_size_t)a->nelts * sizeof *s);
    for (int i = 0; i < a->nelts; i++) {
        const lit_t *l = &APR_ARRAY_IDX(a, i, lit_t);
        s[i] = (pp_str_t){ (const char *)l->b, l->len };
    }
    return pp_rx_needs_of_texts(p, s, (unsigned)a->nelts, WIDE_NODES);
}

/* The shortest literal of n (0 for none). */
static unsigned shortest(const pp_rx_needs_t *n)
{
    unsigned m = 0;
    for (unsigned i = 0; n && i < pp_rx_needs_count(n); i++)
        if (!m || pp_rx_needs_literal(n, i).len < m)
            m = (unsigned)pp_rx_needs_literal(n, i).len;
    return m;
}

/* The needs of pattern (NULL for none), made in p; tp for scratch. When they are weak (none, or
 * literals of a byte or two) and the pattern is one group after an optional leading (?i)
 * ("(?i:(?:a|b|...))", CRS 942470), the group's body is derived as a pattern of its own: every
 * match of the pattern is a match of the body (back references aside, about which nothing is
 * claimed), so its wide alternation, one level further in, may give longer literals. */
static const pp_rx_needs_t *derive(apr_pool_t *p, apr_pool_t *tp, const char *pattern,
                                   int depth)
{
    parser_t x = { pattern, false, 0, { NULL, NULL }, { 0, 0 }, { true, true }, pattern, NULL,
                   false, NULL, NULL };
    if (strncmp(x.wide_at, "(?i)", 4) == 0)
        x.wide_at += 4;
    x.wide[0] = apr_array_make(tp, 16, sizeof(lit_t));
    x.wide[1] = apr_array_make(tp, 16, sizeof(lit_t));
    needs_t top, lean, texts;
    parse_alt(&x, &top, &lean, &texts);
    if (x.fail || *x.p)
        return NULL;
    const pp_rx_needs_t *n = NULL;
    if (top.n)
        n = rxl_needs_make(p, top.lit, top.n, NULL);
    if (n && shortest(n) >= 3)
        return n;
    /* Literals of a byte or two, or none: the wide alternation may do better. */
    const pp_rx_needs_t *w = wide_needs(tp, tp, &x);
    if (w && shortest(w) > shortest(n))
        n = wide_needs(p, tp, &x); /* made again where it is kept */
    /* The group at wide_at ends the pattern, and its body is one group (ending at its ')'):
     * that body, after its opener ("(", "(?:", "(?>", "(?i:"; never a lookaround, for which
     * neither end is set). Any other body would give the same needs again (its sequence is
     * the one just parsed, its alternation the wide one just tried): not worth the start-up
     * time of parsing it twice. */
    if ((n && shortest(n) >= 3) || !x.wide_end || *x.wide_end || !x.body_end ||
        x.body_end != x.wide_end - 1 || depth >= DEPTH_MAX)
        return n;
    const char *body = x.wide_at + (x.wide_at[1] != '?' ? 1 : x.wide_at[2] == 'i' ? 4 : 3);
    const char *inner = apr_pstrmemdup(tp, body, (apr_size_t)(x.wide_end - 1 - body));
    const pp_rx_needs_t *b = derive(tp, tp, inner, depth + 1);
    if (b && shortest(b) > shortest(n))
        n = derive(p, tp, inner, depth + 1);
    return n;
}

const pp_rx_needs_t *pp_rx_needs_derive(apr_pool_t *p, const char *pattern)
{
    apr_pool_t *tp;
    if (apr_pool_create(&tp, p) != APR_SUCCESS)
        return NULL;
    const pp_rx_needs_t *n = derive(p, tp, pattern, 0);
    apr_pool_destroy(tp);
    return n;
}
