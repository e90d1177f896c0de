/*
 * The rule index's shared automata (see index.c for the index itself): the automaton a
 * variable's index targets share, built at start-up, its scan of a transaction's values (once
 * per distinct array, for every member at once) and the per-value answer rows a gated starter
 * the index let through reads (pp_rule_index_value_bits).
 */
#include "rules/index_int.h"
#include "tx.h"

#include <apr_tables.h>
#include <stdlib.h>
#include <string.h>

/* ---- the automaton a variable's index targets share ------------------------------------
 * CRS tests ARGS through ~15 chains, each an index target with its own automaton, so a 2 KB
 * body's arguments were scanned ~15 times, while most chains leave a benign value as it is and
 * the value cache gives them all the same array (rules/values.c memoises steps per array). So
 * the index targets of one root target (a variable and selector without a chain) are a family
 * with one automaton over all their members' literals, whose outputs are (mask word, bits)
 * pairs over the family's words; per transaction, each distinct array of values a family member
 * is asked about is scanned once, for every member at once (a ring of the last FAMILY_RING
 * arrays), and each index target takes its own words. A value sets exactly the bits it sets in
 * each target's own automaton: the same literals, folded the same way, ending at the same
 * places. Built while it stays within FAMILY_MAX_STATES and FAMILY_MAX_BYTES; otherwise its
 * targets keep their own automata. CRS 3.3.4: 17 families (the largest 1,174 states over 75
 * byte classes, 190 KB) of 1.08 MB in all, instead of 131 automata of 0.75 MB; start-up +10
 * million instructions (+4.6 %); a 2 KB urlencoded POST's index passes 508,000 -> 155,000
 * instructions. Those sizes are of 16-bit cells; the cells are 32-bit now (see
 * pp_index_family_t.start), twice that memory. */
#define FAMILY_MAX_STATES 65535u
#define FAMILY_MAX_BYTES (8u * 1024u * 1024u) /* 32-bit cells: the 4 MB of 16-bit ones before */
#define FAMILY_RING 4u
#define FAMILY_MAX_ROWS 8192u /* words of per-value rows kept for one array (64 KB) */
#define FAMILY_EAGER_ROWS 8   /* values from which the first pass makes the rows too */

typedef struct family_out_t {
    uint64_t bits;
    unsigned word; /* from the family's first word */
} family_out_t;

typedef struct family_range_t {
    unsigned off, len; /* into pp_index_family_t.outs */
} family_range_t;

struct pp_index_family_t {
    uint8_t cls[256];
    unsigned k;              /* byte classes, 0 included */
    /* States are kept as their row's offset (state * k), so that a step is one load and an
     * add, without a multiplication: ~6 instructions a byte instead of 8 (CRS PL1 GET: ~4,000
     * bytes scanned a request). That takes 32-bit cells, twice the 16-bit table's memory. */
    unsigned start;          /* the start state's offset */
    unsigned first_out;      /* offsets from first_out * k on have outputs:
                                ranges[offset / k - first_out] */
    unsigned nseen;          /* words of a bit per output state */
    const uint32_t *next;    /* offset + class: the next state's offset */
    const family_range_t *ranges;
    const family_out_t *outs;
    unsigned id;             /* its ring's place in a transaction's state */
    unsigned word0, nwords;  /* its words in a transaction's masks */
};

typedef struct family_ring_t {
    unsigned next;                            /* the slot the next new array takes */
    uint64_t *seen;                           /* family_scan's, one bit per output state */
    const apr_array_header_t *vals[FAMILY_RING];
    uint64_t *acc[FAMILY_RING];               /* the family's words over that array */
    /* Per value, the family's words over that value alone (value i's row at i * nwords), so
     * that a gated rule the index let through tests only the values holding one of its
     * literals (pp_rule_index_value_bits); NULL past FAMILY_MAX_ROWS words. */
    uint64_t *rows[FAMILY_RING];
    apr_size_t rows_cap[FAMILY_RING];
    bool has_rows[FAMILY_RING];
} family_ring_t;

/* An output of a state being built. */
typedef struct family_own_t {
    family_out_t o;
    unsigned state;
} family_own_t;

