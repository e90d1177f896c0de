/*
 * pp_cfg_t creation and merging. Generic slots are inherited by walking the directive table
 * (a child's unset slot takes the parent's value); structured values (rule lists, default
 * action, MIME list, byte range) are merged here by hand. Rule inheritance follows
 * reference §2.2: parent rules first (all of them with SecFilterInheritance On, otherwise only
 * mandatory and imported ones), then the child's own, minus SecFilterRemove'd ids (mandatory
 * rules cannot be removed).
 */
#include "config/config.h"
#include "rules/select.h"

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

static bool identity_filter(const pp_cfg_t *c)
{
    return c->inheritance != 0 && !c->removes && !c->imports && !c->rule_removals;
}

/* One context's filter over an inherited list (reference §2.2). A chain is inherited, removed or
 * imported as a whole: the decision is taken on its first rule. */
static void filter_into(apr_pool_t *p, const pp_cfg_t *c, const apr_array_header_t *in,
                        apr_array_header_t *out)
{
    bool inherit = c->inheritance != 0, take = false;
    pp_rx_state_t *rx = c->rule_removals ? pp_rx_state_create(p) : NULL;
    for (int i = 0; i < in->nelts; i++) {
        pp_rule_t *r = APR_ARRAY_IDX(in, i, pp_rule_t *);
        if (!r->chain_member) {
            take = inherit || r->mandatory || id_listed(c->imports, r->id);
            if (take && !r->mandatory && id_listed(c->removes, r->id))
                take = false;
            /* SecRuleRemoveBy*: 2.x rules of the parent named by the child's removals. */
            if (take && r->lang2 && pp_rule_sel_match(c->rule_removals, r, rx))
                take = false;
        }
        if (take)
            APR_ARRAY_PUSH(out, pp_rule_t *) = r;
    }
}

/* Applies every filter of the chain in order, then appends own rules. */
static const apr_array_header_t *compose(apr_pool_t *p, const apr_array_header_t *filters,
                                         const apr_array_header_t *inherited,
                                         const apr_array_header_t *own)
{
    const apr_array_header_t *cur = inherited;
    for (int i = 0; i < filters->nelts; i++) {
        const pp_cfg_t *f = APR_ARRAY_IDX(filters, i, const pp_cfg_t *);
        if (identity_filter(f))
            continue;
        apr_array_header_t *next = apr_array_make(p, cur->nelts + 1, sizeof(pp_rule_t *));
        filter_into(p, f, cur, next);
        cur = next;
    }
    if (!own->nelts)
        return cur;
    apr_array_header_t *out = apr_array_make(p, cur->nelts + own->nelts, sizeof(pp_rule_t *));
    apr_array_cat(out, cur);
    apr_array_cat(out, own);
    return out;
}

static const apr_array_header_t *filters_of(apr_pool_t *p, const pp_cfg_t *c)
{
    if (c->filters)
        return c->filters;
    apr_array_header_t *self = apr_array_make(p, 1, sizeof(const pp_cfg_t *));
    APR_ARRAY_PUSH(self, const pp_cfg_t *) = c;
    return self;
}

/* merge(P, C): C's filters (in order) applied to P's lists, then C's own rules. Both the
 * effective list (P taken as complete) and the own list (P taken as a section that will itself
 * be merged under something) are kept, so merge(A, merge(B, C)) == merge(merge(A, B), C). */
static void merge_rules(apr_pool_t *p, pp_cfg_t *m, const pp_cfg_t *parent, const pp_cfg_t *child)
{
    const apr_array_header_t *cf = filters_of(p, child);
    m->effective_rules = compose(p, cf, parent->effective_rules, child->rules);
    m->rules = (apr_array_header_t *)compose(p, cf, parent->rules, child->rules);
    apr_array_header_t *all = apr_array_copy(p, filters_of(p, parent));
    apr_array_cat(all, cf);
    m->filters = all;
}

/* Response MIME types (reference secrule-2.9 §3): a 1.9 list (SecFilterOutputMimeTypes)
 * replaces the parent's, SecResponseBodyMimeType adds its types to the parent's, and
 * SecResponseBodyMimeTypesClear starts from nothing. */
static void merge_mime_types(apr_pool_t *p, pp_cfg_t *m, const pp_cfg_t *parent,
                             const pp_cfg_t *child)
{
    m->output_mime_types = child->output_mime_types;
    m->mime_types_mode = child->mime_types_mode;
    if (!child->output_mime_types) {
        m->output_mime_types = parent->output_mime_types;
        m->mime_types_mode = parent->mime_types_mode;
    } else if (child->mime_types_mode == PP_MIME_ADD && parent->output_mime_types) {
        apr_array_header_t *u = apr_array_copy(p, parent->output_mime_types);
        for (int i = 0; i < child->output_mime_types->nelts; i++) {
            const char *t = APR_ARRAY_IDX(child->output_mime_types, i, const char *);
            bool seen = false;
            for (int j = 0; j < u->nelts && !seen; j++)
                seen = strcmp(APR_ARRAY_IDX(u, j, const char *), t) == 0;
            if (!seen)
                APR_ARRAY_PUSH(u, const char *) = t;
        }
        m->output_mime_types = u;
        m->mime_types_mode = parent->mime_types_mode == PP_MIME_CLEARED ? PP_MIME_CLEARED
                                                                        : PP_MIME_ADD;
    }
}

