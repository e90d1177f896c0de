/*
 * pp_tx_*: the transaction lifecycle the host drives (see parapet.h for the order): request
 * line and headers → phase 1; body streaming → inbound phase 2 with implicit validation;
 * response → outbound phase 4 (1.9 OUTPUT); finish → logging. Also the verdict and the
 * interception helpers every phase uses.
 */
#include "request/request.h"
#include "tx.h"

#include <apr_strings.h>
#include <string.h>

/* Random bytes in an engine-made unique id (24 hex digits). */
#define PP_TX_ID_BYTES 12

/* The transaction's arrays with their first elements, in one allocation: apr_array_make is two
 * allocations and a clear each, six times per request. They grow as apr_array_make's do. */
enum { TX_HEADERS = 16, TX_ARGS = 8, TX_COOKIES = 4, TX_FILES = 1, TX_RESPONSE_HEADERS = 8,
       TX_MATCHES = 2 };
typedef struct tx_arrays_t {
    apr_array_header_t a[6];
    pp_field_t headers[TX_HEADERS], args[TX_ARGS], cookies[TX_COOKIES];
    pp_field_t response_headers[TX_RESPONSE_HEADERS];
    pp_file_t files[TX_FILES];
    pp_match_t *matches[TX_MATCHES];
} tx_arrays_t;

static apr_array_header_t *array_at(apr_array_header_t *a, apr_pool_t *p, void *elts, int n,
                                    int size)
{
    *a = (apr_array_header_t){ .pool = p, .elt_size = size, .nelts = 0, .nalloc = n,
                               .elts = elts };
    return a;
}

pp_tx_t *pp_tx_create(const pp_cfg_t *cfg, apr_pool_t *p, const char *unique_id)
{
    pp_tx_t *tx = apr_pcalloc(p, sizeof *tx);
    tx_arrays_t *ta = apr_pcalloc(p, sizeof *ta);
    tx->pool = p;
    tx->start = apr_time_now();
    tx->headers = array_at(&ta->a[0], p, ta->headers, TX_HEADERS, sizeof(pp_field_t));
    tx->args = array_at(&ta->a[1], p, ta->args, TX_ARGS, sizeof(pp_field_t));
    tx->cookies = array_at(&ta->a[2], p, ta->cookies, TX_COOKIES, sizeof(pp_field_t));
    tx->files = array_at(&ta->a[3], p, ta->files, TX_FILES, sizeof(pp_file_t));
    tx->response_headers = array_at(&ta->a[4], p, ta->response_headers, TX_RESPONSE_HEADERS,
                                    sizeof(pp_field_t));
    tx->matches = array_at(&ta->a[5], p, ta->matches, TX_MATCHES, sizeof(pp_match_t *));
    tx->verdict.matches = tx->matches;
    tx->env_out = apr_table_make(p, 2);
    tx->notes_out = apr_table_make(p, 2);
    tx->headers_out = apr_table_make(p, 2);
    tx->rx = pp_rx_state_create(p);
    /* Without the host's id (mod_unique_id), 12 random bytes in hex; if the system's generator
     * fails, a mix that still differs per transaction (util/random.c), reported below. */
    bool random_ok = true;
    if (!unique_id) {
        char *id = apr_palloc(p, 2 * PP_TX_ID_BYTES + 1);
        random_ok = pp_random_hex_from(NULL, id, PP_TX_ID_BYTES, p);
        unique_id = id;
    }
    tx->unique_id = unique_id;
    pp_tx_set_config(tx, cfg);
    if (!random_ok)
        pp_debug(tx, 1, "Random bytes unavailable: unique id %s made from the clocks, process "
                        "and address instead", unique_id);
    return tx;
}

void pp_tx_set_config(pp_tx_t *tx, const pp_cfg_t *cfg)
{
    /* The host gives it again at each phase (Apache: the server's at phase 1, the request's
     * at fixups, often the same): nothing to redo then. */
    if (cfg == tx->cfg)
        return;
    tx->cfg = cfg;
    pp_rx_state_set_limits(tx->rx,
                           (uint32_t)pp_cfg_int(cfg->pcre_match_limit, PP_RX_DEFAULT_MATCH_LIMIT),
                           (uint32_t)pp_cfg_int(cfg->pcre_depth_limit, PP_RX_DEFAULT_DEPTH_LIMIT));
    unsigned n = cfg->nslots ? cfg->nslots : cfg->cp ? pp_target_slot_count(cfg->cp) : 0;
    if (n > tx->ncache) {
        /* Slots are per configuration pool; a new config may have more. Old results stay valid:
         * slots are never reused within a pool. */
        pp_cache_entry_t *c = apr_pcalloc(tx->pool, n * sizeof *c);
        if (tx->ncache)
            memcpy(c, tx->cache, tx->ncache * sizeof *c);
        tx->cache = c;
        tx->ncache = n;
    }
}

