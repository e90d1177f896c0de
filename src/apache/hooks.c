/*
 * Request hooks: where a transaction is created, inspected and logged (reference §1.2, §16).
 * The pp_tx_t lives on r->pool and is made when first needed: by phase 1, by the inbound phase,
 * or by the logging phase when a log records requests the rules did not see.
 *
 * A configuration with 2.x rules (SecRule, SecAction) has its phases where ModSecurity 2 runs
 * them (reference secrule-2.9 §1.1, §1.3): phase 1 at post_read_request, with the server's or
 * virtual host's configuration (nothing of <Location>/<Directory> is merged yet, so phase-1
 * rules written there never run, as in ModSecurity), answered before anything reads the body;
 * at fixups the transaction takes the request's merged configuration, which may turn the rules
 * off for the rest of it. 1.9 has no phase 1: a configuration without 2.x rules starts at fixups.
 *
 * Fixups, run as late as Apache allows so that the request is fully mapped (handler, filename,
 * per-directory configuration), is the 1.9 inbound phase; 2.x's phase 2 runs at its start, as
 * in ModSecurity 2 (run_inbound_first). There request line,
 * headers, environment and body go to the engine, and its verdict either answers the request or
 * lets it through with the body replayed (input.c); log_transaction hands over the final status
 * and runs the engine's logging phase (2.x phase 5, also after an interception).
 *
 * Not here: rule semantics (the engine's), the response path (output.c). Sub-requests and
 * internal redirects are never inspected: the request that caused them already was, and an
 * ErrorDocument for a denial would otherwise be denied again.
 */
#include <string.h>

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"

#include "mod_parapet.h"

pp_ap_req_t *pp_ap_req_get(request_rec *r)
{
    while (r->prev != NULL) {
        r = r->prev;
    }
    return ap_get_module_config(r->request_config, &parapet_module);
}

static int run_inbound(request_rec *r);

/* The connection's reusable spool file for request bodies (engine body/spool.c), kept in its
 * conn_config and made on first need; the file is only opened when a body spills, and closed
 * with the connection. Each HTTP/2 stream has a secondary connection, so a spool of its own. */
static pp_spool_t *conn_spool(conn_rec *c)
{
    pp_spool_t *spool = ap_get_module_config(c->conn_config, &parapet_module);

    if (spool == NULL) {
        spool = pp_spool_create(c->pool);
        ap_set_module_config(c->conn_config, &parapet_module, spool);
    }
    return spool;
}

/* The transaction of r, the first request of its chain, made on first need: a request the
 * engine does not inspect and no log records costs nothing more than this hook's test. */
static pp_ap_req_t *req_make(request_rec *r)
{
    pp_ap_req_t *rq = ap_get_module_config(r->request_config, &parapet_module);

    if (rq == NULL) {
        rq = apr_pcalloc(r->pool, sizeof(*rq));
        rq->tx = pp_tx_create(pp_ap_server_cfg(r->server), r->pool, pp_ap_unique_id(r));
        pp_tx_set_start_time(rq->tx, r->request_time);
        pp_tx_set_errlog(rq->tx, pp_ap_errlog, r);
        pp_tx_set_spool(rq->tx, conn_spool(r->connection));
        pp_tx_set_body_memory(rq->tx, pp_ap_process_of(r)->body_memory);
        pp_ap_tx_store(r, rq->tx);
        ap_set_module_config(r->request_config, &parapet_module, rq);
    }
    return rq;
}

/* The core answers TRACE before fixups, so the inbound phase would never see it: inspect it
 * now, with the server's configuration (a TRACE has no body and maps to no directory). An
 * internal redirect re-runs this hook; only the first request of a chain is inspected. */
static int inspect_trace(request_rec *r)
{
    if (r->prev != NULL || r->main != NULL || r->method_number != M_TRACE) {
        return DECLINED;
    }
    return run_inbound(r);
}

/* SecFilterEngine for this directory; DynamicOnly leaves out what the core would serve as a
 * static file (reference §2.2: dynamic = a handler other than default-handler). */
