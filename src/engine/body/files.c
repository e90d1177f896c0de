/*
 * Intercepted files (reference §6.5–6.6, the seed): multipart file parts and PUT bodies are
 * stored by upload/store.c (unguessable names, 0640); clamd scans each one through the store's
 * own descriptor as soon as its part ends, and the approval script gets each path after the
 * body, from a directory no other user can change; all of it before any rule runs. Any rejection — including a script that crashes,
 * hangs or says nothing, and clamd being unreachable unless SecUploadScanClamdFailOpen — rejects
 * the whole request with the default action's status. The client's file name is only ever a
 * variable value, never part of a path. Files nobody reads (no approval, no scanner, nothing
 * kept) are only counted, not written. The work a request can order is bounded twice: at most
 * SecUploadFileLimit files (400 past it), and one SecUploadScanDeadline for all approval runs
 * and scans together (past it the remaining files are rejected, fail closed).
 */
#include "tx.h"
#include "upload/upload.h"

static const char *upload_dir(pp_tx_t *tx)
{
    const char *dir = tx->cfg->upload_dir ? tx->cfg->upload_dir : tx->cfg->tmp_dir;
    if (!dir && apr_temp_dir_get(&dir, tx->pool) != APR_SUCCESS)
        dir = "/tmp";
    return dir;
}

/* A file on disk is needed only by its readers: the approval script, clamd, SecUploadKeepFiles,
 * or SecTmpSaveUploadedFiles On (FILES_TMPNAMES, @inspectFile). Without them, writing every
 * upload out and deleting it again is pure cost (ModSecurity 2.x does not extract files then
 * either); FILE_NAME_x / FILE_SIZE_x and the rules work the same. */
static bool store_needed(const pp_tx_t *tx)
{
    return tx->cfg->approve_script || tx->cfg->clamd_address ||
           pp_cfg_int(tx->cfg->tmp_save_uploads, 0) == 1 ||
           pp_cfg_int(tx->cfg->upload_keep, PP_KEEP_OFF) != PP_KEEP_OFF;
}

/* Past SecUploadFileLimit the request is answered 400 (as ModSecurity 2.x's strict
 * MULTIPART_FILE_LIMIT_EXCEEDED) before anything is stored or scanned: every file costs an
 * approval script run and a clamd scan, so the count bounds the work a request can order. The
 * parser still gets a handle for the rest of the chunk it is in; nothing is kept. */
static bool over_file_limit(pp_tx_t *tx, pp_file_t **out)
{
    int limit = pp_cfg_int(tx->cfg->upload_file_limit, PP_DEFAULT_UPLOAD_FILE_LIMIT);
    if (tx->files->nelts < limit)
        return false;
    if (!tx->verdict.intercepted)
        pp_tx_fail(tx, 400, PP_PHASE_REQUEST_BODY,
                   apr_psprintf(tx->pool, "Multipart: upload file limit exceeded: more than %d "
                                "files (SecUploadFileLimit %d)", limit, limit));
    pp_file_t *f = apr_pcalloc(tx->pool, sizeof *f);
    f->counted_only = true;
    *out = f;
    return true;
}

apr_status_t pp_files_begin(pp_tx_t *tx, pp_str_t field, pp_str_t filename, pp_file_t **out)
{
    if (over_file_limit(tx, out))
        return APR_SUCCESS;
    pp_file_t *f = apr_array_push(tx->files);
    memset(f, 0, sizeof *f);
    /* The fields before it are body arguments already, the files before it are in files. */
    f->part = tx->args->nelts - tx->query_arg_count + tx->files->nelts - 1;
    f->field = pp_str_dup(tx->pool, field);
    f->filename = pp_str_dup(tx->pool, filename);
    *out = f;
    if (!store_needed(tx)) {
        f->counted_only = true;
        return APR_SUCCESS;
    }
    pp_upload_file_t *store;
    apr_status_t rv = pp_upload_file_create_mode(
        tx->pool, upload_dir(tx), tx->unique_id,
        pp_cfg_int(tx->cfg->upload_file_mode, PP_UPLOAD_FILE_MODE), &store);
    if (rv != APR_SUCCESS) {
        char buf[120];
        tx->body_error_text = apr_psprintf(tx->pool, "Failed to create an upload file in %s: %s",
                                           upload_dir(tx), apr_strerror(rv, buf, sizeof buf));
        return rv;
    }
    f->store = store;
    f->tmpname = pp_str_from_cstr(pp_upload_file_path(store));
    return APR_SUCCESS;
}

