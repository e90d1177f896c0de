/*
 * Setters of the ModSecurity 2.x directives that need more than a generic setter (reference
 * secrule-2.9 §3): one-character separators, the request-body limit action, the 2.x response
 * MIME list (which adds to the enclosing context's, unlike 1.9's), octal file modes, component
 * signatures, the unicode map, and the directives Parapet accepts only in their harmless form
 * or refuses with a reason. A 2.x directive with the same meaning as a 1.9 one shares its slot
 * (directives.def says which). Nothing here is accepted and then silently ignored where it
 * would change what is inspected: either it acts, or start-up stops and says why.
 */
#include "config/config.h"
#include "rules/operators/operators.h"
#include "rules/transforms/transforms.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <stdlib.h>

const pp_range_t pp_range_0_2592000[1] = { { 0, 2592000 } };

const char pp_why_conn_engine[] = "connection-state limits (SecReadStateLimit, SecWriteStateLimit) "
                                  "are not provided; use mod_reqtimeout";
const char pp_why_content_injection[] =
    "content injection (the prepend and append actions) is not provided";
const char pp_why_backend_compression[] =
    "backend compression is not switched off; use RequestHeader unset Accept-Encoding";
const char pp_why_hash_engine[] = "HMAC link signing is not provided";
const char pp_why_stream_inspection[] = "STREAM_INPUT_BODY and STREAM_OUTPUT_BODY are not provided";
const char pp_why_xml_entity[] =
    "XML request bodies never load external entities (no file, no network)";
const char pp_why_remote_rules[] =
    "rules are never fetched over the network; download them and Include the file";
const char pp_why_state_limit[] = "connection-state limits are not provided; use mod_reqtimeout";
const char pp_why_rule_script[] = "Lua rules are not supported";
const char pp_note_status_engine[] =
    "Parapet never sends ModSecurity's status beacon (no DNS query is made)";
const char pp_note_cache_tfn[] = "deprecated in ModSecurity 2.9; Parapet always computes each "
                                 "transformation chain once per value and request";
const char pp_note_gsb_db[] =
    "Google Safe Browsing lookups are obsolete: the database is not read (@gsbLookup never matches)";

const char *pp_set_char(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot, const void *extra,
                        int argc, char **argv)
{
    if (strlen(argv[0]) != 1)
        return apr_psprintf(ctx->tp, "%s: \"%s\" is not one character", ctx->name, argv[0]);
    *(const char **)slot = apr_pstrdup(ctx->cp, argv[0]);
    return NULL;
}

/* As ModSecurity: under DetectionOnly (set before, in the same context) the action is
 * ProcessPartial whatever is asked; pp_cfg_body_limit_action also says so at run time. */
const char *pp_set_limit_action(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                const void *extra, int argc, char **argv)
{
    const char *err = pp_set_enum(cfg, ctx, slot, pp_enum_limit_action, argc, argv);
    if (!err && cfg->engine == PP_ENGINE_DETECTION_ONLY)
        *(int *)slot = PP_LIMIT_PROCESS_PARTIAL;
    return err;
}

/* Lower-cased as ModSecurity compares them; "null" is a response without a Content-Type. */
const char *pp_set_mime_types2(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                               const void *extra, int argc, char **argv)
{
    if (!cfg->output_mime_types || cfg->mime_types_mode == PP_MIME_REPLACE) {
        cfg->output_mime_types = apr_array_make(ctx->cp, argc, sizeof(const char *));
        cfg->mime_types_mode = PP_MIME_ADD;
    }
    for (int i = 0; i < argc; i++) {
        char *t = apr_pstrdup(ctx->cp, argv[i]);
        for (char *c = t; *c; c++)
            *c = (char)apr_tolower(*c);
        if (strcmp(t, "null") == 0)
            *t = '\0';
        bool seen = false;
        for (int j = 0; j < cfg->output_mime_types->nelts && !seen; j++)
            seen = strcmp(APR_ARRAY_IDX(cfg->output_mime_types, j, const char *), t) == 0;
        if (!seen)
            APR_ARRAY_PUSH(cfg->output_mime_types, const char *) = t;
    }
    return NULL;
}

