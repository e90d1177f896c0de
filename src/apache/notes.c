/*
 * Small request helpers shared by the hooks and filters: the 1.9 timing notes, the unique id
 * handed to the engine, and the bridge from the engine's log callback to Apache's error log.
 *
 * Timing (reference §13): each note is the number of microseconds since r->request_time, the
 * same origin as %D in CustomLog, written as a plain decimal so log processing can subtract
 * them: time1 when the request (and its body) has been read, time2 when the rules are done,
 * time3 when the response is complete and about to leave.
 */
#include "mod_parapet.h"

void pp_ap_note_time(request_rec *r, const char *name)
{
    request_rec *first = r;
    const char *value;

    while (first->prev != NULL) {
        first = first->prev;
    }
    /* request_time is the same for the whole chain: the redirect copies it. apr_off_t_toa is a
     * plain integer conversion: this runs three times per request. */
    value = apr_off_t_toa(r->pool, (apr_off_t)(apr_time_now() - first->request_time));
    apr_table_setn(r->notes, name, value);
    if (first != r) {
        apr_table_setn(first->notes, name, value);
    }
}

const char *pp_ap_unique_id(const request_rec *r)
{
    return apr_table_get(r->subprocess_env, "UNIQUE_ID");
}

/* The engine hands over what an administrator must see (reference §10 level 1: matches with
 * log, interceptions, fail-closed reasons). A 1.9 message takes 1.9's "mod_security: " prefix
 * and the request's identity so it can be matched with the audit and debug logs. A 2.x alert
 * arrives with ModSecurity 2's own "ModSecurity: " prefix and is written as ModSecurity 2.9
 * writes it (reference secrule-2.9 §14.1), at error level whatever its debug level, so that
 * fail2ban's apache-modsecurity filter and other log tools read it:
 *   [client <ip>] ModSecurity: <text> [hostname "<host>"] [uri "<uri>"] [unique_id "<id>"]
 * (Apache adds its own "[client ip:port]" before it and doubles every backslash.) */
void pp_ap_errlog(void *ctx, int level, const char *msg)
{
    request_rec *r = ctx;
    pp_ap_req_t *rq = pp_ap_req_get(r);
    const char *uid = rq != NULL ? pp_tx_unique_id(rq->tx) : NULL;

    if (strncmp(msg, "ModSecurity: ", 13) == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "[client %s] %s%s%s%s [uri \"%s\"]%s%s%s",
                      r->useragent_ip ? r->useragent_ip : r->connection->client_ip, msg,
                      r->hostname ? " [hostname \"" : "",
                      r->hostname ? ap_escape_logitem(r->pool, r->hostname) : "",
                      r->hostname ? "\"]" : "", ap_escape_logitem(r->pool, r->uri),
                      uid ? " [unique_id \"" : "", uid ? ap_escape_logitem(r->pool, uid) : "",
                      uid ? "\"]" : "");
        return;
    }
    ap_log_rerror(APLOG_MARK, level <= 1 ? APLOG_ERR : APLOG_WARNING, 0, r,
                  "mod_security: %s [hostname \"%s\"] [uri \"%s\"] [unique_id \"%s\"]", msg,
                  ap_escape_logitem(r->pool, r->hostname), ap_escape_logitem(r->pool, r->uri),
                  uid ? uid : "");
}
