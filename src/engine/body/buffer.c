/*
 * Body buffer: memory up to a limit (SecUploadInMemoryLimit for requests, reference §6.4), then
 * a temp file holding the whole body. The in-memory prefix is kept after a spill (it is at most
 * the limit) so rules can still see the start of the body without reading the file. The file
 * is created with apr_file_mktemp (unguessable name, 0600, O_EXCL) and removed when the pool
 * goes, whatever path the request took.
 *
 * The first failure (creating or writing the file, flushing it for read-back) is sticky: the
 * chunk that failed left a gap, so every later feed, read and flatten returns the same error
 * rather than append behind the gap or replay a short body (review H3).
 */
#include "body/body.h"
#include "util/util.h"

#include <apr_strings.h>

#define PP_READ_CHUNK_BYTES 65536
#define PP_BUFFER_FIRST_BYTES 8192
/* Spill writes are gathered to this size: one write(2) per 64 KiB, not per 4 KiB (APR's
 * default), for bodies that come in 8 KB blocks. */
#define PP_SPILL_BUFFER_BYTES 65536

struct pp_buffer_t {
    apr_pool_t *pool;
    /* The in-memory part, at most the limit. It grows by doubling, so a large
     * SecUploadInMemoryLimit costs only what bodies actually use. */
    pp_sbuf_t mem;
    apr_file_t *file;
    const char *path;
    const char *tmpdir;
    apr_off_t total;     /* bytes accepted, in order, before any failure */
    apr_status_t error;  /* the first failure; APR_SUCCESS while there is none */
    /* read-back state */
    apr_off_t read_pos;
    char *chunk;
};

pp_buffer_t *pp_buffer_create(apr_pool_t *p, apr_size_t limit, const char *tmpdir)
{
    pp_buffer_t *b = apr_pcalloc(p, sizeof *b);
    b->pool = p;
    pp_sbuf_init_bounded(&b->mem, p, PP_BUFFER_FIRST_BYTES, limit);
    b->tmpdir = tmpdir;
    return b;
}

static apr_status_t write_all(apr_file_t *f, const char *data, apr_size_t len)
{
    apr_size_t n = len;
    apr_status_t rv = apr_file_write_full(f, data, len, &n);
    return rv == APR_SUCCESS && n != len ? APR_EGENERAL : rv;
}

/* Records the first failure. The partial file goes now rather than with the pool, so a full
 * disk recovers while the rest of a long body is drained. */
static apr_status_t fail(pp_buffer_t *b, apr_status_t rv)
{
    b->error = rv;
    if (b->file) {
        apr_file_close(b->file);
        b->file = NULL;
    }
    return rv;
}

static apr_status_t spill(pp_buffer_t *b)
{
    const char *dir = b->tmpdir;
    if (!dir && apr_temp_dir_get(&dir, b->pool) != APR_SUCCESS)
        dir = "/tmp";
    char *tmpl = apr_pstrcat(b->pool, dir, "/parapet-body-XXXXXX", NULL);
    apr_status_t rv = apr_file_mktemp(&b->file, tmpl,
                                      APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE |
                                          APR_FOPEN_EXCL | APR_FOPEN_BINARY |
                                          APR_FOPEN_DELONCLOSE | APR_FOPEN_BUFFERED,
                                      b->pool);
    if (rv != APR_SUCCESS)
        return rv;
    b->path = tmpl;
    rv = apr_file_buffer_set(b->file, apr_palloc(b->pool, PP_SPILL_BUFFER_BYTES),
                             PP_SPILL_BUFFER_BYTES);
    if (rv != APR_SUCCESS)
        return rv;
    return write_all(b->file, b->mem.data, b->mem.len);
}

