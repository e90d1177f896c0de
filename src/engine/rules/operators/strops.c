/*
 * ModSecurity 2.9.7's string, number, validation, address and constant operators (reference
 * §8.4, §8.5, §8.7), each as the module's re_operators.c decides, quirks included: an empty
 * argument makes @contains, @containsWord, @beginsWith, @endsWith and @strmatch match
 * anything, an empty value is @within anything, numbers are C atoi() of value and argument
 * (leading blanks and sign, then digits; "5abc" is 5, junk is 0, overflow saturates a long
 * and is then cut to int), @validateUtf8Encoding lets U+110000-U+13FFFF (lead byte 0xF4)
 * through, @ipMatch refuses /0 and an explicit full-width mask (/32, /128). Matching allocates nothing; what matched is the value itself
 * (ModSecurity logs the argument or the value, never a narrower part).
 */
#include "rules/operators/operators.h"
#include "rules/operators/validate.h"

#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static void whole(pp_op_out_t *out, pp_str_t value)
{
    out->data = value;
    out->ncaptures = 0;
}

/* ---- string comparisons ----------------------------------------------------------------- */

typedef struct str_arg_t {
    const char *s;
    apr_size_t len;
    apr_pool_t *pool; /* where pp_op_str_needs keeps what it derives */
    const pp_rx_needs_t *needs; /* the argument as the one literal every match contains */
    bool derived;
} str_arg_t;

/* The literal prefilter of @contains, @containsWord, @beginsWith, @endsWith, @streq and
 * @strmatch: a value that matches contains the argument (compared case-folded by the
 * prefilter, a superset of these byte comparisons). Derived from the argument written as a
 * regex of \xHH escapes; an empty argument (which matches anything, or only "") has none.
 * Derived when first asked: the front ends ask once, at start-up, for an argument parsed then
 * (single-threaded); an argument a macro template expands to is parsed per transaction and
 * never asked (rules/oparg.c), so the per-request parse stays a copy. */
static const pp_rx_needs_t *literal_needs(apr_pool_t *cp, const char *s, apr_size_t len)
{
    if (len == 0)
        return NULL;
    char *re = apr_palloc(cp, len * 4 + 1), *o = re;
    for (apr_size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (apr_isalnum(c))
            *o++ = (char)c;
        else
            o += sprintf(o, "\\x%02x", c);
    }
    *o = '\0';
    return pp_rx_needs_derive(cp, re);
}

const char *pp_op_str_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    str_arg_t *a = apr_palloc(cp, sizeof *a);
    a->s = apr_pstrdup(cp, arg ? arg : "");
    a->len = strlen(a->s);
    a->pool = cp;
    a->needs = NULL;
    a->derived = false;
    *compiled = a;
    return NULL;
}

const pp_rx_needs_t *pp_op_str_needs(const void *compiled)
{
    str_arg_t *a = (str_arg_t *)compiled; /* start-up only: see literal_needs */
    if (!a->derived) {
        a->needs = literal_needs(a->pool, a->s, a->len);
        a->derived = true;
    }
    return a->needs;
}

/* The expansion of a template argument as the argument (it ends at its first NUL). */
const char *pp_op_text_expand(apr_pool_t *p, pp_str_t x)
{
    return apr_pstrmemdup(p, x.data, x.len);
}

#define STR_OP(name, cond)                                                                  \
    apr_status_t name(pp_tx_t *tx, const void *compiled, pp_str_t v, bool *match,           \
                      pp_op_out_t *out)                                                     \
    {                                                                                       \
        const str_arg_t *a = compiled;                                                      \
        *match = (cond);                                                                    \
        if (*match)                                                                         \
            whole(out, v);                                                                  \
        return APR_SUCCESS;                                                                 \
    }

static bool contains(pp_str_t v, const char *s, apr_size_t n)
{
    return n == 0 || (n <= v.len && memmem(v.data, v.len, s, n) != NULL);
}

static bool is_word(unsigned char c)
{
    return apr_isalnum(c) || c == '_';
}

