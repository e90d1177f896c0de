/*
 * The transaction record, shared by transaction.c, the variable collectors, the evaluator, the
 * body processors and the logs. Everything hangs off the transaction pool.
 */
#ifndef PP_TX_H
#define PP_TX_H

#include "body/body.h"
#include "config/config.h"
#include "rules/model.h"

#include <apr_hash.h>

/* An intercepted file (multipart file part or PUT body). */
typedef struct pp_file_t {
    pp_str_t field;      /* form field name ("" for PUT) */
    pp_str_t filename;   /* client's file name, never used as a path */
    pp_str_t tmpname;    /* where we stored it */
    apr_off_t size;
    void *store;         /* upload/ handle; NULL when not stored */
    bool counted_only;   /* nothing needs the file: only its size is kept */
    bool complete;       /* received to its end and stored without error: may be kept */
    const char *verdict; /* approval / scan result text for the logs */
    int part;            /* multipart: its part's position in the body, from 0 (audit log J) */
} pp_file_t;

/* Collected, normalised values of one target. The target pointer is kept because slots are
 * numbered per configuration pool, and a merged configuration (.htaccess) mixes pools. */
typedef struct pp_cache_entry_t {
    const pp_target_t *target;
    apr_array_header_t *values; /* pp_value_t */
    unsigned gen;               /* the generation of the target's source when collected
                                   (TX: the collection's clock, rules/values.c) */
    unsigned watch;             /* TX:key: 1 + the insertion place of the entry it found (0:
                                   none; rules/values.c) */
} pp_cache_entry_t;

/* What the rules have cost this request so far (rules/eval.c, attack run D8). */
typedef struct pp_eval_budget_t {
    unsigned op_runs;             /* operator runs */
    apr_interval_time_t cpu_used; /* worker CPU in rule evaluation, finished phases */
    apr_interval_time_t cpu_mark; /* the thread's CPU clock at this phase's first check, 0 =
                                     not read yet */
    bool exhausted;               /* SecRuleEvalTimeLimit passed: no rule runs any more */
    unsigned limit_hits;          /* regex resource limit hits */
    unsigned stopped_skips;       /* evaluations skipped because their rule was stopped */
    apr_hash_t *stopped;          /* fail open: rules stopped by a limit hit, keyed by rule */
} pp_eval_budget_t;

typedef enum {
    PP_BODY_NONE, PP_BODY_URLENCODED, PP_BODY_MULTIPART, PP_BODY_JSON, PP_BODY_XML, PP_BODY_RAW
} pp_body_kind_t;

/* A value that matched: its target, its name within it and the transformed value. */
typedef struct pp_matched_t {
    const pp_target_t *target;
    pp_str_t name, value;
} pp_matched_t;

struct pp_tx_t {
    apr_pool_t *pool;
    const pp_cfg_t *cfg;
    const char *unique_id;
    apr_time_t start;
    pp_errlog_fn errlog;
    void *errlog_ctx;
    pp_conn_info_t conn;          /* read through pp_tx_conn(): parts may be filled late */
    pp_conn_fill_fn conn_fill;
    void *conn_fill_ctx;
    bool conn_complete;

    /* Request. */
    pp_str_t request_line, method, uri, path, query, protocol;
    pp_str_t server_port;
    bool bad_request_line;
    apr_array_header_t *headers;  /* pp_field_t, in order */
    apr_array_header_t *args;     /* pp_field_t: query arguments, then body arguments */
    apr_array_header_t *cookies;  /* pp_field_t */
    apr_array_header_t *files;    /* pp_file_t */
    apr_table_t *env;
    pp_str_t args_combined;       /* 1.9 ARGS: query string & body */
    pp_str_t request_body;        /* 1.9 POST_PAYLOAD */
    bool cookies_malformed;
    const char *content_type;

