/*
 * Compiled literal needs (util/rx_literals.c derives the OR-set from a pattern): the
 * pp_rx_needs_t that rx_literals_match.c checks, and unions of several rules' needs (rule
 * groups, the rule index).
 */
#include "util/rx_literals_int.h"

#include <stdlib.h>

/* Swaps entry j with entry j - 1 (key, bytes and, when kept, members): a step of the
 * insertion sorts below. */
static void swap_prev(lit_key_t *key, lit_t *lit, uint64_t *mem, unsigned j)
{
    lit_key_t tk = key[j];
    key[j] = key[j - 1], key[j - 1] = tk;
    lit_t tl = lit[j];
    lit[j] = lit[j - 1], lit[j - 1] = tl;
    if (mem) {
        uint64_t tm = mem[j];
        mem[j] = mem[j - 1], mem[j - 1] = tm;
    }
}

const pp_rx_needs_t *rxl_needs_make(apr_pool_t *p, const lit_t *lits, unsigned n,
                                       const uint64_t *members)
{
    pp_rx_needs_t *out = apr_pcalloc(p, sizeof *out);
    uint64_t *mem = members ? apr_pmemdup(p, members, n * sizeof *members) : NULL;
    lit_key_t *key = apr_palloc(p, n * sizeof *key);
    lit_t *lit = apr_pmemdup(p, lits, n * sizeof *lit);
    for (unsigned i = 0; i < n; i++)
        key[i] = rxl_literal_key(&lit[i]);
    if (n >= INDEX_MIN) {
        /* Insertion sort by first 2-gram (NO_TEST sorts last), moving the bytes and members
         * along: start-up work on a few dozen entries. */
        for (unsigned i = 1; i < n; i++)
            for (unsigned j = i; j > 0 && key[j - 1].t0 > key[j].t0; j--)
                swap_prev(key, lit, mem, j);
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
            for (unsigned j = i; j > 0 && key[j - 1].t0 == NO_TEST && key[j].t0 != NO_TEST; j--)
                swap_prev(key, lit, mem, j);
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
        rxl_literal_hash4(&lit[i], h + 2 * i);
    out->n = n;
    out->key = key;
    out->lit = lit;
    out->members = mem;
    out->hash4 = h;
    return out;
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
    return n ? rxl_needs_make(p, all, n, members) : NULL;
}

/* Texts in the order of their bytes (folded), for pp_rx_needs_of_texts. */
static int cmp_lit(const void *a, const void *b)
{
    const lit_t *x = a, *y = b;
    unsigned n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->b, y->b, n);
    return c ? c : (int)x->len - (int)y->len;
}

/* The sorted texts cut to at most k bytes, without one that starts with an earlier one (a
 * value holding it holds the earlier one), into out; returns how many, and the nodes of their
 * trie (distinct non-empty prefixes) in *nodes. */
static unsigned texts_cut(const lit_t *sorted, unsigned n, unsigned k, lit_t *out, unsigned *nodes)
{
    unsigned m = 0;
    *nodes = 0;
    for (unsigned i = 0; i < n; i++) {
        lit_t l = sorted[i];
        if (l.len > k)
            l.len = (unsigned char)k;
        if (m && out[m - 1].len <= l.len && memcmp(out[m - 1].b, l.b, out[m - 1].len) == 0)
            continue; /* starts with the previous kept text (sorted: the only candidate) */
        unsigned common = 0;
        if (m)
            while (common < l.len && common < out[m - 1].len && out[m - 1].b[common] == l.b[common])
                common++;
        *nodes += l.len - common;
        out[m++] = l;
    }
    return m;
}

const pp_rx_needs_t *pp_rx_needs_of_texts(apr_pool_t *p, const pp_str_t *texts, unsigned n,
                                          unsigned max_nodes)
{
    if (n == 0)
        return NULL;
    apr_pool_t *tp;
    if (apr_pool_create(&tp, p) != APR_SUCCESS)
        return NULL;
    lit_t *all = apr_pcalloc(tp, n * sizeof *all), *cut = apr_pcalloc(tp, n * sizeof *cut);
    const pp_rx_needs_t *out = NULL;
    for (unsigned i = 0; i < n; i++) {
        if (texts[i].len == 0)
            goto done; /* an empty text is in every value: no needs */
        all[i].len = (unsigned char)(texts[i].len < LIT_MAX ? texts[i].len : LIT_MAX);
        for (unsigned j = 0; j < all[i].len; j++)
            all[i].b[j] = rxl_fold((unsigned char)texts[i].data[j]);
    }
    qsort(all, n, sizeof *all, cmp_lit);
    /* Cutting to k bytes keeps the order of the sorted texts (a prefix sorts no later), so
     * one sort serves every k; the trie of the cut texts only shrinks as k does, so the
     * longest k within the budget is found by bisection. */
    unsigned lo = 0, hi = LIT_MAX, nodes; /* lo: the longest k known within (0: none) */
    while (lo < hi) {
        unsigned k = (lo + hi + 1) / 2;
        texts_cut(all, n, k, cut, &nodes);
        if (nodes <= max_nodes)
            lo = k;
        else
            hi = k - 1;
    }
    if (lo)
        out = rxl_needs_make(p, cut, texts_cut(all, n, lo, cut, &nodes), NULL);
done:
    apr_pool_destroy(tp);
    return out;
}

char *pp_rx_needs_describe(apr_pool_t *p, const pp_rx_needs_t *n)
{
    char *out = "";
    for (unsigned i = 0; n && i < n->n; i++)
        out = apr_pstrcat(p, out, i ? "|" : "", apr_pstrmemdup(p, (const char *)n->lit[i].b,
                                                                n->lit[i].len), NULL);
    return out;
}

unsigned pp_rx_needs_count(const pp_rx_needs_t *n)
{
    return n->n;
}

pp_str_t pp_rx_needs_literal(const pp_rx_needs_t *n, unsigned i)
{
    return (pp_str_t){ (const char *)n->lit[i].b, n->lit[i].len };
}