const char *pp_set_mime_types_clear(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                    const void *extra, int argc, char **argv)
{
    cfg->output_mime_types = apr_array_make(ctx->cp, 4, sizeof(const char *));
    cfg->mime_types_mode = PP_MIME_CLEARED;
    return NULL;
}

/* "default" or an octal mode from 1 to 07777. */
const char *pp_set_mode(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot, const void *extra,
                        int argc, char **argv)
{
    if (strcasecmp(argv[0], "default") == 0) {
        *(int *)slot = PP_UNSET;
        return NULL;
    }
    char *end;
    long mode = strtol(argv[0], &end, 8);
    if (!*argv[0] || *end || mode <= 0 || mode > 07777)
        return apr_psprintf(ctx->tp, "%s: \"%s\" is not an octal mode from 1 to 7777 or default",
                            ctx->name, argv[0]);
    *(int *)slot = (int)mode;
    return NULL;
}

const char *pp_set_component_signature(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                       const void *extra, int argc, char **argv)
{
    if (!cfg->component_signatures)
        cfg->component_signatures = apr_array_make(ctx->cp, 2, sizeof(const char *));
    APR_ARRAY_PUSH(cfg->component_signatures, const char *) = apr_pstrdup(ctx->cp, argv[0]);
    return NULL;
}

static const char *codepage_arg(const pp_setter_ctx_t *ctx, const char *v, int *out)
{
    apr_int64_t n;
    if (!pp_parse_int64(v, &n) || n < 1 || n > INT32_MAX)
        return apr_psprintf(ctx->tp, "%s: \"%s\" is not a code page number", ctx->name, v);
    *out = (int)n;
    return NULL;
}

const char *pp_set_unicode_codepage(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                    const void *extra, int argc, char **argv)
{
    return codepage_arg(ctx, argv[0], (int *)slot);
}

/* FILE is relative to the directory of the configuration file that names it (as ModSecurity
 * resolves it); the map is read now with the code page in force (CODEPAGE, else an earlier
 * SecUnicodeCodePage). Without a code page the map is read but not used (ModSecurity 2.9.7). */
const char *pp_set_unicode_map(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                               const void *extra, int argc, char **argv)
{
    if (argc == 2) {
        const char *err = codepage_arg(ctx, argv[1], &cfg->unicode_codepage);
        if (err)
            return err;
    }
    const char *path = argv[0];
    if (path[0] != '/' && ctx->site && ctx->site->file) {
        const char *slash = strrchr(ctx->site->file, '/');
        if (slash)
            path = apr_pstrcat(ctx->tp, apr_pstrmemdup(ctx->tp, ctx->site->file,
                                                       (apr_size_t)(slash - ctx->site->file)),
                               "/", path, NULL);
    }
    const pp_unicode_map_t *map;
    const char *err = pp_unicode_map_load(ctx->cp, ctx->tp, path,
                                          pp_cfg_int(cfg->unicode_codepage, 0), &map);
    if (err)
        return apr_psprintf(ctx->tp, "%s: %s", ctx->name, err);
    cfg->unicode_map = map;
    return NULL;
}

/* IP[:PORT] or [IPv6]:PORT: only an address (a name would need the resolver it names). */
const char *pp_set_rbl_resolver(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                const void *extra, int argc, char **argv)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (!pp_rbl_resolver_parse(argv[0], &ss, &len))
        return apr_psprintf(ctx->tp, "%s: \"%s\" is not an IP address with an optional :PORT",
                            ctx->name, argv[0]);
    *(const char **)slot = apr_pstrdup(ctx->cp, argv[0]);
    return NULL;
}

/* FILE (relative to the configuration file naming it) is opened now: a database that cannot
 * be read stops start-up with the reason. */
const char *pp_set_geo_db(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                          const void *extra, int argc, char **argv)
{
    const char *path = argv[0];
    if (path[0] != '/' && ctx->site && ctx->site->file) {
        const char *slash = strrchr(ctx->site->file, '/');
        if (slash)
            path = apr_pstrcat(ctx->tp, apr_pstrmemdup(ctx->tp, ctx->site->file,
                                                       (apr_size_t)(slash - ctx->site->file)),
                               "/", path, NULL);
    }
    const char *err = pp_geo_open(ctx->cp, path, &cfg->geo_db);
    if (err)
        return apr_psprintf(ctx->tp, "%s: %s", ctx->name, err);
    return NULL;
}

