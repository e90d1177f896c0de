/*
 * Response path: the 1.9 outbound phase and the mod_security-time3 note (reference §7, §13).
 * An output filter, placed before compression (mod_deflate's DEFLATE), is added to every
 * inspected request. On its first brigade it asks the engine whether this response is to be
 * scanned (SecFilterScanOutput and the MIME list). If not, it notes time3, removes itself and
 * the response streams untouched. If so, nothing is sent before the decision: the body is fed
 * to the engine (which spills to disk past SecOutputInMemoryLimit), and at EOS the engine
 * either lets the copy through, replayed chunk by chunk, or the body is dropped and Apache
 * answers with the verdict's status. A body compressed at its source (Content-Encoding: gzip
 * from a CGI, a static .gz or a proxied back end) is inspected as the bytes it is, as
 * ModSecurity 2 does; INFLATE in front of Parapet makes it plain (docs/migration-1.9.md).
 *
 * Past SecResponseBodyLimit the engine refuses (Reject: 500) or takes the bytes up to the
 * limit (ProcessPartial): the outbound phase runs then, and the rest of the response streams
 * behind the released copy, never held (review H4). A body the engine could not hold whole is
 * answered with 500; a copy that cannot be read back whole gets 500 while nothing was sent,
 * else the response is broken off (review H3).
 *
 * Not here: which rules run on OUTPUT (the engine decides), the logging phase (hooks.c).
 */
#include "apr_buckets.h"
#include "http_protocol.h"
#include "http_request.h"

#include "mod_parapet.h"

#define SCAN_FILTER_NAME "PARAPET_OUTPUT"

typedef struct scan_ctx_t {
    pp_ap_req_t *rq;
    bool holding; /* the response is held back for the outbound phase */
    bool decided; /* the verdict intercepted before the body was complete */
    bool failed;  /* the body could not be held whole (the engine answers 500) */
    bool reported; /* the outbound verdict was reported and time3 noted */
} scan_ctx_t;

/* Replaces the held response by Apache's error answer for `status`. The headers have not
 * gone out yet, so the core's error path can still produce a complete response. */
