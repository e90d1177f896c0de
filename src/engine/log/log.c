/*
 * End-of-transaction logging (reference §1.2 step 7): pp_tx_finish calls this once relevance is
 * final (including SecAuditLogRelevantStatus). It writes the audit record (audit.c decides
 * whether) and the guardian line, independently: one failing does not stop the other. Nothing
 * here changes the verdict; failures were already reported at debug level 1 (which reaches the
 * host's error log) and the first one is returned for the host to note.
 */
#include "log/log.h"

apr_status_t pp_log_transaction(pp_tx_t *tx)
{
    pp_debug(tx, 4, "Transaction finished: status %d, %s, %d match(es), relevant=%d",
             pp_log_status(tx), tx->verdict.intercepted ? "intercepted" : "passed",
             tx->matches->nelts, tx->verdict.relevant);
    apr_status_t audit = pp_audit_write(tx);
    apr_status_t guardian = pp_guardian_write(tx);
    return audit != APR_SUCCESS ? audit : guardian;
}
