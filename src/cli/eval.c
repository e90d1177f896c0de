/*
 * parapet eval -c CONFIG REQUEST [--response RESPONSE]: runs a raw request (and optionally a
 * response) through the engine with the same calls, in the same order, as the Apache adapter,
 * and prints the verdict as one JSON object: intercepted, status, action, phase, matched (id,
 * msg, var, phase, text; and severity by name, data (logdata expanded) and tags, null or empty
 * when the rule has none), relevant, unique_id, and tx: the TX collection as the transaction
 * left it (name: value, names as last spelt). Exit 0 passed, 1 intercepted, 2 error.
 */
#include "cli.h"
#include "rules/actions/actions.h"
#include "rules/variables/collection.h"

#include <json.h>
#include <stdio.h>
#include <string.h>

/* Feeds the body in chunks of this size, as Apache's input filters would. */
#define PP_EVAL_CHUNK_BYTES 8192

/* The engine's error-log lines (operators failing open or closed, refused expansions) go to
 * stderr, as Apache would write them to its error log. */
static void stderr_errlog(void *ctx, int level, const char *msg)
{
    fprintf(stderr, "parapet eval: %s\n", msg);
}

static void run_request(pp_tx_t *tx, const pp_http_msg_t *req)
{
    pp_conn_info_t ci = { 0 };
    ci.client_ip = "127.0.0.1";
    ci.client_port = 40000;
    ci.server_ip = "127.0.0.1";
    ci.server_port = 80;
    ci.server_name = "localhost";
    ci.server_software = "Apache";
    pp_tx_set_conn(tx, &ci);
    pp_tx_set_request_line(tx, req->start_line);
    for (int i = 0; i < req->headers->nelts; i++) {
        const pp_field_t *h = &APR_ARRAY_IDX(req->headers, i, pp_field_t);
        pp_tx_add_request_header(tx, h->name, h->value);
    }
    pp_tx_finish_request_headers(tx);
    if (!pp_tx_verdict(tx)->intercepted && req->body.len && pp_tx_wants_request_body(tx)) {
        for (apr_size_t off = 0; off < req->body.len; off += PP_EVAL_CHUNK_BYTES) {
            apr_size_t n = req->body.len - off;
            if (n > PP_EVAL_CHUNK_BYTES)
                n = PP_EVAL_CHUNK_BYTES;
            if (pp_tx_feed_request_body(tx, req->body.data + off, n) != APR_SUCCESS)
                break;
        }
    }
    pp_tx_finish_request_body(tx);
}

static void run_response(pp_tx_t *tx, const pp_http_msg_t *resp)
{
    int status = 200;
    const char *sp = memchr(resp->start_line.data, ' ', resp->start_line.len);
    if (sp)
        status = atoi(sp + 1);
    const char *ctype = NULL;
    pp_tx_set_response_status(tx, status, NULL);
    for (int i = 0; i < resp->headers->nelts; i++) {
        const pp_field_t *h = &APR_ARRAY_IDX(resp->headers, i, pp_field_t);
        pp_tx_add_response_header(tx, h->name, h->value);
        if (h->name.len == 12 && strncasecmp(h->name.data, "Content-Type", 12) == 0)
            ctype = h->value.data;
    }
    pp_tx_finish_response_headers(tx);
    if (pp_tx_wants_response_body(tx, ctype))
        pp_tx_feed_response_body(tx, resp->body.data, resp->body.len);
    pp_tx_finish_response_body(tx);
}

static json_object *str_json(pp_str_t s)
{
    return s.data ? json_object_new_string_len(s.data, (int)s.len) : NULL;
}

/* TX as the transaction left it, in insertion order. */
static json_object *tx_json(pp_tx_t *tx)
{
    json_object *o = json_object_new_object();
    const pp_coll_t *c = pp_tx_collection(tx);
    int pos = 0;
    for (const pp_coll_entry_t *e; (e = pp_coll_next(c, &pos)) != NULL;)
        json_object_object_add(o, apr_pstrmemdup(pp_tx_pool(tx), e->name.data, e->name.len),
                               str_json(e->value));
    return o;
}