/* Merges the sorted output lists a and b (by word, bits joined) at the end of outs. */
static family_range_t outs_merge(apr_array_header_t *outs, family_range_t a, family_range_t b)
{
    family_range_t r = { (unsigned)outs->nelts, 0 };
    unsigned i = 0, j = 0;
    while (i < a.len || j < b.len) {
        /* Read by index: pushing may move the array. */
        const family_out_t *x = i < a.len ? &APR_ARRAY_IDX(outs, (int)(a.off + i), family_out_t) : NULL;
        const family_out_t *y = j < b.len ? &APR_ARRAY_IDX(outs, (int)(b.off + j), family_out_t) : NULL;
        family_out_t o;
        if (x && (!y || x->word < y->word)) {
            o = *x;
            i++;
        } else if (y && (!x || y->word < x->word)) {
            o = *y;
            j++;
        } else {
            o = (family_out_t){ x->bits | y->bits, x->word };
            i++;
            j++;
        }
        APR_ARRAY_PUSH(outs, family_out_t) = o;
        r.len++;
    }
    return r;
}

static int by_word(const void *a, const void *b)
{
    unsigned x = ((const family_out_t *)a)->word, y = ((const family_out_t *)b)->word;
    return x < y ? -1 : x > y;
}

pp_index_family_t *pp_index_family_build(apr_pool_t *p, const family_member_t *mem,
                                         unsigned nmem, unsigned id, unsigned word0,
                                         unsigned nwords)
{
    uint8_t cls[256] = { 0 };
    unsigned k = 1, total = 1;
    for (unsigned m = 0; m < nmem; m++)
        for (unsigned i = 0; i < pp_rx_needs_count(mem[m].needs); i++) {
            pp_str_t l = pp_rx_needs_literal(mem[m].needs, i);
            if (!l.len)
                return NULL;
            total += (unsigned)l.len;
            k = pp_index_classes_add(cls, k, l);
        }
    unsigned cap = total < FAMILY_MAX_STATES ? total : FAMILY_MAX_STATES;
    apr_pool_t *tp;
    if (pp_pool_create_own(&tp, p) != APR_SUCCESS)
        return NULL;
    uint16_t *next = apr_pcalloc(tp, (apr_size_t)cap * k * sizeof *next);
    /* Each state's own outputs, then (breadth first) joined with its failure state's. */
    apr_array_header_t *own = apr_array_make(tp, 256, sizeof(family_own_t));
    unsigned n = 1;
    for (unsigned m = 0; m < nmem; m++)
        for (unsigned i = 0; i < pp_rx_needs_count(mem[m].needs); i++) {
            pp_str_t l = pp_rx_needs_literal(mem[m].needs, i);
            unsigned s = 0;
            for (apr_size_t j = 0; j < l.len; j++) {
                unsigned c = cls[fold_byte((unsigned char)l.data[j])];
                if (!next[s * k + c]) {
                    if (n == cap || (apr_size_t)(n + 1) * k * sizeof(uint32_t) > FAMILY_MAX_BYTES) {
                        apr_pool_destroy(tp);
                        return NULL;
                    }
                    next[s * k + c] = (uint16_t)n++;
                }
                s = next[s * k + c];
            }
            family_own_t *e = apr_array_push(own);
            e->o = (family_out_t){ mem[m].bit, mem[m].word };
            e->state = s;
        }
    /* Own outputs per state, sorted by word, bits of one word joined. */
    apr_array_header_t *outs = apr_array_make(tp, 1024, sizeof(family_out_t));
    family_range_t *range = apr_pcalloc(tp, n * sizeof *range);
    {
        unsigned *count = apr_pcalloc(tp, (n + 1) * sizeof *count);
        for (int i = 0; i < own->nelts; i++)
            count[APR_ARRAY_IDX(own, i, family_own_t).state + 1]++;
        for (unsigned s = 0; s < n; s++)
            count[s + 1] += count[s];
        family_out_t *sorted = apr_palloc(tp, (own->nelts + 1) * sizeof *sorted);
        unsigned *fill = apr_pmemdup(tp, count, (n + 1) * sizeof *count);
        for (int i = 0; i < own->nelts; i++) {
            const family_own_t *e = &APR_ARRAY_IDX(own, i, family_own_t);
            sorted[fill[e->state]++] = e->o;
        }
        for (unsigned s = 0; s < n; s++) {
            unsigned a = count[s], b = count[s + 1];
            if (a == b)
                continue;
            qsort(sorted + a, b - a, sizeof *sorted, by_word);
            range[s].off = (unsigned)outs->nelts;
            for (unsigned i = a; i < b; i++) {
                if (range[s].len && APR_ARRAY_IDX(outs, outs->nelts - 1, family_out_t).word ==
                                        sorted[i].word)
                    APR_ARRAY_IDX(outs, outs->nelts - 1, family_out_t).bits |= sorted[i].bits;
                else {
                    APR_ARRAY_PUSH(outs, family_out_t) = sorted[i];
                    range[s].len++;
                }
            }
        }
    }
    /* As ac_build: the automaton completed, then each state's outputs joined with its failure
     * state's, breadth first (complete by then: it is shallower). */
    uint16_t *queue, *fail;
    unsigned nq = pp_index_ac_complete(tp, next, k, n, &queue, &fail);
    for (unsigned i = 0; i < nq; i++) {
        unsigned s = queue[i];
        family_range_t f = range[fail[s]];
        if (f.len)
            range[s] = range[s].len ? outs_merge(outs, range[s], f) : f;
    }
    /* Renumbered so that the states with outputs come last: the scan tests one bound. */
    uint16_t *num = apr_palloc(tp, n * sizeof *num);
    unsigned first_out = 0;
    for (unsigned s = 0; s < n; s++)
        if (!range[s].len)
            num[s] = (uint16_t)first_out++;
    unsigned o = first_out;
    for (unsigned s = 0; s < n; s++)
        if (range[s].len)
            num[s] = (uint16_t)o++;
    pp_index_family_t *f = apr_pcalloc(p, sizeof *f);
    uint32_t *fnext = apr_palloc(p, (apr_size_t)n * k * sizeof *fnext);
    family_range_t *franges = apr_palloc(p, (n - first_out + 1) * sizeof *franges);
    for (unsigned s = 0; s < n; s++) {
        for (unsigned c = 0; c < k; c++)
            fnext[(apr_size_t)num[s] * k + c] = (uint32_t)num[next[s * k + c]] * k;
        if (range[s].len)
            franges[num[s] - first_out] = range[s];
    }
    memcpy(f->cls, cls, sizeof cls);
    f->k = k;
    f->start = (unsigned)num[0] * k;
    f->first_out = first_out;
    f->nseen = (n - first_out + 63) / 64;
    f->next = fnext;
    f->ranges = franges;
    f->outs = apr_pmemdup(p, outs->elts, (apr_size_t)(outs->nelts ? outs->nelts : 1) *
                                             sizeof(family_out_t));
    f->id = id;
    f->word0 = word0;
    f->nwords = nwords;
    apr_pool_destroy(tp);
    return f;
}

