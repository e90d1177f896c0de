/*
 * parapet vars -c CONFIG [--processor NAME] REQUEST_FILE TARGET...: the values the variable
 * registry gives for a request, one line per value: "TARGET<TAB>NAME<TAB>HEX VALUE" (NAME is
 * ":name" for a collection member, empty for a scalar). --processor is ctl:requestBodyProcessor (URLENCODED, MULTIPART, JSON, XML),
 * set after the headers as a phase-1 rule would. TARGET is VAR or VAR:SELECTOR. The request
 * runs through the same pp_tx_* sequence as the adapter. The differential tests compare these
 * lines with what ModSecurity 2.9.7 logs for the same request. Exit 0, 1 when intercepted
 * (the reason on stderr), 2 on a usage or input error.
 */
#include "cli.h"
#include "rules/model.h"
#include "tx.h"

#include <apr_strings.h>
#include <stdio.h>

static void hex(pp_str_t s)
{
    for (apr_size_t i = 0; i < s.len; i++)
        printf("%02x", (unsigned char)s.data[i]);
}

int pp_cli_vars(apr_pool_t *p, int argc, const char *const *argv)
{
    const char *conf = NULL, *reqf = NULL, *proc = NULL;
    int i = 0;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            conf = argv[++i];
        else if (strcmp(argv[i], "--processor") == 0 && i + 1 < argc)
            proc = argv[++i];
        else if (!reqf)
            reqf = argv[i];
        else
            break;
    }
    if (!conf || !reqf || i >= argc) {
        fprintf(stderr, "usage: parapet vars -c CONFIG [--processor NAME] REQUEST_FILE TARGET...\n");
        return 2;
    }
    pp_cfg_t *cfg = pp_cli_load_config(p, conf);
    if (!cfg)
        return 2;
    pp_http_msg_t req;
    const char *err = pp_cli_read_message(p, reqf, &req);
    if (err) {
        fprintf(stderr, "parapet vars: %s\n", err);
        return 2;
    }
    for (int k = i; k < argc; k++) {
        char *name = apr_pstrdup(p, argv[k]), *colon = strchr(name, ':');
        if (colon)
            *colon = '\0';
        if (!pp_var_find(name)) {
            fprintf(stderr, "parapet vars: no variable %s\n", name);
            return 2;
        }
    }
    apr_pool_t *txp;
    apr_pool_create(&txp, p);
    pp_tx_t *tx = pp_tx_create(cfg, txp, NULL);
    pp_conn_info_t ci = { .client_ip = "127.0.0.1", .client_port = 40000, .server_ip = "127.0.0.1",
                          .server_port = 80, .server_name = "localhost" };
    pp_tx_set_conn(tx, &ci);
    pp_tx_set_request_line(tx, req.start_line);
    for (int h = 0; h < req.headers->nelts; h++) {
        const pp_field_t *f = &APR_ARRAY_IDX(req.headers, h, pp_field_t);
        pp_tx_add_request_header(tx, f->name, f->value);
    }
    pp_tx_finish_request_headers(tx);
    if (proc && pp_tx_set_body_processor(tx, proc) != APR_SUCCESS) {
        fprintf(stderr, "parapet vars: unknown body processor %s\n", proc);
        return 2;
    }
    if (!pp_tx_verdict(tx)->intercepted && req.body.len && pp_tx_wants_request_body(tx))
        for (apr_size_t off = 0; off < req.body.len; off += 8192) {
            apr_size_t n = req.body.len - off > 8192 ? 8192 : req.body.len - off;
            if (pp_tx_feed_request_body(tx, req.body.data + off, n) != APR_SUCCESS)
                break;
        }
    pp_tx_finish_request_body(tx);
    int rc = 0;
    for (int k = i; k < argc; k++) {
        char *name = apr_pstrdup(txp, argv[k]), *colon = strchr(name, ':');
        if (colon)
            *colon++ = '\0';
        pp_target_t t = { .var = pp_var_find(name), .selector = colon, .label = name };
        apr_array_header_t *out = apr_array_make(txp, 8, sizeof(pp_value_t));
        if (t.var->collect(tx, &t, out) != APR_SUCCESS) {
            fprintf(stderr, "parapet vars: %s failed\n", argv[k]);
            rc = 2;
            continue;
        }
        for (int v = 0; v < out->nelts; v++) {
            const pp_value_t *val = &APR_ARRAY_IDX(out, v, pp_value_t);
            /* NAME is ":" and the member's name for a collection member (which may be empty),
             * nothing for a scalar */
            printf("%s\t%s%.*s\t", argv[k], val->name.data ? ":" : "", (int)val->name.len,
                   val->name.data ? val->name.data : "");
            hex(val->value);
            putchar('\n');
        }
    }
    if (pp_tx_verdict(tx)->intercepted) {
        fprintf(stderr, "intercepted %d: %s\n", pp_tx_verdict(tx)->status,
                pp_tx_verdict(tx)->reason ? pp_tx_verdict(tx)->reason : "");
        if (!rc)
            rc = 1;
    }
    apr_pool_destroy(txp);
    return rc;
}
