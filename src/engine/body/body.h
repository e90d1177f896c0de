/*
 * Streaming bodies. buffer.c keeps a body in memory up to a limit and spills it to an
 * anonymous spool file past it (spool.c), so a transaction's memory stays bounded whatever the
 * body size; the bytes can be read back in order for replay to the application. dispatch.c
 * picks the processor for a request body from its content type.
 */
#ifndef PP_BODY_H
#define PP_BODY_H

#include "parapet.h"

typedef struct pp_buffer_t pp_buffer_t;

/* ---- spool.c (pp_spool_create is in parapet.h) ---- */

/* Opens a nameless file in dir (O_TMPFILE; else mkostemp and unlink at once), mode 0600,
 * close-on-exec, read-write. The caller owns *fd. scratch: for the fallback's name. */
apr_status_t pp_spool_open_anonymous(apr_pool_t *scratch, const char *dir, int *fd);
/* Takes the reusable file for the life of req (a pool that ends before the spool's own), opening
 * it in dir on first use or when dir changed. The holder writes its body from offset 0 and reads
 * only what it wrote: the file may still hold the previous body's bytes past that, until req
 * ends and the file is cut to the holder's length. APR_EBUSY when another pool holds it; an open
 * failure as it is. *fd is not the caller's to close. */
apr_status_t pp_spool_take(pp_spool_t *s, apr_pool_t *req, const char *dir, int *fd);
/* Takes the connection's memory region for the life of req instead of its file: need bytes or
 * more, reused from an earlier request or mapped now and charged to m, which must allow it
 * within budget bytes (anonymous memory, unmapped and given back to m when the connection
 * ends). NULL when the spool is taken, need is over what a connection keeps (16 MiB), the
 * budget or the system refuses, or this is the connection's first body past the in-memory
 * limit (nothing was mapped yet: one body would not repay the mapping's page faults); the
 * caller then spools to a file. The region may still hold
 * an earlier request's bytes past what the holder wrote. *cap = its size. */
char *pp_spool_take_memory(pp_spool_t *s, apr_pool_t *req, pp_body_memory_t *m,
                           apr_size_t budget, apr_size_t need, apr_size_t *cap);
/* The holder has written the file up to end (exclusive). */
void pp_spool_wrote(pp_spool_t *s, apr_off_t end);
/* The holder failed mid-body: the file is closed now, so its space is freed at once (the spool
 * stays taken until req ends, then opens a new file when next needed). */
void pp_spool_discard(pp_spool_t *s);

/* ---- memory.c (pp_body_memory_create is in parapet.h) ---- */

/* Takes n bytes of the process's budget of at most budget bytes: false when they do not fit.
 * Safe from any thread. */
bool pp_body_memory_take(pp_body_memory_t *m, apr_size_t n, apr_size_t budget);
/* Gives back n bytes taken. */
void pp_body_memory_give(pp_body_memory_t *m, apr_size_t n);
/* Bytes taken now. */
apr_size_t pp_body_memory_used(const pp_body_memory_t *m);

/* ---- buffer.c ---- */

/* Creates an empty buffer in p; past limit bytes it spills to a file in tmpdir (NULL = the
 * system temp dir). The file has no name and is closed when p is destroyed. Never fails. */
pp_buffer_t *pp_buffer_create(apr_pool_t *p, apr_size_t limit, const char *tmpdir);
/* Before the first byte: the body is expected to be declared bytes long (Content-Length), so the
 * memory part is allocated once, at its final size (at most the limit). A wrong value only
 * costs growth or unused room within the limit. */
void pp_buffer_expect(pp_buffer_t *b, apr_int64_t declared);
/* Before the spill: spill to spool (taken for the life of the buffer's pool) instead of a file
 * of its own; when another request holds it, the buffer makes its own after all. */
void pp_buffer_use_spool(pp_buffer_t *b, pp_spool_t *spool);
/* Before the first byte: past the limit, a body whose expected length (pp_buffer_expect) the
 * spool's memory region can take within m's budget of budget bytes is held in that region
 * instead of a file (pp_spool_take_memory). Needs pp_buffer_use_spool first. */
