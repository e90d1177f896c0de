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
 * log, interceptions, fail-closed reasons). The line takes 1.9's "mod_security: " prefix (2.x
 * rule messages bring "ModSecurity: ") and the request's identity so it can be matched with the
 * audit and debug logs. */
void pp_ap_errlog(void *ctx, int level, const char *msg)
{
    request_rec *r = ctx;
    pp_ap_req_t *rq = pp_ap_req_get(r);

    /* A 2.x rule's message carries ModSecurity 2's own "ModSecurity: " prefix (fail2ban's
     * apache-modsecurity filter and log tools look for it); the rest get 1.9's. */
    bool own = strncmp(msg, "ModSecurity: ", 13) == 0;
    ap_log_rerror(APLOG_MARK, level <= 1 ? APLOG_ERR : APLOG_WARNING, 0, r,
                  "%s%s [hostname \"%s\"] [uri \"%s\"] [unique_id \"%s\"]",
                  own ? "" : "mod_security: ", msg,
                  ap_escape_logitem(r->pool, r->hostname), ap_escape_logitem(r->pool, r->uri),
                  rq != NULL ? pp_tx_unique_id(rq->tx) : "");
}
