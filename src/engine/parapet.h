/*
 * Parapet engine: the public API used by the Apache adapter, the CLI, tests, fuzzers and
 * benchmarks. The engine knows nothing of Apache; a host feeds a transaction with the request
 * (and optionally the response) and asks for the verdict after each finish_* call.
 *
 * Data path (see ../../docs/architecture.md): pp_tx_create -> set connection/request line/headers
 * -> pp_tx_finish_request_headers -> pp_tx_feed_request_body* -> pp_tx_finish_request_body
 * (inbound phase, 1.9's only request phase) -> response headers/body (outbound phase) ->
 * pp_tx_finish (logging). Destroying the transaction pool releases everything (temp files,
 * child processes, sockets).
 */
#ifndef PARAPET_H
#define PARAPET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <apr_file_io.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <apr_user.h>

#define PARAPET_VERSION "0.1.0"
#define PARAPET_NAME "Parapet"

/* Request and response bytes: may contain NUL, never assumed terminated. */
typedef struct pp_str_t {
    const char *data;
    apr_size_t len;
} pp_str_t;

#define PP_STR(lit) ((pp_str_t){ (lit), sizeof(lit) - 1 })
#define PP_STR_NULL ((pp_str_t){ NULL, 0 })

/* A name/value pair from the request (argument, header, cookie, file). */
typedef struct pp_field_t {
    pp_str_t name;
    pp_str_t value;
} pp_field_t;

typedef struct pp_cfg_t pp_cfg_t;
typedef struct pp_tx_t pp_tx_t;
typedef struct pp_spool_t pp_spool_t;
typedef struct pp_body_memory_t pp_body_memory_t;
typedef struct pp_directive_t pp_directive_t;

/* ---- Engine (process level) ------------------------------------------------------------ */

/* Checks the registries (sorted, complete) and probes PCRE2 JIT. Call once per process.
 * Returns NULL or a message in p describing what is wrong. */
const char *pp_engine_init(apr_pool_t *p);
/* "Parapet/0.1.0 (PCRE2 10.42, JIT on)" in p. */
const char *pp_engine_version(apr_pool_t *p);

/* Runs the ModSecurity 2 transformations named in names (comma-separated, any case; "none"
 * clears the ones before it) over in, in order. NULL and the result in *out, or an error
 * message naming the unknown transformation. Used by `parapet transform`; the rule loop
 * applies compiled chains instead. */
const char *pp_transform(apr_pool_t *p, const char *names, pp_str_t in, pp_str_t *out);

/* The five phases of a transaction (ModSecurity 2's numbering). */
typedef enum {
    PP_PHASE_NONE = 0,
    PP_PHASE_REQUEST_HEADERS = 1,
    PP_PHASE_REQUEST_BODY = 2, /* 1.9 "inbound" */
    PP_PHASE_RESPONSE_HEADERS = 3,
    PP_PHASE_RESPONSE_BODY = 4, /* 1.9 "outbound" (OUTPUT) */
    PP_PHASE_LOGGING = 5
} pp_phase_t;

/* ---- Configuration ---------------------------------------------------------------------- */

typedef enum { PP_SCOPE_ANY, PP_SCOPE_SERVER, PP_SCOPE_NODIR } pp_scope_t;

/* Context in which a directive is being applied; the setters use it for messages and for
 * relative paths. */
typedef struct pp_cfg_site_t {
    const char *file;        /* configuration file (for messages) */
    int line;                /* line number */
    const char *server_root; /* base for relative paths, NULL = cwd */
    bool in_dir;             /* inside <Directory>/<Location>/<Files>/.htaccess */
    bool in_vhost;           /* inside <VirtualHost> */
    bool checking_only;      /* `parapet check` / configtest: do not start anything */
    bool discarded;          /* read to be checked, then thrown away and read again before it
                              * serves (Apache's first pass at start-up): its patterns are
                              * compiled without JIT or prefilter literals, as for a check */
    bool run_ids_known;      /* the host reads its configuration as root and serves as */
    apr_uid_t run_uid;       /* run_uid/run_gid (Apache's User/Group): check directories */
    apr_gid_t run_gid;       /* for that user, not for root */
    /* Start-up warnings: the directive is accepted, but something in it will not act as
     * written (file and line are this site's). Optional; without it warnings are dropped. */
    void (*warn)(void *warn_ctx, const char *file, int line, const char *msg);
    void *warn_ctx;
    bool no_proxy;           /* the host cannot proxy (Apache without mod_proxy): a proxy:
                                action stops start-up */
} pp_cfg_site_t;

