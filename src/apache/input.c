/*
 * Request body: read from the client into the engine, then replay to the handler (reference
 * §1.2 steps 3 and 5, §6.7). The inbound phase needs the whole body before the handler runs,
 * so fixups drains Apache's input chain (the core has already removed chunked framing) and
 * streams each brigade into pp_tx_feed_request_body; the engine keeps it in memory up to
 * SecUploadInMemoryLimit and spills the rest to disk, so Apache never holds the whole body.
 *
 * Once a request is let through, the handler must receive exactly the bytes the client sent.
 * The client side of the chain is exhausted by then, so a filter of our own is put at the
 * content-set level and serves the engine's copy in the sizes the handler asks for: a body in
 * memory as pool buckets on the engine's buffer, a spooled one as file buckets on its spool
 * file, so its bytes are read once, by whoever consumes the buckets, and never copied by us.
 * Filters the handler adds later (SetInputFilter DEFLATE and the like) sit above it and still
 * see the original bytes. It calls the filters below it only for a body the engine stopped
 * reading at SecRequestBodyLimit under ProcessPartial: after the engine's copy and the bytes it
 * kept aside, the rest comes straight from the client, uninspected, as in ModSecurity.
 */
#include <string.h>

#include "apr_buckets.h"
#include "apr_strings.h"
#include "http_protocol.h"
#include "http_request.h"

#include "mod_parapet.h"

#define REPLAY_FILTER_NAME "PARAPET_REPLAY"
/* Per read from the client. The core reads the socket 8,000 bytes at a time whatever is asked,
 * but within one call it goes on reading, without waiting, while the socket has data and the
 * brigade is under this size: one pass down the input filters per 64 KiB instead of per 8 KB
 * (about a million instructions fewer per 10 MB, callgrind). Memory stays at one brigade. Each
 * read asks for what is left to the next multiple of this size in the body, so a body that
 * spills hands the engine 64 KiB pieces at the engine's 64 KiB file boundaries, which it writes
 * to its spool file straight from the buckets (pp_tx_feed_request_body_chunks). */
#define READ_BLOCK_BYTES 65536
/* Buckets per call of pp_tx_feed_request_body_chunks (a 64 KiB read is 9 or 10). */
#define FEED_CHUNKS_MAX 32

/* What the replay filter has not yet handed on: a window into the engine's current chunk,
 * valid until the next pp_tx_read_request_body call. */
typedef struct replay_ctx_t {
    pp_tx_t *tx;
    const char *data;
    apr_size_t len;
    bool eos;
    /* A body that spilled to a file is served from that file as file buckets (read through
     * mmap or sendfile by whoever consumes them) instead of being copied into heap buckets. */
    apr_file_t *file;
    apr_off_t pos, total;
    apr_bucket_brigade *tmp; /* reused: one per call would grow r->pool with the body size */
    /* ProcessPartial: the bytes fed past the limit, then (unread) the client's rest. */
    pp_str_t rest;
    bool rest_given, from_client;
    apr_pool_t *body_pool;   /* the transaction's: an in-memory body lives as long as it */
} replay_ctx_t;

/* Feeds one brigade to the engine, its buckets' data held in place (valid until the brigade is
 * cleaned up), *fed counting the bytes. Returns true when EOS was seen, or when the engine
 * refused the body (SecRequestBodyLimit, ...): the rest is not read, since nothing would be done
 * with it but spooling; the refusal (413) then makes Apache close the connection. Also true
 * after the brigade in which the engine reached the limit under ProcessPartial: the engine has
 * kept the rest of that brigade aside and the remainder stays with the client
 * (rq->body_unread). A local failure (disk full while spooling) is recorded in the verdict by
 * the engine; reading goes on so the connection stays usable for the error answer. */
/* Whether every data bucket of bb is a heap bucket: memory that stays where it is, unchanged,
 * for as long as the bucket, so the engine may keep pointers into it (lend). */
static bool all_heap(apr_bucket_brigade *bb)
{
    apr_bucket *b;

    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
        if (!APR_BUCKET_IS_METADATA(b) && !APR_BUCKET_IS_HEAP(b)) {
            return false;
        }
    }
    return true;
}

