/*
 * Live metrics (issue 18): `SetHandler parapet-metrics` answers in the Prometheus text
 * exposition format (version 0.0.4) with what every worker process and thread counted.
 *
 * The counts live in one anonymous shared memory segment made by the parent in post_config and
 * inherited by every child; each transaction adds its counts at the logging phase with relaxed
 * atomic adds (lock-free, no mutex on the request path). The segment hangs off the process
 * pool, which outlives configuration generations, so a graceful restart (SIGUSR1) keeps the
 * counts; a full restart (SIGHUP, or stop and start) begins again from zero.
 *
 * What the engine counts comes from its registry (../engine/metrics.def, via pp_tx_metrics);
 * requests inspected / passed / intercepted (by phase and status) and matches per rule id are
 * counted here from the verdict. Rule ids get a fixed open-addressing table sized at start-up
 * from the ids in the configuration; a restart adds the new ids to free slots (slots are never
 * reused, so a child of the old generation still reading the table is never confused). Ids that
 * find no slot, and matches of rules without an id, have counters of their own.
 */
#include <string.h>

#include "apr_shm.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "unixd.h"

#include "mod_parapet.h"

#define METRICS_KEY "parapet-metrics"
#define METRICS_HANDLER "parapet-metrics"
#define METRICS_MAGIC 0x7061726170657431ull /* "parapet1" */
/* Bytes of a rule id, NUL included; longer: untracked. A slot is 40 bytes: a worker touches
 * the table's pages as its rules match (CRS: 4,096 slots, 160 KB; 448 KB with 96-byte ids).
 * ModSecurity 2's ids are numbers of at most 10 digits. */
#define METRICS_ID_MAX 28
#define METRICS_MIN_RULE_SLOTS 256
#define METRICS_STATUS_MAX 600       /* statuses 0..599 */
#define METRICS_PHASES (PP_PHASE_LOGGING + 1)
#define METRICS_MP_FLAGS 32

enum { SLOT_EMPTY = 0, SLOT_READY = 2 };

typedef struct rule_slot_t {
    uint32_t state; /* SLOT_EMPTY, or SLOT_READY once id is written (release/acquire) */
    char id[METRICS_ID_MAX];
    uint64_t matches;
} rule_slot_t;

typedef struct metrics_shm_t {
    uint64_t magic;
    uint32_t rule_slots;              /* a power of two */
    uint32_t rule_used;               /* written by the parent only */
    uint64_t reset_time_us;           /* when the counts began (start or full restart) */
    uint64_t inspected, passed;
    uint64_t intercepted[METRICS_PHASES][METRICS_STATUS_MAX];
    uint64_t engine[PP_METRIC_COUNT];
    uint64_t mp_flags[METRICS_MP_FLAGS];
    pp_histogram_t hist[PP_HIST_COUNT];
    uint64_t matches_without_id, matches_untracked;
    rule_slot_t rules[];
} metrics_shm_t;

typedef struct metrics_state_t {
    apr_shm_t *shm;
    metrics_shm_t *m;
} metrics_state_t;

static inline void add(uint64_t *counter, uint64_t n)
{
    if (n != 0) {
        __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
    }
}

static inline uint64_t get(const uint64_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static uint32_t hash_id(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *id; id++) {
        h = (h ^ (unsigned char)*id) * 16777619u;
    }
    return h;
}

/* The slot holding id, or NULL. Safe against the parent adding ids at the same time. */
static rule_slot_t *find_rule(metrics_shm_t *m, const char *id)
{
    uint32_t mask = m->rule_slots - 1, i = hash_id(id) & mask, n;

    for (n = 0; n < m->rule_slots; n++, i = (i + 1) & mask) {
        rule_slot_t *slot = &m->rules[i];
        if (__atomic_load_n(&slot->state, __ATOMIC_ACQUIRE) != SLOT_READY) {
            return NULL;
        }
        if (strcmp(slot->id, id) == 0) {
            return slot;
        }
    }
    return NULL;
}

/* Parent only (post_config). False when the table is full enough that the id must go
 * untracked: at most 3/4 of the slots are used so look-ups stay short. */
