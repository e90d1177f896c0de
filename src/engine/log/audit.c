/*
 * Audit log entry (reference §9.1, §1.3): decides whether a finished transaction is audited and
 * turns it into a pp_audit_record_t that the format files render (audit_serial.c for the 1.9
 * record, audit_concurrent.c for the per-transaction file, audit_json.c for JSON).
 *
 * SecAuditEngine: Off logs nothing, On everything, RelevantOnly what tx->verdict.relevant says
 * (the one definition SecUploadKeepFiles RelevantOnly also uses; the status part of it,
 * SecAuditLogRelevantStatus, was decided by pp_tx_finish before we run), DynamicOrRelevant adds
 * every request served by a handler other than the core's default-handler (§2.2).
 *
 * The request body is logged only when it was buffered (§9.1), and never more than
 * PP_AUDIT_BODY_LIMIT_BYTES of it; a multipart body is logged as its urlencoded synthesis of the
 * fields (§6.3) and the files are summarised one line each (field, client name, size, stored
 * path, approval verdict) rather than copied. Record memory lives in a subpool of the
 * transaction pool that is destroyed as soon as the record is written.
 *
 * Also here: the field helpers the other log files share.
 */
#include "log/log.h"

#include <stdlib.h>

#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>

/* ---- Field helpers ------------------------------------------------------------------------- */

static void clf_date(char *buf, apr_size_t size, apr_time_t t, bool usec)
{
    apr_time_exp_t xt;
    apr_time_exp_lt(&xt, t);
    long off = xt.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    char frac[16] = "";
    if (usec)
        apr_snprintf(frac, sizeof frac, ".%06d", xt.tm_usec);
    apr_snprintf(buf, size, "%02d/%s/%d:%02d:%02d:%02d%s %c%02ld%02ld", xt.tm_mday,
                 apr_month_snames[xt.tm_mon], xt.tm_year + 1900, xt.tm_hour, xt.tm_min,
                 xt.tm_sec, frac, sign, off / 3600, (off % 3600) / 60);
}

void pp_log_clf_date(char *buf, apr_size_t size, apr_time_t t)
{
    clf_date(buf, size, t, false);
}

void pp_log_clf_date_usec(char *buf, apr_size_t size, apr_time_t t)
{
    clf_date(buf, size, t, true);
}

/* Escapes for a log field: control bytes, '"', '\\' and the bytes of also (may be NULL): with
 * " " the result is safe as an unquoted field, with "]" inside a [bracketed] one. */
