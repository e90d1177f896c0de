/*
 * The rule index: a rule-level prefilter for 2.x rules over a whole phase (issue 15 §4). Each
 * 2.x rule used to walk every value of every target it tests and check its literal needs per
 * value; on a benign request nearly none holds one, so most of a CRS phase was spent finding
 * that out rule by rule. At start-up, for each phase of a plan and each interned target (a
 * variable, selector and transformation chain: rules/target.c), the needs of every gated rule
 * testing it are joined into one union per 64 rules (util/rx_literals.c); per request, one pass
 * over the target's values (per source generation: the values the rules would test, cached in
 * rules/values.c) says which of those rules a value may match: an Aho-Corasick automaton over
 * the chunk's literals, or, for a chunk too large for one, the union's check through each
 * value's sketch. A gated rule none of whose targets set its bit is skipped by the loop
 * (rules/eval.c) without its record being read. Measured (instructions per request): the
 * sketch pass cost ms2-100 76,400 and CRS PL1 GET 1,595,000; the automaton 66,200 and
 * 1,509,000. With @pm/@pmFromFile gated too (their phrases, or prefixes of them, as needs:
 * operators/pm.c), CRS gates 284 of its 641 chain starters (263 before the phrase lists), and
 * every index target still gets an automaton (19 families) within the limits below, which
 * count the trie's states (the literals' distinct prefixes), not the literals' bytes.
 *
 * The verdict must stay the one evaluating the rule gives (safety: a match sets the bit). A
 * starter qualifies when a non-match of it does nothing and depends only on its targets' values:
 *   - a 2.x chain starter (a chain fails when its starter fails), not SecAction or a marker;
 *   - its operator has literal needs, is not negated (a negated operator matches values lacking
 *     them) and is not a macro template (no needs: oparg.c);
 *   - every target is indexed, and none is of a volatile source (ENV, MATCHED_VARS, RULE: they
 *     can differ between the index pass and the rule's own read).
 * A multiMatch rule also tests each target's values before each transformation (rules/eval.c
 * chain_levels: the values of the target's prefix targets, down to the untransformed one), so
 * its gate has a reference for each of those too: every value it tests is a value of one of
 * them. Its references are then not one per target, and the loop does not ask the index for
 * its per-value answers (pp_rule_index_value_bits): the rule checks its needs value by value.
 * Exclusions and ctl:ruleRemoveTarget* only take values away: the pass over all of them is a
 * superset. A value whose operator run hits a resource limit fails closed, but only values that
 * hold a literal run the operator, and those set the bit. Flow actions (skip, skipAfter, setvar,
 * ctl) run only on a match, so skipping a rule that cannot match skips none of them.
 *
 * The automaton the index targets of one variable share (a family), its scan and its per-value
 * answer rows are in index_family.c; index_int.h is what the two files share.
 */
#include "rules/index_int.h"
#include "tx.h"

#include <apr_hash.h>
#include <ctype.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Whether starter r may be gated (see the top of this file). */
static bool gateable(const pp_rule_t *r)
{
    if (!r->lang2 || r->marker || r->always || r->chain_member ||
        !r->op.needs || r->op.negated || r->op.macro || r->ntargets == 0)
        return false;
    for (unsigned i = 0; i < r->ntargets; i++)
        if (!r->targets[i] || r->targets[i]->source == PP_SRC_VOLATILE)
            return false;
    return true;
}

/* ---- the multi-literal matcher --------------------------------------------------------- */

/* An Aho-Corasick automaton over the literals of one chunk (a DFA: every state has a next state
 * for every byte class), with each state's output the members one of whose literals ends there
 * or at one of its suffixes. Bytes compare ASCII-case-folded, as the per-value check does
 * (util/rx_literals.c), so "literal in value" is decided the same way: a value sets exactly
 * the members whose literal it contains. A byte that occurs in no literal is class 0, which
 * leads back to the start. Built only while it stays small (AC_MAX_STATES, AC_MAX_BYTES);
 * otherwise the chunk is checked through the value's sketch (pp_rx_needs_members). */
