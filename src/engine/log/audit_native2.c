/*
 * The ModSecurity 2.9 native audit record (reference secrule-2.9 §14.3), written for
 * configurations in the 2.x language (SecRule / SecAction) with SecAuditLogFormat Native, both
 * Serial (records appended to SecAuditLog) and Concurrent (one record per file, audit.c and
 * audit_concurrent.c). 1.9 configurations keep their own record (audit_serial.c).
 *
 * The layout is ModSecurity's, byte for byte where the content is the same: every part starts
 * with "\n--<boundary>-<letter>--\n" (A without the leading newline), parts come in the fixed
 * order A B C I F E H J K Z whatever order SecAuditLogParts names them in, and a Serial record
 * ends with one more newline:
 *
 *   A  [<time>] <unique id> <client ip> <client port> <server ip> <server port>
 *   B  request line and headers
 *   C  the request body as received (not written for a multipart body when I is requested);
 *      at most PP_AUDIT_BODY_LIMIT_BYTES (ModSecurity writes all it buffered)
 *   I  a multipart body as its urlencoded synthesis of the fields (files left out); C for
 *      other bodies
 *   F  response status line and headers
 *   E  the response body as held for inspection (only when it was held)
 *   H  Message: lines (one per logged alert), Action: Intercepted (phase N), Apache-Handler:,
 *      Stopwatch:, Response-Body-Transformed: Dechunked (with E), Producer: (Parapet's name,
 *      then the SecComponentSignature items, "; "-separated, and a final "."), Server:,
 *      WebApp-Info: (SecWebAppId, setsid, setuid), Sensor-Id:, Engine-Mode: "ENABLED" |
 *      "DETECTION_ONLY"
 *   J  one line per uploaded file, <part number from 1>,<bytes>,"<name>","<Unknown
 *      ContentType>" (2.9.7 never fills the type), then "Total,<bytes>" (multipart only)
 *   K  every rule that matched, as written in the configuration; a chain's links follow its
 *      starter and a blank line ends each rule or chain
 *   Z  the end
 *
 * What differs from ModSecurity, and why: Producer names Parapet (the components keep
 * ModSecurity's form); there is no Stopwatch2 line (Parapet does not time the phases the way
 * p1..p5 do, and a made-up breakdown would mislead) and no Apache-Error lines (those are
 * Apache's error-log entries of the request, which the engine does not see; every alert is in
 * Message:); K shows each rule as written, without the SecDefaultAction actions ModSecurity
 * merges into its text. The boundary is random and
 * redrawn while it occurs in a body, which a client writes unescaped. Header lines have their
 * control bytes escaped (ModSecurity writes them raw; Apache refuses such headers anyway).
 */
#include "log/log.h"
#include "store/store.h"

static void part(pp_sbuf_t *b, const char *bnd, char letter)
{
    pp_sbuf_printf(b, "\n--%s-%c--\n", bnd, letter);
}

static const char *engine_mode(const pp_tx_t *tx)
{
    int mode = tx->overrides && tx->overrides->engine != PP_TRI_UNSET
                   ? tx->overrides->engine
                   : pp_cfg_int(tx->cfg->engine, PP_ENGINE_OFF);
    switch (mode) {
    case PP_ENGINE_ON:
        return "ENABLED";
    case PP_ENGINE_DETECTION_ONLY:
        return "DETECTION_ONLY";
    default:
        return "DISABLED";
    }
}

static void part_h(pp_sbuf_t *b, const pp_audit_record_t *r)
{
    const pp_tx_t *tx = r->tx;
    pp_audit_message_lines(b, r);
    if (tx->verdict.intercepted)
        pp_sbuf_printf(b, "Action: Intercepted (phase %d)\n", tx->verdict.phase);
    const char *handler = pp_tx_conn(tx)->handler;
    if (handler && *handler) {
        pp_sbuf_str(b, "Apache-Handler: ");
        pp_sbuf_add_safe(b, pp_str_from_cstr(handler));
        pp_sbuf_add(b, "\n", 1);
    }
    pp_sbuf_printf(b, "Stopwatch: %" APR_TIME_T_FMT " %" APR_TIME_T_FMT " (- - -)\n", tx->start,
                   apr_time_now() - tx->start);
    if (r->response_body_logged)
        pp_sbuf_str(b, "Response-Body-Transformed: Dechunked\n");
    pp_sbuf_str(b, "Producer: " PARAPET_NAME "/" PARAPET_VERSION);
    for (int i = 0; i < r->producer->nelts; i++) {
        pp_sbuf_str(b, "; ");
        pp_sbuf_add_safe(b, pp_str_from_cstr(APR_ARRAY_IDX(r->producer, i, const char *)));
    }
    pp_sbuf_str(b, ".\n");
    if (pp_tx_conn(tx)->server_software) {
        pp_sbuf_str(b, "Server: ");
        pp_sbuf_add_safe(b, pp_str_from_cstr(pp_tx_conn(tx)->server_software));
        pp_sbuf_add(b, "\n", 1);
    }
    /* When SecWebAppId is not the default or setsid/setuid named the session or user. */
    const char *sid = pp_tx_pcoll_id(tx, true), *uid = pp_tx_pcoll_id(tx, false);
    if (strcmp(pp_cfg_webappid(tx->cfg), "default") != 0 || sid || uid) {
        const char *v[3] = { pp_cfg_webappid(tx->cfg), sid ? sid : "-", uid ? uid : "-" };
        pp_sbuf_str(b, "WebApp-Info:");
        for (int i = 0; i < 3; i++) {
            pp_sbuf_str(b, " \"");
            pp_sbuf_str(b, pp_ms2_escape(r->p, pp_str_from_cstr(v[i])));
            pp_sbuf_str(b, "\"");
        }
        pp_sbuf_str(b, "\n");
    }
    if (tx->cfg->sensor_id && strcmp(tx->cfg->sensor_id, "default") != 0) {
        pp_sbuf_str(b, "Sensor-Id: \"");
        pp_sbuf_str(b, pp_ms2_escape(r->p, pp_str_from_cstr(tx->cfg->sensor_id)));
        pp_sbuf_str(b, "\"\n");
    }
    const char *mode = engine_mode(tx);
    if (strcmp(mode, "DISABLED") != 0) /* ModSecurity writes it while the engine runs */
        pp_sbuf_printf(b, "Engine-Mode: \"%s\"\n", mode);
}