/* Creates an empty configuration (every slot unset) in cp. Never fails. */
pp_cfg_t *pp_cfg_create(apr_pool_t *cp);
/* Child inherits unset slots and (per SecFilterInheritance) rules from parent. Result in p.
 * Cheap enough to run per request (Apache merges per-directory configs at request time). */
pp_cfg_t *pp_cfg_merge(apr_pool_t *p, const pp_cfg_t *parent, const pp_cfg_t *child);
/* config/merge_once.c: a configuration made at start-up is made permanent (owner: the pool it
 * lives as long as); pp_cfg_merge_once then merges each (parent, child) pair of permanent
 * configurations once and returns the same read-only result (with its rule plan) afterwards;
 * otherwise it merges in p as pp_cfg_merge. Thread-safe. */
void pp_cfg_make_permanent(pp_cfg_t *cfg, apr_pool_t *owner);
pp_cfg_t *pp_cfg_merge_once(apr_pool_t *p, const pp_cfg_t *parent, const pp_cfg_t *child);
/* Entries in cfg's merge memo; -1 when cfg is not permanent (tests). */
int pp_cfg_memo_size(const pp_cfg_t *cfg);

/* Directive registry, built from config/directives.def. */
const pp_directive_t *pp_directive_find(const char *name);
const char *pp_directive_name(const pp_directive_t *d);
const char *pp_directive_help(const pp_directive_t *d);
pp_scope_t pp_directive_scope(const pp_directive_t *d);

/* Applies one directive line. raw_args is the rest of the line after the directive name,
 * tokenised the way Apache's ap_getword_conf does (quotes, backslash escapes).
 * Returns NULL on success or a message (in tp) naming the directive, the bad value and what was
 * expected; the host prefixes file:line. cp is the configuration pool. */
const char *pp_cfg_apply(pp_cfg_t *cfg, const pp_directive_t *d, const char *raw_args,
                         const pp_cfg_site_t *site, apr_pool_t *cp, apr_pool_t *tp);

/* Reads a configuration file outside Apache (CLI, tests): Include, line continuation,
 * <IfModule>, containers (contents checked, only top-level kept), non-Sec directives ignored.
 * On error returns "FILE:LINE: message". */
const char *pp_cfg_read_file(pp_cfg_t *cfg, const char *path, apr_pool_t *cp, apr_pool_t *tp);

/* How pp_cfg_read_file_opts reads: the way Apache would load the file (parapet check). */
typedef struct pp_cfg_read_opts_t {
    const char *server_root; /* relative paths and Include patterns resolve against it, as in
                              * Apache; NULL: paths against cwd, Include against the file's dir */
    bool check_only;         /* validate only: create, open for writing and start nothing */
    void (*warn)(void *warn_ctx, const char *file, int line, const char *msg); /* optional */
    void *warn_ctx;
} pp_cfg_read_opts_t;
/* pp_cfg_read_file with opts (NULL = pp_cfg_read_file). */
const char *pp_cfg_read_file_opts(pp_cfg_t *cfg, const char *path, const pp_cfg_read_opts_t *opts,
                                  apr_pool_t *cp, apr_pool_t *tp);

/* Starts what the configuration needs at run time (opens logs, checks the upload dir and the
 * approval script). Called once per configuration generation after all directives were read.
 * NULL on success, else a message. */
const char *pp_cfg_finish(pp_cfg_t *cfg, apr_pool_t *cp, apr_pool_t *tp);
/* The errors pp_cfg_finish would report about what was read (a chain left open, settings that
 * need each other), without building or starting anything: what a configuration test
 * (`apache2 -t`, which never reaches pp_cfg_finish) must still refuse. NULL when none. */