#define AC_MAX_STATES 8192u
#define AC_MAX_BYTES (256u * 1024u)

#define AC_MAX_START 4u /* start bytes searched for while the automaton is at its start */

struct pp_index_ac_t {
    uint8_t cls[256];
    unsigned k;          /* byte classes, 0 included */
    const uint16_t *next; /* state * k + class */
    const uint64_t *out; /* per state */
    /* The bytes that leave the start state (both cases of a letter), when there are at most
     * AC_MAX_START: from the start, every other byte leads back to it and adds no member, so
     * the pass jumps to the next of these bytes (a chunk of one or two rules such as "()"
     * over every request header). nstart 0: step through every byte. */
    unsigned nstart;
    unsigned char start[AC_MAX_START];
};

/* Byte classes: see index_int.h. */
unsigned pp_index_classes_add(uint8_t cls[256], unsigned k, pp_str_t l)
{
    for (apr_size_t j = 0; j < l.len; j++) {
        unsigned char c = fold_byte((unsigned char)l.data[j]);
        if (!cls[c]) {
            cls[c] = (uint8_t)k;
            if (c >= 'a' && c <= 'z')
                cls[c ^ 0x20] = (uint8_t)k;
            k++;
        }
    }
    return k;
}

/* Completes a trie of n states over k byte classes (next[s * k + c], 0: none) into an
 * automaton, breadth first: each state's failure state, and each missing transition taken from
 * the failure state's row (complete by then: it is shallower). *queue holds the states other
 * than the root in that order (the return value counts them), *fail their failure states, both
 * in tp: a caller joins each state's outputs with its failure state's in queue order. Shared by
 * ac_build (per-target automata) and the family build (rules/index_family.c). */
unsigned pp_index_ac_complete(apr_pool_t *tp, uint16_t *next, unsigned k, unsigned n,
                              uint16_t **queue_out, uint16_t **fail_out)
{
    uint16_t *queue = apr_palloc(tp, n * sizeof *queue), *fail = apr_pcalloc(tp, n * sizeof *fail);
    unsigned head = 0, tail = 0;
    for (unsigned c = 0; c < k; c++)
        if (next[c])
            queue[tail++] = next[c]; /* fail = 0 */
    while (head < tail) {
        unsigned s = queue[head++];
        for (unsigned c = 0; c < k; c++) {
            unsigned t = next[s * k + c];
            if (t) {
                fail[t] = next[fail[s] * k + c];
                queue[tail++] = (uint16_t)t;
            } else {
                next[s * k + c] = next[fail[s] * k + c];
            }
        }
    }
    *queue_out = queue;
    *fail_out = fail;
    return tail;
}

