/*
 * Spool files: where a body past its in-memory limit goes (buffer.c). A spool file has no
 * name. It is opened with O_TMPFILE in the spool directory (where the file system lacks it:
 * created under an unguessable name with O_EXCL and unlinked at once), mode 0600 and
 * close-on-exec, so no other process can open it, nothing is left in the directory however a
 * request or the server ends (an aborted upload, a crash, SIGKILL), and no directory entry is
 * made or removed per body.
 *
 * A connection keeps one (pp_spool_t, on its pool) and its requests spool to it in turn. Each
 * writes its body over the start of the file, into pages the previous one left in the page
 * cache: no inode is created per request (that was ~15 % of a 100 KB upload's CPU, and more as
 * the directory aged), no page is freed and allocated again, no block is reserved again. Two
 * things ext4 would add are avoided on purpose: the file is never cut to zero bytes (the close
 * of a file truncated to zero forces its pages to disk, auto_da_alloc) and no second
 * descriptor is opened on it (the replay reads this one; the buffer uses pread/pwrite).
 *
 * What one request sent never reaches another: a holder reads only the bytes it wrote (the
 * buffer's length bounds every read and the replay), and when a request ends the file is cut
 * to that request's length, so nothing older than the last body remains, and nothing at all
 * past PP_SPOOL_KEEP_BYTES: a larger body's file is closed (freed at once, being nameless).
 * A request that finds the file taken (HTTP/2 streams have secondary connections of their own,
 * but a pipelined request can start while its predecessor's pool still lives) gets an
 * anonymous file of its own. The file is closed with the connection's pool.
 *
 * A body of known length up to PP_SPOOL_KEEP_BYTES may be held in memory instead, while the
 * worker process's budget allows (pp_spool_take_memory, SecRequestBodyMemoryBudget): the
 * connection's region, an anonymous mapping reused by its requests in turn like the file, and
 * unmapped (its budget given back) when a larger body needs a larger one and when the
 * connection ends. Reused, because fresh anonymous memory costs a page fault and a cleared
 * page per 4 KiB the first time it is written: 10 MB into a new mapping took 3.8 ms of CPU
 * (1.4-1.6 ms with huge pages), into the reused spool file 1.3-1.5 ms with its read-back,
 * into a reused mapping 0.5 ms, and the replay then reads it without a copy. So a connection's
 * first body past the in-memory limit goes to the file, and only a connection that brings
 * another one (a keep-alive client uploading in turn) maps a region: a single upload per
 * connection, the usual browser form, never pays for a mapping it would use once. When a
 * connection takes its region, its file is closed (its pages freed at once).
 */
#include "body/body.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>

/* Most a connection keeps on disk between its requests: more than the default
 * SecRequestBodyLimit (12.5 MB), so with defaults the file lives as long as the connection. */
#define PP_SPOOL_KEEP_BYTES (16 * 1024 * 1024)

struct pp_spool_t {
    apr_pool_t *pool;
    int fd;          /* -1 until first needed, and after a failure */
    char *dir;       /* the directory fd lives in */
    apr_size_t dir_cap;
    bool busy;       /* a request's pool holds it */
    apr_off_t size;  /* the file's size */
    apr_off_t used;  /* bytes the current holder wrote from offset 0 */
    bool file_held;  /* the current holder took the file (not the region) */
    bool spilled_before; /* a body of the connection went past the in-memory limit */
    char *ram;       /* the memory region, NULL when none */
    apr_size_t ram_cap;
    pp_body_memory_t *budget; /* the region is charged to it */
};

/* Regions grow in steps of this (the huge page size, so they can be backed by huge pages). */
#define PP_SPOOL_RAM_STEP ((apr_size_t)2 * 1024 * 1024)

static apr_status_t os_error(void)
{
    return APR_FROM_OS_ERROR(errno ? errno : EIO);
}

#ifdef O_TMPFILE
/* Kernels or file systems without O_TMPFILE answer one of these; anything else is a real
 * failure (no such directory, no permission, no space) and is reported as it is. */
static bool tmpfile_unsupported(int err)
{
    return err == EOPNOTSUPP || err == EISDIR || err == EINVAL || err == ENOSYS;
}
#endif

apr_status_t pp_spool_open_anonymous(apr_pool_t *scratch, const char *dir, int *fd)
{
    *fd = -1;
#ifdef O_TMPFILE
    /* O_EXCL: the file can never be given a name with linkat(2). */
    int f = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
    if (f >= 0) {
        *fd = f;
        return APR_SUCCESS;
    }
    if (!tmpfile_unsupported(errno))
        return os_error();
#endif
    char *tmpl = apr_pstrcat(scratch, dir, "/parapet-body-XXXXXX", NULL);
    int g = mkostemp(tmpl, O_CLOEXEC); /* O_EXCL, mode 0600 */
    if (g < 0)
        return os_error();
    if (unlink(tmpl) != 0) {
        apr_status_t rv = os_error();
        close(g);
        unlink(tmpl);
        return rv;
    }
    *fd = g;
    return APR_SUCCESS;
}

