/*
 * Collectors for the ModSecurity 2.x variables (spec secrule-2.9-reference.md §6) that the 1.9
 * language has no name for: argument origins, body-processing status, multipart flags,
 * response headers, request metadata. Values point into transaction memory where they exist
 * there; numbers and flags are made in tx->pool.
 */
#include "body/xml.h"
#include "config/config.h"
#include "rules/variables/variables.h"

#include <apr_strings.h>

#define TX_FIELD(tx, t, type) (*(type *)((char *)(tx) + (t)->var->data))

static void push(apr_array_header_t *out, pp_str_t value, pp_str_t name)
{
    pp_value_t *v = apr_array_push(out);
    v->value = value;
    v->name = name;
    v->sketch = NULL;
    v->checks = 0;
}

static pp_str_t number(apr_pool_t *p, apr_int64_t n)
{
    return pp_str_from_cstr(apr_psprintf(p, "%" APR_INT64_T_FMT, n));
}

static bool key_eq(pp_str_t a, const char *b)
{
    apr_size_t n = strlen(b);
    return a.len == n && strncasecmp(a.data, b, n) == 0;
}

/* ARGS_GET / ARGS_POST and their _NAMES: the query's arguments are the first
 * tx->query_arg_count of tx->args, the body's follow. Only urlencoded and multipart fields are
 * ARGS_POST; JSON leaves are ARGS but not ARGS_POST (their origin is JSON, spec §6.2). */
static void arg_range(const pp_tx_t *tx, int which, int *from, int *to)
{
    int n = tx->args ? tx->args->nelts : 0;
    int q = tx->query_arg_count < n ? tx->query_arg_count : n;
    if (which == PP_ARGS_GET) {
        *from = 0;
        *to = q;
        return;
    }
    bool post = tx->body_kind == PP_BODY_URLENCODED || tx->body_kind == PP_BODY_MULTIPART;
    *from = q;
    *to = post ? n : q;
}

apr_status_t pp_var_args_origin(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    int from, to;
    arg_range(tx, (int)(t->var->data & 1), &from, &to);
    bool names = (t->var->data & PP_ARGS_NAMES_BIT) != 0;
    for (int i = from; i < to; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(tx->args, i, pp_field_t);
        if (t->selector && !key_eq(f->name, t->selector))
            continue;
        push(out, names ? f->name : f->value, f->name);
    }
    return APR_SUCCESS;
}

/* Sum over ARGS of name length + value length (spec §6.2: ?y=1&z&&=v&nA=%zz gives 9). */
apr_status_t pp_var_args_size(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    apr_int64_t sum = 0;
    for (int i = 0; tx->args && i < tx->args->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(tx->args, i, pp_field_t);
        sum += (apr_int64_t)(f->name.len + f->value.len);
    }
    push(out, number(tx->pool, sum), PP_STR_NULL);
    return APR_SUCCESS;
}

/* FILES_NAMES: the field name of each file part; FILES_COMBINED_SIZE: the sum of their sizes. */
apr_status_t pp_var_files_names(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    for (int i = 0; tx->files && i < tx->files->nelts; i++) {
        const pp_file_t *f = &APR_ARRAY_IDX(tx->files, i, pp_file_t);
        push(out, f->field, f->field);
    }
    return APR_SUCCESS;
}

apr_status_t pp_var_files_size(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    apr_int64_t sum = 0;
    for (int i = 0; tx->files && i < tx->files->nelts; i++)
        sum += APR_ARRAY_IDX(tx->files, i, pp_file_t).size;
    push(out, number(tx->pool, sum), PP_STR_NULL);
    return APR_SUCCESS;
}

/* The body processor's name as REQBODY_PROCESSOR gives it: decided from Content-Type when the
 * transaction starts (urlencoded, multipart, else none), changed by ctl:requestBodyProcessor
 * (pp_tx_set_body_processor). Empty when none. */
const char *pp_reqbody_processor_name(const pp_tx_t *tx)
{
    if (tx->body_processor)
        return tx->body_processor;
    const char *ct = tx->content_type;
    if (!ct)
        return "";
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
        return "URLENCODED";
    if (strncasecmp(ct, "multipart/form-data", 19) == 0)
        return "MULTIPART";
    return "";
}