static bool add_rule(metrics_shm_t *m, const char *id)
{
    uint32_t mask = m->rule_slots - 1, i = hash_id(id) & mask;

    if (strlen(id) >= METRICS_ID_MAX) {
        return false;
    }
    if (find_rule(m, id) != NULL) {
        return true;
    }
    if ((uint64_t)(m->rule_used + 1) * 4 > (uint64_t)m->rule_slots * 3) {
        return false;
    }
    while (m->rules[i].state != SLOT_EMPTY) {
        i = (i + 1) & mask;
    }
    memcpy(m->rules[i].id, id, strlen(id) + 1);
    m->rules[i].matches = 0;
    __atomic_store_n(&m->rules[i].state, SLOT_READY, __ATOMIC_RELEASE);
    m->rule_used++;
    return true;
}

static void collect_id(void *ctx, const char *id)
{
    apr_hash_t *ids = ctx;

    apr_hash_set(ids, id, APR_HASH_KEY_STRING, id);
}

void pp_ap_metrics_note_rules(apr_hash_t *ids, const pp_cfg_t *cfg)
{
    if (cfg != NULL) {
        pp_cfg_rule_ids(cfg, collect_id, ids);
    }
}

/* Whether this configuration pass follows anything but a graceful restart (SIGUSR1): a full
 * restart (SIGHUP), where the MPM stopped every child before reading the configuration again,
 * or the second pass of the first start. The MPM's signal handling records it when the old
 * configuration pool is cleared (was_graceful = !is_ungraceful). */
static bool after_full_restart(void)
{
    ap_unixd_mpm_retained_data *rd = ap_unixd_mpm_get_retained_data();

    return rd == NULL || !rd->was_graceful;
}

int pp_ap_metrics_init(server_rec *s, apr_hash_t *ids, apr_pool_t *ptemp)
{
    apr_pool_t *pp = s->process->pool;
    metrics_state_t *st = NULL;
    apr_hash_index_t *hi;
    unsigned untracked = 0;

    apr_pool_userdata_get((void **)&st, METRICS_KEY, pp);
    if (st == NULL) {
        uint32_t slots = METRICS_MIN_RULE_SLOTS;
        apr_size_t size;
        apr_status_t rv;

        while (slots < 4u * apr_hash_count(ids) && slots < (1u << 24)) {
            slots <<= 1;
        }
        size = sizeof(metrics_shm_t) + (apr_size_t)slots * sizeof(rule_slot_t);
        st = apr_pcalloc(pp, sizeof(*st));
        rv = apr_shm_create(&st->shm, size, NULL, pp);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                         "Parapet: cannot create %" APR_SIZE_T_FMT " bytes of shared memory "
                         "for the metrics", size);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        st->m = apr_shm_baseaddr_get(st->shm);
        memset(st->m, 0, size);
        st->m->magic = METRICS_MAGIC;
        st->m->rule_slots = slots;
        st->m->reset_time_us = (uint64_t)apr_time_now();
        apr_pool_userdata_set(st, METRICS_KEY, apr_pool_cleanup_null, pp);
    } else if (after_full_restart()) {
        /* Every child of the old generation is gone: nobody writes while we clear. */
        metrics_shm_t *m = st->m;
        apr_size_t size = sizeof(metrics_shm_t) + (apr_size_t)m->rule_slots * sizeof(rule_slot_t);
        uint32_t slots = m->rule_slots;
        memset(m, 0, size);
        m->magic = METRICS_MAGIC;
        m->rule_slots = slots;
        m->reset_time_us = (uint64_t)apr_time_now();
    }
    for (hi = apr_hash_first(ptemp, ids); hi != NULL; hi = apr_hash_next(hi)) {
        const char *id = apr_hash_this_key(hi);
        if (!add_rule(st->m, id)) {
            untracked++;
        }
    }
    if (untracked > 0 && ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "Parapet: metrics: %u rule ids have no slot (table of %u made at start-up, "
                     "or id longer than %d bytes); their matches are counted in "
                     "parapet_rule_matches_untracked_total until a full restart",
                     untracked, st->m->rule_slots, METRICS_ID_MAX - 1);
    }
    pp_ap_process_get(s->process)->metrics = st->m;
    return OK;
}