static apr_status_t send_error(ap_filter_t *f, int status)
{
    request_rec *r = f->r;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, f->c->bucket_alloc);

    ap_remove_output_filter(f);
    /* ap_die keeps an earlier error status when r->status already is one (a scanned 404
     * page); the client has seen nothing of that response, so the denial must win. A
     * configuration with 2.x rules answers as ModSecurity 2 does instead: the status line says
     * the denial's status and Apache's page for it adds "Additionally, a 404 Not Found error
     * was encountered" (ModSecurity sets r->status_line and leaves r->status). */
    if (ap_is_HTTP_ERROR(r->status) && pp_cfg_has_rules2(pp_ap_dir_cfg(r), PP_PHASE_NONE)) {
        r->status_line = ap_get_status_line(status);
    }
    else {
        r->status = HTTP_OK;
    }
    APR_BRIGADE_INSERT_TAIL(bb, ap_bucket_error_create(status, NULL, r->pool, f->c->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
    ap_pass_brigade(f->next, bb);
    /* Tells the handler that the response was answered by the error path. */
    return AP_FILTER_ERROR;
}

static apr_status_t send_denial(ap_filter_t *f, const pp_verdict_t *v)
{
    int status = v->status;

    if (v->action == PP_ACTION_REDIRECT && v->url != NULL) {
        apr_table_setn(f->r->headers_out, "Location", v->url);
        status = status >= 300 && status < 400 ? status : HTTP_MOVED_TEMPORARILY;
    }
    else if (v->action == PP_ACTION_DROP) {
        status = pp_ap_drop_connection(f->r);
    }
    else if (!ap_is_HTTP_VALID_RESPONSE(status) || status < 300) {
        status = HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_error(f, status);
}

/* The headers and part of the body are gone: the response can only be broken off, the way
 * mod_proxy does when its backend fails mid-body. The error bucket makes the chunk filter
 * leave out the last chunk and the connection is closed, so the client sees a truncated
 * response, never one that looks complete. */
static apr_status_t abort_response(ap_filter_t *f, apr_bucket_brigade *bb)
{
    apr_brigade_cleanup(bb);
    f->c->keepalive = AP_CONN_CLOSE;
    APR_BRIGADE_INSERT_TAIL(bb, ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL, f->r->pool,
                                                       f->c->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
    ap_pass_brigade(f->next, bb);
    return AP_FILTER_ERROR;
}

/* Most a Range request's held response is copied to be answered as a range (206). */
#define RANGE_WHOLE_MAX (4 * 1024 * 1024)

/* Sends the engine's copy of the response on, one chunk per brigade, then EOS when the copy is
 * the whole response. A copy that cannot be read back whole is answered with 500 while nothing
 * has been sent, else broken off. */
static apr_status_t release_body(ap_filter_t *f, pp_tx_t *tx, bool eos)
{
    apr_bucket_brigade *bb = apr_brigade_create(f->r->pool, f->c->bucket_alloc);
    apr_off_t sent = 0;
    apr_status_t rv;
    const char *data;
    apr_size_t len;

    /* A Range request is answered by the byterange filter after us only from one brigade. */
    bool whole = eos && apr_table_get(f->r->headers_in, "Range") != NULL;
    apr_off_t held = 0;

    ap_remove_output_filter(f);
    for (;;) {
        rv = pp_tx_read_response_body(tx, &data, &len);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, f->r,
                          "Parapet: replaying the held response body failed after %" APR_OFF_T_FMT
                          " bytes; %s [unique_id \"%s\"]", sent,
                          sent ? "connection aborted" : "answering 500", pp_tx_unique_id(tx));
            return sent ? abort_response(f, bb) : send_error(f, HTTP_INTERNAL_SERVER_ERROR);
        }
        if (len == 0) {
            break;
        }
        if (whole) {
            /* Apache's byterange filter answers a Range request only when the whole body
             * comes in one brigade with EOS (else it sends 200 and everything): copies, up
             * to RANGE_WHOLE_MAX bytes, then the rest streams and the client gets 200. */
            if (held + (apr_off_t)len <= RANGE_WHOLE_MAX) {
                APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_heap_create(data, len, NULL,
                                                                   f->c->bucket_alloc));
                held += (apr_off_t)len;
                sent += (apr_off_t)len;
                continue;
            }
            whole = false;
        }
        /* Transient is safe: the engine's chunk stays valid until the next read, and any
         * filter that keeps a bucket past ap_pass_brigade copies it when setting it aside. */
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_transient_create(data, len, f->c->bucket_alloc));
        rv = ap_pass_brigade(f->next, bb);
        apr_brigade_cleanup(bb);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        sent += (apr_off_t)len;
    }
    if (!eos) {
        return APR_SUCCESS;
    }
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
    return ap_pass_brigade(f->next, bb);
}

/* The held part is complete: at EOS (rest NULL), or at SecResponseBodyLimit with ProcessPartial
 * (rest holds what the engine did not take). Runs the outbound phase, then answers or releases;
 * after a partial release the rest and every later brigade stream on unheld. A denial with a
 * rest pending waits for EOS (the caller drains), so nothing slips past it. */