pp_index_family_t *pp_index_family_copy(apr_pool_t *p, const pp_index_family_t *f, unsigned id,
                                        unsigned word0)
{
    pp_index_family_t *c = apr_pmemdup(p, f, sizeof *c);
    c->id = id;
    c->word0 = word0;
    return c;
}

const void *pp_rule_index_family_table(const pp_index_family_t *f)
{
    return f->next;
}

/* acc (the family's words) |= the outputs of output state o, unless seen says they were taken
 * (acc only grows, so a state's outputs are taken once per array: benign text keeps ending
 * literals such as two-letter words). */
static inline void family_emit(const pp_index_family_t *f, unsigned o, uint64_t *acc,
                               uint64_t *seen)
{
    if (seen[o / 64] >> (o % 64) & 1)
        return;
    seen[o / 64] |= 1ull << (o % 64);
    const family_range_t r = f->ranges[o];
    for (unsigned i = 0; i < r.len; i++)
        acc[f->outs[r.off + i].word] |= f->outs[r.off + i].bits;
}

/* acc |= what v sets (four bytes a step: the loop's own test once per four). */
static void family_scan(const pp_index_family_t *f, pp_str_t v, uint64_t *acc, uint64_t *seen)
{
    const unsigned char *s = (const unsigned char *)v.data, *end = s + v.len;
    const uint32_t *next = f->next;
    const uint8_t *cls = f->cls;
    apr_size_t k = f->k, st = f->start, first = (apr_size_t)f->first_out * k;
#define FAMILY_STEP(b)                                                                           \
    do {                                                                                         \
        st = next[st + cls[b]];                                                                  \
        if (__builtin_expect(st >= first, 0))                                                    \
            family_emit(f, (unsigned)(st - first) / (unsigned)k, acc, seen);                      \
    } while (0)
    for (; end - s >= 4; s += 4) {
        FAMILY_STEP(s[0]);
        FAMILY_STEP(s[1]);
        FAMILY_STEP(s[2]);
        FAMILY_STEP(s[3]);
    }
    for (; s < end; s++)
        FAMILY_STEP(*s);
#undef FAMILY_STEP
}

/* The per-value rows of ring slot r (array vals), made at the first ask: one more scan of
 * the array, value by value, which pays for itself once rules that the index let through
 * would otherwise check their needs on each value (~370 instructions per value and rule; a
 * benign 2 KB body's 22 arguments let ~11 rules through). With FAMILY_EAGER_ROWS values or
 * more, the first pass makes them (one scan instead of two); with fewer, a rule asks first.
 * False past FAMILY_MAX_ROWS. */
