/*
 * Configuration internals: the pp_cfg_t record (one type for server and per-directory
 * contexts), the directive table built from directives.def, and the setters it points at.
 * Slots start PP_UNSET / NULL and are inherited by pp_cfg_merge walking the same table.
 */
#ifndef PP_CONFIG_H
#define PP_CONFIG_H

#include "parapet.h"
#include "rules/model.h"

#define PP_UNSET (-1)
/* 128 KiB, ModSecurity 2's SecRequestBodyInMemoryLimit; 1.9 used 60 KB (reference §6.4). The
 * value changes no verdict, only where a body waits (memory or a spool file), and what a raw
 * body's POST_PAYLOAD holds. */
#define PP_DEFAULT_INMEM_LIMIT_BYTES 131072
/* SecRequestBodyMemoryBudget: request bodies a worker process holds in memory past
 * SecRequestBodyInMemoryLimit, all its requests together (body/memory.c). */
#define PP_DEFAULT_BODY_MEMORY_BUDGET_BYTES (128 * 1024 * 1024)
#define PP_DEFAULT_OUTPUT_LIMIT_BYTES 1048576 /* scanned response held in memory */
#define PP_DEFAULT_RESPONSE_LIMIT_BYTES 524288 /* scanned response held at all (2.x's default) */
#define PP_DEFAULT_APPROVE_TIMEOUT_S 30
#define PP_DEFAULT_BODY_LIMIT_BYTES 13107200   /* ModSecurity 2's SecRequestBodyLimit */
#define PP_DEFAULT_NOFILES_LIMIT_BYTES 1048576 /* ModSecurity 2's SecRequestBodyNoFilesLimit */
#define PP_DEFAULT_ARGUMENTS_LIMIT 1000       /* ModSecurity 2's SecArgumentsLimit default */
#define PP_DEFAULT_EVAL_TIME_LIMIT_MS 2000    /* rule evaluation CPU per request */
#define PP_DEFAULT_UPLOAD_FILE_LIMIT 100     /* ModSecurity 2.x's SecUploadFileLimit default */
#define PP_DEFAULT_UPLOAD_SCAN_DEADLINE_S 60 /* all approval scripts and clamd scans together */
#define PP_DEFAULT_COLLECTION_TIMEOUT_MS 50  /* SecCollectionStoreTimeout */

enum { PP_ENGINE_OFF, PP_ENGINE_ON, PP_ENGINE_DYNAMIC_ONLY, PP_ENGINE_DETECTION_ONLY };
enum { PP_AUDIT_OFF, PP_AUDIT_ON, PP_AUDIT_RELEVANT_ONLY, PP_AUDIT_DYNAMIC_OR_RELEVANT };
enum { PP_AUDIT_FORMAT_NATIVE, PP_AUDIT_FORMAT_JSON };
enum { PP_AUDIT_SERIAL, PP_AUDIT_CONCURRENT };
enum { PP_KEEP_OFF, PP_KEEP_ON, PP_KEEP_RELEVANT_ONLY };
enum { PP_LIMIT_REJECT, PP_LIMIT_PROCESS_PARTIAL };
/* output_mime_types merging: 1.9's list replaces the parent's; 2.x's SecResponseBodyMimeType
 * adds to it, and SecResponseBodyMimeTypesClear drops it (reference secrule-2.9 §3). */
enum { PP_MIME_REPLACE, PP_MIME_ADD, PP_MIME_CLEARED };
#define PP_DEFAULT_COL_TIMEOUT_S 3600         /* SecCollectionTimeout (ModSecurity 2.9.7) */

struct pp_cfg_t {
    /* Generic slots (directives.def names them). */
    int engine, scan_post, scan_output, check_url_encoding, check_unicode, check_cookie_format;
    int cookie_format, normalize_cookies, debug_level, audit_engine, audit_format, audit_type;
    int inheritance, upload_keep, approve_timeout_s, clamd_fail_open, regex_limit_fail_open;
    int response_token, arguments_limit, pcre_match_limit, pcre_depth_limit, eval_time_limit_ms;
    int response_limit_action, json_depth_limit;
    apr_int64_t inmem_limit, output_limit, nofiles_limit, body_limit, response_limit;
    apr_int64_t body_memory_budget;          /* SecRequestBodyMemoryBudget */
    const char *audit_log, *audit_parts, *audit_relevant_status_src, *audit_storage_dir;
    const char *charset, *chroot_dir, *debug_log, *guardian_log, *server_signature;
    const char *approve_script, *upload_dir, *clamd_address, *chroot_lock;
    int upload_file_limit, upload_scan_deadline_s; /* SecUploadFileLimit, SecUploadScanDeadline */
    /* SecCollectionStore*, SecCollectionKeyPrefix (store/store.h, config/set_store.c) */
    const char *collection_store, *collection_password_file, *collection_key_prefix;
    int collection_timeout_ms, collection_fail_closed;
    /* ModSecurity 2.x directives (config/set_ms2.c; docs/directives.md) */
    int body_limit_action, col_timeout_s, unicode_codepage, audit_dir_mode, audit_file_mode;
    int upload_file_mode, tmp_save_uploads, rule_perf_time_us;
    const char *argument_separator, *cookiev0_separator, *data_dir, *tmp_dir, *webappid;
    const char *sensor_id, *httpbl_key, *audit_log2;
    const char *rbl_resolver;                /* SecRblResolver: IP[:PORT] for @rbl */
    int rbl_timeout_ms;                      /* SecRblTimeout */