static apr_status_t finish_held(ap_filter_t *f, scan_ctx_t *ctx, apr_bucket_brigade *rest)
{
    pp_tx_t *tx = ctx->rq->tx;
    const pp_verdict_t *v;
    apr_status_t rv;

    if (!ctx->decided) {
        pp_tx_finish_response_body(tx);
    }
    v = pp_tx_verdict(tx);
    if (!ctx->reported) {
        ctx->reported = true;
        pp_ap_report_verdict(f->r, ctx->rq);
        pp_ap_note_time(f->r, PP_AP_NOTE_TIME3);
    }
    if (v != NULL && v->intercepted) {
        ctx->decided = true;
        return rest != NULL ? APR_SUCCESS : send_denial(f, v);
    }
    if (ctx->failed) {
        /* The engine intercepts when it cannot hold the body; never release a partial copy. */
        return send_error(f, HTTP_INTERNAL_SERVER_ERROR);
    }
    rv = release_body(f, tx, rest == NULL);
    if (rv != APR_SUCCESS || rest == NULL) {
        return rv;
    }
    return ap_pass_brigade(f->next, rest);
}

/* Feeds one data bucket to the engine. On ProcessPartial's limit the part the engine took is
 * removed and the rest is left at the head of the brigade; returns true then. */
static bool feed_bucket(ap_filter_t *f, scan_ctx_t *ctx, apr_bucket *b, const char *data,
                        apr_size_t len)
{
    pp_tx_t *tx = ctx->rq->tx;
    apr_off_t before = pp_tx_response_body_length(tx);
    apr_status_t rv = pp_tx_feed_response_body(tx, data, len);
    apr_size_t taken;

    if (rv == APR_SUCCESS) {
        apr_bucket_delete(b);
        return false;
    }
    if (rv != APR_INCOMPLETE) {
        /* Not held whole (the engine logged why): drain the rest, answer 500 at EOS. */
        ctx->failed = ctx->decided = true;
        apr_bucket_delete(b);
        return false;
    }
    taken = (apr_size_t)(pp_tx_response_body_length(tx) - before);
    if (taken > 0 && apr_bucket_split(b, taken) != APR_SUCCESS) {
        apr_bucket *tail = apr_bucket_heap_create(data + taken, len - taken, NULL,
                                                  f->c->bucket_alloc);
        APR_BUCKET_INSERT_AFTER(b, tail);
    }
    if (taken > 0) {
        apr_bucket_delete(b);
    }
    return true;
}

/* First brigade: 2.x rules' phase 3, then whether to hold the response. Returns false to
 * stream it. A body that is not held has its phase 4 now, on an empty RESPONSE_BODY, as in
 * ModSecurity 2 (reference secrule-2.9 §1.1). A denial in either is answered once the handler
 * is done: the response is held (ctx->decided) and drained until EOS, so nothing the handler
 * still writes follows the error page (ModSecurity answers at once and leaves that to the
 * handler). */
static bool start_holding(ap_filter_t *f, scan_ctx_t *ctx)
{
    request_rec *r = f->r;
    pp_tx_t *tx = ctx->rq->tx;
    bool phases2 = pp_tx_wants_response_phases(tx);

    if (phases2) {
        pp_ap_give_response_head(r, ctx->rq, false);
        pp_tx_finish_response_headers(tx);
    }
    if (!pp_tx_verdict(tx)->intercepted && !pp_tx_wants_response_body(tx, r->content_type)) {
        if (!phases2) {
            return false;
        }
        pp_tx_finish_response_body(tx);
        if (!pp_tx_verdict(tx)->intercepted) {
            return false;
        }
    }
    ctx->holding = true;
    pp_ap_give_response_head(r, ctx->rq, !phases2);
    pp_tx_finish_response_headers(tx);
    return true;
}