    /* Body processing. */
    pp_body_kind_t body_kind;
    pp_buffer_t *body;
    pp_spool_t *spool;            /* the connection's reusable spool file (pp_tx_set_spool) */
    pp_body_memory_t *body_memory; /* the process's budget for bodies in memory, or NULL */
    const void *body_proc_def;    /* body/dispatch.c processor row */
    void *body_proc;              /* processor state (multipart parser) */
    pp_file_t *put_file;          /* a PUT body is also one intercepted file (§6.2) */
    int query_arg_count;          /* args before the body's */
    pp_str_t urlencoded_body;     /* raw urlencoded body, for the URL-encoding check */
    unsigned urlencoded_errors;   /* invalid %-escapes in the query and urlencoded body */
    unsigned multipart_flags;     /* PP_MP_* of the multipart body: pp_tx_multipart_flags() */
    bool multipart_crlf_line;     /* a CRLF ended one of its structural lines */
    apr_array_header_t *mp_part_headers; /* pp_field_t: part name, one raw header line each */
    pp_str_t mp_name, mp_filename;       /* the last part's name; the last filename seen */
    apr_interval_time_t upload_scan_spent; /* approval and clamd time so far (the deadline) */
    apr_status_t body_error;      /* a local failure while spooling (disk full) */
    const char *body_error_text;
    bool body_partial;            /* SecRequestBodyLimit reached under ProcessPartial: body holds
                                     the first LIMIT bytes, body_rest what followed them in the
                                     chunks fed since (the host stops reading) */
    pp_str_t body_rest;
    const char *body_processor;   /* ctl:requestBodyProcessor: "JSON", "XML", "URLENCODED",
                                     "MULTIPART"; NULL: chosen by Content-Type */
    const char *reqbody_error_msg; /* REQBODY_ERROR_MSG: the processor's error; NULL: none */
    bool headers_done, body_done, response_done, finished;
    bool response_headers_done;   /* phase 3 ran (or was skipped): it runs once */
    bool rules_off;               /* the host turned the rules off (pp_tx_set_rules_enabled) */
    bool keep_match_texts;        /* every match's message made when it matches
                                     (pp_tx_keep_match_texts; rules/outcome.c) */

    /* Response. */
    int status;
    const char *status_line;
    struct {                      /* pp_tx_set_response_entity: r->content_type, r->clength */
        bool given;
        const char *content_type;
        apr_off_t length;
    } response_entity;
    apr_array_header_t *response_headers; /* pp_field_t */
    pp_buffer_t *response_body;
    apr_status_t response_stop;   /* past SecResponseBodyLimit: APR_INCOMPLETE (ProcessPartial,
                                     the rest streams unheld) or APR_ENOSPC (Reject) */
    pp_str_t response_text;       /* OUTPUT: the held-back body (or its in-memory prefix) */

    /* Evaluation. */
    pp_rx_state_t *rx;
    pp_cache_entry_t *cache;      /* per interned target slot: its values */
    unsigned ncache;
    unsigned gen[PP_SRC_COUNT];   /* per variable source: bumped when its data changes
                                     (pp_tx_changed), so cached values of it go stale */
    pp_verdict_t verdict;
    apr_array_header_t *matches;  /* pp_match_t* */
    void *match_recs;             /* rules/outcome.c: match records not yet used, made in blocks */
    unsigned match_recs_left;
    struct pp_coll_t *coll_tx;    /* TX, made at first use (pp_tx_collection) */
    const struct pp_coll_entry_t *coll_tx_found; /* the TX entry (or NULL) the last TX:key
                                     collection found (rules/values.c keeps its place) */
    pp_tx_overrides_t *overrides; /* ctl: changes for this transaction (NULL: none) */
    struct pp_oparg_set_t *op_args; /* rules/oparg.c: operator arguments expanded from macros */
    pp_matched_t matched;         /* the value that matched last: MATCHED_VAR(_NAME) */
    struct {                      /* rules/eval.c: the 2.x rule (chain) being run */
        const pp_rule_t *rule;    /* its starter, for RULE (NULL between rules) */
        apr_array_header_t *vars; /* pp_matched_t: MATCHED_VARS, emptied when it ends */
        int visible;              /* how many of them the current link's targets see */
        const pp_rule_gate_t *gate; /* the rule index let this starter through: it knows
                                     which values hold the operator's literals */
    } rule2;
    int highest_severity;         /* HIGHEST_SEVERITY: 1-7, 0 while none (255) */
    apr_array_header_t *geo;      /* pp_field_t: GEO, filled by the last successful @geoLookup
                                     (NULL: none succeeded; rules/operators/geo.c) */
    unsigned phases_allowed;      /* bit per phase an allow action let through (rules/eval.c) */
    struct pp_sanitise_t *sanitise; /* sanitise* actions: what the audit log masks (NULL: none;
                                     log/sanitise.c) */
    apr_array_header_t *matched_rules; /* pp_rule_t*: 2.x rules (chain starters) that matched,
                                          in order, for the audit log's part K */
    pp_eval_budget_t budget;      /* rules/eval.c: work done so far (SecRuleEvalTimeLimit) */
    struct {                      /* rules/eval.c pp_eval_before_body */
        const pp_rule_plan_t *plan;      /* made for a merged configuration */
        const pp_rule_plan_t *plan_done; /* the plan its steps count in, once run */
        int steps;                       /* inbound steps found not to match */
    } early;
    struct pp_tfn_memo_t *tfn_memo; /* rules/values.c: transformation steps applied to value
                                       arrays (NULL until the first) */
    struct pp_index_state_t *index_state; /* rules/index.c: the rule index's masks (NULL
                                             until a gated rule comes up) */
    apr_table_t *env_out, *notes_out, *headers_out;