static bool feed_brigade(request_rec *r, pp_ap_req_t *rq, apr_bucket_brigade *bb,
                         apr_off_t *fed, apr_status_t *rv)
{
    pp_str_t chunks[FEED_CHUNKS_MAX];
    apr_size_t n = 0;
    bool eos = false;
    apr_bucket *b;
    apr_status_t (*feed)(pp_tx_t *, const pp_str_t *, apr_size_t) =
        all_heap(bb) ? pp_tx_feed_request_body_lent : pp_tx_feed_request_body_chunks;

    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
        const char *data;
        apr_size_t len;

        if (APR_BUCKET_IS_EOS(b)) {
            eos = true;
            break;
        }
        if (APR_BUCKET_IS_METADATA(b)) {
            continue;
        }
        *rv = apr_bucket_read(b, &data, &len, APR_BLOCK_READ);
        if (*rv != APR_SUCCESS) {
            feed(rq->tx, chunks, n);
            return false;
        }
        if (len == 0) {
            continue;
        }
        if (n == FEED_CHUNKS_MAX) {
            feed(rq->tx, chunks, n);
            n = 0;
        }
        chunks[n++] = (pp_str_t){ data, len };
        *fed += (apr_off_t)len;
    }
    feed(rq->tx, chunks, n);
    if (eos) {
        rq->body_unread = false;
        return true;
    }
    if (pp_tx_verdict(rq->tx)->intercepted) {
        return true;
    }
    if (pp_tx_request_body_partial(rq->tx)) {
        rq->body_unread = true;
        return true;
    }
    return false;
}

bool pp_ap_request_has_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    char *end;
    apr_off_t n;

    if (apr_table_get(r->headers_in, "Transfer-Encoding") != NULL) {
        return true;
    }
    if (cl == NULL) {
        return false;
    }
    /* Anything but a clean 0 goes the reading way, which answers a malformed length. */
    return apr_strtoff(&n, cl, &end, 10) != APR_SUCCESS || *end != '\0' || n != 0;
}

int pp_ap_read_request_body(request_rec *r, pp_ap_req_t *rq)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    /* The buckets the engine holds pointers into (pp_tx_request_body_lent): a multipart body
     * under the in-memory limit is kept here instead of copied, and replayed from them. On
     * r->pool, destroyed after the transaction's pool and after the replay's pool buckets on
     * it (cleanups run in reverse order: those copy their bytes out first, if set aside). */
    apr_bucket_brigade *kept = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_status_t rv = APR_SUCCESS;
    apr_off_t fed = 0;
    bool eos = false;

    /* From here on the client side is drained; the handler must get the replay. */
    rq->body_consumed = true;
    while (!eos) {
        rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES, APR_BLOCK_READ,
                            READ_BLOCK_BYTES - fed % READ_BLOCK_BYTES);
        if (rv == APR_SUCCESS) {
            eos = feed_brigade(r, rq, bb, &fed, &rv);
        }
        /* Buckets are released per block: this is what keeps a 1 GiB upload at one block. A
         * body the engine holds as lent buckets is under its in-memory limit; once it copied
         * them (past the limit, or when asked for the body whole) it holds none. */
        if (pp_tx_request_body_lent(rq->tx)) {
            APR_BRIGADE_CONCAT(kept, bb);
        }
        else {
            apr_brigade_cleanup(kept);
            apr_brigade_cleanup(bb);
        }
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r,
                          "Parapet: reading the request body failed [unique_id \"%s\"]",
                          pp_tx_unique_id(rq->tx));
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
    }
    apr_brigade_destroy(bb);
    return OK;
}

/* Moves the next piece of the engine's copy into ctx; sets ctx->eos at the end. */
static apr_status_t refill(replay_ctx_t *ctx)
{
    apr_status_t rv;

    while (ctx->len == 0 && !ctx->eos) {
        rv = pp_tx_read_request_body(ctx->tx, &ctx->data, &ctx->len);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (ctx->len == 0) {
            ctx->eos = true;
        }
    }
    return APR_SUCCESS;
}

