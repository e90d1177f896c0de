/*
 * Variable collectors (reference §4). Generic ones read a transaction field named by the row's
 * `data`; the rest compute values (time, script file metadata, files). Collectors return
 * pointers into transaction memory and never copy request data.
 */
#include "rules/variables/variables.h"
#include "rules/variables/collection.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_user.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#define TX_FIELD(tx, t, type) (*(type *)((char *)(tx) + (t)->var->data))

static void push(apr_array_header_t *out, pp_str_t value, pp_str_t name)
{
    pp_value_t *v = apr_array_push(out);
    v->value = value;
    v->name = name;
    v->sketch = NULL;
    v->checks = 0;
}

/* Room for n more values in out, in one allocation: the values array starts with room for one
 * (rules/values.c), and pushing a request's five arguments one by one grew it three times (an
 * allocation, a copy and a clear each). The new room is cleared, as apr_array_push clears what
 * it adds, so collectors may leave fields unset. */
static void reserve(apr_array_header_t *out, int n)
{
    int need = out->nelts + n;
    if (need <= out->nalloc)
        return;
    char *elts = apr_palloc(out->pool, (apr_size_t)need * (apr_size_t)out->elt_size);
    apr_size_t used = (apr_size_t)out->nelts * (apr_size_t)out->elt_size;
    memcpy(elts, out->elts, used);
    memset(elts + used, 0, (apr_size_t)n * (apr_size_t)out->elt_size);
    out->elts = elts;
    out->nalloc = need;
}

apr_status_t pp_var_tx_str(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    /* SERVER_PORT is made when the connection's description is completed (a host call). */
    if (t->var->data == offsetof(pp_tx_t, server_port))
        pp_tx_conn(tx);
    pp_str_t s = TX_FIELD(tx, t, pp_str_t);
    if (s.data)
        push(out, s, PP_STR_NULL);
    return APR_SUCCESS;
}

apr_status_t pp_var_conn_str(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    const char *s = *(const char **)((const char *)pp_tx_conn(tx) + t->var->data);
    if (s)
        push(out, pp_str_from_cstr(s), PP_STR_NULL);
    return APR_SUCCESS;
}

static bool name_eq_n(pp_str_t a, const char *b, apr_size_t n, bool icase)
{
    return a.len == n && (icase ? strncasecmp(a.data, b, n) : memcmp(a.data, b, n)) == 0;
}

static bool name_eq(pp_str_t a, const char *b, bool icase)
{
    return name_eq_n(a, b, strlen(b), icase);
}

static apr_status_t collect_fields(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out,
                                   bool icase)
{
    const apr_array_header_t *a = TX_FIELD(tx, t, apr_array_header_t *);
    if (!a)
        return APR_SUCCESS;
    if (!t->selector) {
        reserve(out, a->nelts);
        for (int i = 0; i < a->nelts; i++) {
            const pp_field_t *f = &APR_ARRAY_IDX(a, i, pp_field_t);
            push(out, f->value, f->name);
        }
        return APR_SUCCESS;
    }
    apr_size_t n = strlen(t->selector);
    icase = icase || pp_var_lang2(t);
    for (int i = 0; i < a->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(a, i, pp_field_t);
        if (name_eq_n(f->name, t->selector, n, icase))
            push(out, f->value, f->name);
    }
    return APR_SUCCESS;
}

apr_status_t pp_var_fields(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    return collect_fields(tx, t, out, false);
}

apr_status_t pp_var_fields_icase(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    return collect_fields(tx, t, out, true);
}

/* ARGS_NAMES, REQUEST_HEADERS_NAMES...: a selector keeps the members of that name, as in
 * ModSecurity 2 (ARGS_NAMES:a), ignoring case for 2.x targets and for headers. */
apr_status_t pp_var_field_names(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    const apr_array_header_t *a = TX_FIELD(tx, t, apr_array_header_t *);
    bool icase = pp_var_lang2(t) || a == tx->headers || a == tx->response_headers;
    if (a && !t->selector)
        reserve(out, a->nelts);
    for (int i = 0; a && i < a->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(a, i, pp_field_t);
        if (!t->selector || name_eq(f->name, t->selector, icase))
            push(out, f->name, f->name);
    }
    return APR_SUCCESS;
}

static pp_str_t number(apr_pool_t *p, apr_int64_t n)
{
    return pp_str_from_cstr(apr_psprintf(p, "%" APR_INT64_T_FMT, n));
}

apr_status_t pp_var_field_count(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    const apr_array_header_t *a = TX_FIELD(tx, t, apr_array_header_t *);
    push(out, number(tx->pool, a ? a->nelts : 0), PP_STR_NULL);
    return APR_SUCCESS;
}

