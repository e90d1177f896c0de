/*
 * Server identity and confinement: SecServerSignature and SecChrootDir (reference §2.2, §12).
 * Both act once per configuration generation in post_config, ordered after modules that must
 * initialise first (mod_unique_id, mod_ssl) and before modules that fork helpers at start-up
 * (mod_cgid, mod_fcgid), so those helpers are born inside the jail.
 *
 * The signature replaces the Server banner in place: Apache offers no API to set it, so the
 * banner buffer is grown with ap_add_version_component and overwritten, which only works
 * while the banner is not locked (ServerTokens Full). The real banner is kept on the process
 * pool and written to the error log so an administrator can still identify the server.
 *
 * chroot happens in the parent on the real start only, never on the pre-config pass, and a
 * child that finds itself outside the jail exits instead of serving unconfined.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ap_mpm.h"
#include "http_core.h"

#include "mod_parapet.h"

/* Keeps a copy of the banner in the process state, reusing the buffer across restarts so
 * repeated restarts do not grow the process pool. */
static void remember_banner(pp_ap_process_t *proc, apr_pool_t *process_pool, const char *banner)
{
    apr_size_t len = strlen(banner);

    if (proc->real_banner == NULL || proc->real_banner_cap < len + 1) {
        proc->real_banner_cap = len + 1;
        proc->real_banner = apr_palloc(process_pool, proc->real_banner_cap);
    }
    memcpy(proc->real_banner, banner, len + 1);
}

/* announce is false on the pre-config pass, whose messages would only repeat later. */
static void disguise_server(apr_pool_t *pconf, server_rec *s, pp_ap_process_t *proc,
                            const char *signature, bool announce)
{
    const char *before = ap_get_server_banner();
    apr_size_t sig_len = strlen(signature);
    char *banner;

    remember_banner(proc, s->process->pool, before);
    if (announce) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "Parapet: original server banner: %s",
                     proc->real_banner);
    }
    /* Grows the banner by the signature's length, so the buffer can hold it. When the
     * banner is locked (ServerTokens other than Full) the call leaves it untouched. */
    ap_add_version_component(pconf, signature);
    banner = (char *)ap_get_server_banner();
    if (banner == before && announce) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "Parapet: SecServerSignature needs ServerTokens Full to work reliably");
    }
    if (strlen(banner) < sig_len) {
        if (announce) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "Parapet: SecServerSignature: original signature too short, "
                         "set ServerTokens Full");
        }
        return;
    }
    memcpy(banner, signature, sig_len + 1);
}

/* Pre-config pass: fail now, while apache2 still reports to the terminal, if the jail cannot
 * work later. */
static int check_jail(server_rec *s, const char *dir)
{
    struct stat st;

    if (geteuid() != 0) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "Parapet: SecChrootDir %s: chroot needs the server to start as root", dir);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, errno, s,
                     "Parapet: SecChrootDir %s: not an accessible directory", dir);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static void *exit_at_once(void *arg)
{
    pthread_exit(arg);
}

/* glibc unwinds an exiting or cancelled thread with libgcc_s, which it dlopen()s the first
 * time a thread exits and keeps loaded from then on. In a jail holding only data files that
 * first dlopen fails and the process aborts ("libgcc_s.so.1 must be installed for
 * pthread_exit to work"): the event MPM's threads exit when a child is retired. So make one
 * thread exit now, before the chroot, and every process forked later inherits the library. */
static void load_thread_exit_support(server_rec *s)
{
    pthread_t t;
    int rc = pthread_create(&t, NULL, exit_at_once, NULL);

    if (rc == 0) {
        rc = pthread_join(t, NULL);
    }
    if (rc != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rc, s,
                     "Parapet: SecChrootDir: could not load thread exit support before the "
                     "chroot; a threaded MPM may need libgcc_s.so.1 inside the jail");
    }
}

/* Real start: chdir first so no working directory is left outside the jail, then chroot the
 * directory we are in (which also holds for a relative path), then start at its root. */
static int enter_jail(server_rec *s, pp_ap_process_t *proc, const char *dir)
{
    struct stat st;
    int rc = check_jail(s, dir);

    if (rc != OK) {
        return rc;
    }
    load_thread_exit_support(s);
    if (stat(dir, &st) != 0 || chdir(dir) != 0 || chroot(".") != 0 || chdir("/") != 0) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, errno, s,
                     "Parapet: SecChrootDir %s: chroot failed, refusing to start", dir);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    proc->jail_dev = st.st_dev;
    proc->jail_ino = st.st_ino;
    proc->chrooted = true;
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "Parapet: chroot to %s done", dir);
    return OK;
}

static int configure_identity(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                              server_rec *s)
{
    pp_ap_process_t *proc = pp_ap_process_get(s->process);
    const pp_cfg_t *cfg = pp_ap_server_cfg(s);
    const char *signature = pp_cfg_server_signature(cfg);
    const char *jail = pp_cfg_chroot_dir(cfg);

    /* The pass counter lives on the process pool: the first post_config at start-up is the
     * pre-config pass, after which the configuration is read again for the real start. */
    proc->config_passes++;
    if (pp_cfg_response_token(cfg)) {
        ap_add_version_component(pconf, PARAPET_NAME "/" PARAPET_VERSION);
    }
    if (signature != NULL) {
        disguise_server(pconf, s, proc, signature, proc->config_passes > 1);
    }
    if (jail == NULL || proc->chrooted) {
        return OK;
    }
    return proc->config_passes == 1 ? check_jail(s, jail) : enter_jail(s, proc, jail);
}

/* A child serving outside the jail it was promised is worse than no child (reference §12). */
static void check_child_jail(apr_pool_t *pchild, server_rec *s)
{
    pp_ap_process_t *proc = pp_ap_process_get(s->process);
    const char *jail = pp_cfg_chroot_dir(pp_ap_server_cfg(s));
    struct stat st;

    if (jail == NULL) {
        return;
    }
    if (proc->chrooted && stat("/", &st) == 0 && st.st_dev == proc->jail_dev
        && st.st_ino == proc->jail_ino) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                 "Parapet: SecChrootDir %s: this process is not inside the jail; exiting", jail);
    /* CHILDFATAL makes the parent stop instead of forking more unconfined children. */
    exit(APEXIT_CHILDFATAL);
}

void pp_ap_register_identity_hooks(apr_pool_t *p)
{
    static const char *const before_us[] = { "mod_unique_id.c", "mod_ssl.c", NULL };
    static const char *const after_us[] = { "mod_fcgid.c", "mod_cgid.c", NULL };

    ap_hook_post_config(configure_identity, before_us, after_us, APR_HOOK_REALLY_LAST);
    ap_hook_child_init(check_child_jail, NULL, NULL, APR_HOOK_REALLY_FIRST);
}