void pp_buffer_use_memory(pp_buffer_t *b, pp_body_memory_t *m, apr_size_t budget);
/* Appends; returns the file error (APR_ENOSPC, ...) when spilling fails. The first failure is
 * sticky: every later feed, read and flatten returns it, and the spill file is removed. */
apr_status_t pp_buffer_feed(pp_buffer_t *b, const char *data, apr_size_t len);
/* As pp_buffer_feed, from a caller that keeps data valid and unchanged for as long as
 * pp_buffer_lending says so: while the body stays under the limit the buffer may keep a pointer
 * to it instead of a copy (at most 32 chunks; past them all are copied). A body whose expected
 * length (pp_buffer_expect) is over the limit is copied from the start. */
apr_status_t pp_buffer_lend(pp_buffer_t *b, const char *data, apr_size_t len);
/* Whether the buffer holds pointers to lent chunks now. Once false after a lend, it stays false
 * (the chunks were copied, or none was kept): the caller may then release every chunk it lent. */
bool pp_buffer_lending(const pp_buffer_t *b);
/* From now until pp_buffer_release, pp_buffer_feed may keep pointers to the chunks it is given
 * instead of copying them (once the body spilled): the caller keeps every chunk valid and
 * unchanged until then. */
void pp_buffer_hold(pp_buffer_t *b);
/* Ends a hold: writes the chunks held, from where they are. Returns the file error, sticky as a
 * feed's (the chunks were accepted already: pp_buffer_length counts them). */
apr_status_t pp_buffer_release(pp_buffer_t *b);
/* Bytes accepted; after a failure, those accepted before it (the chunk that failed is not
 * counted, nothing after it is accepted). Never fails. */
apr_off_t pp_buffer_length(const pp_buffer_t *b);
/* The first failure of a feed or read-back, APR_SUCCESS while there is none. */
apr_status_t pp_buffer_error(const pp_buffer_t *b);
/* Whether the body went past the limit: to the spool's memory region or to a file (true even
 * once a failure removed the file). */
bool pp_buffer_spilled(const pp_buffer_t *b);
/* The in-memory prefix (the whole body when it did not spill). A body held as lent chunks is
 * copied into the buffer first (and lent no more). */
pp_str_t pp_buffer_prefix(pp_buffer_t *b);
/* Reads the body back from the start, chunk by chunk; *len = 0 at the end. A body in memory
 * comes as one piece pointing into the buffer (valid as long as its pool), or as the lent
 * chunks themselves, in order. Fails (stickily)
 * when the file cannot be flushed or read back whole. */
apr_status_t pp_buffer_read(pp_buffer_t *b, const char **data, apr_size_t *len);
/* Whole body as one contiguous string in p when it is at most max bytes; APR_ENOSPC when
 * larger. */
apr_status_t pp_buffer_flatten(pp_buffer_t *b, apr_pool_t *p, apr_size_t max, pp_str_t *out);
/* The first max bytes of the body (fewer when it is shorter): the in-memory prefix when that
 * covers them, else read from the file into p. Fails (stickily) like a read. */
apr_status_t pp_buffer_head(pp_buffer_t *b, apr_pool_t *p, apr_size_t max, pp_str_t *out);
/* The directory the spill file is in (for messages); NULL before a spill. */
const char *pp_buffer_dir(const pp_buffer_t *b);
/* Once the body is complete: flushes the spill file and sets *file to a view of it (it holds
 * the body from offset 0: read pp_buffer_length bytes), so a reader can take the bytes from the
 * file itself instead of through pp_buffer_read's copies. The buffer only uses pread/pwrite, so
 * the reader may move the descriptor's offset; it must not close it. *file = NULL when the
 * body is in memory. Fails (stickily) like a read. */
apr_status_t pp_buffer_sync(pp_buffer_t *b, apr_file_t **file);

#endif
