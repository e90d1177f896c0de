/*
 * Persistent-collection stores in Apache: one pp_store_t per server/vhost whose configuration
 * names one (SecCollectionStore redis://...), made in post_config in the configuration pool
 * (its password file is read there, before any chroot or change of user; a bad one refuses the
 * start naming the server). Redis connections are made lazily, per child process and thread,
 * so the store made in the parent holds none when the children fork. Each transaction gets its
 * server's store (pp_tx_set_store). The embedded store (SecCollectionStore embedded, the
 * default) lives in SecDataDir/parapet-collections.lmdb: post_config notes which servers use it,
 * and each child opens it in child_init, once per file (LMDB environments must not be opened
 * before a fork and used after it, nor opened twice in one process). A server without
 * SecDataDir or SecCollectionStore keeps collections for the transaction only, as ModSecurity
 * does without SecDataDir.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "config/config.h"
#include "mod_parapet.h"
#include "store/store.h"

#define EMBEDDED_FILE "parapet-collections.lmdb"

static void store_log(void *baton, int level, const char *msg)
{
    server_rec *s = baton;
    ap_log_error(APLOG_MARK, level <= 3 ? APLOG_ERR : APLOG_NOTICE, 0, s, "Parapet: %s", msg);
}

static int open_stores(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    pp_ap_process_t *proc = pp_ap_process_get(s->process);
    proc->stores = apr_hash_make(pconf);
    proc->embedded = apr_hash_make(pconf);
    for (server_rec *vs = s; vs != NULL; vs = vs->next) {
        const pp_cfg_t *cfg = pp_ap_server_cfg(vs);
        if (!cfg || apr_hash_get(proc->stores, &cfg, sizeof(cfg)))
            continue;
        pp_store_conf_t conf;
        pp_cfg_store_conf(cfg, &conf);
        if (conf.kind == PP_STORE_EMBEDDED && cfg->data_dir) {
            const pp_cfg_t **key = apr_palloc(pconf, sizeof(*key));
            *key = cfg;
            apr_hash_set(proc->embedded, key, sizeof(*key),
                         apr_pstrcat(pconf, cfg->data_dir, "/" EMBEDDED_FILE, NULL));
            continue;
        }
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

/* Opens each embedded store file once in this child and hands it to the servers that use it.
 * A failure is logged (with the file) and those servers go on without persistent collections,
 * as SecCollectionStoreFailClosed decides for an unavailable store. */
static void open_embedded(apr_pool_t *pchild, server_rec *s)
{
    pp_ap_process_t *proc = pp_ap_process_get(s->process);
    apr_hash_t *by_path = apr_hash_make(pchild);
    if (!proc->embedded)
        return;
    for (apr_hash_index_t *hi = apr_hash_first(pchild, proc->embedded); hi; hi = apr_hash_next(hi)) {
        const void *key;
        void *val;
        apr_hash_this(hi, &key, NULL, &val);
        const char *path = val;
        pp_store_t *store = apr_hash_get(by_path, path, APR_HASH_KEY_STRING);
        if (!store) {
            pp_store_conf_t conf;
            pp_cfg_store_conf(*(const pp_cfg_t *const *)key, &conf);
            conf.path = path;
            conf.log = store_log;
            conf.log_baton = s;
            const char *err = NULL;
            store = pp_store_open(pchild, &conf, &err);
            if (!store) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "Parapet: SecDataDir: %s", err);
                continue;
            }
            apr_hash_set(by_path, path, APR_HASH_KEY_STRING, store);
        }
        apr_hash_set(proc->stores, key, sizeof(const pp_cfg_t *), store);
    }
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
    ap_hook_child_init(open_embedded, NULL, NULL, APR_HOOK_MIDDLE);
}