void pp_tx_set_errlog(pp_tx_t *tx, pp_errlog_fn fn, void *ctx)
{
    tx->errlog = fn;
    tx->errlog_ctx = ctx;
}

void pp_tx_keep_match_texts(pp_tx_t *tx)
{
    tx->keep_match_texts = true;
}

void pp_tx_set_conn(pp_tx_t *tx, const pp_conn_info_t *ci)
{
    tx->conn = *ci;
    tx->conn_complete = false;
    /* Given again at fixups (file name, path info, decoded path): values cached in phase 1 go. */
    pp_tx_changed(tx, PP_SRC_REQUEST);
}

void pp_tx_set_conn_fill(pp_tx_t *tx, pp_conn_fill_fn fill, void *ctx)
{
    tx->conn_fill = fill;
    tx->conn_fill_ctx = ctx;
    tx->conn_complete = false;
}

const pp_conn_info_t *pp_tx_conn(const pp_tx_t *ctx)
{
    pp_tx_t *tx = (pp_tx_t *)ctx; /* completing the description is not a visible change */
    if (!tx->conn_complete) {
        tx->conn_complete = true;
        if (tx->conn_fill)
            tx->conn_fill(tx->conn_fill_ctx, &tx->conn);
        tx->server_port = pp_str_from_cstr(apr_itoa(tx->pool, tx->conn.server_port));
    }
    return &tx->conn;
}

void pp_tx_set_env(pp_tx_t *tx, apr_table_t *env) { tx->env = env; }
void pp_tx_set_start_time(pp_tx_t *tx, apr_time_t t) { tx->start = t; }
apr_time_t pp_tx_elapsed(const pp_tx_t *tx) { return apr_time_now() - tx->start; }
const char *pp_tx_unique_id(const pp_tx_t *tx) { return tx->unique_id; }
apr_pool_t *pp_tx_pool(const pp_tx_t *tx) { return tx->pool; }
apr_table_t *pp_tx_env_out(pp_tx_t *tx) { return tx->env_out; }
apr_table_t *pp_tx_notes_out(pp_tx_t *tx) { return tx->notes_out; }
apr_table_t *pp_tx_headers_out(pp_tx_t *tx) { return tx->headers_out; }
const pp_verdict_t *pp_tx_verdict(const pp_tx_t *tx) { return &tx->verdict; }

apr_status_t pp_tx_set_request_line(pp_tx_t *tx, pp_str_t line)
{
    tx->request_line = pp_str_dup(tx->pool, line);
    pp_request_line_t rl;
    if (pp_request_line_parse(tx->request_line, &rl) != APR_SUCCESS) {
        tx->bad_request_line = true;
        return APR_EGENERAL;
    }
    tx->method = rl.method;
    tx->uri = rl.uri;
    tx->path = rl.path;
    tx->query = rl.query;
    tx->protocol = rl.protocol;
    return APR_SUCCESS;
}

void pp_tx_add_request_header(pp_tx_t *tx, pp_str_t name, pp_str_t value)
{
    pp_field_t *f = apr_array_push(tx->headers);
    f->name = pp_str_dup(tx->pool, name);
    f->value = pp_str_dup(tx->pool, value);
}

void pp_tx_add_request_header_ref(pp_tx_t *tx, const char *name, const char *value)
{
    pp_field_t *f = apr_array_push(tx->headers);
    f->name = pp_str_from_cstr(name);
    f->value = pp_str_from_cstr(value);
}

/* Whether name is lit (of len bytes), ignoring case: the length first. */
static inline bool name_is(pp_str_t name, const char *lit, apr_size_t len)
{
    return name.len == len && strncasecmp(name.data, lit, len) == 0;
}

/* Whether s may give a name with a NUL (pp_fields_nul_name): a NUL, or a '%' that decoding or
 * an application may turn into one. */
static inline bool may_hold_nul(pp_str_t s)
{
    return s.len && (memchr(s.data, '%', s.len) != NULL || memchr(s.data, '\0', s.len) != NULL);
}

/* One pass over the headers: the first Content-Type, and the cookies of every Cookie header in
 * order. Returns whether a cookie name may hold a NUL. */