static json_object *verdict_json(pp_tx_t *tx)
{
    const pp_verdict_t *v = pp_tx_verdict(tx);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "intercepted", json_object_new_boolean(v->intercepted));
    json_object_object_add(o, "status", json_object_new_int(v->intercepted ? v->status : 200));
    json_object_object_add(o, "action", json_object_new_string(pp_action_name(v->action)));
    json_object_object_add(o, "phase", json_object_new_int(v->phase));
    json_object_object_add(o, "relevant", json_object_new_boolean(v->relevant));
    json_object_object_add(o, "unique_id", json_object_new_string(pp_tx_unique_id(tx)));
    if (v->url)
        json_object_object_add(o, "url", json_object_new_string(v->url));
    json_object *arr = json_object_new_array();
    for (int i = 0; i < v->matches->nelts; i++) {
        const pp_match_t *m = pp_match_full(APR_ARRAY_IDX(v->matches, i, const pp_match_t *));
        json_object *mo = json_object_new_object();
        json_object_object_add(mo, "id", m->id ? json_object_new_string(m->id) : NULL);
        json_object_object_add(mo, "msg", m->msg ? json_object_new_string(m->msg) : NULL);
        json_object_object_add(mo, "var", m->var ? json_object_new_string(m->var) : NULL);
        json_object_object_add(mo, "phase", json_object_new_int(m->phase));
        json_object_object_add(mo, "severity", m->severity >= 0
                                                   ? json_object_new_string(pp_severity_name(m->severity))
                                                   : NULL);
        json_object_object_add(mo, "data", str_json(m->data));
        json_object *tags = json_object_new_array();
        for (unsigned t = 0; t < m->ntags; t++)
            json_object_array_add(tags, json_object_new_string(m->tags[t]));
        json_object_object_add(mo, "tags", tags);
        json_object_object_add(mo, "text", json_object_new_string(m->text));
        json_object_array_add(arr, mo);
    }
    json_object_object_add(o, "matched", arr);
    json_object_object_add(o, "tx", tx_json(tx));
    return o;
}

int pp_cli_eval(apr_pool_t *p, int argc, const char *const *argv)
{
    const char *conf = NULL, *reqf = NULL, *respf = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            conf = argv[++i];
        else if (strcmp(argv[i], "--response") == 0 && i + 1 < argc)
            respf = argv[++i];
        else if (!reqf)
            reqf = argv[i];
    }
    if (!conf || !reqf) {
        fprintf(stderr, "usage: parapet eval -c CONFIG REQUEST_FILE [--response RESPONSE_FILE]\n");
        return 2;
    }
    pp_cfg_t *cfg = pp_cli_load_config(p, conf);
    if (!cfg)
        return 2;
    pp_http_msg_t req, resp;
    const char *err = pp_cli_read_message(p, reqf, &req);
    if (!err && respf)
        err = pp_cli_read_message(p, respf, &resp);
    if (err) {
        fprintf(stderr, "parapet eval: %s\n", err);
        return 2;
    }
    apr_pool_t *txp;
    apr_pool_create(&txp, p);
    pp_tx_t *tx = pp_tx_create(cfg, txp, NULL);
    pp_tx_set_errlog(tx, stderr_errlog, NULL);
    pp_tx_keep_match_texts(tx); /* every match is printed, nolog ones too */
    if (pp_cfg_engine_enabled(cfg)) {
        run_request(tx, &req);
        if (respf)
            run_response(tx, &resp);
    }
    pp_tx_finish(tx);
    json_object *o = verdict_json(tx);
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    int rc = pp_tx_verdict(tx)->intercepted ? 1 : 0;
    apr_pool_destroy(txp);
    return rc;
}