apr_status_t pp_var_reqbody(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    switch (t->var->data) {
    case PP_REQBODY_PROCESSOR:
        push(out, pp_str_from_cstr(pp_reqbody_processor_name(tx)), PP_STR_NULL);
        break;
    case PP_REQBODY_ERROR:
        push(out, tx->reqbody_error_msg ? PP_STR("1") : PP_STR("0"), PP_STR_NULL);
        break;
    case PP_REQBODY_ERROR_MSG:
        /* MS2 gives an empty string when there was no error. */
        push(out, pp_str_from_cstr(tx->reqbody_error_msg ? tx->reqbody_error_msg : ""),
             PP_STR_NULL);
        break;
    }
    return APR_SUCCESS;
}

/* MULTIPART_*: 1 when the multipart parser raised the flag(s) in `data`, else 0 (also for a body
 * that is not multipart). Parapet refuses a body with a strict flag (400) before the rules of
 * phase 2 run, so rules there see 0 for those; the informational ones can be 1. */
apr_status_t pp_var_multipart_flag(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    unsigned flags = pp_tx_multipart_flags(tx);
    bool set = t->var->data ? (flags & (unsigned)t->var->data) != 0
                            : tx->multipart_crlf_line; /* 0: MULTIPART_CRLF_LINE */
    push(out, set ? PP_STR("1") : PP_STR("0"), PP_STR_NULL);
    return APR_SUCCESS;
}

/* A header's value by name, case-insensitively, from a pp_field_t array (the first one). */
static const pp_field_t *header(const apr_array_header_t *a, const char *name)
{
    for (int i = 0; a && i < a->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(a, i, pp_field_t);
        if (key_eq(f->name, name))
            return f;
    }
    return NULL;
}

apr_status_t pp_var_response_header(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    /* 2.x reads the entity Apache has (r->content_type, r->clength: "0" until a handler sets
     * the length), as ModSecurity 2.9.7 does; 1.9 and the CLI read the headers. */
    if (pp_var_lang2(t) && tx->response_entity.given) {
        if (t->var->data == PP_RESP_CONTENT_LENGTH)
            push(out, number(tx->pool, (apr_int64_t)tx->response_entity.length), PP_STR_NULL);
        else if (tx->response_entity.content_type)
            push(out, pp_str_from_cstr(tx->response_entity.content_type), PP_STR_NULL);
        return APR_SUCCESS;
    }
    const pp_field_t *f =
        header(tx->response_headers,
               t->var->data == PP_RESP_CONTENT_TYPE ? "Content-Type" : "Content-Length");
    if (f)
        push(out, f->value, PP_STR_NULL);
    return APR_SUCCESS;
}

apr_status_t pp_var_cstr(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    const char *s = TX_FIELD(tx, t, const char *);
    if (s)
        push(out, pp_str_from_cstr(s), PP_STR_NULL);
    return APR_SUCCESS;
}

/* Numbers of the transaction: REMOTE_PORT, REQUEST_BODY_LENGTH, DURATION (microseconds since
 * the request started: 2.7.0 and later, whatever the manual says), TIME_EPOCH,
 * OUTBOUND_DATA_ERROR. */
apr_status_t pp_var_number(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    apr_int64_t n = 0;
    switch (t->var->data) {
    case PP_NUM_REMOTE_PORT: n = pp_tx_conn(tx)->client_port; break;
    case PP_NUM_BODY_LENGTH: n = pp_tx_request_body_length(tx); break;
    case PP_NUM_DURATION: n = (apr_int64_t)(apr_time_now() - tx->start); break;
    case PP_NUM_EPOCH: n = (apr_int64_t)apr_time_sec(apr_time_now()); break;
    case PP_NUM_OUTBOUND_ERROR: n = tx->response_stop == APR_INCOMPLETE; break;
    case PP_NUM_URLENCODED_ERROR: n = tx->urlencoded_errors > 0; break;
    }
    push(out, number(tx->pool, n), PP_STR_NULL);
    return APR_SUCCESS;
}

/* REQUEST_BODY. 2.x (spec §6.2): the raw body only when the URLENCODED processor read it;
 * nothing for multipart, JSON, XML or an unknown type. 1.9's POST_PAYLOAD (the same row): the
 * body, or the form synthesised from multipart fields. */
apr_status_t pp_var_request_body(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    pp_str_t s = pp_var_lang2(t) ? tx->urlencoded_body : tx->request_body;
    /* ctl:forceRequestBodyVariable=On: also a body no processor read (ModSecurity's
     * modsecurity_request_body_end_raw), never a multipart, JSON or XML one. */
    if (pp_var_lang2(t) && !s.data && tx->body_kind == PP_BODY_RAW && tx->overrides &&
        tx->overrides->force_body_variable == 1)
        s = tx->request_body;
    if (s.data)
        push(out, s, PP_STR_NULL);
    return APR_SUCCESS;
}

