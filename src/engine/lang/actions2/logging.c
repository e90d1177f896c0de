/* Logging actions (reference §9.4) and capture. */
#include "lang/actions2/actions2.h"
#include "rules/variables/collection.h"
#include "tx.h"

#include <apr_lib.h>

const char *pp_a2_log(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                      pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->as->log = 1;
    return NULL;
}

/* nolog also takes the message out of the audit log, unless auditlog says otherwise
 * (before or after it). */
const char *pp_a2_nolog(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                        pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->as->log = 0;
    if (b->as->auditlog == PP_TRI_UNSET)
        b->as->auditlog = 0;
    return NULL;
}

const char *pp_a2_auditlog(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                           pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->as->auditlog = 1;
    return NULL;
}

const char *pp_a2_noauditlog(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                             pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->as->auditlog = 0;
    return NULL;
}

const char *pp_a2_capture(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                          pp_rule_action_t *run)
{
    (void)v, (void)run;
    b->rule->capture = true;
    /* TX:0-9 set per match through keys folded and hashed here, shared by the pool's rules */
    void *data = NULL;
    apr_pool_userdata_get(&data, "parapet-capture-keys", ctx->cp);
    if (!data) {
        const pp_coll_key_t **keys = apr_palloc(ctx->cp, PP_OP_CAPTURES * sizeof *keys);
        for (unsigned k = 0; k < PP_OP_CAPTURES; k++) {
            char name[2] = { (char)('0' + k), '\0' };
            keys[k] = pp_coll_key_make(ctx->cp, (pp_str_t){ name, 1 });
        }
        apr_pool_userdata_set(keys, "parapet-capture-keys", apr_pool_cleanup_null, ctx->cp);
        data = keys;
    }
    b->rule->capture_keys = data;
    return NULL;
}

/* ---- sanitise* (and the sanitize* spellings): what the audit log masks (log/sanitise.c) -- */

typedef struct sanitise_t {
    int kind;         /* pp_sanitise_kind_t, or -1: the matched variable's */
    const char *name; /* sanitiseArg/RequestHeader/ResponseHeader: the name */
    bool bytes;       /* sanitiseMatchedBytes */
    int keep_first, keep_last;
} sanitise_t;

/* The variables sanitiseMatched knows (ModSecurity's list): values and names of arguments and
 * of request and response headers. */
static int matched_kind(const char *var)
{
    static const struct { const char *var; int kind; } known[] = {
        { "ARGS", PP_SANITISE_ARG },
        { "ARGS_NAMES", PP_SANITISE_ARG },
        { "REQUEST_HEADERS", PP_SANITISE_REQUEST_HEADER },
        { "REQUEST_HEADERS_NAMES", PP_SANITISE_REQUEST_HEADER },
        { "RESPONSE_HEADERS", PP_SANITISE_RESPONSE_HEADER },
        { "RESPONSE_HEADERS_NAMES", PP_SANITISE_RESPONSE_HEADER },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].var, var) == 0)
            return known[i].kind;
    return -1;
}

static void sanitise_exec(pp_tx_t *tx, const void *arg)
{
    const sanitise_t *s = arg;
    if (s->kind >= 0) {
        pp_tx_sanitise(tx, (pp_sanitise_kind_t)s->kind, pp_str_from_cstr(s->name));
        return;
    }
    const pp_target_t *t = tx->matched.target;
    int kind = t ? matched_kind(t->var->name) : -1;
    if (kind < 0 || !tx->matched.name.data) {
        pp_debug(tx, 3, "sanitizeMatched: Don't know how to handle variable: %s",
                 t ? t->var->name : "-");
        return;
    }
    if (s->bytes)
        pp_tx_sanitise_bytes(tx, (pp_sanitise_kind_t)kind, tx->matched.name, tx->matched.value,
                             s->keep_first, s->keep_last);
    else
        pp_tx_sanitise(tx, (pp_sanitise_kind_t)kind, tx->matched.name);
}

static const char *sanitise_row(const pp_setter_ctx_t *ctx, pp_rule_action_t *a, int kind,
                                const char *name, bool bytes, const char *v)
{
    sanitise_t *s = apr_pcalloc(ctx->cp, sizeof *s);
    s->kind = kind;
    s->name = name ? apr_pstrdup(ctx->cp, name) : NULL;
    s->bytes = bytes;
    if (bytes && v) {
        /* :a/b, one digit each (ModSecurity reads exactly three characters). */
        if (strlen(v) != 3 || !apr_isdigit(v[0]) || v[1] != '/' || !apr_isdigit(v[2]))
            return apr_psprintf(ctx->tp, "sanitiseMatchedBytes:%s: expected a/b (digits: the "
                                         "bytes kept at the start and at the end)", v);
        s->keep_first = v[0] - '0';
        s->keep_last = v[2] - '0';
    }
    a->exec = sanitise_exec;
    a->arg = s;
    return NULL;
}

const char *pp_a2_sanitise_arg(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                               pp_rule_action_t *a)
{
    (void)b;
    return sanitise_row(ctx, a, PP_SANITISE_ARG, v, false, NULL);
}

const char *pp_a2_sanitise_request_header(const pp_setter_ctx_t *ctx, pp_rule_build_t *b,
                                          const char *v, pp_rule_action_t *a)
{
    (void)b;
    return sanitise_row(ctx, a, PP_SANITISE_REQUEST_HEADER, v, false, NULL);
}

const char *pp_a2_sanitise_response_header(const pp_setter_ctx_t *ctx, pp_rule_build_t *b,
                                           const char *v, pp_rule_action_t *a)
{
    (void)b;
    return sanitise_row(ctx, a, PP_SANITISE_RESPONSE_HEADER, v, false, NULL);
}

const char *pp_a2_sanitise_matched(const pp_setter_ctx_t *ctx, pp_rule_build_t *b,
                                   const char *v, pp_rule_action_t *a)
{
    (void)b, (void)v;
    return sanitise_row(ctx, a, -1, NULL, false, NULL);
}

const char *pp_a2_sanitise_matched_bytes(const pp_setter_ctx_t *ctx, pp_rule_build_t *b,
                                         const char *v, pp_rule_action_t *a)
{
    (void)b;
    return sanitise_row(ctx, a, -1, NULL, true, v);
}