/* How much of the pending window a read of this mode hands over. */
static apr_size_t window_for_mode(const replay_ctx_t *ctx, ap_input_mode_t mode,
                                  apr_off_t readbytes)
{
    apr_size_t n = ctx->len;

    if (mode == AP_MODE_GETLINE) {
        const char *lf = memchr(ctx->data, '\n', ctx->len);
        if (lf != NULL) {
            n = (apr_size_t)(lf - ctx->data) + 1;
        }
    }
    else if ((mode == AP_MODE_READBYTES || mode == AP_MODE_SPECULATIVE) && readbytes > 0
             && (apr_off_t)n > readbytes) {
        n = (apr_size_t)readbytes;
    }
    return n;
}

/* The file way: the next range of the spool file as a file bucket. A line (GETLINE) is cut
 * at its LF, at most HUGE_STRING_LEN bytes, as the core's own filter does. */
static apr_status_t replay_file(ap_filter_t *f, replay_ctx_t *ctx, apr_bucket_brigade *bb,
                                ap_input_mode_t mode, apr_off_t readbytes)
{
    apr_bucket_alloc_t *ba = f->c->bucket_alloc;
    apr_off_t left = ctx->total - ctx->pos, want = left;
    apr_bucket_brigade *tmp;
    apr_bucket *b;
    apr_status_t rv;

    if (ctx->tmp == NULL) {
        ctx->tmp = apr_brigade_create(f->r->pool, ba);
    }
    tmp = ctx->tmp;

    if (left <= 0) {
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(ba));
        return APR_SUCCESS;
    }
    if ((mode == AP_MODE_READBYTES || mode == AP_MODE_SPECULATIVE) && readbytes > 0
        && readbytes < want) {
        want = readbytes;
    }
    if (mode == AP_MODE_GETLINE && want > HUGE_STRING_LEN) {
        want = HUGE_STRING_LEN;
    }
    b = apr_bucket_file_create(ctx->file, ctx->pos, (apr_size_t)want, f->r->pool, ba);
    /* Read into bucket memory, not mmap: each mapping allocates from r->pool, which would
     * grow with the body (a 1 GiB body is 131072 reads of 8 KB). */
    apr_bucket_file_enable_mmap(b, 0);
    APR_BRIGADE_INSERT_TAIL(tmp, b);
    if (mode == AP_MODE_GETLINE) {
        rv = apr_brigade_split_line(bb, tmp, APR_BLOCK_READ, HUGE_STRING_LEN);
        apr_brigade_cleanup(tmp);
        if (rv == APR_SUCCESS) {
            rv = apr_brigade_length(bb, 1, &want);
        }
    }
    else {
        APR_BRIGADE_CONCAT(bb, tmp);
        rv = APR_SUCCESS;
    }
    if (rv == APR_SUCCESS && mode != AP_MODE_SPECULATIVE) {
        ctx->pos += want;
    }
    return rv;
}

/* Once the engine's copy is served: under ProcessPartial the bytes kept aside past the limit,
 * then the client's unread rest through the filters below; otherwise the end. */
static apr_status_t replay_after(ap_filter_t *f, replay_ctx_t *ctx, apr_bucket_brigade *bb,
                                 ap_input_mode_t mode, apr_read_type_e block,
                                 apr_off_t readbytes)
{
    apr_bucket_alloc_t *ba = f->c->bucket_alloc;

    if (!ctx->rest_given && ctx->rest.len > 0) {
        replay_ctx_t w = *ctx;
        apr_size_t n;

        w.data = ctx->rest.data;
        w.len = ctx->rest.len;
        n = window_for_mode(&w, mode, readbytes);
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_heap_create(ctx->rest.data, n, NULL, ba));
        if (mode != AP_MODE_SPECULATIVE) {
            ctx->rest.data += n;
            ctx->rest.len -= n;
        }
        return APR_SUCCESS;
    }
    ctx->rest_given = true;
    if (ctx->from_client) {
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    }
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(ba));
    return APR_SUCCESS;
}

