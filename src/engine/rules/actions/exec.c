/*
 * The exec action (reference §8.2): run a program on a match, e.g. to feed a firewall
 * blacklist. No shell and no arguments: the program receives the request through a CGI-like
 * environment (REMOTE_ADDR, REQUEST_URI, UNIQUE_ID, the match message). It is started and left
 * to run: the rules and the response go on at once (review M2: a synchronous run pinned the
 * thread for up to the timeout on every match). The transaction pool reaps it when the request
 * ends, ending it at the timeout, so it can neither hang on nor become a zombie; its first
 * output line then goes to the debug log.
 */
#include "rules/actions/actions.h"
#include "tx.h"
#include "util/proc.h"

#define PP_EXEC_TIMEOUT_US apr_time_from_sec(10)
#define PP_EXEC_MAX_OUTPUT_BYTES 4096

typedef struct exec_run_t {
    pp_tx_t *tx;
    const char *program;
} exec_run_t;

/* At the end of the request (the transaction pool's pre-cleanup, while it is intact). */
static void exec_done(void *ctx, const pp_proc_result_t *res)
{
    const exec_run_t *run = ctx;
    /* The first line of the output, escaped like request-derived text: it reaches the error log. */
    const char *out = res->output.data ? res->output.data : "";
    pp_str_t first = { out, strcspn(out, "\r\n") };
    pp_debug(run->tx, res->timed_out ? 1 : 2, "exec %s: %s%s", run->program,
             res->timed_out ? "timed out; " : "",
             pp_str_log_escape(run->tx->pool, first, first.len));
}

void pp_actions_exec(pp_tx_t *tx, const char *program, const pp_match_t *m)
{
    const char *argv[] = { program, NULL };
    const char *envp[] = {
        apr_pstrcat(tx->pool, "REMOTE_ADDR=", pp_tx_conn(tx)->client_ip ? pp_tx_conn(tx)->client_ip : "", NULL),
        apr_pstrcat(tx->pool, "REQUEST_METHOD=", pp_str_dup(tx->pool, tx->method).data, NULL),
        apr_pstrcat(tx->pool, "REQUEST_URI=", pp_str_dup(tx->pool, tx->uri).data, NULL),
        apr_pstrcat(tx->pool, "UNIQUE_ID=", tx->unique_id, NULL),
        apr_pstrcat(tx->pool, "MODSEC_MESSAGE=", pp_match_text(m), NULL),
        apr_pstrcat(tx->pool, "MODSEC_RULE_ID=", m->id ? m->id : "", NULL),
        "PATH=/usr/bin:/bin",
        NULL,
    };
    exec_run_t *run = apr_palloc(tx->pool, sizeof *run);
    run->tx = tx;
    run->program = program;
    apr_status_t rv = pp_proc_start(tx->pool, argv, envp, PP_EXEC_TIMEOUT_US,
                                    PP_EXEC_MAX_OUTPUT_BYTES, exec_done, run);
    if (rv != APR_SUCCESS) {
        char buf[120];
        pp_debug(tx, 1, "exec %s failed: %s", program, apr_strerror(rv, buf, sizeof buf));
    }
}
