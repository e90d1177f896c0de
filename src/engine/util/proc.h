/*
 * util/proc.h: run an external program with an argv list (never a shell), a timeout and bounded
 * output capture. Used by the upload approval script (upload/approve.c, reference §6.6) and later
 * by the exec action. The child is always reaped: by pp_proc_run itself, or, if it survives
 * SIGKILL, by a cleanup on the caller's pool.
 */
#ifndef PP_UTIL_PROC_H
#define PP_UTIL_PROC_H

#include <stdbool.h>

#include <apr_pools.h>
#include <apr_time.h>

#include "parapet.h"

/* After the timeout the child gets SIGTERM; this long later SIGKILL; this long after that we stop
 * waiting and leave the reaping to the pool cleanup. */
#define PP_PROC_KILL_GRACE_US (apr_time_from_msec(1000))
/* stderr is captured separately, for diagnostics only, up to this many bytes. */
#define PP_PROC_STDERR_MAX_BYTES 1024

typedef struct pp_proc_result_t {
    bool exited;            /* ended through exit(): exit_code is valid */
    int exit_code;
    bool signalled;         /* ended by a signal (ours after a timeout, or its own): signal valid */
    int signal;
    bool core_dumped;
    bool timed_out;         /* the timeout passed and we sent SIGTERM (then SIGKILL if needed) */
    bool reaped;            /* false only when the child outlived SIGKILL; the pool cleanup reaps */
    bool truncated;         /* stdout was longer than max_output; the rest was read and dropped */
    pp_str_t output;        /* stdout, at most max_output bytes; NUL-terminated; in p */
    pp_str_t errout;        /* stderr, at most PP_PROC_STDERR_MAX_BYTES; NUL-terminated; in p */
    apr_interval_time_t elapsed; /* from spawn until the child was reaped (or given up on) */
} pp_proc_result_t;

/*
 * Runs argv[0] (an absolute path; PATH is not searched) with argv as its argument vector and the
 * process environment inherited. No shell is involved, so metacharacters in arguments are passed
 * literally. stdin is /dev/null; stdout is captured up to max_output bytes (the rest is drained and
 * discarded so the child never blocks on a full pipe); stderr is captured separately. When timeout
 * (> 0) passes, the child's process group gets SIGTERM, then SIGKILL after PP_PROC_KILL_GRACE_US.
 * When the child exits by itself, whatever is left in its process group (background children,
 * grandchildren) gets SIGKILL before the child is reaped; only processes that left the group
 * (setsid, setpgid) survive the run. A cleanup on p reaps the child if this function could not
 * (it never leaves a zombie).
 *
 * Returns APR_SUCCESS when the child ran; how it ended is in *res (check exited/exit_code,
 * signalled, timed_out). Returns an error (res zeroed, outputs empty) when it could not be started:
 * APR_EINVAL for a NULL argv/argv[0] or timeout <= 0, APR_ENOENT / APR_EACCES for a missing or
 * non-executable program, or the fork/pipe error.
 */
apr_status_t pp_proc_run(apr_pool_t *p, const char *const *argv, apr_interval_time_t timeout,
                         apr_size_t max_output, pp_proc_result_t *res);

/* As pp_proc_run, but the child's environment is exactly envp (NULL-terminated "NAME=value"
 * strings; an empty list gives an empty environment). envp == NULL inherits the process
 * environment, which is what pp_proc_run does. */
apr_status_t pp_proc_run_env(apr_pool_t *p, const char *const *argv, const char *const *envp,
                             apr_interval_time_t timeout, apr_size_t max_output,
                             pp_proc_result_t *res);

/* What a started program did, given to its done callback (see pp_proc_start). */
typedef void (*pp_proc_done_fn)(void *ctx, const pp_proc_result_t *res);

/* Starts argv[0] like pp_proc_run_env (argv only, no shell, its own process group, stdout
 * captured up to max_output) and returns at once, without waiting: for work whose result
 * nothing waits for (the exec action). When p is destroyed, a pre-cleanup (so p and its
 * contents are still intact) supervises the child for the rest of its timeout (SIGTERM, then
 * SIGKILL after PP_PROC_KILL_GRACE_US), reaps it, and calls done(ctx, res) if done is not
 * NULL; res and its strings are valid only during the call. Returns APR_EINVAL for a NULL
 * argv/argv[0] or timeout <= 0, APR_ENOENT / APR_EACCES for a missing or non-executable
 * program, or the spawn error; then done is never called. */
apr_status_t pp_proc_start(apr_pool_t *p, const char *const *argv, const char *const *envp,
                           apr_interval_time_t timeout, apr_size_t max_output,
                           pp_proc_done_fn done, void *ctx);

#endif
