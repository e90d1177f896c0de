/*
 * Setters for directives whose values need real checking at start-up: byte range, output MIME
 * types, log targets, the upload directory, the approval script and the clamd address.
 * Anything that can be checked now is checked now (reference §2, style §6).
 */
#include "config/config.h"
#include "log/log.h"
#include "upload/upload.h"

#include <apr_lib.h>

const char *pp_set_byte_range(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                              const void *extra, int argc, char **argv)
{
    apr_int64_t lo, hi;
    if (!pp_parse_int64(argv[0], &lo) || !pp_parse_int64(argv[1], &hi) || lo > 255 || hi > 255 ||
        lo > hi)
        return apr_psprintf(ctx->tp, "%s: \"%s %s\" is not a byte range (0-255, MIN <= MAX)",
                            ctx->name, argv[0], argv[1]);
    cfg->byte_min = (int)lo;
    cfg->byte_max = (int)hi;
    return NULL;
}

const char *pp_set_mime_types(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                              const void *extra, int argc, char **argv)
{
    int n;
    char **types;
    const char *err = pp_cfg_tokenize(ctx->tp, argv[0], &n, &types);
    if (err)
        return apr_psprintf(ctx->tp, "%s: %s", ctx->name, err);
    cfg->output_mime_types = apr_array_make(ctx->cp, n, sizeof(const char *));
    for (int i = 0; i < n; i++) {
        const char *t = strcasecmp(types[i], "(null)") == 0 ? "" : apr_pstrdup(ctx->cp, types[i]);
        APR_ARRAY_PUSH(cfg->output_mime_types, const char *) = t;
    }
    return NULL;
}

/* A file path (its directory must exist) or "|program"; both are opened by pp_cfg_finish. */
const char *pp_set_log_target(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                              const void *extra, int argc, char **argv)
{
    const char *v = argv[0];
    if (v[0] != '|') {
        v = apr_pstrdup(ctx->cp, pp_cfg_path(ctx->cp, ctx->site, v));
        char *dir = apr_pstrdup(ctx->tp, v), *slash = strrchr(dir, '/');
        if (slash && slash != dir)
            *slash = '\0';
        apr_finfo_t fi;
        if (apr_stat(&fi, dir, APR_FINFO_TYPE, ctx->tp) != APR_SUCCESS || fi.filetype != APR_DIR)
            return apr_psprintf(ctx->tp, "%s: directory of \"%s\" does not exist", ctx->name, v);
    } else {
        v = apr_pstrdup(ctx->cp, v);
    }
    *(const char **)slot = v;
    return NULL;
}

const char *pp_set_debug_log(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                             const void *extra, int argc, char **argv)
{
    const char *path = apr_pstrdup(ctx->cp, pp_cfg_path(ctx->cp, ctx->site, argv[0]));
    if (ctx->site && ctx->site->checking_only) {
        /* A check creates no file: the directory must be there for the open to work. */
        char *dir = apr_pstrdup(ctx->tp, path), *slash = strrchr(dir, '/');
        apr_finfo_t fi;
        if (slash)
            slash[slash == dir ? 1 : 0] = '\0';
        if (apr_stat(&fi, slash ? dir : ".", APR_FINFO_TYPE, ctx->tp) != APR_SUCCESS ||
            fi.filetype != APR_DIR)
            return apr_psprintf(ctx->tp, "%s: directory of \"%s\" does not exist", ctx->name,
                                path);
        *(const char **)slot = path;
        return NULL;
    }
    apr_status_t rv = apr_file_open(&cfg->debug_file, path,
                                    APR_FOPEN_WRITE | APR_FOPEN_APPEND | APR_FOPEN_CREATE,
                                    APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD, ctx->cp);
    if (rv != APR_SUCCESS) {
        char buf[120];
        return apr_psprintf(ctx->tp, "%s: cannot open \"%s\": %s", ctx->name, path,
                            apr_strerror(rv, buf, sizeof buf));
    }
    *(const char **)slot = path;
    return NULL;
}

const char *pp_set_audit_parts(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                               const void *extra, int argc, char **argv)
{
    /* ModSecurity 2.9.7's letters, A to K and Z. D and G are reserved (never written, there
     * either); I is written as C (for multipart bodies C already holds the form without the
     * files, which is I); J and K are accepted but not written yet. */
    for (const char *c = argv[0]; *c; c++)
        if (!((*c >= 'A' && *c <= 'K') || *c == 'Z'))
            return apr_psprintf(ctx->tp, "%s: \"%c\" is not an audit part (A to K, Z)",
                                ctx->name, *c);
    *(const char **)slot = apr_pstrdup(ctx->cp, argv[0]);
    return NULL;
}

const char *pp_set_upload_dir(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                              const void *extra, int argc, char **argv)
{
    const char *path = pp_cfg_path(ctx->cp, ctx->site, argv[0]);
    const char *err = ctx->site && ctx->site->run_ids_known
                          ? pp_upload_dir_check_as(ctx->tp, path, ctx->site->run_uid,
                                                   ctx->site->run_gid)
                          : pp_upload_dir_check(ctx->tp, path);
    if (err)
        return err;
    *(const char **)slot = apr_pstrdup(ctx->cp, path);
    return NULL;
}

const char *pp_set_approve_script(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                  const void *extra, int argc, char **argv)
{
    const char *err = pp_approve_script_check(ctx->tp, argv[0]);
    if (err)
        return err;
    *(const char **)slot = apr_pstrdup(ctx->cp, argv[0]);
    return NULL;
}

const char *pp_set_clamd(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot, const void *extra,
                         int argc, char **argv)
{
    const char *err = pp_clamd_address_check(ctx->tp, argv[0]);
    if (err)
        return apr_psprintf(ctx->tp, "%s: %s", ctx->name, err);
    *(const char **)slot = apr_pstrdup(ctx->cp, argv[0]);
    return NULL;
}

const char *pp_cfg_validate(const pp_cfg_t *cfg, apr_pool_t *tp)
{
    if (cfg->open_chain)
        return apr_psprintf(tp, "rule at %s:%d asks for a chain but no rule follows it",
                            cfg->open_chain->file ? cfg->open_chain->file : "?",
                            cfg->open_chain->line);
    if (cfg->audit_type == PP_AUDIT_CONCURRENT && !cfg->audit_storage_dir)
        return "SecAuditLogType Concurrent needs SecAuditLogStorageDir";
    return NULL;
}

const char *pp_cfg_finish_check(pp_cfg_t *cfg, apr_pool_t *cp, apr_pool_t *tp)
{
    pp_rule_groups_finish(cp, cfg->rules);
    pp_target_keys_finish(cp);
    pp_target_excl_finish(cp);
    pp_rule_tx_finish(cfg->rules);
    cfg->plan = pp_rule_plan_build(cp, cfg->effective_rules);
    /* Every target of its rules is interned by now. A later one (another configuration's)
     * has a higher slot; were it read under this one, it would only go uncached
     * (pp_eval_target_values caches slots below the transaction's count). */
    cfg->nslots = pp_target_slot_count(cp);
    return pp_cfg_validate(cfg, tp);
}

const char *pp_cfg_finish(pp_cfg_t *cfg, apr_pool_t *cp, apr_pool_t *tp)
{
    const char *err = pp_cfg_finish_check(cfg, cp, tp);
    return err ? err : pp_log_targets_open(cfg, cp, tp);
}
