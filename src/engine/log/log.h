/*
 * log/log.h: the end-of-transaction logs (reference §9 audit, §10 debug, §11 guardian) and the
 * targets they write to. log.c dispatches; audit.c decides whether a transaction is audited and
 * turns it into a record; audit_serial.c (1.9 layout), audit_concurrent.c (2.x-style parts, one
 * file per transaction plus an index line) and audit_json.c (2.9 JSON field names) format it;
 * targets.c opens files and spawns piped programs at start-up; guardian.c writes the
 * httpd-guardian line.
 *
 * Nothing here changes a verdict: a failed write is reported (debug level 1, which reaches the
 * host's error log) and returned, never turned into an interception.
 */
#ifndef PP_LOG_H
#define PP_LOG_H

#include "tx.h"

#include <limits.h>

#include <apr_global_mutex.h>
#include <apr_thread_proc.h>

/* Request body bytes an audit record holds at most; the rest is noted as truncated. Bounds the
 * record (and so the single write that carries it) whatever the body size. */
#define PP_AUDIT_BODY_LIMIT_BYTES (64 * 1024)
/* SecAuditLogParts when unset: 2.x's default (reference §9.3). */
#define PP_AUDIT_DEFAULT_PARTS "ABCFHZ"
/* Index and guardian lines stay within one atomic pipe write (POSIX: at least 512; Linux 4096). */
#define PP_LOG_LINE_MAX_BYTES PIPE_BUF
/* Longest escaped text kept for a short field (user, ident, vhost) in a summary line. */
#define PP_LOG_SHORT_FIELD_BYTES 256
/* At configuration clean-up, how long a piped logger gets to drain and exit on EOF before APR
 * sends it SIGTERM (then SIGKILL after 3 s). */
#define PP_LOG_PIPE_DRAIN_US (apr_time_from_msec(300))

/* ---- Targets (targets.c) ------------------------------------------------------------------ */

/* An opened SecAuditLog / SecGuardianLog. Lives in the configuration pool; shared read-only by
 * all threads and (after fork) all processes of the generation. */
typedef struct pp_log_target_t {
    const char *spec;       /* as configured: absolute path, or "|/path/program args" */
    apr_file_t *file;       /* the file (O_APPEND, unbuffered), or our end of the pipe */
    bool piped;
    apr_proc_t *proc;       /* piped program */
    apr_global_mutex_t *lock; /* pipes only: one writer at a time, across threads and children */
} pp_log_target_t;

/* What pp_cfg_t.logs points at. A member is NULL when its directive is unset. */
typedef struct pp_logs_t {
    pp_log_target_t *audit;    /* Serial records, or the Concurrent index */
    pp_log_target_t *audit2;   /* SecAuditLog2: the same records (or index lines) again */
    pp_log_target_t *guardian;
} pp_logs_t;

/*
 * Opens cfg's SecAuditLog and SecGuardianLog (called by pp_cfg_finish). Idempotent: does nothing
 * when cfg->logs already holds the targets the directives name (opened before, or inherited by
 * pp_cfg_merge), and leaves cfg->logs NULL when neither directive is set, so a merged
 * configuration keeps inheriting its parent's targets. A target is opened once per
 * configuration pool (keyed by its text), so virtual hosts that inherit the same log share one
 * descriptor and one piped program. Files: O_WRONLY|O_APPEND|O_CREAT, 0640. Pipes: the program
 * is spawned without a shell (arguments split on white space; quotes group), its stdin is our
 * pipe, and it is registered with the pool so that a restart (pool clean-up) closes the pipe,
 * lets it drain briefly, then kills it. Returns NULL or a start-up message in tp naming the
 * directive and the path.
 */
const char *pp_log_targets_open(pp_cfg_t *cfg, apr_pool_t *cp, apr_pool_t *tp);

/*
 * Writes one record. Files: exactly one write() on an O_APPEND descriptor, so concurrent
 * records never interleave (see targets.c); a short write is returned as APR_INCOMPLETE.
 * Pipes: under the target's lock, as many writes as it takes. Can fail (disk full, logger gone:
 * EPIPE); the caller reports.
 */
apr_status_t pp_log_target_write(pp_log_target_t *t, const char *data, apr_size_t len);

/* ---- The audit record (audit.c) ------------------------------------------------------------ */

