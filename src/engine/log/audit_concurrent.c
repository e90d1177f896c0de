/*
 * SecAuditLogType Concurrent (reference §9.3): one file per audited transaction under
 * SecAuditLogStorageDir, then one index line in SecAuditLog that says where it is, how long it
 * is and its MD5, so a collector can follow the index in real time and fetch complete entries.
 *
 * Layout: <dir>/<YYYYMMDD>/<YYYYMMDD-HHMM>/<YYYYMMDD-HHMMSS>-<unique id> (local time of the
 * request start). Directories are created on demand with mode 0750, files with O_EXCL and mode
 * 0640 (SecAuditLogDirMode / SecAuditLogFileMode change them; both set explicitly, so the umask does not change them: the group reads, nobody else,
 * §9.1 says audit logs hold passwords). The entry is written completely and closed before its
 * index line goes out, so whatever the index names is already whole.
 *
 * The index line is 2.x's (§9.3) and is kept within PIPE_BUF so that it is one atomic write
 * even to a pipe: the request line, Referer and User-Agent are shortened to fit and the line
 * then ends with " L".
 *
 * The entry itself is the JSON object (SecAuditLogFormat JSON) or, for Native, the 2.x part
 * layout §9.3 recommends, "1.9-compatible as far as known": --<boundary>-<letter>-- sections
 * A (time, ids, addresses), B (request line and headers), C (request body, bounded), E
 * (held-back response body), F (response status and headers), H (messages, handler, verdict,
 * upload summary), Z (end), selected by SecAuditLogParts.
 */
#include "log/log.h"
#include "store/store.h"

#include <apr_md5.h>

#define ENTRY_MODE 0640 /* SecAuditLogFileMode default */
#define DIR_MODE 0750   /* SecAuditLogDirMode default */

/* An octal Unix mode as APR's permission bits (which are not the same numbers). */
static apr_fileperms_t perms_of(int mode)
{
    static const struct {
        int bit;
        apr_fileperms_t perm;
    } map[] = { { 04000, APR_FPROT_USETID },  { 02000, APR_FPROT_GSETID },
                { 01000, APR_FPROT_WSTICKY }, { 0400, APR_FPROT_UREAD },
                { 0200, APR_FPROT_UWRITE },   { 0100, APR_FPROT_UEXECUTE },
                { 040, APR_FPROT_GREAD },     { 020, APR_FPROT_GWRITE },
                { 010, APR_FPROT_GEXECUTE },  { 04, APR_FPROT_WREAD },
                { 02, APR_FPROT_WWRITE },     { 01, APR_FPROT_WEXECUTE } };
    apr_fileperms_t p = 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (mode & map[i].bit)
            p |= map[i].perm;
    return p;
}

/* ---- The 2.x part layout ------------------------------------------------------------------ */

static void part(pp_sbuf_t *b, const char *boundary, char letter)
{
    pp_sbuf_printf(b, "--%s-%c--\n", boundary, letter);
}

static void part_a(pp_sbuf_t *b, const pp_audit_record_t *r)
{
    const pp_tx_t *tx = r->tx;
    char date[48];
    pp_log_clf_date_usec(date, sizeof date, tx->start);
    pp_sbuf_printf(b, "[%s] %s %s %d %s %d\n", date, pp_log_safe_id(r->p, tx->unique_id),
                   pp_tx_conn(tx)->client_ip ? pp_tx_conn(tx)->client_ip : "-", pp_tx_conn(tx)->client_port,
                   pp_tx_conn(tx)->server_ip ? pp_tx_conn(tx)->server_ip : "-", pp_tx_conn(tx)->server_port);
}

static void part_b(pp_sbuf_t *b, const pp_audit_record_t *r)
{
    const pp_tx_t *tx = r->tx;
    pp_sbuf_add_safe(b, pp_audit_mask_request_line(tx, r->p));
    pp_sbuf_add(b, "\n", 1);
    pp_audit_header_lines(b, r, tx->headers, false);
    const apr_array_header_t *a = apr_table_elts(tx->headers_out);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    for (int i = 0; i < a->nelts; i++) {
        if (!e[i].key || !e[i].val)
            continue;
        pp_sbuf_printf(b, "%s: ", e[i].key);
        pp_sbuf_add_safe(b, pp_str_from_cstr(e[i].val));
        pp_sbuf_add(b, "\n", 1);
    }
    pp_sbuf_add(b, "\n", 1);
}