static bool family_rows(pp_tx_t *tx, const pp_index_family_t *f, family_ring_t *ring, unsigned r)
{
    const apr_array_header_t *vals = ring->vals[r];
    apr_size_t nrows = (apr_size_t)vals->nelts * f->nwords;
    if (!nrows || nrows > FAMILY_MAX_ROWS)
        return false;
    if (ring->rows_cap[r] < nrows) {
        ring->rows[r] = apr_palloc(tx->pool, nrows * sizeof(uint64_t));
        ring->rows_cap[r] = nrows;
    }
    for (int v = 0; v < vals->nelts; v++) {
        uint64_t *row = ring->rows[r] + (apr_size_t)v * f->nwords;
        for (unsigned w = 0; w < f->nwords; w++)
            row[w] = 0;
        memset(ring->seen, 0, f->nseen * sizeof *ring->seen);
        family_scan(f, APR_ARRAY_IDX(vals, v, pp_value_t).value, row, ring->seen);
    }
    ring->has_rows[r] = true;
    return true;
}

/* The masks of index target it, a family member, over vals: from the family's pass over that
 * array, made now unless one of the last FAMILY_RING arrays was it. */
void pp_index_family_pass(pp_tx_t *tx, pp_index_state_t *st, const pp_index_target_t *it,
                          const apr_array_header_t *vals, uint64_t *masks)
{
    const pp_index_family_t *f = it->family;
    family_ring_t *ring = st->rings[f->id];
    if (!ring) {
        /* The ring, its accumulators and its seen bits in one block (CRS: 17 families a
         * request, six allocations each before). sizeof *ring is a multiple of its 8-byte
         * alignment, so the words after it are aligned. */
        apr_size_t nw = (apr_size_t)FAMILY_RING * f->nwords + f->nseen;
        ring = apr_palloc(tx->pool, sizeof *ring + nw * sizeof(uint64_t));
        memset(ring, 0, sizeof *ring);
        uint64_t *w = (uint64_t *)(ring + 1);
        for (unsigned r = 0; r < FAMILY_RING; r++)
            ring->acc[r] = w + (apr_size_t)r * f->nwords;
        ring->seen = w + (apr_size_t)FAMILY_RING * f->nwords;
        st->rings[f->id] = ring;
    }
    unsigned r = 0;
    while (r < FAMILY_RING && ring->vals[r] != vals)
        r++;
    if (r == FAMILY_RING) {
        r = ring->next;
        ring->next = (r + 1) % FAMILY_RING;
        uint64_t *acc = ring->acc[r];
        memset(acc, 0, f->nwords * sizeof *acc);
        ring->vals[r] = vals;
        ring->has_rows[r] = false;
        if (vals->nelts >= FAMILY_EAGER_ROWS && family_rows(tx, f, ring, r)) {
            /* Many values: the rows now, in the same pass (see family_rows). */
            const uint64_t *row = ring->rows[r];
            for (int v = 0; v < vals->nelts; v++, row += f->nwords)
                for (unsigned w = 0; w < f->nwords; w++)
                    acc[w] |= row[w];
        } else {
            memset(ring->seen, 0, f->nseen * sizeof *ring->seen);
            for (int v = 0; v < vals->nelts; v++)
                family_scan(f, APR_ARRAY_IDX(vals, v, pp_value_t).value, acc, ring->seen);
        }
    }
    memcpy(masks, ring->acc[r] + (it->word - f->word0), it->nchunks * sizeof *masks);
}

const uint64_t *pp_rule_index_value_bits(pp_tx_t *tx, const pp_rule_gate_t *g, unsigned ti,
                                         const apr_array_header_t *vals, apr_size_t *stride,
                                         uint64_t *bit)
{
    const pp_index_state_t *st = tx->index_state;
    if (!st || ti >= g->n)
        return NULL;
    const pp_gate_ref_t *ref = &g->refs[ti];
    const pp_index_target_t *it = &st->index->targets[ref->target];
    const pp_index_family_t *f = it->family;
    family_ring_t *ring = f ? st->rings[f->id] : NULL;
    if (!ring)
        return NULL;
    for (unsigned r = 0; r < FAMILY_RING; r++)
        if (ring->vals[r] == vals) {
            if (!ring->has_rows[r] && !family_rows(tx, f, ring, r))
                return NULL;
            *stride = f->nwords;
            *bit = 1ull << (ref->member % CHUNK);
            return ring->rows[r] + (it->word - f->word0) + ref->member / CHUNK;
        }
    return NULL;
}