apr_status_t pp_files_write(pp_tx_t *tx, pp_file_t *f, const char *data, apr_size_t len)
{
    if (f->counted_only) {
        f->size += (apr_off_t)len;
        return APR_SUCCESS;
    }
    if (!f->store)
        return APR_EGENERAL;
    apr_status_t rv = pp_upload_file_write(f->store, data, len);
    if (rv != APR_SUCCESS) {
        char buf[120];
        tx->body_error_text = apr_psprintf(tx->pool, "Failed to write upload file %s: %s",
                                           f->tmpname.data, apr_strerror(rv, buf, sizeof buf));
    }
    f->size += (apr_off_t)len;
    return rv;
}

static void reject(pp_tx_t *tx, const char *why)
{
    pp_actionset_t as = *pp_cfg_default_action(tx->cfg);
    if (as.disruptive != PP_ACTION_DENY && as.disruptive != PP_ACTION_REDIRECT) {
        /* The upload is rejected even if the default list only logs: a file nobody approved
         * never reaches the application. */
        as.disruptive = PP_ACTION_DENY;
    }
    as.log = 1; /* a rejected upload is always reported */
    pp_tx_raise(tx, &as, PP_PHASE_REQUEST_BODY, "FILES_TMPNAMES", why);
}

/* One budget (SecUploadScanDeadline) for every approval-script run and clamd scan of the
 * request, counted in time spent scanning, so a slow client sending the body between two files
 * does not use it up; each external step gets its own timeout or what is left of the budget,
 * whichever is shorter. */
static apr_interval_time_t budget_left(const pp_tx_t *tx)
{
    return apr_time_from_sec(pp_cfg_int(tx->cfg->upload_scan_deadline_s,
                                        PP_DEFAULT_UPLOAD_SCAN_DEADLINE_S)) -
           tx->upload_scan_spent;
}

static apr_interval_time_t budget_clamp(const pp_tx_t *tx, apr_interval_time_t timeout,
                                        bool *clamped)
{
    apr_interval_time_t left = budget_left(tx);
    *clamped = left < timeout;
    return *clamped ? (left > 0 ? left : 0) : timeout;
}

/* what: "while the approval script ran on file 2 of 5", "before clamd scanned file 3"... */
static void reject_deadline(pp_tx_t *tx, const char *what)
{
    reject(tx, apr_psprintf(tx->pool, "Upload scan deadline exceeded (SecUploadScanDeadline %d s)"
                            " %s; the rest were not scanned",
                            pp_cfg_int(tx->cfg->upload_scan_deadline_s,
                                       PP_DEFAULT_UPLOAD_SCAN_DEADLINE_S), what));
}