    pp_tx_metrics_t metrics;      /* counting points for the host's metrics (metrics.def) */
    struct pp_store_t *store;     /* persistent collections (store/store.h), set by the host */
    struct pp_pcolls_t *pcolls;   /* IP, SESSION, ... initialised so far (store/tx_store.c) */
    pp_phase_t phase_now;         /* the phase whose rules run (0 before the first) */
};

/* The data of source s changed (body arguments appended, the response arrived, a TX variable
 * set): values of it cached so far are collected again when next read. */
static inline void pp_tx_changed(pp_tx_t *tx, pp_var_source_t s)
{
    tx->gen[s]++;
}

/* log/sanitise.c: the sanitise* actions record what the audit log masks (log.h
 * pp_audit_mask_* applies it): a whole value by name, or the matched bytes of one, keeping its
 * first keep_first and last keep_last bytes. */
typedef enum {
    PP_SANITISE_ARG, PP_SANITISE_REQUEST_HEADER, PP_SANITISE_RESPONSE_HEADER, PP_SANITISE_KINDS
} pp_sanitise_kind_t;
void pp_tx_sanitise(pp_tx_t *tx, pp_sanitise_kind_t kind, pp_str_t name);
void pp_tx_sanitise_bytes(pp_tx_t *tx, pp_sanitise_kind_t kind, pp_str_t name, pp_str_t bytes,
                          int keep_first, int keep_last);

/* transaction.c: the per-transaction overrides ctl: writes (tx->overrides), made with every
 * field unset at the first use; and the settings as ctl: left them for this transaction. */
pp_tx_overrides_t *pp_tx_overrides(pp_tx_t *tx);
int pp_tx_audit_engine(const pp_tx_t *tx);      /* SecAuditEngine or ctl:auditEngine */
const char *pp_tx_audit_parts(const pp_tx_t *tx); /* NULL: SecAuditLogParts (or its default) */
bool pp_tx_request_body_access(const pp_tx_t *tx);
bool pp_tx_response_body_access(const pp_tx_t *tx);
apr_int64_t pp_tx_request_body_limit(const pp_tx_t *tx);
apr_int64_t pp_tx_response_body_limit(const pp_tx_t *tx);
static inline int pp_tx_debug_level(const pp_tx_t *tx)
{
    return tx->overrides && tx->overrides->debug_level != PP_TRI_UNSET
               ? tx->overrides->debug_level : pp_cfg_int(tx->cfg->debug_level, 0);
}

/* transaction.c */
void pp_tx_intercept(pp_tx_t *tx, const pp_actionset_t *as, pp_phase_t phase, const char *reason);
/* A message the engine raises itself (implicit check, upload rejection, body failure): recorded
 * like a rule match ("Access denied with code N. what" or "Warning. what"), logged and sent to
 * the application when as logs, the request made relevant, and intercepted unless as is pass
 * or allow. var may be NULL. */
