/*
 * The JSON and XML request body processors of the dispatch table (dispatch.c): arguments from
 * a JSON body (body/json.c, ModSecurity's names) and the XML document (body/xml.c), with the
 * body error variables a parse failure sets.
 */
#include "body/dispatch.h"
#include "body/json.h"
#include "body/xml.h"
#include "request/request.h"
#include "tx.h"

/* ---- JSON ------------------------------------------------------------------------------ */

static apr_status_t json_arg(void *ctx, pp_str_t name, pp_str_t value)
{
    pp_tx_t *tx = ctx;
    pp_field_t *f = apr_array_push(tx->args);
    f->name = name;
    f->value = value;
    pp_tx_changed(tx, PP_SRC_ARGS);
    return pp_args_over_limit(tx, PP_PHASE_REQUEST_BODY) ? APR_EGENERAL : APR_SUCCESS;
}

apr_status_t pp_body_json_begin(pp_tx_t *tx)
{
    int depth = pp_cfg_int(tx->cfg->json_depth_limit, PP_JSON_DEFAULT_DEPTH);
    tx->body_proc = pp_json_create(tx->pool, depth, json_arg, tx);
    return tx->body_proc ? APR_SUCCESS : APR_ENOMEM;
}

/* A syntax error found while the body streams is ModSecurity's REQBODY_ERROR: the rules of
 * phase 2 see it (the recommended rule 200002 refuses the request); the parser takes no more. */
static void json_error(pp_tx_t *tx, const char *what)
{
    tx->reqbody_error_msg =
        apr_pstrcat(tx->pool, what, pp_json_error(tx->body_proc), NULL);
    pp_tx_changed(tx, PP_SRC_BODY);
    pp_debug(tx, 2, "%s", tx->reqbody_error_msg);
}

apr_status_t pp_body_json_feed(pp_tx_t *tx, const char *data, apr_size_t len)
{
    if (tx->reqbody_error_msg)
        return APR_SUCCESS;
    apr_status_t rv = pp_json_feed(tx->body_proc, data, len);
    if (rv != APR_SUCCESS && pp_json_error(tx->body_proc)) {
        json_error(tx, "JSON parsing error: ");
        return APR_SUCCESS;
    }
    return tx->verdict.intercepted ? APR_SUCCESS : rv;
}

/* An error only the end of the body shows (premature end): ModSecurity 2.9.7 answers 500 and
 * runs no phase-2 rule; Parapet refuses it as the malformed request it is (400), with
 * ModSecurity's message (spec §12.6). */
apr_status_t pp_body_json_finish(pp_tx_t *tx)
{
    if (tx->reqbody_error_msg || tx->verdict.intercepted || pp_buffer_length(tx->body) == 0)
        return APR_SUCCESS;
    if (pp_json_finish(tx->body_proc) != APR_SUCCESS && pp_json_error(tx->body_proc)) {
        json_error(tx, "JSON parser error: ");
        pp_tx_fail(tx, 400, PP_PHASE_REQUEST_BODY, tx->reqbody_error_msg);
    }
    return APR_SUCCESS;
}

/* ---- XML ------------------------------------------------------------------------------- */

apr_status_t pp_body_xml_begin(pp_tx_t *tx)
{
    tx->body_proc = pp_xml_create(tx->pool);
    return tx->body_proc ? APR_SUCCESS : APR_ENOMEM;
}

/* The document is parsed whole when the body has arrived (it is held anyway, within
 * SecRequestBodyNoFilesLimit): libxml2's push parser gives chunk-dependent results for some
 * encodings (fuzz_xml: UCS-4 split across chunks), and what the rules see must not depend on
 * how the client cut the body. So every XML error is one "at the end": ModSecurity answers it
 * with 500 (as it does for any error in the first chunk it reads), Parapet with 400. */
apr_status_t pp_body_xml_finish(pp_tx_t *tx)
{
    if (tx->verdict.intercepted || pp_buffer_length(tx->body) == 0)
        return APR_SUCCESS;
    pp_str_t body;
    if (pp_buffer_flatten(tx->body, tx->pool, (apr_size_t)pp_body_nofiles_limit(tx), &body) !=
        APR_SUCCESS) {
        pp_body_refuse_nofiles(tx, pp_buffer_length(tx->body));
        return APR_SUCCESS;
    }
    if (pp_xml_feed(tx->body_proc, body.data, body.len) != APR_SUCCESS ||
        pp_xml_finish(tx->body_proc) != APR_SUCCESS) {
        tx->reqbody_error_msg = "XML parser error: XML: Failed parsing document.";
        pp_tx_changed(tx, PP_SRC_BODY);
        pp_tx_fail(tx, 400, PP_PHASE_REQUEST_BODY, tx->reqbody_error_msg);
    }
    return APR_SUCCESS;
}