static bool contains_word(pp_str_t v, const char *m, apr_size_t n)
{
    if (n == 0)
        return true;
    if (n > v.len)
        return false;
    apr_size_t i_max = v.len - n;
    for (apr_size_t i = 0; i <= i_max; i++) {
        if (i > 0 && is_word((unsigned char)v.data[i - 1]))
            continue;
        if (v.data[i] == m[0] && memcmp(m + 1, v.data + i + 1, n - 1) == 0 &&
            (i == i_max || !is_word((unsigned char)v.data[i + n])))
            return true;
    }
    return false;
}

STR_OP(pp_op_streq_exec, v.len == a->len && memcmp(v.data, a->s, a->len) == 0)
STR_OP(pp_op_contains_exec, contains(v, a->s, a->len))
STR_OP(pp_op_containsword_exec, contains_word(v, a->s, a->len))
STR_OP(pp_op_beginswith_exec, a->len == 0 || (a->len <= v.len && memcmp(v.data, a->s, a->len) == 0))
STR_OP(pp_op_endswith_exec,
       a->len == 0 || (a->len <= v.len && memcmp(v.data + v.len - a->len, a->s, a->len) == 0))
STR_OP(pp_op_within_exec, v.len == 0 || (v.len <= a->len && memmem(a->s, a->len, v.data, v.len)))

/* @strmatch: the argument goes through the @pm content syntax (|hex|, escapes); the result is
 * a C string there (a NUL from |00| ends it). */
const char *pp_op_strmatch_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    str_arg_t *a = apr_palloc(cp, sizeof *a);
    const char *c = pp_pm_content(cp, arg ? arg : "");
    a->s = c ? c : apr_pstrdup(cp, arg ? arg : "");
    a->len = strlen(a->s);
    a->pool = cp;
    a->needs = NULL;
    a->derived = false;
    *compiled = a;
    return NULL;
}

STR_OP(pp_op_strmatch_exec, contains(v, a->s, a->len))

/* ---- numbers ---------------------------------------------------------------------------- */

/* glibc's atoi: (int)strtol(s, NULL, 10) on a C string (the value ends at its first NUL). */
int pp_ms_atoi(const char *s, apr_size_t len)
{
    apr_size_t i = 0;
    while (i < len && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')))
        i++;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    unsigned long acc = 0, lim = neg ? (unsigned long)LONG_MAX + 1 : (unsigned long)LONG_MAX;
    bool over = false;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (over || acc > (lim - d) / 10)
            over = true;
        else
            acc = acc * 10 + d;
    }
    long r;
    if (over)
        r = neg ? LONG_MIN : LONG_MAX;
    else
        r = neg ? (long)(0 - acc) : (long)acc;
    return (int)r;
}

const char *pp_op_num_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    int *n = apr_palloc(cp, sizeof *n);
    *n = pp_ms_atoi(arg ? arg : "", arg ? strlen(arg) : 0);
    *compiled = n;
    return NULL;
}

#define NUM_OP(name, kind)                                                                  \
    apr_status_t name(pp_tx_t *tx, const void *compiled, pp_str_t v, bool *match,           \
                      pp_op_out_t *out)                                                     \
    {                                                                                       \
        *match = pp_num_cmp(kind, pp_ms_atoi(v.data, v.len), *(const int *)compiled);       \
        if (*match)                                                                         \
            whole(out, v);                                                                  \
        return APR_SUCCESS;                                                                 \
    }

/* Each row's cmp column (operators/table.c) names the comparison its exec makes here. */
NUM_OP(pp_op_eq_exec, PP_CMP_EQ)
NUM_OP(pp_op_gt_exec, PP_CMP_GT)
NUM_OP(pp_op_ge_exec, PP_CMP_GE)
NUM_OP(pp_op_lt_exec, PP_CMP_LT)
NUM_OP(pp_op_le_exec, PP_CMP_LE)

/* ---- constants -------------------------------------------------------------------------- */

apr_status_t pp_op_always_exec(pp_tx_t *tx, const void *compiled, pp_str_t v, bool *match,
                               pp_op_out_t *out)
{
    *match = true;
    whole(out, v);
    return APR_SUCCESS;
}

