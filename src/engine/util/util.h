/*
 * Small helpers shared by the whole engine: pp_str_t handling, PCRE2 regexes compiled once
 * with JIT, and number parsing for configuration values. Nothing here knows about requests.
 */
#ifndef PP_UTIL_H
#define PP_UTIL_H

#include "parapet.h"

#include <apr_strings.h>
#include <stdint.h>

/* Copies s into p with a terminating NUL (len stays authoritative). */
pp_str_t pp_str_dup(apr_pool_t *p, pp_str_t s);
pp_str_t pp_str_from_cstr(const char *s);
/* Case-insensitive ASCII comparison of a pp_str_t with a C string. */
bool pp_str_eq_ci(pp_str_t a, const char *b);
/* A printable, bounded copy for messages: control bytes escaped as \xNN, at most max bytes
 * of input. Result in p. */
const char *pp_str_log_escape(apr_pool_t *p, pp_str_t s, apr_size_t max);

/* A pool under parent with an allocator of its own (util/pool.c): for start-up scratch work
 * whose large blocks must go back to the system when it is destroyed, not stay in the
 * process allocator of every worker. */
apr_status_t pp_pool_create_own(apr_pool_t **out, apr_pool_t *parent);
/* A pool with an allocator of its own, destroyed (its blocks given back to the system) by a
 * cleanup registered on owner now: in owner's cleanup order, not before it as a subpool would
 * be, so owner's cleanups registered later (pool buckets on owner that copy out the memory
 * they point into) still read valid memory. For a request's large blocks, which the host's
 * allocator would otherwise keep. Fails only if the allocator or pool cannot be made. */
apr_status_t pp_pool_create_released(apr_pool_t **out, apr_pool_t *owner);

