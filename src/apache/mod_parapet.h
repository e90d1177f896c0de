/*
 * Declarations shared by the files of the Apache adapter (mod_parapet.so). The adapter is the
 * only code in Parapet that includes httpd headers: it turns Apache's configuration callbacks,
 * hooks and filters into the pp_* calls of ../engine/parapet.h, in the order the engine's data
 * path expects (reference §1.2, §16). It holds no rule logic of its own.
 *
 * Lifetimes: per-request state (pp_ap_req_t) lives in r->pool next to the transaction; process
 * state (pp_ap_process_t) lives on the process pool, so it survives restarts and is inherited
 * by children.
 */
#ifndef MOD_PARAPET_H
#define MOD_PARAPET_H

#include <stdbool.h>
#include <sys/types.h>

#include "apr_hash.h"
#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "util_filter.h"

#include "parapet.h"

/* Lets ap_log_*error attribute messages to this module (per-module LogLevel). */
APLOG_USE_MODULE(parapet);

/* The names 1.9 used for the timing notes (reference §13); CustomLog reads them as %{...}n. */
#define PP_AP_NOTE_TIME1 "mod_security-time1"
#define PP_AP_NOTE_TIME2 "mod_security-time2"
#define PP_AP_NOTE_TIME3 "mod_security-time3"

/* Per-request adapter state, stored in r->request_config of the first request of a chain. */
typedef struct pp_ap_req_t {
    pp_tx_t *tx;
    bool early;            /* phase 1 ran at post_read_request (2.x rules, server config) */
    bool inspected;        /* the inbound phase ran: the engine is on for this request */
    bool body_consumed;    /* we read the body from the client */
    bool body_unread;      /* ProcessPartial: we stopped reading before the end of the body;
                              the replay hands on the rest from the client */
    void *replay;          /* input.c's replay state once the request was let through */
    bool response_given;   /* response status and headers were handed to the engine */
    bool type_given;       /* ... and Content-Type from r->content_type (see below) */
    bool reported;         /* pp_ap_report_verdict ran once (the client's verdict headers are
                              gone) */
} pp_ap_req_t;

/* Process-wide state; one instance hung off the process pool (see pp_ap_process_get). */
typedef struct pp_ap_process_t {
    bool engine_ready;         /* pp_engine_init succeeded in this process */
    int config_passes;         /* post_config runs seen; 1 = the pre-config pass at start-up */
    char *real_banner;         /* Server banner before SecServerSignature replaced it */
    apr_size_t real_banner_cap;
    bool chrooted;             /* the parent entered the jail */
    dev_t jail_dev;            /* identity of the jail's root, checked again in each child */
    ino_t jail_ino;
    struct metrics_shm_t *metrics; /* metrics.c's shared segment, set in post_config */
    apr_hash_t *stores;        /* store.c: pp_cfg_t* -> pp_store_t*, per configuration generation */
    apr_hash_t *embedded;      /* store.c: pp_cfg_t* -> pp_store_conf_t* of its LMDB file, opened
                                  per child (an LMDB environment must not cross a fork) */
    ap_filter_rec_t *scan_filter; /* output.c's filter, so adding it looks up no name */
    pp_body_memory_t *body_memory; /* request bodies held in memory by this process's requests
                                      (SecRequestBodyMemoryBudget); made before the fork, so
                                      each child counts its own */
} pp_ap_process_t;

/* Per server (virtual host): set in post_config for every server, read-only afterwards, so a
 * request reaches the process state without the look-up by name pp_ap_process_get makes. */
typedef struct pp_ap_server_t {
    pp_ap_process_t *proc;
    /* store.c: the server configuration's persistent-collection store in this process (NULL:
     * none), set after the stores open (post_config, child_init), read per transaction. */
    struct pp_store_t *store;
} pp_ap_server_t;

/* ---- mod_parapet.c ------------------------------------------------------------------------ */

/* Returns the process state, creating it on the process pool on first use. Never fails
 * (allocation failure aborts, as everywhere in APR). */
pp_ap_process_t *pp_ap_process_get(process_rec *proc);
/* The process state for a request (pp_ap_server_t; pp_ap_process_get before post_config). */
pp_ap_process_t *pp_ap_process_of(const request_rec *r);

/* The server-level configuration (SERVER and NODIR directives) of s. Never NULL. */
pp_cfg_t *pp_ap_server_cfg(const server_rec *s);
/* The merged per-directory configuration of r (ANY directives). Never NULL. */
pp_cfg_t *pp_ap_dir_cfg(const request_rec *r);

