/*
 * Request body dispatch (reference §6.2): on the first chunk the content type picks the
 * processor — urlencoded, multipart, raw — from one table; a PUT body is parsed the same way
 * (frameworks read PUT forms) and is also one intercepted file, as in 1.9. Every byte also
 * goes to the replay buffer (memory up to SecUploadInMemoryLimit, then disk) so the
 * application receives exactly what the client sent. At the end, body arguments, POST_PAYLOAD and 1.9's combined
 * ARGS string are set up for the rules. The JSON and XML processors are in dispatch_structured.c,
 * the multipart one in dispatch_multipart.c.
 */
#include "body/charset.h"
#include "body/dispatch.h"
#include "body/multipart.h"
#include "request/request.h"
#include "tx.h"

#include <apr_lib.h>

/* Form data the rules see is held in memory (urlencoded bodies whole, multipart fields as
 * arguments plus the synthesised body), so its total is bounded by SecRequestBodyNoFilesLimit:
 * past it the request is refused with 413 while the body is still arriving, rather than passed
 * half-inspected (attack run D7: 150 MB of multipart fields took a worker to 308 MB). */
apr_int64_t pp_body_nofiles_limit(const pp_tx_t *tx)
{
    return tx->cfg->nofiles_limit == PP_UNSET ? PP_DEFAULT_NOFILES_LIMIT_BYTES
                                              : tx->cfg->nofiles_limit;
}

void pp_body_refuse_nofiles(pp_tx_t *tx, apr_off_t seen)
{
    pp_tx_fail(tx, 413, PP_PHASE_REQUEST_BODY,
               apr_psprintf(tx->pool, "Request body form data (not files) of at least %"
                            APR_OFF_T_FMT " bytes, over SecRequestBodyNoFilesLimit %"
                            APR_INT64_T_FMT ".", seen, pp_body_nofiles_limit(tx)));
}

typedef apr_status_t (*proc_begin_fn)(pp_tx_t *tx);
typedef apr_status_t (*proc_feed_fn)(pp_tx_t *tx, const char *data, apr_size_t len);
typedef apr_status_t (*proc_finish_fn)(pp_tx_t *tx);

typedef struct body_proc_t {
    pp_body_kind_t kind;
    const char *name;       /* REQBODY_PROCESSOR, ctl:requestBodyProcessor; NULL: none */
    const char *media_type; /* NULL: chosen by method or fallback */
    proc_begin_fn begin;
    proc_feed_fn feed;
    proc_finish_fn finish;
} body_proc_t;

static apr_status_t urlencoded_finish(pp_tx_t *tx);
static apr_status_t raw_finish(pp_tx_t *tx);

/* JSON (and XML) have no media type here: only ctl:requestBodyProcessor selects them, as in
 * ModSecurity 2.9.7 (spec §12.1). The last row is the fallback. */
/* clang-format off */
static const body_proc_t processors[] = {
    /* kind                name          media type                            begin            feed            finish */
    { PP_BODY_URLENCODED, "URLENCODED", "application/x-www-form-urlencoded",  NULL,            NULL,           urlencoded_finish },
    { PP_BODY_MULTIPART,  "MULTIPART",  "multipart/form-data",                pp_body_multipart_begin, pp_body_multipart_feed, pp_body_multipart_finish },
    { PP_BODY_JSON,       "JSON",       NULL,                                 pp_body_json_begin, pp_body_json_feed, pp_body_json_finish },
    { PP_BODY_XML,        "XML",        NULL,                                 pp_body_xml_begin, NULL,           pp_body_xml_finish },
    { PP_BODY_RAW,        NULL,         NULL,                                 NULL,            NULL,           raw_finish },
};
/* clang-format on */

#define N_PROCESSORS (sizeof processors / sizeof processors[0])

static const body_proc_t *by_name(const char *name)
{
    for (apr_size_t i = 0; i < N_PROCESSORS; i++)
        if (processors[i].name && strcasecmp(processors[i].name, name) == 0)
            return &processors[i];
    return NULL;
}

apr_status_t pp_tx_set_body_processor(pp_tx_t *tx, const char *name)
{
    const body_proc_t *proc = by_name(name);
    if (!proc)
        return APR_EINVAL;
    if (tx->body)
        return APR_EGENERAL; /* the body has started: too late to change how it is read */
    tx->body_processor = proc->name;
    pp_tx_changed(tx, PP_SRC_BODY);
    return APR_SUCCESS;
}

