/* Actions that reach outside the rules (reference §9.5): setenv (the request's environment, as
 * the application and Apache's other modules see it) and exec (a program), both per matching
 * value; append/prepend (content injection) are refused. */
#include "lang/actions2/actions2.h"
#include "rules/actions/actions.h"
#include "tx.h"

#include <apr_lib.h>

typedef struct setenv_t {
    const pp_macro_t *name;  /* "name" or "!name", expanded per match */
    const pp_macro_t *value; /* "1" when no '=' was given */
} setenv_t;

/* ModSecurity escapes the name as it logs text (log_escape_nq) and the value's NUL bytes, as
 * both go into Apache's subprocess environment. */
static const char *env_escape(apr_pool_t *p, pp_str_t s, bool name)
{
    char *out = apr_palloc(p, s.len * 4 + 1), *o = out;
    for (apr_size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.data[i];
        if (name ? (c < 0x20 || c > 0x7e) : c == 0)
            o += apr_snprintf(o, 5, "\\x%02x", c);
        else
            *o++ = (char)c;
    }
    *o = '\0';
    return out;
}

static void setenv_exec(pp_tx_t *tx, const void *arg)
{
    const setenv_t *se = arg;
    if (!tx->env)
        tx->env = apr_table_make(tx->pool, 4); /* no host environment (CLI) */
    const char *name = env_escape(tx->pool, pp_macro_expand(tx, se->name), true);
    if (name[0] == '!') {
        apr_table_unset(tx->env, name + 1);
        pp_debug(tx, 9, "Unset env variable \"%s\".", name + 1);
        return;
    }
    const char *value = env_escape(tx->pool, pp_macro_expand(tx, se->value), false);
    apr_table_set(tx->env, name, value);
    pp_debug(tx, 9, "Set env variable \"%s\" to: %s", name, value);
}

/* setenv:name=value, setenv:name (value 1), setenv:!name (unset); macros in both. */
const char *pp_a2_setenv(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                         pp_rule_action_t *a)
{
    (void)b;
    setenv_t *se = apr_pcalloc(ctx->cp, sizeof *se);
    const char *eq = strchr(v, '=');
    se->name = pp_macro_compile_shared(ctx->cp,
                                       eq ? apr_pstrmemdup(ctx->tp, v, (apr_size_t)(eq - v)) : v);
    se->value = pp_macro_compile_shared(ctx->cp, eq ? eq + 1 : "1");
    a->exec = setenv_exec;
    a->arg = se;
    return NULL;
}

/* exec: at most this many programs per transaction; a rule matching many values would
 * otherwise start one per value (ModSecurity does), a process storm a client controls. */
#define EXEC_MAX_PER_TX 10

typedef struct exec_t {
    const char *program;
    const char *id; /* the rule's, for MODSEC_RULE_ID */
    const pp_rule_t *rule;
} exec_t;

static void exec_exec(pp_tx_t *tx, const void *arg)
{
    const exec_t *e = arg;
    void *count = NULL;
    apr_pool_userdata_get(&count, "parapet-exec-count", tx->pool);
    apr_size_t n = (apr_size_t)count;
    if (n >= EXEC_MAX_PER_TX) {
        pp_debug(tx, 1, "exec %s (rule %s) not started: %d programs were started for this "
                        "request already", e->program, e->rule->id ? e->rule->id : "-",
                 EXEC_MAX_PER_TX);
        return;
    }
    apr_pool_userdata_setn((void *)(n + 1), "parapet-exec-count", NULL, tx->pool);
    pp_match_t m = { .id = e->rule->id, .severity = -1, .text = "" };
    if (e->rule->own && e->rule->own->msg)
        m.text = pp_macro_expand(tx, e->rule->msg_macro ? e->rule->msg_macro
                                   : pp_macro_compile(tx->pool, e->rule->own->msg)).data;
    pp_actions_exec(tx, e->program, &m);
}

/* exec:/path: the program alone, no shell, no arguments (util/proc.h through pp_actions_exec);
 * a Lua script (ModSecurity's exec:file.lua) is refused: Parapet runs no Lua. */
const char *pp_a2_exec(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                       pp_rule_action_t *a)
{
    apr_size_t n = strlen(v);
    if (n > 4 && strcasecmp(v + n - 4, ".lua") == 0)
        return apr_psprintf(ctx->tp, "exec:%s: Lua scripts are not supported by Parapet", v);
    if (v[0] != '/')
        return apr_psprintf(ctx->tp, "exec:%s: the program needs an absolute path", v);
    apr_finfo_t fi;
    if (apr_stat(&fi, v, APR_FINFO_TYPE | APR_FINFO_PROT, ctx->tp) != APR_SUCCESS ||
        fi.filetype != APR_REG || !(fi.protection & (APR_UEXECUTE | APR_GEXECUTE | APR_WEXECUTE)))
        return apr_psprintf(ctx->tp, "exec:%s: not an executable file", v);
    exec_t *e = apr_pcalloc(ctx->cp, sizeof *e);
    e->program = apr_pstrdup(ctx->cp, v);
    e->rule = b->rule;
    a->exec = exec_exec;
    a->arg = e;
    return NULL;
}

/* append/prepend inject text into the response body (SecContentInjection). Not implemented:
 * a configuration that relies on them is refused rather than run without them. */
static const char *inject(const pp_setter_ctx_t *ctx, const char *name)
{
    return apr_psprintf(ctx->tp, "%s: response content injection (SecContentInjection) is not "
                                 "implemented in Parapet", name);
}

const char *pp_a2_append(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                         pp_rule_action_t *a)
{
    (void)b, (void)v, (void)a;
    return inject(ctx, "append");
}

const char *pp_a2_prepend(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                          pp_rule_action_t *a)
{
    (void)b, (void)v, (void)a;
    return inject(ctx, "prepend");
}
