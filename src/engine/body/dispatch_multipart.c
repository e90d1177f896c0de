/*
 * The multipart/form-data processor of the request body dispatch (a row of dispatch.c's
 * table): fields become body arguments (decoded from their declared charset), file parts go to
 * the upload store, the parser's flags make a body ambiguous (400), and the synthesised
 * urlencoded body is set up for the rules.
 */
#include "body/charset.h"
#include "body/dispatch.h"
#include "body/multipart.h"
#include "request/request.h"
#include "tx.h"

typedef struct mp_state_t {
    pp_multipart_t *parser;
    apr_off_t file_bytes;      /* file part contents so far: the rest counts as form data */
    apr_array_header_t *charsets; /* const char *: each body field's part charset, or NULL */
    const char *form_charset;  /* the value of the _charset_ field */
    const char *charset_error; /* first problem with a declared charset */
} mp_state_t;

static apr_status_t mp_field(void *ctx, pp_str_t name, pp_str_t value)
{
    pp_tx_t *tx = ctx;
    mp_state_t *st = tx->body_proc;
    const char *cs = NULL;
    const char *err = pp_charset_param(tx->pool, pp_multipart_part_type(st->parser), &cs);
    if (err != NULL && st->charset_error == NULL)
        st->charset_error = err;
    *(const char **)apr_array_push(st->charsets) = cs;
    if (name.len == 9 && strncasecmp(name.data, "_charset_", 9) == 0) {
        /* What browsers fill in (HTML "_charset_"): the encoding of the whole form. */
        const char *v = apr_pstrmemdup(tx->pool, value.data, value.len);
        if (st->form_charset != NULL && strcasecmp(st->form_charset, v) != 0 &&
            st->charset_error == NULL)
            st->charset_error = "two _charset_ fields that disagree";
        st->form_charset = st->form_charset ? st->form_charset : v;
    }
    pp_field_t *f = apr_array_push(tx->args);
    f->name = pp_str_dup(tx->pool, name);
    f->value = pp_str_dup(tx->pool, value);
    pp_tx_changed(tx, PP_SRC_ARGS);
    /* Refuse at the first field too many rather than keep the rest (SecArgumentsLimit). */
    return pp_args_over_limit(tx, PP_PHASE_REQUEST_BODY) ? APR_EGENERAL : APR_SUCCESS;
}

/* MULTIPART_PART_HEADERS (one member per header line, named by the part, the line without
 * its end), MULTIPART_NAME and MULTIPART_FILENAME (the last seen), as ModSecurity 2 keeps
 * them. The header section is at most max_header_bytes per part. */
static apr_status_t mp_part_headers(void *ctx, pp_str_t name, pp_str_t filename, pp_str_t raw)
{
    pp_tx_t *tx = ctx;
    if (!tx->mp_part_headers)
        tx->mp_part_headers = apr_array_make(tx->pool, 8, sizeof(pp_field_t));
    tx->mp_name = pp_str_dup(tx->pool, name);
    if (filename.data)
        tx->mp_filename = pp_str_dup(tx->pool, filename);
    for (apr_size_t at = 0; at < raw.len;) {
        const char *nl = memchr(raw.data + at, '\n', raw.len - at);
        apr_size_t end = nl ? (apr_size_t)(nl - raw.data) : raw.len, next = end + 1;
        if (end > at && raw.data[end - 1] == '\r')
            end--;
        pp_field_t *f = apr_array_push(tx->mp_part_headers);
        f->name = tx->mp_name;
        f->value = pp_str_dup(tx->pool, (pp_str_t){ raw.data + at, end - at });
        at = next;
    }
    pp_tx_changed(tx, PP_SRC_BODY);
    return APR_SUCCESS;
}

static apr_status_t mp_file_begin(void *ctx, pp_str_t field, pp_str_t filename, pp_str_t ct,
                                  void **handle)
{
    pp_file_t *f;
    apr_status_t rv = pp_files_begin(ctx, field, filename, &f);
    *handle = f;
    return rv;
}

