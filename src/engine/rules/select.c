/* Rule selectors (select.h). */
#include "rules/select.h"

#include <apr_lib.h>
#include <stdlib.h>

static const char *parse_id(const char *s, apr_int64_t *v)
{
    if (!apr_isdigit(*s))
        return NULL;
    char *end;
    *v = apr_strtoi64(s, &end, 10);
    return end;
}

const char *pp_rule_sel_parse(apr_pool_t *cp, apr_pool_t *tp, pp_rule_sel_kind_t kind,
                              const char *arg, apr_array_header_t *out)
{
    if (kind != PP_SEL_BY_ID) {
        const char *err;
        const pp_regex_t *re = pp_regex_compile(cp, arg, 0, &err);
        if (!re) /* err names the pattern: invalid regular expression "..." */
            return apr_pstrdup(tp, err);
        pp_rule_sel_t *s = apr_array_push(out);
        s->kind = kind;
        s->re = re;
        return NULL;
    }
    const char *p = arg;
    while (*p) {
        while (*p == ',' || apr_isspace(*p))
            p++;
        if (!*p)
            break;
        apr_int64_t lo, hi;
        const char *e = parse_id(p, &lo);
        if (!e)
            return apr_psprintf(tp, "\"%s\" is not a rule id or a range of them (N, N-M)", arg);
        hi = lo;
        if (*e == '-') {
            e = parse_id(e + 1, &hi);
            if (!e || hi < lo)
                return apr_psprintf(tp, "\"%s\" is not a rule id or a range of them (N, N-M)",
                                    arg);
        }
        if (*e && *e != ',' && !apr_isspace(*e))
            return apr_psprintf(tp, "\"%s\" is not a rule id or a range of them (N, N-M)", arg);
        pp_rule_sel_t *s = apr_array_push(out);
        s->kind = PP_SEL_BY_ID;
        s->lo = lo;
        s->hi = hi;
        p = e;
    }
    return NULL;
}

static bool re_match(const pp_regex_t *re, pp_rx_state_t *rx, pp_str_t text)
{
    bool m = false;
    return text.data && pp_regex_exec(re, rx, text, &m) == APR_SUCCESS && m;
}

bool pp_rule_sel_match_tags(const apr_array_header_t *sels, const pp_rule_t *r,
                            pp_rx_state_t *rx, pp_rule_tag_fn tag, void *ctx)
{
    for (int i = 0; sels && i < sels->nelts; i++) {
        const pp_rule_sel_t *s = &APR_ARRAY_IDX(sels, i, pp_rule_sel_t);
        switch (s->kind) {
        case PP_SEL_BY_ID:
            if (r->id && apr_isdigit(r->id[0])) {
                char *end;
                apr_int64_t id = apr_strtoi64(r->id, &end, 10);
                if (!*end && id >= s->lo && id <= s->hi)
                    return true;
            }
            break;
        case PP_SEL_BY_TAG:
            for (unsigned t = 0; t < r->ntags; t++)
                if (re_match(s->re, rx, tag ? tag(ctx, r, t) : pp_str_from_cstr(r->tags[t])))
                    return true;
            break;
        case PP_SEL_BY_MSG: /* the msg as written, never expanded (ModSecurity: actionset->msg) */
            if (r->own && r->own->msg && re_match(s->re, rx, pp_str_from_cstr(r->own->msg)))
                return true;
            break;
        }
    }
    return false;
}

bool pp_rule_sel_match(const apr_array_header_t *sels, const pp_rule_t *r, pp_rx_state_t *rx)
{
    return pp_rule_sel_match_tags(sels, r, rx, NULL, NULL);
}