static const char *escape_fit(apr_pool_t *p, pp_str_t s, apr_size_t max, const char *also,
                              bool *truncated)
{
    char *out = apr_palloc(p, max + 1);
    apr_size_t o = 0, i = 0;
    for (; i < s.len; i++) {
        unsigned char c = (unsigned char)s.data[i];
        bool esc = c < 0x20 || c == 0x7f || c == '"' || c == '\\' || (also && strchr(also, c));
        if (o + (esc ? 4 : 1) > max)
            break;
        if (esc)
            o += (apr_size_t)apr_snprintf(out + o, 5, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    /* Stopped inside a UTF-8 sequence: drop its lead and continuation bytes (all copied raw). */
    if (i < s.len && ((unsigned char)s.data[i] & 0xC0) == 0x80) {
        while (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
            o--;
        if (o > 0 && (unsigned char)out[o - 1] >= 0xC0)
            o--;
    }
    out[o] = '\0';
    if (truncated)
        *truncated = *truncated || i < s.len;
    return out;
}

const char *pp_log_escape_fit(apr_pool_t *p, pp_str_t s, apr_size_t max, bool *truncated)
{
    return escape_fit(p, s, max, NULL, truncated);
}

const char *pp_log_escape_bracketed(apr_pool_t *p, pp_str_t s, apr_size_t max)
{
    return escape_fit(p, s, max, "]", NULL);
}

static const char *short_field(apr_pool_t *p, const char *s)
{
    if (!s || !*s)
        return "-";
    return escape_fit(p, pp_str_from_cstr(s), PP_LOG_SHORT_FIELD_BYTES, " ", NULL);
}

const char *pp_audit_summary(const pp_tx_t *tx, apr_pool_t *p, int status, const char *bytes,
                             const char *line)
{
    char date[48];
    pp_log_clf_date(date, sizeof date, tx->start);
    const pp_conn_info_t *c = pp_tx_conn(tx);
    return apr_psprintf(p, "%s %s %s %s [%s] \"%s\" %s %s", short_field(p, c->server_name),
                        short_field(p, c->client_ip), short_field(p, c->remote_ident),
                        short_field(p, c->remote_user), date, line,
                        status ? apr_itoa(p, status) : "-", bytes);
}

/* Water-filling: fields shorter than an equal share keep everything, the rest split what is
 * left, so one huge User-Agent cannot push the request line out of the line. */
static void share_budget(const apr_size_t need[3], apr_size_t budget, apr_size_t give[3])
{
    bool done[3] = { false, false, false };
    int left = 3;
    while (left > 0) {
        apr_size_t share = budget / (apr_size_t)left;
        bool progress = false;
        for (int i = 0; i < 3; i++) {
            if (!done[i] && need[i] <= share) {
                give[i] = need[i];
                budget -= need[i];
                done[i] = true;
                left--;
                progress = true;
            }
        }
        if (!progress) {
            for (int i = 0; i < 3; i++)
                if (!done[i])
                    give[i] = share;
            return;
        }
    }
}

void pp_log_fit_fields(const pp_tx_t *tx, apr_pool_t *p, apr_size_t budget, pp_log_fitted_t *out)
{
    const char *ref = pp_log_request_header(tx, "Referer");
    const char *ua = pp_log_request_header(tx, "User-Agent");
    pp_str_t src[3] = { tx->request_line, pp_str_from_cstr(ref), pp_str_from_cstr(ua) };
    bool absent[3] = { false, ref == NULL, ua == NULL };
    const char *full[3];
    apr_size_t need[3], give[3];
    out->truncated = false;
    for (int i = 0; i < 3; i++) {
        full[i] = absent[i] ? "-" : escape_fit(p, src[i], PP_AUDIT_BODY_LIMIT_BYTES, NULL,
                                               &out->truncated);
        need[i] = strlen(full[i]);
    }
    if (need[0] + need[1] + need[2] > budget) {
        share_budget(need, budget, give);
        for (int i = 0; i < 3; i++) {
            if (give[i] < need[i]) {
                full[i] = escape_fit(p, src[i], give[i], NULL, NULL);
                out->truncated = true;
            }
        }
    }
    out->line = full[0];
    out->referer = full[1];
    out->agent = full[2];
}

const char *pp_log_safe_id(apr_pool_t *p, const char *id)
{
    if (!id || !*id)
        return "-";
    apr_size_t n = strlen(id) > 128 ? 128 : strlen(id);
    char *s = apr_pstrmemdup(p, id, n);
    for (char *c = s; *c; c++)
        if (!apr_isalnum(*c) && !strchr("@_.-", *c))
            *c = '_';
    return s;
}

const char *pp_log_request_header(const pp_tx_t *tx, const char *name)
{
    for (int i = 0; i < tx->headers->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(tx->headers, i, pp_field_t);
        if (pp_str_eq_ci(f->name, name))
            return f->value.data;
    }
    return NULL;
}

int pp_log_status(const pp_tx_t *tx)
{
    if (tx->status)
        return tx->status;
    return tx->verdict.intercepted ? tx->verdict.status : 0;
}

const char *pp_audit_file_summary(const pp_audit_record_t *r, const pp_file_t *f)
{
    const char *verdict = f->verdict ? pp_log_escape_fit(r->p, pp_str_from_cstr(f->verdict),
                                                         2048, NULL)
                                     : "not checked";
    return apr_psprintf(r->p,
                        "field=\"%s\" filename=\"%s\" size=%" APR_OFF_T_FMT
                        " stored=\"%s\" verdict=\"%s\"",
                        pp_log_escape_fit(r->p, f->field, 1024, NULL),
                        pp_log_escape_fit(r->p, f->filename, 1024, NULL), f->size,
                        pp_log_escape_fit(r->p, f->tmpname, 4096, NULL), verdict);
}

bool pp_audit_part(const pp_audit_record_t *r, char letter)
{
    return strchr(r->parts, letter) != NULL;
}

void pp_audit_header_lines(pp_sbuf_t *b, const pp_audit_record_t *r, const apr_array_header_t *a,
                           bool response)
{
    for (int i = 0; i < a->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(a, i, pp_field_t);
        pp_sbuf_add_safe(b, f->name);
        pp_sbuf_add(b, ": ", 2);
        pp_sbuf_add_safe(b, pp_audit_mask_header(r->tx, response, f->name, f->value, r->p));
        pp_sbuf_add(b, "\n", 1);
    }
}

void pp_audit_message_lines(pp_sbuf_t *b, const pp_audit_record_t *r)
{
    const pp_tx_t *tx = r->tx;
    for (int i = 0; i < tx->matches->nelts; i++) {
        const pp_match_t *m = APR_ARRAY_IDX(tx->matches, i, const pp_match_t *);
        if (!m->logged)
            continue;
        pp_sbuf_str(b, "Message: ");
        pp_sbuf_add_safe(b, pp_str_from_cstr(pp_match_text(m)));
        pp_sbuf_add(b, "\n", 1);
    }
}

/* ---- Building the record ----------------------------------------------------------------- */

/* Reason phrases for the status line when the host gave only a number. */
/* clang-format off */
static const struct { int code; const char *reason; } reasons[] = {
    { 200, "OK" },                   { 201, "Created" },              { 204, "No Content" },
    { 206, "Partial Content" },      { 301, "Moved Permanently" },    { 302, "Found" },
    { 303, "See Other" },            { 304, "Not Modified" },         { 307, "Temporary Redirect" },
    { 308, "Permanent Redirect" },   { 400, "Bad Request" },          { 401, "Unauthorized" },
    { 403, "Forbidden" },            { 404, "Not Found" },            { 405, "Method Not Allowed" },
    { 406, "Not Acceptable" },       { 408, "Request Timeout" },      { 411, "Length Required" },
    { 413, "Request Entity Too Large" }, { 414, "Request-URI Too Long" },
    { 415, "Unsupported Media Type" }, { 500, "Internal Server Error" }, { 501, "Not Implemented" },
    { 502, "Bad Gateway" },          { 503, "Service Unavailable" },  { 504, "Gateway Timeout" },
};
/* clang-format on */

static const char *response_line(const pp_tx_t *tx, apr_pool_t *p, int status)
{
    const char *proto = tx->protocol.len ? tx->protocol.data : "HTTP/1.1";
    if (tx->status_line && atoi(tx->status_line) == status)
        return apr_psprintf(p, "%s %s", proto, tx->status_line);
    for (apr_size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == status)
            return apr_psprintf(p, "%s %d %s", proto, status, reasons[i].reason);
    return apr_psprintf(p, "%s %d", proto, status);
}

const char *pp_log_response_bytes(const pp_tx_t *tx)
{
    for (int i = 0; i < tx->response_headers->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(tx->response_headers, i, pp_field_t);
        apr_int64_t n;
        if (pp_str_eq_ci(f->name, "Content-Length") && pp_parse_int64(f->value.data, &n))
            return f->value.data;
    }
    return "-";
}

/* The first want bytes of a body that spilled to disk (flushed first: an intercepted request's
 * last bytes may still be in the buffer's write buffer). Runs in the logging phase, after any
 * replay; reading at an offset of its own moves nothing the replay depends on. */
static pp_str_t spilled_prefix(const pp_tx_t *tx, apr_pool_t *p, apr_size_t want)
{
    pp_str_t head;
    if (pp_buffer_head(tx->body, p, want, &head) != APR_SUCCESS)
        return pp_buffer_prefix(tx->body);
    return head;
}

static void set_request_body(pp_audit_record_t *r, const pp_tx_t *tx)
{
    if (!tx->body || !(pp_audit_part(r, 'C') || pp_audit_part(r, 'I')))
        return;
    r->body_logged = true;
    if (r->lang2 && tx->body_kind == PP_BODY_MULTIPART && tx->request_body.data) {
        r->synth = tx->request_body;
        if (r->synth.len > PP_AUDIT_BODY_LIMIT_BYTES)
            r->synth.len = PP_AUDIT_BODY_LIMIT_BYTES;
        r->synth = pp_audit_mask_form(tx, r->synth, r->p);
    }
    if (!r->lang2 && tx->body_kind == PP_BODY_MULTIPART && tx->request_body.data) {
        r->body_synthesised = true;
        r->body_total = (apr_off_t)tx->request_body.len;
        r->body = tx->request_body;
        if (r->body.len > PP_AUDIT_BODY_LIMIT_BYTES)
            r->body.len = PP_AUDIT_BODY_LIMIT_BYTES;
    } else {
        r->body_total = pp_buffer_length(tx->body);
        apr_size_t want = r->body_total > PP_AUDIT_BODY_LIMIT_BYTES
                              ? PP_AUDIT_BODY_LIMIT_BYTES : (apr_size_t)r->body_total;
        r->body = pp_buffer_prefix(tx->body);
        if (r->body.len < want)
            r->body = spilled_prefix(tx, r->p, want);
        if (r->body.len > want)
            r->body.len = want;
    }
    r->body_truncated = (apr_off_t)r->body.len < r->body_total;
    r->body = pp_audit_mask_form(tx, r->body, r->p); /* sanitiseArg and friends */
}

static void record_build(pp_audit_record_t *r, const pp_tx_t *tx, apr_pool_t *p)
{
    memset(r, 0, sizeof *r);
    r->tx = tx;
    r->p = p;
    r->lang2 = pp_audit_lang2(tx);
    r->parts = pp_tx_audit_parts(tx) ? pp_tx_audit_parts(tx) : PP_AUDIT_DEFAULT_PARTS;
    r->producer = tx->cfg->component_signatures ? tx->cfg->component_signatures
                                                : apr_array_make(p, 1, sizeof(const char *));
    r->status = pp_log_status(tx);
    r->bytes = pp_log_response_bytes(tx);
    r->handler = pp_tx_conn(tx)->handler && *pp_tx_conn(tx)->handler ? pp_tx_conn(tx)->handler : "-";
    r->summary = pp_audit_summary(
        tx, p, r->status, r->bytes,
        pp_log_escape_fit(p, tx->request_line, PP_AUDIT_BODY_LIMIT_BYTES, NULL));
    r->response_line = r->status ? response_line(tx, p, r->status) : NULL;
    set_request_body(r, tx);
    if (pp_audit_part(r, 'E') && tx->response_text.len) {
        r->response_body_logged = true;
        r->response_body = tx->response_text;
        if (r->response_body.len > PP_AUDIT_BODY_LIMIT_BYTES)
            r->response_body.len = PP_AUDIT_BODY_LIMIT_BYTES;
    }
}

/* ---- Decision and writing ------------------------------------------------------------------ */

bool pp_audit_lang2(const pp_tx_t *tx)
{
    return pp_cfg_has_rules2(tx->cfg, PP_PHASE_NONE);
}

static bool is_dynamic(const pp_tx_t *tx)
{
    return pp_tx_conn(tx)->handler && strcmp(pp_tx_conn(tx)->handler, "default-handler") != 0;
}

static bool audit_wanted(const pp_tx_t *tx)
{
    switch (pp_tx_audit_engine(tx)) { /* SecAuditEngine or ctl:auditEngine */
    case PP_AUDIT_ON:
        return true;
    case PP_AUDIT_RELEVANT_ONLY:
        return tx->verdict.relevant;
    case PP_AUDIT_DYNAMIC_OR_RELEVANT:
        return tx->verdict.relevant || is_dynamic(tx);
    default:
        return false;
    }
}

apr_status_t pp_audit_write(pp_tx_t *tx)
{
    if (!audit_wanted(tx))
        return APR_SUCCESS;
    pp_debug(tx, 4, "Audit log: Logging this transaction.");
    const pp_logs_t *logs = tx->cfg->logs;
    pp_log_target_t *target = logs ? logs->audit : NULL;
    bool concurrent = tx->cfg->audit_type == PP_AUDIT_CONCURRENT && tx->cfg->audit_storage_dir;
    if (!target && !concurrent) {
        pp_debug(tx, 3, "Audit log: transaction is to be audited but no SecAuditLog is open");
        return APR_SUCCESS;
    }
    apr_pool_t *p;
    apr_status_t rv = apr_pool_create(&p, tx->pool);
    if (rv != APR_SUCCESS) {
        pp_debug(tx, 1, "Audit log: no memory for the record of transaction %s", tx->unique_id);
        return rv;
    }
    pp_audit_record_t r;
    record_build(&r, tx, p);
    pp_str_t entry = tx->cfg->audit_format == PP_AUDIT_FORMAT_JSON ? pp_audit_json_format(&r)
                     : r.lang2  ? pp_audit_native2_format(&r, !concurrent)
                     : concurrent ? pp_audit_parts_format(&r)
                                  : pp_audit_serial_format(&r);
    pp_log_target_t *target2 = logs ? logs->audit2 : NULL;
    rv = concurrent ? pp_audit_concurrent_write(&r, entry, target, target2)
                    : pp_log_target_write(target, entry.data, entry.len);
    if (!concurrent && target2) { /* SecAuditLog2: the same record, reported on its own */
        apr_status_t rv2 = pp_log_target_write(target2, entry.data, entry.len);
        if (rv2 != APR_SUCCESS) {
            char buf[120];
            pp_debug(tx, 1, "Audit log: failed to write the record of transaction %s (%s): %s",
                     tx->unique_id, target2->spec, apr_strerror(rv2, buf, sizeof buf));
        }
    }
    if (rv != APR_SUCCESS) {
        char buf[120];
        pp_debug(tx, 1, "Audit log: failed to write the record of transaction %s (%s): %s",
                 tx->unique_id, concurrent ? tx->cfg->audit_storage_dir : target->spec,
                 apr_strerror(rv, buf, sizeof buf));
    } else {
        pp_debug(tx, 4, "Audit log: record of %" APR_SIZE_T_FMT " bytes written", entry.len);
    }
    apr_pool_destroy(p);
    return rv;
}
