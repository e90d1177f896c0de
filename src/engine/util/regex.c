/*
 * PCRE2 regular expressions for rules: compiled once at configuration time with JIT, matched
 * per request with per-transaction state (match data, a match context carrying the limits, and
 * a JIT stack). Match and depth limits keep a pathological pattern/input pair from hanging a
 * worker; hitting one is reported as an error so the caller can fail closed (reference §3.3,
 * issue "rule engine" item 5).
 *
 * The JIT stack: without one, PCRE2 gives JIT code 32 KiB of the machine stack, which heavy
 * patterns (CRS 932100 and kin) exhaust on 8 KiB of a plain query string. That error is not a
 * verdict on the value, so a transaction gets its own stack (32 KiB growing to
 * PP_RX_JIT_STACK_MAX_BYTES) the first time a match runs out, and the match is retried. Per
 * transaction, not per thread: nothing is shared, and the pool cleanup unmaps it.
 *
 * JIT on first use: the machine code of a pattern (~5 KiB each, CRS: 1.6 MB) is made the first
 * time the pattern runs in a process, not at start-up, because the literal prefilter keeps most
 * patterns from ever running on ordinary traffic (CRS PL1/PL4 on the bench's requests: 18-34 of
 * ~340). It is compiled into a copy of the code, so no thread ever reads a pcre2_code while
 * PCRE2 writes into it, and the copy is published with one compare-and-swap (release; readers
 * load it with acquire): threads that race compile a copy each, one wins, the others free
 * theirs. Until then, and for good if the JIT refuses the pattern, the interpreter runs the
 * original with the same limits. This is the only state of a configuration that changes after
 * start-up, and it changes once per pattern.
 */
#include "util/util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>

/* Bounds for one match: generous for real rules, small enough that a catastrophic
 * backtracking pattern gives up in milliseconds. */
#define PP_RX_HEAP_LIMIT_KIB 4096u
/* JIT stack: the size PCRE2 would use anyway, growing on demand (the kernel commits pages as
 * they are touched) up to a size that decides these patterns on values of a few hundred KiB
 * (measured: CRS 932100 on "a=1&b=2 " needs about 4 bytes of stack per subject byte). */
#define PP_RX_JIT_STACK_START_BYTES (32 * 1024)
#define PP_RX_JIT_STACK_MAX_BYTES (2 * 1024 * 1024)

struct pp_regex_t {
    pcre2_code *code;           /* read-only once compiled: the interpreter runs it */
    const char *pattern;
    const pp_rx_needs_t *needs;
    const pp_rx_exact_t *exact; /* a set of strings answers it (regex_exact.c), or NULL */
    bool jit_wanted;            /* JIT available and the configuration serves */
    _Atomic(pcre2_code *) jit;  /* the JIT-compiled copy, published on first use */
    atomic_bool jit_refused;    /* the JIT could not compile it: the interpreter for good */
};

struct pp_rx_state_t {
    apr_pool_t *pool;
    bool made;                 /* gc, md and mctx were made (at the first match: match_state) */
    uint32_t match_limit, depth_limit;
    pcre2_general_context *gc;
    pcre2_match_data *md;      /* one pair: "did it match" and the whole match */
    pcre2_match_data *md_caps; /* ten pairs, made the first time a rule keeps captures */
    pcre2_match_context *mctx; /* this transaction's limits and, once needed, its JIT stack */
    pcre2_jit_stack *jit_stack;
};

#define VALIDATE_ONLY_KEY "parapet-regex-validate-only"

void pp_regex_validate_only(apr_pool_t *cp)
{
    apr_pool_userdata_setn((void *)1, VALIDATE_ONLY_KEY, NULL, cp);
}

static apr_status_t regex_cleanup(void *data)
{
    pp_regex_t *re = data;
    pcre2_code_free(atomic_load_explicit(&re->jit, memory_order_acquire));
    pcre2_code_free(re->code);
    return APR_SUCCESS;
}

