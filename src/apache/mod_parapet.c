/*
 * The module itself: Apache's command table, the configuration callbacks and the start-up
 * hook that initialises the engine. The command table is generated from
 * ../engine/config/directives.def, and every entry calls one trampoline that hands the raw
 * arguments to pp_cfg_apply, so Apache and `parapet check` share one parser and one set of
 * messages (reference §2). Configuration objects are the engine's pp_cfg_t; this file only
 * decides which one a directive lands in (server or per-directory) and which pool owns it.
 *
 * The module's name is "mod_security.c" so that existing 1.9 configurations wrapped in
 * <IfModule mod_security.c> are read (reference §16). The symbol stays parapet_module.
 */
#include <stdlib.h>
#include <string.h>

#include "ap_mmn.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"

#include "mod_parapet.h"
#include "unixd.h"
#include <unistd.h>

#define PROCESS_STATE_KEY "parapet-process-state"

/* Where Apache allows each engine scope: ANY everywhere 1.9 allowed rules (reference §2,
 * context S V D H, .htaccess under AllowOverride Options); NODIR and SERVER only outside
 * <Directory>-like sections (SERVER is further limited to the main server in the trampoline). */
#define OVERRIDE_ANY (RSRC_CONF | ACCESS_CONF | OR_OPTIONS)
#define OVERRIDE_NODIR RSRC_CONF
#define OVERRIDE_SERVER RSRC_CONF

static const char *pp_ap_directive(cmd_parms *cmd, void *mconfig, const char *args);

static const command_rec parapet_cmds[] = {
#define PP_DIRECTIVE(name, min, max, scope, setter, slot_type, slot, extra, help) \
    AP_INIT_RAW_ARGS(#name, pp_ap_directive, NULL, OVERRIDE_##scope, help),
#include "config/directives.def"
#undef PP_DIRECTIVE
    { NULL }
};

pp_ap_process_t *pp_ap_process_get(process_rec *proc)
{
    void *data = NULL;

    apr_pool_userdata_get(&data, PROCESS_STATE_KEY, proc->pool);
    if (data == NULL) {
        data = apr_pcalloc(proc->pool, sizeof(pp_ap_process_t));
        apr_pool_userdata_set(data, PROCESS_STATE_KEY, apr_pool_cleanup_null, proc->pool);
    }
    return data;
}

pp_ap_process_t *pp_ap_process_of(const request_rec *r)
{
    const pp_ap_server_t *sv = ap_get_module_config(r->server->module_config, &parapet_module);

    return sv != NULL && sv->proc != NULL ? sv->proc : pp_ap_process_get(r->server->process);
}

static void *create_server_config(apr_pool_t *p, server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(pp_ap_server_t));
}

/* Every directive lives in per-directory configurations: at server or vhost level that is the
 * server's lookup_defaults, which Apache merges into every <Directory>/<Location> below it and
 * (from the main server) into every vhost. So server-scope settings (logs, signature, chroot)
 * reach the configuration a request runs with, with no second configuration to consult. */
pp_cfg_t *pp_ap_server_cfg(const server_rec *s)
{
    return ap_get_module_config(s->lookup_defaults, &parapet_module);
}

pp_cfg_t *pp_ap_dir_cfg(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &parapet_module);
}

/* A directive that is accepted but will not act as written. Said once per start (not on the
 * pre-config pass, whose reading is repeated) and on every configuration test. */
static void warn_directive(void *ctx, const char *file, int line, const char *msg)
{
    const cmd_parms *cmd = ctx;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG &&
        ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_NORMAL) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server, "Parapet: %s:%d: %s",
                 file ? file : "?", line, msg);
}

/* The single trampoline behind every directive: find the engine's row by the name Apache
 * matched, pick the configuration the scope says, and let the engine parse. Apache prefixes a
 * returned message with the file and line. */