/* RESPONSE_PROTOCOL as ModSecurity 2.9 reckons it (get_response_protocol): Apache answers
 * HTTP/1.1, HTTP/1.0 only for an HTTP/1.0 request with force-response-1.0 in the environment
 * (or a 1.1 one downgraded by downgrade-1.0 and forced). Nothing before the response. */
apr_status_t pp_var_response_protocol(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    if (!tx->status)
        return APR_SUCCESS;
    bool v10 = tx->protocol.len == 8 && memcmp(tx->protocol.data, "HTTP/1.0", 8) == 0;
    if (tx->env && apr_table_get(tx->env, "downgrade-1.0"))
        v10 = true;
    bool force = v10 && tx->env && apr_table_get(tx->env, "force-response-1.0");
    push(out, force ? PP_STR("HTTP/1.0") : PP_STR("HTTP/1.1"), PP_STR_NULL);
    return APR_SUCCESS;
}

/* WEBAPPID: SecWebAppId of the configuration in force, "default" without one. */
apr_status_t pp_var_webappid(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    push(out, pp_str_from_cstr(pp_cfg_webappid(tx->cfg)), PP_STR_NULL);
    return APR_SUCCESS;
}

/* FULL_REQUEST (spec §6.2): the request line, two newlines, each header as "Name: value\n",
 * one newline, then the body's in-memory part. FULL_REQUEST_LENGTH counts one more byte, the
 * terminating NUL ModSecurity includes. */
static pp_str_t full_request(pp_tx_t *tx)
{
    apr_size_t len = tx->request_line.len + 2 + 1;
    for (int i = 0; tx->headers && i < tx->headers->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(tx->headers, i, pp_field_t);
        len += f->name.len + 2 + f->value.len + 1;
    }
    pp_str_t body = tx->body ? pp_buffer_prefix(tx->body) : PP_STR_NULL;
    len += body.len;
    char *s = apr_palloc(tx->pool, len + 1), *o = s;
    memcpy(o, tx->request_line.data, tx->request_line.len);
    o += tx->request_line.len;
    *o++ = '\n';
    *o++ = '\n';
    for (int i = 0; tx->headers && i < tx->headers->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(tx->headers, i, pp_field_t);
        memcpy(o, f->name.data, f->name.len);
        o += f->name.len;
        *o++ = ':';
        *o++ = ' ';
        memcpy(o, f->value.data, f->value.len);
        o += f->value.len;
        *o++ = '\n';
    }
    *o++ = '\n';
    if (body.len)
        memcpy(o, body.data, body.len);
    o += body.len;
    *o = '\0';
    return (pp_str_t){ s, (apr_size_t)(o - s) };
}

apr_status_t pp_var_full_request(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    pp_str_t s = full_request(tx);
    if (t->var->data)
        push(out, number(tx->pool, (apr_int64_t)s.len + 1), PP_STR_NULL);
    else
        push(out, s, PP_STR_NULL);
    return APR_SUCCESS;
}

/* XML:<xpath> (spec §12.5): one value per node, its text content, named just "XML"; XML alone
 * is the placeholder "[XML document tree]"; no document (not XML, not well formed) gives no
 * values. A bad expression or values past SecRequestBodyNoFilesLimit in total fail (closed). */
apr_status_t pp_var_xml(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    const pp_xml_t *x = tx->body_kind == PP_BODY_XML ? tx->body_proc : NULL;
    if (!pp_xml_has_document(x))
        return APR_SUCCESS;
    if (!t->selector) {
        push(out, PP_STR("[XML document tree]"), PP_STR_NULL);
        return APR_SUCCESS;
    }
    apr_int64_t budget = tx->cfg->nofiles_limit == PP_UNSET ? PP_DEFAULT_NOFILES_LIMIT_BYTES
                                                             : tx->cfg->nofiles_limit;
    apr_array_header_t *vals = apr_array_make(tx->pool, 4, sizeof(pp_str_t));
    const char *err = NULL;
    apr_status_t rv = pp_xml_xpath_ns(x, tx->pool, t->selector, t->xmlns, (apr_size_t)budget, vals,
                                      &err);
    if (rv != APR_SUCCESS) {
        pp_debug(tx, 1, "%s", err ? err : "XML: XPath values over SecRequestBodyNoFilesLimit");
        return rv;
    }
    for (int i = 0; i < vals->nelts; i++)
        push(out, APR_ARRAY_IDX(vals, i, pp_str_t), PP_STR_NULL);
    return APR_SUCCESS;
}
