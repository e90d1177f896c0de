/*
 * What the three files of the literal prefilter share (rx_literals.c: derivation from a
 * pattern; rx_literals_set.c: OR-sets and the compiled needs; rx_literals_match.c: sketches and
 * run-time checks). Private to util/rx_literals*.c.
 */
#ifndef PP_RX_LITERALS_INT_H
#define PP_RX_LITERALS_INT_H

#include "util/util.h"

#include <stdint.h>

#define LIT_MAX 32     /* bytes kept per literal: a prefix of a required literal is required */
#define NEEDS_MAX 16   /* literals in one OR-set; more alternatives are not worth checking */

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

static inline unsigned char rxl_fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

/* rx_literals_set.c */
const pp_rx_needs_t *rxl_needs_make(apr_pool_t *p, const lit_t *lits, unsigned n,
                                    const uint64_t *members);

/* rx_literals_match.c */
lit_key_t rxl_literal_key(const lit_t *l);
void rxl_literal_hash4(const lit_t *l, uint32_t *h);

#endif