const char *pp_cfg_validate(const pp_cfg_t *cfg, apr_pool_t *tp);

/* Accessors the host needs. */
bool pp_cfg_engine_enabled(const pp_cfg_t *cfg);           /* SecFilterEngine On|DynamicOnly */
bool pp_cfg_engine_dynamic_only(const pp_cfg_t *cfg);      /* SecFilterEngine DynamicOnly */
/* Whether the configuration (as merged) holds a 2.x rule (SecRule, SecAction) in phase p, or in
 * any phase for PP_PHASE_NONE. A host runs the 2.x phases where ModSecurity 2 runs them
 * (reference secrule-2.9 §1.1) only for such configurations; 1.9 ones keep 1.9's places. */
bool pp_cfg_has_rules2(const pp_cfg_t *cfg, pp_phase_t phase);
/* Whether a request the rules did not inspect still leaves a record (audit or guardian log,
 * debug level 4): if not, an adapter need not make a transaction for it at all. */
bool pp_cfg_logs_uninspected(const pp_cfg_t *cfg);
bool pp_cfg_scan_request_body(const pp_cfg_t *cfg);        /* SecFilterScanPOST On */
bool pp_cfg_scan_output(const pp_cfg_t *cfg);              /* SecFilterScanOutput On */
bool pp_cfg_output_mime_matches(const pp_cfg_t *cfg, const char *content_type);
apr_size_t pp_cfg_body_memory_budget(const pp_cfg_t *cfg); /* SecRequestBodyMemoryBudget */
apr_off_t pp_cfg_output_limit(const pp_cfg_t *cfg);        /* bytes of response held back */
const char *pp_cfg_server_signature(const pp_cfg_t *cfg);  /* NULL when unset */
const char *pp_cfg_chroot_dir(const pp_cfg_t *cfg);        /* NULL when unset */
bool pp_cfg_response_token(const pp_cfg_t *cfg);           /* SecServerResponseToken On */
int pp_cfg_debug_level(const pp_cfg_t *cfg);

/* ---- Transaction -------------------------------------------------------------------------- */

/* Host callbacks: how the engine writes to the host's error log. Optional. msg is valid during
 * the call only: the host copies what it keeps. */
typedef void (*pp_errlog_fn)(void *ctx, int level, const char *msg);

/* Creates a transaction for one request in pool p (normally the request pool). unique_id may be
 * NULL, then the engine makes one. Never fails. */
pp_tx_t *pp_tx_create(const pp_cfg_t *cfg, apr_pool_t *p, const char *unique_id);
void pp_tx_set_errlog(pp_tx_t *tx, pp_errlog_fn fn, void *ctx);
/* Every match's message fields are made when it matches, not only those a log reads (parapet
 * eval prints every match). */
void pp_tx_keep_match_texts(pp_tx_t *tx);
/* Replaces the configuration (the host resolves per-directory configuration after headers). */
void pp_tx_set_config(pp_tx_t *tx, const pp_cfg_t *cfg);

typedef struct pp_conn_info_t {
    const char *client_ip;
    int client_port;
    const char *server_ip;
    int server_port;
    const char *server_name;  /* ServerName / Host */
    const char *remote_host;  /* resolved client name, may be NULL */
    const char *remote_user;  /* authenticated user, may be NULL */
    const char *remote_ident; /* may be NULL */
    const char *auth_type;
    const char *document_root;
    const char *server_admin;
    const char *server_software;
    const char *script_filename; /* r->filename */
    const char *path_info;
    const char *uri;             /* r->uri: the path as Apache has it, percent-decoded and
                                    normalised from fixups on (2.x REQUEST_URI, _FILENAME,
                                    _BASENAME in phases 2-5); NULL: the raw path */
    const char *handler;         /* r->handler at fixups */
    bool is_subreq;
} pp_conn_info_t;
/* The struct is copied; strings must outlive the transaction. */
void pp_tx_set_conn(pp_tx_t *tx, const pp_conn_info_t *ci);
/* Fields that cost a look-up to produce (server name, remote host, DocumentRoot...) may be
 * left NULL in pp_tx_set_conn and given by fill instead, which the engine calls once, the
 * first time a variable, a log or the debug log needs the connection's description. */