/* The trailer: what 2.x puts in H, plus our upload summary and body-truncation note. */
static void part_h(pp_sbuf_t *b, const pp_audit_record_t *r)
{
    const pp_tx_t *tx = r->tx;
    pp_audit_message_lines(b, r);
    pp_sbuf_printf(b, "Apache-Handler: %s\n", r->handler);
    pp_sbuf_printf(b, "Stopwatch: %" APR_TIME_T_FMT " %" APR_TIME_T_FMT " (- - -)\n", tx->start,
                   apr_time_now() - tx->start);
    /* As 2.x: the component signatures (SecComponentSignature) follow, "; "-separated. */
    pp_sbuf_str(b, "Producer: " PARAPET_NAME "/" PARAPET_VERSION);
    const apr_array_header_t *sigs = tx->cfg->component_signatures;
    for (int i = 0; sigs && i < sigs->nelts; i++) {
        pp_sbuf_str(b, "; ");
        pp_sbuf_add_safe(b, pp_str_from_cstr(APR_ARRAY_IDX(sigs, i, const char *)));
    }
    pp_sbuf_str(b, ".\n");
    if (pp_tx_conn(tx)->server_software)
        pp_sbuf_printf(b, "Server: %s\n", pp_tx_conn(tx)->server_software);
    /* As 2.x: when SecWebAppId is not the default or setsid/setuid named the session or user. */
    const char *sid = pp_tx_pcoll_id(tx, true), *uid = pp_tx_pcoll_id(tx, false);
    if (strcmp(pp_cfg_webappid(tx->cfg), "default") != 0 || sid || uid) {
        const char *v[3] = { pp_cfg_webappid(tx->cfg), sid ? sid : "-", uid ? uid : "-" };
        pp_sbuf_str(b, "WebApp-Info:");
        for (int i = 0; i < 3; i++) {
            pp_sbuf_str(b, " \"");
            pp_sbuf_add_safe(b, pp_str_from_cstr(v[i]));
            pp_sbuf_str(b, "\"");
        }
        pp_sbuf_str(b, "\n");
    }
    if (tx->cfg->sensor_id && strcmp(tx->cfg->sensor_id, "default") != 0) {
        pp_sbuf_str(b, "Sensor-Id: \"");
        pp_sbuf_add_safe(b, pp_str_from_cstr(tx->cfg->sensor_id));
        pp_sbuf_str(b, "\"\n");
    }
    if (tx->verdict.intercepted)
        pp_sbuf_printf(b, "Action: Intercepted (phase %d)\n", tx->verdict.phase);
    if (r->body_truncated)
        pp_sbuf_printf(b, "Request-Body-Truncated: %" APR_SIZE_T_FMT " of %" APR_OFF_T_FMT
                          " bytes logged\n", r->body.len, r->body_total);
    for (int i = 0; i < tx->files->nelts; i++) {
        const pp_file_t *f = &APR_ARRAY_IDX(tx->files, i, pp_file_t);
        pp_sbuf_printf(b, "Upload-File: %s\n", pp_audit_file_summary(r, f));
    }
    pp_sbuf_add(b, "\n", 1);
}

pp_str_t pp_audit_parts_format(const pp_audit_record_t *r)
{
    const pp_tx_t *tx = r->tx;
    /* Random, and (redrawn until) absent from the raw request and response bodies, the only
     * parts a client writes unescaped: no body can end a section early. */
    char bnd[9];
    for (int i = 0; i < 16; i++) {
        pp_random_hex_from(NULL, bnd, 4, r);
        if (!(r->body.len && memmem(r->body.data, r->body.len, bnd, 8)) &&
            !(r->response_body.len &&
              memmem(r->response_body.data, r->response_body.len, bnd, 8)))
            break;
    }
    pp_sbuf_t b;
    pp_sbuf_init(&b, r->p, 2048 + r->body.len + r->response_body.len);
    /* A is the entry's header: always written, whatever the parts say. */
    part(&b, bnd, 'A');
    part_a(&b, r);
    if (pp_audit_part(r, 'B')) {
        part(&b, bnd, 'B');
        part_b(&b, r);
    }
    if (r->body_logged) {
        part(&b, bnd, 'C');
        pp_sbuf_add(&b, r->body.data, r->body.len);
        pp_sbuf_add(&b, "\n\n", 2);
    }
    if (r->response_body_logged) {
        part(&b, bnd, 'E');
        pp_sbuf_add(&b, r->response_body.data, r->response_body.len);
        pp_sbuf_add(&b, "\n\n", 2);
    }
    if (pp_audit_part(r, 'F') && r->response_line) {
        part(&b, bnd, 'F');
        pp_sbuf_add_safe(&b, pp_str_from_cstr(r->response_line));
        pp_sbuf_add(&b, "\n", 1);
        pp_audit_header_lines(&b, r, tx->response_headers, true);
        pp_sbuf_add(&b, "\n", 1);
    }
    if (pp_audit_part(r, 'H')) {
        part(&b, bnd, 'H');
        part_h(&b, r);
    }
    part(&b, bnd, 'Z');
    pp_sbuf_add(&b, "\n", 1);
    return (pp_str_t){ b.data, b.len };
}

/* ---- Entry file and index line ------------------------------------------------------------ */

