/*
 * PCRE2 regular expressions for rules: compiled once at configuration time with JIT, matched
 * per request with per-transaction match data. Match and depth limits keep a pathological
 * pattern/input pair from hanging a worker; hitting one is reported as an error so the caller
 * can fail closed (reference §3.3, issue "rule engine" item 5).
 */
#include "util/util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Bounds for one match: generous for real rules, small enough that a catastrophic
 * backtracking pattern gives up in milliseconds. */
#define PP_RX_MATCH_LIMIT 1000000u
#define PP_RX_DEPTH_LIMIT 10000u
#define PP_RX_HEAP_LIMIT_KIB 4096u

struct pp_regex_t {
    pcre2_code *code;
    pcre2_match_context *mctx;
    const char *pattern;
    const pp_rx_needs_t *needs;
    bool jit;
};

struct pp_rx_state_t {
    pcre2_match_data *md;
};

static apr_status_t regex_cleanup(void *data)
{
    pp_regex_t *re = data;
    pcre2_match_context_free(re->mctx);
    pcre2_code_free(re->code);
    return APR_SUCCESS;
}

pp_regex_t *pp_regex_compile(apr_pool_t *cp, const char *pattern, unsigned flags, const char **err)
{
    int errcode;
    PCRE2_SIZE erroff;
    uint32_t opts = PCRE2_DOLLAR_ENDONLY;
    if (flags & PP_RX_ICASE)
        opts |= PCRE2_CASELESS;
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
    re->needs = pp_rx_needs_derive(cp, pattern);
    re->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    re->mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(re->mctx, PP_RX_MATCH_LIMIT);
    pcre2_set_depth_limit(re->mctx, PP_RX_DEPTH_LIMIT);
    /* The interpreter's backtracking frames come from the transaction pool (see
     * pp_rx_state_create), where a grown vector is only released with the request. */
    pcre2_set_heap_limit(re->mctx, PP_RX_HEAP_LIMIT_KIB);
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

pp_rx_state_t *pp_rx_state_create(apr_pool_t *p)
{
    pp_rx_state_t *st = apr_palloc(p, sizeof *st);
    pcre2_general_context *gc = pcre2_general_context_create(pool_malloc, pool_free, p);
    /* One pair is enough: rules need "did it match", not the capture groups. */
    st->md = gc ? pcre2_match_data_create(1, gc) : NULL;
    return st;
}

apr_status_t pp_regex_exec(const pp_regex_t *re, pp_rx_state_t *st, pp_str_t subject, bool *match)
{
    if (!st->md) { /* no memory for match data: undecided, the caller fails closed */
        *match = false;
        return APR_ENOMEM;
    }
    const char *s = subject.data ? subject.data : "";
    int rc = re->jit ? pcre2_jit_match(re->code, (PCRE2_SPTR)s, subject.len, 0, 0, st->md, re->mctx)
                     : pcre2_match(re->code, (PCRE2_SPTR)s, subject.len, 0, 0, st->md, re->mctx);
    if (rc >= 0) {
        *match = true;
        return APR_SUCCESS;
    }
    *match = false;
    return rc == PCRE2_ERROR_NOMATCH ? APR_SUCCESS : APR_EGENERAL;
}

bool pp_regex_jit_available(void)
{
    uint32_t jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    return jit != 0;
}
