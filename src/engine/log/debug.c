/*
 * Debug log (reference §10): SecFilterDebugLog / SecFilterDebugLevel. Level-1 lines
 * (interceptions, fail-closed reasons, log write failures) also go to the host's error log; in
 * a configuration with 2.x rules so do levels 2 and 3 that the debug level admits, as
 * ModSecurity 2.9.7 sends them (with its "ModSecurity: " prefix).
 * The line format is 2.x's, which §10 recommends for us:
 *
 *   [<clf-date>] [<hostname>/sid#<config>][rid#<unique id>][<uri>][<level>] <message>
 *
 * rid is the transaction's unique id (2.x printed a pointer), so a debug line can be matched
 * with the audit record and the access log. Each line goes out in one write() on the O_APPEND
 * descriptor the setter opened, so lines of concurrent requests never interleave (targets.c
 * explains why). Every control byte inside a message is escaped (one message, one line, no
 * terminal escapes), in the error-log copy too, and ']' in the bracketed hostname and URI, so
 * a reader that splits on brackets cannot be handed a forged level or message (attack run D13).
 * A failed write (disk full) is reported to the host's error log, once per transaction.
 */
#include "log/log.h"

#include <stdarg.h>

#define DEBUG_URI_MAX_BYTES 256

/* msg with its control bytes (C0, DEL) as \xNN; msg itself when it has none (the usual case:
 * request data in messages is escaped where it is quoted). */
static const char *controls_escaped(apr_pool_t *p, const char *msg)
{
    const char *c = msg;
    while (*c && (unsigned char)*c >= 0x20 && *c != 0x7f)
        c++;
    if (!*c)
        return msg;
    pp_sbuf_t b;
    pp_sbuf_init(&b, p, strlen(msg) + 64);
    pp_sbuf_add_safe(&b, pp_str_from_cstr(msg));
    return b.data;
}

/* Whether a failed debug-log write was already reported for tx: the host's error log hears of
 * it once per transaction, not once per lost line (a pool note, since tx is read-only here). */
static bool failure_reported(const pp_tx_t *tx)
{
    void *seen = NULL;
    apr_pool_userdata_get(&seen, "parapet-debug-write-failed", tx->pool);
    if (seen)
        return true;
    apr_pool_userdata_setn((void *)1, "parapet-debug-write-failed", NULL, tx->pool);
    return false;
}

void pp_debug_line(const pp_tx_t *tx, int level, const char *msg)
{
    if (!tx->cfg->debug_file || level > pp_tx_debug_level(tx))
        return;
    char date[48];
    pp_log_clf_date(date, sizeof date, apr_time_now());
    pp_sbuf_t b;
    pp_sbuf_init(&b, tx->pool, strlen(msg) + 256);
    const char *host = pp_tx_conn(tx)->server_name;
    pp_sbuf_printf(&b, "[%s] [%s/sid#%pp][rid#%s][%s][%d] ", date,
                   host ? pp_log_escape_bracketed(tx->pool, pp_str_from_cstr(host),
                                                  PP_LOG_SHORT_FIELD_BYTES)
                        : "-",
                   (const void *)tx->cfg, pp_log_safe_id(tx->pool, tx->unique_id),
                   pp_log_escape_bracketed(tx->pool, tx->uri, DEBUG_URI_MAX_BYTES), level);
    pp_sbuf_add_safe(&b, pp_str_from_cstr(msg));
    pp_sbuf_add(&b, "\n", 1);
    apr_size_t len = b.len;
    apr_status_t rv = apr_file_write(tx->cfg->debug_file, b.data, &len);
    if ((rv != APR_SUCCESS || len != b.len) && tx->errlog && !failure_reported(tx)) {
        char buf[120];
        tx->errlog(tx->errlog_ctx, 1,
                   apr_psprintf(tx->pool, "Debug log: write failed (%s); further lines of "
                                          "this transaction are lost",
                                rv != APR_SUCCESS ? apr_strerror(rv, buf, sizeof buf)
                                                  : "short write"));
    }
}

void pp_debug_write(const pp_tx_t *tx, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = apr_pvsprintf(tx->pool, fmt, ap);
    va_end(ap);
    if (!tx->errlog || level > 3) {
        /* the debug log only */
    } else if (pp_cfg_has_rules2(tx->cfg, PP_PHASE_NONE)) {
        /* ModSecurity 2.9.7 writes a message of levels 1-3 to the error log too, as
         * "ModSecurity: <message>" with the request's [hostname] [uri] [unique_id]: level 1
         * always, 2 and 3 when SecDebugLogLevel (or ctl:debugLogLevel) admits them, with or
         * without a SecDebugLog (tests/e2e/test_ms2_log_levels.py). */
        if (level <= 1 || level <= pp_tx_debug_level(tx))
            tx->errlog(tx->errlog_ctx, level,
                       apr_pstrcat(tx->pool, PP_MS2_PREFIX, controls_escaped(tx->pool, msg), NULL));
    } else if (level <= 1) {
        tx->errlog(tx->errlog_ctx, level, controls_escaped(tx->pool, msg)); /* 1.9: "mod_security: " */
    }
    pp_debug_line(tx, level, msg);
}

void pp_debug_write19(const pp_tx_t *tx, int level, const char *msg)
{
    if (level <= 1 && tx->errlog)
        tx->errlog(tx->errlog_ctx, level, controls_escaped(tx->pool, msg));
    pp_debug_line(tx, level, msg);
}