    /* Structured values, merged by hand in config.c. */
    int byte_min, byte_max;                  /* PP_UNSET: 0..255 */
    apr_array_header_t *output_mime_types;   /* const char*, "" = (null); NULL = unset */
    int mime_types_mode;                     /* how output_mime_types merges: PP_MIME_* */
    const struct pp_unicode_map_t *unicode_map; /* SecUnicodeMapFile; NULL = unset */
    const struct pp_geo_db_t *geo_db;        /* SecGeoLookupDb (rules/operators/geo.c); NULL = unset */
    apr_array_header_t *component_signatures;   /* SecComponentSignature (const char*) */
    const pp_regex_t *audit_relevant_status; /* compiled from audit_relevant_status_src */
    apr_file_t *debug_file;
    const pp_actionset_t *default_action;    /* last SecFilterDefaultAction of the context */
    apr_array_header_t *rules;               /* own rules (pp_rule_t*) in order */
    apr_array_header_t *imports, *removes;   /* rule ids (const char*) */
    apr_array_header_t *rule_removals;       /* SecRuleRemoveBy* (pp_rule_sel_t), rules/select.h */

    /* Parse-time state: governs the rules that follow in the same context; not inherited. */
    const pp_actionset_t *cur_default, *cur_signature;
    bool actions_restricted, mandatory;
    pp_rule_t *open_chain;                   /* last rule if it asked for a chain */
    const void *default2[1];                 /* the SecDefaultAction in force (lang/secrule.c) */
    struct apr_hash_t *ids2;                 /* 2.x rule ids defined here, removed ones too */

    /* Result of merging: parent rules (per inheritance) + own − removed. */
    const apr_array_header_t *effective_rules;
    const pp_rule_plan_t *plan;              /* of effective_rules, made by pp_cfg_finish; a
                                                merged configuration's is made per request */
    /* The contexts whose SecFilterInheritance/Import/Remove apply to inherited rules, outermost
     * first (NULL: just this one). Apache merges <Location> sections with each other before
     * merging the result under the server's configuration, so a merge must compose. */
    const apr_array_header_t *filters;
    apr_pool_t *cp;                          /* configuration pool (target slots live there) */
    unsigned nslots;                         /* its target slots when finished (0: not known,
                                                pp_target_slot_count asks the pool): read per
                                                transaction, so not looked up each time */
    struct pp_cfg_memo_t *memo;              /* merges this was the child of (merge_once.c);
                                                NULL: not permanent, merged per request */
    bool touched;                            /* a directive was applied (or merged in) */
    unsigned phase_mask;                     /* 1 << phase for every phase holding a rule (a
                                                superset after merges): empty phases are skipped
                                                without walking the rule list */
    unsigned phase_mask2;                    /* the same for 2.x rules only (SecRule, SecAction):
                                                the host runs their phases where ModSecurity 2
                                                does (reference secrule-2.9 §1.1) */
    void *logs;                              /* log/: opened audit/guardian targets */
};

/* Site (file:line) of the directive being applied, visible to setters for rule records. */
typedef struct pp_setter_ctx_t {
    const pp_cfg_site_t *site;
    apr_pool_t *cp, *tp;
    const char *name;
} pp_setter_ctx_t;

/* What pp_cfg_finish checks, without opening or starting anything (parapet check). */
const char *pp_cfg_finish_check(pp_cfg_t *cfg, apr_pool_t *cp, apr_pool_t *tp);

/* Hands a start-up warning about the directive being applied to the host (site->warn). */
void pp_cfg_warn(const pp_setter_ctx_t *ctx, const char *msg);

typedef const char *(*pp_setter_fn)(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                    const void *extra, int argc, char **argv);

typedef enum { PP_SLOT_NONE, PP_SLOT_INT, PP_SLOT_SIZE, PP_SLOT_STR } pp_slot_type_t;

struct pp_directive_t {
    const char *name;
    int min_args, max_args; /* max -1 = unlimited */
    pp_scope_t scope;
    pp_setter_fn set;
    pp_slot_type_t slot_type;
    apr_size_t slot;
    const void *extra;
    const char *help;
};

const pp_directive_t *pp_directive_table(apr_size_t *n);