static const pp_index_ac_t *ac_build(apr_pool_t *p, const pp_rx_needs_t *const *parts,
                                     unsigned nparts)
{
    uint8_t cls[256] = { 0 };
    unsigned k = 1, total = 1;
    for (unsigned m = 0; m < nparts; m++)
        for (unsigned i = 0; i < pp_rx_needs_count(parts[m]); i++) {
            pp_str_t l = pp_rx_needs_literal(parts[m], i);
            total += (unsigned)l.len;
            k = pp_index_classes_add(cls, k, l);
        }
    /* The trie is built in a scratch pool at its largest size within the limits (every
     * literal byte a state, at most AC_MAX_STATES): literals that share prefixes (a phrase
     * list's) make fewer states than bytes. It is kept at its real size. */
    unsigned cap = total < AC_MAX_STATES ? total : AC_MAX_STATES;
    if ((apr_size_t)k * sizeof(uint16_t) > AC_MAX_BYTES)
        return NULL;
    apr_pool_t *tp;
    if (pp_pool_create_own(&tp, p) != APR_SUCCESS)
        return NULL;
    uint16_t *next = apr_pcalloc(tp, (apr_size_t)cap * k * sizeof *next);
    uint64_t *out = apr_pcalloc(tp, cap * sizeof *out);
    unsigned n = 1;
    for (unsigned m = 0; m < nparts; m++)
        for (unsigned i = 0; i < pp_rx_needs_count(parts[m]); i++) {
            pp_str_t l = pp_rx_needs_literal(parts[m], i);
            unsigned s = 0;
            for (apr_size_t j = 0; j < l.len; j++) {
                unsigned c = cls[fold_byte((unsigned char)l.data[j])];
                if (!next[s * k + c]) {
                    if (n == cap || (apr_size_t)(n + 1) * k * sizeof *next > AC_MAX_BYTES) {
                        apr_pool_destroy(tp); /* over the limits: the sketch check instead */
                        return NULL;
                    }
                    next[s * k + c] = (uint16_t)n++;
                }
                s = next[s * k + c];
            }
            out[s] |= 1ull << m;
        }
    /* Each state's outputs joined with its failure state's, breadth first (complete by then). */
    uint16_t *queue, *fail;
    unsigned nq = pp_index_ac_complete(tp, next, k, n, &queue, &fail);
    for (unsigned i = 0; i < nq; i++)
        out[queue[i]] |= out[fail[queue[i]]];
    pp_index_ac_t *ac = apr_palloc(p, sizeof *ac);
    memcpy(ac->cls, cls, sizeof cls);
    ac->k = k;
    ac->nstart = 0;
    for (unsigned b = 0; b < 256; b++)
        if (next[cls[b]]) {
            /* A letter or digit starts something in most values: stepping is cheaper then. */
            if (ac->nstart == AC_MAX_START || (b < 128 && isalnum((int)b))) {
                ac->nstart = 0;
                break;
            }
            ac->start[ac->nstart++] = (unsigned char)b;
        }
    ac->next = apr_pmemdup(p, next, (apr_size_t)n * k * sizeof *next);
    ac->out = apr_pmemdup(p, out, n * sizeof *out);
    apr_pool_destroy(tp);
    return ac;
}

#ifdef __SSE2__
/* ac_members for a value of a block or more over an automaton with few start bytes: while the
 * automaton is at its start, 16-byte blocks without one of them are skipped whole; the last
 * bytes are stepped through. */
static __attribute__((noinline)) uint64_t ac_members_skip(const pp_index_ac_t *ac, pp_str_t v,
                                                          uint64_t all)
{
    const unsigned char *s = (const unsigned char *)v.data, *end = s + v.len;
    const unsigned char *sb = ac->start;
    const uint16_t *next = ac->next;
    unsigned k = ac->k, st = 0, n = ac->nstart;
    uint64_t m = 0;
    __m128i b0 = _mm_set1_epi8((char)sb[0]), b1 = _mm_set1_epi8((char)sb[n > 1 ? 1 : 0]),
            b2 = _mm_set1_epi8((char)sb[n > 2 ? 2 : 0]), b3 = _mm_set1_epi8((char)sb[n > 3 ? 3 : 0]);
    while (end - s >= 16) {
        if (st == 0) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
            __m128i eq = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, b0), _mm_cmpeq_epi8(x, b1)),
                                      _mm_or_si128(_mm_cmpeq_epi8(x, b2), _mm_cmpeq_epi8(x, b3)));
            unsigned mask = (unsigned)_mm_movemask_epi8(eq);
            if (!mask) {
                s += 16; /* no byte here leaves the start: nothing to find in the block */
                continue;
            }
            s += __builtin_ctz(mask);
        }
        do { /* from a start byte until the automaton is back at its start */
            st = next[st * k + ac->cls[*s++]];
            m |= ac->out[st];
            if (m == all)
                return m;
        } while (st != 0 && s < end);
    }
    for (; s < end; s++) {
        st = next[st * k + ac->cls[*s]];
        m |= ac->out[st];
        if (m == all)
            break;
    }
    return m;
}
#endif

