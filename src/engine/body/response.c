/*
 * Response side (reference §7): status and headers, and the held-back body for output
 * scanning. A response whose MIME type is in SecFilterOutputMimeTypes is buffered (memory up to
 * SecOutputInMemoryLimit, then disk) up to SecResponseBodyLimit, and OUTPUT / OUTPUT_STATUS
 * rules run at its end, or when the limit is reached with ProcessPartial (the rest then streams
 * unheld and is never written to disk); anything else streams untouched. OUTPUT sees the
 * in-memory part of the body. A body that cannot be held intercepts with 500 (fail closed).
 */
#include "store/store.h"
#include "tx.h"

void pp_tx_set_response_status(pp_tx_t *tx, int status, const char *status_line)
{
    tx->status = status;
    tx->status_line = status_line ? apr_pstrdup(tx->pool, status_line) : NULL;
    pp_tx_changed(tx, PP_SRC_RESPONSE);
}

void pp_tx_set_response_entity(pp_tx_t *tx, const char *content_type, apr_off_t length)
{
    tx->response_entity.given = true;
    tx->response_entity.content_type = content_type ? apr_pstrdup(tx->pool, content_type) : NULL;
    tx->response_entity.length = length;
    pp_tx_changed(tx, PP_SRC_RESPONSE);
}

void pp_tx_add_response_header(pp_tx_t *tx, pp_str_t name, pp_str_t value)
{
    pp_field_t *f = apr_array_push(tx->response_headers);
    f->name = pp_str_dup(tx->pool, name);
    f->value = pp_str_dup(tx->pool, value);
    pp_tx_changed(tx, PP_SRC_RESPONSE);
}

bool pp_tx_wants_response_headers(const pp_tx_t *tx)
{
    /* The audit record shows them; the guardian line takes the byte count from them; 2.x rules
     * of phase 5 may read them. */
    return pp_tx_audit_engine(tx) != PP_AUDIT_OFF ||
           tx->cfg->guardian_log != NULL ||
           (!tx->rules_off && pp_cfg_has_rules2(tx->cfg, PP_PHASE_LOGGING));
}

bool pp_tx_wants_response_body(pp_tx_t *tx, const char *content_type)
{
    return pp_cfg_engine_enabled(tx->cfg) && pp_tx_response_body_access(tx) &&
           pp_cfg_output_mime_matches(tx->cfg, content_type);
}

apr_status_t pp_tx_finish_response_headers(pp_tx_t *tx)
{
    if (tx->response_headers_done || tx->verdict.intercepted)
        return APR_SUCCESS;
    tx->response_headers_done = true;
    return pp_eval_phase(tx, PP_PHASE_RESPONSE_HEADERS);
}

bool pp_tx_wants_response_phases(const pp_tx_t *tx)
{
    return !tx->rules_off && !tx->verdict.intercepted && !tx->response_done &&
           (pp_cfg_has_rules2(tx->cfg, PP_PHASE_RESPONSE_HEADERS) ||
            pp_cfg_has_rules2(tx->cfg, PP_PHASE_RESPONSE_BODY));
}

/* Fail closed: a response we could not hold whole is a response we cannot release whole. */
static apr_status_t fail_hold(pp_tx_t *tx, apr_status_t rv)
{
    char buf[120];
    const char *where = pp_buffer_dir(tx->response_body);
    if (!where)
        where = tx->cfg->upload_dir ? tx->cfg->upload_dir : "the temp dir";
    pp_tx_fail(tx, 500, PP_PHASE_RESPONSE_BODY,
               apr_psprintf(tx->pool, "Failed to hold the response body in %s: %s", where,
                            apr_strerror(rv, buf, sizeof buf)));
    return rv;
}

/* Past SecResponseBodyLimit (reference: secrule-2.9 SecResponseBodyLimitAction). ProcessPartial
 * is the default for every configuration: 1.9 held every scanned response whole and never
 * refused a large page, and ModSecurity 2's recommended configuration chooses it too
 * (docs/migration-1.9.md). */
