/*
 * What a rule (or chain) that matched does. 1.9 (reference §8.4): its message, setenv,
 * setnote, pause, exec and its action (deny, redirect, proxy, allow, pass). 2.x (reference
 * secrule-2.9 §5.6, §9.1): its message in ModSecurity 2.9's words, HIGHEST_SEVERITY, and its
 * disruptive action (deny, drop, redirect, proxy, allow in its three forms, pause), which in
 * DetectionOnly and in phase 5 only warns. Called by the phase loop (rules/eval.c). Also where
 * a match is logged (location).
 */
#include "rules/actions/actions.h"
#include "rules/operators/operators.h"
#include "rules/eval_parts.h"
#include "log/log.h"
#include "tx.h"

#include <stdlib.h>

/* Where a value matched, as the log names it (1.9 ARG("a"), 2.x ARGS:a). */
const char *pp_eval_location(pp_tx_t *tx, const hit_t *hit)
{
    if (hit->target->var->flags & PP_VAR_FULL_NAMES) /* MATCHED_VARS: "ARGS:a" as it is */
        return pp_str_log_escape(tx->pool, hit->name, 256);
    /* 2.x: a value without a name of its own is logged by the variable's name (RULE:id,
     * ENV:x and XML:/path match "at RULE.", "at ENV.", "at XML."). */
    if (hit->target->label_colon && !hit->name.data && !hit->target->count)
        return hit->target->var->name;
    if (hit->target->label_colon && hit->name.data && !hit->target->count)
        return apr_pstrcat(tx->pool, hit->target->var->name, ":",
                           pp_str_log_escape(tx->pool, hit->name, 128), NULL);
    if (!hit->target->label_names_value || !hit->name.data)
        return hit->target->label;
    if (hit->target->label_colon) /* 2.x: the member's own name, as ModSecurity logs it */
        return apr_pstrcat(tx->pool, hit->target->var->name, ":",
                           pp_str_log_escape(tx->pool, hit->name, 128), NULL);
    return apr_psprintf(tx->pool, "%s(\"%s\")", hit->target->label,
                        pp_str_log_escape(tx->pool, hit->name, 128));
}

/* ---- The match record: one path for both languages, its message made when read -------- */

/* 1.9's words for what the rule did. */
static const char *verdict_text(pp_tx_t *tx, const pp_actionset_t *as)
{
    switch (as->disruptive) {
    case PP_ACTION_DENY:
        return apr_psprintf(tx->pool, "Access denied with code %d.",
                            as->status != PP_TRI_UNSET ? as->status : 403);
    case PP_ACTION_REDIRECT:
        return apr_psprintf(tx->pool, "Access denied with redirect to [%s].", as->url);
    case PP_ACTION_PROXY:
        return apr_psprintf(tx->pool, "Access denied using proxy to [%s].", as->url);
    case PP_ACTION_ALLOW:
        return "Access allowed.";
    default:
        return "Warning.";
    }
}

/* What a match's message fields are made from (pp_match_full), copied at the match: pointers to
 * the rules, its actions and the matched value (transaction memory), no text. */
struct pp_match_pending_t {
    pp_tx_t *tx;
    const pp_rule_t *r;        /* 1.9: the member whose actions ran; 2.x: the chain starter */
    const pp_rule_t *last;     /* the link that matched last (its operator is the message's) */
    const pp_actionset_t *as;
    const char *head;          /* 2.x: the interception's words; NULL: "Warning." */
    const pp_target_t *target; /* NULL for SecAction */
    pp_str_t name, value, data;
    bool limit;                /* 1.9: the regex hit its limit (fail closed) */
};

/* 1.9's message line: "<verdict> Pattern match "<arg>" at <location>. [id] [rev] [msg] [severity]". */
static void make_text19(pp_match_t *m, const struct pp_match_pending_t *p, const hit_t *hit)
{
    pp_tx_t *tx = p->tx;
    const pp_rule_t *r = p->r;
    m->var = pp_eval_location(tx, hit);
    const char *meta = apr_pstrcat(
        tx->pool, m->id ? apr_psprintf(tx->pool, " [id \"%s\"]", m->id) : "",
        m->rev ? apr_psprintf(tx->pool, " [rev \"%s\"]", m->rev) : "",
        m->msg ? apr_psprintf(tx->pool, " [msg \"%s\"]", m->msg) : "",
        m->severity >= 0 ? apr_psprintf(tx->pool, " [severity \"%s\"]",
                                        pp_severity_name(m->severity)) : "",
        NULL);
    m->text = apr_psprintf(tx->pool, "%s %s \"%s%s\" at %s.%s", verdict_text(tx, p->as),
                           hit->limit ? "Regex resource limit hit (fail closed) in pattern"
                                      : "Pattern match",
                           r->op.negated ? "!" : "", r->op.arg, m->var, meta);
}