typedef void (*pp_conn_fill_fn)(void *ctx, pp_conn_info_t *ci);
void pp_tx_set_conn_fill(pp_tx_t *tx, pp_conn_fill_fn fill, void *ctx);
/* Request line "GET /x?y HTTP/1.1". Returns APR_EGENERAL if it cannot be parsed (the verdict
 * then says 400). */
apr_status_t pp_tx_set_request_line(pp_tx_t *tx, pp_str_t line);
void pp_tx_add_request_header(pp_tx_t *tx, pp_str_t name, pp_str_t value);
/* The same without copying: name and value are NUL-terminated and outlive the transaction
 * (Apache's headers_in strings live in the request pool). */
void pp_tx_add_request_header_ref(pp_tx_t *tx, const char *name, const char *value);
/* Environment visible as ENV_name. Table is referenced, not copied. */
void pp_tx_set_env(pp_tx_t *tx, apr_table_t *env);
/* Start time of the request (for timing notes). Defaults to creation time. */
void pp_tx_set_start_time(pp_tx_t *tx, apr_time_t t);

/* Parses headers, cookies, query; runs phase 1. Then ask for the verdict. */
apr_status_t pp_tx_finish_request_headers(pp_tx_t *tx);
/* The same without phase 1, for a host that ran phase 1 before (pp_tx_finish_request_headers
 * with the server's configuration, where ModSecurity 2 runs it) or that never runs it with the
 * configuration it has now: ModSecurity 2 never runs phase-1 rules of a <Location> or
 * <Directory>. Idempotent; pp_tx_finish_request_headers after it runs no phase-1 rule. */
apr_status_t pp_tx_parse_request_headers(pp_tx_t *tx);
/* Whether the rules run for this transaction: the host's reading of SecRuleEngine /
 * SecFilterEngine for the configuration it gave (with its per-request overrides). Default: they
 * do. While off, the finish_* calls still parse and log, but run no rule (phase 5 included). */
void pp_tx_set_rules_enabled(pp_tx_t *tx, bool on);
bool pp_tx_rules_enabled(const pp_tx_t *tx);
/* Whether the engine wants the request body (SecFilterScanPOST, method, env override). */
bool pp_tx_wants_request_body(const pp_tx_t *tx);
/* Refuses (413) a request whose Content-Length is over SecRequestBodyLimit, when it wants the
 * body, before a byte is read; pp_tx_feed_request_body does the same at its first call. */
void pp_tx_check_request_length(pp_tx_t *tx);
/* One reusable spool file for the request bodies of a connection (body/spool.c): made on p, the
 * connection's pool, which closes it; opened (anonymous, 0600) only when a body first spills.
 * Never fails. */
pp_spool_t *pp_spool_create(apr_pool_t *p);
/* Before the body: its spill goes to spool, taken for the life of the transaction's pool (which
 * must end before spool's pool); when it ends the file is cut to this body's length. Without it, or when another
 * transaction holds it, a body that spills gets an anonymous file of its own. */
void pp_tx_set_spool(pp_tx_t *tx, pp_spool_t *spool);
/* A worker process's budget for request bodies held in memory past SecRequestBodyInMemoryLimit
 * (SecRequestBodyMemoryBudget; body/memory.c): made once per process on p, before its threads
 * start; its requests share it. Never fails. */
pp_body_memory_t *pp_body_memory_create(apr_pool_t *p);
/* Before the body: with the spool (pp_tx_set_spool), a body of known length up to 16 MiB past
 * SecRequestBodyInMemoryLimit is held in the connection's memory region while m's budget allows,
 * instead of its spool file (from the connection's second such body on: body/spool.c). Without
 * it, such bodies go to the file. */
void pp_tx_set_body_memory(pp_tx_t *tx, pp_body_memory_t *m);
/* Streams the request body. Memory stays bounded: past SecUploadInMemoryLimit the body spills
 * to a spool file. Returns non-success on a local failure (disk full); the verdict then says so. */
