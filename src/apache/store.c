/*
 * Persistent-collection stores in Apache. A server (or virtual host) whose configuration names
 * SecCollectionStore redis://... gets a Redis store, made in post_config in the configuration
 * pool (its password file is read there, before any chroot or change of user; a bad one refuses
 * the start naming the server); its connections are made lazily, per child and thread, so the
 * parent holds none when children fork. A server with SecDataDir (or SecCollectionStore
 * embedded, then in DefaultRuntimeDir) gets the embedded store, the LMDB file
 * <SecDataDir>/parapet-collections.lmdb: post_config creates it (as root, handed to the User
 * the children run as; a file that cannot be made refuses the start) and each child opens it in
 * child_init, since an LMDB environment must not cross a fork; servers naming the same file share
 * one environment per child. A child that cannot open the file later (permissions changed, the
 * file replaced) runs its store as unavailable, as a Redis outage: fail open, or 503 with
 * SecCollectionStoreFailClosed On, one log line per outage, reopened with back-off. Each transaction gets its server's store (pp_tx_set_store). A
 * server with neither keeps collections for the transaction only, as ModSecurity does without
 * SecDataDir.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "unixd.h"

#include <apr_thread_proc.h>

#include "config/config.h"
#include "mod_parapet.h"
#include "store/store.h"

#include <unistd.h>

#define PP_EMBEDDED_FILE "parapet-collections.lmdb"

static void store_log(void *baton, int level, const char *msg)
{
    server_rec *s = baton;
    ap_log_error(APLOG_MARK, level <= 3 ? APLOG_ERR : APLOG_NOTICE, 0, s, "Parapet: %s", msg);
}

/* The embedded store's file for cfg, or NULL when the server keeps no persistent store. */
static const char *embedded_path(apr_pool_t *p, const pp_cfg_t *cfg, const pp_store_conf_t *conf)
{
    if (conf->kind != PP_STORE_EMBEDDED)
        return NULL;
    if (cfg->data_dir)
        return apr_pstrcat(p, cfg->data_dir, "/" PP_EMBEDDED_FILE, NULL);
    if (cfg->collection_store)
        return ap_runtime_dir_relative(p, PP_EMBEDDED_FILE);
    return NULL;
}

/* Opens and closes the store once in this process; its message when it cannot be opened. */
static const char *open_once(apr_pool_t *ptemp, pp_store_conf_t *conf)
{
    apr_pool_t *p;
    apr_pool_create(&p, ptemp);
    const char *err = NULL;
    pp_store_t *st = pp_store_open(p, conf, &err);
    apr_pool_destroy(p); /* closes it: children open their own */
    return st ? NULL : err;
}

/* The first opening runs in a short-lived child process. An LMDB environment that can write
 * allocates 3 MB of write lists (a 1 MB page list, a 2 MB dirty list); freeing them here would
 * raise glibc's mmap threshold for this process and so for every worker it forks, whose own
 * environment would then take those lists from its heap, cleared and resident (measured: +1 to
 * +3 MB of worker RSS with CRS), instead of as mappings that stay untouched until written. The
 * child only exits; when it cannot be forked, or the opening fails there, it is done here (which
 * also gives the message). */
static const char *check_in_child(apr_pool_t *ptemp, pp_store_conf_t *conf)
{
    apr_proc_t proc;
    apr_status_t rv = apr_proc_fork(&proc, ptemp);
    if (rv == APR_INCHILD) {
        apr_pool_t *p;
        const char *err = NULL;
        _exit(apr_pool_create(&p, ptemp) == APR_SUCCESS && pp_store_open(p, conf, &err) ? 0 : 1);
    }
    if (rv == APR_INPARENT) {
        int code = 1;
        apr_exit_why_e why = APR_PROC_SIGNAL;
        while (apr_proc_wait(&proc, &code, &why, APR_WAIT) == APR_CHILD_NOTDONE)
            ;
        if (why == APR_PROC_EXIT && code == 0)
            return NULL;
    }
    return open_once(ptemp, conf);
}

/* Makes the file and its lock file as the parent (root) and gives them to the children's
 * user, so a bad SecDataDir stops the start here rather than failing every request. */
static const char *prepare_embedded(apr_pool_t *ptemp, pp_store_conf_t *conf)
{
    const char *err = check_in_child(ptemp, conf);
    if (err)
        return err;
    if (geteuid() == 0) {
        const char *lock = apr_pstrcat(ptemp, conf->path, "-lock", NULL);
        if (chown(conf->path, ap_unixd_config.user_id, ap_unixd_config.group_id) ||
            chown(lock, ap_unixd_config.user_id, ap_unixd_config.group_id))
            return apr_psprintf(ptemp, "embedded collection store %s: cannot hand it to the "
                                       "server's User", conf->path);
    }
    return NULL;
}

/* Each server's store, as pp_ap_tx_store hands it to a transaction: found once here (after
 * the stores opened or changed) rather than in proc->stores per request. */