/* The message of a 2.x match, in ModSecurity 2.9's words (log/errlog.c): without the
 * "ModSecurity: " prefix and the [hostname] [uri] [unique_id] the host adds. Metadata comes
 * from the chain starter r, the operator message from the link that matched last. msg,
 * logdata and tags are expanded without a rule: %{RULE.x} is empty there, as in ModSecurity
 * (it passes no rule to that expansion). */
static void make_text2(pp_match_t *m, const struct pp_match_pending_t *p, const hit_t *hit)
{
    pp_tx_t *tx = p->tx;
    const pp_rule_t *r = p->r, *last = p->last;
    const pp_actionset_t *as = p->as;
    const pp_rule_t *running = tx->rule2.rule;
    tx->rule2.rule = NULL;
    /* The templates compiled at start-up (lang/secrule.c); a rule made otherwise compiles here. */
    m->msg = r->msg_macro && as->msg == r->own->msg ? pp_macro_expand(tx, r->msg_macro).data
             : as->msg ? pp_macro_expand(tx, pp_macro_compile(tx->pool, as->msg)).data
                       : NULL;
    pp_ms2_alert_t a = { .file = r->file, .line = r->line, .id = m->id, .rev = m->rev,
                         .msg = m->msg, .severity = m->severity, .ver = r->ver,
                         .maturity = r->maturity, .accuracy = r->accuracy };
    if (r->always) {
        a.what = "Unconditional match in SecAction.";
    } else {
        m->var = pp_eval_location(tx, hit);
        /* The operator as written (!@STREQ keeps its spelling, as in ModSecurity), its
         * argument as run: a template's expansion, for @rx the pattern compiled from it (a
         * negated operator's message shows the argument as written, as there). Other
         * operators use their row's own words when it has them (ModSecurity's, per operator). */
        const void *c = pp_rule_op_compiled(tx, last);
        bool rx = strcmp(last->op.def->name, "rx") == 0;
        const char *param = last->op.arg;
        if (!last->op.negated && rx && c)
            param = pp_regex_pattern(c);
        else if (!last->op.negated && last->op.macro)
            param = pp_macro_expand(tx, last->op.macro).data;
        if (!last->op.negated && !rx && last->op.def->words && (c || !last->op.macro))
            a.what = last->op.def->words(tx->pool, c, last->op.arg, hit->value, &hit->out,
                                         m->var);
        if (!a.what) {
            pp_ms2_op_t op = { .name = last->op.name ? last->op.name : last->op.def->name,
                               .param = param, .negated = last->op.negated, .var = m->var,
                               .value = hit->value, .data = hit->out.data };
            a.what = pp_ms2_op_message(tx->pool, &op);
        }
    }
    a.action = p->head ? p->head : "Warning.";
    pp_str_t data;
    if (r->logdata) {
        data = pp_macro_expand(tx, r->logdata);
        a.data = &data;
        m->data = data;
    }
    const char **tags = apr_palloc(tx->pool, sizeof *tags * (r->ntags + 1));
    for (unsigned i = 0; i < r->ntags; i++)
        tags[i] = pp_macro_expand(tx, r->tag_macros ? r->tag_macros[i]
                                                    : pp_macro_compile(tx->pool, r->tags[i])).data;
    a.tags = tags;
    a.ntags = r->ntags;
    m->tags = tags;
    m->ntags = r->ntags;
    m->text = pp_ms2_alert_text(tx->pool, &a);
    m->what = a.what;
    tx->rule2.rule = running;
}

const pp_match_t *pp_match_full(const pp_match_t *cm)
{
    if (!cm->pending)
        return cm;
    pp_match_t *m = (pp_match_t *)cm; /* made by record_match below in the transaction's pool */
    const struct pp_match_pending_t *p = m->pending;
    hit_t hit = { .target = p->target, .name = p->name, .value = p->value,
                  .out = { .data = p->data }, .limit = p->limit };
    m->pending = NULL;
    if (p->r->lang2)
        make_text2(m, p, &hit);
    else
        make_text19(m, p, &hit);
    return m;
}