/* Does the Content-Type name this media type, as the laxest application parser reads it?
 * PHP ends the media type at the first ';', ',' or space and compares it ignoring case;
 * Spring and Commons FileUpload test a case-insensitive prefix ("multipart/"); ModSecurity
 * compares the first strlen(type) bytes. So: a case-insensitive prefix after leading white
 * space, whatever follows it. What follows is the processor's business: urlencoded has no
 * parameter that changes how a form is read, and the multipart parser rejects (400) a
 * parameter list it cannot read the way every application reads it. Anything a lax parser
 * takes for a form therefore reaches a form processor, never the raw one
 * (docs/body-parsing.md, "Media type"). */
static bool media_is(const char *ct, const char *type)
{
    if (!ct)
        return false;
    while (apr_isspace(*ct))
        ct++;
    return strncasecmp(ct, type, strlen(type)) == 0;
}

static const body_proc_t *pick(const pp_tx_t *tx)
{
    apr_size_t n = N_PROCESSORS;
    if (tx->body_processor)
        return by_name(tx->body_processor);
    for (apr_size_t i = 0; i < n; i++)
        if (processors[i].media_type && media_is(tx->content_type, processors[i].media_type))
            return &processors[i];
    return &processors[n - 1];
}

bool pp_tx_wants_request_body(const pp_tx_t *tx)
{
    if (!pp_tx_request_body_access(tx) || tx->verdict.intercepted)
        return false;
    /* MODSEC_NOPOSTBUFFERING set for the request (e.g. by SetEnvIf): its value is the reason. */
    const char *nobuf = tx->env ? apr_table_get(tx->env, "MODSEC_NOPOSTBUFFERING") : NULL;
    if (nobuf) {
        pp_debug(tx, 2, "Request body not buffered: MODSEC_NOPOSTBUFFERING=%s", nobuf);
        return false;
    }
    return true;
}

/* SecTmpDir, else (1.9) SecUploadDir, else the buffer's default (/tmp). */
static const char *spool_dir(const pp_tx_t *tx)
{
    return tx->cfg->tmp_dir ? tx->cfg->tmp_dir : tx->cfg->upload_dir;
}

/* SecRequestBodyLimit bounds what is buffered and spooled per request, whatever the type (attack
 * run D9: 200 MB were spooled, 400 MB for multipart, before any rule ran). */
static apr_int64_t body_limit(const pp_tx_t *tx)
{
    return pp_tx_request_body_limit(tx); /* SecRequestBodyLimit or ctl:requestBodyLimit */
}

static void refuse_body(pp_tx_t *tx, const char *what, apr_off_t n)
{
    pp_tx_fail(tx, 413, PP_PHASE_REQUEST_BODY,
               apr_psprintf(tx->pool, "Request body %s %" APR_OFF_T_FMT " bytes, over "
                            "SecRequestBodyLimit %" APR_INT64_T_FMT ".", what, n,
                            body_limit(tx)));
}

/* The largest Content-Length the request declares, -1 without one. */
static apr_int64_t declared_length(const pp_tx_t *tx)
{
    apr_int64_t max = -1;
    for (int i = 0; i < tx->headers->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(tx->headers, i, pp_field_t);
        apr_int64_t n;
        if (pp_str_eq_ci(f->name, "Content-Length") && pp_parse_int64(f->value.data, &n) &&
            n > max)
            max = n;
    }
    return max;
}

/* A declared length over the limit is refused before a byte is kept (Reject); under
 * ProcessPartial it is only logged, as ModSecurity logs it, and the first LIMIT bytes are read. */
static bool length_declared_over(pp_tx_t *tx)
{
    apr_int64_t n = declared_length(tx);
    if (n > body_limit(tx)) {
        if (pp_cfg_body_limit_action(tx->cfg) == PP_LIMIT_PROCESS_PARTIAL) {
            pp_debug(tx, 1, "Request body (Content-Length %" APR_INT64_T_FMT ") is larger "
                     "than SecRequestBodyLimit %" APR_INT64_T_FMT ": only that much is "
                     "inspected (ProcessPartial).", n, body_limit(tx));
            return false;
        }
        refuse_body(tx, "with Content-Length", (apr_off_t)n);
        return true;
    }
    return false;
}

/* ProcessPartial past the limit: bytes no longer go to the buffer or the processors; they are
 * kept aside for the application, which then reads the rest from the client. */