/* The members whose literal v contains; stops once all (every member) are found. */
static inline __attribute__((always_inline)) uint64_t ac_members(const pp_index_ac_t *ac,
                                                                  pp_str_t v, uint64_t all)
{
    const unsigned char *s = (const unsigned char *)v.data, *end = s + v.len;
    const uint16_t *next = ac->next;
    unsigned k = ac->k, st = 0;
    uint64_t m = 0;
#ifdef __SSE2__
    if (ac->nstart && v.len >= 16)
        return ac_members_skip(ac, v, all);
#endif
    for (; s < end; s++) {
        st = next[st * k + ac->cls[*s]];
        m |= ac->out[st];
        if (m == all)
            break;
    }
    return m;
}

/* A family already built: the members it was built from, and its automaton. */
typedef struct built_family_t {
    const family_member_t *mem;
    unsigned nmem, nwords;
    const pp_index_family_t *f;
} built_family_t;

/* A family built from the same members (the same rules' needs, ending in the same words and
 * bits from the family's first word) as this one, or NULL. Its automaton is this one's:
 * pp_index_family_build makes its tables from nothing else. CRS tests ARGS_NAMES and
 * REQUEST_COOKIES_NAMES, among others, with the same rules through the same chains: at PL1
 * two of its families are the same (250 KB of transitions). */
static const pp_index_family_t *family_same(const apr_array_header_t *built,
                                            const family_member_t *mem, unsigned nmem,
                                            unsigned nwords)
{
    for (int i = 0; i < built->nelts; i++) {
        const built_family_t *b = &APR_ARRAY_IDX(built, i, built_family_t);
        if (b->nmem != nmem || b->nwords != nwords)
            continue;
        unsigned m = 0;
        while (m < nmem && b->mem[m].needs == mem[m].needs && b->mem[m].word == mem[m].word &&
               b->mem[m].bit == mem[m].bit)
            m++;
        if (m == nmem)
            return b->f;
    }
    return NULL;
}

typedef struct build_target_t {
    const pp_target_t *target;
    apr_array_header_t *needs; /* const pp_rx_needs_t *, one per member */
} build_target_t;