/* Everything the formatters need, computed once from the transaction. Strings in p. */
typedef struct pp_audit_record_t {
    const pp_tx_t *tx;
    apr_pool_t *p;
    const char *parts;          /* effective SecAuditLogParts letters */
    int status;                 /* final status, 0 when unknown */
    const char *bytes;          /* response bytes (Content-Length) or "-" */
    const char *handler;        /* "-" when none */
    const char *summary;        /* <vhost> <ip> <ident> <user> [<date>] "<line>" <status> <bytes> */
    const char *response_line;  /* "HTTP/1.1 200 OK" */
    bool body_logged;           /* the request body was buffered (and part C is wanted) */
    pp_str_t body;              /* at most PP_AUDIT_BODY_LIMIT_BYTES */
    apr_off_t body_total;       /* bytes received (or synthesised) */
    bool body_truncated;
    bool body_synthesised;      /* multipart: the urlencoded synthesis of the fields (§6.3) */
    pp_str_t response_body;     /* part E: the held-back response (empty when none) */
    bool response_body_logged;
    /* 2.x configurations (audit_native2.c): body is the body as received, also for multipart
     * (part C), and synth the multipart fields' urlencoded synthesis (part I). */
    bool lang2;
    pp_str_t synth;
    const apr_array_header_t *producer; /* SecComponentSignature items (const char *) */
} pp_audit_record_t;

/* One intercepted file for the logs: field="f" filename="a.txt" size=N stored="/path"
 * verdict="accepted: ..." (quoted values escaped). In r->p. */
const char *pp_audit_file_summary(const pp_audit_record_t *r, const pp_file_t *f);
/* Whether letter is among the record's parts. */
bool pp_audit_part(const pp_audit_record_t *r, char letter);
/* The header lines of a (pp_field_t) as "name: value\n", control bytes escaped and values
 * masked as the sanitise* actions asked (log/sanitise.c; response: a holds response headers).
 * The B and F parts of the part layouts (audit_native2.c, audit_concurrent.c). */
void pp_audit_header_lines(pp_sbuf_t *b, const pp_audit_record_t *r, const apr_array_header_t *a,
                           bool response);
/* "Message: <text>\n" for each logged match, control bytes escaped: the H part's first lines in
 * the part layouts. */
void pp_audit_message_lines(pp_sbuf_t *b, const pp_audit_record_t *r);
/* "13/Jun/2020:22:43:07 +0200" (local time, English month names) into buf of >= 32 bytes. */
void pp_log_clf_date(char *buf, apr_size_t size, apr_time_t t);
/* Like pp_log_clf_date with ".uuuuuu" microseconds after the seconds (JSON "time"). */
void pp_log_clf_date_usec(char *buf, apr_size_t size, apr_time_t t);
/* s escaped for a quoted log field (control bytes, '"' and '\' as \xNN) in at most max output
 * bytes; never splits an escape or a UTF-8 sequence. *truncated (may be NULL) tells whether
 * anything was dropped. Result in p. */
const char *pp_log_escape_fit(apr_pool_t *p, pp_str_t s, apr_size_t max, bool *truncated);
/* Like pp_log_escape_fit, and ']' too, for a [bracketed] field such as the debug log's URI. */
const char *pp_log_escape_bracketed(apr_pool_t *p, pp_str_t s, apr_size_t max);
/* The 1.9 summary fields as for r->summary; line is the request line already escaped (see
 * pp_log_fit_fields for lines that must fit PP_LOG_LINE_MAX_BYTES). Result in p. */
const char *pp_audit_summary(const pp_tx_t *tx, apr_pool_t *p, int status, const char *bytes,
                             const char *line);

/* The three unbounded fields of a summary line, escaped for quoting ("-" for an absent header)
 * and shortened so that together they take at most budget bytes: a short field keeps all of
 * itself and what it leaves over goes to the longer ones. truncated: something was cut. */
typedef struct pp_log_fitted_t {
    const char *line, *referer, *agent;
    bool truncated;
} pp_log_fitted_t;
void pp_log_fit_fields(const pp_tx_t *tx, apr_pool_t *p, apr_size_t budget, pp_log_fitted_t *out);
/* The unique id made safe for a file name and an unquoted field ([A-Za-z0-9@_.-], at most 128
 * characters). Result in p. */
const char *pp_log_safe_id(apr_pool_t *p, const char *id);
/* Value of a request header (first one), or NULL. */
const char *pp_log_request_header(const pp_tx_t *tx, const char *name);
/* The response's Content-Length as written, or "-" (the engine does not see bytes sent). */
const char *pp_log_response_bytes(const pp_tx_t *tx);
/* The final status: the host's, else the interception's, else 0 (unknown). */
int pp_log_status(const pp_tx_t *tx);

/* Decides (SecAuditEngine, relevance §1.3) and writes the audit record for tx. APR_SUCCESS when
 * written or not wanted; otherwise the write error (already reported at debug level 1). */
apr_status_t pp_audit_write(pp_tx_t *tx);

