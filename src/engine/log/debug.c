/*
 * Debug log (reference §10): SecFilterDebugLog / SecFilterDebugLevel. Every line carries the
 * transaction's unique id; level-1 lines (interceptions, fail-closed reasons) also go to the
 * host's error log. One write per line, so lines from concurrent requests do not interleave.
 */
#include "tx.h"

#include <stdarg.h>

void pp_debug_write(const pp_tx_t *tx, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = apr_pvsprintf(tx->pool, fmt, ap);
    va_end(ap);
    if (level <= 1 && tx->errlog)
        tx->errlog(tx->errlog_ctx, level, msg);
    if (!tx->cfg->debug_file || level > pp_cfg_int(tx->cfg->debug_level, 0))
        return;
    char date[APR_CTIME_LEN];
    apr_ctime(date, apr_time_now());
    char *line = apr_psprintf(tx->pool, "[%s] [%s] [%.*s] [%d] %s\n", date, tx->unique_id,
                              (int)(tx->uri.len > 256 ? 256 : tx->uri.len),
                              tx->uri.data ? tx->uri.data : "", level, msg);
    apr_size_t len = strlen(line);
    apr_file_write_full(tx->cfg->debug_file, line, len, NULL);
}