apr_status_t pp_tx_feed_request_body(pp_tx_t *tx, const char *data, apr_size_t len);
/* The next n chunks of the request body, in order: as many pp_tx_feed_request_body calls
 * (none after the request is refused), except that the engine may keep pointers to the chunks
 * until it returns instead of copying them, so the caller keeps them valid and unchanged until
 * then (a host's buckets of one read). A spooled body is then written to its file straight from
 * the chunks; a host that hands over 64 KiB at a time, starting at multiples of 64 KiB of the
 * body, has nothing copied. Returns the first failure (the verdict says so too). */
apr_status_t pp_tx_feed_request_body_chunks(pp_tx_t *tx, const pp_str_t *chunks, apr_size_t n);
/* The same, from a host that can keep the chunks valid and unchanged until the transaction's
 * pool is destroyed (buckets it sets aside). After each call, pp_tx_request_body_lent says what
 * it must keep: true, the engine holds pointers to chunks of this and earlier such calls instead
 * of copies, so the host keeps them all; false, the engine holds none, and the host may release
 * every chunk it kept. A multipart body that stays under SecRequestBodyInMemoryLimit is then not
 * copied (up to 32 chunks: past them it is): pp_tx_read_request_body hands
 * back the host's chunks. */
apr_status_t pp_tx_feed_request_body_lent(pp_tx_t *tx, const pp_str_t *chunks, apr_size_t n);
bool pp_tx_request_body_lent(const pp_tx_t *tx);
/* Body complete: processors finish, uploads are approved, validation and phase 2 run. */
apr_status_t pp_tx_finish_request_body(pp_tx_t *tx);
/* Reads the buffered body back, in order, in chunks (for replay to the application).
 * *len = 0 at the end. data points into engine memory valid until the next call; when the body
 * is in memory (pp_tx_request_body_file gives no file), it is the body itself, valid as long as
 * the transaction's pool (or the host's chunks it holds, pp_tx_feed_request_body_lent). */
apr_status_t pp_tx_read_request_body(pp_tx_t *tx, const char **data, apr_size_t *len);
apr_off_t pp_tx_request_body_length(const pp_tx_t *tx);
/* SecRequestBodyLimitAction ProcessPartial (or DetectionOnly) and the body passed
 * SecRequestBodyLimit: the rules inspect its first LIMIT bytes only. The host stops reading after
 * the chunk that made it so, and the application gets the kept bytes (pp_tx_read_request_body /
 * pp_tx_request_body_file), then pp_tx_request_body_rest, then what is still unread from the
 * client, uninspected (as ModSecurity 2.9.7 does). Never fails. */
bool pp_tx_request_body_partial(const pp_tx_t *tx);
/* The bytes fed after the limit was reached (in the transaction's pool; empty when none). */
pp_str_t pp_tx_request_body_rest(const pp_tx_t *tx);
/* When the buffered body went to a file (past SecUploadInMemoryLimit), flushes it and sets
 * *file: it holds the body from offset 0 (read exactly pp_tx_request_body_length bytes; a
 * reused spool file may be longer) and stays open as long as the transaction, so the adapter
 * can replay it from the file without copying it through memory. The engine reads and writes
 * it only at explicit offsets: the caller may seek and read it, and must not close it.
 * *file = NULL when the body is in memory (use pp_tx_read_request_body). Fails as
 * pp_tx_read_request_body would. */
apr_status_t pp_tx_request_body_file(pp_tx_t *tx, apr_file_t **file);

void pp_tx_set_response_status(pp_tx_t *tx, int status, const char *status_line);
/* The response entity as the server has it so far (Apache's r->content_type and r->clength):
 * ModSecurity 2's RESPONSE_CONTENT_TYPE and RESPONSE_CONTENT_LENGTH read these, not headers.
 * content_type may be NULL. */
void pp_tx_set_response_entity(pp_tx_t *tx, const char *content_type, apr_off_t length);
void pp_tx_add_response_header(pp_tx_t *tx, pp_str_t name, pp_str_t value);
/* Whether the response body must be held back and scanned (output scanning + MIME match). */
bool pp_tx_wants_response_body(pp_tx_t *tx, const char *content_type);
/* Phase 3 (response headers), once; nothing after an interception. */
apr_status_t pp_tx_finish_response_headers(pp_tx_t *tx);
/* Whether 2.x rules wait for the response (phase 3 or 4) and may still run: the host then runs
 * phase 3 on the response's first bytes and phase 4 at its end, or right after phase 3 when the
 * body is not held, as ModSecurity 2 does, whether or not the body is held. */