void pp_rule_index_build(apr_pool_t *p, pp_rule_plan_t *plan)
{
    const apr_array_header_t *rules = plan->rules;
    /* What only the build needs (the index targets' member lists, the look-up tables, the
     * families' members) is in a scratch pool; the index keeps nothing of it. */
    apr_pool_t *tp;
    if (pp_pool_create_own(&tp, p) != APR_SUCCESS)
        return; /* no index: every rule runs its operator */
    apr_array_header_t *targets = apr_array_make(tp, 16, sizeof(build_target_t));
    unsigned ngated = 0;
    for (int ph = 0; ph < PP_PLAN_PHASES; ph++) {
        /* Index targets are per phase: a member number means one rule of this phase. */
        apr_hash_t *by_target = apr_hash_make(tp);
        pp_plan_step_t *steps = (pp_plan_step_t *)plan->steps[ph];
        for (int s = 0; s < plan->nsteps[ph]; s++) {
            const pp_rule_t *r = APR_ARRAY_IDX(rules, steps[s].first, const pp_rule_t *);
            if (steps[s].group || !gateable(r))
                continue;
            /* One reference per target, and for multiMatch one per level of its chain. */
            unsigned nrefs = 0;
            for (unsigned i = 0; i < r->ntargets; i++)
                for (const pp_target_t *x = r->targets[i]; x;
                     x = r->multi_match ? x->prefix : NULL)
                    nrefs++;
            pp_gate_ref_t *refs = apr_palloc(p, nrefs * sizeof *refs);
            unsigned nr = 0;
            for (unsigned i = 0; i < r->ntargets; i++)
                for (const pp_target_t *t = r->targets[i]; t;
                     t = r->multi_match ? t->prefix : NULL) {
                    uintptr_t *at = apr_hash_get(by_target, &t, sizeof t);
                    if (!at) {
                        build_target_t *bt = apr_array_push(targets);
                        bt->target = t;
                        bt->needs = apr_array_make(tp, 8, sizeof(const pp_rx_needs_t *));
                        at = apr_palloc(tp, sizeof *at);
                        *at = (uintptr_t)(targets->nelts - 1);
                        const pp_target_t **key = apr_pmemdup(tp, &t, sizeof t);
                        apr_hash_set(by_target, key, sizeof t, at);
                    }
                    build_target_t *bt = &APR_ARRAY_IDX(targets, (int)*at, build_target_t);
                    refs[nr++] = (pp_gate_ref_t){ (unsigned)*at, (unsigned)bt->needs->nelts, 0 };
                    APR_ARRAY_PUSH(bt->needs, const pp_rx_needs_t *) = r->op.needs;
                }
            pp_rule_gate_t *g = apr_palloc(p, sizeof *g);
            *g = (pp_rule_gate_t){ r->ordinal, nrefs, refs };
            steps[s].gate = g;
            ngated++;
        }
    }
    if (!ngated) {
        apr_pool_destroy(tp);
        return;
    }
    pp_rule_index_t *ix = apr_pcalloc(p, sizeof *ix);
    int nt = targets->nelts;
    pp_index_target_t *it = apr_pcalloc(p, (apr_size_t)nt * sizeof *it);
    /* Families: index targets grouped by their root target, their mask words consecutive. */
    apr_hash_t *by_root = apr_hash_make(tp);
    apr_array_header_t *families = apr_array_make(tp, 16, sizeof(apr_array_header_t *));
    for (int i = 0; i < nt; i++) {
        const pp_target_t *root = APR_ARRAY_IDX(targets, i, build_target_t).target;
        while (root->prefix)
            root = root->prefix;
        apr_array_header_t *fam = apr_hash_get(by_root, &root, sizeof root);
        if (!fam) {
            fam = apr_array_make(tp, 4, sizeof(int));
            apr_hash_set(by_root, apr_pmemdup(tp, &root, sizeof root), sizeof root, fam);
            APR_ARRAY_PUSH(families, apr_array_header_t *) = fam;
        }
        APR_ARRAY_PUSH(fam, int) = i;
    }
    /* The families built so far, with their members. */
    apr_array_header_t *built = apr_array_make(tp, 16, sizeof(built_family_t));
    for (int fi = 0; fi < families->nelts; fi++) {
        const apr_array_header_t *fam = APR_ARRAY_IDX(families, fi, apr_array_header_t *);
        unsigned word0 = ix->nwords, nmem = 0;
        for (int j = 0; j < fam->nelts; j++) {
            int i = APR_ARRAY_IDX(fam, j, int);
            const build_target_t *bt = &APR_ARRAY_IDX(targets, i, build_target_t);
            unsigned n = (unsigned)bt->needs->nelts, nchunks = (n + CHUNK - 1) / CHUNK;
            it[i] = (pp_index_target_t){ bt->target, NULL, NULL, nchunks, n, ix->nwords, NULL };
            ix->nwords += nchunks;
            nmem += n;
        }
        pp_index_family_t *f = NULL;
        if (fam->nelts > 1) {
            family_member_t *mem = apr_palloc(tp, nmem * sizeof *mem);
            unsigned m = 0;
            for (int j = 0; j < fam->nelts; j++) {
                int i = APR_ARRAY_IDX(fam, j, int);
                const apr_array_header_t *needs = APR_ARRAY_IDX(targets, i, build_target_t).needs;
                for (int x = 0; x < needs->nelts; x++)
                    mem[m++] = (family_member_t){ APR_ARRAY_IDX(needs, x, const pp_rx_needs_t *),
                                                  it[i].word - word0 + (unsigned)x / CHUNK,
                                                  1ull << ((unsigned)x % CHUNK) };
            }
            const pp_index_family_t *same = family_same(built, mem, nmem, ix->nwords - word0);
            if (same) {
                f = pp_index_family_copy(p, same, ix->nfamilies, word0);
            } else {
                f = pp_index_family_build(p, mem, nmem, ix->nfamilies, word0, ix->nwords - word0);
                if (f)
                    APR_ARRAY_PUSH(built, built_family_t) =
                        (built_family_t){ mem, nmem, ix->nwords - word0, f };
            }
        }
        if (f) {
            ix->nfamilies++;
            for (int j = 0; j < fam->nelts; j++)
                it[APR_ARRAY_IDX(fam, j, int)].family = f;
            continue;
        }
        for (int j = 0; j < fam->nelts; j++) {
            int i = APR_ARRAY_IDX(fam, j, int);
            const build_target_t *bt = &APR_ARRAY_IDX(targets, i, build_target_t);
            unsigned n = it[i].nmembers, nchunks = it[i].nchunks;
            const pp_rx_needs_t **chunks = apr_palloc(p, nchunks * sizeof *chunks);
            const pp_index_ac_t **acs = apr_palloc(p, nchunks * sizeof *acs);
            const pp_rx_needs_t *const *parts = (const pp_rx_needs_t *const *)bt->needs->elts;
            for (unsigned k = 0; k < nchunks; k++) {
                unsigned m = n - k * CHUNK < CHUNK ? n - k * CHUNK : CHUNK;
                acs[k] = ac_build(p, parts + k * CHUNK, m);
                chunks[k] = acs[k] ? NULL : pp_rx_needs_union(p, parts + k * CHUNK, m);
            }
            it[i].chunks = chunks;
            it[i].acs = acs;
        }
    }
    /* The refs' mask words, now placed, and the steps as the walk reads them. */
    for (int ph = 0; ph < PP_PLAN_PHASES; ph++) {
        pp_walk_ent_t *we = apr_palloc(p, (plan->nsteps[ph] ? plan->nsteps[ph] : 1) * sizeof *we);
        for (int s = 0; s < plan->nsteps[ph]; s++) {
            const pp_rule_gate_t *g = plan->steps[ph][s].gate;
            for (unsigned i = 0; g && i < g->n; i++) {
                pp_gate_ref_t *ref = (pp_gate_ref_t *)&g->refs[i]; /* made above */
                ref->word = it[ref->target].word + ref->member / CHUNK;
            }
            we[s] = !g         ? (pp_walk_ent_t){ PP_WALK_STOP, 0, 1 }
                    : g->n > 1 ? (pp_walk_ent_t){ PP_WALK_REFS, 0, 1 }
                               : (pp_walk_ent_t){ g->refs[0].target,
                                                  g->refs[0].word * CHUNK + g->refs[0].member % CHUNK,
                                                  1 };
        }
        /* Runs: rules of one target written one after the other (ms2-100: 100 steps, 24 runs)
         * have consecutive members, so consecutive bits, until a mask word ends. */
        for (int s = plan->nsteps[ph] - 2; s >= 0; s--)
            if (we[s].target < PP_WALK_REFS && we[s + 1].target == we[s].target &&
                we[s + 1].bit == we[s].bit + 1 && we[s + 1].bit % CHUNK != 0)
                we[s].run = we[s + 1].run + 1;
        ix->walk[ph] = we;
    }
    apr_pool_destroy(tp);
    ix->targets = it;
    ix->ntargets = (unsigned)nt;
    ix->ngated = ngated;
    plan->index = ix;
}