/* Generic setters (directives.c). */
const char *pp_set_flag(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_enum(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_int(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_size(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_size_or_0(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                             const void *extra, int argc, char **argv);
const char *pp_set_string(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_dir(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_regex(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);

/* Custom setters (set_rules.c, set_misc.c). */
const char *pp_set_secfilter(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_secfilter_selective(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_secrule(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_secaction(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_default_action2(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_marker(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_rule_engine(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_default_action(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_signature_action(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_flag_parse(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_import(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
/* set_store.c */
const char *pp_set_collection_store(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_collection_password_file(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
struct pp_store_conf_t;
/* The store settings of a merged server configuration (kind, uri, password file, prefix, timeout). */
void pp_cfg_store_conf(const pp_cfg_t *cfg, struct pp_store_conf_t *out);
const char *pp_set_remove(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_rule_remove(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_rule_update_target(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_rule_update_action(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_byte_range(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_mime_types(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_log_target(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_debug_log(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_audit_parts(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_upload_dir(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_approve_script(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_clamd(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);

/* Enum value lists (NULL-terminated) and integer ranges used as `extra`. */
extern const char *const pp_enum_engine[];
extern const char *const pp_enum_audit_engine[];
extern const char *const pp_enum_audit_format[];
extern const char *const pp_enum_audit_type[];
extern const char *const pp_enum_keep[];
extern const char *const pp_enum_limit_action[];
typedef struct pp_range_t { int min, max; } pp_range_t;
extern const pp_range_t pp_range_0_1[1], pp_range_0_9[1], pp_range_1_3600[1], pp_range_1_max[1],
    pp_range_0_3600000[1];
extern const pp_range_t pp_range_1_1000[1];
extern const pp_range_t pp_range_1_10000[1];
#define PP_RBL_DEFAULT_TIMEOUT_MS 1000
const char *pp_set_rbl_resolver(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
extern const pp_range_t pp_range_0_2592000[1];
extern const apr_int64_t pp_size_max_1gib[1]; /* SecResponseBodyLimit's hard limit (1 GiB) */

/* set_ms2.c: the ModSecurity 2.x directives that need more than a generic setter. */
const char *pp_set_char(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_limit_action(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_mime_types2(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_mime_types_clear(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_mode(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_component_signature(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_unicode_map(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_geo_db(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_unicode_codepage(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_intercept_on_error(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_off_only(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_flag_note(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_accepted(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_refused(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_audit_log2(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_data_dir(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
const char *pp_set_tmp_dir(pp_cfg_t *, const pp_setter_ctx_t *, void *, const void *, int, char **);
/* Texts used as `extra` by pp_set_off_only / pp_set_flag_note / pp_set_accepted / pp_set_refused:
 * why On (or the directive) is refused, or the note a start-up warning gives. */
extern const char pp_why_conn_engine[], pp_why_content_injection[], pp_why_backend_compression[];
extern const char pp_why_hash_engine[], pp_why_stream_inspection[], pp_why_xml_entity[];
extern const char pp_why_remote_rules[], pp_why_state_limit[], pp_why_rule_script[];
extern const char pp_note_status_engine[], pp_note_cache_tfn[], pp_note_gsb_db[];

/* Splits raw directive arguments like Apache's ap_getword_conf: whitespace separates words,
 * "..." and '...' quote (quotes removed), backslash escapes the quote character. */
const char *pp_cfg_tokenize(apr_pool_t *p, const char *raw, int *argc, char ***argv);
/* Resolves a path against the server root when relative. */
const char *pp_cfg_path(apr_pool_t *p, const pp_cfg_site_t *site, const char *path);

/* Effective values with defaults applied. Inline: the phase loop asks per rule. */
static inline int pp_cfg_int(int v, int dflt)
{
    return v == PP_UNSET ? dflt : v;
}
const pp_actionset_t *pp_cfg_default_action(const pp_cfg_t *cfg);
/* SecArgumentSeparator (default '&'). */
static inline char pp_cfg_argument_separator(const pp_cfg_t *cfg)
{
    return cfg->argument_separator ? cfg->argument_separator[0] : '&';
}
/* SecUnicodeMapFile's table when a code page is configured (ModSecurity uses the map only
 * then), else NULL. */
const struct pp_unicode_map_t *pp_cfg_unicode_map(const pp_cfg_t *cfg);
/* SecCollectionTimeout: the TIMEOUT, in seconds, of a persistent collection initcol creates. */
long pp_cfg_collection_timeout_s(const pp_cfg_t *cfg);
/* SecWebAppId (default "default"): WEBAPPID, and the namespace of SESSION, USER and RESOURCE. */
const char *pp_cfg_webappid(const pp_cfg_t *cfg);
/* SecRequestBodyLimitAction in force: ProcessPartial when asked, and always under
 * DetectionOnly (which never refuses a request). */
int pp_cfg_body_limit_action(const pp_cfg_t *cfg);

#endif