/* Needs from PCRE2's own analysis when the pattern's text gave none: the bytes a match can
 * start with (PCRE2_INFO_FIRSTBITMAP). PCRE2 keeps such a map only when every match starts
 * with one of its bytes (none for a pattern that can match an empty string), and pcre2_match
 * and the JIT try no start position whose byte is not in it: a value holding none of them
 * cannot match. Kept only when the map holds no letter, digit
 * or space, so that it rules out ordinary text (CRS 942420-942432: a run of the same 32
 * special bytes, [~!@#$%^&*()...]), and not worth a check per value otherwise. */
static const pp_rx_needs_t *first_bytes_needs(apr_pool_t *cp, const pcre2_code *code)
{
    const uint8_t *map = NULL;
    if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTBITMAP, &map) != 0 || !map)
        return NULL;
    unsigned char bytes[256];
    pp_str_t texts[256];
    unsigned n = 0;
    for (unsigned c = 0; c < 256; c++) {
        if (!(map[c >> 3] & (1u << (c & 7))))
            continue;
        if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == ' ')
            return NULL;
        bytes[n] = (unsigned char)c;
        texts[n] = (pp_str_t){ (const char *)&bytes[n], 1 };
        n++;
    }
    return pp_rx_needs_of_texts(cp, texts, n, 256);
}

pp_regex_t *pp_regex_compile(apr_pool_t *cp, const char *pattern, unsigned flags, const char **err)
{
    int errcode;
    PCRE2_SIZE erroff;
    uint32_t opts = PCRE2_DOLLAR_ENDONLY;
    if (flags & PP_RX_ICASE)
        opts |= PCRE2_CASELESS;
    if (flags & PP_RX_DOTALL)
        opts |= PCRE2_DOTALL;
    if (flags & PP_RX_MULTILINE)
        opts |= PCRE2_MULTILINE;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &errcode,
                                     &erroff, NULL);
    if (!code) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(errcode, buf, sizeof buf);
        *err = apr_psprintf(cp, "invalid regular expression \"%s\": %s at offset %lu", pattern,
                            (const char *)buf, (unsigned long)erroff);
        return NULL;
    }
    pp_regex_t *re = apr_pcalloc(cp, sizeof *re);
    re->code = code;
    re->pattern = apr_pstrdup(cp, pattern);
    void *validate_only = NULL;
    apr_pool_userdata_get(&validate_only, VALIDATE_ONLY_KEY, cp);
    if (!validate_only) {
        re->needs = pp_rx_needs_derive(cp, pattern);
        if (!re->needs)
            re->needs = first_bytes_needs(cp, code);
        re->exact = pp_rx_exact_derive(cp, pattern, flags);
        re->jit_wanted = pp_regex_jit_available();
    }
    atomic_init(&re->jit, NULL);
    atomic_init(&re->jit_refused, false);
    apr_pool_cleanup_register(cp, re, regex_cleanup, apr_pool_cleanup_null);
    return re;
}

const char *pp_regex_pattern(const pp_regex_t *re)
{
    return re->pattern;
}

const pp_rx_needs_t *pp_regex_needs(const pp_regex_t *re)
{
    return re->needs;
}

bool pp_regex_exact(const pp_regex_t *re)
{
    return re->exact != NULL;
}

/* PCRE2 allocates through these from the transaction's pool: no malloc/free per request, and
 * nothing to clean up (the pool's end frees it). */
static void *pool_malloc(PCRE2_SIZE size, void *pool)
{
    return apr_palloc(pool, size);
}

static void pool_free(void *block, void *pool)
{
    (void)block;
    (void)pool;
}

/* PCRE2's contexts are made at the first match that needs PCRE2 (match_state): a transaction
 * whose values are all decided by the literal needs, or by exact sets, never makes them. */
pp_rx_state_t *pp_rx_state_create(apr_pool_t *p)
{
    pp_rx_state_t *st = apr_pcalloc(p, sizeof *st);
    st->pool = p;
    st->match_limit = PP_RX_DEFAULT_MATCH_LIMIT;
    st->depth_limit = PP_RX_DEFAULT_DEPTH_LIMIT;
    return st;
}