/* Value of a hex digit, or -1. Inline: URL decoding calls it per escape on hot paths. */
static inline int pp_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* 'A'..'F' -> 'a'..'f'; nothing else lands in that range */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The byte two hex digits at s stand for, or -1 when either is not a hex digit. */
static inline int pp_hex_pair(const char *s)
{
    int hi = pp_hex_value((unsigned char)s[0]), lo = pp_hex_value((unsigned char)s[1]);
    return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

/* Parses a decimal integer of digits only (no sign, no spaces); false on junk or overflow. */
bool pp_parse_int64(const char *s, apr_int64_t *out);

/* ---- sbuf.c: a growable byte buffer in a pool -------------------------------------------- */

typedef struct pp_sbuf_t {
    apr_pool_t *p;
    char *data;         /* always NUL-terminated ("" until the first byte) */
    apr_size_t len;
    apr_size_t cap;     /* 0 until the first byte */
    apr_size_t first;   /* capacity of the first block */
    apr_size_t max;     /* most bytes held; callers keep within pp_sbuf_room */
} pp_sbuf_t;

/* The max of an unbounded buffer (pp_sbuf_init). */
#define PP_SBUF_UNBOUNDED (APR_SIZE_MAX / 2)

/* An empty buffer whose first block holds hint bytes; unbounded. Allocates nothing yet. */
void pp_sbuf_init(pp_sbuf_t *b, apr_pool_t *p, apr_size_t hint);
/* Likewise, and capacity never grows past what max bytes need: a buffer of up to max bytes
 * costs what it holds (doubling from first), not max up front. */
void pp_sbuf_init_bounded(pp_sbuf_t *b, apr_pool_t *p, apr_size_t first, apr_size_t max);
/* Bytes that may still be added within max. */
apr_size_t pp_sbuf_room(const pp_sbuf_t *b);
/* The capacity of the block pp_sbuf_reserve(b, more) would allocate now; 0 when it fits. */
apr_size_t pp_sbuf_next_cap(const pp_sbuf_t *b, apr_size_t more);
/* Makes room for more bytes (and the NUL) without adding them. */
void pp_sbuf_reserve(pp_sbuf_t *b, apr_size_t more);
void pp_sbuf_add(pp_sbuf_t *b, const char *data, apr_size_t len);
void pp_sbuf_str(pp_sbuf_t *b, const char *s);
void pp_sbuf_printf(pp_sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with every control byte (C0 and DEL) written as \xNN, so request data can neither
 * forge log lines nor carry terminal escapes into a log. */
void pp_sbuf_add_safe(pp_sbuf_t *b, pp_str_t s);

/* ---- random.c: random identifiers ----------------------------------------------------- */

/* Where random bytes come from: apr_generate_random_bytes's shape (tests pass a failing one). */
typedef apr_status_t (*pp_random_source_fn)(unsigned char *buf, apr_size_t n);
/* n random bytes from source (NULL: the system's generator). When it fails, a mix of the
 * clocks, the process and thread ids and salt (choose one unique among live callers, such as
 * the transaction pool), never all zeros; returns false then, so the caller can report it. */
bool pp_random_bytes_from(pp_random_source_fn source, unsigned char *buf, apr_size_t n,
                          const void *salt);
bool pp_random_bytes(unsigned char *buf, apr_size_t n, const void *salt);
/* nbytes (at most 64) of pp_random_bytes_from as 2 * nbytes lower-case hex digits and a NUL in
 * out. Same return. */
bool pp_random_hex_from(pp_random_source_fn source, char *out, apr_size_t nbytes,
                        const void *salt);

/* ---- regex.c: PCRE2 with JIT ---------------------------------------------------------- */

typedef struct pp_regex_t pp_regex_t;
/* Literals of which every match of a pattern contains at least one (case folded),
 * rx_literals.c. */
typedef struct pp_rx_needs_t pp_rx_needs_t;

#define PP_RX_ICASE 1u
#define PP_RX_DOTALL 2u /* '.' matches a newline too (ModSecurity 2's PCRE_DOTALL) */
#define PP_RX_MULTILINE 4u /* ^ and $ at every line */

/* Compiles pattern into cp (code freed by a cp cleanup). NULL on error with *err set to a
 * message in cp that carries PCRE2's text and the offset. */
pp_regex_t *pp_regex_compile(apr_pool_t *cp, const char *pattern, unsigned flags, const char **err);
const char *pp_regex_pattern(const pp_regex_t *re);
/* Marks cp as a configuration that is only validated (`apache2 -t`, `parapet check`): the
 * patterns compiled into it afterwards are checked by PCRE2 as always, but neither
 * JIT-compiled nor given prefilter literals, which only a server that runs them needs. */
void pp_regex_validate_only(apr_pool_t *cp);

/* Per-transaction match state: match data, the match limits, and a JIT stack made when a
 * match first needs more than PCRE2's default 32 KiB. Everything lives in p (the JIT stack is
 * unmapped by a cleanup on p). Created with the default limits. */
typedef struct pp_rx_state_t pp_rx_state_t;
#define PP_RX_DEFAULT_MATCH_LIMIT 1000000u
#define PP_RX_DEFAULT_DEPTH_LIMIT 10000u
pp_rx_state_t *pp_rx_state_create(apr_pool_t *p);
/* PCRE2's match limit and depth limit for the matches that follow. Never fails. */
void pp_rx_state_set_limits(pp_rx_state_t *st, uint32_t match_limit, uint32_t depth_limit);

/* Runs the regex. Returns APR_SUCCESS with *match set, or APR_EGENERAL when a resource limit
 * was hit (match limit, depth limit, the grown JIT stack): the caller decides (fail closed). */
apr_status_t pp_regex_exec(const pp_regex_t *re, pp_rx_state_t *st, pp_str_t subject, bool *match);
/* As pp_regex_exec; on a match also the whole match and the groups, at most max of them
 * (PP_RX_MAX_CAPTURES at most), into caps, and how many in *ncaps. Groups after the last one
 * that took part are not returned; an unset group before it is "". Pointers into subject. */
#define PP_RX_MAX_CAPTURES 10
apr_status_t pp_regex_exec_captures(const pp_regex_t *re, pp_rx_state_t *st, pp_str_t subject,
                                    bool *match, pp_str_t *caps, unsigned max, unsigned *ncaps);
/* One match from byte start on (PCRE2_NOTEMPTY: an empty match does not count), as
 * ModSecurity's @verifyCC loop runs it: *whole is the match (a pointer into subject), *groups
 * how many of the match and its groups were set (at most PP_RX_MAX_CAPTURES). */
apr_status_t pp_regex_exec_from(const pp_regex_t *re, pp_rx_state_t *st, pp_str_t subject,
                                apr_size_t start, bool *match, pp_str_t *whole, unsigned *groups);
bool pp_regex_jit_available(void);
/* Whether re's JIT code has been made (on its first match in this process; never in a
 * validate-only configuration). For tests. */
bool pp_regex_jit_compiled(const pp_regex_t *re);
/* The literal prefilter derived from the pattern at compile time (NULL: none). */
const pp_rx_needs_t *pp_regex_needs(const pp_regex_t *re);

/* Whether re is answered by its exact set (regex_exact.c) rather than PCRE2. For tests. */
bool pp_regex_exact(const pp_regex_t *re);

/* ---- regex_exact.c: anchored alternations of plain words as a set of strings ------------ */

typedef struct pp_rx_exact_t pp_rx_exact_t;
/* The set of strings that pattern (compiled with flags) matches exactly, in cp; NULL when the
 * pattern is not an anchored alternation of plain words (regex_exact.c says which are). */
const pp_rx_exact_t *pp_rx_exact_derive(apr_pool_t *cp, const char *pattern, unsigned flags);
/* Whether the whole of v is one of the set's strings: what PCRE2 answers for the pattern. */
bool pp_rx_exact_match(const pp_rx_exact_t *ex, pp_str_t v);
unsigned pp_rx_exact_count(const pp_rx_exact_t *ex);

/* ---- rx_literals.c: literal prefilter for regexes ------------------------------------- */

/* A value's bigram bitmap, so most absent literals are ruled out without a search. */
typedef struct pp_sketch_t pp_sketch_t;

/* NULL when the pattern has no such literals or uses syntax the derivation does not model. */
const pp_rx_needs_t *pp_rx_needs_derive(apr_pool_t *p, const char *pattern);
/* The literals of up to 64 parts (NULL if a part is NULL), each remembering which parts need
 * it: pp_rx_needs_members then tells which parts a value may match. */
const pp_rx_needs_t *pp_rx_needs_union(apr_pool_t *p, const pp_rx_needs_t *const *parts,
                                       unsigned nparts);
/* Needs from fixed texts one of which every match contains (a phrase list: @pm), compared as
 * the prefilter compares (ASCII case folded). Each text is cut to the longest prefix, of at most
 * 32 bytes, at which the texts' trie has at most max_nodes nodes (a prefix of a text a value
 * holds is held too), and a text that starts with another is left out. NULL when a text is
 * empty (every value holds it) or n is 0. */
const pp_rx_needs_t *pp_rx_needs_of_texts(apr_pool_t *p, const pp_str_t *texts, unsigned n,
                                          unsigned max_nodes);
unsigned pp_rx_needs_count(const pp_rx_needs_t *n);
/* Literal i (< pp_rx_needs_count) as the prefilter compares it: ASCII lower case, at most 32
 * bytes (a prefix of a longer one). */
pp_str_t pp_rx_needs_literal(const pp_rx_needs_t *n, unsigned i);
/* "union|select" style description, for tests and debug output. */
char *pp_rx_needs_describe(apr_pool_t *p, const pp_rx_needs_t *n);
/* NULL for values shorter than 2 bytes. */
pp_sketch_t *pp_sketch_build(apr_pool_t *p, pp_str_t v);
/* False only when v (sketched as sk) cannot match the pattern the needs were derived from. */
bool pp_rx_needs_met(const pp_rx_needs_t *n, pp_str_t v, const pp_sketch_t *sk);
/* For a union: bit i set when part i's needs are met by v (bit 0 for a plain needs). */
uint64_t pp_rx_needs_members(const pp_rx_needs_t *n, pp_str_t v, const pp_sketch_t *sk);

#endif
