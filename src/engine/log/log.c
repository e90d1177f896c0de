/*
 * End-of-transaction logging entry point. The audit log and the guardian log hang off here
 * (issue: audit log); until they are configured this only records the verdict in the debug log.
 */
#include "tx.h"

apr_status_t pp_log_transaction(pp_tx_t *tx)
{
    pp_debug(tx, 4, "Transaction finished: status %d, %s, %d match(es), relevant=%d", tx->status,
             tx->verdict.intercepted ? "intercepted" : "passed", tx->matches->nelts,
             tx->verdict.relevant);
    return APR_SUCCESS;
}