apr_status_t pp_op_never_exec(pp_tx_t *tx, const void *compiled, pp_str_t v, bool *match,
                              pp_op_out_t *out)
{
    *match = false;
    return APR_SUCCESS;
}

/* ---- validation ------------------------------------------------------------------------- */

/* @validateByteRange's argument: the allowed bytes as a bit table, and, when they form at most
 * BR_RANGES runs of consecutive bytes (CRS: 1-255; 9,10,13,32-126,128-255; 32-36,38-126), the
 * runs, so that a value is checked 16 bytes at a time. */
#define BR_RANGES 4
typedef struct byterange_t {
    unsigned char table[32];
    unsigned nranges;             /* 0: only the table */
    unsigned char lo[BR_RANGES];  /* run i is lo[i] .. lo[i] + span[i] */
    unsigned char span[BR_RANGES];
} byterange_t;

static inline bool br_allowed(const byterange_t *br, unsigned char c)
{
    return (br->table[c >> 3] >> (c & 7)) & 1;
}

/* The runs of allowed bytes into br, when there are at most BR_RANGES of them. */
static void br_runs(byterange_t *br)
{
    unsigned n = 0;
    for (unsigned c = 0; c < 256;) {
        if (!br_allowed(br, (unsigned char)c)) {
            c++;
            continue;
        }
        unsigned lo = c;
        while (c < 256 && br_allowed(br, (unsigned char)c))
            c++;
        if (n == BR_RANGES) {
            br->nranges = 0;
            return;
        }
        br->lo[n] = (unsigned char)lo;
        br->span[n] = (unsigned char)(c - 1 - lo);
        n++;
    }
    br->nranges = n;
}

/* msre_op_validateByteRange_init: comma-separated n or a-b, each side atoi(), 0..255. */
const char *pp_op_byterange_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    byterange_t *br = apr_pcalloc(cp, sizeof *br);
    unsigned char *table = br->table;
    char *data = apr_pstrdup(cp, arg ? arg : ""), *save = NULL;
    for (char *p = apr_strtok(data, ",", &save); p; p = apr_strtok(NULL, ",", &save)) {
        char *dash = strchr(p, '-');
        int start = pp_ms_atoi(p, strlen(p)), end = start;
        if (!dash) {
            if (start < 0 || start > 255)
                return apr_psprintf(cp, "Invalid range value: %d", start);
        } else {
            end = pp_ms_atoi(dash + 1, strlen(dash + 1));
            if (start < 0 || start > 255)
                return apr_psprintf(cp, "Invalid range start value: %d", start);
            if (end < 0 || end > 255)
                return apr_psprintf(cp, "Invalid range end value: %d", end);
            if (start > end)
                return apr_psprintf(cp, "Invalid range: %d-%d", start, end);
        }
        for (int x = start; x <= end; x++)
            table[x >> 3] |= (unsigned char)(1u << (x & 7));
    }
    br_runs(br);
    *compiled = br;
    return NULL;
}

/* Whether some byte of v is not allowed. With runs, 16 bytes at a time: byte c is in run i
 * when c - lo[i] (mod 256) is at most span[i], i.e. that difference minus span[i], saturated
 * at 0, is 0. The bytes after the last full 16 go through the table. */
static bool br_outside(const byterange_t *br, pp_str_t v)
{
    const unsigned char *s = (const unsigned char *)v.data;
    apr_size_t i = 0;
#ifdef __SSE2__
    if (br->nranges) {
        __m128i lo[BR_RANGES], span[BR_RANGES];
        for (unsigned r = 0; r < br->nranges; r++) {
            lo[r] = _mm_set1_epi8((char)br->lo[r]);
            span[r] = _mm_set1_epi8((char)br->span[r]);
        }
        const __m128i zero = _mm_setzero_si128();
        for (; i + 16 <= v.len; i += 16) {
            __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + i)), in = zero;
            for (unsigned r = 0; r < br->nranges; r++)
                in = _mm_or_si128(in, _mm_cmpeq_epi8(
                    _mm_subs_epu8(_mm_sub_epi8(c, lo[r]), span[r]), zero));
            if (_mm_movemask_epi8(in) != 0xffff)
                return true;
        }
    }