static apr_status_t mp_file_data(void *ctx, void *handle, const char *data, apr_size_t len)
{
    mp_state_t *st = ((pp_tx_t *)ctx)->body_proc;
    st->file_bytes += (apr_off_t)len;
    return pp_files_write(ctx, handle, data, len);
}

/* Everything but file contents counts against SecRequestBodyNoFilesLimit, as in ModSecurity 2:
 * field names and values, and the part headers and delimiters around them. Checked per chunk,
 * so a worker holds at most the limit plus one field (max_field_bytes). */
apr_status_t pp_body_multipart_check(pp_tx_t *tx)
{
    const mp_state_t *st = tx->body_proc;
    apr_off_t form = pp_buffer_length(tx->body) - st->file_bytes;
    if (form > pp_body_nofiles_limit(tx))
        pp_body_refuse_nofiles(tx, form);
    return APR_SUCCESS;
}

static apr_status_t mp_file_end(void *ctx, void *handle, apr_off_t size)
{
    return pp_files_end(ctx, handle);
}

apr_status_t pp_body_multipart_begin(pp_tx_t *tx)
{
    static const pp_multipart_cb_t cb_template = { NULL, mp_field, mp_file_begin, mp_file_data,
                                                   mp_file_end, mp_part_headers };
    pp_multipart_cb_t *cb = apr_pmemdup(tx->pool, &cb_template, sizeof cb_template);
    cb->ctx = tx;
    const char *err = NULL;
    mp_state_t *st = apr_pcalloc(tx->pool, sizeof *st);
    st->charsets = apr_array_make(tx->pool, 8, sizeof(const char *));
    st->parser = pp_multipart_create(tx->pool, pp_str_from_cstr(tx->content_type), NULL, cb, &err);
    tx->body_proc = st;
    if (!st->parser)
        pp_tx_fail(tx, 400, PP_PHASE_REQUEST_BODY,
                   apr_psprintf(tx->pool, "Multipart parsing error: %s (ambiguous body: a lax "
                                "application parser still reads it as multipart/form-data)",
                                err ? err : "?"));
    return APR_SUCCESS;
}

static void multipart_reject(pp_tx_t *tx, const mp_state_t *st)
{
    unsigned flags = pp_multipart_flags(st->parser) & PP_MP_STRICT_MASK;
    const char *names = "";
    tx->metrics.counter[PP_METRIC_MULTIPART_REJECTED]++;
    tx->metrics.multipart_rejected_flags |= flags;
    for (unsigned b = 0; b < PP_MP_FLAG_COUNT; b++)
        if (flags & (1u << b))
            names = apr_pstrcat(tx->pool, names, *names ? " " : "",
                                pp_multipart_flag_name(1u << b), NULL);
    const char *err = pp_multipart_error(st->parser);
    pp_tx_fail(tx, 400, PP_PHASE_REQUEST_BODY,
               apr_psprintf(tx->pool, "Multipart parsing error: %s%s%s", err ? err : "ambiguous body",
                            *names ? "; flags: " : "", names));
}

apr_status_t pp_body_multipart_feed(pp_tx_t *tx, const char *data, apr_size_t len)
{
    mp_state_t *st = tx->body_proc;
    if (!st->parser)
        return APR_SUCCESS;
    apr_status_t rv = pp_multipart_feed(st->parser, data, len);
    if (rv != APR_SUCCESS && !tx->body_error && pp_multipart_error(st->parser)) {
        multipart_reject(tx, st);
        return APR_SUCCESS;
    }
    return rv;
}

/* The synthesised urlencoded body (reference §6.3): non-file fields as name=value pairs, so
 * POST_PAYLOAD and ARGS rules see multipart fields the way they see a urlencoded form. */
static pp_str_t synthesise(pp_tx_t *tx, int first_body_arg)
{
    apr_size_t len = 0;
    for (int i = first_body_arg; i < tx->args->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(tx->args, i, pp_field_t);
        len += f->name.len + f->value.len + 2;
    }
    char *s = apr_palloc(tx->pool, len + 1), *o = s;
    for (int i = first_body_arg; i < tx->args->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(tx->args, i, pp_field_t);
        if (o != s)
            *o++ = '&';
        memcpy(o, f->name.data, f->name.len);
        o += f->name.len;
        *o++ = '=';
        memcpy(o, f->value.data, f->value.len);
        o += f->value.len;
    }
    *o = '\0';
    return (pp_str_t){ s, (apr_size_t)(o - s) };
}