/* The masks of index target it over vals: bit m of chunk k set when a value holds a literal
 * of member 64k+m. Out of line: inlined, its registers made target_masks save six on each of
 * its ~230 calls a request, most of which find the masks made. */
static __attribute__((noinline)) void target_pass(pp_tx_t *tx, const pp_index_target_t *it,
                                                  const apr_array_header_t *vals, uint64_t *masks)
{
    for (unsigned k = 0; k < it->nchunks; k++) {
        const pp_rx_needs_t *u = it->chunks[k];
        unsigned n = it->nmembers - k * CHUNK;
        uint64_t m = 0, all = n >= CHUNK ? ~0ull : (1ull << n) - 1;
        const pp_index_ac_t *ac = it->acs[k];
        if (ac) {
            for (int v = 0; v < vals->nelts && m != all; v++)
                m |= ac_members(ac, APR_ARRAY_IDX(vals, v, pp_value_t).value, all);
            masks[k] = m;
            continue;
        }
        if (!u) { /* no union (cannot happen for parts that all have needs): every member may */
            masks[k] = ~0ull;
            continue;
        }
        for (int v = 0; v < vals->nelts && m != all; v++) {
            const pp_value_t *val = &APR_ARRAY_IDX(vals, v, pp_value_t);
            m |= pp_rx_needs_members(u, val->value, pp_eval_value_sketch(tx, u, val));
        }
        masks[k] = m;
    }
}