static bool engine_applies(const request_rec *r, const pp_cfg_t *cfg)
{
    /* 1.9dev4's per-request switch (reference §2.1): MODSEC_ENABLE set for the request (e.g.
     * by SetEnvIf) to On, Off or DynamicOnly overrides SecFilterEngine. */
    const char *force = apr_table_get(r->subprocess_env, "MODSEC_ENABLE");
    bool on = pp_cfg_engine_enabled(cfg), dynamic_only = pp_cfg_engine_dynamic_only(cfg);

    if (force != NULL) {
        on = strcasecmp(force, "Off") != 0;
        dynamic_only = strcasecmp(force, "DynamicOnly") == 0;
    }
    if (!on) {
        return false;
    }
    if (dynamic_only) {
        return r->handler != NULL && strcmp(r->handler, "default-handler") != 0;
    }
    return true;
}

/* What takes a call to work out (and most rule sets never read) is given when the engine
 * first asks: a variable such as SERVER_NAME or REMOTE_HOST, the audit or debug log. */
static void fill_connection(void *ctx, pp_conn_info_t *ci)
{
    request_rec *r = ctx;

    ci->server_name = ap_get_server_name(r);
    ci->remote_host = ap_get_useragent_host(r, REMOTE_NAME, NULL);
    ci->remote_ident = ap_get_remote_logname(r);
    ci->document_root = ap_document_root(r);
    ci->server_software = ap_get_server_banner();
}

static void give_connection(request_rec *r, pp_tx_t *tx)
{
    conn_rec *c = r->connection;
    /* Fields read now are the request's state at this point (handler, file name at fixups). */
    pp_conn_info_t ci = {
        /* useragent_ip honours mod_remoteip, which is what the application sees as well */
        .client_ip = r->useragent_ip,
        .client_port = r->useragent_addr ? r->useragent_addr->port : 0,
        .server_ip = c->local_ip,
        .server_port = c->local_addr ? c->local_addr->port : 0,
        .remote_user = r->user,
        .auth_type = r->ap_auth_type,
        .server_admin = r->server->server_admin,
        .script_filename = r->filename,
        .path_info = r->path_info,
        .uri = r->uri,
        .handler = r->handler,
        .is_subreq = r->main != NULL,
    };
    pp_tx_set_conn(tx, &ci);
    pp_tx_set_conn_fill(tx, fill_connection, r);
}

static void give_request_head(request_rec *r, pp_tx_t *tx)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char *line = r->the_request ? r->the_request : "";
    int i;

    give_connection(r, tx);
    /* A line the engine cannot parse is answered through the verdict (400), not here. */
    pp_tx_set_request_line(tx, (pp_str_t){ line, strlen(line) });
    for (i = 0; i < arr->nelts; i++) {
        if (e[i].key == NULL) {
            continue;
        }
        /* headers_in lives in the request pool, as long as the transaction: no copy. */
        pp_tx_add_request_header_ref(tx, e[i].key, e[i].val ? e[i].val : "");
    }
    pp_tx_set_env(tx, r->subprocess_env);
}

void pp_ap_report_verdict(request_rec *r, pp_ap_req_t *rq)
{
    /* The verdict headers (apr_table_unset ignores case, so one spelling each) and the CGI
     * variables the application reads them as. */
    static const char *const header[] = { "mod_security-message", "mod_security-action" };
    static const char *const cgi_var[] = { "HTTP_MOD_SECURITY_MESSAGE",
                                           "HTTP_MOD_SECURITY_ACTION" };
    apr_table_t *ours = pp_tx_headers_out(rq->tx);
    const char *v;
    size_t i;

    /* After the first report, one with the engine's three tables still empty changes nothing
     * the application reads: skip it (most requests, every phase). */
    if (rq->reported && apr_is_empty_table(ours) && apr_is_empty_table(pp_tx_env_out(rq->tx)) &&
        apr_is_empty_table(pp_tx_notes_out(rq->tx))) {
        return;
    }
    rq->reported = true;
    /* apr_table_overlap compresses its target even when there is nothing to add: skip it. */
    if (!apr_is_empty_table(pp_tx_env_out(rq->tx))) {
        apr_table_overlap(r->subprocess_env, pp_tx_env_out(rq->tx), APR_OVERLAP_TABLES_SET);
    }
    if (!apr_is_empty_table(pp_tx_notes_out(rq->tx))) {
        apr_table_overlap(r->notes, pp_tx_notes_out(rq->tx), APR_OVERLAP_TABLES_SET);
    }
    /* A client must not be able to hand the application a verdict of its own. */
    for (i = 0; i < 2; i++) {
        apr_table_unset(r->headers_in, header[i]);
    }
    /* 1.9 passed mod_security-message / -action to the application as request headers. */
    if (!apr_is_empty_table(ours)) {
        apr_table_overlap(r->headers_in, ours, APR_OVERLAP_TABLES_SET);
    }
    /* Apache 2.4 keeps headers with '_' in their names out of a CGI's environment, so the
     * application would never see them: give CGI/PHP the variables directly. */
    for (i = 0; i < 2; i++) {
        v = apr_table_get(ours, header[i]);
        if (v != NULL) {
            apr_table_set(r->subprocess_env, cgi_var[i], v);
        } else {
            apr_table_unset(r->subprocess_env, cgi_var[i]);
        }
    }
}

