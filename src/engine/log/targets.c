/*
 * Log targets (reference §9, §11): SecAuditLog and SecGuardianLog are opened once per
 * configuration generation, from pp_cfg_finish, in the configuration pool, so a restart closes
 * them and a failure stops start-up with a message naming the directive and the path.
 *
 * Files are opened O_WRONLY|O_APPEND|O_CREAT, 0640, unbuffered, and every record goes out in a
 * single write(). On Linux local filesystems (ext4, xfs, btrfs, tmpfs) a write() to a regular
 * file holds the inode lock for its whole length and O_APPEND places it at end-of-file under
 * that same lock, so records written by any number of threads and processes land whole, one
 * after another, whatever their size: no mutex is needed. That does not hold on NFS (O_APPEND
 * is emulated per client) or when a write comes back short (disk full): a short write is
 * reported, never completed by a second write that could land after someone else's record.
 *
 * Pipes ("|/path/program args") are different: only writes of at most PIPE_BUF bytes are atomic,
 * and every Apache child inherits the same pipe, so records are serialised with an APR global
 * mutex created here, before the children fork. It uses fcntl locking on an unlinked temp file:
 * unlike a process-shared pthread mutex or a SysV semaphore it needs no per-child initialisation,
 * is not destroyed when one child exits and runs its pool clean-ups, survives the switch to
 * the server's user and a chroot (the descriptor is already open), and the kernel releases it
 * if a holder dies. APR adds a thread mutex on top for threaded MPMs.
 *
 * Not here: what is written (audit*.c, guardian.c). The debug log is opened by its setter.
 */
#include "log/log.h"

#include <errno.h>
#include <unistd.h>

#include <apr_hash.h>
#include <apr_strings.h>

#define REGISTRY_KEY "parapet-log-targets"

/* Closes our end so the program sees EOF, and gives it a moment to drain and exit before APR's
 * subprocess clean-up (which runs after pool clean-ups) sends SIGTERM. In a forked child the
 * program is not ours to wait for: apr_proc_wait fails at once there, and APR does not kill it. */
static apr_status_t pipe_cleanup(void *data)
{
    pp_log_target_t *t = data;
    apr_file_close(t->file);
    apr_time_t until = apr_time_now() + PP_LOG_PIPE_DRAIN_US;
    int code;
    apr_exit_why_e why;
    while (apr_proc_wait(t->proc, &code, &why, APR_NOWAIT) == APR_CHILD_NOTDONE &&
           apr_time_now() < until)
        apr_sleep(apr_time_from_msec(10));
    return APR_SUCCESS;
}

static const char *error_text(apr_pool_t *tp, apr_status_t rv)
{
    char buf[160];
    return apr_pstrdup(tp, apr_strerror(rv, buf, sizeof buf));
}

static const char *open_file(pp_log_target_t *t, const char *directive, apr_pool_t *cp,
                             apr_pool_t *tp)
{
    if (t->spec[0] != '/')
        return apr_psprintf(tp, "%s: \"%s\" is not an absolute path", directive, t->spec);
    apr_status_t rv = apr_file_open(&t->file, t->spec,
                                    APR_FOPEN_WRITE | APR_FOPEN_APPEND | APR_FOPEN_CREATE |
                                        APR_FOPEN_BINARY,
                                    APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD, cp);
    if (rv != APR_SUCCESS)
        return apr_psprintf(tp, "%s: cannot open \"%s\": %s", directive, t->spec,
                            error_text(tp, rv));
    return NULL;
}

static const char *spawn(pp_log_target_t *t, const char *directive, apr_pool_t *cp,
                         apr_pool_t *tp)
{
    char **argv = NULL;
    apr_tokenize_to_argv(t->spec + 1, &argv, cp);
    if (!argv || !argv[0] || argv[0][0] != '/')
        return apr_psprintf(tp, "%s: \"%s\": the program must be an absolute path (no shell "
                            "is used)", directive, t->spec);
    if (access(argv[0], X_OK) != 0)
        return apr_psprintf(tp, "%s: cannot run \"%s\": %s", directive, argv[0],
                            error_text(tp, APR_FROM_OS_ERROR(errno)));
    apr_procattr_t *attr;
    apr_status_t rv = apr_procattr_create(&attr, cp);
    if (rv == APR_SUCCESS)
        rv = apr_procattr_io_set(attr, APR_FULL_BLOCK, APR_NO_PIPE, APR_NO_PIPE);
    if (rv == APR_SUCCESS)
        rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM_ENV);
    if (rv == APR_SUCCESS)
        rv = apr_procattr_error_check_set(attr, 1);
    t->proc = apr_pcalloc(cp, sizeof *t->proc);
    if (rv == APR_SUCCESS)
        rv = apr_proc_create(t->proc, argv[0], (const char *const *)argv, NULL, attr, cp);
    if (rv != APR_SUCCESS)
        return apr_psprintf(tp, "%s: cannot start \"%s\": %s", directive, argv[0],
                            error_text(tp, rv));
    apr_pool_note_subprocess(cp, t->proc, APR_KILL_AFTER_TIMEOUT);
    t->file = t->proc->in;
    /* Programs spawned later (approval scripts) must not hold the pipe open. */
    apr_file_inherit_unset(t->file);
    apr_pool_cleanup_register(cp, t, pipe_cleanup, apr_pool_cleanup_null);
    rv = apr_global_mutex_create(&t->lock, NULL, APR_LOCK_FCNTL, cp);
    if (rv != APR_SUCCESS)
        return apr_psprintf(tp, "%s: cannot create the lock for \"%s\": %s", directive, t->spec,
                            error_text(tp, rv));
    return NULL;
}

