/*
 * Debug log (reference §10): SecFilterDebugLog / SecFilterDebugLevel. Level-1 lines
 * (interceptions, fail-closed reasons, log write failures) also go to the host's error log.
 * The line format is 2.x's, which §10 recommends for us:
 *
 *   [<clf-date>] [<hostname>/sid#<config>][rid#<unique id>][<uri>][<level>] <message>
 *
 * rid is the transaction's unique id (2.x printed a pointer), so a debug line can be matched
 * with the audit record and the access log. Each line goes out in one write() on the O_APPEND
 * descriptor the setter opened, so lines of concurrent requests never interleave (targets.c
 * explains why). CR and LF inside a message are escaped: one message, one line.
 */
#include "log/log.h"

#include <stdarg.h>

#define DEBUG_URI_MAX_BYTES 256

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
    char date[48];
    pp_log_clf_date(date, sizeof date, apr_time_now());
    pp_sbuf_t b;
    pp_sbuf_init(&b, tx->pool, strlen(msg) + 256);
    pp_sbuf_printf(&b, "[%s] [%s/sid#%pp][rid#%s][%s][%d] ", date,
                   pp_tx_conn(tx)->server_name ? pp_tx_conn(tx)->server_name : "-", (const void *)tx->cfg,
                   tx->unique_id,
                   pp_log_escape_fit(tx->pool, tx->uri, DEBUG_URI_MAX_BYTES, NULL), level);
    pp_sbuf_add_safe(&b, pp_str_from_cstr(msg));
    pp_sbuf_add(&b, "\n", 1);
    apr_size_t len = b.len;
    apr_file_write(tx->cfg->debug_file, b.data, &len);
}
