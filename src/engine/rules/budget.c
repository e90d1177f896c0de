/*
 * The work budget of rule evaluation (attack run D8): the worker thread's CPU clock against
 * SecRuleEvalTimeLimit, read every PP_EVAL_CHECK_EVERY operator runs and after each regex limit
 * hit, and, with SecFilterRegexLimitFailOpen On, rules stopped after a limit hit with one log
 * line each and one summary per phase. Split out of eval.c, which calls these from its loop.
 */
#include "rules/eval_parts.h"
#include "tx.h"

#include <time.h>

/* This thread's CPU time: a busy machine does not shorten a request's budget. */
static apr_interval_time_t thread_cpu(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (apr_interval_time_t)ts.tv_sec * APR_USEC_PER_SEC + ts.tv_nsec / 1000;
}

bool pp_eval_fail_open(const pp_tx_t *tx)
{
    return pp_cfg_int(tx->cfg->regex_limit_fail_open, 0) == 1;
}

/* True once the request has used SecRuleEvalTimeLimit; the first time, rejects it (or, fail
 * open, says that the remaining rules are skipped). */
bool pp_eval_over_budget(pp_tx_t *tx, pp_phase_t phase)
{
    pp_eval_budget_t *b = &tx->budget;
    int limit_ms = pp_cfg_int(tx->cfg->eval_time_limit_ms, PP_DEFAULT_EVAL_TIME_LIMIT_MS);
    if (b->exhausted || limit_ms == 0)
        return b->exhausted;
    if (!b->cpu_mark) {
        /* The clock is a system call (0.7 us measured on the test VM): a phase starts it only
         * at its first check, so the usual request, with fewer runs and no limit hit, never
         * reads it. What ran before is not counted: at most PP_EVAL_CHECK_EVERY runs. */
        b->cpu_mark = thread_cpu();
        return false;
    }
    apr_interval_time_t used = b->cpu_used + (thread_cpu() - b->cpu_mark);
    if (used <= apr_time_from_msec(limit_ms))
        return false;
    b->exhausted = true;
    const char *what = apr_psprintf(
        tx->pool, "Rule evaluation used %" APR_TIME_T_FMT " ms of CPU, over SecRuleEvalTimeLimit "
        "%d ms, after %u operator runs (%u regex limit hits).", apr_time_as_msec(used), limit_ms,
        b->op_runs, b->limit_hits);
    if (pp_eval_fail_open(tx))
        pp_debug(tx, 1, "%s The remaining rules are skipped (SecFilterRegexLimitFailOpen On).",
                 what);
    else
        pp_tx_fail(tx, 403, phase, what);
    return true;
}

/* End of a phase: adds what the phase used since its clock started. */
void pp_eval_stop_clock(pp_eval_budget_t *b)
{
    if (b->cpu_mark)
        b->cpu_used += thread_cpu() - b->cpu_mark;
    b->cpu_mark = 0;
}

/* Fail open: the rule stops for this request, and says so once. */
void pp_eval_stop_rule(pp_tx_t *tx, const pp_rule_t *r, const pp_target_t *t)
{
    pp_eval_budget_t *b = &tx->budget;
    if (!b->stopped)
        b->stopped = apr_hash_make(tx->pool);
    apr_hash_set(b->stopped, apr_pmemdup(tx->pool, &r, sizeof r), sizeof r, r);
    pp_debug(tx, 1, "Regex resource limit hit in pattern \"%s\" at %s; counted as no match, and "
             "the rule is not run again for this request (SecFilterRegexLimitFailOpen On)",
             r->op.arg, t->label);
}

bool pp_eval_rule_stopped(pp_tx_t *tx, const pp_rule_t *r)
{
    if (!tx->budget.stopped || !apr_hash_get(tx->budget.stopped, &r, sizeof r))
        return false;
    tx->budget.stopped_skips++;
    return true;
}

/* One line per phase for what fail open let through, instead of one per value. */
void pp_eval_summarise(pp_tx_t *tx, unsigned stopped_before, unsigned skips_before)
{
    const pp_eval_budget_t *b = &tx->budget;
    unsigned stopped = b->stopped ? apr_hash_count(b->stopped) : 0;
    if (stopped == stopped_before && b->stopped_skips == skips_before)
        return;
    pp_debug(tx, 1, "Regex resource limits: %u rule%s stopped in this request, %u later rule "
             "evaluation%s skipped (SecFilterRegexLimitFailOpen On)", stopped,
             stopped == 1 ? "" : "s", b->stopped_skips, b->stopped_skips == 1 ? "" : "s");
}