static void part_j(pp_sbuf_t *b, const pp_audit_record_t *r)
{
    apr_off_t total = 0;
    for (int i = 0; i < r->tx->files->nelts; i++) {
        const pp_file_t *f = &APR_ARRAY_IDX(r->tx->files, i, pp_file_t);
        pp_sbuf_printf(b, "%d,%" APR_OFF_T_FMT ",\"%s\",\"<Unknown ContentType>\"\n", f->part + 1,
                       f->size, pp_ms2_escape(r->p, f->filename));
        total += f->size;
    }
    pp_sbuf_printf(b, "Total,%" APR_OFF_T_FMT "\n", total);
}

static void part_k(pp_sbuf_t *b, const pp_audit_record_t *r)
{
    const apr_array_header_t *rules = r->tx->matched_rules;
    for (int i = 0; rules && i < rules->nelts; i++) {
        const pp_rule_t *rule = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
        for (const pp_rule_t *c = rule; c; c = c->chain_next) {
            const char *text = pp_rule_unparsed(r->p, c);
            pp_sbuf_add_safe(b, pp_str_from_cstr(text ? text : c->directive));
            pp_sbuf_add(b, "\n", 1);
        }
        pp_sbuf_add(b, "\n", 1);
    }
}

/* 8 random hex digits that occur in neither body (the parts a client writes unescaped). */
static void boundary(const pp_audit_record_t *r, char bnd[9])
{
    for (int i = 0; i < 16; i++) {
        pp_random_hex_from(NULL, bnd, 4, r);
        if (!(r->body.len && memmem(r->body.data, r->body.len, bnd, 8)) &&
            !(r->synth.len && memmem(r->synth.data, r->synth.len, bnd, 8)) &&
            !(r->response_body.len && memmem(r->response_body.data, r->response_body.len, bnd, 8)))
            return;
    }
}

pp_str_t pp_audit_native2_format(const pp_audit_record_t *r, bool serial)
{
    const pp_tx_t *tx = r->tx;
    char bnd[9];
    boundary(r, bnd);
    pp_sbuf_t b;
    pp_sbuf_init(&b, r->p, 4096 + r->body.len + r->synth.len + r->response_body.len);
    char date[48];
    pp_log_clf_date_usec(date, sizeof date, tx->start);
    const pp_conn_info_t *c = pp_tx_conn(tx);
    pp_sbuf_printf(&b, "--%s-A--\n[%s] %s %s %d %s %d", bnd, date,
                   pp_log_safe_id(r->p, tx->unique_id), c->client_ip ? c->client_ip : "-",
                   c->client_port, c->server_ip ? c->server_ip : "-", c->server_port);
    if (pp_audit_part(r, 'B')) {
        part(&b, bnd, 'B');
        pp_sbuf_add_safe(&b, pp_audit_mask_request_line(tx, r->p));
        pp_sbuf_add(&b, "\n", 1);
        pp_audit_header_lines(&b, r, tx->headers, false);
    }
    bool multipart = tx->body_kind == PP_BODY_MULTIPART;
    bool want_i = pp_audit_part(r, 'I');
    if (r->body_logged && (pp_audit_part(r, 'C') || (want_i && !multipart))) {
        part(&b, bnd, 'C');
        pp_sbuf_add(&b, r->body.data, r->body.len);
    }
    if (want_i && multipart && r->synth.data) {
        part(&b, bnd, 'I');
        pp_sbuf_add(&b, r->synth.data, r->synth.len);
    }
    if (pp_audit_part(r, 'F')) {
        part(&b, bnd, 'F');
        if (r->response_line) {
            pp_sbuf_add_safe(&b, pp_str_from_cstr(r->response_line));
            pp_sbuf_add(&b, "\n", 1);
            pp_audit_header_lines(&b, r, tx->response_headers, true);
        }
    }
    if (r->response_body_logged) {
        part(&b, bnd, 'E');
        pp_sbuf_add(&b, r->response_body.data, r->response_body.len);
    }
    if (pp_audit_part(r, 'H')) {
        part(&b, bnd, 'H');
        part_h(&b, r);
    }
    if (pp_audit_part(r, 'J') && multipart) {
        part(&b, bnd, 'J');
        part_j(&b, r);
    }
    if (pp_audit_part(r, 'K')) {
        part(&b, bnd, 'K');
        part_k(&b, r);
    }
    part(&b, bnd, 'Z');
    if (serial)
        pp_sbuf_add(&b, "\n", 1);
    return (pp_str_t){ b.data, b.len };
}
