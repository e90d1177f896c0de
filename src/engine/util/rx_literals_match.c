/*
 * Run-time checks of literal needs (util/rx_literals.c derives them, rx_literals_set.c
 * compiles them): a value's sketch and the searches it spares.
 */
#include "util/rx_literals_int.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

lit_key_t rxl_literal_key(const lit_t *l)
{
    lit_key_t k = { NO_TEST, NO_TEST, l->len };
    if (l->len >= 2) {
        k.t0 = gram2(l->b[0], l->b[1]);
        k.t1 = gram2(l->b[l->len - 2], l->b[l->len - 1]);
    }
    return k;
}

void rxl_literal_hash4(const lit_t *l, uint32_t *h)
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
        g = g << 8 | rxl_fold(s[i]);
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
        while (i < l->len && rxl_fold(s[i]) == l->b[i])
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

static inline __attribute__((always_inline)) uint64_t
check_literal(const pp_rx_needs_t *n, unsigned i, pp_str_t v, const pp_sketch_t *sk,
              uint64_t found)
{
    uint64_t m = n->members ? n->members[i] : 1;
    return (found & m) != m && literal_in(n, i, v, sk) ? found | m : found;
}

/* The sketched literals of an indexed list (n->first) that v holds, visiting only those whose
 * first 2-gram v's sketch has: their keys are sorted by it and the sketch's 2-grams come in
 * increasing order, so one forward pass finds them. The members of the literals found (1 for
 * each without members), or, with any, 1 at the first one found. */
static inline __attribute__((always_inline)) uint64_t
sketched_members(const pp_rx_needs_t *n, pp_str_t v, const pp_sketch_t *sk, bool any)
{
    uint64_t found = 0;
    unsigned i = 0;
    for (unsigned w = 0; w < SKETCH_WORDS && i < n->nsketched; w++) {
        for (uint64_t bits = sk->w[w] & n->first[w]; bits; bits &= bits - 1) {
            unsigned t0 = w * 64 + (unsigned)__builtin_ctzll(bits);
            while (i < n->nsketched && n->key[i].t0 < t0)
                i++;
            for (; i < n->nsketched && n->key[i].t0 == t0; i++) {
                if (!any)
                    found = check_literal(n, i, v, sk, found);
                else if (literal_in(n, i, v, sk))
                    return 1;
            }
        }
    }
    return found;
}

bool pp_rx_needs_met(const pp_rx_needs_t *n, pp_str_t v, const pp_sketch_t *sk)
{
    if (sk && n->first) /* a long list (a phrase list, a union) */
        return sketched_members(n, v, sk, true) || (n->nmulti < n->n && any_onebyte(n, v, sk));
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

uint64_t pp_rx_needs_members(const pp_rx_needs_t *n, pp_str_t v, const pp_sketch_t *sk)
{
    uint64_t found = 0;
    unsigned i = 0;
    if (!sk || !n->first) {
        for (; i < n->nmulti; i++)
            found = check_literal(n, i, v, sk, found);
    } else {
        found = sketched_members(n, v, sk, false);
    }
    /* The one-byte literals, when the value holds one of their bytes at all. */
    if (n->nmulti < n->n && (!sk || any_onebyte(n, v, sk)))
        for (i = n->nmulti; i < n->n; i++)
            found = check_literal(n, i, v, sk, found);
    return found;
}