/* "name=value" for arguments, "Name: Value" for headers (reference §3.5, §4.2). */
apr_status_t pp_var_field_pairs(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    const apr_array_header_t *a = TX_FIELD(tx, t, apr_array_header_t *);
    bool headers = a == tx->headers;
    for (int i = 0; a && i < a->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(a, i, pp_field_t);
        apr_size_t sep = headers ? 2 : 1;
        char *s = apr_palloc(tx->pool, f->name.len + sep + f->value.len + 1);
        memcpy(s, f->name.data, f->name.len);
        memcpy(s + f->name.len, headers ? ": " : "=", sep);
        memcpy(s + f->name.len + sep, f->value.data, f->value.len);
        s[f->name.len + sep + f->value.len] = '\0';
        push(out, (pp_str_t){ s, f->name.len + sep + f->value.len }, f->name);
    }
    return APR_SUCCESS;
}

/* A collection that is always empty here (GEO: @geoLookup never fills it). */
apr_status_t pp_var_none(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    return APR_SUCCESS;
}

apr_status_t pp_var_constant(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    switch (t->var->data) {
    case PP_CONST_ZERO: push(out, PP_STR("0"), PP_STR_NULL); break;
    case PP_CONST_MODSEC_BUILD: push(out, PP_STR("020907900"), PP_STR_NULL); break;
    default: push(out, PP_STR("20120211"), PP_STR_NULL); /* Apache 2.4 module API */
    }
    return APR_SUCCESS;
}

apr_status_t pp_var_env(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    const char *v = tx->env ? apr_table_get(tx->env, t->selector) : NULL;
    if (!v)
        v = apr_table_get(tx->env_out, t->selector);
    /* ModSecurity 2 names the value plain ENV (MATCHED_VAR_NAME), not ENV:key. */
    if (v)
        push(out, pp_str_from_cstr(v), pp_var_lang2(t) ? PP_STR_NULL : pp_str_from_cstr(t->selector));
    return APR_SUCCESS;
}

apr_status_t pp_var_time(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    apr_time_exp_t e;
    apr_time_exp_lt(&e, apr_time_now());
    const char *s;
    switch (t->var->data) {
    case PP_TIME_YEAR: s = apr_psprintf(tx->pool, "%04d", e.tm_year + 1900); break;
    case PP_TIME_MON: s = apr_psprintf(tx->pool, "%02d", e.tm_mon + 1); break;
    case PP_TIME_DAY: s = apr_psprintf(tx->pool, "%02d", e.tm_mday); break;
    case PP_TIME_HOUR: s = apr_psprintf(tx->pool, "%02d", e.tm_hour); break;
    case PP_TIME_MIN: s = apr_psprintf(tx->pool, "%02d", e.tm_min); break;
    case PP_TIME_SEC: s = apr_psprintf(tx->pool, "%02d", e.tm_sec); break;
    case PP_TIME_WDAY: s = apr_psprintf(tx->pool, "%d", e.tm_wday); break;
    default:
        s = apr_psprintf(tx->pool, "%04d%02d%02d%02d%02d%02d", e.tm_year + 1900, e.tm_mon + 1,
                         e.tm_mday, e.tm_hour, e.tm_min, e.tm_sec);
    }
    push(out, pp_str_from_cstr(s), PP_STR_NULL);
    return APR_SUCCESS;
}

apr_status_t pp_var_script(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    struct stat st;
    if (!pp_tx_conn(tx)->script_filename || stat(pp_tx_conn(tx)->script_filename, &st) != 0)
        return APR_SUCCESS;
    const char *s = NULL;
    switch (t->var->data) {
    case PP_SCRIPT_UID: s = apr_psprintf(tx->pool, "%lu", (unsigned long)st.st_uid); break;
    case PP_SCRIPT_GID: s = apr_psprintf(tx->pool, "%lu", (unsigned long)st.st_gid); break;
    case PP_SCRIPT_MODE: s = apr_psprintf(tx->pool, "%04o", (unsigned)(st.st_mode & 07777)); break;
    case PP_SCRIPT_USERNAME: {
        char *name;
        if (apr_uid_name_get(&name, st.st_uid, tx->pool) == APR_SUCCESS)
            s = name;
        break;
    }
    case PP_SCRIPT_GROUPNAME: {
        char *name;
        if (apr_gid_name_get(&name, st.st_gid, tx->pool) == APR_SUCCESS)
            s = name;
        break;
    }
    }
    if (s)
        push(out, pp_str_from_cstr(s), PP_STR_NULL);
    return APR_SUCCESS;
}

/* The request's path as a 2.x rule sees it: Apache's r->uri, which is the raw path in phase 1
 * and the percent-decoded, normalised one from fixups on (/a%41b/./c//d → /aAb/c/d), as
 * ModSecurity 2.9.7 reads it; the raw path for a 1.9 target or without an adapter. */