/* On: a rule whose operator cannot decide (a regex limit) intercepts, Parapet's default; Off:
 * it counts as no match, as ModSecurity's default. The slot is SecFilterRegexLimitFailOpen's. */
const char *pp_set_intercept_on_error(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                      const void *extra, int argc, char **argv)
{
    int v;
    const char *err = pp_set_flag(cfg, ctx, &v, NULL, argc, argv);
    if (!err)
        *(int *)slot = !v;
    return err;
}

/* Off is what Parapet does anyway; On asks for something Parapet does not do: refused, with
 * the reason in extra. */
const char *pp_set_off_only(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                            const void *extra, int argc, char **argv)
{
    int v;
    const char *err = pp_set_flag(cfg, ctx, &v, NULL, argc, argv);
    if (!err && v)
        return apr_psprintf(ctx->tp, "%s On is not supported: %s", ctx->name,
                            (const char *)extra);
    return err;
}

/* On or Off, both accepted; On gives a start-up warning saying what Parapet does instead
 * (extra). Further arguments (SecCacheTransformations' options) are accepted. */
const char *pp_set_flag_note(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                             const void *extra, int argc, char **argv)
{
    int v;
    const char *err = pp_set_flag(cfg, ctx, &v, NULL, argc, argv);
    if (!err && v)
        pp_cfg_warn(ctx, extra);
    return err;
}

/* Accepted with no effect on inspection; a start-up warning says so when extra is given. */
const char *pp_set_accepted(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                            const void *extra, int argc, char **argv)
{
    if (extra)
        pp_cfg_warn(ctx, extra);
    return NULL;
}

const char *pp_set_refused(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                           const void *extra, int argc, char **argv)
{
    return apr_psprintf(ctx->tp, "%s is not supported: %s", ctx->name, (const char *)extra);
}

/* As ModSecurity: a second log needs a primary one, named before it in the same context. The
 * target is checked and opened as SecAuditLog's. */
const char *pp_set_audit_log2(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                              const void *extra, int argc, char **argv)
{
    if (!cfg->audit_log)
        return apr_psprintf(ctx->tp, "%s: a secondary audit log needs SecAuditLog before it",
                            ctx->name);
    return pp_set_log_target(cfg, ctx, slot, extra, argc, argv);
}

/* A directory the server writes into (spill files, the collection store): it must exist and
 * be writable by the user the children run as (checked now, not at the first request). */
static const char *set_work_dir(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                char **argv)
{
    const char *err = pp_set_dir(cfg, ctx, slot, NULL, 1, argv);
    if (err)
        return err;
    const char *path = *(const char **)slot;
    apr_finfo_t fi;
    if (!ctx->site || !ctx->site->run_ids_known || ctx->site->run_uid == 0 ||
        apr_stat(&fi, path, APR_FINFO_USER | APR_FINFO_GROUP | APR_FINFO_PROT, ctx->tp) !=
            APR_SUCCESS)
        return NULL;
    apr_fileperms_t need = APR_FPROT_WWRITE | APR_FPROT_WEXECUTE;
    if (fi.user == ctx->site->run_uid)
        need = APR_FPROT_UWRITE | APR_FPROT_UEXECUTE;
    else if (fi.group == ctx->site->run_gid)
        need = APR_FPROT_GWRITE | APR_FPROT_GEXECUTE;
    if ((fi.protection & need) != need)
        return apr_psprintf(ctx->tp, "%s: %s is not writable by uid %ld (the server's User)",
                            ctx->name, path, (long)ctx->site->run_uid);
    return NULL;
}

const char *pp_set_data_dir(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                            const void *extra, int argc, char **argv)
{
    return set_work_dir(cfg, ctx, slot, argv);
}

/* "none" leaves the default (SecUploadDir, else /tmp), as ModSecurity's "none". */
const char *pp_set_tmp_dir(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                           const void *extra, int argc, char **argv)
{
    if (strcasecmp(argv[0], "none") == 0) {
        *(const char **)slot = NULL;
        return NULL;
    }
    return set_work_dir(cfg, ctx, slot, argv);
}
