/*
 * Config-time parse functions of the actions (reference §8.2): each writes one field of the
 * action set. Values are checked here so that nothing is re-checked per request.
 */
#include "rules/actions/actions.h"

#include <apr_lib.h>
#include <unistd.h>

static const char *const severity_names[] = { "EMERGENCY", "ALERT", "CRITICAL", "ERROR",
                                              "WARNING", "NOTICE", "INFO", "DEBUG" };

const char *pp_severity_name(int severity)
{
    return severity >= 0 && severity < 8 ? severity_names[severity] : "";
}

static const char *set_disruptive(pp_actionset_t *as, pp_action_t a)
{
    as->disruptive = a;
    return NULL;
}

const char *pp_act_deny_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    return set_disruptive(as, PP_ACTION_DENY);
}

const char *pp_act_allow_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    return set_disruptive(as, PP_ACTION_ALLOW);
}

const char *pp_act_pass_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    return set_disruptive(as, PP_ACTION_PASS);
}

const char *pp_act_redirect_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    as->url = apr_pstrdup(p, v);
    return set_disruptive(as, PP_ACTION_REDIRECT);
}

const char *pp_act_proxy_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    as->url = apr_pstrdup(p, v);
    return set_disruptive(as, PP_ACTION_PROXY);
}

static const char *parse_bounded(const char *v, int min, int max, int *out)
{
    apr_int64_t n;
    if (!pp_parse_int64(v, &n) || n < min || n > max)
        return "expected a number";
    *out = (int)n;
    return NULL;
}

const char *pp_act_status_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    if (parse_bounded(v, 100, 599, &as->status))
        return apr_psprintf(p, "\"%s\" is not an HTTP status (100-599)", v);
    return NULL;
}

const char *pp_act_log_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    as->log = 1;
    return NULL;
}

const char *pp_act_nolog_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    as->log = 0;
    return NULL;
}

const char *pp_act_auditlog_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    as->auditlog = 1;
    return NULL;
}

const char *pp_act_noauditlog_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    as->auditlog = 0;
    return NULL;
}

/* The program must be an absolute path: it runs without a shell, with no search path. */
const char *pp_act_exec_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    if (v[0] != '/')
        return apr_psprintf(p, "\"%s\" is not an absolute path", v);
    /* A missing program is a start-up warning (pp_actionlist_parse), not an error. */
    as->exec = apr_pstrdup(p, v);
    return NULL;
}

const char *pp_act_pause_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    if (parse_bounded(v, 0, 600000, &as->pause_ms))
        return apr_psprintf(p, "\"%s\" is not a number of milliseconds (0-600000)", v);
    return NULL;
}

static const char *push_kv(apr_pool_t *p, const char *v, apr_array_header_t **arr)
{
    const char *eq = strchr(v, '=');
    if (eq == v)
        return apr_psprintf(p, "\"%s\" has no name (NAME=VALUE)", v);
    if (!*arr)
        *arr = apr_array_make(p, 1, sizeof(pp_kv_t));
    pp_kv_t *kv = apr_array_push(*arr);
    kv->name = eq ? apr_pstrmemdup(p, v, (apr_size_t)(eq - v)) : apr_pstrdup(p, v);
    kv->value = eq ? apr_pstrdup(p, eq + 1) : "1";
    return NULL;
}

const char *pp_act_setenv_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    return push_kv(p, v, &as->setenv);
}

const char *pp_act_setnote_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    return push_kv(p, v, &as->setnote);
}

const char *pp_act_logparts_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    as->logparts = apr_pstrdup(p, v);
    return NULL;
}

const char *pp_act_id_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    as->id = apr_pstrdup(p, v);
    return NULL;
}

const char *pp_act_rev_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    as->rev = apr_pstrdup(p, v);
    return NULL;
}

const char *pp_act_msg_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    as->msg = apr_pstrdup(p, v);
    return NULL;
}

const char *pp_act_severity_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    for (int i = 0; i < 8; i++) {
        if (strcasecmp(v, severity_names[i]) == 0) {
            as->severity = i;
            return NULL;
        }
    }
    if (parse_bounded(v, 0, 7, &as->severity))
        return apr_psprintf(p, "\"%s\" is not 0-7 or a syslog severity name", v);
    return NULL;
}

const char *pp_act_chain_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    as->chain = true;
    return NULL;
}

const char *pp_act_skipnext_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    if (parse_bounded(v, 1, 10000, &as->skipnext))
        return apr_psprintf(p, "\"%s\" is not a number of rules (1-10000)", v);
    return NULL;
}

const char *pp_act_mandatory_parse(apr_pool_t *p, const char *v, pp_actionset_t *as)
{
    as->mandatory = true;
    return NULL;
}