apr_status_t pp_body_multipart_finish(pp_tx_t *tx)
{
    mp_state_t *st = tx->body_proc;
    if (!st->parser)
        return APR_SUCCESS;
    int first = tx->query_arg_count;
    apr_status_t rv = pp_multipart_finish(st->parser);
    unsigned flags = pp_multipart_flags(st->parser);
    tx->multipart_flags = flags;
    tx->multipart_crlf_line = pp_multipart_crlf_line(st->parser);
    unsigned fatal = flags & PP_MP_STRICT_MASK;
    if (tx->body_partial && rv != APR_SUCCESS && fatal == PP_MP_MISSING_FINAL_BOUNDARY) {
        /* Cut at SecRequestBodyLimit under ProcessPartial: the missing end is the
         * configuration's doing, not the client's. As ModSecurity 2.9.7: no REQBODY_ERROR, the
         * parts read before the cut are inspected, the rest goes to the application unread. */
        pp_debug(tx, 2, "Multipart: body cut at SecRequestBodyLimit before its final boundary");
        rv = APR_SUCCESS;
        fatal = 0;
    }
    if (rv != APR_SUCCESS || fatal) {
        multipart_reject(tx, st);
        return APR_SUCCESS;
    }
    for (unsigned b = 0; b < PP_MP_FLAG_COUNT; b++)
        if (flags & (1u << b))
            pp_debug(tx, 4, "Multipart: %s", pp_multipart_flag_name(1u << b));
    if (st->charset_error != NULL) {
        pp_body_refuse_charset(tx, st->charset_error);
        return APR_SUCCESS;
    }
    /* The form's charsets: _charset_ (Jetty) and the request's own charset= (Tomcat's request
     * encoding, the default for parts without one); each decodes names and such parts. A part's
     * charset decodes its value. */
    const char *form_cs[2], *req_cs = NULL;
    int nform = 0;
    const char *err = pp_charset_param(tx->pool, pp_str_from_cstr(tx->content_type), &req_cs);
    if (err != NULL) {
        pp_body_refuse_charset(tx, err);
        return APR_SUCCESS;
    }
    if (st->form_charset)
        form_cs[nform++] = st->form_charset;
    if (req_cs && !(nform && strcasecmp(req_cs, form_cs[0]) == 0))
        form_cs[nform++] = req_cs;
    int fields = tx->args->nelts;
    pp_charset_conv_t *conv = NULL;
    for (int i = first; i < fields && i - first < st->charsets->nelts && !err; i++) {
        const char *part_cs = APR_ARRAY_IDX(st->charsets, i - first, const char *);
        int mark = tx->args->nelts;
        if (!part_cs && !nform)
            continue;
        conv = conv ? conv : pp_charset_conv_create(tx->pool);
        for (int k = 0; k < nform && !err; k++)
            err = pp_body_add_decoded(tx, conv, i, mark, form_cs[k], part_cs ? part_cs : form_cs[k]);
        if (part_cs && !err)
            err = pp_body_add_decoded(tx, conv, i, mark, NULL, part_cs);
    }
    if (err != NULL) {
        pp_body_refuse_charset(tx, err);
        return APR_SUCCESS;
    }
    if (tx->args->nelts > fields) {
        pp_debug(tx, 4, "Multipart: %d field(s) also inspected as decoded from their charset",
                 tx->args->nelts - fields);
        if (pp_args_over_limit(tx, PP_PHASE_REQUEST_BODY))
            return APR_SUCCESS;
    }
    pp_body_set_payload(tx, synthesise(tx, first));
    return APR_SUCCESS;
}

unsigned pp_tx_multipart_flags(const pp_tx_t *tx)
{
    return tx->multipart_flags;
}