/* Creates one level; a concurrent creator winning the race is not an error. */
static apr_status_t make_dir(const char *path, apr_fileperms_t mode, apr_pool_t *p)
{
    apr_status_t rv = apr_dir_make(path, mode, p);
    if (rv == APR_SUCCESS)
        return apr_file_perms_set(path, mode);
    return APR_STATUS_IS_EEXIST(rv) ? APR_SUCCESS : rv;
}

static apr_status_t write_entry(const char *path, pp_str_t entry, apr_fileperms_t mode,
                                apr_pool_t *p)
{
    apr_file_t *f;
    apr_status_t rv = apr_file_open(&f, path,
                                    APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL |
                                        APR_FOPEN_BINARY,
                                    mode, p);
    if (rv != APR_SUCCESS)
        return rv;
    rv = apr_file_perms_set(path, mode);
    if (rv == APR_SUCCESS || rv == APR_ENOTIMPL)
        rv = apr_file_write_full(f, entry.data, entry.len, NULL);
    apr_status_t crv = apr_file_close(f);
    if (rv == APR_SUCCESS)
        rv = crv;
    /* A partial entry no index line points at would only mislead a reader of the directory. */
    if (rv != APR_SUCCESS)
        apr_file_remove(path, p);
    return rv;
}

static const char *index_line(const pp_audit_record_t *r, const char *rel, apr_size_t size,
                              const char *md5)
{
    const pp_tx_t *tx = r->tx;
    const char *uid = pp_log_safe_id(r->p, tx->unique_id);
    const char *fmt = "%s \"%s\" \"%s\" %s \"-\" %s 0 %" APR_SIZE_T_FMT " md5:%s%s\n";
    /* Length without the three variable fields, plus room for " L". */
    apr_size_t fixed = strlen(apr_psprintf(r->p, fmt, pp_audit_summary(tx, r->p, r->status,
                                                                       r->bytes, ""),
                                           "", "", uid, rel, size, md5, " L"));
    pp_log_fitted_t v;
    pp_log_fit_fields(tx, r->p, fixed < PP_LOG_LINE_MAX_BYTES ? PP_LOG_LINE_MAX_BYTES - fixed : 0,
                      &v);
    return apr_psprintf(r->p, fmt, pp_audit_summary(tx, r->p, r->status, r->bytes, v.line),
                        v.referer, v.agent, uid, rel, size, md5, v.truncated ? " L" : "");
}

apr_status_t pp_audit_concurrent_write(const pp_audit_record_t *r, pp_str_t entry,
                                       pp_log_target_t *index, pp_log_target_t *index2)
{
    const pp_tx_t *tx = r->tx;
    apr_time_exp_t xt;
    apr_time_exp_lt(&xt, tx->start);
    char day[16], minute[16], second[24];
    apr_snprintf(day, sizeof day, "%04d%02d%02d", xt.tm_year + 1900, xt.tm_mon + 1, xt.tm_mday);
    apr_snprintf(minute, sizeof minute, "%s-%02d%02d", day, xt.tm_hour, xt.tm_min);
    apr_snprintf(second, sizeof second, "%s%02d", minute, xt.tm_sec);
    const char *base = tx->cfg->audit_storage_dir;
    const char *rel_day = apr_pstrcat(r->p, "/", day, NULL);
    const char *rel_min = apr_pstrcat(r->p, rel_day, "/", minute, NULL);
    const char *rel = apr_pstrcat(r->p, rel_min, "/", second, "-",
                                  pp_log_safe_id(r->p, tx->unique_id), NULL);
    apr_fileperms_t dmode = perms_of(pp_cfg_int(tx->cfg->audit_dir_mode, DIR_MODE));
    apr_fileperms_t fmode = perms_of(pp_cfg_int(tx->cfg->audit_file_mode, ENTRY_MODE));
    apr_status_t rv = make_dir(apr_pstrcat(r->p, base, rel_day, NULL), dmode, r->p);
    if (rv == APR_SUCCESS)
        rv = make_dir(apr_pstrcat(r->p, base, rel_min, NULL), dmode, r->p);
    if (rv == APR_SUCCESS)
        rv = write_entry(apr_pstrcat(r->p, base, rel, NULL), entry, fmode, r->p);
    if (rv != APR_SUCCESS || !index)
        return rv;
    unsigned char digest[APR_MD5_DIGESTSIZE];
    apr_md5(digest, entry.data, entry.len);
    char md5[2 * APR_MD5_DIGESTSIZE + 1];
    for (int i = 0; i < APR_MD5_DIGESTSIZE; i++)
        apr_snprintf(md5 + 2 * i, 3, "%02x", digest[i]);
    const char *line = index_line(r, rel, entry.len, md5);
    rv = pp_log_target_write(index, line, strlen(line));
    /* SecAuditLog2 gets the same index line (one entry file serves both). */
    apr_status_t rv2 = index2 ? pp_log_target_write(index2, line, strlen(line)) : APR_SUCCESS;
    return rv != APR_SUCCESS ? rv : rv2;
}