apr_status_t pp_buffer_feed(pp_buffer_t *b, const char *data, apr_size_t len)
{
    if (b->error)
        return b->error;
    if (!len)
        return APR_SUCCESS;
    if (!b->file && len <= pp_sbuf_room(&b->mem)) {
        pp_sbuf_add(&b->mem, data, len);
        b->total += (apr_off_t)len;
        return APR_SUCCESS;
    }
    apr_status_t rv = b->file ? APR_SUCCESS : spill(b);
    if (rv == APR_SUCCESS)
        rv = write_all(b->file, data, len);
    if (rv != APR_SUCCESS)
        return fail(b, rv);
    b->total += (apr_off_t)len;
    return APR_SUCCESS;
}

apr_off_t pp_buffer_length(const pp_buffer_t *b) { return b->total; }
apr_status_t pp_buffer_error(const pp_buffer_t *b) { return b->error; }
bool pp_buffer_spilled(const pp_buffer_t *b) { return b->path != NULL; }
const char *pp_buffer_path(const pp_buffer_t *b) { return b->path; }

pp_str_t pp_buffer_prefix(const pp_buffer_t *b)
{
    return (pp_str_t){ b->mem.data, b->mem.len };
}

apr_status_t pp_buffer_read(pp_buffer_t *b, const char **data, apr_size_t *len)
{
    *data = "";
    *len = 0;
    if (b->error)
        return b->error;
    if (!b->file) {
        apr_size_t left = b->mem.len - (apr_size_t)b->read_pos;
        *data = b->mem.data + b->read_pos;
        *len = left;
        b->read_pos += (apr_off_t)left;
        return APR_SUCCESS;
    }
    if (b->read_pos == 0) {
        apr_status_t rv = apr_file_flush(b->file);
        apr_off_t off = 0;
        if (rv == APR_SUCCESS)
            rv = apr_file_seek(b->file, APR_SET, &off);
        if (rv != APR_SUCCESS)
            return fail(b, rv);
        if (!b->chunk)
            b->chunk = apr_palloc(b->pool, PP_READ_CHUNK_BYTES);
    }
    apr_size_t n = PP_READ_CHUNK_BYTES;
    if ((apr_off_t)n > b->total - b->read_pos)
        n = (apr_size_t)(b->total - b->read_pos);
    *data = b->chunk;
    *len = n;
    if (!n)
        return APR_SUCCESS;
    apr_status_t rv = apr_file_read_full(b->file, b->chunk, n, len);
    b->read_pos += (apr_off_t)*len;
    /* The file holds exactly what was accepted: coming up short is a failure too. */
    if (rv == APR_EOF && *len != n)
        rv = APR_EGENERAL;
    return rv == APR_SUCCESS ? APR_SUCCESS : fail(b, rv);
}

apr_status_t pp_buffer_sync(pp_buffer_t *b, apr_file_t **file)
{
    *file = NULL;
    if (b->error)
        return b->error;
    if (!b->file)
        return APR_SUCCESS;
    apr_status_t rv = apr_file_flush(b->file);
    if (rv != APR_SUCCESS)
        return fail(b, rv);
    *file = b->file;
    return APR_SUCCESS;
}

apr_status_t pp_buffer_flatten(pp_buffer_t *b, apr_pool_t *p, apr_size_t max, pp_str_t *out)
{
    if (b->error)
        return b->error;
    if (b->total > (apr_off_t)max)
        return APR_ENOSPC;
    if (!b->file) {
        *out = pp_buffer_prefix(b);
        return APR_SUCCESS;
    }
    char *s = apr_palloc(p, (apr_size_t)b->total + 1);
    apr_size_t got = 0, len;
    const char *data;
    b->read_pos = 0;
    do {
        apr_status_t rv = pp_buffer_read(b, &data, &len);
        if (rv != APR_SUCCESS)
            return rv;
        memcpy(s + got, data, len);
        got += len;
    } while (len);
    b->read_pos = 0;
    s[got] = '\0';
    *out = (pp_str_t){ s, got };
    return APR_SUCCESS;
}