static bool parse_header_fields(pp_tx_t *tx)
{
    int format = pp_cfg_int(tx->cfg->cookie_format, 0);
    char sep = tx->cfg->cookiev0_separator ? tx->cfg->cookiev0_separator[0] : ';';
    bool nul = false;
    for (int i = 0; i < tx->headers->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(tx->headers, i, pp_field_t);
        if (!tx->content_type && name_is(f->name, "Content-Type", 12)) {
            tx->content_type = f->value.data;
            continue;
        }
        if (!name_is(f->name, "Cookie", 6))
            continue;
        bool malformed = false;
        pp_cookies_parse_sep(tx->pool, f->value, format, sep, tx->cookies, &malformed);
        tx->cookies_malformed = tx->cookies_malformed || malformed;
        nul = nul || may_hold_nul(f->value);
    }
    return nul;
}

/* Query arguments, cookies and the request-line checks; false when the request was refused. */
static bool parse_request_head(pp_tx_t *tx)
{
    if (tx->headers_done)
        return false;
    tx->headers_done = true;
    if (tx->bad_request_line) {
        pp_tx_fail(tx, 400, PP_PHASE_REQUEST_HEADERS, "Invalid request line");
        return false;
    }
    if (tx->query.len)
        /* With 2.x rules, as ModSecurity 2 splits ("a&&b": an empty argument between). */
        (pp_cfg_has_rules2(tx->cfg, PP_PHASE_NONE) ? pp_urlencoded_parse2 : pp_urlencoded_parse_sep)(
            tx->pool, tx->query, pp_cfg_argument_separator(tx->cfg), tx->args, &tx->urlencoded_errors);
    tx->query_arg_count = tx->args->nelts;
    tx->args_combined = tx->query;
    tx->content_type = NULL;
    bool cookie_nul = parse_header_fields(tx);
    /* Names come from the query and the Cookie headers: without a '%' or a NUL in them, none
     * holds a NUL, and the fields need not be searched. */
    if ((may_hold_nul(tx->query) && pp_fields_nul_name(tx->args, 0, false)) ||
        (cookie_nul && pp_fields_nul_name(tx->cookies, 0, true))) {
        pp_tx_fail(tx, 400, PP_PHASE_REQUEST_HEADERS,
                   "NUL byte in an argument or cookie name: applications disagree on the name "
                   "(PHP ends it at the NUL)");
        return false;
    }
    return true;
}

apr_status_t pp_tx_finish_request_headers(pp_tx_t *tx)
{
    return parse_request_head(tx) ? pp_eval_phase(tx, PP_PHASE_REQUEST_HEADERS) : APR_SUCCESS;
}

apr_status_t pp_tx_parse_request_headers(pp_tx_t *tx)
{
    parse_request_head(tx);
    return APR_SUCCESS;
}

bool pp_tx_detection_only(const pp_tx_t *tx)
{
    if (tx->overrides && tx->overrides->engine != PP_TRI_UNSET)
        return tx->overrides->engine == PP_ENGINE_DETECTION_ONLY;
    return pp_cfg_int(tx->cfg->engine, PP_ENGINE_OFF) == PP_ENGINE_DETECTION_ONLY;
}

void pp_tx_set_rules_enabled(pp_tx_t *tx, bool on) { tx->rules_off = !on; }
bool pp_tx_rules_enabled(const pp_tx_t *tx) { return !tx->rules_off; }

/* Inbound phase (1.9 fixups): implicit validation, then the rules (reference §1.2 step 4). */
static apr_status_t run_inbound(pp_tx_t *tx)
{
    if (tx->verdict.intercepted)
        return APR_SUCCESS;
    pp_eval_implicit_checks(tx);
    if (!tx->verdict.intercepted)
        pp_eval_phase(tx, PP_PHASE_REQUEST_BODY);
    return APR_SUCCESS;
}

apr_status_t pp_tx_finish_request_body(pp_tx_t *tx)
{
    if (tx->body_done)
        return APR_SUCCESS;
    tx->body_done = true;
    if (!tx->verdict.intercepted)
        pp_body_finish(tx);
    return run_inbound(tx);
}

