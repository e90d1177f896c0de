/*
 * Counting points for a host's metrics (metrics.def, issue 18): the descriptions of what the
 * engine counts, the histogram arithmetic, and pp_tx_metrics. The counts themselves live in
 * the transaction (tx->metrics), bumped where things happen (body dispatch, upload approval,
 * the rule evaluator); summing across requests, processes and restarts is the host's business.
 */
#include "tx.h"
#include "body/multipart.h"

static const pp_metric_desc_t counters[] = {
#define PP_METRIC(id, family, labels, help) { family, labels, help },
#include "metrics.def"
#undef PP_METRIC
};

static const pp_metric_desc_t histograms[] = {
#define PP_HISTOGRAM(id, family, help) { family, "", help },
#include "metrics.def"
#undef PP_HISTOGRAM
};

const pp_metric_desc_t *pp_metric_desc(pp_metric_id_t id)
{
    return id < PP_METRIC_COUNT ? &counters[id] : NULL;
}

const pp_metric_desc_t *pp_hist_desc(pp_hist_id_t id)
{
    return id < PP_HIST_COUNT ? &histograms[id] : NULL;
}

const char *pp_metric_multipart_flag(unsigned b)
{
    return b < PP_MP_FLAG_COUNT ? pp_multipart_flag_name(1u << b) : NULL;
}

void pp_hist_observe(pp_histogram_t *h, apr_interval_time_t us)
{
    static const apr_interval_time_t bounds[PP_HIST_BUCKETS - 1] = PP_HIST_BOUNDS_US;
    unsigned b = 0;

    if (us < 0)
        us = 0;
    while (b < PP_HIST_BUCKETS - 1 && us > bounds[b])
        b++;
    h->bucket[b]++;
    h->count++;
    h->sum_us += (uint64_t)us;
}

void pp_cfg_rule_ids(const pp_cfg_t *cfg, void (*fn)(void *ctx, const char *id), void *ctx)
{
    for (int i = 0; cfg->rules && i < cfg->rules->nelts; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(cfg->rules, i, const pp_rule_t *);
        if (r->id)
            fn(ctx, r->id);
    }
}

const pp_tx_metrics_t *pp_tx_metrics(pp_tx_t *tx)
{
    tx->metrics.counter[PP_METRIC_REQUEST_BODY_BYTES] = (uint64_t)pp_tx_request_body_length(tx);
    tx->metrics.counter[PP_METRIC_RESPONSE_BODY_BYTES] =
        tx->response_body ? (uint64_t)pp_buffer_length(tx->response_body) : 0;
    uint64_t stored = 0;
    for (int i = 0; i < tx->files->nelts; i++)
        stored += APR_ARRAY_IDX(tx->files, i, pp_file_t).store != NULL;
    tx->metrics.counter[PP_METRIC_UPLOAD_STORED] = stored;
    return &tx->metrics;
}
