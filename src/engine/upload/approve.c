/*
 * upload/approve.c: SecUploadApproveScript (reference §6.6). After the body is parsed, each stored
 * upload is handed to the script as its only argument; the first byte the script prints decides:
 * '1' accepts, anything else rejects the whole request. The rest of the first line is the
 * script's reason, kept for the debug and audit logs.
 *
 * Parapet fails closed where 2.x's @inspectFile failed open (§6.6): a script that cannot be
 * started, is silent, exits non-zero, dies from a signal or overruns its timeout rejects the file,
 * and `detail` says which of these happened. The script's environment is PATH alone (1.9
 * documents none). The process mechanics (no shell, /dev/null stdin, bounded output, TERM/KILL
 * of the process group, reaping) are util/proc.c's. Not here: which status the request gets
 * (the transaction applies the default action) and logging (the caller has the tx).
 */
#include "upload/upload.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "util/proc.h"

/* Stderr text quoted in a detail message. */
#define STDERR_QUOTE_MAX_BYTES 200

/* Also used by clamd.c for its replies; see the contract in upload.h. */
const char *pp_upload_clean_line(apr_pool_t *p, const char *data, apr_size_t len,
                                 apr_size_t max)
{
    const char *nl = memchr(data, '\n', len);
    apr_size_t start = 0, end = nl ? (apr_size_t)(nl - data) : len;

    while (start < end && apr_isspace(data[start]))
        start++;
    while (end > start && apr_isspace(data[end - 1]))
        end--;
    if (end - start > max) {
        end = start + max;
        /* Do not cut a UTF-8 sequence in half: back up to the start of the character. */
        while (end > start && ((unsigned char)data[end] & 0xC0) == 0x80)
            end--;
    }
    apr_size_t n = end - start;
    char *line = apr_pstrmemdup(p, data + start, n);
    for (apr_size_t i = 0; i < n; i++) {
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?'; /* NUL, ESC, CR...: nothing that can forge or cut a log line */
    }
    return line;
}

static const char *format_duration(apr_pool_t *p, apr_interval_time_t t)
{
    if (t % APR_USEC_PER_SEC == 0)
        return apr_psprintf(p, "%" APR_TIME_T_FMT " s", apr_time_sec(t));
    return apr_psprintf(p, "%" APR_TIME_T_FMT " ms", apr_time_as_msec(t));
}

/* Why the run rejects regardless of what the script printed; NULL when its verdict stands. */
static const char *failure_detail(apr_pool_t *p, const pp_proc_result_t *pr,
                                  apr_interval_time_t timeout)
{
    const char *what = NULL;

    if (pr->timed_out)
        what = apr_pstrcat(p, "timed out after ", format_duration(p, timeout), NULL);
    else if (pr->signalled)
        what = apr_psprintf(p, "killed by signal %d", pr->signal);
    else if (!pr->exited)
        what = "ended in an unknown way";
    else if (pr->exit_code != 0)
        what = apr_psprintf(p, "exited with %d", pr->exit_code);
    else if (pr->output.len == 0)
        what = "no output";
    if (what == NULL)
        return NULL;
    const char *err =
        pp_upload_clean_line(p, pr->errout.data, pr->errout.len, STDERR_QUOTE_MAX_BYTES);
    return *err ? apr_pstrcat(p, what, " (stderr: ", err, ")", NULL) : what;
}

apr_status_t pp_approve_run(apr_pool_t *p, const char *script, const char *file_path,
                            apr_interval_time_t timeout, pp_approve_result_t *res)
{
    char err[256];
    pp_proc_result_t pr;

    memset(res, 0, sizeof(*res));
    res->reason = "";
    if (script == NULL || file_path == NULL) {
        res->detail = "no approval script or no file";
        return APR_EINVAL;
    }
    const char *argv[] = { script, file_path, NULL };
    /* Not Apache's environ: it holds whatever the init system, apachectl and envvars put there
     * (proxy settings, credentials, LD_ variables), none of it meant for a helper. */
    const char *envp[] = { "PATH=" PP_APPROVE_PATH, NULL };
    apr_status_t rv =
        pp_proc_run_env(p, argv, envp, timeout, PP_APPROVE_MAX_OUTPUT_BYTES, &pr);
    res->elapsed = pr.elapsed;
    if (rv != APR_SUCCESS) {
        res->detail = apr_psprintf(p, "could not run %s: %s", script,
                                   apr_strerror(rv, err, sizeof(err)));
        return rv;
    }
    if (pr.output.len > 1)
        res->reason = pp_upload_clean_line(p, pr.output.data + 1, pr.output.len - 1,
                                 PP_APPROVE_REASON_MAX_BYTES);
    res->timed_out = pr.timed_out;
    res->detail = failure_detail(p, &pr, timeout);
    res->accepted = res->detail == NULL && pr.output.data[0] == '1';
    return APR_SUCCESS;
}

const char *pp_approve_script_check(apr_pool_t *p, const char *path)
{
    apr_finfo_t fi;
    char err[256];

    if (path == NULL || *path == '\0')
        return "SecUploadApproveScript: no path given";
    if (path[0] != '/')
        return apr_psprintf(p, "SecUploadApproveScript: %s is not an absolute path", path);
    apr_status_t rv = apr_stat(&fi, path, APR_FINFO_TYPE, p);
    if (APR_STATUS_IS_ENOENT(rv) || APR_STATUS_IS_ENOTDIR(rv))
        return apr_psprintf(p, "SecUploadApproveScript: %s does not exist", path);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE)
        return apr_psprintf(p, "SecUploadApproveScript: cannot examine %s: %s", path,
                            apr_strerror(rv, err, sizeof(err)));
    if (fi.filetype != APR_REG)
        return apr_psprintf(p, "SecUploadApproveScript: %s is not a regular file", path);
    /* Effective ids, as the server will run it; root still needs an execute bit somewhere. */
    if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) != 0)
        return apr_psprintf(p, "SecUploadApproveScript: %s is not executable by uid %ld", path,
                            (long)geteuid());
    return NULL;
}