bool pp_tx_wants_response_phases(const pp_tx_t *tx);
/* Holds a piece of the response body (memory, then SecUploadDir) for the outbound phase, up to
 * SecResponseBodyLimit. APR_SUCCESS: all of it is held. APR_INCOMPLETE: the limit is reached
 * and SecResponseBodyLimitAction is ProcessPartial; the bytes up to the limit are held
 * (pp_tx_response_body_length tells how many of this piece), the caller finishes the body now
 * and streams the rest of the piece and of the response unheld. Any other status: the body
 * cannot be held (over the limit with Reject, or the spill failed); the transaction is
 * intercepted with 500 and a level-1 log line. Later calls return the same status. */
apr_status_t pp_tx_feed_response_body(pp_tx_t *tx, const char *data, apr_size_t len);
/* Bytes of the response body held so far. Never fails. */
apr_off_t pp_tx_response_body_length(const pp_tx_t *tx);
apr_status_t pp_tx_finish_response_body(pp_tx_t *tx);
/* Reads the held body back in order (for release to the client); *len = 0 at the end. A
 * failure (the spill file cannot be flushed or read back whole) is returned every time. */
apr_status_t pp_tx_read_response_body(pp_tx_t *tx, const char **data, apr_size_t *len);

/* Whether anything at the end of the transaction reads the response headers (audit, guardian);
 * when not, the host can skip handing them over. */
bool pp_tx_wants_response_headers(const pp_tx_t *tx);
/* Logging phase: audit log, guardian log. Relevant-status is checked here. */
apr_status_t pp_tx_finish(pp_tx_t *tx);

/* ---- Verdict ------------------------------------------------------------------------------ */

/* A match, in tx->verdict.matches. id, rev, severity, phase and logged are always set. The
 * message fields (msg, var, text, what, data, tags) of a rule's match are made only when
 * something reads them: at the match when it is logged, audit-relevant, intercepts, goes to the
 * debug log, or the host asked for every text (pp_tx_keep_match_texts); otherwise on the first
 * pp_match_full / pp_match_text. Read them through those two, never directly. */
typedef struct pp_match_t {
    const char *id;       /* may be NULL */
    const char *rev;
    const char *msg;
    int severity;         /* -1 when unset */
    const char *var;      /* location that matched, e.g. ARG("p"), HEADER("USER-AGENT") */
    const char *text;     /* full 1.9-style message line (without the "mod_security: " prefix) */
    const char *what;     /* 2.x: the operator message alone ("Pattern match ... at ARGS:q.") */
    pp_phase_t phase;
    bool logged;          /* log action effective */
    pp_str_t data;        /* 2.x: logdata expanded, whole (the log's [data] is cut and
                             escaped); data.data NULL when the rule has none */
    const char *const *tags; /* 2.x: the tags, expanded, in order; ntags of them */
    unsigned ntags;
    const struct pp_match_pending_t *pending; /* engine-internal: what makes the message
                                                 fields; NULL once they are made */
} pp_match_t;

/* m with its message fields made (on the first call for a match recorded without them). A
 * match's text made after the match expands msg, logdata and tag macros, and a macro operator
 * argument, as they stand then: a host that reads texts of matches that are neither logged nor
 * intercepting asks for them at the match with pp_tx_keep_match_texts. */
const pp_match_t *pp_match_full(const pp_match_t *m);
static inline const char *pp_match_text(const pp_match_t *m)
{
    return pp_match_full(m)->text;
}

typedef enum {
    PP_ACTION_NONE = 0,
    PP_ACTION_PASS,
    PP_ACTION_ALLOW,
    PP_ACTION_DENY,
    PP_ACTION_REDIRECT,
    PP_ACTION_PROXY,
    /* 2.x only (reference secrule-2.9 §9.1): */
    PP_ACTION_DROP,          /* close the client connection */
    PP_ACTION_ALLOW_PHASE,   /* allow:phase: the rest of this phase only */
    PP_ACTION_ALLOW_REQUEST, /* allow:request: the rest of the request phases */
    PP_ACTION_PAUSE          /* pause:ms as the disruptive action: then as allow */
} pp_action_t;