static const char *pp_ap_directive(cmd_parms *cmd, void *mconfig, const char *args)
{
    const pp_directive_t *d = pp_directive_find(cmd->cmd->name);
    pp_cfg_t *cfg = mconfig;
    pp_cfg_site_t site;
    int mode;

    if (d == NULL) {
        return apr_psprintf(cmd->temp_pool, "%s: not known to the Parapet engine",
                            cmd->cmd->name);
    }
    if (pp_directive_scope(d) == PP_SCOPE_SERVER) {
        const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
        if (err != NULL) {
            return err;
        }
    }
    mode = ap_state_query(AP_SQ_RUN_MODE);
    site = (pp_cfg_site_t){
        .file = cmd->directive ? cmd->directive->filename : NULL,
        .line = cmd->directive ? cmd->directive->line_num : 0,
        .server_root = ap_server_root,
        .in_dir = cmd->path != NULL,
        .in_vhost = cmd->server->is_virtual != 0,
        .checking_only = mode == AP_SQ_RM_CONFIG_TEST || mode == AP_SQ_RM_CONFIG_DUMP,
        /* The first pass at start-up: Apache reads the configuration again (into a cleared
         * pconf) before anything serves with it. */
        .discarded = ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG,
        /* Started as root, children serve as User/Group: check directories for them. */
        .run_ids_known = geteuid() == 0 && ap_unixd_config.user_id != 0 &&
                         ap_unixd_config.user_id != (uid_t)-1,
        .run_uid = ap_unixd_config.user_id,
        .run_gid = ap_unixd_config.group_id,
        .warn = warn_directive,
        .warn_ctx = cmd,
        /* mod_proxy is linked once its LoadModule was read, which Debian's layout puts first. */
        .no_proxy = ap_find_linked_module("mod_proxy.c") == NULL,
    };
    return pp_cfg_apply(cfg, d, args, &site, cmd->pool, cmd->temp_pool);
}

/* Configurations made while the configuration is read are permanent: their merges at
 * request time are made once (config/merge_once.c). An .htaccess configuration, made per
 * request, is not. */
static bool reading_configuration(void)
{
    return ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_RUN_MPM;
}

static void *create_dir_config(apr_pool_t *p, char *dir)
{
    pp_cfg_t *cfg = pp_cfg_create(p);
    if (reading_configuration())
        pp_cfg_make_permanent(cfg, p);
    return cfg;
}

/* Merges made while reading the configuration (virtual hosts) come before pp_cfg_finish and
 * stay as they are; merges at request time are made once per pair. */
static void *merge_configs(apr_pool_t *p, void *base, void *add)
{
    if (!reading_configuration())
        return pp_cfg_merge_once(p, base, add);
    pp_cfg_t *m = pp_cfg_merge(p, base, add);
    if (m != base && m != add && pp_cfg_memo_size(base) >= 0 && pp_cfg_memo_size(add) >= 0)
        pp_cfg_make_permanent(m, p);
    return m;
}

/* Finishes one configuration (ids NULL: only validates it, pp_cfg_validate); a failure stops
 * start-up with the engine's message. Its rule ids join ids (for the metrics). */
static bool finish_cfg(server_rec *s, pp_cfg_t *cfg, apr_pool_t *pconf, apr_pool_t *ptemp,
                       apr_hash_t *ids)
{
    const char *err;

    if (cfg == NULL) {
        return true;
    }
    if (ids == NULL) {
        err = pp_cfg_validate(cfg, ptemp);
    } else {
        pp_ap_metrics_note_rules(ids, cfg);
        err = pp_cfg_finish(cfg, pconf, ptemp);
    }
    if (err != NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "Parapet: %s", err);
        return false;
    }
    return true;
}

/* The per-directory configurations of one section list (<Directory>, <Location>, <Files>,
 * <If>): each may hold directives whose resources (logs, upload dir) must be checked now,
 * while a failure can still stop start-up, rather than at the first request. */
static bool finish_sections(server_rec *s, apr_array_header_t *secs, apr_pool_t *pconf,
                            apr_pool_t *ptemp, apr_hash_t *ids)
{
    ap_conf_vector_t **vec;
    int i;

    if (secs == NULL) {
        return true;
    }
    vec = (ap_conf_vector_t **)secs->elts;
    for (i = 0; i < secs->nelts; i++) {
        core_dir_config *core = ap_get_core_module_config(vec[i]);
        if (!finish_cfg(s, ap_get_module_config(vec[i], &parapet_module), pconf, ptemp, ids)) {
            return false;
        }
        if (core != NULL && (!finish_sections(s, core->sec_file, pconf, ptemp, ids)
                             || !finish_sections(s, core->sec_if, pconf, ptemp, ids))) {
            return false;
        }
    }
    return true;
}