static pp_str_t request_path(pp_tx_t *tx, const pp_target_t *t)
{
    /* Given with the connection's description (pp_tx_set_conn), never by its completion: the
     * host's calls that pp_tx_conn makes are not needed for it. */
    const char *uri = tx->conn.uri;
    return uri && pp_var_lang2(t) ? pp_str_from_cstr(uri) : tx->path;
}

/* REQUEST_URI (the path and, when the request had a '?', it and the raw query string) and
 * REQUEST_FILENAME (the path). */
apr_status_t pp_var_request_path(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    pp_str_t raw = t->var->data == PP_PATH_URI ? tx->uri : tx->path;
    pp_str_t path = request_path(tx, t);
    if (!raw.data)
        return APR_SUCCESS;
    /* A path that decoding and normalising left as it was: the raw URI is the answer. */
    if (path.data == tx->path.data ||
        (path.len == tx->path.len && memcmp(path.data, tx->path.data, path.len) == 0)) {
        push(out, raw, PP_STR_NULL);
        return APR_SUCCESS;
    }
    const char *q = t->var->data == PP_PATH_URI ? memchr(raw.data, '?', raw.len) : NULL;
    if (q) {
        /* path '?' query, as ModSecurity joins r->uri and r->args */
        char *u = apr_palloc(tx->pool, path.len + 1 + tx->query.len + 1);
        memcpy(u, path.data, path.len);
        u[path.len] = '?';
        if (tx->query.len)
            memcpy(u + path.len + 1, tx->query.data, tx->query.len);
        u[path.len + 1 + tx->query.len] = '\0';
        path = (pp_str_t){ u, path.len + 1 + tx->query.len };
    }
    push(out, path, PP_STR_NULL);
    return APR_SUCCESS;
}

apr_status_t pp_var_basename(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    const char *script = pp_tx_conn(tx)->script_filename;
    /* No script file: no SCRIPT_BASENAME, as there is no SCRIPT_FILENAME (not an empty one). */
    pp_str_t p = t->var->data != PP_BASENAME_SCRIPT ? request_path(tx, t)
                 : script                           ? pp_str_from_cstr(script)
                                                    : PP_STR_NULL;
    if (!p.data)
        return APR_SUCCESS;
    apr_size_t i = p.len;
    while (i > 0 && p.data[i - 1] != '/' && p.data[i - 1] != '\\')
        i--;
    push(out, (pp_str_t){ p.data + i, p.len - i }, PP_STR_NULL);
    return APR_SUCCESS;
}

apr_status_t pp_var_files(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    for (int i = 0; tx->files && i < tx->files->nelts; i++) {
        const pp_file_t *f = &APR_ARRAY_IDX(tx->files, i, pp_file_t);
        if (t->selector && !name_eq(f->field, t->selector, pp_var_lang2(t)))
            continue;
        /* a file kept in memory has no temporary name: no value, as in ModSecurity */
        if (t->var->data == PP_FILES_TMPNAMES && !f->tmpname.len)
            continue;
        pp_str_t v = t->var->data == PP_FILES_NAMES   ? f->filename
                     : t->var->data == PP_FILES_SIZES ? number(tx->pool, f->size)
                                                      : f->tmpname;
        push(out, v, f->field);
    }
    return APR_SUCCESS;
}

apr_status_t pp_var_files_count(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    push(out, number(tx->pool, tx->files ? tx->files->nelts : 0), PP_STR_NULL);
    return APR_SUCCESS;
}

/* "0" before the response, as in ModSecurity 2 (phases 1 and 2 read it so). */
apr_status_t pp_var_response_status(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    push(out, number(tx->pool, tx->status), PP_STR_NULL);
    return APR_SUCCESS;
}

apr_status_t pp_var_is_subreq(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    push(out, pp_tx_conn(tx)->is_subreq ? PP_STR("true") : PP_STR("false"), PP_STR_NULL);
    return APR_SUCCESS;
}

/* ---- TX and the last match ---------------------------------------------------------------- */

pp_coll_t *pp_tx_collection(pp_tx_t *tx)
{
    if (!tx->coll_tx)
        tx->coll_tx = pp_coll_create(tx->pool, "tx");
    return tx->coll_tx;
}

/* TX: every member in the order set, or the one the selector names (any case). TX:/re/ leaves
 * out here the members whose name lacks the regex's literal needs, which could not match
 * (rules/values.c runs the regex on the rest): CRS's &TX:/LEAKAGE\/ERRORS/ (phase 5) and
 * TX:/^MSC_/ copied every one of ~150 members to drop them all. A member spelt by a key the
 * configuration prepared (setvar:tx.literal) has that answer from start-up. */