void pp_ap_metrics_count(request_rec *r, pp_tx_t *tx)
{
    metrics_shm_t *m = pp_ap_process_of(r)->metrics;
    const pp_verdict_t *v = pp_tx_verdict(tx);
    const pp_tx_metrics_t *tm;
    int i, b;

    if (m == NULL) {
        return;
    }
    add(&m->inspected, 1);
    if (v->intercepted) {
        int phase = v->phase < METRICS_PHASES ? (int)v->phase : 0;
        int status = v->status >= 0 && v->status < METRICS_STATUS_MAX ? v->status : 0;
        add(&m->intercepted[phase][status], 1);
    } else {
        add(&m->passed, 1);
    }
    for (i = 0; v->matches != NULL && i < v->matches->nelts; i++) {
        const pp_match_t *match = APR_ARRAY_IDX(v->matches, i, const pp_match_t *);
        rule_slot_t *slot;
        if (match->id == NULL) {
            add(&m->matches_without_id, 1);
        } else if ((slot = find_rule(m, match->id)) != NULL) {
            add(&slot->matches, 1);
        } else {
            add(&m->matches_untracked, 1);
        }
    }
    tm = pp_tx_metrics(tx);
    for (i = 0; i < PP_METRIC_COUNT; i++) {
        add(&m->engine[i], tm->counter[i]);
    }
    for (b = 0; tm->multipart_rejected_flags != 0 && b < METRICS_MP_FLAGS; b++) {
        if (tm->multipart_rejected_flags & (1u << b)) {
            add(&m->mp_flags[b], 1);
        }
    }
    for (i = 0; i < PP_HIST_COUNT; i++) {
        const pp_histogram_t *h = &tm->hist[i];
        if (h->count == 0) {
            continue;
        }
        for (b = 0; b < PP_HIST_BUCKETS; b++) {
            add(&m->hist[i].bucket[b], h->bucket[b]);
        }
        add(&m->hist[i].sum_us, h->sum_us);
        add(&m->hist[i].count, h->count);
    }
}

/* ---- exposition ---------------------------------------------------------------------------- */