static void keep_rest(pp_tx_t *tx, const char *data, apr_size_t len)
{
    if (!len)
        return;
    char *s = apr_palloc(tx->pool, tx->body_rest.len + len);
    if (tx->body_rest.len)
        memcpy(s, tx->body_rest.data, tx->body_rest.len);
    memcpy(s + tx->body_rest.len, data, len);
    tx->body_rest = (pp_str_t){ s, tx->body_rest.len + len };
}

bool pp_tx_request_body_partial(const pp_tx_t *tx)
{
    return tx->body_partial;
}

pp_str_t pp_tx_request_body_rest(const pp_tx_t *tx)
{
    return tx->body_rest;
}

static apr_status_t begin_body(pp_tx_t *tx)
{
    apr_int64_t limit = tx->cfg->inmem_limit == PP_UNSET ? PP_DEFAULT_INMEM_LIMIT_BYTES
                                                         : tx->cfg->inmem_limit;
    tx->body = pp_buffer_create(tx->pool, (apr_size_t)limit, spool_dir(tx));
    if (tx->spool)
        pp_buffer_use_spool(tx->body, tx->spool);
    pp_buffer_expect(tx->body, declared_length(tx));
    if (tx->spool && tx->body_memory)
        pp_buffer_use_memory(tx->body, tx->body_memory, pp_cfg_body_memory_budget(tx->cfg));
    const body_proc_t *proc = pick(tx);
    tx->body_kind = proc->kind;
    tx->body_proc_def = proc;
    if (pp_str_eq_ci(tx->method, "PUT")) {
        apr_status_t rv = pp_files_begin(tx, PP_STR(""), tx->path, &tx->put_file);
        if (rv != APR_SUCCESS)
            return rv;
    }
    return proc->begin ? proc->begin(tx) : APR_SUCCESS;
}


/* Writing the body to its spool file failed: the body is lost, and says where. */
static apr_status_t spool_failed(pp_tx_t *tx, apr_status_t rv)
{
    char buf[120];
    const char *where = pp_buffer_dir(tx->body);
    tx->body_error = rv;
    tx->body_error_text = apr_psprintf(tx->pool, "Failed to spool the request body in %s: %s",
                                       where ? where : (spool_dir(tx) ? spool_dir(tx)
                                                                      : "the temp dir"),
                                       apr_strerror(rv, buf, sizeof buf));
    return rv;
}

/* lent: the host keeps data for the transaction (pp_tx_feed_request_body_lent). */
static apr_status_t feed(pp_tx_t *tx, const char *data, apr_size_t len, bool lent)
{
    /* Refused: nothing more is kept (the adapter stops reading; a spool would only fill the
     * disk for a body no one will get). */
    if (tx->verdict.intercepted)
        return APR_SUCCESS;
    if (!tx->body) {
        /* Rules that need no body may refuse the request before it is kept (D9). */
        pp_eval_before_body(tx);
        if (tx->verdict.intercepted || length_declared_over(tx))
            return APR_SUCCESS;
        apr_status_t rv = begin_body(tx);
        if (rv != APR_SUCCESS)
            return tx->body_error = rv;
    }
    if (tx->body_error)
        return tx->body_error;
    if (tx->body_partial) {
        keep_rest(tx, data, len);
        return APR_SUCCESS;
    }
    apr_off_t total = pp_buffer_length(tx->body) + (apr_off_t)len;
    if (total > body_limit(tx)) {
        if (pp_cfg_body_limit_action(tx->cfg) != PP_LIMIT_PROCESS_PARTIAL) {
            refuse_body(tx, "of at least", total);
            return APR_SUCCESS;
        }
        /* Inspect up to the limit; what is beyond it goes to the application unread. */
        apr_size_t keep = (apr_size_t)(body_limit(tx) - pp_buffer_length(tx->body));
        pp_debug(tx, 1, "Request body is larger than SecRequestBodyLimit %" APR_INT64_T_FMT
                 ": the rest is not inspected (ProcessPartial).", body_limit(tx));
        tx->body_partial = true;
        keep_rest(tx, data + keep, len - keep);
        len = keep;
        total = body_limit(tx);
        if (!len)
            return APR_SUCCESS;
    }
    if ((tx->body_kind == PP_BODY_URLENCODED || tx->body_kind == PP_BODY_JSON ||
         tx->body_kind == PP_BODY_XML) &&
        total > pp_body_nofiles_limit(tx)) {
        pp_body_refuse_nofiles(tx, total);
        return APR_SUCCESS;
    }
    /* A multipart body is only parsed as it streams by, never read back whole by the engine:
     * the host's chunks can stand in for the copy (the replay reads them in place). */
    apr_status_t rv = lent && tx->body_kind == PP_BODY_MULTIPART
                          ? pp_buffer_lend(tx->body, data, len)
                          : pp_buffer_feed(tx->body, data, len);
    if (rv != APR_SUCCESS)
        return spool_failed(tx, rv);
    const body_proc_t *proc = tx->body_proc_def;
    if (tx->put_file && !tx->verdict.intercepted)
        rv = pp_files_write(tx, tx->put_file, data, len);
    if (rv == APR_SUCCESS && proc->feed && !tx->verdict.intercepted)
        rv = proc->feed(tx, data, len);
    if (rv == APR_SUCCESS && tx->body_kind == PP_BODY_MULTIPART && !tx->verdict.intercepted)
        rv = pp_body_multipart_check(tx);
    return rv == APR_SUCCESS ? APR_SUCCESS : (tx->body_error = rv);
}