pp_cfg_t *pp_cfg_merge(apr_pool_t *p, const pp_cfg_t *parent, const pp_cfg_t *child)
{
    /* Apache merges per request, and most <Directory>/<Location> sections hold no Parapet
     * directive: an empty side changes nothing, so the other side is the result. Neither is
     * ever modified after start-up, so sharing is safe. */
    if (!child->touched)
        return (pp_cfg_t *)parent;
    if (!parent->touched)
        return (pp_cfg_t *)child;
    pp_cfg_t *m = apr_palloc(p, sizeof *m);
    *m = *child;
    m->memo = NULL; /* the child's memo is keyed for the child, not for this result */
    merge_slots(m, parent, child);
    if (child->byte_min == PP_UNSET) {
        m->byte_min = parent->byte_min;
        m->byte_max = parent->byte_max;
    }
    merge_mime_types(p, m, parent, child);
    if (!child->unicode_map)
        m->unicode_map = parent->unicode_map;
    if (!child->geo_db)
        m->geo_db = parent->geo_db;
    if (parent->component_signatures) /* ModSecurity appends the child's to the parent's */
        m->component_signatures = child->component_signatures
                                      ? apr_array_append(p, parent->component_signatures,
                                                         child->component_signatures)
                                      : parent->component_signatures;
    if (!child->audit_relevant_status)
        m->audit_relevant_status = parent->audit_relevant_status;
    if (!child->debug_file)
        m->debug_file = parent->debug_file;
    if (!child->logs)
        m->logs = parent->logs;
    if (!child->default_action)
        m->default_action = parent->default_action;
    merge_rules(p, m, parent, child);
    m->phase_mask = parent->phase_mask | child->phase_mask;
    m->phase_mask2 = parent->phase_mask2 | child->phase_mask2;
    m->touched = true;
    m->cp = child->cp ? child->cp : parent->cp;
    m->nslots = parent->nslots > child->nslots ? parent->nslots : child->nslots;
    return m;
}

const pp_actionset_t *pp_cfg_default_action(const pp_cfg_t *cfg)
{
    return cfg->default_action ? cfg->default_action : pp_actionset_builtin_default();
}

bool pp_cfg_engine_enabled(const pp_cfg_t *cfg)
{
    return pp_cfg_int(cfg->engine, PP_ENGINE_OFF) != PP_ENGINE_OFF;
}

bool pp_cfg_logs_uninspected(const pp_cfg_t *cfg)
{
    return pp_cfg_int(cfg->audit_engine, PP_AUDIT_OFF) != PP_AUDIT_OFF || cfg->guardian_log ||
           (cfg->debug_file && pp_cfg_int(cfg->debug_level, 0) >= 4);
}

bool pp_cfg_engine_dynamic_only(const pp_cfg_t *cfg)
{
    return cfg->engine == PP_ENGINE_DYNAMIC_ONLY;
}

bool pp_cfg_has_rules2(const pp_cfg_t *cfg, pp_phase_t phase)
{
    return phase == PP_PHASE_NONE ? (cfg->phase_mask2 & ~1u) != 0
                                  : (cfg->phase_mask2 >> phase & 1u) != 0;
}

bool pp_cfg_scan_request_body(const pp_cfg_t *cfg)
{
    return pp_cfg_int(cfg->scan_post, 0) == 1;
}

bool pp_cfg_scan_output(const pp_cfg_t *cfg)
{
    return pp_cfg_int(cfg->scan_output, 0) == 1;
}

apr_size_t pp_cfg_body_memory_budget(const pp_cfg_t *cfg)
{
    return cfg->body_memory_budget == PP_UNSET ? PP_DEFAULT_BODY_MEMORY_BUDGET_BYTES
                                               : (apr_size_t)cfg->body_memory_budget;
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

const struct pp_unicode_map_t *pp_cfg_unicode_map(const pp_cfg_t *cfg)
{
    return pp_cfg_int(cfg->unicode_codepage, 0) > 0 ? cfg->unicode_map : NULL;
}

long pp_cfg_collection_timeout_s(const pp_cfg_t *cfg)
{
    return pp_cfg_int(cfg->col_timeout_s, PP_DEFAULT_COL_TIMEOUT_S);
}

const char *pp_cfg_webappid(const pp_cfg_t *cfg)
{
    return cfg->webappid ? cfg->webappid : "default";
}

int pp_cfg_body_limit_action(const pp_cfg_t *cfg)
{
    if (cfg->engine == PP_ENGINE_DETECTION_ONLY)
        return PP_LIMIT_PROCESS_PARTIAL;
    return pp_cfg_int(cfg->body_limit_action, PP_LIMIT_REJECT);
}

const char *pp_cfg_server_signature(const pp_cfg_t *cfg) { return cfg->server_signature; }
const char *pp_cfg_chroot_dir(const pp_cfg_t *cfg) { return cfg->chroot_dir; }
bool pp_cfg_response_token(const pp_cfg_t *cfg) { return cfg->response_token == 1; }
int pp_cfg_debug_level(const pp_cfg_t *cfg) { return pp_cfg_int(cfg->debug_level, 0); }
