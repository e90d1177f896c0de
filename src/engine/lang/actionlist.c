/*
 * Action lists: "deny,log,status:403,msg:'a, b'" → pp_actionset_t (reference §8). Items are
 * separated by commas; a value follows a colon and may be wrapped in single quotes so it can
 * hold commas and spaces. The action table (rules/actions/table.c) gives each name its arity
 * and category, so the parse functions never re-check them. Also merging of lists (§8.3).
 */
#include "lang/lang.h"

#include <apr_lib.h>
#include <unistd.h>

/* Splits the next "name[:value]" off *s (a quoted value unquoted). Returns false at the end;
 * an error in *err. space_after_colon: blanks after ':' are not part of the value (2.x). */
bool pp_action_item_next(apr_pool_t *p, const char **s, char **name, char **value,
                         const char **err, bool space_after_colon)
{
    const char *c = *s;
    while (*c == ',' || apr_isspace(*c))
        c++;
    if (!*c)
        return false;
    const char *start = c;
    while (*c && *c != ',' && *c != ':')
        c++;
    *name = apr_pstrmemdup(p, start, (apr_size_t)(c - start));
    apr_collapse_spaces(*name, *name);
    *value = NULL;
    if (*c == ':') {
        c++;
        while (space_after_colon && *c == ' ')
            c++;
        if (*c == '\'') {
            c++;
            char *v = apr_palloc(p, strlen(c) + 1), *o = v;
            while (*c && *c != '\'') {
                if (*c == '\\' && c[1] == '\'')
                    c++;
                *o++ = *c++;
            }
            if (*c != '\'') {
                *err = apr_psprintf(p, "unterminated quote in the value of \"%s\"", *name);
                return false;
            }
            *o = '\0';
            *value = v;
            c++;
        } else {
            const char *vs = c;
            while (*c && *c != ',')
                c++;
            *value = apr_pstrmemdup(p, vs, (apr_size_t)(c - vs));
        }
    }
    *s = c;
    return true;
}

const char *pp_actionlist_parse(apr_pool_t *cp, const char *text, bool restricted,
                                pp_actionset_t **out, const char **warning)
{
    pp_actionset_t *as = pp_actionset_create(cp);
    const char *s = text, *err = NULL, *ignored = NULL;
    char *name, *value;
    while (pp_action_item_next(cp, &s, &name, &value, &err, false)) {
        const pp_action_def_t *d = pp_action_find(name);
        if (!d)
            return apr_psprintf(cp, "unknown action \"%s\"", name);
        if (d->arity == PP_AARG_ONE && (!value || !*value))
            return apr_psprintf(cp, "action \"%s\" needs a value (%s:...)", name, name);
        if (d->arity == PP_AARG_NONE && value)
            return apr_psprintf(cp, "action \"%s\" takes no value", name);
        if (restricted && d->category != PP_ACAT_METADATA) {
            /* SecFilterActionsRestricted: the administrator keeps the policy (§2.2). */
            const char *item = value ? apr_pstrcat(cp, name, ":", value, NULL) : name;
            ignored = ignored ? apr_pstrcat(cp, ignored, ",", item, NULL) : item;
            continue;
        }
        const char *e = d->parse(cp, value, as);
        if (e)
            return apr_psprintf(cp, "action \"%s\": %s", name, e);
    }
    if (err)
        return err;
    *warning = NULL;
    if (ignored)
        *warning = apr_psprintf(cp, "SecFilterActionsRestricted is On: actions \"%s\" of "
                                "this rule%s%s are ignored", ignored,
                                as->id ? " id " : "", as->id ? as->id : "");
    if (as->pause_ms > PP_PAUSE_MAX_MS) {
        const char *w = apr_psprintf(cp, "pause:%d is capped at %d ms", as->pause_ms,
                                     PP_PAUSE_MAX_MS);
        as->pause_ms = PP_PAUSE_MAX_MS;
        *warning = *warning ? apr_pstrcat(cp, *warning, "; ", w, NULL) : w;
    }
    /* 1.9 loaded a rule whose program was missing; the action fails when it runs. */
    if (as->exec && access(as->exec, X_OK) != 0) {
        const char *w = apr_psprintf(cp, "exec program \"%s\" is not an executable file: the "
                                     "action will fail when the rule matches", as->exec);
        *warning = *warning ? apr_pstrcat(cp, *warning, "; ", w, NULL) : w;
    }
    *out = as;
    return NULL;
}

pp_actionset_t *pp_actionset_create(apr_pool_t *p)
{
    pp_actionset_t *as = apr_pcalloc(p, sizeof *as);
    as->disruptive = as->status = as->log = as->auditlog = as->severity = as->pause_ms =
        PP_TRI_UNSET;
    return as;
}

static apr_array_header_t *concat_kv(apr_pool_t *p, apr_array_header_t *a, apr_array_header_t *b)
{
    if (!a || !a->nelts)
        return b;
    if (!b || !b->nelts)
        return a;
    return apr_array_append(p, a, b);
}

#define OVER_INT(f) m->f = over->f != PP_TRI_UNSET ? over->f : base->f
#define OVER_PTR(f) m->f = over->f ? over->f : base->f

pp_actionset_t *pp_actionset_merge(apr_pool_t *p, const pp_actionset_t *base,
                                   const pp_actionset_t *over)
{
    if (!over)
        return (pp_actionset_t *)base;
    if (!base)
        return (pp_actionset_t *)over;
    pp_actionset_t *m = apr_palloc(p, sizeof *m);
    *m = *over;
    OVER_INT(disruptive);
    OVER_INT(status);
    OVER_INT(log);
    OVER_INT(auditlog);
    OVER_INT(severity);
    OVER_INT(pause_ms);
    OVER_PTR(id);
    OVER_PTR(rev);
    OVER_PTR(msg);
    OVER_PTR(exec);
    OVER_PTR(logparts);
    /* A redirect target belongs to the primary action it came with. */
    m->url = over->disruptive != PP_TRI_UNSET ? over->url : base->url;
    m->setenv = concat_kv(p, base->setenv, over->setenv);
    m->setnote = concat_kv(p, base->setnote, over->setnote);
    return m;
}

const pp_actionset_t *pp_actionset_builtin_default(void)
{
    static const pp_actionset_t dflt = {
        .disruptive = PP_ACTION_DENY, .status = 403, .log = 1, .auditlog = PP_TRI_UNSET,
        .severity = PP_TRI_UNSET, .pause_ms = PP_TRI_UNSET,
    };
    return &dflt;
}