/* APR_ARRAY_PUSH of a pointer, without the call while the array has room (CRS: ~75 matches a
 * GET, nearly all nolog rules that only set TX or skip). A full array grows to at least
 * PUSH_MIN_GROWTH elements at once, unzeroed: doubling from 2 through apr_array_push made ~10
 * copies and clears per CRS GET. */
#define PUSH_MIN_GROWTH 64
static inline void push_ptr(apr_array_header_t *a, const void *p)
{
    if (a->nelts == a->nalloc) {
        int n = a->nalloc * 2 > PUSH_MIN_GROWTH ? a->nalloc * 2 : PUSH_MIN_GROWTH;
        const void **elts = apr_palloc(a->pool, (apr_size_t)n * sizeof *elts);
        if (a->nelts)
            memcpy(elts, a->elts, (apr_size_t)a->nelts * sizeof *elts);
        a->elts = (char *)elts;
        a->nalloc = n;
    }
    ((const void **)a->elts)[a->nelts++] = p;
}

/* Records the match of rule r (1.9: the member whose actions run; 2.x: the chain starter, last
 * the link that matched last) in tx->matches and makes the request audit-relevant as its
 * actions say. Its message fields are made now when read_now (the caller logs it or
 * intercepts with it), when it is audit-relevant or the host keeps every text; otherwise
 * pp_match_full makes them if anything asks (the common case, a CRS nolog rule, never). */
typedef struct match_rec_t {
    pp_match_t m;
    struct pp_match_pending_t p;
} match_rec_t;

/* A match's record (the match and what makes its text): taken from a block of MATCH_RECS made
 * in the transaction's pool, one allocation for 16 matches (CRS: ~75 a GET) instead of one
 * each. */
#define MATCH_RECS 16
static inline match_rec_t *new_rec(pp_tx_t *tx)
{
    if (!tx->match_recs_left) {
        tx->match_recs = apr_palloc(tx->pool, MATCH_RECS * sizeof(match_rec_t));
        tx->match_recs_left = MATCH_RECS;
    }
    return (match_rec_t *)tx->match_recs + --tx->match_recs_left;
}

static pp_match_t *record_match(pp_tx_t *tx, const pp_rule_t *r, const pp_rule_t *last,
                                const pp_actionset_t *as, const hit_t *hit, pp_phase_t phase,
                                const char *head, bool read_now)
{
    match_rec_t *rec = new_rec(tx);
    pp_match_t *m = &rec->m;
    *m = (pp_match_t){ .id = as->id, .rev = as->rev, .severity = as->severity, .phase = phase,
                       .logged = as->log != 0, .pending = &rec->p };
    if (!r->lang2)
        m->msg = as->msg;
    rec->p = (struct pp_match_pending_t){ .tx = tx, .r = r, .last = last, .as = as,
                                          .head = head };
    if (!r->always && hit->target) {
        rec->p.target = hit->target;
        rec->p.name = hit->name;
        rec->p.value = hit->value;
        rec->p.data = hit->out.data;
        rec->p.limit = hit->limit;
    }
    push_ptr(tx->matches, m);
    if ((m->logged && as->auditlog != 0) || as->auditlog == 1)
        tx->verdict.relevant = true;
    if (r->lang2) { /* part K of the 2.x audit log */
        if (!tx->matched_rules)
            tx->matched_rules = apr_array_make(tx->pool, 0, sizeof(const pp_rule_t *));
        push_ptr(tx->matched_rules, r);
    }
    if (read_now || as->auditlog == 1 || tx->keep_match_texts)
        pp_match_full(m);
    return m;
}

/* ---- 1.9 rules ---------------------------------------------------------------------------- */

/* A 1.9 rule's actions: made at start-up, or merged now for a rule made without them. */
const pp_actionset_t *pp_eval_effective_actions(pp_tx_t *tx, const pp_rule_t *r)
{
    if (r->effective)
        return r->effective;
    const pp_actionset_t *dflt = pp_cfg_default_action(tx->cfg);
    if (!r->own)
        return dflt;
    return pp_actionset_merge(tx->pool, pp_actionset_merge(tx->pool, dflt, r->signature), r->own);
}

