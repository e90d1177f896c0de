/*
 * @inspectFile SCRIPT: the value names a file; SCRIPT runs with it as its only argument through
 * the upload approval runner (upload/approve.c: argv only, no shell, PATH alone as the
 * environment, bounded output, SecUploadApproveTimeout, the process group killed at the
 * timeout). As in ModSecurity 2.9.7 a first output byte '1' passes the file (no match) and
 * anything else matches. Where ModSecurity counts a script that cannot run or prints nothing as
 * an operator error (no match: fail open), Parapet fails closed: those, a non-zero exit, a
 * signal and the timeout match too, with one error-log line saying which. A relative SCRIPT is
 * relative to the rule file; it must be an executable regular file at start-up. ModSecurity's
 * Lua form (a name ending in .lua) is refused.
 */
#include "rules/operators/operators.h"
#include "config/config.h"
#include "upload/upload.h"

#include <apr_strings.h>

const char *pp_op_inspect_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    apr_size_t n = strlen(arg);
    if (n == 0)
        return "@inspectFile needs the approver script's path";
    if (n >= 4 && strcmp(arg + n - 4, ".lua") == 0)
        return "Lua scripts are not supported by Parapet: give an executable program";
    const char *path = pp_op_resolve_path(cp, arg);
    const char *err = pp_approve_script_check(cp, path);
    static const char prefix[] = "SecUploadApproveScript: "; /* the check names its directive */
    if (err && strncmp(err, prefix, sizeof prefix - 1) == 0)
        err += sizeof prefix - 1;
    if (err)
        return err;
    *compiled = (void *)path;
    return NULL;
}

PP_OP_EXEC(pp_op_inspect_exec)
{
    const char *script = compiled;
    *match = true;
    out->data = value;
    if (memchr(value.data, '\0', value.len)) {
        pp_debug(tx, 1, "@inspectFile %s: the file name holds a NUL byte: counted as a match "
                 "(fail closed)", script);
        return APR_SUCCESS;
    }
    const char *file = apr_pstrmemdup(tx->pool, value.data, value.len);
    apr_interval_time_t timeout =
        apr_time_from_sec(pp_cfg_int(tx->cfg->approve_timeout_s, PP_DEFAULT_APPROVE_TIMEOUT_S));
    pp_approve_result_t res;
    pp_approve_run(tx->pool, script, file, timeout, &res);
    if (res.accepted) {
        *match = false;
        return APR_SUCCESS;
    }
    if (res.detail)
        pp_debug(tx, 1, "@inspectFile: the approver script \"%s\" on \"%s\" failed (%s): counted "
                 "as a match (fail closed)", script,
                 pp_str_log_escape(tx->pool, value, 256), res.detail);
    else
        pp_debug(tx, 4, "File \"%s\" rejected by the approver script \"%s\": %s",
                 pp_str_log_escape(tx->pool, value, 256), script, res.reason);
    return APR_SUCCESS;
}