/* st's contexts and match data, made at its first match (NULL each when there is no memory:
 * run_at then answers undecided). Out of line: the match path only tests st->made. */
static __attribute__((noinline)) void match_state(pp_rx_state_t *st)
{
    st->made = true;
    st->gc = pcre2_general_context_create(pool_malloc, pool_free, st->pool);
    /* One pair is enough for most matches: did it match, and where. */
    st->md = st->gc ? pcre2_match_data_create(1, st->gc) : NULL;
    st->mctx = st->gc ? pcre2_match_context_create(st->gc) : NULL;
    if (st->mctx) {
        /* The interpreter's backtracking frames come from the transaction pool, where a
         * grown vector is only released with the request. */
        pcre2_set_heap_limit(st->mctx, PP_RX_HEAP_LIMIT_KIB);
        pp_rx_state_set_limits(st, st->match_limit, st->depth_limit);
    }
}

void pp_rx_state_set_limits(pp_rx_state_t *st, uint32_t match_limit, uint32_t depth_limit)
{
    st->match_limit = match_limit;
    st->depth_limit = depth_limit;
    if (!st->mctx)
        return;
    pcre2_set_match_limit(st->mctx, match_limit);
    pcre2_set_depth_limit(st->mctx, depth_limit);
}

static apr_status_t jit_stack_cleanup(void *data)
{
    pcre2_jit_stack_free(data);
    return APR_SUCCESS;
}

/* Gives the transaction its own JIT stack. False when there is no memory for one. */
static bool jit_stack_grow(pp_rx_state_t *st)
{
    st->jit_stack = pcre2_jit_stack_create(PP_RX_JIT_STACK_START_BYTES,
                                           PP_RX_JIT_STACK_MAX_BYTES, st->gc);
    if (!st->jit_stack)
        return false;
    apr_pool_cleanup_register(st->pool, st->jit_stack, jit_stack_cleanup,
                              apr_pool_cleanup_null);
    pcre2_jit_stack_assign(st->mctx, NULL, st->jit_stack);
    return true;
}

/* The JIT-compiled copy of re's code, made now if this is its first use; NULL when the
 * interpreter runs it (no JIT, validate-only, the JIT refused it or had no memory). The
 * configuration is shared by threads: see the comment at the top. */
static const pcre2_code *jit_code(const pp_regex_t *cre)
{
    pp_regex_t *re = (pp_regex_t *)cre; /* only the publish-once fields are written */
    pcre2_code *jit = atomic_load_explicit(&re->jit, memory_order_acquire);
    if (jit || !re->jit_wanted || atomic_load_explicit(&re->jit_refused, memory_order_relaxed))
        return jit;
    pcre2_code *copy = pcre2_code_copy(re->code);
    if (!copy)
        return NULL; /* no memory now: the interpreter, and another try next time */
    if (pcre2_jit_compile(copy, PCRE2_JIT_COMPLETE) != 0) {
        pcre2_code_free(copy);
        atomic_store_explicit(&re->jit_refused, true, memory_order_relaxed);
        return NULL;
    }
    pcre2_code *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&re->jit, &expected, copy, memory_order_acq_rel,
                                                memory_order_acquire))
        return copy;
    pcre2_code_free(copy); /* another thread published first */
    return expected;
}

bool pp_regex_jit_compiled(const pp_regex_t *re)
{
    return atomic_load_explicit(&((pp_regex_t *)re)->jit, memory_order_acquire) != NULL;
}