static pp_index_state_t *state_for(pp_tx_t *tx, const pp_rule_index_t *ix)
{
    pp_index_state_t *st = tx->index_state;
    if (st && st->index == ix)
        return st;
    st = apr_palloc(tx->pool, sizeof *st);
    st->index = ix;
    st->vals = apr_pcalloc(tx->pool, ix->ntargets * sizeof *st->vals);
    st->masks = apr_palloc(tx->pool, (ix->nwords ? ix->nwords : 1) * sizeof *st->masks);
    st->rings = ix->nfamilies ? apr_pcalloc(tx->pool, ix->nfamilies * sizeof *st->rings) : NULL;
    st->walked = apr_pcalloc(tx->pool, ix->ntargets * sizeof *st->walked);
    st->walk = 0;
    tx->index_state = st;
    return st;
}

/* The masks of index target ti over its current values (made now when they changed); NULL when
 * the collector failed. */
static const uint64_t *target_masks(pp_tx_t *tx, pp_index_state_t *st, unsigned ti,
                                    pp_phase_t phase)
{
    const pp_index_target_t *it = &st->index->targets[ti];
    const apr_array_header_t *vals = pp_eval_target_values(tx, it->target, phase);
    if (!vals)
        return NULL;
    uint64_t *masks = st->masks + it->word;
    if (st->vals[ti] != vals) {
        if (it->family)
            pp_index_family_pass(tx, st, it, vals, masks);
        else
            target_pass(tx, it, vals, masks);
        st->vals[ti] = vals;
    }
    return masks;
}

pp_gate_t pp_rule_index_gate(pp_tx_t *tx, const pp_rule_index_t *ix, const pp_rule_gate_t *g,
                             pp_phase_t phase)
{
    pp_index_state_t *st = state_for(tx, ix);
    for (unsigned i = 0; i < g->n; i++) {
        const pp_gate_ref_t *ref = &g->refs[i];
        const uint64_t *masks = target_masks(tx, st, ref->target, phase);
        if (!masks)
            return PP_GATE_FAILED;
        if (masks[ref->member / CHUNK] >> (ref->member % CHUNK) & 1)
            return PP_GATE_OPEN;
    }
    return PP_GATE_CLOSED;
}

/* The masks of index target ti, read once per walk (see pp_rule_index_walk). */
static inline bool walk_read(pp_tx_t *tx, pp_index_state_t *st, unsigned ti, unsigned walk,
                             pp_phase_t phase)
{
    if (__builtin_expect(st->walked[ti] == walk, 1))
        return true;
    if (!target_masks(tx, st, ti, phase))
        return false;
    st->walked[ti] = walk;
    return true;
}