static bool finish_server(server_rec *s, apr_pool_t *pconf, apr_pool_t *ptemp, apr_hash_t *ids)
{
    core_server_config *core = ap_get_core_module_config(s->module_config);

    return finish_cfg(s, pp_ap_server_cfg(s), pconf, ptemp, ids)
           && finish_sections(s, core->sec_dir, pconf, ptemp, ids)
           && finish_sections(s, core->sec_url, pconf, ptemp, ids);
}

/* After the configuration is read, before post_config: the only hook `apache2 -t` runs that
 * can refuse the configuration, so what pp_cfg_finish would refuse about the directives
 * themselves is refused here too (a configuration test then says what a start would). */
static int check_configs(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    server_rec *vs;

    (void)plog;
    for (vs = s; vs != NULL; vs = vs->next) {
        if (!finish_server(vs, pconf, ptemp, NULL)) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* Runs for every configuration generation (twice at start-up, once per restart). The engine
 * is initialised once per process; configurations are finished per generation because each
 * generation has new ones. */
static int init_engine(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    pp_ap_process_t *proc = pp_ap_process_get(s->process);
    apr_hash_t *ids = apr_hash_make(ptemp);
    server_rec *vs;
    int rc;

    if (!proc->engine_ready) {
        const char *err = pp_engine_init(s->process->pool);
        if (err != NULL) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "Parapet: engine: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        proc->engine_ready = true;
    }
    if (proc->body_memory == NULL) {
        proc->body_memory = pp_body_memory_create(s->process->pool);
    }
    proc->scan_filter = pp_ap_scan_filter_handle();
    for (vs = s; vs != NULL; vs = vs->next) {
        pp_ap_server_t *sv = ap_get_module_config(vs->module_config, &parapet_module);
        if (sv != NULL) {
            sv->proc = proc;
        }
        if (!finish_server(vs, pconf, ptemp, ids)) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if ((rc = pp_ap_metrics_init(s, ids, ptemp)) != OK) {
        return rc;
    }
    /* Once per real start or restart, not for the pre-config pass. */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "Parapet: %s configured",
                     pp_engine_version(ptemp));
    }
    return OK;
}

/* ModSecurity 2 (Debian's security2) and Parapet read the same directives and would both
 * inspect every request; whichever module Apache asks first gets each SecRule. Loaded
 * together (a2enmod security2 parapet), start-up stops and names both. */
static int refuse_modsecurity2(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)pconf; (void)ptemp;
    if (ap_find_linked_module("mod_security2.c") != NULL) {
        ap_log_perror(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, plog,
                      "Parapet: mod_parapet and mod_security2 (ModSecurity 2) are both loaded; "
                      "they read the same SecRule configuration, so load one: "
                      "a2dismod security2 or a2dismod parapet");
        return !OK;
    }
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(refuse_modsecurity2, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_check_config(check_configs, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(init_engine, NULL, NULL, APR_HOOK_MIDDLE);
    pp_ap_register_request_hooks(p);
    pp_ap_register_input_filter();
    pp_ap_register_output_filter();
    pp_ap_register_identity_hooks(p);
    pp_ap_register_metrics_hooks(p);
    pp_ap_register_store_hooks(p);
}

/* STANDARD20_MODULE_STUFF written out: its name field would be __FILE__ ("mod_parapet.c"),
 * and 1.9 configurations test for "mod_security.c". */
__attribute__((visibility("default")))
module AP_MODULE_DECLARE_DATA parapet_module = {
    MODULE_MAGIC_NUMBER_MAJOR,
    MODULE_MAGIC_NUMBER_MINOR,
    -1,
    "mod_security.c",
    NULL,
    NULL,
    MODULE_MAGIC_COOKIE,
    NULL,
    create_dir_config,
    merge_configs,
    create_server_config,
    NULL,
    parapet_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE,
};