/* Side effects that run on every match, whatever the outcome (reference §8.1 "secondary"). */
static void run_secondary(pp_tx_t *tx, const pp_actionset_t *as, const pp_match_t *m)
{
    for (int i = 0; as->setenv && i < as->setenv->nelts; i++) {
        const pp_kv_t *kv = &APR_ARRAY_IDX(as->setenv, i, pp_kv_t);
        apr_table_set(tx->env_out, kv->name, kv->value);
    }
    for (int i = 0; as->setnote && i < as->setnote->nelts; i++) {
        const pp_kv_t *kv = &APR_ARRAY_IDX(as->setnote, i, pp_kv_t);
        apr_table_set(tx->notes_out, kv->name, kv->value);
    }
    if (m->logged) {
        apr_table_add(tx->headers_out, "mod_security-message", m->text);
        pp_debug_write19(tx, 1, m->text);
    }
    if (as->pause_ms > 0)
        apr_sleep(apr_time_from_msec(as->pause_ms));
    if (as->exec)
        pp_actions_exec(tx, as->exec, m);
}

/* The outcome of a 1.9 rule (chain, r its last member) that matched. Returns true when
 * processing of the phase must stop. */
bool pp_eval_apply_outcome(pp_tx_t *tx, const pp_rule_t *r, const hit_t *hit, pp_phase_t phase)
{
    const pp_actionset_t *as = pp_eval_effective_actions(tx, r);
    /* Read now: the mod_security-message header and the debug log when logged, the verdict's
     * reason when it intercepts (exec asks for it itself). */
    bool intercepts = as->disruptive == PP_ACTION_DENY || as->disruptive == PP_ACTION_REDIRECT ||
                      as->disruptive == PP_ACTION_PROXY;
    pp_match_t *m = record_match(tx, r, r, as, hit, phase, NULL, as->log != 0 || intercepts);
    run_secondary(tx, as, m);
    switch (as->disruptive) {
    case PP_ACTION_DENY:
    case PP_ACTION_REDIRECT:
    case PP_ACTION_PROXY:
        pp_tx_intercept(tx, as, phase, m->text);
        return true;
    case PP_ACTION_ALLOW:
        tx->verdict.action = PP_ACTION_ALLOW;
        return true;
    default:
        if (tx->verdict.action == PP_ACTION_NONE)
            tx->verdict.action = PP_ACTION_PASS;
        return false;
    }
}

/* ---- 2.x rules ---------------------------------------------------------------------------- */

/* How a 2.x disruptive action intercepts (reference secrule-2.9 §5.6, §9.1): the words of its
 * message, and in *out the status and URL the host answers with. NULL: it lets the request
 * through (allow, allow:phase, allow:request, pause). */
static const char *intercept_head(pp_tx_t *tx, const pp_actionset_t *as, pp_phase_t phase,
                                  pp_actionset_t *out)
{
    int ph = (int)phase;
    *out = *as;
    switch (as->disruptive) {
    case PP_ACTION_DENY:
        out->status = as->status != PP_TRI_UNSET ? as->status : 403;
        return apr_psprintf(tx->pool, "Access denied with code %d (phase %d).", out->status, ph);
    case PP_ACTION_DROP:
        out->status = 403;
        return apr_psprintf(tx->pool, "Access denied with connection close (phase %d).", ph);
    case PP_ACTION_REDIRECT: {
        int st = as->status;
        out->status = st == 301 || st == 302 || st == 303 || st == 307 ? st : 302;
        out->url = pp_macro_expand(tx, pp_macro_compile(tx->pool, as->url)).data;
        return apr_psprintf(tx->pool, "Access denied with redirection to %s using status %d "
                            "(phase %d).", out->url, out->status, ph);
    }
    case PP_ACTION_PROXY:
        if (phase >= PP_PHASE_RESPONSE_HEADERS) { /* as ModSecurity: too late to proxy */
            out->disruptive = PP_ACTION_DENY;
            out->status = 500;
            return apr_psprintf(tx->pool, "Access denied with code 500 (phase %d) (Configuration "
                                "Error: Proxy action requested but it does not work in output "
                                "phases).", ph);
        }
        out->url = pp_macro_expand(tx, pp_macro_compile(tx->pool, as->url)).data;
        return apr_psprintf(tx->pool, "Access denied using proxy to (phase %d) %s.", ph, out->url);
    case PP_ACTION_ALLOW:
        return apr_psprintf(tx->pool, "Access allowed (phase %d).", ph);
    case PP_ACTION_ALLOW_PHASE:
        return apr_psprintf(tx->pool, "Access to phase allowed (phase %d).", ph);
    case PP_ACTION_ALLOW_REQUEST:
        return apr_psprintf(tx->pool, "Access to request allowed (phase %d).", ph);
    case PP_ACTION_PAUSE:
        return apr_psprintf(tx->pool, "Paused Access (phase %d).", ph);
    default:
        return NULL;
    }
}