static apr_status_t over_limit(pp_tx_t *tx, apr_off_t limit)
{
    /* DetectionOnly makes it ProcessPartial, as in ModSecurity (reference secrule-2.9 §1.2). */
    if (pp_cfg_int(tx->cfg->response_limit_action, PP_LIMIT_PROCESS_PARTIAL) ==
            PP_LIMIT_PROCESS_PARTIAL || pp_tx_detection_only(tx)) {
        pp_debug(tx, 4, "Response body over SecResponseBodyLimit (%" APR_OFF_T_FMT " bytes): "
                 "OUTPUT inspects the first %" APR_OFF_T_FMT " bytes, the rest streams unheld",
                 limit, limit);
        return tx->response_stop = APR_INCOMPLETE;
    }
    pp_tx_fail(tx, 500, PP_PHASE_RESPONSE_BODY,
               apr_psprintf(tx->pool, "Response body too large (over the limit of %" APR_OFF_T_FMT
                            " bytes)", limit));
    return tx->response_stop = APR_ENOSPC;
}

apr_status_t pp_tx_feed_response_body(pp_tx_t *tx, const char *data, apr_size_t len)
{
    if (!tx->response_body)
        tx->response_body = pp_buffer_create(tx->pool, (apr_size_t)pp_cfg_output_limit(tx->cfg),
                                              tx->cfg->upload_dir);
    if (tx->response_stop != APR_SUCCESS)
        return tx->response_stop;
    apr_status_t rv = pp_buffer_error(tx->response_body);
    if (rv != APR_SUCCESS)
        return rv; /* answered when it happened */
    apr_off_t limit = (apr_off_t)pp_tx_response_body_limit(tx);
    apr_off_t room = limit - pp_buffer_length(tx->response_body);
    bool over = (apr_off_t)len > room;
    if (over && over_limit(tx, limit) != APR_INCOMPLETE)
        return tx->response_stop;
    rv = pp_buffer_feed(tx->response_body, data, over ? (apr_size_t)room : len);
    if (rv != APR_SUCCESS)
        return fail_hold(tx, rv);
    return over ? APR_INCOMPLETE : APR_SUCCESS;
}

apr_off_t pp_tx_response_body_length(const pp_tx_t *tx)
{
    return tx->response_body ? pp_buffer_length(tx->response_body) : 0;
}

apr_status_t pp_tx_finish_response_body(pp_tx_t *tx)
{
    if (tx->response_done)
        return APR_SUCCESS;
    tx->response_done = true;
    tx->response_text = tx->response_body ? pp_buffer_prefix(tx->response_body) : PP_STR("");
    pp_tx_changed(tx, PP_SRC_RESPONSE);
    if (tx->verdict.intercepted)
        return APR_SUCCESS;
    return pp_eval_phase(tx, PP_PHASE_RESPONSE_BODY);
}

apr_status_t pp_tx_read_response_body(pp_tx_t *tx, const char **data, apr_size_t *len)
{
    if (!tx->response_body) {
        *data = "";
        *len = 0;
        return APR_SUCCESS;
    }
    apr_status_t rv = pp_buffer_error(tx->response_body);
    if (rv != APR_SUCCESS)
        return pp_buffer_read(tx->response_body, data, len);
    rv = pp_buffer_read(tx->response_body, data, len);
    if (rv != APR_SUCCESS) {
        /* After the verdict: recorded (relevant, logged) for the 500 or the broken-off
         * response the host answers with. */
        char buf[120];
        const char *where = pp_buffer_dir(tx->response_body);
        pp_tx_fail(tx, 500, PP_PHASE_RESPONSE_BODY,
                   apr_psprintf(tx->pool, "Failed to read back the held response body from %s: %s",
                                where ? where : "memory", apr_strerror(rv, buf, sizeof buf)));
    }
    return rv;
}

/* Logging phase: relevance by status (SecAuditLogRelevantStatus), then what depends on it —
 * SecUploadKeepFiles RelevantOnly and the audit/guardian logs. */
apr_status_t pp_tx_finish(pp_tx_t *tx)
{
    if (tx->finished)
        return APR_SUCCESS;
    tx->finished = true;
    if (tx->cfg->audit_relevant_status && tx->status) {
        bool m = false;
        char code[8];
        int n = apr_snprintf(code, sizeof code, "%d", tx->status);
        pp_regex_exec(tx->cfg->audit_relevant_status, tx->rx, (pp_str_t){ code, (apr_size_t)n }, &m);
        if (m)
            tx->verdict.relevant = true;
    }
    pp_eval_phase(tx, PP_PHASE_LOGGING);
    pp_tx_pcoll_commit(tx); /* after phase 5, as ModSecurity stores collections */
    pp_files_keep(tx);
    return pp_log_transaction(tx);
}
