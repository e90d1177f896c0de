/*
 * Streaming bodies. buffer.c keeps a body in memory up to a limit and spills it to an
 * unguessable temp file past it, so a transaction's memory stays bounded whatever the body
 * size; the bytes can be read back in order for replay to the application. dispatch.c picks
 * the processor for a request body from its content type.
 */
#ifndef PP_BODY_H
#define PP_BODY_H

#include "parapet.h"

typedef struct pp_buffer_t pp_buffer_t;

/* Creates an empty buffer in p; past limit bytes it spills to a file in tmpdir (NULL = the
 * system temp dir). The file is removed when p is destroyed. Never fails. */
pp_buffer_t *pp_buffer_create(apr_pool_t *p, apr_size_t limit, const char *tmpdir);
/* Appends; returns the file error (APR_ENOSPC, ...) when spilling fails. The first failure is
 * sticky: every later feed, read and flatten returns it, and the spill file is removed. */
apr_status_t pp_buffer_feed(pp_buffer_t *b, const char *data, apr_size_t len);
/* Bytes accepted; after a failure, those accepted before it (the chunk that failed is not
 * counted, nothing after it is accepted). Never fails. */
apr_off_t pp_buffer_length(const pp_buffer_t *b);
/* The first failure of a feed or read-back, APR_SUCCESS while there is none. */
apr_status_t pp_buffer_error(const pp_buffer_t *b);
/* Whether the body went to a file (true even once a failure removed it). */
bool pp_buffer_spilled(const pp_buffer_t *b);
/* The in-memory prefix (the whole body when it did not spill). */
pp_str_t pp_buffer_prefix(const pp_buffer_t *b);
/* Reads the body back from the start, chunk by chunk; *len = 0 at the end. Fails (stickily)
 * when the file cannot be flushed or read back whole. */
apr_status_t pp_buffer_read(pp_buffer_t *b, const char **data, apr_size_t *len);
/* Whole body as one contiguous string in p when it is at most max bytes; APR_ENOSPC when
 * larger. */
apr_status_t pp_buffer_flatten(pp_buffer_t *b, apr_pool_t *p, apr_size_t max, pp_str_t *out);
const char *pp_buffer_path(const pp_buffer_t *b);
/* Once the body is complete: flushes the spill file and sets *file to it (it holds the whole
 * body, from offset 0), so a reader can take the bytes from the file itself instead of through
 * pp_buffer_read's copies (with a descriptor of its own: this one's offset belongs to the
 * buffer); *file = NULL when the body is in memory. Fails (stickily) like a read. */
apr_status_t pp_buffer_sync(pp_buffer_t *b, apr_file_t **file);

#endif