static void link_stores(server_rec *s, const pp_ap_process_t *proc)
{
    for (server_rec *vs = s; vs != NULL; vs = vs->next) {
        pp_ap_server_t *sv = ap_get_module_config(vs->module_config, &parapet_module);
        const pp_cfg_t *cfg = pp_ap_server_cfg(vs);
        if (sv != NULL)
            sv->store = cfg != NULL ? apr_hash_get(proc->stores, &cfg, sizeof(cfg)) : NULL;
    }
}

static int open_stores(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    pp_ap_process_t *proc = pp_ap_process_get(s->process);
    proc->stores = apr_hash_make(pconf);
    proc->embedded = apr_hash_make(pconf);
    apr_hash_t *prepared = apr_hash_make(ptemp);
    for (server_rec *vs = s; vs != NULL; vs = vs->next) {
        const pp_cfg_t *cfg = pp_ap_server_cfg(vs);
        if (!cfg || apr_hash_get(proc->stores, &cfg, sizeof(cfg)))
            continue;
        pp_store_conf_t conf;
        pp_cfg_store_conf(cfg, &conf);
        conf.log = store_log;
        conf.log_baton = vs;
        const char *err = NULL;
        pp_store_t *store = NULL;
        const char *path = embedded_path(pconf, cfg, &conf);
        if (path) {
            conf.path = path;
            if (!apr_hash_get(prepared, path, APR_HASH_KEY_STRING)) {
                err = prepare_embedded(ptemp, &conf);
                apr_hash_set(prepared, path, APR_HASH_KEY_STRING, path);
            }
            if (!err) { /* opened per child (child_init) */
                pp_store_conf_t *keep = apr_pmemdup(pconf, &conf, sizeof(conf));
                const pp_cfg_t **key = apr_pmemdup(pconf, &cfg, sizeof(cfg));
                apr_hash_set(proc->embedded, key, sizeof(*key), keep);
                continue;
            }
        } else if (conf.kind == PP_STORE_REDIS) {
            store = pp_store_open(pconf, &conf, &err);
        } else {
            continue;
        }
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, vs, "Parapet: %s (server %s:%u)", err,
                         vs->server_hostname ? vs->server_hostname : "?", vs->port);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        const pp_cfg_t **key = apr_pmemdup(pconf, &cfg, sizeof(cfg));
        apr_hash_set(proc->stores, key, sizeof(*key), store);
    }
    link_stores(s, proc);
    return OK;
}

/* Each child opens the embedded stores itself (one environment per file). A file the child
 * cannot open (its permissions changed since start-up, replaced by something that is not an
 * LMDB file) gives a store that is unavailable and retried (open_retry): requests fail open, or
 * get 503 under SecCollectionStoreFailClosed On, as in a Redis outage, and persistence resumes
 * when the file can be opened again. */
static void open_embedded(apr_pool_t *pchild, server_rec *s)
{
    pp_ap_process_t *proc = pp_ap_process_get(s->process);
    if (!proc->embedded)
        return;
    /* Servers sharing a file share its store: its outage line says what their requests do. */
    apr_hash_t *outage = apr_hash_make(pchild);
    for (apr_hash_index_t *hi = apr_hash_first(pchild, proc->embedded); hi; hi = apr_hash_next(hi)) {
        void *val;
        apr_hash_this(hi, NULL, NULL, &val);
        const pp_store_conf_t *conf = val;
        int *k = apr_hash_get(outage, conf->path, APR_HASH_KEY_STRING);
        if (!k) {
            k = apr_pmemdup(pchild, &conf->on_outage, sizeof(*k));
            apr_hash_set(outage, conf->path, APR_HASH_KEY_STRING, k);
        } else if (*k != conf->on_outage) {
            *k = PP_STORE_OUTAGE_MIXED;
        }
    }
    apr_hash_t *by_path = apr_hash_make(pchild);
    for (apr_hash_index_t *hi = apr_hash_first(pchild, proc->embedded); hi; hi = apr_hash_next(hi)) {
        const void *key;
        void *val;
        apr_hash_this(hi, &key, NULL, &val);
        pp_store_conf_t conf = *(const pp_store_conf_t *)val;
        pp_store_t *store = apr_hash_get(by_path, conf.path, APR_HASH_KEY_STRING);
        if (!store) {
            const char *err = NULL;
            conf.open_retry = true;
            conf.on_outage = *(int *)apr_hash_get(outage, conf.path, APR_HASH_KEY_STRING);
            store = pp_store_open(pchild, &conf, &err);
            if (!store) { /* not the file (that is retried): a resource the child lacks */
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "Parapet: %s: persistent collections "
                             "of this server last one request in this process", err);
                continue;
            }
            apr_hash_set(by_path, conf.path, APR_HASH_KEY_STRING, store);
        }
        apr_hash_set(proc->stores, key, sizeof(const pp_cfg_t *), store);
    }
    link_stores(s, proc);
}

void pp_ap_tx_store(request_rec *r, pp_tx_t *tx)
{
    const pp_ap_server_t *sv = ap_get_module_config(r->server->module_config, &parapet_module);
    if (sv != NULL && sv->store != NULL)
        pp_tx_set_store(tx, sv->store);
}

void pp_ap_register_store_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(open_stores, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(open_embedded, NULL, NULL, APR_HOOK_MIDDLE);
}