#endif
    for (; i < v.len; i++)
        if (!br_allowed(br, s[i]))
            return true;
    return false;
}

apr_status_t pp_op_byterange_exec(pp_tx_t *tx, const void *compiled, pp_str_t v, bool *match,
                                  pp_op_out_t *out)
{
    *match = br_outside(compiled, v);
    if (*match)
        whole(out, v);
    return APR_SUCCESS;
}

apr_status_t pp_op_urlenc_exec(pp_tx_t *tx, const void *compiled, pp_str_t v, bool *match,
                               pp_op_out_t *out)
{
    *match = !pp_validate_url_encoding(v, NULL);
    if (*match)
        whole(out, v);
    return APR_SUCCESS;
}

/* detect_utf8_character's verdict: the 1.9 check (validate.c) also refuses code points above
 * U+10FFFF written with 0xF4, which ModSecurity 2 accepts. */
static bool ms2_utf8_valid(pp_str_t v)
{
    const unsigned char *s = (const unsigned char *)v.data;
    apr_size_t i = 0, n = v.len;
    while (i < n) {
        unsigned char c = s[i];
        apr_size_t left = n - i, len;
        uint32_t d;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            if (left < 2 || (s[i + 1] & 0xC0) != 0x80)
                return false;
            len = 2;
            d = (uint32_t)(c & 0x1F) << 6 | (s[i + 1] & 0x3F);
        } else if ((c & 0xF0) == 0xE0) {
            if (left < 3 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
                return false;
            len = 3;
            d = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(s[i + 1] & 0x3F) << 6 | (s[i + 2] & 0x3F);
        } else if ((c & 0xF8) == 0xF0) {
            if (c >= 0xF5 || left < 4 || (s[i + 1] & 0xC0) != 0x80 ||
                (s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80)
                return false;
            len = 4;
            d = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[i + 1] & 0x3F) << 12 |
                (uint32_t)(s[i + 2] & 0x3F) << 6 | (s[i + 3] & 0x3F);
        } else {
            return false;
        }
        if (d >= 0xD800 && d <= 0xDFFF)
            return false;
        if ((len == 4 && d < 0x10000) || (len == 3 && d < 0x800) || (len == 2 && d < 0x80))
            return false;
        i += len;
    }
    return true;
}

apr_status_t pp_op_utf8_exec(pp_tx_t *tx, const void *compiled, pp_str_t v, bool *match,
                             pp_op_out_t *out)
{
    *match = !ms2_utf8_valid(v);
    if (*match)
        whole(out, v);
    return APR_SUCCESS;
}

/* ---- addresses -------------------------------------------------------------------------- */

typedef struct ip_net_t {
    unsigned char addr[16];
    unsigned bits;
    bool v6;
} ip_net_t;

typedef struct ip_list_t {
    apr_array_header_t *nets; /* ip_net_t */
} ip_list_t;

/* TreeAddIP as 2.9.7 behaves: an entry with ':' is IPv6; it is cut to 30 (IPv4) or 126
 * (IPv6) bytes; an optional /bits (atoi; no '.'; 1..32 or 1..128) ends the address at the
 * first '/', except that a mask equal to the family's full width is not cut off, so
 * "1.2.3.4/32" and "::1/128" are refused (inet_pton sees the slash), as is /0. */
static bool add_net(ip_list_t *l, const char *entry)
{
    bool v6 = strchr(entry, ':') != NULL;
    char buf[128];
    apr_size_t cap = v6 ? 126 : 30;
    apr_size_t n = strlen(entry);
    if (n > cap)
        n = cap;
    memcpy(buf, entry, n);
    buf[n] = '\0';
    unsigned full = v6 ? 128 : 32, bits = full;
    char *slash = strchr(buf, '/');
    if (slash) {
        if (strchr(slash + 1, '.'))
            return false;
        int cidr = pp_ms_atoi(slash + 1, strlen(slash + 1));
        if (cidr <= 0 || cidr > (int)full)
            return false;
        bits = (unsigned)cidr;
        if (bits != full)
            *slash = '\0';
    }
    ip_net_t *net = apr_array_push(l->nets);
    memset(net, 0, sizeof *net);
    net->v6 = v6;
    net->bits = bits;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, net->addr) != 1) {
        l->nets->nelts--;
        return false;
    }
    return true;
}