static bool run_script(pp_tx_t *tx, pp_file_t *f, int index)
{
    bool clamped;
    apr_interval_time_t timeout = budget_clamp(
        tx, apr_time_from_sec(pp_cfg_int(tx->cfg->approve_timeout_s, PP_DEFAULT_APPROVE_TIMEOUT_S)),
        &clamped);
    pp_approve_result_t res;
    pp_approve_run(tx->pool, tx->cfg->approve_script, f->tmpname.data, timeout, &res);
    tx->upload_scan_spent += res.elapsed;
    pp_hist_observe(&tx->metrics.hist[PP_HIST_APPROVE], res.elapsed);
    if (res.timed_out)
        tx->metrics.counter[PP_METRIC_APPROVE_TIMEOUTS]++;
    else if (res.detail)
        tx->metrics.counter[PP_METRIC_APPROVE_FAILURES]++;
    /* The script's own reason, and ours when it did not give the verdict itself. */
    const char *why = res.detail ? (*res.reason ? apr_pstrcat(tx->pool, res.reason, " ", res.detail,
                                                              NULL)
                                                : res.detail)
                                 : res.reason;
    const char *verdict =
        apr_psprintf(tx->pool, "%s: %s", res.accepted ? "accepted" : "rejected", why);
    pp_debug(tx, res.accepted ? 2 : 1, "Upload approval script %s for file %s (%s): %s",
             res.accepted ? "accepted" : "rejected", f->tmpname.data,
             pp_str_log_escape(tx->pool, f->filename, 256), verdict);
    /* clamd, when configured, judged the file first (when its part ended). */
    f->verdict = f->verdict ? apr_pstrcat(tx->pool, f->verdict, "; ", verdict, NULL) : verdict;
    if (res.accepted)
        return true;
    if (res.timed_out && clamped)
        reject_deadline(tx, apr_psprintf(tx->pool, "while the approval script ran on file %d of %d",
                                         index + 1, tx->files->nelts));
    else
        reject(tx, apr_psprintf(tx->pool, "Upload rejected by approval script: %s", why));
    return false;
}

/* clamd reads the descriptor the store wrote (rewound), never the name: whoever can write
 * SecUploadDir cannot show clamd another file (review M6). */
static void run_clamd(pp_tx_t *tx, pp_file_t *f)
{
    int number = tx->files->nelts;
    if (budget_left(tx) <= 0) {
        reject_deadline(tx, apr_psprintf(tx->pool, "before clamd scanned file %d", number));
        return;
    }
    bool clamped, connect_clamped;
    apr_interval_time_t scan_timeout = budget_clamp(tx, PP_CLAMD_SCAN_TIMEOUT_US, &clamped);
    apr_interval_time_t connect_timeout =
        budget_clamp(tx, PP_CLAMD_CONNECT_TIMEOUT_US, &connect_clamped);
    pp_clamd_result_t res;
    apr_status_t rv =
        pp_clamd_scan_file(tx->pool, tx->cfg->clamd_address, pp_upload_file_handle(f->store),
                           f->tmpname.data, connect_timeout, scan_timeout, &res);
    tx->upload_scan_spent += res.elapsed;
    pp_hist_observe(&tx->metrics.hist[PP_HIST_CLAMD], res.elapsed);
    if (APR_STATUS_IS_TIMEUP(rv))
        tx->metrics.counter[PP_METRIC_CLAMD_TIMEOUTS]++;
    else if (res.status != PP_CLAMD_CLEAN && res.status != PP_CLAMD_FOUND)
        tx->metrics.counter[PP_METRIC_CLAMD_FAILURES]++;
    f->verdict = apr_psprintf(tx->pool, "clamd %s: %s", pp_clamd_status_name(res.status),
                              res.reason);
    if (res.status == PP_CLAMD_CLEAN) {
        pp_debug(tx, 2, "Upload scan clean: %s", f->tmpname.data);
        return;
    }
    /* Out of time is a rejection, also when it struck during the connect: FailOpen is for a
     * clamd that is down, not for a request that used up its budget. */
    if (APR_STATUS_IS_TIMEUP(rv) && (clamped || connect_clamped)) {
        pp_debug(tx, 1, "clamd scan of %s stopped at the request's deadline: %s", f->tmpname.data,
                 res.reason);
        reject_deadline(tx, apr_psprintf(tx->pool, "while clamd scanned file %d", number));
        return;
    }
    if (res.status == PP_CLAMD_UNREACHABLE && pp_cfg_int(tx->cfg->clamd_fail_open, 0) == 1) {
        pp_debug(tx, 1, "clamd unreachable, upload accepted (SecUploadScanClamdFailOpen On): %s",
                 res.reason);
        return;
    }
    if (res.status == PP_CLAMD_FOUND)
        reject(tx, apr_psprintf(tx->pool, "Virus found in uploaded file: %s", res.virus));
    else
        reject(tx, apr_psprintf(tx->pool, "Upload scan failed (clamd %s): %s",
                                pp_clamd_status_name(res.status), res.reason));
}

/* The part is complete: flush it, let clamd read it through the open descriptor, then close it,
 * so a request holds at most one upload descriptor however many files it carries. */