typedef struct pp_verdict_t {
    bool intercepted;
    int status;              /* HTTP status when intercepted (deny), 302 for redirect; none
                              * (-1) for proxy: mod_proxy's answer is the response */
    pp_action_t action;
    pp_phase_t phase;        /* phase that decided */
    const char *url;         /* redirect/proxy target */
    const char *reason;      /* short text for the error log */
    const apr_array_header_t *matches; /* of pp_match_t* in match order */
    bool relevant;           /* audit relevance (shared with SecUploadKeepFiles RelevantOnly) */
} pp_verdict_t;

const pp_verdict_t *pp_tx_verdict(const pp_tx_t *tx);
const char *pp_action_name(pp_action_t a);

/* Outputs the host applies after the inbound phase: setenv / setnote actions, and the
 * mod_security-message / mod_security-action request headers. Never NULL. */
apr_table_t *pp_tx_env_out(pp_tx_t *tx);
apr_table_t *pp_tx_notes_out(pp_tx_t *tx);
apr_table_t *pp_tx_headers_out(pp_tx_t *tx);
const char *pp_tx_unique_id(const pp_tx_t *tx);
apr_pool_t *pp_tx_pool(const pp_tx_t *tx);

/* Microseconds since start, for the mod_security-time1..3 notes. */
apr_time_t pp_tx_elapsed(const pp_tx_t *tx);

/* ---- Metrics (metrics.def) ------------------------------------------------------------------ */

typedef enum {
#define PP_METRIC(id, family, labels, help) PP_METRIC_##id,
#include "metrics.def"
#undef PP_METRIC
    PP_METRIC_COUNT
} pp_metric_id_t;

typedef enum {
#define PP_HISTOGRAM(id, family, help) PP_HIST_##id,
#include "metrics.def"
#undef PP_HISTOGRAM
    PP_HIST_COUNT
} pp_hist_id_t;

/* Upper bounds of the histogram buckets, in microseconds; a last bucket holds the rest (+Inf). */
#define PP_HIST_BOUNDS_US                                                                       \
    { 1000, 5000, 10000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,   \
      30000000 }
#define PP_HIST_BUCKETS 13

typedef struct pp_histogram_t {
    uint64_t bucket[PP_HIST_BUCKETS]; /* per bucket, not cumulative */
    uint64_t count;
    uint64_t sum_us;
} pp_histogram_t;

/* What one transaction counted. */
typedef struct pp_tx_metrics_t {
    uint64_t counter[PP_METRIC_COUNT];
    unsigned multipart_rejected_flags; /* bit b: pp_metric_multipart_flag(b) made it ambiguous */
    pp_histogram_t hist[PP_HIST_COUNT];
} pp_tx_metrics_t;

typedef struct pp_metric_desc_t {
    const char *family; /* Prometheus metric name */
    const char *labels; /* "" or label pairs without braces: direction="request" */
    const char *help;   /* "" for a row continuing the previous row's family */
} pp_metric_desc_t;

/* The transaction's counts so far (body byte counters are filled in by this call). */
const pp_tx_metrics_t *pp_tx_metrics(pp_tx_t *tx);
const pp_metric_desc_t *pp_metric_desc(pp_metric_id_t id);
const pp_metric_desc_t *pp_hist_desc(pp_hist_id_t id);
/* Name of multipart flag bit b ("DATA_BEFORE", ...), NULL when b is not a flag. */
const char *pp_metric_multipart_flag(unsigned b);
/* Adds one observation of us microseconds to h. */
void pp_hist_observe(pp_histogram_t *h, apr_interval_time_t us);
/* Calls fn with the id of every rule cfg holds itself (not inherited ones), in order. */
void pp_cfg_rule_ids(const pp_cfg_t *cfg, void (*fn)(void *ctx, const char *id), void *ctx);

#endif
