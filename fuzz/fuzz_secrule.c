/*
 * libFuzzer target for the 2.x SecRule language at run time (lang/secrule.c, secrule_edit.c,
 * actionlist.c, macro.c, lang/actions2/, rules/eval.c, chain.c, variables/collect2.c,
 * operators/, transforms/; reference secrule-2.9 §2-§9). The input is a configuration, a line
 * "%%", then a raw HTTP request (request line, headers up to the blank line, body; de-chunked
 * for Transfer-Encoding: chunked, cut at Content-Length), optionally followed by another "%%"
 * line and a response body. Without a "%%" line the whole input is the configuration and a
 * fixed request runs against it.
 *
 * The configuration goes line by line (backslash continuation) to pp_cfg_apply after a fixed
 * prelude (SecRuleEngine On, both body accesses, a response MIME type list), in one server
 * context, stopping at its first error as Apache does; then pp_cfg_finish. A configuration that
 * loads runs the request through the pp_tx_* calls in the adapter's order, phases 1-5: setvar,
 * macro expansion, ctl, skip/skipAfter, chains, multiMatch, capture, the collections.
 *
 * Checks: an error message names its directive; an interception has a status in 100-999 and an
 * action; every match has its text. ASan/UBSan do the rest.
 *
 * Left out, as in fuzz_config: directives that write files, start programs or connect
 * (SecAuditLog*, SecDebugLog, SecUploadDir, SecTmpDir, SecDataDir, SecChrootDir,
 * SecUploadApproveScript, SecUploadScanClamd, SecRemoteRules, SecCollectionStore*,
 * SecGuardianLog, SecFilterDebugLog, SecRuleScript), and a transaction is not run when a rule
 * would start a program (exec, @inspectFile), pause, or ask a DNS server (@rbl).
 */
#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "fuzz.h"

#define MAX_HEADERS 100 /* Apache's LimitRequestFields default */

static apr_pool_t *root, *cp, *tp, *txp;

static const char *const skipped[] = {
    "SecAuditLog",        "SecAuditLog2",       "SecAuditLogStorageDir",
    "SecDebugLog",        "SecUploadDir",       "SecTmpDir",
    "SecDataDir",         "SecChrootDir",       "SecUploadApproveScript",
    "SecUploadScanClamd", "SecRemoteRules",     "SecCollectionStore",
    "SecCollectionStorePasswordFile",           "SecGuardianLog",
    "SecFilterDebugLog",  "SecRuleScript",      NULL,
};

static const char *const prelude[] = {
    "SecRuleEngine On",
    "SecRequestBodyAccess On",
    "SecResponseBodyAccess On",
    "SecResponseBodyMimeType text/html text/plain application/json",
    NULL,
};

static const char fixed_request[] =
    "POST /index.php?id=1%27+or+1=1--&a=%3Cscript%3E HTTP/1.1\n"
    "Host: localhost\nUser-Agent: sqlmap/1.0\nCookie: sid=abc; t=x\n"
    "Content-Type: application/x-www-form-urlencoded\nContent-Length: 23\n\n"
    "b=..%2F..%2Fetc%2Fpasswd";

static bool is_skipped(const pp_directive_t *d)
{
    for (int i = 0; skipped[i]; i++)
        if (strcasecmp(pp_directive_name(d), skipped[i]) == 0)
            return true;
    return false;
}

static void discard_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    (void)level;
    (void)msg;
}

/* One configuration line; false when it failed (the context stops there). */
static bool apply_line(pp_cfg_t *cfg, char *line, int lineno)
{
    char *args = line;
    while (*args && !apr_isspace(*args))
        args++;
    if (*args)
        *args++ = '\0';
    const pp_directive_t *d = pp_directive_find(line);
    if (!d || is_skipped(d))
        return true;
    pp_cfg_site_t site = { "fuzz_secrule.conf", lineno, NULL, false, false, true };
    const char *err = pp_cfg_apply(cfg, d, args, &site, cp, tp);
    if (err)
        CHECK(*err && strstr(err, pp_directive_name(d)) != NULL);
    return err == NULL;
}

/* The configuration text in [data, data + size): NULL when it does not load. */
static const pp_cfg_t *load(const char *data, size_t size)
{
    pp_cfg_t *cfg = pp_cfg_create(cp);
    for (int i = 0; prelude[i]; i++)
        CHECK(apply_line(cfg, apr_pstrdup(tp, prelude[i]), 0));
    size_t pos = 0;
    int lineno = 0;
    while (pos < size) {
        char *line = apr_palloc(tp, size - pos + 1), *o = line;
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
        if (!*line || *line == '#' || *line == '<')
            continue;
        if (!apply_line(cfg, line, first))
            return NULL;
    }
    return pp_cfg_finish(cfg, cp, tp) == NULL ? cfg : NULL;
}

static bool unsafe_set(const pp_actionset_t *s)
{
    return s && (s->exec || s->pause_ms > 0);
}

/* Whether running a transaction could start a program or sleep. */
static bool safe_to_run(const pp_cfg_t *cfg)
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
    return !unsafe_set(pp_cfg_default_action(cfg));
}

/* ---- the request --------------------------------------------------------------------------- */

typedef struct request_t {
    pp_str_t line;
    pp_field_t headers[MAX_HEADERS];
    int nheaders;
    pp_str_t body, response;
} request_t;

static bool next_line(const char **s, const char *end, pp_str_t *line)
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

/* Chunked transfer coding, leniently (as fuzz_request.c). */
static pp_str_t dechunk(pp_str_t in)
{
    char *out = apr_palloc(txp, in.len + 1);
    apr_size_t olen = 0;
    const char *s = in.data, *end = in.data + in.len;
    pp_str_t line;
    while (next_line(&s, end, &line)) {
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
        next_line(&s, end, &line);
    }
    out[olen] = '\0';
    return (pp_str_t){ out, olen };
}