static void spool_close(pp_spool_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->size = 0;
}

static void ram_unmap(pp_spool_t *s)
{
    if (s->ram) {
        munmap(s->ram, s->ram_cap);
        pp_body_memory_give(s->budget, s->ram_cap);
    }
    s->ram = NULL;
    s->ram_cap = 0;
}

static apr_status_t spool_cleanup(void *data)
{
    spool_close(data);
    ram_unmap(data);
    return APR_SUCCESS;
}

pp_spool_t *pp_spool_create(apr_pool_t *p)
{
    pp_spool_t *s = apr_pcalloc(p, sizeof *s);
    s->pool = p;
    s->fd = -1;
    apr_pool_cleanup_register(p, s, spool_cleanup, apr_pool_cleanup_null);
    return s;
}

/* The request is over: the file is cut to its body (nothing older stays), or closed when that
 * is more than a connection keeps, or when it cannot be cut; then it may be taken again. */
static apr_status_t spool_release(void *data)
{
    pp_spool_t *s = data;
    if (s->fd >= 0 && s->file_held && s->used > PP_SPOOL_KEEP_BYTES)
        spool_close(s);
    if (s->fd >= 0 && s->file_held && s->size > s->used) {
        if (ftruncate(s->fd, s->used) == 0)
            s->size = s->used;
        else
            spool_close(s);
    }
    s->busy = false;
    s->file_held = false;
    s->used = 0;
    return APR_SUCCESS;
}

/* Remembers dir without growing the connection's pool per request: the copy is only
 * reallocated for a longer name. */
static void remember_dir(pp_spool_t *s, const char *dir)
{
    apr_size_t n = strlen(dir) + 1;
    if (n > s->dir_cap) {
        s->dir_cap = n < 256 ? 256 : n;
        s->dir = apr_palloc(s->pool, s->dir_cap);
    }
    memcpy(s->dir, dir, n);
}

apr_status_t pp_spool_take(pp_spool_t *s, apr_pool_t *req, const char *dir, int *fd)
{
    *fd = -1;
    if (s->busy)
        return APR_EBUSY;
    if (s->fd >= 0 && strcmp(s->dir, dir) != 0)
        spool_close(s);
    if (s->fd < 0) {
        apr_status_t rv = pp_spool_open_anonymous(req, dir, &s->fd);
        if (rv != APR_SUCCESS)
            return rv;
        remember_dir(s, dir);
    }
    s->busy = true;
    s->file_held = true;
    s->spilled_before = true;
    s->used = 0;
    apr_pool_cleanup_register(req, s, spool_release, apr_pool_cleanup_null);
    *fd = s->fd;
    return APR_SUCCESS;
}

char *pp_spool_take_memory(pp_spool_t *s, apr_pool_t *req, pp_body_memory_t *m,
                           apr_size_t budget, apr_size_t need, apr_size_t *cap)
{
    *cap = 0;
    if (s->busy || !m || budget == 0 || need == 0 || need > PP_SPOOL_KEEP_BYTES ||
        (!s->ram && !s->spilled_before))
        return NULL;
    if (!s->ram || s->ram_cap < need || s->budget != m) {
        ram_unmap(s);
        apr_size_t size = (need + PP_SPOOL_RAM_STEP - 1) / PP_SPOOL_RAM_STEP * PP_SPOOL_RAM_STEP;
        if (!pp_body_memory_take(m, size, budget))
            return NULL;
        void *at = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (at == MAP_FAILED) {
            pp_body_memory_give(m, size);
            return NULL;
        }
#ifdef MADV_HUGEPAGE
        madvise(at, size, MADV_HUGEPAGE); /* fewer faults on first use; a hint only */
#endif
        s->ram = at;
        s->ram_cap = size;
        s->budget = m;
    }
    /* The connection's bodies now go to memory: the file's pages are given back at once
     * (it is opened again should the budget run out). */
    spool_close(s);
    s->busy = true;
    s->used = 0;
    apr_pool_cleanup_register(req, s, spool_release, apr_pool_cleanup_null);
    *cap = s->ram_cap;
    return s->ram;
}

void pp_spool_wrote(pp_spool_t *s, apr_off_t end)
{
    if (end > s->used)
        s->used = end;
    if (end > s->size)
        s->size = end;
}

void pp_spool_discard(pp_spool_t *s)
{
    spool_close(s);
}