void pp_tx_raise(pp_tx_t *tx, const pp_actionset_t *as, pp_phase_t phase, const char *var,
                 const char *what);
/* An internal failure that touches the verdict: intercept with status (fail closed). */
void pp_tx_fail(pp_tx_t *tx, int status, pp_phase_t phase, const char *reason);
/* SecRuleEngine DetectionOnly (or ctl:ruleEngine=DetectionOnly) is in force: rules and the
 * engine's own verdicts on the request's content disrupt nothing (reference secrule-2.9 §1.2). */
bool pp_tx_detection_only(const pp_tx_t *tx);

/* log/debug.c: one line to the debug log and, at level 1, the host's error log (in a
 * configuration with 2.x rules also levels 2-3 the debug level admits, as "ModSecurity: ..."
 * lines; 1.9 configurations get 1.9's "mod_security: " lines). */
void pp_debug_write(const pp_tx_t *tx, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for a 1.9 rule's alert text: its error-log line stays 1.9's in any configuration
 * (each rule's line follows its language, docs/logs.md). */
void pp_debug_write19(const pp_tx_t *tx, int level, const char *msg);
#define pp_debug(tx, level, ...)                                                              \
    do {                                                                                      \
        if ((level) <= pp_tx_debug_level(tx) || (level) <= 1)                             \
            pp_debug_write((tx), (level), __VA_ARGS__);                                       \
    } while (0)

/* body/dispatch.c: processors finish, body arguments and POST_PAYLOAD are set. */
apr_status_t pp_body_finish(pp_tx_t *tx);
/* body/dispatch.c: the PP_MP_* flags (body/multipart.h) of the request's multipart body, 0
 * for other bodies; complete once the body is processed (phase 2). The MULTIPART_* variables
 * read it: pp_multipart_flag_by_name("MULTIPART_BOUNDARY_QUOTED") gives the bit. Only the
 * informational flags (PP_MP_INFO_MASK) can be set when rules run: a strict one rejects the
 * body with 400 first. */
unsigned pp_tx_multipart_flags(const pp_tx_t *tx);
/* body/dispatch.c: ctl:requestBodyProcessor. name is URLENCODED, MULTIPART, JSON or XML (any case);
 * APR_EINVAL for another, APR_EGENERAL once the body has started (call it from phase 1). */
apr_status_t pp_tx_set_body_processor(pp_tx_t *tx, const char *name);
/* body/files.c: approval script and clamd for every intercepted file (reference §6.6). */
void pp_files_approve(pp_tx_t *tx);
/* body/files.c: apply SecUploadKeepFiles now that relevance is known. */
void pp_files_keep(pp_tx_t *tx);
/* body/files.c: multipart callbacks and the PUT file. */
apr_status_t pp_files_begin(pp_tx_t *tx, pp_str_t field, pp_str_t filename, pp_file_t **out);
apr_status_t pp_files_write(pp_tx_t *tx, pp_file_t *f, const char *data, apr_size_t len);
apr_status_t pp_files_end(pp_tx_t *tx, pp_file_t *f);

/* log/: audit and guardian records at the end of the transaction; never changes the verdict. */
apr_status_t pp_log_transaction(pp_tx_t *tx);

/* rules/eval.c */
apr_status_t pp_eval_phase(pp_tx_t *tx, pp_phase_t phase);
/* Implicit validation (§5.2) before the inbound rules. */
apr_status_t pp_eval_implicit_checks(pp_tx_t *tx);
/* Evaluates the leading inbound rules that need no request body, before the body is read;
 * intercepts when the first of them that matches denies. Once per transaction; the inbound
 * phase then starts after the steps it found not to match. */
void pp_eval_before_body(pp_tx_t *tx);
/* rules/checks.c: more arguments than SecArgumentsLimit? Then the request is failed with 400
 * and true returned. */
bool pp_args_over_limit(pp_tx_t *tx, pp_phase_t phase);

/* The connection description, completed by the adapter's fill callback on first use. */
const pp_conn_info_t *pp_tx_conn(const pp_tx_t *tx);

#endif