apr_status_t pp_files_end(pp_tx_t *tx, pp_file_t *f)
{
    if (f->counted_only)
        return APR_SUCCESS;
    if (!f->store)
        return APR_EGENERAL;
    apr_status_t rv = pp_upload_file_flush(f->store);
    if (rv == APR_SUCCESS && tx->cfg->clamd_address && !tx->verdict.intercepted) {
        run_clamd(tx, f);
        if (tx->verdict.intercepted)
            tx->metrics.counter[PP_METRIC_UPLOAD_REJECTED]++;
    }
    apr_status_t crv = pp_upload_file_close(f->store);
    if (rv == APR_SUCCESS)
        rv = crv;
    if (rv != APR_SUCCESS) {
        char buf[120];
        tx->body_error_text = apr_psprintf(tx->pool, "Failed to store upload file %s: %s",
                                           f->tmpname.data, apr_strerror(rv, buf, sizeof buf));
    }
    f->complete = rv == APR_SUCCESS;
    return rv;
}

/* The approval script gets a path (§6.6), and a path is only as good as the directories above
 * it: if another user can rename entries in one of them, the script may be shown another file
 * than the one clamd and the rules judged. Checked per request, because directories change. */
static bool script_dir_private(pp_tx_t *tx)
{
    const char *msg = pp_upload_dir_private(tx->pool, upload_dir(tx));
    if (msg == NULL)
        return true;
    reject(tx, apr_psprintf(tx->pool, "Upload approval refused: %s, so another user could swap "
                            "the file the approval script is given", msg));
    return false;
}

void pp_files_approve(pp_tx_t *tx)
{
    if (tx->cfg->clamd_address) {
        /* Every stored file was scanned when its part ended; one that was not is not accepted. */
        for (int i = 0; i < tx->files->nelts && !tx->verdict.intercepted; i++) {
            pp_file_t *f = &APR_ARRAY_IDX(tx->files, i, pp_file_t);
            if (!f->counted_only && f->verdict == NULL)
                reject(tx, apr_psprintf(tx->pool, "Upload file %d was not scanned by clamd", i + 1));
        }
    }
    if (!tx->cfg->approve_script || tx->verdict.intercepted || !script_dir_private(tx)) {
        /* clamd alone judged the stored files, and found nothing: they are approved. */
        for (int i = 0; !tx->cfg->approve_script && tx->cfg->clamd_address &&
                        !tx->verdict.intercepted && i < tx->files->nelts; i++)
            tx->metrics.counter[PP_METRIC_UPLOAD_APPROVED] +=
                !APR_ARRAY_IDX(tx->files, i, pp_file_t).counted_only;
        return;
    }
    for (int i = 0; i < tx->files->nelts && !tx->verdict.intercepted; i++) {
        pp_file_t *f = &APR_ARRAY_IDX(tx->files, i, pp_file_t);
        if (budget_left(tx) <= 0) {
            reject_deadline(tx, apr_psprintf(tx->pool, "before the approval script ran on file "
                                             "%d of %d", i + 1, tx->files->nelts));
            return;
        }
        if (!run_script(tx, f, i)) {
            tx->metrics.counter[PP_METRIC_UPLOAD_REJECTED]++;
            return;
        }
        tx->metrics.counter[PP_METRIC_UPLOAD_APPROVED]++;
    }
}

void pp_files_keep(pp_tx_t *tx)
{
    int keep = pp_cfg_int(tx->cfg->upload_keep, PP_KEEP_OFF);
    bool k = keep == PP_KEEP_ON || (keep == PP_KEEP_RELEVANT_ONLY && tx->verdict.relevant);
    for (int i = 0; i < tx->files->nelts; i++) {
        pp_file_t *f = &APR_ARRAY_IDX(tx->files, i, pp_file_t);
        /* A file cut short (the body spool failed, the client went away, the parser gave up)
         * is never kept: it is not what the client uploaded. The store itself already removed
         * any file it failed to write. */
        if (f->store)
            pp_upload_file_keep(f->store, k && f->complete);
    }
}
