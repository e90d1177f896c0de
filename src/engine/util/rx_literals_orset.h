/*
 * The OR-sets and texts the derivation builds and scores (util/rx_literals.c): how rare a
 * literal is, which of two requirements is better, adding a literal to an OR-set, and the texts
 * of a piece of the pattern. Private to rx_literals.c, whose parser calls them in its inner loop:
 * they are static inline here so that they still inline there (as out-of-line calls from another
 * file, start-up with CRS took 37M instructions more).
 */
#ifndef PP_RX_LITERALS_ORSET_H
#define PP_RX_LITERALS_ORSET_H

#include "util/rx_literals_int.h"

#include <string.h>

/* How rare a literal is in benign values. A byte is rare when it is neither alphanumeric nor
 * one of the separators text and query strings are full of. Longer is rarer, and rare bytes
 * make a short literal rarer still: ");" or "${" beat a three-letter word, "function" beats
 * "new". A single common byte filters little, a single letter or digit less. */
static inline bool rare_byte(unsigned char c)
{
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
    return !alnum && !strchr(" /.-_=&%+,:", c);
}

static inline unsigned rarity(const lit_t *l)
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
static inline unsigned score(const needs_t *n)
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

static inline void consider(needs_t *best, const needs_t *cand)
{
    if (score(cand) > score(best))
        *best = *cand;
}

/* Whether a occurs in b (both folded). */
static inline bool lit_within(const lit_t *a, const lit_t *b)
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
static inline bool needs_add(needs_t *n, const lit_t *l)
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

/* The texts a piece of the pattern can match, folded: every match of the piece, folded, is one
 * of them (extra ones are harmless). Only pieces built of fixed bytes, small classes and groups
 * of such pieces without an empty branch have them; n == 0 when unknown. A literal followed by
 * a group multiplies out ("de(?:lete|sc)" is "delete" or "desc"), so a sequence's needs get
 * longer and rarer. Never cut or reduced like an OR-set: a text that is kept shorter would no
 * longer be the whole text of the piece, and what follows it would be claimed contiguous. */
typedef needs_t texts_t;

/* Adds l to t unless it is there already; false when t is full. */
static inline bool texts_add(texts_t *t, const lit_t *l)
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
static inline bool texts_product(texts_t *out, const texts_t *a, const texts_t *b)
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
static inline bool texts_grow(texts_t *t, const texts_t *b)
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
static inline void consider_run(needs_t *best, const texts_t *run)
{
    needs_t n;
    n.n = 0;
    for (unsigned i = 0; i < run->n; i++)
        if (run->lit[i].len == 0 || !needs_add(&n, &run->lit[i]))
            return;
    consider(best, &n);
}

static inline void flush_run(needs_t *best, texts_t *run)
{
    consider_run(best, run);
    run->n = 1; /* the empty text: nothing contiguous yet */
    run->lit[0].len = 0;
}

/* The lean derivation's run (runs of single bytes only, no texts joined) is a candidate for
 * both requirements. */
static inline void flush_lean(needs_t *best, needs_t *lean, texts_t *run)
{
    consider_run(best, run);
    flush_run(lean, run);
}

#endif
