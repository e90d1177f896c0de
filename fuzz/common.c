/*
 * What the fuzz targets that read configurations or requests share (common.h): configuration
 * text cut into logical lines and applied directive by directive, the test for a configuration
 * a transaction may run under, a raw HTTP request cut into line, headers and body, and the
 * transaction's first steps and verdict check. run.sh links it into every target.
 */
#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

#include "common.h"

/* ---- configuration ------------------------------------------------------------------------ */

bool fuzz_config_lines(apr_pool_t *p, const char *data, size_t size, fuzz_line_fn fn, void *ctx)
{
    size_t pos = 0;
    int lineno = 0;
    while (pos < size) {
        char *line = apr_palloc(p, size - pos + 1), *o = line;
        int first = ++lineno;
        for (;;) {
            const char *start = data + pos;
            size_t len = 0;
            while (pos + len < size && start[len] != '\n' && start[len] != '\0')
                len++;
            pos += len + (pos + len < size ? 1 : 0);
            if (len && start[len - 1] == '\r')
                len--;
            bool cont = len && start[len - 1] == '\\' && pos < size;
            memcpy(o, start, cont ? len - 1 : len);
            o += cont ? len - 1 : len;
            if (!cont)
                break;
            lineno++;
        }
        *o = '\0';
        while (apr_isspace(*line))
            line++;
        if (!*line || *line == '#')
            continue;
        if (!fn(ctx, line, first))
            return false;
    }
    return true;
}

const char *fuzz_apply_line(pp_cfg_t *cfg, char *line, const pp_cfg_site_t *site,
                            const char *const *skipped, apr_pool_t *cp, apr_pool_t *tp)
{
    char *args = line;
    while (*args && !apr_isspace(*args))
        args++;
    if (*args)
        *args++ = '\0';
    const pp_directive_t *d = pp_directive_find(line);
    if (!d)
        return NULL;
    for (int i = 0; skipped && skipped[i]; i++)
        if (strcasecmp(pp_directive_name(d), skipped[i]) == 0)
            return NULL;
    const char *err = pp_cfg_apply(cfg, d, args, site, cp, tp);
    /* Style §6: a message names the directive (and the host adds file:line). */
    if (err)
        CHECK(*err && strstr(err, pp_directive_name(d)) != NULL);
    return err;
}

static bool unsafe_set(const pp_actionset_t *s)
{
    return s && (s->exec || s->pause_ms > 0);
}

bool fuzz_safe_to_run(const pp_cfg_t *cfg)
{
    const apr_array_header_t *rules = cfg->effective_rules;
    for (int i = 0; i < rules->nelts; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
        if (unsafe_set(r->own) || unsafe_set(r->effective) || unsafe_set(r->bound_default) ||
            unsafe_set(r->signature))
            return false;
        if (r->pause || (r->op.def && (strcasecmp(r->op.def->name, "inspectFile") == 0 ||
                                       strcasecmp(r->op.def->name, "rbl") == 0)))
            return false;
    }
    return !unsafe_set(pp_cfg_default_action(cfg)) && !cfg->approve_script &&
           !cfg->clamd_address && !cfg->upload_dir;
}

/* ---- requests ----------------------------------------------------------------------------- */

bool fuzz_next_line(const char **s, const char *end, pp_str_t *line)
{
    if (*s >= end)
        return false;
    const char *nl = memchr(*s, '\n', (apr_size_t)(end - *s));
    const char *stop = nl ? nl : end;
    apr_size_t n = (apr_size_t)(stop - *s);
    if (n && (*s)[n - 1] == '\r')
        n--;
    *line = (pp_str_t){ *s, n };
    *s = nl ? nl + 1 : end;
    return true;
}

static bool name_is(pp_str_t name, const char *want)
{
    return name.len == strlen(want) && strncasecmp(name.data, want, name.len) == 0;
}

/* Chunked transfer coding, leniently: stops at the last chunk or at the first malformed size,
 * keeping what was read (Apache would answer 400; the engine still sees a body). */