static apr_status_t replay_body(ap_filter_t *f, apr_bucket_brigade *bb, ap_input_mode_t mode,
                                apr_read_type_e block, apr_off_t readbytes)
{
    replay_ctx_t *ctx = f->ctx;
    apr_bucket_alloc_t *ba = f->c->bucket_alloc;
    apr_status_t rv;
    apr_size_t n;

    if (mode != AP_MODE_READBYTES && mode != AP_MODE_GETLINE && mode != AP_MODE_SPECULATIVE
        && mode != AP_MODE_EXHAUSTIVE) {
        return APR_ENOTIMPL;
    }
    if (ctx->file != NULL && ctx->pos >= ctx->total) {
        return replay_after(f, ctx, bb, mode, block, readbytes);
    }
    if (ctx->file != NULL) {
        rv = replay_file(f, ctx, bb, mode, readbytes);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, f->r,
                          "Parapet: replaying the request body from its spool file failed "
                          "[unique_id \"%s\"]", pp_tx_unique_id(ctx->tx));
        }
        return rv;
    }
    rv = refill(ctx);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, f->r,
                      "Parapet: replaying the request body failed [unique_id \"%s\"]",
                      pp_tx_unique_id(ctx->tx));
        return rv;
    }
    if (ctx->eos) {
        return replay_after(f, ctx, bb, mode, block, readbytes);
    }
    n = window_for_mode(ctx, mode, readbytes);
    /* No copy: a body without a spool file is the engine's in-memory buffer, which lives as
     * long as the transaction's pool (parapet.h), or the read's own buckets it kept (kept in
     * pp_ap_read_request_body, as long as r->pool). A pool bucket on that pool becomes a heap
     * copy by itself should a handler set it aside beyond the pool. */
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(ctx->data, n, ctx->body_pool, ba));
    if (mode != AP_MODE_SPECULATIVE) {
        ctx->data += n;
        ctx->len -= n;
    }
    return APR_SUCCESS;
}

/* A spooled body is replayed from the engine's spool file itself: the engine reads and writes
 * it only at explicit offsets, so the file buckets' seek-and-read is free to move its offset.
 * No second descriptor is opened and closed per request (on ext4 the close of a file once cut
 * to zero bytes even forces its pages to disk, auto_da_alloc). NULL when the body is in memory:
 * pool buckets on the engine's buffer serve it. */
static apr_file_t *spool_file(pp_tx_t *tx)
{
    apr_file_t *spool = NULL;

    if (pp_tx_request_body_file(tx, &spool) != APR_SUCCESS) {
        return NULL;
    }
    return spool;
}

void pp_ap_replay_prepare(request_rec *r, pp_ap_req_t *rq)
{
    replay_ctx_t *ctx = apr_pcalloc(r->pool, sizeof(*ctx));

    ctx->tx = rq->tx;
    ctx->body_pool = r->pool;
    rq->replay = ctx;
    ctx->file = spool_file(rq->tx);
    ctx->total = pp_tx_request_body_length(rq->tx);
    ctx->rest = pp_tx_request_body_rest(rq->tx);
    ctx->from_client = rq->body_unread;
    /* The handler reads a de-chunked body of known size: say so, so ap_setup_client_block
     * accepts it and CGI gets CONTENT_LENGTH. An internal redirect copies these headers. A
     * body partly left with the client keeps its framing: its size is not known. */
    if (apr_table_get(r->headers_in, "Transfer-Encoding") != NULL && !rq->body_unread) {
        apr_table_unset(r->headers_in, "Transfer-Encoding");
        apr_table_setn(r->headers_in, "Content-Length",
                       apr_off_t_toa(r->pool, pp_tx_request_body_length(rq->tx)));
    }
}

/* insert_filter runs for the request whose handler is about to run: the one inspected, or
 * the target of an internal redirect (mod_rewrite in a directory context), which does not
 * inherit request-level input filters. One replay state serves the whole chain. */
static void insert_replay_filter(request_rec *r)
{
    pp_ap_req_t *rq;

    if (r->main != NULL) {
        return;
    }
    rq = pp_ap_req_get(r);
    if (rq != NULL && rq->replay != NULL) {
        ap_add_input_filter(REPLAY_FILTER_NAME, rq->replay, r, r->connection);
    }
}

void pp_ap_register_input_filter(void)
{
    ap_register_input_filter(REPLAY_FILTER_NAME, replay_body, NULL, AP_FTYPE_CONTENT_SET);
    ap_hook_insert_filter(insert_replay_filter, NULL, NULL, APR_HOOK_MIDDLE);
}
