/*
 * The exec action (reference §8.2): run a program on a match, e.g. to feed a firewall
 * blacklist. No shell and no arguments: the program receives the request through a CGI-like
 * environment (REMOTE_ADDR, REQUEST_URI, UNIQUE_ID, the match message) and is killed when it
 * outlives the timeout, so a hung helper cannot pin a worker.
 */
#include "rules/actions/actions.h"
#include "tx.h"
#include "util/proc.h"

#define PP_EXEC_TIMEOUT_US apr_time_from_sec(10)
#define PP_EXEC_MAX_OUTPUT_BYTES 4096

void pp_actions_exec(pp_tx_t *tx, const char *program, const pp_match_t *m)
{
    const char *argv[] = { program, NULL };
    const char *envp[] = {
        apr_pstrcat(tx->pool, "REMOTE_ADDR=", pp_tx_conn(tx)->client_ip ? pp_tx_conn(tx)->client_ip : "", NULL),
        apr_pstrcat(tx->pool, "REQUEST_METHOD=", pp_str_dup(tx->pool, tx->method).data, NULL),
        apr_pstrcat(tx->pool, "REQUEST_URI=", pp_str_dup(tx->pool, tx->uri).data, NULL),
        apr_pstrcat(tx->pool, "UNIQUE_ID=", tx->unique_id, NULL),
        apr_pstrcat(tx->pool, "MODSEC_MESSAGE=", m->text, NULL),
        apr_pstrcat(tx->pool, "MODSEC_RULE_ID=", m->id ? m->id : "", NULL),
        "PATH=/usr/bin:/bin",
        NULL,
    };
    pp_proc_result_t res;
    apr_status_t rv = pp_proc_run_env(tx->pool, argv, envp, PP_EXEC_TIMEOUT_US,
                                      PP_EXEC_MAX_OUTPUT_BYTES, &res);
    if (rv != APR_SUCCESS) {
        char buf[120];
        pp_debug(tx, 1, "exec %s failed: %s", program, apr_strerror(rv, buf, sizeof buf));
        return;
    }
    /* The first line of the output, escaped like request-derived text: it reaches the error log. */
    const char *out = res.output.data ? res.output.data : "";
    pp_str_t first = { out, strcspn(out, "\r\n") };
    pp_debug(tx, res.timed_out ? 1 : 2, "exec %s: %s%s", program,
             res.timed_out ? "timed out; " : "", pp_str_log_escape(tx->pool, first, first.len));
}
