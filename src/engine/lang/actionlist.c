/*
 * Action lists: "deny,log,status:403,msg:'a, b'" → pp_actionset_t (reference §8). Items are
 * separated by commas; a value follows a colon and may be wrapped in single quotes so it can
 * hold commas and spaces. The action table (rules/actions/table.c) gives each name its arity
 * and category, so the parse functions never re-check them. Also merging of lists (§8.3).
 */
#include "lang/lang.h"

#include <apr_lib.h>
#include <unistd.h>

/* ModSecurity 2.9's action-list grammar (msre_parse_generic), checked against 2.9.7 itself:
 * a name ends at a blank, ',', '|' or ':'; a name without a value must be followed (after
 * blanks) by ',', '|' or the end ("id:9 pass nolog" is refused); an unquoted value ends at a
 * blank, ',' or '|' (so "ctl:ruleRemoveByMsg=^bad q" leaves an action "q", and "msg: 'x'" an
 * empty msg and an action "'x'"); a quoted value takes \' and \\ as the only escapes; after a
 * value, blanks, ',' and '|' separate. */
static bool next_item2(apr_pool_t *p, const char **s, char **name, char **value,
                       const char **err)
{
    const char *c = *s;
    while (apr_isspace(*c))
        c++;
    if (!*c)
        return false;
    const char *n = c;
    while (*c && *c != '|' && *c != ':' && *c != ',' && !apr_isspace(*c))
        c++;
    *name = apr_pstrmemdup(p, n, (apr_size_t)(c - n));
    *value = NULL;
    if (*c != ':') {
        while (apr_isspace(*c))
            c++;
        if (*c == ',' || *c == '|')
            c++;
        else if (*c) {
            *err = apr_psprintf(p, "unexpected character in the action list at \"%s\" (after "
                                   "\"%s\" a ',' or '|' must follow)", c, *name);
            return false;
        }
        *s = c;
        return true;
    }
    c++;
    if (*c != '\'') {
        const char *v = c;
        while (*c && *c != '|' && *c != ',' && !apr_isspace(*c))
            c++;
        *value = apr_pstrmemdup(p, v, (apr_size_t)(c - v));
    } else {
        c++;
        const char *e = c; /* the value's extent first, so that its copy is its own size */
        while (*e && *e != '\'')
            e += (*e == '\\' && e[1]) ? 2 : 1;
        char *v = apr_palloc(p, (apr_size_t)(e - c) + 1), *o = v;
        for (;;) {
            if (!*c) {
                *err = apr_psprintf(p, "missing closing quote in the value of \"%s\"", *name);
                return false;
            }
            if (*c == '\\') {
                if (c[1] != '\'' && c[1] != '\\') {
                    *err = apr_psprintf(p, "invalid quoted pair at \"%s\" in the value of "
                                           "\"%s\" (only \\' and \\\\ are escapes)", c, *name);
                    return false;
                }
                c++;
                *o++ = *c++;
            } else if (*c == '\'') {
                c++;
                break;
            } else {
                *o++ = *c++;
            }
        }
        *o = '\0';
        *value = v;
    }
    while (apr_isspace(*c) || *c == ',' || *c == '|')
        c++;
    *s = c;
    return true;
}

/* Splits the next "name[:value]" off *s (a quoted value unquoted). Returns false at the end;
 * an error in *err. modsec2: ModSecurity 2.9's grammar (next_item2), for SecRule lists; else
 * 1.9's: items separated by commas, blanks in names ignored. */
bool pp_action_item_next(apr_pool_t *p, const char **s, char **name, char **value,
                         const char **err, bool modsec2)
{
    if (modsec2)
        return next_item2(p, s, name, value, err);
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
