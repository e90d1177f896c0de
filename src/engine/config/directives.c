/*
 * The engine's directive table, built from directives.def, the generic slot setters that most
 * directives need (flag, enum, int with bounds, size, string, directory, regex), and
 * pp_cfg_apply, the one entry point Apache's trampoline and the CLI reader both call, so both
 * produce the same messages.
 */
#include "config/config.h"

#include <apr_lib.h>
#include <limits.h>
#include <stddef.h>

const char *const pp_enum_engine[] = { "Off", "On", "DynamicOnly", NULL };
const char *const pp_enum_audit_engine[] = { "Off", "On", "RelevantOnly", "DynamicOrRelevant", NULL };
const char *const pp_enum_audit_format[] = { "Native", "JSON", NULL };
const char *const pp_enum_audit_type[] = { "Serial", "Concurrent", NULL };
const char *const pp_enum_keep[] = { "Off", "On", "RelevantOnly", NULL };
const char *const pp_enum_limit_action[] = { "Reject", "ProcessPartial", NULL };
const pp_range_t pp_range_0_1[1] = { { 0, 1 } };
const pp_range_t pp_range_0_9[1] = { { 0, 9 } };
const pp_range_t pp_range_1_3600[1] = { { 1, 3600 } };
const pp_range_t pp_range_1_max[1] = { { 1, INT_MAX } };
const pp_range_t pp_range_0_3600000[1] = { { 0, 3600000 } };
const pp_range_t pp_range_1_1000[1] = { { 1, 1000 } };
const pp_range_t pp_range_1_10000[1] = { { 1, 10000 } };
const apr_int64_t pp_size_max_1gib[1] = { APR_INT64_C(1073741824) };

#define SLOT_NONE PP_SLOT_NONE
#define SLOT_INT PP_SLOT_INT
#define SLOT_SIZE PP_SLOT_SIZE
#define SLOT_STR PP_SLOT_STR
#define SLOTOFF_NONE(f) 0
#define SLOTOFF_INT(f) offsetof(pp_cfg_t, f)
#define SLOTOFF_SIZE(f) offsetof(pp_cfg_t, f)
#define SLOTOFF_STR(f) offsetof(pp_cfg_t, f)
#define SCOPE_ANY PP_SCOPE_ANY
#define SCOPE_NODIR PP_SCOPE_NODIR
#define SCOPE_SERVER PP_SCOPE_SERVER

