/*
 * SecAuditLogFormat JSON: the audit record as one JSON object on one line, built with json-c.
 * With Serial the line goes to SecAuditLog; with Concurrent it is the content of the
 * per-transaction file. The content is the native record's (§9.2); the field names are
 * ModSecurity 2.9's JSON audit log where the two overlap, so existing 2.9 consumers read it:
 *
 *   transaction {time, transaction_id, remote_address, remote_port, local_address, local_port}
 *   request     {request_line, headers{}, body[]}       + body_length, body_truncated (ours)
 *   uploads     {info[{file_name, file_size}], total}   + field, stored, verdict per file (ours)
 *   response    {protocol, status, headers{}, body}
 *   audit_data  {messages[], handler, stopwatch, producer[], server, engine_mode,
 *                action{intercepted, phase, message}}
 *
 * Where we differ: stopwatch holds {start, duration} in microseconds (we do not time phases
 * the way 2.9's p1..p5 do); a header that occurs more than once is one member whose values are
 * joined with ", " (a JSON object has one value per name); bytes that are not valid UTF-8 become
 * U+FFFD so every line is valid JSON for any parser (the Native format keeps exact bytes).
 * Of SecAuditLogParts, B, C, E, F, H select request headers, request body, response body,
 * response headers and audit_data.
 *
 * json-c allocates with malloc: the root object is released by a cleanup on the record pool,
 * so no path can leak it.
 */
#include "log/log.h"

#include <stdlib.h>

#include <json.h>

/* Length of the valid UTF-8 sequence at s[i], 0 when invalid (overlongs, surrogates, > U+10FFFF
 * and truncated sequences are invalid). */
static apr_size_t utf8_seq(const unsigned char *s, apr_size_t i, apr_size_t len)
{
    unsigned char c = s[i];
    apr_size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else
        return 0;
    if (i + n > len || s[i + 1] < lo || s[i + 1] > hi)
        return 0;
    for (apr_size_t k = 2; k < n; k++)
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
    return n;
}

static pp_str_t utf8_clean(apr_pool_t *p, pp_str_t s)
{
    const unsigned char *u = (const unsigned char *)s.data;
    apr_size_t i = 0, n;
    while (i < s.len && (n = utf8_seq(u, i, s.len)) > 0)
        i += n;
    if (i == s.len)
        return s;
    pp_sbuf_t b;
    pp_sbuf_init(&b, p, s.len + 16);
    for (i = 0; i < s.len; i += n ? n : 1) {
        n = utf8_seq(u, i, s.len);
        if (n)
            pp_sbuf_add(&b, s.data + i, n);
        else
            pp_sbuf_add(&b, "\xEF\xBF\xBD", 3);
    }
    return (pp_str_t){ b.data, b.len };
}

static json_object *jstr(apr_pool_t *p, pp_str_t s)
{
    s = utf8_clean(p, s);
    return json_object_new_string_len(s.data ? s.data : "", (int)s.len);
}

static json_object *jcstr(apr_pool_t *p, const char *s)
{
    return s ? jstr(p, pp_str_from_cstr(s)) : NULL;
}

static void add_header(apr_pool_t *p, json_object *o, pp_str_t name, pp_str_t value)
{
    pp_str_t k = utf8_clean(p, name);
    char *key = apr_pstrmemdup(p, k.data ? k.data : "", k.len);
    for (apr_size_t i = 0; i < k.len; i++)
        if (!key[i])
            key[i] = '?';
    json_object *old;
    if (json_object_object_get_ex(o, key, &old)) {
        const char *prev = json_object_get_string(old);
        value = utf8_clean(p, value);
        char *joined = apr_psprintf(p, "%s, %.*s", prev, (int)value.len, value.data);
        json_object_object_add(o, key, json_object_new_string(joined));
        return;
    }
    json_object_object_add(o, key, jstr(p, value));
}