/* ---- hooks.c ------------------------------------------------------------------------------ */

/* Registers post_read_request, fixups and log_transaction. */
void pp_ap_register_request_hooks(apr_pool_t *p);
/* The adapter state of r's request chain (walks r->prev to the first request), or NULL when no
 * transaction was created for it. */
pp_ap_req_t *pp_ap_req_get(request_rec *r);
/* After a verdict: copies the engine's setenv/setnote outputs and the mod_security-message /
 * -action headers into r. Idempotent; called after each phase. */
void pp_ap_report_verdict(request_rec *r, pp_ap_req_t *rq);
/* Hands r's status and response headers to the engine once. with_type: also Content-Type
 * from r->content_type when the header tables lack it (Apache writes it there only when the
 * headers go out); 2.x phases 3 and 4 see the tables as they are, as in ModSecurity 2, and
 * the logs get the type later. */
void pp_ap_give_response_head(request_rec *r, pp_ap_req_t *rq, bool with_type);
/* hooks.c: drop (2.x): shuts the client connection down; returns the status to log (403). */
int pp_ap_drop_connection(request_rec *r);

/* ---- input.c ------------------------------------------------------------------------------ */

/* Registers the replay input filter and the insert_filter hook that adds it. */
void pp_ap_register_input_filter(void);
/* Whether the request carries a body at all (Transfer-Encoding, or a Content-Length other than
 * 0): Apache's HTTP input reads none otherwise, so there is nothing to read or replay. */
bool pp_ap_request_has_body(request_rec *r);
/* Reads the whole request body from the client into the engine, chunk by chunk, without
 * holding it in Apache memory. Returns OK, or an HTTP status when the client side failed
 * (413 for LimitRequestBody, 408 for a timeout, 400 otherwise). */
int pp_ap_read_request_body(request_rec *r, pp_ap_req_t *rq);
/* Arranges for the buffered body to be served to whichever request of the chain runs a
 * handler (the filter is added at insert_filter, so an internal redirect gets it too), and
 * makes the request headers describe what it will receive (Content-Length, not chunked). */
void pp_ap_replay_prepare(request_rec *r, pp_ap_req_t *rq);

/* ---- output.c ----------------------------------------------------------------------------- */

/* Registers the response filter and the insert_filter hook that adds it. */
void pp_ap_register_output_filter(void);
/* The output filter's handle (post_config: pp_ap_process_t.scan_filter). */
ap_filter_rec_t *pp_ap_scan_filter_handle(void);

/* ---- identity.c --------------------------------------------------------------------------- */

/* Registers the SecServerSignature / SecChrootDir post_config hook and the child check. */
void pp_ap_register_identity_hooks(apr_pool_t *p);

/* ---- metrics.c ---------------------------------------------------------------------------- */

/* Adds the ids of cfg's own rules to ids (a set of strings, for the metrics' rule table). */
void pp_ap_metrics_note_rules(apr_hash_t *ids, const pp_cfg_t *cfg);
/* post_config: makes the shared segment (first pass), keeps it across graceful restarts,
 * clears it after a full one, and adds ids to the rule table. OK or an HTTP error status. */
int pp_ap_metrics_init(server_rec *s, apr_hash_t *ids, apr_pool_t *ptemp);
/* Logging phase of an inspected request: adds the transaction's counts. */
void pp_ap_metrics_count(request_rec *r, pp_tx_t *tx);
/* Registers the parapet-metrics handler. */
void pp_ap_register_metrics_hooks(apr_pool_t *p);

/* ---- store.c ------------------------------------------------------------------------------ */

/* Hands tx the persistent-collection store of r's server (if it has one). */
void pp_ap_tx_store(request_rec *r, pp_tx_t *tx);
void pp_ap_register_store_hooks(apr_pool_t *p);

/* ---- notes.c ------------------------------------------------------------------------------ */

/* Sets note `name` to the microseconds elapsed since r->request_time, as a decimal integer,
 * on r and on the first request of its chain (CustomLog's %{..}n reads the last request of an
 * internal-redirect chain, %<{..}n the first). */
void pp_ap_note_time(request_rec *r, const char *name);
/* UNIQUE_ID from mod_unique_id when it ran for r, else NULL (the engine then makes one). */
const char *pp_ap_unique_id(const request_rec *r);
/* pp_errlog_fn for a transaction: ctx is the request_rec; writes to Apache's error log. */
void pp_ap_errlog(void *ctx, int level, const char *msg);

#endif