apr_status_t pp_tx_feed_request_body(pp_tx_t *tx, const char *data, apr_size_t len)
{
    return feed(tx, data, len, false);
}

static apr_status_t feed_chunks(pp_tx_t *tx, const pp_str_t *chunks, apr_size_t n, bool lent)
{
    apr_status_t rv = APR_SUCCESS;
    bool held = false;
    for (apr_size_t i = 0; i < n && !tx->verdict.intercepted; i++) {
        /* The body's buffer is made by the first chunk of the body. */
        if (!held && tx->body && !tx->body_error) {
            pp_buffer_hold(tx->body);
            held = true;
        }
        apr_status_t r = feed(tx, chunks[i].data, chunks[i].len, lent);
        rv = rv == APR_SUCCESS ? r : rv;
    }
    if (held) {
        apr_status_t r = pp_buffer_release(tx->body);
        if (r != APR_SUCCESS && !tx->body_error)
            spool_failed(tx, r);
        rv = rv == APR_SUCCESS ? r : rv;
    }
    return rv;
}

apr_status_t pp_tx_feed_request_body_chunks(pp_tx_t *tx, const pp_str_t *chunks, apr_size_t n)
{
    return feed_chunks(tx, chunks, n, false);
}

apr_status_t pp_tx_feed_request_body_lent(pp_tx_t *tx, const pp_str_t *chunks, apr_size_t n)
{
    return feed_chunks(tx, chunks, n, true);
}

bool pp_tx_request_body_lent(const pp_tx_t *tx)
{
    return tx->body && pp_buffer_lending(tx->body);
}

apr_status_t pp_body_finish(pp_tx_t *tx)
{
    if (!tx->body)
        return APR_SUCCESS;
    if (tx->body_error) {
        /* Fail closed: a body we could not keep is a body we could not inspect. */
        pp_tx_fail(tx, 500, PP_PHASE_REQUEST_BODY,
                   tx->body_error_text ? tx->body_error_text : "Request body processing failed");
        return APR_SUCCESS;
    }
    const body_proc_t *proc = tx->body_proc_def;
    apr_status_t rv = tx->put_file ? pp_files_end(tx, tx->put_file) : APR_SUCCESS;
    if (rv == APR_SUCCESS)
        rv = proc->finish(tx);
    /* The body's values (and any arguments a processor appended) are complete now. */
    pp_tx_changed(tx, PP_SRC_BODY);
    pp_tx_changed(tx, PP_SRC_ARGS);
    if (rv == APR_SUCCESS && !tx->verdict.intercepted && tx->files->nelts)
        pp_files_approve(tx);
    return rv;
}

void pp_tx_set_spool(pp_tx_t *tx, pp_spool_t *spool)
{
    tx->spool = spool;
}

void pp_tx_set_body_memory(pp_tx_t *tx, pp_body_memory_t *m)
{
    tx->body_memory = m;
}

apr_status_t pp_tx_read_request_body(pp_tx_t *tx, const char **data, apr_size_t *len)
{
    if (!tx->body) {
        *data = "";
        *len = 0;
        return APR_SUCCESS;
    }
    return pp_buffer_read(tx->body, data, len);
}

apr_status_t pp_tx_request_body_file(pp_tx_t *tx, apr_file_t **file)
{
    *file = NULL;
    return tx->body ? pp_buffer_sync(tx->body, file) : APR_SUCCESS;
}