/* Header values masked as the sanitise* actions asked (log/sanitise.c). */
static json_object *headers(const pp_audit_record_t *r, const apr_array_header_t *a,
                            const apr_table_t *extra, bool response)
{
    apr_pool_t *p = r->p;
    json_object *o = json_object_new_object();
    for (int i = 0; i < a->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(a, i, pp_field_t);
        add_header(p, o, f->name, pp_audit_mask_header(r->tx, response, f->name, f->value, p));
    }
    const apr_array_header_t *t = extra ? apr_table_elts(extra) : NULL;
    for (int i = 0; t && i < t->nelts; i++) {
        const apr_table_entry_t *e = &((const apr_table_entry_t *)t->elts)[i];
        if (e->key && e->val)
            add_header(p, o, pp_str_from_cstr(e->key), pp_str_from_cstr(e->val));
    }
    return o;
}

static json_object *transaction(const pp_audit_record_t *r)
{
    const pp_tx_t *tx = r->tx;
    char date[48];
    pp_log_clf_date_usec(date, sizeof date, tx->start);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "time", json_object_new_string(date));
    json_object_object_add(o, "transaction_id", jcstr(r->p, tx->unique_id));
    json_object_object_add(o, "remote_address", jcstr(r->p, pp_tx_conn(tx)->client_ip));
    json_object_object_add(o, "remote_port", json_object_new_int(pp_tx_conn(tx)->client_port));
    json_object_object_add(o, "local_address", jcstr(r->p, pp_tx_conn(tx)->server_ip));
    json_object_object_add(o, "local_port", json_object_new_int(pp_tx_conn(tx)->server_port));
    return o;
}

static json_object *request(const pp_audit_record_t *r)
{
    const pp_tx_t *tx = r->tx;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "request_line", jstr(r->p, pp_audit_mask_request_line(tx, r->p)));
    if (pp_audit_part(r, 'B'))
        json_object_object_add(o, "headers", headers(r, tx->headers,
                                                     r->lang2 ? NULL : tx->headers_out, false));
    if (r->lang2 && r->synth.data && pp_audit_part(r, 'I'))
        json_object_object_add(o, "fake_body", jstr(r->p, r->synth));
    if (r->body_logged && (!r->lang2 || pp_audit_part(r, 'C') ||
                           tx->body_kind != PP_BODY_MULTIPART)) {
        json_object *body = json_object_new_array();
        json_object_array_add(body, jstr(r->p, r->body));
        json_object_object_add(o, "body", body);
        if (!r->lang2 || r->body_truncated) {
            json_object_object_add(o, "body_length", json_object_new_int64(r->body_total));
            json_object_object_add(o, "body_truncated",
                                   json_object_new_boolean(r->body_truncated));
        }
    }
    return o;
}

static json_object *uploads(const pp_audit_record_t *r)
{
    const apr_array_header_t *files = r->tx->files;
    json_object *info = json_object_new_array();
    apr_off_t total = 0;
    for (int i = 0; i < files->nelts; i++) {
        const pp_file_t *f = &APR_ARRAY_IDX(files, i, pp_file_t);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "file_name", jstr(r->p, f->filename));
        json_object_object_add(o, "file_size", json_object_new_int64(f->size));
        if (r->lang2) /* 2.9.7 never fills it in */
            json_object_object_add(o, "content_type",
                                   json_object_new_string("<Unknown Content-Type>"));
        json_object_object_add(o, "field", jstr(r->p, f->field));
        json_object_object_add(o, "stored", jstr(r->p, f->tmpname));
        json_object_object_add(o, "verdict", jcstr(r->p, f->verdict));
        json_object_array_add(info, o);
        total += f->size;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "info", info);
    json_object_object_add(o, "total", json_object_new_int64(total));
    return o;
}

static json_object *response(const pp_audit_record_t *r)
{
    const pp_tx_t *tx = r->tx;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "protocol", json_object_new_string(tx->protocol.len
                                                                     ? tx->protocol.data
                                                                     : "HTTP/1.1"));
    json_object_object_add(o, "status", json_object_new_int(r->status));
    if (pp_audit_part(r, 'F'))
        json_object_object_add(o, "headers", headers(r, tx->response_headers, NULL, true));
    if (r->response_body_logged)
        json_object_object_add(o, "body", jstr(r->p, r->response_body));
    return o;
}