/* Proxying needs mod_proxy; without it the rule cannot be honoured, so fail closed. */
static int answer_proxy(request_rec *r, const pp_verdict_t *v)
{
    if (v->url == NULL || ap_find_linked_module("mod_proxy.c") == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "Parapet: proxy action needs mod_proxy and a URL; answering 500");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    r->filename = apr_pstrcat(r->pool, "proxy:", v->url, NULL);
    r->proxyreq = PROXYREQ_REVERSE;
    r->handler = "proxy-server";
    return OK;
}

/* drop (2.x): the client's connection is shut down without an answer, as ModSecurity closes
 * it; the 403 returned is what the access log records. Shutting the socket down (rather than
 * closing it under the core, which still owns it) makes every later write fail, so nothing
 * reaches the client. */
int pp_ap_drop_connection(request_rec *r)
{
    apr_socket_t *csd = ap_get_conn_socket(r->connection);

    r->connection->keepalive = AP_CONN_CLOSE;
    if (csd == NULL || apr_socket_shutdown(csd, APR_SHUTDOWN_READWRITE) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "Parapet: drop could not shut the connection down; answering 500");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    r->connection->aborted = 1;
    return HTTP_FORBIDDEN;
}

/* Whether the match that decided v was marked nolog: its reason is that match's text (made
 * when it matched; a match whose text is not made yet did not decide). */
static bool decided_by_nolog(const pp_verdict_t *v)
{
    int i;

    for (i = 0; v->matches != NULL && i < v->matches->nelts; i++) {
        const pp_match_t *m = APR_ARRAY_IDX(v->matches, i, const pp_match_t *);
        if (m->text == v->reason) {
            return !m->logged;
        }
    }
    return false;
}

/* Turns an intercepting verdict into what fixups returns. OK means "carry on" (proxy). The
 * engine has already written every logged match to the error log through pp_ap_errlog; this
 * line is for the administrator who raised LogLevel. A nolog rule's match writes nothing to
 * the error log at any level: its message and matched value stay out of it. */