apr_off_t pp_tx_request_body_length(const pp_tx_t *tx)
{
    return tx->body ? pp_buffer_length(tx->body) : 0;
}

/* 1.9 ARGS is the query string and the (possibly synthesised) body as one string. */
void pp_body_set_payload(pp_tx_t *tx, pp_str_t payload)
{
    tx->request_body = payload;
    if (!tx->query.len || !payload.len) {
        tx->args_combined = tx->query.len ? tx->query : payload;
        return;
    }
    char *s = apr_palloc(tx->pool, tx->query.len + 1 + payload.len + 1);
    memcpy(s, tx->query.data, tx->query.len);
    s[tx->query.len] = '&';
    memcpy(s + tx->query.len + 1, payload.data, payload.len);
    s[tx->query.len + 1 + payload.len] = '\0';
    tx->args_combined = (pp_str_t){ s, tx->query.len + 1 + payload.len };
}

/* ---- Declared charsets ----------------------------------------------------------------------
 * A field whose text an application decodes from a charset (charset.h) is inspected both as
 * sent (PHP and others ignore the charset) and converted to UTF-8 (Java, .NET, Jetty, Django
 * decode it): the converted copy is appended to ARGS when it differs. A charset iconv does not
 * know, or text that does not convert, makes the body ambiguous: 400. */

static bool str_same(pp_str_t a, pp_str_t b)
{
    return a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
}

/* Appends the converted copies of args[i] when name_cs / value_cs (NULL: as sent) change it:
 * one, or two for an unmarked UTF-16/32 (read big- and little-endian); none that equals the
 * field as sent or a copy already appended from args[mark] on. */
const char *pp_body_add_decoded(pp_tx_t *tx, pp_charset_conv_t *conv, int i, int mark,
                               const char *name_cs, const char *value_cs)
{
    pp_field_t f = APR_ARRAY_IDX(tx->args, i, pp_field_t);
    pp_field_t d[2] = { f, f };
    pp_str_t alt_name = { NULL, 0 }, alt_value = { NULL, 0 };
    const char *err = NULL;
    if (name_cs != NULL)
        err = pp_charset_to_utf8(conv, name_cs, f.name, &d[0].name, &alt_name);
    if (err == NULL && value_cs != NULL)
        err = pp_charset_to_utf8(conv, value_cs, f.value, &d[0].value, &alt_value);
    if (err != NULL)
        return apr_psprintf(tx->pool, "field \"%s\" in charset %s: %s",
                            pp_str_log_escape(tx->pool, f.name, 64),
                            value_cs ? value_cs : name_cs, err);
    d[1].name = alt_name.data ? alt_name : d[0].name;
    d[1].value = alt_value.data ? alt_value : d[0].value;
    int n = (alt_name.data || alt_value.data) ? 2 : 1;
    for (int k = 0; k < n; k++) {
        /* Equal bytes, not only the same pointer: a converter may copy text it leaves alone
         * (UTF-7's "utf-7", "x"), and a second equal field is counted twice by &ARGS:x,
         * chained setvars and parameter-pollution rules (CRS 922100, 921180). */
        bool seen = str_same(d[k].name, f.name) && str_same(d[k].value, f.value);
        for (int j = mark; j < tx->args->nelts && !seen; j++) {
            const pp_field_t *e = &APR_ARRAY_IDX(tx->args, j, pp_field_t);
            seen = str_same(e->name, d[k].name) && str_same(e->value, d[k].value);
        }
        if (seen)
            continue;
        if (memchr(d[k].name.data, '\0', d[k].name.len) != NULL)
            return "NUL in a field name once decoded from its charset";
        *(pp_field_t *)apr_array_push(tx->args) = d[k];
        pp_tx_changed(tx, PP_SRC_ARGS);
    }
    return NULL;
}

/* Fails the request with 400 naming the charset problem. */
void pp_body_refuse_charset(pp_tx_t *tx, const char *why)
{
    pp_tx_fail(tx, 400, PP_PHASE_REQUEST_BODY,
               apr_psprintf(tx->pool, "Request body charset: %s (ambiguous body: an application "
                            "that decodes the charset reads other text)", why));
}