static const char *engine_mode(const pp_tx_t *tx)
{
    int mode = tx->overrides && tx->overrides->engine != PP_TRI_UNSET
                   ? tx->overrides->engine
                   : pp_cfg_int(tx->cfg->engine, PP_ENGINE_OFF);
    switch (mode) {
    case PP_ENGINE_ON:
        return "ENABLED";
    case PP_ENGINE_DYNAMIC_ONLY:
        return "DYNAMIC_ONLY";
    case PP_ENGINE_DETECTION_ONLY:
        return "DETECTION_ONLY";
    default:
        return "DISABLED";
    }
}

/* 2.x: the operator message of the match that intercepted, as ModSecurity's action.message. */
static const char *intercept_what(const pp_tx_t *tx)
{
    for (int i = tx->matches->nelts - 1; i >= 0; i--) {
        const pp_match_t *m = APR_ARRAY_IDX(tx->matches, i, const pp_match_t *);
        /* The intercepting match's text was made when it matched (it is the reason). */
        if (m->text && m->text == tx->verdict.reason && m->what)
            return m->what;
    }
    return tx->verdict.reason;
}

static json_object *action(const pp_audit_record_t *r)
{
    const pp_verdict_t *v = &r->tx->verdict;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "intercepted", json_object_new_boolean(v->intercepted));
    if (v->intercepted) {
        json_object_object_add(o, "phase", json_object_new_int(v->phase));
        json_object_object_add(o, "message",
                               jcstr(r->p, r->lang2 ? intercept_what(r->tx) : v->reason));
    }
    return o;
}

static json_object *audit_data(const pp_audit_record_t *r)
{
    const pp_tx_t *tx = r->tx;
    json_object *o = json_object_new_object(), *msgs = json_object_new_array();
    for (int i = 0; i < tx->matches->nelts; i++) {
        const pp_match_t *m = APR_ARRAY_IDX(tx->matches, i, const pp_match_t *);
        if (m->logged)
            json_object_array_add(msgs, jcstr(r->p, pp_match_text(m)));
    }
    /* ModSecurity 2.9 leaves out what is empty: no messages, no action without an
     * interception. */
    if (!r->lang2 || json_object_array_length(msgs) > 0)
        json_object_object_add(o, "messages", msgs);
    else
        json_object_put(msgs);
    if (!r->lang2 || strcmp(r->handler, "-") != 0)
        json_object_object_add(o, "handler", jcstr(r->p, r->handler));
    json_object *sw = json_object_new_object();
    json_object_object_add(sw, "start", json_object_new_int64(tx->start));
    json_object_object_add(sw, "duration", json_object_new_int64(apr_time_now() - tx->start));
    json_object_object_add(o, "stopwatch", sw);
    json_object *producer = json_object_new_array();
    json_object_array_add(producer, json_object_new_string(PARAPET_NAME "/" PARAPET_VERSION));
    const apr_array_header_t *sigs = tx->cfg->component_signatures; /* SecComponentSignature */
    for (int i = 0; sigs && i < sigs->nelts; i++)
        json_object_array_add(producer, jcstr(r->p, APR_ARRAY_IDX(sigs, i, const char *)));
    if (r->lang2 && (!sigs || sigs->nelts == 0)) { /* ModSecurity 2.9: a plain string then */
        json_object_put(producer);
        producer = json_object_new_string(PARAPET_NAME "/" PARAPET_VERSION);
    }
    json_object_object_add(o, "producer", producer);
    if (pp_tx_conn(tx)->server_software)
        json_object_object_add(o, "server", jcstr(r->p, pp_tx_conn(tx)->server_software));
    if (r->lang2 && r->response_body_logged)
        json_object_object_add(o, "response_body_dechunked", json_object_new_boolean(true));
    json_object_object_add(o, "engine_mode", json_object_new_string(engine_mode(tx)));
    if (!r->lang2 || tx->verdict.intercepted)
        json_object_object_add(o, "action", action(r));
    return o;
}

/* Part K in ModSecurity 2.9's JSON: per matched rule or chain {"chain", "rules": [{"actionset",
 * "operator", "config", "unparsed", "is_matched"}]}. */