/* A label value as the exposition format wants it: \\, \" and \n escaped. */
static const char *label_value(apr_pool_t *p, const char *s)
{
    apr_size_t n = 0;
    const char *c;
    char *out, *o;

    for (c = s; *c; c++) {
        n += (*c == '\\' || *c == '"' || *c == '\n') ? 2 : 1;
    }
    o = out = apr_palloc(p, n + 1);
    for (c = s; *c; c++) {
        if (*c == '\\' || *c == '"' || *c == '\n') {
            *o++ = '\\';
            *o++ = *c == '\n' ? 'n' : *c;
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}

static void family(request_rec *r, const char *name, const char *type, const char *help)
{
    ap_rprintf(r, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(request_rec *r, const char *name, const char *labels, uint64_t value)
{
    ap_rprintf(r, "%s%s%s%s %" APR_UINT64_T_FMT "\n", name, *labels ? "{" : "", labels,
               *labels ? "}" : "", value);
}

/* Seconds from microseconds the way Prometheus clients write bucket bounds ("0.005", "1",
 * "2.5"): le is a label, so every exporter must spell a bound the same way. */
static const char *seconds(apr_pool_t *p, uint64_t us)
{
    char frac[8];
    int end;

    if (us % 1000000 == 0) {
        return apr_psprintf(p, "%" APR_UINT64_T_FMT, us / 1000000);
    }
    apr_snprintf(frac, sizeof(frac), "%06" APR_UINT64_T_FMT, us % 1000000);
    for (end = 5; end > 0 && frac[end] == '0'; end--) {
        frac[end] = '\0';
    }
    return apr_psprintf(p, "%" APR_UINT64_T_FMT ".%s", us / 1000000, frac);
}

static void render_histogram(request_rec *r, const pp_metric_desc_t *d, const pp_histogram_t *h)
{
    static const apr_interval_time_t bounds[PP_HIST_BUCKETS - 1] = PP_HIST_BOUNDS_US;
    const char *name = d->family;
    uint64_t cumulative = 0, sum_us = get(&h->sum_us);
    int b;

    family(r, name, "histogram", d->help);
    for (b = 0; b < PP_HIST_BUCKETS; b++) {
        cumulative += get(&h->bucket[b]);
        if (b < PP_HIST_BUCKETS - 1) {
            ap_rprintf(r, "%s_bucket{le=\"%s\"} %" APR_UINT64_T_FMT "\n", name,
                       seconds(r->pool, (uint64_t)bounds[b]), cumulative);
        } else {
            ap_rprintf(r, "%s_bucket{le=\"+Inf\"} %" APR_UINT64_T_FMT "\n", name, cumulative);
        }
    }
    /* The count is the +Inf bucket, so the two always agree in one scrape. */
    ap_rprintf(r, "%s_sum %" APR_UINT64_T_FMT ".%06" APR_UINT64_T_FMT "\n", name,
               sum_us / 1000000, sum_us % 1000000);
    ap_rprintf(r, "%s_count %" APR_UINT64_T_FMT "\n", name, cumulative);
}

static void render(request_rec *r, metrics_shm_t *m)
{
    const char *last_family = NULL;
    uint32_t i;
    int ph, st, k;

    family(r, "parapet_metrics_reset_time_seconds", "gauge",
           "When these counts began: server start or full restart (Unix time)");
    ap_rprintf(r, "parapet_metrics_reset_time_seconds %" APR_UINT64_T_FMT ".%06"
               APR_UINT64_T_FMT "\n", m->reset_time_us / 1000000, m->reset_time_us % 1000000);
    family(r, "parapet_requests_inspected_total", "counter", "Requests the engine inspected");
    sample(r, "parapet_requests_inspected_total", "", get(&m->inspected));
    family(r, "parapet_requests_passed_total", "counter",
           "Inspected requests that were not intercepted");
    sample(r, "parapet_requests_passed_total", "", get(&m->passed));
    family(r, "parapet_requests_intercepted_total", "counter",
           "Inspected requests intercepted, by phase and status");
    for (ph = 0; ph < METRICS_PHASES; ph++) {
        for (st = 0; st < METRICS_STATUS_MAX; st++) {
            uint64_t n = get(&m->intercepted[ph][st]);
            if (n != 0) {
                sample(r, "parapet_requests_intercepted_total",
                       apr_psprintf(r->pool, "phase=\"%d\",status=\"%d\"", ph, st), n);
            }
        }
    }
    family(r, "parapet_rule_matches_total", "counter", "Rule matches, by rule id");
    for (i = 0; i < m->rule_slots; i++) {
        rule_slot_t *slot = &m->rules[i];
        if (__atomic_load_n(&slot->state, __ATOMIC_ACQUIRE) == SLOT_READY) {
            sample(r, "parapet_rule_matches_total",
                   apr_pstrcat(r->pool, "rule_id=\"", label_value(r->pool, slot->id), "\"",
                               NULL),
                   get(&slot->matches));
        }
    }
    family(r, "parapet_matches_without_id_total", "counter",
           "Matches of rules without an id and of the engine's own checks");
    sample(r, "parapet_matches_without_id_total", "", get(&m->matches_without_id));
    family(r, "parapet_rule_matches_untracked_total", "counter",
           "Matches of rule ids added after the id table filled up");
    sample(r, "parapet_rule_matches_untracked_total", "", get(&m->matches_untracked));
    for (k = 0; k < PP_METRIC_COUNT; k++) {
        const pp_metric_desc_t *d = pp_metric_desc((pp_metric_id_t)k);
        if (last_family == NULL || strcmp(last_family, d->family) != 0) {
            family(r, d->family, "counter", d->help);
            last_family = d->family;
        }
        sample(r, d->family, d->labels, get(&m->engine[k]));
    }
    family(r, "parapet_multipart_rejected_flags_total", "counter",
           "Multipart bodies rejected as ambiguous, by flag (a body may carry several)");
    for (k = 0; k < METRICS_MP_FLAGS; k++) {
        const char *flag = pp_metric_multipart_flag((unsigned)k);
        uint64_t n = get(&m->mp_flags[k]);
        if (flag != NULL && n != 0) {
            sample(r, "parapet_multipart_rejected_flags_total",
                   apr_pstrcat(r->pool, "flag=\"", label_value(r->pool, flag), "\"", NULL), n);
        }
    }
    for (k = 0; k < PP_HIST_COUNT; k++) {
        render_histogram(r, pp_hist_desc((pp_hist_id_t)k), &m->hist[k]);
    }
}

static int metrics_handler(request_rec *r)
{
    metrics_shm_t *m;

    if (r->handler == NULL || strcmp(r->handler, METRICS_HANDLER) != 0) {
        return DECLINED;
    }
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    m = pp_ap_process_of(r)->metrics;
    if (m == NULL) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only) {
        render(r, m);
    }
    return OK;
}

void pp_ap_register_metrics_hooks(apr_pool_t *p)
{
    ap_hook_handler(metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
}
