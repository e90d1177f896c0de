/*
 * Setters of the persistent-collection store directives (SecCollectionStore and its password
 * file; the prefix, timeout and fail-closed flag use the generic setters) and the translation of
 * a merged configuration into the store's settings (store/store.h).
 */
#include "config/config.h"
#include "store/store.h"

#include <apr_file_info.h>
#include <apr_strings.h>

const char *pp_set_collection_store(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                    const void *extra, int argc, char **argv)
{
    pp_store_conf_t c = { 0 };
    const char *err = pp_store_parse_uri(ctx->tp, argv[0], &c);
    if (err)
        return err;
    *(const char **)slot = apr_pstrdup(ctx->cp, argv[0]);
    return NULL;
}

const char *pp_set_collection_password_file(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                            const void *extra, int argc, char **argv)
{
    const char *path = apr_pstrdup(ctx->cp, pp_cfg_path(ctx->cp, ctx->site, argv[0]));
    apr_finfo_t fi;
    if (apr_stat(&fi, path, APR_FINFO_TYPE, ctx->tp) != APR_SUCCESS || fi.filetype != APR_REG)
        return apr_psprintf(ctx->tp, "%s: \"%s\" is not a readable file", ctx->name, path);
    *(const char **)slot = path;
    return NULL;
}

void pp_cfg_store_conf(const pp_cfg_t *cfg, pp_store_conf_t *out)
{
    *out = (pp_store_conf_t){ .kind = PP_STORE_EMBEDDED };
    if (cfg->collection_store)
        pp_store_parse_uri(cfg->cp, cfg->collection_store, out); /* checked at start-up */
    out->password_file = cfg->collection_password_file;
    out->prefix = cfg->collection_key_prefix ? cfg->collection_key_prefix : "";
    out->timeout_ms = pp_cfg_int(cfg->collection_timeout_ms, PP_DEFAULT_COLLECTION_TIMEOUT_MS);
    out->on_outage = pp_cfg_int(cfg->collection_fail_closed, 0) == 1 ? PP_STORE_OUTAGE_CLOSED
                                                                   : PP_STORE_OUTAGE_OPEN;
}