/* clang-format off */
static const pp_directive_t directive_table[] = {
#define PP_DIRECTIVE(name, min, max, scope, setter, stype, slot, extra, help) \
    { #name, min, max, SCOPE_##scope, setter, SLOT_##stype, SLOTOFF_##stype(slot), extra, help },
#include "config/directives.def"
#undef PP_DIRECTIVE
};
/* clang-format on */

const pp_directive_t *pp_directive_table(apr_size_t *n)
{
    *n = sizeof directive_table / sizeof directive_table[0];
    return directive_table;
}

const pp_directive_t *pp_directive_find(const char *name)
{
    apr_size_t lo = 0, hi = sizeof directive_table / sizeof directive_table[0];
    while (lo < hi) {
        apr_size_t mid = (lo + hi) / 2;
        int c = strcasecmp(name, directive_table[mid].name);
        if (c == 0)
            return &directive_table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *pp_directive_name(const pp_directive_t *d) { return d->name; }
const char *pp_directive_help(const pp_directive_t *d) { return d->help; }
pp_scope_t pp_directive_scope(const pp_directive_t *d) { return d->scope; }

const char *pp_cfg_tokenize(apr_pool_t *p, const char *raw, int *argc, char ***argv)
{
    apr_array_header_t *words = apr_array_make(p, 4, sizeof(char *));
    *argc = 0, *argv = (char **)words->elts; /* defined even when a quote is unterminated */
    const char *s = raw ? raw : "";
    for (;;) {
        while (apr_isspace(*s))
            s++;
        if (!*s)
            break;
        /* As Apache's ap_getword_conf (ModSecurity's directives are tokenized by it): in a
         * quoted word \<quote> and \\ lose the backslash, and \\ does so in a bare word
         * too; so the regex [\\/] written in a file is [\/] to the rule, as in ModSecurity. */
        /* The word's extent first, so that its copy is its own size. */
        const char *e = s;
        if (*e == '"' || *e == '\'') {
            char q = *e++;
            while (*e && *e != q)
                e += (*e == '\\' && (e[1] == q || e[1] == '\\')) ? 2 : 1;
        } else {
            while (*e && !apr_isspace(*e))
                e++;
        }
        char *w = apr_palloc(p, (apr_size_t)(e - s) + 1), *o = w;
        if (*s == '"' || *s == '\'') {
            char q = *s++;
            while (*s && *s != q) {
                if (*s == '\\' && (s[1] == q || s[1] == '\\'))
                    s++;
                *o++ = *s++;
            }
            if (*s != q)
                return apr_psprintf(p, "unterminated %c quote", q);
            s++;
        } else {
            while (*s && !apr_isspace(*s)) {
                if (*s == '\\' && s[1] == '\\')
                    s++;
                *o++ = *s++;
            }
        }
        *o = '\0';
        APR_ARRAY_PUSH(words, char *) = w;
    }
    *argc = words->nelts;
    *argv = (char **)words->elts;
    return NULL;
}

const char *pp_cfg_path(apr_pool_t *p, const pp_cfg_site_t *site, const char *path)
{
    if (path[0] == '/' || !site || !site->server_root)
        return path;
    return apr_pstrcat(p, site->server_root, "/", path, NULL);
}

void pp_cfg_warn(const pp_setter_ctx_t *ctx, const char *msg)
{
    if (ctx->site && ctx->site->warn)
        ctx->site->warn(ctx->site->warn_ctx, ctx->site->file, ctx->site->line,
                        apr_psprintf(ctx->tp, "%s: %s", ctx->name, msg));
}

static const char *apply(pp_cfg_t *cfg, const pp_directive_t *d, const char *raw_args,
                         const pp_cfg_site_t *site, apr_pool_t *cp, apr_pool_t *tp)
{
    int argc;
    char **argv;
    const char *err = pp_cfg_tokenize(tp, raw_args, &argc, &argv);
    if (err)
        return apr_psprintf(tp, "%s: %s", d->name, err);
    if (argc < d->min_args || (d->max_args >= 0 && argc > d->max_args)) {
        if (d->min_args == d->max_args)
            return apr_psprintf(tp, "%s takes %d argument%s (%s), %d given", d->name,
                                d->min_args, d->min_args == 1 ? "" : "s", d->help, argc);
        return apr_psprintf(tp, "%s: wrong number of arguments (%d): %s", d->name, argc, d->help);
    }
    if (d->scope != PP_SCOPE_ANY && site && site->in_dir)
        return apr_psprintf(tp, "%s is not allowed in <Directory>, <Location>, <Files> or .htaccess",
                            d->name);
    if (d->scope == PP_SCOPE_SERVER && site && site->in_vhost)
        return apr_psprintf(tp, "%s is only allowed in the main server configuration", d->name);
    pp_setter_ctx_t ctx = { site, cp, tp, d->name };
    if (site && (site->checking_only || site->discarded))
        pp_regex_validate_only(cp);
    cfg->touched = true;
    void *slot = d->slot_type == PP_SLOT_NONE ? NULL : (char *)cfg + d->slot;
    return d->set(cfg, &ctx, slot, d->extra, argc, argv);
}

/* A directive's temporary memory (its words, action items, escaped copies, messages) lives in
 * a pool of its own, destroyed when it is done: the caller's tp (Apache's ptemp, which lives
 * until every directive was read) then holds one directive's worth instead of all of them
 * (CRS: ~1.9 MB that stayed in every worker as freed-but-mapped pool memory). The message
 * that comes back is copied into tp. */
const char *pp_cfg_apply(pp_cfg_t *cfg, const pp_directive_t *d, const char *raw_args,
                         const pp_cfg_site_t *site, apr_pool_t *cp, apr_pool_t *tp)
{
    apr_pool_t *scratch;
    if (apr_pool_create(&scratch, tp) != APR_SUCCESS)
        return apr_psprintf(tp, "%s: out of memory", d->name);
    const char *err = apply(cfg, d, raw_args, site, cp, scratch);
    if (err)
        err = apr_pstrdup(tp, err);
    apr_pool_destroy(scratch);
    return err;
}

const char *pp_set_flag(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot, const void *extra,
                        int argc, char **argv)
{
    if (strcasecmp(argv[0], "On") == 0)
        *(int *)slot = 1;
    else if (strcasecmp(argv[0], "Off") == 0)
        *(int *)slot = 0;
    else
        return apr_psprintf(ctx->tp, "%s: \"%s\" is not On or Off", ctx->name, argv[0]);
    return NULL;
}

const char *pp_set_enum(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot, const void *extra,
                        int argc, char **argv)
{
    const char *const *names = extra;
    const char *list = NULL;
    for (int i = 0; names[i]; i++) {
        if (strcasecmp(argv[0], names[i]) == 0) {
            *(int *)slot = i;
            return NULL;
        }
        list = list ? apr_pstrcat(ctx->tp, list, names[i + 1] ? ", " : " or ", names[i], NULL)
                    : names[i];
    }
    return apr_psprintf(ctx->tp, "%s: \"%s\" is not one of %s", ctx->name, argv[0], list);
}

const char *pp_set_int(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot, const void *extra,
                       int argc, char **argv)
{
    const pp_range_t *r = extra;
    apr_int64_t v;
    if (!pp_parse_int64(argv[0], &v) || v < r->min || v > r->max)
        return apr_psprintf(ctx->tp, "%s: \"%s\" is not a number from %d to %d", ctx->name,
                            argv[0], r->min, r->max);
    *(int *)slot = (int)v;
    return NULL;
}

const char *pp_set_size(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot, const void *extra,
                        int argc, char **argv)
{
    apr_int64_t v;
    if (!pp_parse_int64(argv[0], &v) || v < 1 || v > (APR_INT64_C(1) << 40))
        return apr_psprintf(ctx->tp, "%s: \"%s\" is not a number of bytes", ctx->name, argv[0]);
    /* extra, when given, is the largest value allowed (ModSecurity's hard limits). */
    if (extra && v > *(const apr_int64_t *)extra)
        return apr_psprintf(ctx->tp, "%s: %s is over the limit of %" APR_INT64_T_FMT " bytes",
                            ctx->name, argv[0], *(const apr_int64_t *)extra);
    *(apr_int64_t *)slot = v;
    return NULL;
}

/* A number of bytes that may be 0 (off). */
const char *pp_set_size_or_0(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                             const void *extra, int argc, char **argv)
{
    if (strcmp(argv[0], "0") == 0) {
        *(apr_int64_t *)slot = 0;
        return NULL;
    }
    return pp_set_size(cfg, ctx, slot, extra, argc, argv);
}

const char *pp_set_string(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                          const void *extra, int argc, char **argv)
{
    *(const char **)slot = apr_pstrdup(ctx->cp, argv[0]);
    return NULL;
}

const char *pp_set_dir(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot, const void *extra,
                       int argc, char **argv)
{
    const char *path = apr_pstrdup(ctx->cp, pp_cfg_path(ctx->cp, ctx->site, argv[0]));
    apr_finfo_t fi;
    if (apr_stat(&fi, path, APR_FINFO_TYPE, ctx->tp) != APR_SUCCESS)
        return apr_psprintf(ctx->tp, "%s: directory \"%s\" does not exist", ctx->name, path);
    if (fi.filetype != APR_DIR)
        return apr_psprintf(ctx->tp, "%s: \"%s\" is not a directory", ctx->name, path);
    *(const char **)slot = path;
    return NULL;
}

const char *pp_set_regex(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot, const void *extra,
                         int argc, char **argv)
{
    const char *err;
    const pp_regex_t *re = pp_regex_compile(ctx->cp, argv[0], 0, &err);
    if (!re)
        return apr_psprintf(ctx->tp, "%s: %s", ctx->name, err);
    *(const char **)slot = apr_pstrdup(ctx->cp, argv[0]);
    cfg->audit_relevant_status = re; /* the only regex slot so far */
    return NULL;
}
