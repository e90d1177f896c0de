/*
 * The sanitise* actions (reference secrule-2.9 §9.4): what the audit log masks, with one '*'
 * per byte, and nothing else (the rules, the error log and the application see the values as
 * sent). The actions record names per transaction (pp_tx_sanitise); the audit writers ask for
 * the masked request line, header values and urlencoded body (log.h pp_audit_mask_*).
 *
 * As ModSecurity 2.9.7: argument names compare case-insensitively (decoded), and a masked
 * argument's value is masked where it was sent, in the request line's query string and in a
 * urlencoded body; a header's whole value is masked. sanitiseMatchedBytes masks the matched
 * value where it occurs in the logged text, keeping its first a and last b bytes with :a/b.
 */
#include "log/log.h"
#include "request/request.h"
#include "tx.h"

typedef struct mask_bytes_t {
    int kind;
    const char *name;
    pp_str_t bytes;       /* the matched value */
    int keep_first, keep_last;
} mask_bytes_t;

struct pp_sanitise_t {
    apr_table_t *names[PP_SANITISE_KINDS]; /* names whose whole value is masked */
    apr_array_header_t *bytes;             /* mask_bytes_t */
};

static struct pp_sanitise_t *state(pp_tx_t *tx)
{
    if (!tx->sanitise) {
        struct pp_sanitise_t *s = apr_pcalloc(tx->pool, sizeof *s);
        for (int k = 0; k < PP_SANITISE_KINDS; k++)
            s->names[k] = apr_table_make(tx->pool, 2);
        s->bytes = apr_array_make(tx->pool, 1, sizeof(mask_bytes_t));
        tx->sanitise = s;
    }
    return tx->sanitise;
}

void pp_tx_sanitise(pp_tx_t *tx, pp_sanitise_kind_t kind, pp_str_t name)
{
    apr_table_set(state(tx)->names[kind], pp_str_dup(tx->pool, name).data, "1");
}

void pp_tx_sanitise_bytes(pp_tx_t *tx, pp_sanitise_kind_t kind, pp_str_t name, pp_str_t bytes,
                          int keep_first, int keep_last)
{
    mask_bytes_t *m = apr_array_push(state(tx)->bytes);
    m->kind = kind;
    m->name = pp_str_dup(tx->pool, name).data;
    m->bytes = pp_str_dup(tx->pool, bytes);
    m->keep_first = keep_first;
    m->keep_last = keep_last;
}

static bool whole(const pp_tx_t *tx, int kind, const char *name)
{
    return apr_table_get(tx->sanitise->names[kind], name) != NULL;
}

/* Masks in s (a copy the caller owns) the first occurrence of each matched value recorded for
 * (kind, name); true when one was found. */
static bool mask_bytes(const pp_tx_t *tx, int kind, const char *name, char *s, apr_size_t len)
{
    bool any = false;
    const apr_array_header_t *a = tx->sanitise->bytes;
    for (int i = 0; i < a->nelts; i++) {
        const mask_bytes_t *m = &APR_ARRAY_IDX(a, i, mask_bytes_t);
        if (m->kind != kind || strcasecmp(m->name, name) != 0 || !m->bytes.len ||
            m->bytes.len > len)
            continue;
        for (apr_size_t at = 0; at + m->bytes.len <= len; at++) {
            if (memcmp(s + at, m->bytes.data, m->bytes.len) != 0)
                continue;
            for (apr_size_t k = 0; k < m->bytes.len; k++)
                if ((int)k >= m->keep_first && (int)(m->bytes.len - k) > m->keep_last)
                    s[at + k] = '*';
            any = true;
            break;
        }
    }
    return any;
}

static bool has_bytes(const pp_tx_t *tx, int kind, const char *name)
{
    const apr_array_header_t *a = tx->sanitise->bytes;
    for (int i = 0; i < a->nelts; i++) {
        const mask_bytes_t *m = &APR_ARRAY_IDX(a, i, mask_bytes_t);
        if (m->kind == kind && strcasecmp(m->name, name) == 0)
            return true;
    }
    return false;
}

/* Masks the values of sanitised arguments in a&b=c text (at off..off+len of s, a copy). */
static void mask_pairs(const pp_tx_t *tx, apr_pool_t *p, char *s, apr_size_t off, apr_size_t len)
{
    apr_size_t end = off + len, i = off;
    while (i < end) {
        apr_size_t j = i;
        while (j < end && s[j] != '&')
            j++;
        const char *eq = memchr(s + i, '=', j - i);
        if (eq) {
            pp_str_t raw = { s + i, (apr_size_t)(eq - (s + i)) }, name;
            pp_url_decode(p, raw, true, &name, NULL);
            const char *n = pp_str_dup(p, name).data;
            char *v = (char *)eq + 1;
            apr_size_t vlen = (apr_size_t)(s + j - v);
            if (whole(tx, PP_SANITISE_ARG, n))
                memset(v, '*', vlen);
            else if (has_bytes(tx, PP_SANITISE_ARG, n) &&
                     !mask_bytes(tx, PP_SANITISE_ARG, n, v, vlen))
                memset(v, '*', vlen); /* sent encoded: mask it all rather than show it */
        }
        i = j + 1;
    }
}

pp_str_t pp_audit_mask_request_line(const pp_tx_t *tx, apr_pool_t *p)
{
    pp_str_t line = tx->request_line;
    if (!tx->sanitise || !line.len)
        return line;
    const char *q = memchr(line.data, '?', line.len);
    if (!q)
        return line;
    apr_size_t start = (apr_size_t)(q + 1 - line.data), stop = line.len;
    for (apr_size_t k = start; k < line.len; k++)
        if (line.data[k] == ' ' || line.data[k] == '#') {
            stop = k;
            break;
        }
    char *copy = apr_pmemdup(p, line.data, line.len + 1);
    copy[line.len] = '\0';
    mask_pairs(tx, p, copy, start, stop - start);
    return (pp_str_t){ copy, line.len };
}

pp_str_t pp_audit_mask_form(const pp_tx_t *tx, pp_str_t body, apr_pool_t *p)
{
    if (!tx->sanitise || !body.len || tx->body_kind != PP_BODY_URLENCODED)
        return body;
    char *copy = apr_pmemdup(p, body.data, body.len + 1);
    copy[body.len] = '\0';
    mask_pairs(tx, p, copy, 0, body.len);
    return (pp_str_t){ copy, body.len };
}

pp_str_t pp_audit_mask_header(const pp_tx_t *tx, bool response, pp_str_t name, pp_str_t value,
                              apr_pool_t *p)
{
    if (!tx->sanitise || !value.len)
        return value;
    int kind = response ? PP_SANITISE_RESPONSE_HEADER : PP_SANITISE_REQUEST_HEADER;
    const char *n = pp_str_dup(p, name).data;
    bool all = whole(tx, kind, n);
    if (!all && !has_bytes(tx, kind, n))
        return value;
    char *copy = apr_pmemdup(p, value.data, value.len + 1);
    copy[value.len] = '\0';
    if (all)
        memset(copy, '*', value.len);
    else
        mask_bytes(tx, kind, n, copy, value.len);
    return (pp_str_t){ copy, value.len };
}
