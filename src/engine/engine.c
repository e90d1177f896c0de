/*
 * Process-level set-up: the registry self-check (every table sorted, so look-ups by binary
 * search are right) and the PCRE2 JIT probe.
 */
#include "config/config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

static const char *check_sorted(apr_pool_t *p)
{
    apr_size_t n;
    const pp_directive_t *d = pp_directive_table(&n);
    for (apr_size_t i = 1; i < n; i++)
        if (strcasecmp(d[i - 1].name, d[i].name) >= 0)
            return apr_psprintf(p, "directive table out of order at %s", d[i].name);
    const pp_var_def_t *v = pp_var_table(&n);
    for (apr_size_t i = 1; i < n; i++)
        if (strcmp(v[i - 1].name, v[i].name) >= 0)
            return apr_psprintf(p, "variable table out of order at %s", v[i].name);
    const pp_action_def_t *a = pp_action_table(&n);
    for (apr_size_t i = 1; i < n; i++)
        if (strcmp(a[i - 1].name, a[i].name) >= 0)
            return apr_psprintf(p, "action table out of order at %s", a[i].name);
    const pp_op_def_t *o = pp_op_table(&n);
    for (apr_size_t i = 1; i < n; i++)
        if (strcmp(o[i - 1].name, o[i].name) >= 0)
            return apr_psprintf(p, "operator table out of order at %s", o[i].name);
    return NULL;
}

const char *pp_engine_init(apr_pool_t *p)
{
    return check_sorted(p);
}

const char *pp_engine_version(apr_pool_t *p)
{
    char ver[64];
    pcre2_config(PCRE2_CONFIG_VERSION, ver);
    return apr_psprintf(p, "%s/%s (PCRE2 %s, JIT %s)", PARAPET_NAME, PARAPET_VERSION, ver,
                        pp_regex_jit_available() ? "on" : "off");
}