/* audit_serial.c: the 1.9 record (§9.2) as one contiguous string in r->p. */
pp_str_t pp_audit_serial_format(const pp_audit_record_t *r);
/* audit_json.c: the record as one JSON object plus "\n", in r->p. */
pp_str_t pp_audit_json_format(const pp_audit_record_t *r);
/* audit_native2.c: ModSecurity 2.9's native record (secrule-2.9 §14.3) in r->p; serial adds
 * the newline that separates records in one file. */
pp_str_t pp_audit_native2_format(const pp_audit_record_t *r, bool serial);
/* Whether tx's configuration is in the 2.x language (it holds a SecRule or SecAction): its
 * audit records and alerts take ModSecurity 2.9's formats. */
bool pp_audit_lang2(const pp_tx_t *tx);
/* audit_concurrent.c: the 2.x-style parts record (§9.3) in r->p. */
pp_str_t pp_audit_parts_format(const pp_audit_record_t *r);
/* audit_concurrent.c: writes entry to its own file under SecAuditLogStorageDir, closes it, then
 * appends the index line to index (may be NULL: no index). */
apr_status_t pp_audit_concurrent_write(const pp_audit_record_t *r, pp_str_t entry,
                                       pp_log_target_t *index, pp_log_target_t *index2);

/* ---- ModSecurity 2's alert text (errlog.c, reference secrule-2.9 §14.1) ----------------- */

/* The prefix of a 2.x alert in the host's error log (fail2ban's apache-modsecurity filter and
 * log tools look for it); 1.9 messages keep "mod_security: ". */
#define PP_MS2_PREFIX "ModSecurity: "
/* ModSecurity formats an alert into a 1024-byte buffer: longer text is cut to this. */
#define PP_MS2_TEXT_MAX_BYTES 1023

/* ModSecurity's "log escape" ('"' '\' with a backslash, \b \n \r \t \v, other bytes
 * outside 0x20-0x7e as \xHH) and its hex escape for logdata (also '"' '\' as \x22 \x5c). */
const char *pp_ms2_escape(apr_pool_t *p, pp_str_t s);
const char *pp_ms2_escape_hex(apr_pool_t *p, pp_str_t s);

/* What an operator message is made of. */
typedef struct pp_ms2_op_t {
    const char *name;   /* operator name as in the table ("rx", "ge") */
    const char *param;  /* its argument (expanded when the operator expands it) */
    bool negated;
    const char *var;    /* "ARGS:q", already escaped as ModSecurity names it */
    pp_str_t value;     /* the value tested */
    pp_str_t data;      /* what matched (pp_op_out_t.data) */
} pp_ms2_op_t;
/* "Pattern match \"x\" at ARGS:q." and the other operators' words (reference §8). */
const char *pp_ms2_op_message(apr_pool_t *p, const pp_ms2_op_t *op);

typedef struct pp_ms2_alert_t {
    const char *action;  /* "Warning." or "Access denied with code 403 (phase 2)." */
    const char *what;    /* the operator message */
    const char *file;
    int line;
    const char *id, *rev, *msg;     /* msg expanded; NULL when absent */
    const pp_str_t *data;           /* logdata expanded; NULL when the rule has none */
    int severity;                   /* -1: none */
    const char *ver, *maturity, *accuracy;
    const char *const *tags;        /* expanded */
    unsigned ntags;
} pp_ms2_alert_t;
/* The alert text (without "ModSecurity: " and the host's [hostname] [uri] [unique_id]), at
 * most PP_MS2_TEXT_MAX_BYTES, in p. */
const char *pp_ms2_alert_text(apr_pool_t *p, const pp_ms2_alert_t *a);
/* Sends a 2.x alert where ModSecurity does: the debug log at level (1 interception, 2 warning)
 * and the host's error log, prefixed PP_MS2_PREFIX. */
void pp_log_alert2(const pp_tx_t *tx, int level, const char *text);
/* debug.c: text as one debug-log line at level, and nowhere else. */
void pp_debug_line(const pp_tx_t *tx, int level, const char *text);

/* guardian.c: the SecGuardianLog line for tx (§11); APR_SUCCESS when not configured. */
apr_status_t pp_guardian_write(pp_tx_t *tx);

/* log/sanitise.c: the request line, a header value and a urlencoded request body as the
 * audit log shows them after the sanitise* actions ('*' per masked byte); the input itself when
 * nothing in it is masked. */
pp_str_t pp_audit_mask_request_line(const pp_tx_t *tx, apr_pool_t *p);
pp_str_t pp_audit_mask_header(const pp_tx_t *tx, bool response, pp_str_t name, pp_str_t value,
                              apr_pool_t *p);
pp_str_t pp_audit_mask_form(const pp_tx_t *tx, pp_str_t body, apr_pool_t *p);

#endif
