/*
 * What the rule index's two files share (index.c: which starters are gated, the index's build,
 * the per-target automata and the gate; index_family.c: the automaton a variable's index
 * targets share, its scan and its per-value answer rows). Private to rules/index*.c.
 */
#ifndef PP_RULES_INDEX_INT_H
#define PP_RULES_INDEX_INT_H

#include "rules/eval_parts.h"

#include <stdint.h>

#define CHUNK 64u /* members per union: pp_rx_needs_members answers in a uint64_t */

/* Per transaction: for each index target, the values its masks were computed from (the cached
 * array: a new source generation gives a new array) and the masks. */
typedef struct pp_index_state_t {
    const pp_rule_index_t *index;
    const apr_array_header_t **vals;
    uint64_t *masks;
    struct family_ring_t **rings; /* per family, made at its first pass (NULL: none yet) */
    unsigned *walked; /* per target: the pp_rule_index_walk call that last read its values */
    unsigned walk;    /* that call's number */
} pp_index_state_t;

static inline unsigned char fold_byte(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* index.c: gives each byte of l (both cases of a letter together) a byte class of its own if
 * it has none yet; returns the next free class. Shared by the per-target and the family
 * automata (start-up; a call, not inlined: inlined, it made the family build's loops slower). */
unsigned pp_index_classes_add(uint8_t cls[256], unsigned k, pp_str_t l);

/* One member of a family being built: its literals end in (word, bit). */
typedef struct family_member_t {
    const pp_rx_needs_t *needs;
    unsigned word;
    uint64_t bit;
} family_member_t;

/* rules/index.c: a trie of n states over k classes completed into an automaton, breadth
 * first; the states in that order and their failure states (see the definition). */
unsigned pp_index_ac_complete(apr_pool_t *tp, uint16_t *next, unsigned k, unsigned n,
                              uint16_t **queue, uint16_t **fail);

/* index_family.c, start-up: family id over the mask words [word0, word0 + nwords) of its
 * members mem (their words counted from word0), or NULL when its automaton would pass the
 * family limits (its targets then keep their own automata). */
typedef struct pp_index_family_t pp_index_family_t;
pp_index_family_t *pp_index_family_build(apr_pool_t *p, const family_member_t *mem,
                                         unsigned nmem, unsigned id, unsigned word0,
                                         unsigned nwords);
/* index_family.c, start-up: family id over [word0, ...) with f's automaton (built from the
 * same members), its tables shared. */
pp_index_family_t *pp_index_family_copy(apr_pool_t *p, const pp_index_family_t *f, unsigned id,
                                        unsigned word0);
/* index_family.c, per request: the masks of index target it, a family member, over vals. */
void pp_index_family_pass(pp_tx_t *tx, pp_index_state_t *st, const pp_index_target_t *it,
                          const apr_array_header_t *vals, uint64_t *masks);

#endif