static apr_status_t scan_output(ap_filter_t *f, apr_bucket_brigade *bb)
{
    scan_ctx_t *ctx = f->ctx;
    const pp_verdict_t *v;

    if (!ctx->holding && !start_holding(f, ctx)) {
        /* Streamed: the response is generated and leaves now (reference §13). */
        pp_ap_note_time(f->r, PP_AP_NOTE_TIME3);
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    /* Decided on the headers already: the rest of the body is drained unread, and the filter
     * stays in place until EOS so nothing of the response slips past the denial. */
    v = pp_tx_verdict(ctx->rq->tx);
    ctx->decided = ctx->decided || (v != NULL && v->intercepted);
    while (!APR_BRIGADE_EMPTY(bb)) {
        apr_bucket *b = APR_BRIGADE_FIRST(bb);
        const char *data;
        apr_size_t len;
        apr_status_t rv;

        if (APR_BUCKET_IS_EOS(b)) {
            apr_brigade_cleanup(bb);
            return finish_held(f, ctx, NULL);
        }
        if (AP_BUCKET_IS_ERROR(b)) {
            /* The handler failed mid-response; the core answers it, there is nothing to scan. */
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, bb);
        }
        /* FLUSH and other metadata lose their meaning while everything is held back. */
        if (APR_BUCKET_IS_METADATA(b) || ctx->decided) {
            apr_bucket_delete(b);
            continue;
        }
        rv = apr_bucket_read(b, &data, &len, APR_BLOCK_READ);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (feed_bucket(f, ctx, b, data, len)) {
            rv = finish_held(f, ctx, bb);
            if (!ctx->decided) {
                return rv; /* released: this filter is gone, the rest streamed on */
            }
        }
    }
    return APR_SUCCESS;
}

/* By its handle (no name to fold and look up per request) once post_config has it. */
static void add_scan_filter(request_rec *r, scan_ctx_t *ctx)
{
    ap_filter_rec_t *h = pp_ap_process_of(r)->scan_filter;

    if (h != NULL) {
        ap_add_output_filter_handle(h, ctx, r, r->connection);
    }
    else {
        ap_add_output_filter(SCAN_FILTER_NAME, ctx, r, r->connection);
    }
}

/* Adds the filter to the request that will produce the response: the inspected one, or the
 * target of an internal redirect from it. Not after an interception: the answer is then an
 * error page of our own making (or an ErrorDocument), and scanning it could deny it again. */
static void insert_scan_filter(request_rec *r)
{
    pp_ap_req_t *rq;
    scan_ctx_t *ctx;

    if (r->main != NULL) {
        return;
    }
    rq = pp_ap_req_get(r);
    if (rq == NULL || !rq->inspected || pp_tx_verdict(rq->tx)->intercepted) {
        return;
    }
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->rq = rq;
    add_scan_filter(r, ctx);
}

/* An error response (a 404 from the handler, a 401 before fixups) is made on a fresh output
 * chain: the filter goes on it again for 2.x rules of phases 3 and 4, as ModSecurity 2 does
 * (its insert_error_filter), so they see that response. 1.9 never scanned error pages, and
 * nothing is scanned after an interception or once the rules were turned off. */
static void insert_scan_error_filter(request_rec *r)
{
    pp_ap_req_t *rq;
    scan_ctx_t *ctx;

    if (r->main != NULL) {
        return;
    }
    rq = pp_ap_req_get(r);
    if (rq == NULL || !(rq->inspected || rq->early) || !pp_tx_wants_response_phases(rq->tx)) {
        return;
    }
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->rq = rq;
    add_scan_filter(r, ctx);
}

ap_filter_rec_t *pp_ap_scan_filter_handle(void)
{
    return ap_get_output_filter_handle(SCAN_FILTER_NAME);
}

void pp_ap_register_output_filter(void)
{
    /* Below AP_FTYPE_CONTENT_SET, where DEFLATE sits: filters of one type run in the order they
     * were added, so at the same type OUTPUT rules could see gzip bytes (review M3). Three
     * below, as ModSecurity 2 registers its output filter; INFLATE (RESOURCE - 1) and
     * mod_include (RESOURCE) still run before, so OUTPUT sees what the client will read. */
    ap_register_output_filter(SCAN_FILTER_NAME, scan_output, NULL, AP_FTYPE_CONTENT_SET - 3);
    ap_hook_insert_filter(insert_scan_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(insert_scan_error_filter, NULL, NULL, APR_HOOK_MIDDLE);
}
