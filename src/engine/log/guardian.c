/*
 * SecGuardianLog (reference §11): one line per finished transaction for an external, stateful
 * monitor such as httpd-guardian, which counts requests per client and can block abusers. The
 * line follows the field order 2.x's comment gives:
 *
 *   %V %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %{UNIQUE_ID}e "-" %T %D "-" 0
 *
 * with the real Referer and User-Agent, %T the whole request in seconds and %D in microseconds
 * (request start to now), and the session id, message and rating placeholders 2.x writes
 * ("-", "-", 0). Every line is written whatever SecAuditEngine says, in one write of at most
 * PIPE_BUF bytes so it stays atomic on the pipe to the monitor; a longer one has its request
 * line, Referer and User-Agent shortened and ends with " L".
 */
#include "log/log.h"

#define GUARDIAN_FMT "%s \"%s\" \"%s\" %s \"-\" %" APR_TIME_T_FMT " %" APR_TIME_T_FMT " \"-\" 0%s\n"

apr_status_t pp_guardian_write(pp_tx_t *tx)
{
    const pp_logs_t *logs = tx->cfg->logs;
    if (!logs || !logs->guardian)
        return APR_SUCCESS;
    apr_pool_t *p;
    apr_status_t rv = apr_pool_create(&p, tx->pool);
    if (rv != APR_SUCCESS) {
        pp_debug(tx, 1, "Guardian log: no memory for the line of transaction %s", tx->unique_id);
        return rv;
    }
    apr_time_t elapsed = apr_time_now() - tx->start;
    int status = pp_log_status(tx);
    const char *uid = pp_log_safe_id(p, tx->unique_id);
    const char *bytes = pp_log_response_bytes(tx);
    /* Length without the variable fields, with room for " L". */
    const char *bare = pp_audit_summary(tx, p, status, bytes, "");
    apr_size_t fixed = strlen(apr_psprintf(p, GUARDIAN_FMT, bare, "", "", uid,
                                           apr_time_sec(elapsed), elapsed, " L"));
    pp_log_fitted_t v;
    pp_log_fit_fields(tx, p, fixed < PP_LOG_LINE_MAX_BYTES ? PP_LOG_LINE_MAX_BYTES - fixed : 0,
                      &v);
    const char *line = apr_psprintf(p, GUARDIAN_FMT, pp_audit_summary(tx, p, status, bytes, v.line),
                                    v.referer, v.agent, uid, apr_time_sec(elapsed), elapsed,
                                    v.truncated ? " L" : "");
    rv = pp_log_target_write(logs->guardian, line, strlen(line));
    if (rv != APR_SUCCESS) {
        char buf[120];
        pp_debug(tx, 1, "Guardian log: failed to write the line of transaction %s (%s): %s",
                 tx->unique_id, logs->guardian->spec, apr_strerror(rv, buf, sizeof buf));
    }
    apr_pool_destroy(p);
    return rv;
}