void pp_tx_intercept(pp_tx_t *tx, const pp_actionset_t *as, pp_phase_t phase, const char *reason)
{
    if (tx->verdict.intercepted)
        return;
    tx->verdict.intercepted = true;
    tx->verdict.relevant = true;
    tx->verdict.phase = phase;
    tx->verdict.reason = reason;
    tx->verdict.action = as->disruptive == PP_TRI_UNSET ? PP_ACTION_DENY : as->disruptive;
    tx->verdict.url = as->url;
    if (tx->verdict.action == PP_ACTION_REDIRECT)
        tx->verdict.status = 302;
    else
        tx->verdict.status = as->status != PP_TRI_UNSET ? as->status : 403;
    apr_table_setn(tx->headers_out, "mod_security-action",
                   apr_itoa(tx->pool, tx->verdict.status));
}

void pp_tx_raise(pp_tx_t *tx, const pp_actionset_t *as, pp_phase_t phase, const char *var,
                 const char *what)
{
    bool passes = as->disruptive == PP_ACTION_PASS || as->disruptive == PP_ACTION_ALLOW;
    pp_match_t *m = apr_pcalloc(tx->pool, sizeof *m);
    m->severity = -1;
    m->phase = phase;
    m->var = var;
    m->logged = as->log != 0;
    m->text = passes ? apr_pstrcat(tx->pool, "Warning. ", what, NULL)
                     : apr_psprintf(tx->pool, "Access denied with code %d. %s",
                                    as->status != PP_TRI_UNSET ? as->status : 403, what);
    APR_ARRAY_PUSH(tx->matches, pp_match_t *) = m;
    tx->verdict.relevant = true;
    if (m->logged) {
        apr_table_add(tx->headers_out, "mod_security-message", m->text);
        pp_debug(tx, 1, "%s", m->text);
    }
    if (!passes)
        pp_tx_intercept(tx, as, phase, m->text);
}

void pp_tx_fail(pp_tx_t *tx, int status, pp_phase_t phase, const char *reason)
{
    pp_actionset_t as = *pp_actionset_builtin_default();
    as.status = status;
    pp_tx_raise(tx, &as, phase, NULL, reason);
}

const char *pp_action_name(pp_action_t a)
{
    static const char *const names[] = { "none",  "pass",          "allow",         "deny",
                                         "redirect", "proxy",      "drop",          "allow:phase",
                                         "allow:request", "pause" };
    return a <= PP_ACTION_PAUSE ? names[a] : "none";
}

/* ---- ctl: overrides ------------------------------------------------------------------------ */

pp_tx_overrides_t *pp_tx_overrides(pp_tx_t *tx)
{
    if (!tx->overrides) {
        pp_tx_overrides_t *ov = apr_pcalloc(tx->pool, sizeof *ov);
        ov->engine = ov->audit_engine = ov->debug_level = PP_TRI_UNSET;
        ov->body_access = ov->response_access = ov->force_body_variable = PP_TRI_UNSET;
        ov->target_removals = apr_array_make(tx->pool, 2, sizeof(pp_target_removal_t));
        tx->overrides = ov;
    }
    return tx->overrides;
}

int pp_tx_audit_engine(const pp_tx_t *tx)
{
    if (tx->overrides && tx->overrides->audit_engine != PP_TRI_UNSET)
        return tx->overrides->audit_engine;
    return pp_cfg_int(tx->cfg->audit_engine, PP_AUDIT_OFF);
}

const char *pp_tx_audit_parts(const pp_tx_t *tx)
{
    return tx->overrides && tx->overrides->audit_parts ? tx->overrides->audit_parts
                                                       : tx->cfg->audit_parts;
}

bool pp_tx_request_body_access(const pp_tx_t *tx)
{
    if (tx->overrides && tx->overrides->body_access != PP_TRI_UNSET)
        return tx->overrides->body_access == 1;
    return pp_cfg_scan_request_body(tx->cfg);
}

bool pp_tx_response_body_access(const pp_tx_t *tx)
{
    if (tx->overrides && tx->overrides->response_access != PP_TRI_UNSET)
        return tx->overrides->response_access == 1;
    return pp_cfg_scan_output(tx->cfg);
}

apr_int64_t pp_tx_request_body_limit(const pp_tx_t *tx)
{
    if (tx->overrides && tx->overrides->body_limit > 0)
        return tx->overrides->body_limit;
    return tx->cfg->body_limit == PP_UNSET ? PP_DEFAULT_BODY_LIMIT_BYTES : tx->cfg->body_limit;
}

apr_int64_t pp_tx_response_body_limit(const pp_tx_t *tx)
{
    if (tx->overrides && tx->overrides->response_limit > 0)
        return tx->overrides->response_limit;
    return tx->cfg->response_limit == PP_UNSET ? PP_DEFAULT_RESPONSE_LIMIT_BYTES
                                               : tx->cfg->response_limit;
}