static json_object *rule_json(const pp_audit_record_t *r, const pp_rule_t *rule)
{
    const pp_actionset_t *as = rule->chain_member ? rule->own : rule->effective;
    json_object *o = json_object_new_object(), *a = json_object_new_object();
    if (as && as->id)
        json_object_object_add(a, "id", jcstr(r->p, as->id));
    if (as && as->rev)
        json_object_object_add(a, "rev", jcstr(r->p, as->rev));
    if (rule->ver)
        json_object_object_add(a, "version", jcstr(r->p, rule->ver));
    if (as && as->severity >= 0)
        json_object_object_add(a, "severity", json_object_new_int(as->severity));
    if (rule->accuracy)
        json_object_object_add(a, "accuracy", json_object_new_int(atoi(rule->accuracy)));
    if (rule->maturity)
        json_object_object_add(a, "maturity", json_object_new_int(atoi(rule->maturity)));
    json_object_object_add(a, "phase", json_object_new_int(rule->phase));
    json_object_object_add(a, "is_chained", json_object_new_boolean(rule->chain_next != NULL));
    if (rule->ntags) {
        json_object *tags = json_object_new_array();
        for (unsigned i = 0; i < rule->ntags; i++)
            json_object_array_add(tags, jcstr(r->p, rule->tags[i]));
        json_object_object_add(a, "tags", tags);
    }
    json_object_object_add(o, "actionset", a);
    if (!rule->always) {
        json_object *op = json_object_new_object();
        json_object_object_add(op, "operator", jcstr(r->p, rule->op.def->name));
        json_object_object_add(op, "operator_param", jcstr(r->p, rule->op.arg));
        json_object_object_add(op, "target", jcstr(r->p, rule->targets_text));
        json_object_object_add(op, "negated", json_object_new_boolean(rule->op.negated));
        json_object_object_add(o, "operator", op);
    }
    json_object *c = json_object_new_object();
    json_object_object_add(c, "filename", jcstr(r->p, rule->file));
    json_object_object_add(c, "line_num", json_object_new_int(rule->line));
    json_object_object_add(o, "config", c);
    json_object_object_add(o, "unparsed", jcstr(r->p, pp_rule_unparsed(r->p, rule)));
    json_object_object_add(o, "is_matched", json_object_new_boolean(true));
    return o;
}

static json_object *matched_rules(const pp_audit_record_t *r)
{
    json_object *all = json_object_new_array();
    const apr_array_header_t *rules = r->tx->matched_rules;
    for (int i = 0; rules && i < rules->nelts; i++) {
        const pp_rule_t *rule = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
        json_object *one = json_object_new_object(), *links = json_object_new_array();
        json_object_object_add(one, "chain", json_object_new_boolean(rule->chain_next != NULL));
        for (const pp_rule_t *c = rule; c; c = c->chain_next)
            json_object_array_add(links, rule_json(r, c));
        json_object_object_add(one, "rules", links);
        json_object_array_add(all, one);
    }
    return all;
}

static apr_status_t json_release(void *data)
{
    json_object_put(data);
    return APR_SUCCESS;
}

pp_str_t pp_audit_json_format(const pp_audit_record_t *r)
{
    json_object *root = json_object_new_object();
    apr_pool_cleanup_register(r->p, root, json_release, apr_pool_cleanup_null);
    json_object_object_add(root, "transaction", transaction(r));
    json_object_object_add(root, "request", request(r));
    if (r->tx->files->nelts)
        json_object_object_add(root, "uploads", uploads(r));
    if (r->response_line)
        json_object_object_add(root, "response", response(r));
    if (pp_audit_part(r, 'H'))
        json_object_object_add(root, "audit_data", audit_data(r));
    if (r->lang2 && pp_audit_part(r, 'K'))
        json_object_object_add(root, "matched_rules", matched_rules(r));
    size_t len;
    const char *s = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    char *line = apr_palloc(r->p, len + 2);
    memcpy(line, s, len);
    line[len] = '\n';
    line[len + 1] = '\0';
    apr_pool_cleanup_run(r->p, root, json_release);
    return (pp_str_t){ line, len + 1 };
}