/* pause:ms before an interception, macro-expanded and bounded by PP_PAUSE_MAX_MS (a client
 * that triggers the rule must not hold a worker thread for long). */
static void pause_before(pp_tx_t *tx, const pp_rule_t *r)
{
    if (!r->pause)
        return;
    long ms = strtol(pp_macro_expand(tx, r->pause).data, NULL, 10);
    if (ms <= 0)
        return;
    if (ms > PP_PAUSE_MAX_MS) {
        pp_debug(tx, 3, "pause: %ld ms bounded to %d ms", ms, PP_PAUSE_MAX_MS);
        ms = PP_PAUSE_MAX_MS;
    }
    pp_debug(tx, 4, "Pausing transaction for %ld msec.", ms);
    apr_sleep(apr_time_from_msec(ms));
}

/* The phases an allow in phase `phase` lets through without rules (reference §9.1): allow and
 * pause the rest of the request and response phases, allow:request the request body phase;
 * phase 5 always runs. */
static unsigned allowed_phases(int action, pp_phase_t phase)
{
    unsigned bits = 0;
    if (action == PP_ACTION_ALLOW || action == PP_ACTION_PAUSE)
        for (int p = (int)phase + 1; p <= PP_PHASE_RESPONSE_BODY; p++)
            bits |= 1u << p;
    else if (action == PP_ACTION_ALLOW_REQUEST && phase < PP_PHASE_REQUEST_BODY)
        bits |= 1u << PP_PHASE_REQUEST_BODY;
    return bits;
}

/* The outcome of a 2.x rule (or chain) that matched: its message and its disruptive action,
 * which in DetectionOnly and in phase 5 only warns. True when processing of the phase must
 * stop. */
bool pp_eval_apply_outcome2(pp_tx_t *tx, const pp_rule_t *r, const pp_rule_t *last,
                           const hit_t *hit, pp_phase_t phase)
{
    const pp_actionset_t *as = r->effective;
    /* HIGHEST_SEVERITY: the starter's severity when 1-7 (0, EMERGENCY, never counts). */
    if (as->severity >= 1 && as->severity <= 7 &&
        (tx->highest_severity == 0 || as->severity < tx->highest_severity))
        tx->highest_severity = as->severity;
    pp_actionset_t out;
    /* pass (CRS's nolog rules that set TX or skip, ~75 matches a GET) has no interception's
     * words to make, and needs no look at the engine's mode first */
    const char *head = as->disruptive != PP_ACTION_NONE && as->disruptive != PP_ACTION_PASS &&
                               phase != PP_PHASE_LOGGING && !pp_tx_detection_only(tx)
                           ? intercept_head(tx, as, phase, &out) : NULL;
    /* Read now: the error log when logged, the debug log at level 4 when not, the verdict's
     * reason when it intercepts. */
    bool read_now = as->log != 0 || head || (tx->cfg->debug_file && pp_tx_debug_level(tx) >= 4);
    pp_match_t *m = record_match(tx, r, last, as, hit, phase, head, read_now);
    /* No mod_security-message request header for the application: 1.9 passed one,
     * ModSecurity 2 does not. */
    if (m->logged)
        pp_log_alert2(tx, head ? 1 : 2, m->text);
    else if (m->text) /* made when the debug log takes level 4 */
        pp_debug(tx, 4, "%s", m->text);
    if (!head) {
        if (tx->verdict.action == PP_ACTION_NONE)
            tx->verdict.action = PP_ACTION_PASS;
        return false;
    }
    pause_before(tx, r);
    unsigned allowed = allowed_phases(out.disruptive, phase);
    if (out.disruptive == PP_ACTION_ALLOW || out.disruptive == PP_ACTION_ALLOW_PHASE ||
        out.disruptive == PP_ACTION_ALLOW_REQUEST || out.disruptive == PP_ACTION_PAUSE) {
        tx->phases_allowed |= allowed;
        tx->verdict.action = (pp_action_t)out.disruptive;
        return true; /* the rest of this phase */
    }
    pp_tx_intercept(tx, &out, phase, m->text);
    tx->verdict.status = out.status; /* a redirect's 301/303/307 too (1.9's is always 302) */
    return true;
}