static pp_str_t dechunk(apr_pool_t *p, pp_str_t in)
{
    char *out = apr_palloc(p, in.len + 1);
    apr_size_t olen = 0;
    const char *s = in.data, *end = in.data + in.len;
    pp_str_t line;
    while (fuzz_next_line(&s, end, &line)) {
        apr_size_t n = 0, i = 0;
        for (; i < line.len && apr_isxdigit(line.data[i]) && n < ((apr_size_t)1 << 40); i++)
            n = n * 16 + (apr_size_t)(apr_isdigit(line.data[i]) ? line.data[i] - '0'
                                                                : (line.data[i] | 0x20) - 'a' + 10);
        if (i == 0 || n == 0)
            break;
        if (n > (apr_size_t)(end - s))
            n = (apr_size_t)(end - s);
        memcpy(out + olen, s, n);
        olen += n;
        s += n;
        fuzz_next_line(&s, end, &line);
    }
    out[olen] = '\0';
    return (pp_str_t){ out, olen };
}

void fuzz_parse_request(apr_pool_t *p, const char *s, const char *end, fuzz_request_t *rq)
{
    memset(rq, 0, sizeof *rq);
    fuzz_next_line(&s, end, &rq->line);
    bool chunked = false;
    apr_int64_t clen = -1;
    pp_str_t line;
    while (fuzz_next_line(&s, end, &line) && line.len) {
        const char *colon = memchr(line.data, ':', line.len);
        if (!colon || rq->nheaders == FUZZ_MAX_HEADERS)
            continue;
        pp_field_t *h = &rq->headers[rq->nheaders++];
        h->name = (pp_str_t){ line.data, (apr_size_t)(colon - line.data) };
        const char *v = colon + 1, *vend = line.data + line.len;
        while (v < vend && (*v == ' ' || *v == '\t'))
            v++;
        h->value = (pp_str_t){ v, (apr_size_t)(vend - v) };
        char *cv = apr_pstrmemdup(p, h->value.data, h->value.len);
        if (name_is(h->name, "Transfer-Encoding"))
            chunked = strcasestr(cv, "chunked") != NULL;
        else if (name_is(h->name, "Content-Length"))
            clen = apr_atoi64(cv);
        else if (name_is(h->name, "Content-Type") && !rq->content_type)
            rq->content_type = cv;
    }
    rq->body = (pp_str_t){ s, (apr_size_t)(end - s) };
    if (chunked)
        rq->body = dechunk(p, rq->body);
    else if (clen >= 0 && (apr_uint64_t)clen < rq->body.len)
        rq->body.len = (apr_size_t)clen;
}

/* ---- the transaction ---------------------------------------------------------------------- */

void fuzz_discard_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    (void)level;
    (void)msg;
}

void fuzz_conn_info(pp_conn_info_t *ci)
{
    memset(ci, 0, sizeof *ci);
    ci->client_ip = "192.0.2.7";
    ci->client_port = 51234;
    ci->server_ip = "127.0.0.1";
    ci->server_port = 80;
    ci->server_name = "localhost";
    ci->server_software = "Apache";
    ci->document_root = "/var/www";
    ci->script_filename = "/var/www/index.php";
}

void fuzz_send_request_head(pp_tx_t *tx, const fuzz_request_t *rq)
{
    pp_tx_set_request_line(tx, rq->line);
    for (int i = 0; i < rq->nheaders; i++)
        pp_tx_add_request_header(tx, rq->headers[i].name, rq->headers[i].value);
    pp_tx_finish_request_headers(tx);
}

void fuzz_check_verdict(const pp_tx_t *tx)
{
    const pp_verdict_t *v = pp_tx_verdict(tx);
    CHECK(v->matches != NULL);
    /* A proxy verdict has no status of its own (mod_proxy's answer is the response, as in
     * ModSecurity, whose interception returns OK for it): its URL instead. */
    if (v->intercepted && v->action == PP_ACTION_PROXY)
        CHECK(v->url != NULL);
    else if (v->intercepted)
        CHECK(v->status >= 100 && v->status <= 999 && v->action != PP_ACTION_NONE);
    for (int i = 0; i < v->matches->nelts; i++) {
        const pp_match_t *m = APR_ARRAY_IDX(v->matches, i, const pp_match_t *);
        CHECK(m != NULL && pp_match_text(m) != NULL);
    }
}