static ip_list_t *ip_list(apr_pool_t *cp)
{
    ip_list_t *l = apr_palloc(cp, sizeof *l);
    l->nets = apr_array_make(cp, 8, sizeof(ip_net_t));
    return l;
}

const char *pp_op_ipmatch_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    ip_list_t *l = ip_list(cp);
    char *param = apr_pstrdup(cp, arg ? arg : ""), *save = NULL;
    for (char *e = apr_strtok(param, ",", &save); e; e = apr_strtok(NULL, ",", &save))
        if (!add_net(l, e))
            return apr_psprintf(cp, "Could not add entry \"%s\" from: %s.", e, arg);
    *compiled = l;
    return NULL;
}

/* ip_tree_from_file: per line, leading blanks skipped, the entry ends at the first byte that
 * is not a hex digit, '.', '/' or ':'; empty and '#' lines skipped. */
const char *pp_op_ipmatchf_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    const char *fn = arg ? arg : "";
    while (apr_isspace(*fn))
        fn++;
    if (!*fn)
        return "Missing parameter for operator 'ipMatchFromFile'.";
    if (strncmp(fn, "http://", 7) == 0 || strncmp(fn, "https://", 8) == 0)
        return apr_psprintf(cp, "ipMatchFromFile \"%s\": only local files are supported", fn);
    fn = pp_op_resolve_path(cp, fn);
    char errstr[256];
    apr_file_t *fd;
    apr_status_t rc = apr_file_open(&fd, fn, APR_READ | APR_BUFFERED, 0, cp);
    if (rc != APR_SUCCESS)
        return apr_psprintf(cp, "Could not open ipmatch file \"%s\": %s", fn,
                            apr_strerror(rc, errstr, sizeof errstr));
    ip_list_t *l = ip_list(cp);
    char buf[8193];
    const char *err = NULL;
    for (int line = 1;; line++) {
        rc = apr_file_gets(buf, 8192, fd);
        if (rc == APR_EOF)
            break;
        if (rc != APR_SUCCESS) {
            err = apr_psprintf(cp, "Could not read \"%s\" line %d: %s", fn, line,
                               apr_strerror(rc, errstr, sizeof errstr));
            break;
        }
        char *start = buf;
        while (apr_isspace(*start))
            start++;
        char *end = start;
        while (apr_isxdigit(*end) || *end == '.' || *end == '/' || *end == ':')
            end++;
        *end = '\0';
        if (start == end || *start == '#')
            continue;
        if (!add_net(l, start)) {
            err = apr_psprintf(cp, "Could not add entry \"%s\" in line %d of file %s to IP list",
                               start, line, fn);
            break;
        }
    }
    apr_file_close(fd);
    if (err)
        return err;
    *compiled = l;
    return NULL;
}

static bool in_net(const ip_net_t *n, const unsigned char *a)
{
    unsigned full = n->bits / 8, rest = n->bits % 8;
    if (memcmp(n->addr, a, full) != 0)
        return false;
    if (rest) {
        unsigned char mask = (unsigned char)(0xFF << (8 - rest));
        if ((n->addr[full] & mask) != (a[full] & mask))
            return false;
    }
    return true;
}

