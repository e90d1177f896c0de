/*
 * pp_cfg_t creation and merging. Generic slots are inherited by walking the directive table
 * (a child's unset slot takes the parent's value); structured values (rule lists, default
 * action, MIME list, byte range) are merged here by hand. Rule inheritance follows
 * reference §2.2: parent rules first (all of them with SecFilterInheritance On, otherwise only
 * mandatory and imported ones), then the child's own, minus SecFilterRemove'd ids (mandatory
 * rules cannot be removed).
 */
#include "config/config.h"

pp_cfg_t *pp_cfg_create(apr_pool_t *cp)
{
    pp_cfg_t *cfg = apr_pcalloc(cp, sizeof *cfg);
    apr_size_t n;
    const pp_directive_t *t = pp_directive_table(&n);
    for (apr_size_t i = 0; i < n; i++) {
        if (t[i].slot_type == PP_SLOT_INT)
            *(int *)((char *)cfg + t[i].slot) = PP_UNSET;
        else if (t[i].slot_type == PP_SLOT_SIZE)
            *(apr_int64_t *)((char *)cfg + t[i].slot) = PP_UNSET;
    }
    cfg->byte_min = cfg->byte_max = PP_UNSET;
    cfg->rules = apr_array_make(cp, 8, sizeof(pp_rule_t *));
    cfg->effective_rules = cfg->rules;
    cfg->cp = cp;
    return cfg;
}

static void merge_slots(pp_cfg_t *m, const pp_cfg_t *parent, const pp_cfg_t *child)
{
    apr_size_t n;
    const pp_directive_t *t = pp_directive_table(&n);
    for (apr_size_t i = 0; i < n; i++) {
        const char *c = (const char *)child + t[i].slot;
        const char *p = (const char *)parent + t[i].slot;
        char *o = (char *)m + t[i].slot;
        switch (t[i].slot_type) {
        case PP_SLOT_INT:
            *(int *)o = *(const int *)c != PP_UNSET ? *(const int *)c : *(const int *)p;
            break;
        case PP_SLOT_SIZE:
            *(apr_int64_t *)o = *(const apr_int64_t *)c != PP_UNSET ? *(const apr_int64_t *)c
                                                                   : *(const apr_int64_t *)p;
            break;
        case PP_SLOT_STR:
            *(const char **)o = *(const char *const *)c ? *(const char *const *)c
                                                       : *(const char *const *)p;
            break;
        case PP_SLOT_NONE:
            break;
        }
    }
}

static bool id_listed(const apr_array_header_t *ids, const char *id)
{
    if (!ids || !id)
        return false;
    for (int i = 0; i < ids->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(ids, i, const char *), id) == 0)
            return true;
    return false;
}

/* A chain is inherited, removed or imported as a whole: decide on its first rule. */
static const apr_array_header_t *merge_rules(apr_pool_t *p, const pp_cfg_t *parent,
                                             const pp_cfg_t *child)
{
    bool inherit = child->inheritance != 0;
    if (inherit && child->rules->nelts == 0 && !child->removes)
        return parent->effective_rules;
    const apr_array_header_t *pr = parent->effective_rules;
    apr_array_header_t *out = apr_array_make(p, pr->nelts + child->rules->nelts,
                                             sizeof(pp_rule_t *));
    bool take = false;
    for (int i = 0; i < pr->nelts; i++) {
        pp_rule_t *r = APR_ARRAY_IDX(pr, i, pp_rule_t *);
        if (!r->chain_member) {
            take = inherit || r->mandatory || id_listed(child->imports, r->id);
            if (take && !r->mandatory && id_listed(child->removes, r->id))
                take = false;
        }
        if (take)
            APR_ARRAY_PUSH(out, pp_rule_t *) = r;
    }
    for (int i = 0; i < child->rules->nelts; i++)
        APR_ARRAY_PUSH(out, pp_rule_t *) = APR_ARRAY_IDX(child->rules, i, pp_rule_t *);
    return out;
}

pp_cfg_t *pp_cfg_merge(apr_pool_t *p, const pp_cfg_t *parent, const pp_cfg_t *child)
{
    pp_cfg_t *m = apr_palloc(p, sizeof *m);
    *m = *child;
    merge_slots(m, parent, child);
    if (child->byte_min == PP_UNSET) {
        m->byte_min = parent->byte_min;
        m->byte_max = parent->byte_max;
    }
    if (!child->output_mime_types)
        m->output_mime_types = parent->output_mime_types;
    if (!child->audit_relevant_status)
        m->audit_relevant_status = parent->audit_relevant_status;
    if (!child->debug_file)
        m->debug_file = parent->debug_file;
    if (!child->logs)
        m->logs = parent->logs;
    if (!child->default_action)
        m->default_action = parent->default_action;
    m->effective_rules = merge_rules(p, parent, child);
    m->cp = child->cp ? child->cp : parent->cp;
    return m;
}

int pp_cfg_int(int v, int dflt)
{
    return v == PP_UNSET ? dflt : v;
}

const pp_actionset_t *pp_cfg_default_action(const pp_cfg_t *cfg)
{
    return cfg->default_action ? cfg->default_action : pp_actionset_builtin_default();
}

bool pp_cfg_engine_enabled(const pp_cfg_t *cfg)
{
    return pp_cfg_int(cfg->engine, PP_ENGINE_OFF) != PP_ENGINE_OFF;
}

bool pp_cfg_engine_dynamic_only(const pp_cfg_t *cfg)
{
    return cfg->engine == PP_ENGINE_DYNAMIC_ONLY;
}

bool pp_cfg_scan_request_body(const pp_cfg_t *cfg)
{
    return pp_cfg_int(cfg->scan_post, 0) == 1;
}

bool pp_cfg_scan_output(const pp_cfg_t *cfg)
{
    return pp_cfg_int(cfg->scan_output, 0) == 1;
}

apr_off_t pp_cfg_output_limit(const pp_cfg_t *cfg)
{
    return cfg->output_limit == PP_UNSET ? PP_DEFAULT_OUTPUT_LIMIT_BYTES : cfg->output_limit;
}

/* Compares the media type only (parameters stripped, case-insensitive); "" in the list is
 * 1.9's (null): a response without a Content-Type. Default list: text/html text/plain. */
bool pp_cfg_output_mime_matches(const pp_cfg_t *cfg, const char *content_type)
{
    static const char *const dflt[] = { "text/html", "text/plain" };
    apr_size_t n = 0;
    if (content_type) {
        while (content_type[n] && content_type[n] != ';' && content_type[n] != ' ')
            n++;
    }
    const apr_array_header_t *l = cfg->output_mime_types;
    int count = l ? l->nelts : 2;
    for (int i = 0; i < count; i++) {
        const char *t = l ? APR_ARRAY_IDX(l, i, const char *) : dflt[i];
        if (!content_type || n == 0) {
            if (!*t)
                return true;
        } else if (strlen(t) == n && strncasecmp(t, content_type, n) == 0) {
            return true;
        }
    }
    return false;
}

const char *pp_cfg_server_signature(const pp_cfg_t *cfg) { return cfg->server_signature; }
const char *pp_cfg_chroot_dir(const pp_cfg_t *cfg) { return cfg->chroot_dir; }
int pp_cfg_debug_level(const pp_cfg_t *cfg) { return pp_cfg_int(cfg->debug_level, 0); }