/* One target per configuration pool and text: virtual hosts inheriting the main server's log
 * (their configurations are finished separately) share its descriptor and its program. */
static const char *target_get(apr_pool_t *cp, apr_pool_t *tp, const char *directive,
                              const char *spec, pp_log_target_t **out)
{
    apr_hash_t *reg = NULL;
    apr_pool_userdata_get((void **)&reg, REGISTRY_KEY, cp);
    if (!reg) {
        reg = apr_hash_make(cp);
        apr_pool_userdata_set(reg, REGISTRY_KEY, apr_pool_cleanup_null, cp);
    }
    *out = apr_hash_get(reg, spec, APR_HASH_KEY_STRING);
    if (*out)
        return NULL;
    pp_log_target_t *t = apr_pcalloc(cp, sizeof *t);
    t->spec = apr_pstrdup(cp, spec);
    t->piped = spec[0] == '|';
    const char *err = t->piped ? spawn(t, directive, cp, tp) : open_file(t, directive, cp, tp);
    if (err)
        return err;
    apr_hash_set(reg, t->spec, APR_HASH_KEY_STRING, t);
    *out = t;
    return NULL;
}

static bool same_target(const pp_log_target_t *t, const char *spec)
{
    return t ? spec && strcmp(t->spec, spec) == 0 : spec == NULL;
}

const char *pp_log_targets_open(pp_cfg_t *cfg, apr_pool_t *cp, apr_pool_t *tp)
{
    /* Already done, or inherited by a merge and still what the directives say. A child merged
     * from a finished parent but naming its own log gets its own targets. */
    const pp_logs_t *have = cfg->logs;
    if (have && same_target(have->audit, cfg->audit_log) &&
        same_target(have->audit2, cfg->audit_log2) &&
        same_target(have->guardian, cfg->guardian_log))
        return NULL;
    if (cfg->audit_type == PP_AUDIT_CONCURRENT && !cfg->audit_storage_dir)
        return "SecAuditLogType Concurrent needs SecAuditLogStorageDir";
    if (!cfg->audit_log && !cfg->guardian_log)
        return NULL;
    pp_logs_t *logs = apr_pcalloc(cp, sizeof *logs);
    const char *err = NULL;
    if (cfg->audit_log)
        err = target_get(cp, tp, "SecAuditLog", cfg->audit_log, &logs->audit);
    if (!err && cfg->audit_log && cfg->audit_log2)
        err = target_get(cp, tp, "SecAuditLog2", cfg->audit_log2, &logs->audit2);
    if (!err && cfg->guardian_log)
        err = target_get(cp, tp, "SecGuardianLog", cfg->guardian_log, &logs->guardian);
    if (err)
        return err;
    cfg->logs = logs;
    return NULL;
}

static apr_status_t write_pipe(pp_log_target_t *t, const char *data, apr_size_t len)
{
    apr_status_t rv = apr_global_mutex_lock(t->lock);
    if (rv != APR_SUCCESS)
        return rv;
    apr_size_t n;
    rv = apr_file_write_full(t->file, data, len, &n);
    apr_global_mutex_unlock(t->lock);
    return rv;
}

apr_status_t pp_log_target_write(pp_log_target_t *t, const char *data, apr_size_t len)
{
    if (t->piped)
        return write_pipe(t, data, len);
    /* One write() and no retry: see the file comment. */
    apr_size_t n = len;
    apr_status_t rv = apr_file_write(t->file, data, &n);
    if (rv == APR_SUCCESS && n != len)
        rv = APR_INCOMPLETE;
    return rv;
}