static inline apr_status_t run_at(const pp_regex_t *re, pp_rx_state_t *st, pp_str_t subject,
                                  apr_size_t start, uint32_t mopts, bool *match, pp_str_t *caps,
                                  unsigned max, unsigned *ncaps)
{
    if (__builtin_expect(!st->made, 0))
        match_state(st);
    pcre2_match_data *md = st->md;
    if (max > 1) {
        if (!st->md_caps && st->gc)
            st->md_caps = pcre2_match_data_create(PP_RX_MAX_CAPTURES, st->gc);
        md = st->md_caps;
    }
    if (!md || !st->mctx) { /* no memory for match state: undecided, the caller fails closed */
        *match = false;
        return APR_ENOMEM;
    }
    const char *s = subject.data ? subject.data : "";
    int rc;
    const pcre2_code *jit = jit_code(re);
    if (!jit) {
        rc = pcre2_match(re->code, (PCRE2_SPTR)s, subject.len, start, mopts, md, st->mctx);
    } else {
        rc = pcre2_jit_match(jit, (PCRE2_SPTR)s, subject.len, start, mopts, md, st->mctx);
        /* The default stack ran out: that says nothing about the value. Retry once on a
         * larger one; running out of that is a resource limit like the others. */
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !st->jit_stack && jit_stack_grow(st))
            rc = pcre2_jit_match(jit, (PCRE2_SPTR)s, subject.len, start, mopts, md, st->mctx);
    }
    if (rc < 0) {
        *match = false;
        return rc == PCRE2_ERROR_NOMATCH ? APR_SUCCESS : APR_EGENERAL;
    }
    *match = true;
    if (caps) {
        /* rc pairs are set (0: more than the match data holds, i.e. all of them). */
        unsigned n = rc == 0 || (unsigned)rc > max ? max : (unsigned)rc;
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        for (unsigned i = 0; i < n; i++) {
            /* An unset group is an empty capture, as ModSecurity keeps it. */
            if (ov[2 * i] == PCRE2_UNSET || ov[2 * i + 1] > subject.len ||
                ov[2 * i] > ov[2 * i + 1])
                caps[i] = (pp_str_t){ "", 0 };
            else
                caps[i] = (pp_str_t){ s + ov[2 * i], ov[2 * i + 1] - ov[2 * i] };
        }
        *ncaps = n;
    }
    return APR_SUCCESS;
}

static inline apr_status_t run(const pp_regex_t *re, pp_rx_state_t *st, pp_str_t subject,
                               bool *match, pp_str_t *caps, unsigned max, unsigned *ncaps)
{
    /* An exact set answers without PCRE2; its whole match is the value. The groups (wanted
     * when max > 1) are PCRE2's to give. */
    if (re->exact && max <= 1) {
        if (!subject.data)
            subject = (pp_str_t){ "", 0 };
        *match = pp_rx_exact_match(re->exact, subject);
        if (*match && caps) {
            caps[0] = subject;
            *ncaps = 1;
        }
        return APR_SUCCESS;
    }
    return run_at(re, st, subject, 0, 0, match, caps, max, ncaps);
}

apr_status_t pp_regex_exec_from(const pp_regex_t *re, pp_rx_state_t *st, pp_str_t subject,
                                apr_size_t start, bool *match, pp_str_t *whole, unsigned *groups)
{
    unsigned n = 0;
    pp_str_t caps[PP_RX_MAX_CAPTURES];
    *groups = 0;
    if (start > subject.len) {
        *match = false;
        return APR_SUCCESS;
    }
    apr_status_t rv = run_at(re, st, subject, start, PCRE2_NOTEMPTY, match, caps,
                             PP_RX_MAX_CAPTURES, &n);
    if (*match) {
        *whole = caps[0];
        *groups = n;
    }
    return rv;
}

apr_status_t pp_regex_exec(const pp_regex_t *re, pp_rx_state_t *st, pp_str_t subject, bool *match)
{
    return run(re, st, subject, match, NULL, 0, NULL);
}

apr_status_t pp_regex_exec_captures(const pp_regex_t *re, pp_rx_state_t *st, pp_str_t subject,
                                    bool *match, pp_str_t *caps, unsigned max, unsigned *ncaps)
{
    *ncaps = 0;
    if (max > PP_RX_MAX_CAPTURES)
        max = PP_RX_MAX_CAPTURES;
    return run(re, st, subject, match, caps, max ? max : 1, ncaps);
}

bool pp_regex_jit_available(void)
{
    uint32_t jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    return jit != 0;
}