/* Percent-encodes s onto o (every byte but letters and digits), returns the end. */
static char *pct_encode(char *o, pp_str_t s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (apr_size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.data[i];
        if (apr_isalnum(c)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    return o;
}

/* The urlencoded body followed by the decoded copies args[from..] as "&name=value", encoded,
 * so that 1.9's ARGS and POST_PAYLOAD, which read the body as a string, see them too. */
static pp_str_t with_decoded(pp_tx_t *tx, pp_str_t body, int from)
{
    if (tx->args->nelts <= from)
        return body;
    apr_size_t len = body.len;
    for (int i = from; i < tx->args->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(tx->args, i, pp_field_t);
        len += 2 + 3 * (f->name.len + f->value.len);
    }
    char *s = apr_palloc(tx->pool, len + 1), *o = s;
    memcpy(o, body.data, body.len);
    o += body.len;
    for (int i = from; i < tx->args->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(tx->args, i, pp_field_t);
        if (o != s)
            *o++ = '&';
        o = pct_encode(o, f->name);
        *o++ = '=';
        o = pct_encode(o, f->value);
    }
    *o = '\0';
    return (pp_str_t){ s, (apr_size_t)(o - s) };
}

static apr_status_t urlencoded_finish(pp_tx_t *tx)
{
    pp_str_t body;
    if (pp_buffer_flatten(tx->body, tx->pool, (apr_size_t)pp_body_nofiles_limit(tx), &body) !=
        APR_SUCCESS) {
        pp_body_refuse_nofiles(tx, pp_buffer_length(tx->body));
        return APR_SUCCESS;
    }
    (pp_cfg_has_rules2(tx->cfg, PP_PHASE_NONE) ? pp_urlencoded_parse2 : pp_urlencoded_parse_sep)(
        tx->pool, body, pp_cfg_argument_separator(tx->cfg), tx->args, &tx->urlencoded_errors);
    pp_tx_changed(tx, PP_SRC_ARGS);
    if (pp_fields_nul_name(tx->args, tx->query_arg_count, false)) {
        pp_tx_fail(tx, 400, PP_PHASE_REQUEST_BODY,
                   "NUL byte in an argument name: applications disagree on the name (PHP ends "
                   "it at the NUL)");
        return APR_SUCCESS;
    }
    /* Servlets (the request encoding), Django and ASP.NET decode the percent-decoded bytes with
     * the request's charset: its arguments are inspected that way too (ARGS gets the decoded
     * copies); POST_PAYLOAD stays the body as sent. */
    const char *cs = NULL, *err = pp_charset_param(tx->pool, pp_str_from_cstr(tx->content_type),
                                                   &cs);
    int fields = tx->args->nelts;
    if (err == NULL && cs != NULL && !pp_charset_is_identity(cs)) {
        pp_charset_conv_t *conv = pp_charset_conv_create(tx->pool);
        for (int i = tx->query_arg_count; i < fields && err == NULL; i++)
            err = pp_body_add_decoded(tx, conv, i, tx->args->nelts, cs, cs);
        if (err == NULL && tx->args->nelts > fields) {
            pp_debug(tx, 4, "Urlencoded body: %d argument(s) also inspected as decoded from %s",
                     tx->args->nelts - fields, cs);
            if (pp_args_over_limit(tx, PP_PHASE_REQUEST_BODY))
                return APR_SUCCESS;
        }
    }
    if (err != NULL) {
        pp_body_refuse_charset(tx, err);
        return APR_SUCCESS;
    }
    tx->urlencoded_body = body;
    pp_body_set_payload(tx, with_decoded(tx, body, fields));
    return APR_SUCCESS;
}

/* Other content types: POST_PAYLOAD is the body when it fits in memory, else its in-memory
 * prefix (the rest streams to the application unparsed; the debug log says so). */
static apr_status_t raw_finish(pp_tx_t *tx)
{
    if (pp_buffer_spilled(tx->body))
        pp_debug(tx, 2, "Request body of %" APR_OFF_T_FMT " bytes: POST_PAYLOAD holds the first %"
                 APR_SIZE_T_FMT, pp_buffer_length(tx->body), pp_buffer_prefix(tx->body).len);
    pp_body_set_payload(tx, pp_buffer_prefix(tx->body));
    return APR_SUCCESS;
}

/* ---- before the body ------------------------------------------------------------------------ */

/* ModSecurity 2 compares Content-Length with SecRequestBodyLimit right after phase 1, before
 * anything reads the body (reference secrule-2.9 §1.3 step 1, §12.6). Not in DetectionOnly,
 * which reads the body up to the limit (ProcessPartial). */
void pp_tx_check_request_length(pp_tx_t *tx)
{
    if (pp_tx_wants_request_body(tx) && !pp_tx_detection_only(tx))
        length_declared_over(tx);
}