static int answer_verdict(request_rec *r, const pp_verdict_t *v)
{
    if (!decided_by_nolog(v) && v->action == PP_ACTION_PROXY) {
        /* No status of ours: mod_proxy's answer is the response. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "Parapet: intercepted, proxied to %s in phase %d (%s) [unique_id \"%s\"]",
                      v->url ? v->url : "(no URL)", (int)v->phase,
                      v->reason ? v->reason : "no reason given",
                      pp_tx_unique_id(pp_ap_req_get(r)->tx));
    } else if (!decided_by_nolog(v)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "Parapet: intercepted with code %d in phase %d (%s) [unique_id \"%s\"]",
                      v->status, (int)v->phase, v->reason ? v->reason : "no reason given",
                      pp_tx_unique_id(pp_ap_req_get(r)->tx));
    }
    switch (v->action) {
    case PP_ACTION_PROXY:
        return answer_proxy(r, v);
    case PP_ACTION_REDIRECT:
        if (v->url != NULL) {
            apr_table_setn(r->headers_out, "Location", v->url);
            return v->status >= 300 && v->status < 400 ? v->status : HTTP_MOVED_TEMPORARILY;
        }
        return HTTP_INTERNAL_SERVER_ERROR;
    case PP_ACTION_DROP:
        return pp_ap_drop_connection(r);
    default:
        return ap_is_HTTP_VALID_RESPONSE(v->status) && v->status >= 300
                   ? v->status : HTTP_INTERNAL_SERVER_ERROR;
    }
}

static const pp_verdict_t *intercepting(pp_tx_t *tx)
{
    const pp_verdict_t *v = pp_tx_verdict(tx);
    return v != NULL && v->intercepted ? v : NULL;
}

/* Phase 1 at post_read_request for a configuration with 2.x rules (see the top of the file).
 * Apache has chosen the virtual host and not yet mapped the URL: r->per_dir_config is the
 * server's configuration. Sub-requests and internal redirects are never inspected. Returns
 * DECLINED, or the status that answers the request now. */
static int run_request_headers(request_rec *r)
{
    pp_ap_req_t *rq;
    const pp_cfg_t *cfg = pp_ap_dir_cfg(r);
    const pp_verdict_t *v;

    if (r->main != NULL || r->prev != NULL || !pp_cfg_has_rules2(cfg, PP_PHASE_NONE) ||
        !engine_applies(r, cfg)) {
        return DECLINED;
    }
    rq = req_make(r);
    pp_tx_set_config(rq->tx, cfg);
    rq->early = true;
    give_request_head(r, rq->tx);
    pp_tx_finish_request_headers(rq->tx);
    if (!pp_tx_verdict(rq->tx)->intercepted && pp_ap_request_has_body(r)) {
        pp_tx_check_request_length(rq->tx); /* 413 now, as ModSecurity 2 answers it */
    }
    v = intercepting(rq->tx);
    pp_ap_report_verdict(r, rq);
    return v != NULL ? answer_verdict(r, v) : DECLINED;
}

/* The inbound phase. Returns DECLINED to let the request through, else the status to answer. */
static int run_inbound(request_rec *r)
{
    pp_ap_req_t *rq;
    const pp_cfg_t *cfg;
    const pp_verdict_t *v;
    bool applies;
    int rc;

    if (r->main != NULL || r->prev != NULL) {
        return DECLINED;
    }
    rq = ap_get_module_config(r->request_config, &parapet_module);
    cfg = pp_ap_dir_cfg(r);
    if (rq != NULL && rq->inspected) {
        return DECLINED;
    }
    applies = engine_applies(r, cfg);
    if (rq != NULL && rq->early) {
        /* As ModSecurity 2 at fixups: the request's merged configuration from now on, whether
         * it keeps the rules on or not (then phases 2 to 5 run none). */
        pp_tx_set_config(rq->tx, cfg);
        pp_tx_set_rules_enabled(rq->tx, applies);
    }
    if (!applies) {
        return DECLINED;
    }
    rq = req_make(r);
    pp_tx_set_config(rq->tx, cfg);
    rq->inspected = true;
    if (rq->early) {
        give_connection(r, rq->tx); /* file name, handler, user: known now */
    }
    else {
        give_request_head(r, rq->tx);
    }
    /* Phase 1 ran at post_read_request or never runs: ModSecurity 2 never runs it with a
     * per-directory configuration. */
    pp_tx_parse_request_headers(rq->tx);
    if ((v = intercepting(rq->tx)) == NULL && pp_ap_request_has_body(r) &&
        pp_tx_wants_request_body(rq->tx)) {
        rc = pp_ap_read_request_body(r, rq);
        if (rc != OK) {
            return rc;
        }
    }
    pp_ap_note_time(r, PP_AP_NOTE_TIME1);
    if (v == NULL) {
        pp_tx_finish_request_body(rq->tx);
        v = intercepting(rq->tx);
    }
    pp_ap_note_time(r, PP_AP_NOTE_TIME2);
    pp_ap_report_verdict(r, rq);
    if (v != NULL) {
        rc = answer_verdict(r, v);
        if (rc != OK) {
            return rc;
        }
    }
    if (rq->body_consumed) {
        pp_ap_replay_prepare(r, rq);
    }
    return DECLINED;
}

/* fixups, REALLY_FIRST: a configuration with 2.x rules has its phase 2 where ModSecurity 2
 * has it, before the other modules' fixups (a per-directory RewriteRule that redirects, for
 * one, comes after the rules and cannot keep them from running). */
static int run_inbound_first(request_rec *r)
{
    if (!pp_cfg_has_rules2(pp_ap_dir_cfg(r), PP_PHASE_NONE)) {
        return DECLINED;
    }
    return run_inbound(r);
}

/* r->status_line, or the standard one for r->status (a handler such as a CGI leaves it
 * NULL): ModSecurity 2's STATUS_LINE ("200 OK"). */
static const char *status_line(const request_rec *r)
{
    return r->status_line != NULL ? r->status_line : ap_get_status_line(r->status);
}

void pp_ap_give_response_head(request_rec *r, pp_ap_req_t *rq, bool with_type)
{
    const apr_table_t *tabs[2] = { r->headers_out, r->err_headers_out };
    int t, i;

    /* RESPONSE_CONTENT_TYPE / _LENGTH: the entity as Apache has it now, whatever the headers */
    pp_tx_set_response_entity(rq->tx, r->content_type, r->clength);
    if (!rq->response_given) {
        rq->response_given = true;
        pp_tx_set_response_status(rq->tx, r->status, status_line(r));
        for (t = 0; t < 2; t++) {
            const apr_array_header_t *arr = apr_table_elts(tabs[t]);
            const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
            for (i = 0; i < arr->nelts; i++) {
                if (e[i].key != NULL && e[i].val != NULL) {
                    pp_tx_add_response_header(rq->tx,
                                              (pp_str_t){ e[i].key, strlen(e[i].key) },
                                              (pp_str_t){ e[i].val, strlen(e[i].val) });
                }
            }
        }
        /* What the engine got: a Content-Type already in the table counts as given. */
        rq->type_given = apr_table_get(r->headers_out, "Content-Type") != NULL;
    }
    /* The core adds Content-Type from r->content_type, not from the header table. */
    if (with_type && !rq->type_given && r->content_type != NULL) {
        rq->type_given = true;
        pp_tx_add_response_header(rq->tx, PP_STR("Content-Type"),
                                  (pp_str_t){ r->content_type, strlen(r->content_type) });
    }
}

/* Logging phase, run before mod_log_config so what it sets is visible to CustomLog. Apache
 * calls this with the first request of an internal-redirect chain; the status the client saw,
 * and the environment CustomLog reads, are on the last one. */
static int finish_tx(request_rec *r)
{
    pp_ap_req_t *rq = pp_ap_req_get(r);
    request_rec *last = r;
    apr_status_t rv;

    while (last->next != NULL) {
        last = last->next;
    }
    if (rq == NULL) {
        if (r->main != NULL || r->prev != NULL || !pp_cfg_logs_uninspected(pp_ap_dir_cfg(last))) {
            return DECLINED;
        }
        rq = req_make(r);
    }
    /* The audit and guardian logs are independent of SecFilterEngine (reference §2.2, §11):
     * a request the rules never saw is still logged, so give the engine its head now. Its
     * phase 5 runs no rule: no phase before it did either. */
    if (!rq->inspected && !rq->early) {
        pp_tx_set_config(rq->tx, pp_ap_dir_cfg(last));
        pp_tx_set_rules_enabled(rq->tx, false);
        give_request_head(r, rq->tx);
    }
    if (pp_tx_wants_response_headers(rq->tx)) {
        pp_ap_give_response_head(last, rq, true);
    }
    /* The held-back response may have been replaced by a denial since the head was given. */
    pp_tx_set_response_status(rq->tx, last->status, status_line(last));
    rv = pp_tx_finish(rq->tx);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "Parapet: logging phase failed [unique_id \"%s\"]",
                      pp_tx_unique_id(rq->tx));
    }
    pp_ap_report_verdict(last, rq);
#ifndef PP_AP_NO_METRICS /* bench/metrics/cost.py builds without it to measure the cost */
    if (rq->inspected || rq->early) {
        pp_ap_metrics_count(r, rq->tx);
    }
#endif
    /* For `CustomLog ... env=mod_security-relevant` (reference §1.3). */
    if (pp_tx_verdict(rq->tx)->relevant) {
        apr_table_setn(last->subprocess_env, "mod_security-relevant", "1");
    }
    return DECLINED;
}

void pp_ap_register_request_hooks(apr_pool_t *p)
{
    /* mod_unique_id must have set UNIQUE_ID before the transaction takes its id. */
    static const char *const after_unique_id[] = { "mod_unique_id.c", NULL };
    static const char *const before_log_config[] = { "mod_log_config.c", NULL };

    /* ModSecurity 2's place for phase 1: really first, after the modules that set the client's
     * address (mod_remoteip) and UNIQUE_ID. */
    static const char *const before_phase1[] = { "mod_unique_id.c", "mod_remoteip.c", NULL };

    ap_hook_post_read_request(run_request_headers, before_phase1, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_post_read_request(inspect_trace, after_unique_id, NULL, APR_HOOK_LAST);
    ap_hook_fixups(run_inbound_first, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* 1.9 ran the inbound phase as the last thing before the handler (reference §13). */
    ap_hook_fixups(run_inbound, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_log_transaction(finish_tx, NULL, before_log_config, APR_HOOK_FIRST);
}