apr_status_t pp_var_tx_coll(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    const pp_coll_t *c = tx->coll_tx;
    tx->coll_tx_found = NULL;
    if (!c)
        return APR_SUCCESS;
    if (t->selector) {
        const pp_coll_entry_t *e = pp_coll_get(c, pp_str_from_cstr(t->selector));
        tx->coll_tx_found = e;
        if (e)
            push(out, e->value, e->name);
        return APR_SUCCESS;
    }
    const pp_rx_needs_t *needs = t->key_regex ? pp_regex_needs(t->key_regex) : NULL;
    unsigned bit = t->key_rx_bit;
    int n;
    const pp_coll_entry_t *const *place = pp_coll_places(c, &n);
    for (int i = 0; i < n; i++) {
        const pp_coll_entry_t *e = place[i];
        if (!e)
            continue; /* removed */
        const pp_coll_key_t *k = e->key;
        if (needs && k && k->key_rx_set == t->key_rx_set && bit < k->key_rx_n) {
            /* spelt by a prepared key: answered at start-up (pp_target_keys_finish) */
            if (!((k->key_rx_no >> bit) & 1))
                push(out, e->value, e->name);
        } else if (!needs || pp_rx_needs_met(needs, e->name, NULL)) {
            push(out, e->value, e->name);
        }
    }
    return APR_SUCCESS;
}

/* The name of a match as MATCHED_VAR_NAME gives it: "ARGS:a", "REQUEST_URI", or the
 * member's own whole name when it came from MATCHED_VARS. */
static pp_str_t matched_name(apr_pool_t *p, const pp_matched_t *m)
{
    const char *var = m->target->var->name;
    pp_str_t n = m->name;
    if (n.data && (m->target->var->flags & PP_VAR_FULL_NAMES))
        return n;
    return pp_str_from_cstr(n.data ? apr_psprintf(p, "%s:%.*s", var, (int)n.len, n.data) : var);
}

/* MATCHED_VAR (the value, as the operator saw it) and MATCHED_VAR_NAME ("ARGS:a"). */
apr_status_t pp_var_matched(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    if (!tx->matched.target)
        return APR_SUCCESS;
    if (t->var->data == PP_MATCHED_VALUE) {
        push(out, tx->matched.value, PP_STR_NULL);
        return APR_SUCCESS;
    }
    push(out, matched_name(tx->pool, &tx->matched), PP_STR_NULL);
    return APR_SUCCESS;
}

/* MATCHED_VARS / MATCHED_VARS_NAMES: the matches of the rule (chain) being run that the
 * current link sees (rules/eval.c), each named by its whole name ("ARGS:a"); the value is the
 * transformed value, or that name. A selector keeps the members of that name (any case). */
apr_status_t pp_var_matched_vars(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    for (int i = 0; tx->rule2.vars && i < tx->rule2.visible; i++) {
        const pp_matched_t *m = &APR_ARRAY_IDX(tx->rule2.vars, i, pp_matched_t);
        pp_str_t name = matched_name(tx->pool, m);
        if (t->selector && !name_eq(name, t->selector, true))
            continue;
        push(out, t->var->data == PP_MATCHED_VALUE ? m->value : name, name);
    }
    return APR_SUCCESS;
}

/* HIGHEST_SEVERITY: the lowest severity (1-7) of a 2.x rule that matched so far; 255 none. */
apr_status_t pp_var_highest_severity(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    push(out, number(tx->pool, tx->highest_severity ? tx->highest_severity : 255), PP_STR_NULL);
    return APR_SUCCESS;
}

/* RULE:key, the metadata of the 2.x rule being run (the starter's, for a chain link), as
 * written: id, rev, severity (a number), msg and logdata (not expanded), ver, maturity,
 * accuracy. Nothing for a key the rule does not set, or outside a rule. */
apr_status_t pp_var_rule(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    const pp_rule_t *r = tx->rule2.rule;
    if (!r || !t->selector)
        return APR_SUCCESS;
    const pp_actionset_t *as = r->effective;
    const char *k = t->selector, *v = NULL;
    if (strcasecmp(k, "id") == 0)
        v = as->id;
    else if (strcasecmp(k, "rev") == 0)
        v = as->rev;
    else if (strcasecmp(k, "severity") == 0)
        v = as->severity >= 0 ? apr_itoa(tx->pool, as->severity) : NULL;
    else if (strcasecmp(k, "msg") == 0)
        v = as->msg;
    else if (strcasecmp(k, "logdata") == 0)
        v = r->logdata ? pp_macro_text(r->logdata) : NULL;
    else if (strcasecmp(k, "ver") == 0)
        v = r->ver;
    else if (strcasecmp(k, "maturity") == 0)
        v = r->maturity;
    else if (strcasecmp(k, "accuracy") == 0)
        v = r->accuracy;
    if (v)
        push(out, pp_str_from_cstr(v), PP_STR_NULL);
    return APR_SUCCESS;
}