/* The phase-level skip (rules/eval.c run_steps): the steps from s that the gates rule out, as
 * one pass. Each target's values are read once per walk (at the first step testing it), not
 * once per step: nothing between two gated steps that are not run can change them (a source's
 * values change only when the body arrives or a rule acts). The steps are still taken in order
 * and each target read where the step-by-step check would first read it, so a collector fails
 * at the same step. A step is read from the index's walk table (its one target and bit); one
 * with several targets, or any under ctl: changes (tx->overrides), through its gate. */
int pp_rule_index_walk(pp_tx_t *tx, const pp_rule_index_t *ix, const pp_plan_step_t *steps,
                       int s, int n, pp_phase_t phase, const pp_rule_gate_t **open, bool *failed)
{
    pp_index_state_t *st = state_for(tx, ix);
    const pp_tx_overrides_t *ov = tx->overrides;
    unsigned walk = ++st->walk;
    if (!walk) { /* wrapped: no target may look read in this walk */
        memset(st->walked, 0, ix->ntargets * sizeof *st->walked);
        walk = st->walk = 1;
    }
    const uint64_t *masks = st->masks;
    unsigned *walked = st->walked;
    const pp_walk_ent_t *we = ix->walk[phase];
    *open = NULL;
    *failed = false;
    for (; s < n; s++) {
        if (!ov) { /* the usual steps: one target each, no ctl: change */
            /* A run of steps on one target at a time (pp_walk_ent_t.run): the first of them
             * whose bit is set is the next step to run. The target is read at the run's first
             * step, where the step-by-step check would first read it. */
            while (s < n && we[s].target < PP_WALK_REFS) {
                unsigned t = we[s].target, b = we[s].bit, len = we[s].run;
                if (__builtin_expect(walked[t] != walk, 0)) {
                    if (!target_masks(tx, st, t, phase)) {
                        *failed = true;
                        return s;
                    }
                    walked[t] = walk;
                }
                uint64_t m = masks[b / CHUNK] >> (b % CHUNK);
                if (len < CHUNK)
                    m &= (1ull << len) - 1;
                if (m) {
                    s += __builtin_ctzll(m);
                    *open = steps[s].gate;
                    return s;
                }
                s += (int)len;
            }
            if (s == n)
                return s;
        }
        const pp_rule_gate_t *g = steps[s].gate;
        if (!g && steps[s].marker)
            continue; /* a SecMarker: nothing happens there (run_steps passes it too) */
        if (!g)
            return s;
        if (ov) { /* as gate_check in eval.c: the rule itself says what happens */
            unsigned w = g->ordinal / 64;
            if (ov->engine == PP_ENGINE_OFF ||
                (w < ov->nwords && (ov->removed[w] >> (g->ordinal % 64) & 1)))
                return s;
        }
        for (const pp_gate_ref_t *ref = g->refs, *end = ref + g->n; ref < end; ref++) {
            if (!walk_read(tx, st, ref->target, walk, phase)) {
                *failed = true;
                return s;
            }
            if (masks[ref->word] >> (ref->member % CHUNK) & 1) {
                *open = g;
                return s;
            }
        }
    }
    return s;
}

uint64_t pp_rule_index_members(apr_pool_t *p, const pp_rx_needs_t *const *parts, unsigned n,
                               pp_str_t value, bool automaton)
{
    uint64_t all = n >= CHUNK ? ~0ull : (1ull << n) - 1;
    const pp_index_ac_t *ac = automaton ? ac_build(p, parts, n) : NULL;
    if (ac)
        return ac_members(ac, value, all);
    const pp_rx_needs_t *u = automaton ? NULL : pp_rx_needs_union(p, parts, n);
    return u ? pp_rx_needs_members(u, value, pp_sketch_build(p, value)) : all;
}