/* Where the line "%%" starts in [s, end), or NULL. */
static const char *separator(const char *s, const char *end)
{
    for (const char *p = s; p + 2 <= end; p++) {
        p = memchr(p, '%', (apr_size_t)(end - p));
        if (!p || p + 2 > end)
            return NULL;
        if ((p == s || p[-1] == '\n') && p[1] == '%' &&
            (p + 2 == end || p[2] == '\n' || p[2] == '\r'))
            return p;
    }
    return NULL;
}

static const char *after_separator(const char *sep, const char *end)
{
    const char *s = sep + 2;
    if (s < end && *s == '\r')
        s++;
    if (s < end && *s == '\n')
        s++;
    return s;
}

static void parse_request(const char *s, const char *end, request_t *rq)
{
    memset(rq, 0, sizeof *rq);
    const char *sep = separator(s, end);
    if (sep) {
        const char *r = after_separator(sep, end);
        rq->response = (pp_str_t){ r, (apr_size_t)(end - r) };
        end = sep;
    }
    next_line(&s, end, &rq->line);
    bool chunked = false;
    apr_int64_t clen = -1;
    pp_str_t line;
    while (next_line(&s, end, &line) && line.len) {
        const char *colon = memchr(line.data, ':', line.len);
        if (!colon || rq->nheaders == MAX_HEADERS)
            continue;
        pp_field_t *h = &rq->headers[rq->nheaders++];
        h->name = (pp_str_t){ line.data, (apr_size_t)(colon - line.data) };
        const char *v = colon + 1, *vend = line.data + line.len;
        while (v < vend && (*v == ' ' || *v == '\t'))
            v++;
        h->value = (pp_str_t){ v, (apr_size_t)(vend - v) };
        char *cv = apr_pstrmemdup(txp, h->value.data, h->value.len);
        if (name_is(h->name, "Transfer-Encoding"))
            chunked = strcasestr(cv, "chunked") != NULL;
        else if (name_is(h->name, "Content-Length"))
            clen = apr_atoi64(cv);
    }
    rq->body = (pp_str_t){ s, (apr_size_t)(end - s) };
    if (chunked)
        rq->body = dechunk(rq->body);
    else if (clen >= 0 && (apr_uint64_t)clen < rq->body.len)
        rq->body.len = (apr_size_t)clen;
}

static void check_verdict(const pp_tx_t *tx)
{
    const pp_verdict_t *v = pp_tx_verdict(tx);
    CHECK(v->matches != NULL);
    if (v->intercepted)
        CHECK(v->status >= 100 && v->status <= 999 && v->action != PP_ACTION_NONE);
    for (int i = 0; i < v->matches->nelts; i++) {
        const pp_match_t *m = APR_ARRAY_IDX(v->matches, i, const pp_match_t *);
        CHECK(m != NULL && pp_match_text(m) != NULL);
    }
}

static void run(const pp_cfg_t *cfg, const request_t *rq)
{
    pp_tx_t *tx = pp_tx_create(cfg, txp, "fuzz");
    pp_tx_set_errlog(tx, discard_log, NULL);
    pp_conn_info_t ci = { 0 };
    ci.client_ip = "192.0.2.7";
    ci.client_port = 51234;
    ci.server_ip = "127.0.0.1";
    ci.server_port = 80;
    ci.server_name = "localhost";
    ci.server_software = "Apache";
    ci.document_root = "/var/www";
    ci.script_filename = "/var/www/index.php";
    pp_tx_set_conn(tx, &ci);
    pp_tx_set_request_line(tx, rq->line);
    for (int i = 0; i < rq->nheaders; i++)
        pp_tx_add_request_header(tx, rq->headers[i].name, rq->headers[i].value);
    pp_tx_finish_request_headers(tx);
    if (!pp_tx_verdict(tx)->intercepted && rq->body.len && pp_tx_wants_request_body(tx))
        pp_tx_feed_request_body(tx, rq->body.data, rq->body.len);
    pp_tx_finish_request_body(tx);
    check_verdict(tx);
    if (!pp_tx_verdict(tx)->intercepted) {
        pp_tx_set_response_status(tx, 200, NULL);
        pp_tx_add_response_header(tx, PP_STR("Content-Type"), PP_STR("text/html"));
        pp_tx_finish_response_headers(tx);
        if (!pp_tx_verdict(tx)->intercepted && pp_tx_wants_response_body(tx, "text/html"))
            pp_tx_feed_response_body(tx, rq->response.data, rq->response.len);
        pp_tx_finish_response_body(tx);
    }
    pp_tx_finish(tx);
    check_verdict(tx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    const char *err = pp_engine_init(root);
    if (err) {
        fprintf(stderr, "fuzz_secrule: %s\n", err);
        abort();
    }
    apr_pool_create(&cp, root);
    apr_pool_create(&tp, root);
    apr_pool_create(&txp, root);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data, *end = s + size;
    const char *sep = separator(s, end);
    const pp_cfg_t *cfg = load(s, sep ? (size_t)(sep - s) : size);
    if (cfg && safe_to_run(cfg)) {
        request_t rq;
        if (sep)
            parse_request(after_separator(sep, end), end, &rq);
        else
            parse_request(fixed_request, fixed_request + sizeof fixed_request - 1, &rq);
        run(cfg, &rq);
    }
    apr_pool_clear(txp);
    apr_pool_clear(tp);
    apr_pool_clear(cp);
    return 0;
}