apr_status_t pp_op_ipmatch_exec(pp_tx_t *tx, const void *compiled, pp_str_t v, bool *match,
                                pp_op_out_t *out)
{
    const ip_list_t *l = compiled;
    *match = false;
    /* tree_contains_ip reads the value as a C string; a value that is no address is no match
     * (ModSecurity logs "IPmatch: bad IPv4 specification" and goes on). */
    char buf[64];
    const char *nul = memchr(v.data, '\0', v.len);
    apr_size_t n = nul ? (apr_size_t)(nul - v.data) : v.len;
    if (n >= sizeof buf)
        return APR_SUCCESS;
    memcpy(buf, v.data, n);
    buf[n] = '\0';
    bool v6 = strchr(buf, ':') != NULL;
    unsigned char a[16];
    if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, a) != 1)
        return APR_SUCCESS;
    for (int i = 0; i < l->nets->nelts && !*match; i++) {
        const ip_net_t *net = &APR_ARRAY_IDX(l->nets, i, ip_net_t);
        *match = net->v6 == v6 && in_net(net, a);
    }
    if (*match)
        whole(out, v);
    return APR_SUCCESS;
}

/* ---- operators that need what Parapet does not have ------------------------------------- */

/* @rbl and @geoLookup are in CRS (910xxx), behind settings that are off by default, so a rule
 * set that names them must load. Parapet makes no DNS queries and reads no GeoIP database:
 * both never match, which is what ModSecurity answers when its lookup fails. */
const char *pp_op_anyarg_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    *compiled = NULL;
    return NULL;
}

const char *pp_op_unsupported_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    return "this ModSecurity operator is not supported by Parapet (docs/operators.md)";
}

/* ---- ModSecurity 2.9.7's match messages (reference §8.4, §8.7) ---------------------------- */

const char *pp_ms_log_escape(apr_pool_t *p, pp_str_t s)
{
    static const char hex[] = "0123456789abcdef";
    char *out = apr_palloc(p, s.len * 4 + 1), *w = out;
    for (apr_size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.data[i];
        const char *named = c == '\b' ? "b" : c == '\n' ? "n" : c == '\r' ? "r"
                          : c == '\t' ? "t" : c == '\v' ? "v" : NULL;
        if (named || c == '"' || c == '\\') {
            *w++ = '\\';
            *w++ = named ? *named : (char)c;
        } else if (c <= 0x1f || c >= 0x7f) {
            *w++ = '\\';
            *w++ = 'x';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        } else {
            *w++ = (char)c;
        }
    }
    *w = '\0';
    return out;
}

/* The argument (expanded, when it was a template) up to its first NUL, as ModSecurity quotes
 * it. */
static const char *quoted_arg(apr_pool_t *p, const void *compiled)
{
    const str_arg_t *a = compiled;
    return pp_ms_log_escape(p, (pp_str_t){ a->s, strlen(a->s) });
}

PP_OP_WORDS(pp_op_string_words)
{
    return apr_psprintf(p, "String match \"%s\" at %s.", quoted_arg(p, compiled), var);
}

PP_OP_WORDS(pp_op_within_words)
{
    /* An empty value matches before the argument is looked at, and is so reported. */
    return apr_psprintf(p, "String match within \"%s\" at %s.",
                        value.len ? quoted_arg(p, compiled) : "", var);
}

PP_OP_WORDS(pp_op_strmatch_words)
{
    return apr_psprintf(p, "Pattern match \"%s\" at %s.", pp_ms_log_escape(p, pp_str_from_cstr(arg)),
                        var);
}

#define NUM_WORDS(name, word)                                                                  \
    PP_OP_WORDS(name)                                                                          \
    {                                                                                          \
        return apr_psprintf(p, "Operator " word " matched %d at %s.", *(const int *)compiled,  \
                            var);                                                              \
    }
NUM_WORDS(pp_op_eq_words, "EQ")
NUM_WORDS(pp_op_ge_words, "GE")
NUM_WORDS(pp_op_gt_words, "GT")
NUM_WORDS(pp_op_le_words, "LE")
NUM_WORDS(pp_op_lt_words, "LT")

PP_OP_WORDS(pp_op_ipmatch_words)
{
    return apr_psprintf(p, "IPmatch: \"%s\" matched at %s.", pp_ms_log_escape(p, value), var);
}

PP_OP_WORDS(pp_op_ipmatchf_words)
{
    return apr_psprintf(p, "IPmatchFromFile: \"%s\" matched at %s.", pp_ms_log_escape(p, value),
                        var);
}
