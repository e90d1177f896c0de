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
#include "common.h"

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

typedef struct loading_t {
    pp_cfg_t *cfg;
    pp_cfg_site_t site;
} loading_t;

/* One configuration line; false when it failed (the context stops there, as in Apache). The
 * containers ('<' lines) are not read: one server context. */
static bool apply_line(void *ctx, char *line, int lineno)
{
    loading_t *l = ctx;
    if (*line == '<')
        return true;
    l->site.line = lineno;
    return fuzz_apply_line(l->cfg, line, &l->site, skipped, cp, tp) == NULL;
}

/* The configuration text in [data, data + size): NULL when it does not load. */
static const pp_cfg_t *load(const char *data, size_t size)
{
    loading_t l = { pp_cfg_create(cp), { "fuzz_secrule.conf", 0, NULL, false, false, true } };
    for (int i = 0; prelude[i]; i++)
        CHECK(apply_line(&l, apr_pstrdup(tp, prelude[i]), 0));
    if (!fuzz_config_lines(tp, data, size, apply_line, &l))
        return NULL;
    return pp_cfg_finish(l.cfg, cp, tp) == NULL ? l.cfg : NULL;
}

/* ---- the request --------------------------------------------------------------------------- */

/* A request, and the response body that follows a second "%%" line. */
typedef struct request_t {
    fuzz_request_t rq;
    pp_str_t response;
} request_t;

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
    const char *sep = separator(s, end);
    rq->response = (pp_str_t){ "", 0 };
    if (sep) {
        const char *r = after_separator(sep, end);
        rq->response = (pp_str_t){ r, (apr_size_t)(end - r) };
        end = sep;
    }
    fuzz_parse_request(txp, s, end, &rq->rq);
}

static void run(const pp_cfg_t *cfg, const request_t *r)
{
    const fuzz_request_t *rq = &r->rq;
    pp_tx_t *tx = pp_tx_create(cfg, txp, "fuzz");
    pp_tx_set_errlog(tx, fuzz_discard_log, NULL);
    pp_conn_info_t ci;
    fuzz_conn_info(&ci);
    pp_tx_set_conn(tx, &ci);
    fuzz_send_request_head(tx, rq);
    if (!pp_tx_verdict(tx)->intercepted && rq->body.len && pp_tx_wants_request_body(tx))
        pp_tx_feed_request_body(tx, rq->body.data, rq->body.len);
    pp_tx_finish_request_body(tx);
    fuzz_check_verdict(tx);
    if (!pp_tx_verdict(tx)->intercepted) {
        pp_tx_set_response_status(tx, 200, NULL);
        pp_tx_add_response_header(tx, PP_STR("Content-Type"), PP_STR("text/html"));
        pp_tx_finish_response_headers(tx);
        if (!pp_tx_verdict(tx)->intercepted && pp_tx_wants_response_body(tx, "text/html"))
            pp_tx_feed_response_body(tx, r->response.data, r->response.len);
        pp_tx_finish_response_body(tx);
    }
    pp_tx_finish(tx);
    fuzz_check_verdict(tx);
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
    if (cfg && fuzz_safe_to_run(cfg)) {
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
