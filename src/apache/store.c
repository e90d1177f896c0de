/*
 * Persistent-collection stores in Apache: one pp_store_t per server/vhost whose configuration
 * names one (SecCollectionStore redis://...), made in post_config in the configuration pool
 * (its password file is read there, before any chroot or change of user; a bad one refuses the
 * start naming the server). Redis connections are made lazily, per child process and thread,
 * so the store made in the parent holds none when the children fork. Each transaction gets its
 * server's store (pp_tx_set_store). The embedded store opens here once SecDataDir exists
 * (issue 13, h-core); until then a server without SecCollectionStore keeps collections for the
 * transaction only, as ModSecurity does without SecDataDir.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "config/config.h"
#include "mod_parapet.h"
#include "store/store.h"

static void store_log(void *baton, int level, const char *msg)
{
    server_rec *s = baton;
    ap_log_error(APLOG_MARK, level <= 3 ? APLOG_ERR : APLOG_NOTICE, 0, s, "Parapet: %s", msg);
}

static int open_stores(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    pp_ap_process_t *proc = pp_ap_process_get(s->process);
    proc->stores = apr_hash_make(pconf);
    for (server_rec *vs = s; vs != NULL; vs = vs->next) {
        const pp_cfg_t *cfg = pp_ap_server_cfg(vs);
        if (!cfg || !cfg->collection_store || apr_hash_get(proc->stores, &cfg, sizeof(cfg)))
            continue;
        pp_store_conf_t conf;
        pp_cfg_store_conf(cfg, &conf);
        if (conf.kind != PP_STORE_REDIS)
            continue;
        conf.log = store_log;
        conf.log_baton = vs;
        const char *err = NULL;
        pp_store_t *store = pp_store_open(pconf, &conf, &err);
        if (!store) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, vs, "Parapet: %s (server %s:%u)", err,
                         vs->server_hostname ? vs->server_hostname : "?", vs->port);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        const pp_cfg_t **key = apr_palloc(pconf, sizeof(*key));
        *key = cfg;
        apr_hash_set(proc->stores, key, sizeof(*key), store);
    }
    return OK;
}

void pp_ap_tx_store(request_rec *r, pp_tx_t *tx)
{
    pp_ap_process_t *proc = pp_ap_process_get(r->server->process);
    const pp_cfg_t *cfg = pp_ap_server_cfg(r->server);
    if (proc->stores && cfg)
        pp_tx_set_store(tx, apr_hash_get(proc->stores, &cfg, sizeof(cfg)));
}

void pp_ap_register_store_hooks(apr_pool_t *p)
{
    ap_hook_post_config(open_stores, NULL, NULL, APR_HOOK_MIDDLE);
}
