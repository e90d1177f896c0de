/*
 * Body buffer: memory up to a limit (SecUploadInMemoryLimit / SecRequestBodyInMemoryLimit for
 * requests, reference §6.4), then a spool file holding the whole body. The in-memory prefix is
 * kept after a spill (it is at most the limit) so rules can still see the start of the body
 * without reading the file. The file is anonymous (spool.c: O_TMPFILE, 0600, no name anyone
 * could open or that could be left behind): the connection's reusable one when the buffer was
 * given it (pp_buffer_use_spool), else one of its own, closed with the pool.
 *
 * Writes are gathered in a 64 KiB buffer of our own (one write per 64 KiB, not per 8 KB block
 * the client side delivers), aligned to 64 KiB in the file (gather_limit). While the caller
 * holds its chunks for us (pp_buffer_hold: the adapter's buckets of one read), they are not
 * copied: at release one pwritev(2) takes them from where they are, up to the last 64 KiB
 * boundary they reach, and only the rest is copied into the buffer. Writes and read-back are
 * pwrite(2)/pwritev(2)/pread(2) at the buffer's own positions, so nothing depends on the
 * descriptor's offset.
 *
 * Past the limit, a body of known length may be held in the connection's memory region instead
 * of the file (pp_buffer_use_memory, pp_spool_take_memory), while the worker process's budget
 * (SecRequestBodyMemoryBudget) allows: the region then holds the whole body from offset 0, as
 * the file would, and is read back in place. A body that outgrows it (more than it declared)
 * moves to a file of its own.
 *
 * A caller that keeps its chunks valid for the buffer's life may lend them (pp_buffer_lend): while
 * the body stays under the limit, the buffer then keeps only pointers to them, and the body is
 * read back from them in place. Whatever needs it in one piece (the prefix, head, flatten) or
 * goes on past the limit first copies the lent chunks into the memory part, as a feed would have
 * (materialise), and the buffer lends no more: from then on it holds no pointer to any of them.
 * At most PP_LENT_MAX chunks are lent (then they are copied), so a caller that keeps its reads'
 * blocks (up to 8,000 bytes each in Apache, however little of one a chunk is) keeps at most
 * 32 of them.
 *
 * The first failure (creating or writing the file, flushing it for read-back) is sticky: the
 * chunk that failed left a gap, so every later feed, read and flatten returns the same error
 * rather than append behind the gap or replay a short body (review H3). The file's blocks are
 * freed at once, so a full disk recovers while the rest of a long body is drained.
 */
#include "body/body.h"
#include "util/util.h"

#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

#include <apr_portable.h>
#include <apr_strings.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define PP_READ_CHUNK_BYTES 65536
#define PP_BUFFER_FIRST_BYTES 8192
/* Spill writes are gathered to this size. */
#define PP_SPILL_BUFFER_BYTES 65536
/* Chunks a hold keeps before it writes (a 64 KiB read is 9 or 10 buckets). */
#define PP_HELD_MAX 32
/* pp_buffer_lend: at most this many chunks are kept by reference. */
#define PP_LENT_MAX 32
/* A block of the memory part this large or larger comes from the buffer's own pool (big_pool). */
#define PP_BUFFER_OWN_BYTES 32768

struct pp_buffer_t {
    apr_pool_t *pool;
    apr_pool_t *big;     /* big_pool: made on first use, NULL until then */
    /* The in-memory part, at most the limit. It grows by doubling, so a large in-memory limit
     * costs only what bodies actually use. */
    pp_sbuf_t mem;
    const char *tmpdir;
    pp_spool_t *spool;   /* the connection's reusable file, or NULL */
    int fd;              /* the spill file; -1 before the spill and after a failure */
    bool spilled;
    const char *dir;     /* where the spill file is (for messages) */
    char *wbuf;          /* gathered writes not yet on disk */
    apr_size_t wlen;
    apr_off_t on_disk;   /* bytes written to the file */
    apr_off_t total;     /* bytes accepted, in order, before any failure */
    apr_status_t error;  /* the first failure; APR_SUCCESS while there is none */
    /* pp_buffer_hold: chunks past the write buffer's bytes, still in the caller's memory */
    bool holding;
    int nheld;
    apr_size_t held_len;
    struct iovec held[PP_HELD_MAX];
    apr_file_t *file;    /* pp_buffer_sync's view of fd */
    /* pp_buffer_lend: the body so far as the caller's chunks (nlent of them), in place of mem */
    pp_str_t *lent;
    int nlent;
    int read_lent;       /* read-back: the next lent chunk */
    bool lend_over;      /* materialised (or never lent): nothing more is lent */
    /* pp_buffer_use_memory: the budget, and the region once the body went to it */
    pp_body_memory_t *budget;
    apr_size_t budget_max;
    apr_int64_t declared;  /* pp_buffer_expect's length, -1 when unknown */
    char *ram;             /* the body from offset 0, NULL when not in memory */
    apr_size_t ram_cap;
    bool ram_unfenced;     /* non-temporal stores into ram not yet fenced (ram_settle) */
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
    b->fd = -1;
    b->declared = -1;
    return b;
}

/* The pool of the buffer's large blocks (the write buffer, the read-back chunk, a memory part of
 * 32 KiB or more): one with an allocator of its own, destroyed by a cleanup of b->pool
 * (pp_pool_create_released), so that they go back to the system with the request. In b->pool
 * they would go to the host's allocator, and Apache keeps a connection's freed blocks (up to
 * MaxMemFree, 2 MB by default) for its later requests, which mostly never need them: every
 * connection that once brought a large body kept ~200 KiB resident for the rest of its life,
 * and recycled for the next one. Not a subpool: those are destroyed before b->pool's cleanups
 * run, and the adapter's replay hands an in-memory body on as pool buckets on b->pool, whose
 * cleanups copy out what a handler set aside. Falls back to b->pool if it cannot be made. */
static apr_pool_t *big_pool(pp_buffer_t *b)
{
    if (!b->big && pp_pool_create_released(&b->big, b->pool) != APR_SUCCESS)
        b->big = b->pool;
    return b->big;
}

/* Before len more bytes go into the memory part: when they make it take a new block of
 * PP_BUFFER_OWN_BYTES or more (pp_sbuf_next_cap: the size pp_sbuf_reserve will allocate), the
 * block comes from big_pool. The smaller blocks it outgrew stay in b->pool. */
static inline void mem_will_take(pp_buffer_t *b, apr_size_t len)
{
    if (b->mem.p != b->big && pp_sbuf_next_cap(&b->mem, len) >= PP_BUFFER_OWN_BYTES)
        b->mem.p = big_pool(b);
}

void pp_buffer_expect(pp_buffer_t *b, apr_int64_t declared)
{
    b->declared = declared;
    /* The memory part takes at most the limit, and growing to it by doubling would copy it
     * (and leave the smaller copies in the pool) four or five times. */
    if (b->mem.cap == 0 && declared > 0)
        b->mem.first = declared < (apr_int64_t)b->mem.max ? (apr_size_t)declared + 1
                                                          : b->mem.max + 1;
}

void pp_buffer_use_spool(pp_buffer_t *b, pp_spool_t *spool)
{
    if (!b->spilled)
        b->spool = spool;
}

void pp_buffer_use_memory(pp_buffer_t *b, pp_body_memory_t *m, apr_size_t budget)
{
    b->budget = m;
    b->budget_max = budget;
}

/* Appends to the memory region. Large pieces are copied with non-temporal stores: a region is
 * megabytes that are read at most once, later, by the application (a handler that discards the
 * body never reads them), so caching them only pushes other data out, and an ordinary store
 * first reads each line it writes. 10 MB into one of 8 regions in turn: 1.4 ms with memcpy,
 * 1.0 ms with these stores. They are not fenced here but once, before the region is first read
 * (ram_settle): a fence per piece made the thread wait for each piece to reach memory, and the
 * next store-to-load dependency (the parser's) waited with it. */
static void region_copy(pp_buffer_t *b, char *d, const char *s, apr_size_t n)
{
#if defined(__SSE2__)
    if (n >= 4096) {
        b->ram_unfenced = true;
        apr_size_t head = (16 - ((uintptr_t)d & 15)) & 15;
        memcpy(d, s, head);
        d += head;
        s += head;
        n -= head;
        for (; n >= 64; n -= 64, d += 64, s += 64) {
            __m128i a = _mm_loadu_si128((const __m128i *)s);
            __m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
            __m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
            __m128i e = _mm_loadu_si128((const __m128i *)(s + 48));
            _mm_stream_si128((__m128i *)d, a);
            _mm_stream_si128((__m128i *)(d + 16), b);
            _mm_stream_si128((__m128i *)(d + 32), c);
            _mm_stream_si128((__m128i *)(d + 48), e);
        }
    }
#else
    (void)b;
#endif
    memcpy(d, s, n);
}

/* Before the region is read (here or by another thread the body is handed to): the
 * non-temporal stores are ordered before every later load and store. */
static void ram_settle(pp_buffer_t *b)
{
#if defined(__SSE2__)
    if (b->ram_unfenced) {
        _mm_sfence();
        b->ram_unfenced = false;
    }
#else
    (void)b;
#endif
}

/* At the limit, with len bytes more to take: the spool's memory region when the whole declared
 * body and a terminating NUL fit in it. It holds the in-memory part first, as the file would. */
static void try_memory(pp_buffer_t *b, apr_size_t len)
{
    if (!b->budget || !b->spool || b->declared <= 0 ||
        b->declared < b->total + (apr_off_t)len ||
        (apr_uint64_t)b->declared >= APR_SIZE_MAX)
        return;
    b->ram = pp_spool_take_memory(b->spool, b->pool, b->budget, b->budget_max,
                                  (apr_size_t)b->declared + 1, &b->ram_cap);
    if (b->ram) {
        b->spool = NULL; /* taken: a move to a file takes a file of its own */
        memcpy(b->ram, b->mem.data, b->mem.len);
    }
}

static apr_status_t os_error(void)
{
    return APR_FROM_OS_ERROR(errno ? errno : EIO);
}

/* Writes at off (the file's own offset is nobody's: a reused spool file's is wherever the last
 * request left it). */
static apr_status_t write_all(int fd, const char *data, apr_size_t len, apr_off_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, data, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? os_error() : APR_EGENERAL;
        data += n;
        len -= (apr_size_t)n;
        off += n;
    }
    return APR_SUCCESS;
}

/* Writes the n pieces of iov (n <= PP_HELD_MAX + 1) at off, whole. */
static apr_status_t writev_all(int fd, struct iovec *iov, int n, apr_off_t off)
{
    while (n > 0) {
        ssize_t w = pwritev(fd, iov, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? os_error() : APR_EGENERAL;
        off += w;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return APR_SUCCESS;
}

/* What is on disk now, for the spool's account (it cuts the file to its holder's length). */
static apr_status_t wrote(pp_buffer_t *b, apr_status_t rv)
{
    if (rv == APR_SUCCESS && b->spool)
        pp_spool_wrote(b->spool, b->on_disk);
    return rv;
}

static apr_status_t close_own(void *data)
{
    close((int)(intptr_t)data);
    return APR_SUCCESS;
}

/* Records the first failure and gives the file's space back now rather than with the pool:
 * while the body is still arriving (a full disk recovers while the rest is drained). Once
 * pp_buffer_sync has handed out a view of the descriptor, it stays open until the pool ends, so
 * its number is never reused under a reader that still holds the view. */
static apr_status_t fail(pp_buffer_t *b, apr_status_t rv)
{
    b->error = rv;
    b->nheld = 0;
    b->held_len = 0;
    if (b->fd >= 0 && !b->file) {
        if (b->spool) {
            pp_spool_discard(b->spool);
        } else {
            apr_pool_cleanup_run(b->pool, (void *)(intptr_t)b->fd, close_own);
        }
        b->fd = -1;
    }
    return rv;
}

static apr_status_t spill(pp_buffer_t *b)
{
    const char *dir = b->tmpdir;
    if (!dir && apr_temp_dir_get(&dir, b->pool) != APR_SUCCESS)
        dir = "/tmp";
    apr_status_t rv = b->spool ? pp_spool_take(b->spool, b->pool, dir, &b->fd) : APR_EBUSY;
    if (rv == APR_EBUSY) {
        b->spool = NULL;
        rv = pp_spool_open_anonymous(b->pool, dir, &b->fd);
        if (rv == APR_SUCCESS)
            apr_pool_cleanup_register(b->pool, (void *)(intptr_t)b->fd, close_own,
                                      apr_pool_cleanup_null);
    }
    if (rv != APR_SUCCESS)
        return rv;
    b->spilled = true;
    b->dir = dir;
    b->wbuf = apr_palloc(big_pool(b), PP_SPILL_BUFFER_BYTES);
    /* What is held so far: the in-memory part, or the whole body in the memory region (which
     * stays the connection's). */
    ram_settle(b);
    const char *held = b->ram ? b->ram : b->mem.data;
    apr_size_t n = b->ram ? (apr_size_t)b->total : b->mem.len;
    b->ram = NULL;
    rv = write_all(b->fd, held, n, 0);
    b->on_disk = (apr_off_t)n;
    return wrote(b, rv);
}

static apr_status_t write_held(pp_buffer_t *b);

static apr_status_t flush(pp_buffer_t *b)
{
    apr_status_t rv = write_held(b);
    if (rv != APR_SUCCESS)
        return rv;
    rv = b->wlen ? write_all(b->fd, b->wbuf, b->wlen, b->on_disk) : APR_SUCCESS;
    b->on_disk += (apr_off_t)b->wlen;
    b->wlen = 0;
    return wrote(b, rv);
}

/* Bytes the write buffer gathers before they are written: up to the next multiple of its size
 * in the file. So every write after the in-memory part starts and ends on a 64 KiB boundary,
 * and the page cache keeps the file in 64 KiB folios. Writes that straddle the boundaries (the
 * in-memory part ends wherever the client's blocks filled it: 128,000 bytes with 8,000-byte
 * ones, as mod_ssl or a chunked body deliver them) leave the file in 4 KiB pages, and ext4's
 * per-page work (write_begin, dirtying each buffer, the page lookup) then about doubles the CPU
 * that writing 10 MB costs (perf of a program doing only these writes, 64 KiB each from offset
 * 128,000 vs 131,072: 1,980 vs 1,040 samples). */
static apr_size_t gather_limit(const pp_buffer_t *b)
{
    return PP_SPILL_BUFFER_BYTES - (apr_size_t)(b->on_disk % PP_SPILL_BUFFER_BYTES);
}

/* The held chunks: the write buffer's bytes and theirs up to the last 64 KiB boundary they reach
 * go to the file in one pwritev, from where they are; the rest (less than 64 KiB) is copied
 * into the write buffer. */
static apr_status_t write_held(pp_buffer_t *b)
{
    if (!b->nheld)
        return APR_SUCCESS;
    struct iovec iov[PP_HELD_MAX + 1];
    int n = 0, i = 0;
    apr_off_t end = b->on_disk + (apr_off_t)(b->wlen + b->held_len);
    apr_off_t cut = end - end % PP_SPILL_BUFFER_BYTES;
    apr_size_t skip = 0; /* bytes of held[i] already on their way */
    apr_status_t rv = APR_SUCCESS;
    if (cut > b->on_disk + (apr_off_t)b->wlen) {
        apr_size_t want = (apr_size_t)(cut - b->on_disk) - b->wlen;
        if (b->wlen)
            iov[n++] = (struct iovec){ b->wbuf, b->wlen };
        for (; want > 0; i++) {
            apr_size_t take = b->held[i].iov_len < want ? b->held[i].iov_len : want;
            iov[n++] = (struct iovec){ b->held[i].iov_base, take };
            want -= take;
            skip = take;
        }
        if (skip < b->held[i - 1].iov_len) {
            i--; /* held[i] goes on past the cut */
        } else {
            skip = 0;
        }
        rv = writev_all(b->fd, iov, n, b->on_disk);
        b->on_disk = cut;
        b->wlen = 0;
        rv = wrote(b, rv);
    }
    for (; rv == APR_SUCCESS && i < b->nheld; i++, skip = 0) {
        memcpy(b->wbuf + b->wlen, (char *)b->held[i].iov_base + skip, b->held[i].iov_len - skip);
        b->wlen += b->held[i].iov_len - skip;
    }
    b->nheld = 0;
    b->held_len = 0;
    return rv;
}

/* Appends to the file through the write buffer; the part of a chunk that reaches past the next
 * boundaries goes straight to the file when the buffer is empty. While the caller holds its
 * chunks, they are only noted (write_held writes them). */
static apr_status_t spill_write(pp_buffer_t *b, const char *data, apr_size_t len)
{
    apr_status_t rv = APR_SUCCESS;
    if (b->holding) {
        if (b->nheld == PP_HELD_MAX && (rv = write_held(b)) != APR_SUCCESS)
            return rv;
        b->held[b->nheld++] = (struct iovec){ (void *)data, len };
        b->held_len += len;
        return APR_SUCCESS;
    }
    while (rv == APR_SUCCESS && len > 0) {
        apr_size_t cap = gather_limit(b); /* more than wlen: the buffer is written at cap */
        if (b->wlen == 0 && len >= cap) {
            apr_size_t n = cap + (len - cap) / PP_SPILL_BUFFER_BYTES * PP_SPILL_BUFFER_BYTES;
            rv = write_all(b->fd, data, n, b->on_disk);
            b->on_disk += (apr_off_t)n;
            rv = wrote(b, rv);
            data += n;
            len -= n;
            continue;
        }
        apr_size_t take = cap - b->wlen < len ? cap - b->wlen : len;
        memcpy(b->wbuf + b->wlen, data, take);
        b->wlen += take;
        data += take;
        len -= take;
        if (b->wlen == cap)
            rv = flush(b);
    }
    return rv;
}

/* The lent chunks become the memory part (they are all under the limit), and nothing more is
 * lent: from here on the buffer holds no pointer to the caller's memory. */
static void materialise(pp_buffer_t *b)
{
    b->lend_over = true;
    for (int i = 0; i < b->nlent; i++) {
        mem_will_take(b, b->lent[i].len);
        pp_sbuf_add(&b->mem, b->lent[i].data, b->lent[i].len);
    }
    b->nlent = 0;
}

apr_status_t pp_buffer_feed(pp_buffer_t *b, const char *data, apr_size_t len)
{
    if (b->error)
        return b->error;
    if (!len)
        return APR_SUCCESS;
    if (!b->lend_over)
        materialise(b);
    if (!b->spilled && !b->ram) {
        if (len <= pp_sbuf_room(&b->mem)) {
            mem_will_take(b, len);
            pp_sbuf_add(&b->mem, data, len);
            b->total += (apr_off_t)len;
            return APR_SUCCESS;
        }
        try_memory(b, len);
    }
    /* One byte stays free for the NUL pp_buffer_head may put after the body. */
    if (b->ram && (apr_off_t)len < (apr_off_t)b->ram_cap - b->total) {
        region_copy(b, b->ram + b->total, data, len);
        b->total += (apr_off_t)len;
        return APR_SUCCESS;
    }
    apr_status_t rv = b->spilled ? APR_SUCCESS : spill(b);
    if (rv == APR_SUCCESS)
        rv = spill_write(b, data, len);
    if (rv != APR_SUCCESS)
        return fail(b, rv);
    b->total += (apr_off_t)len;
    return APR_SUCCESS;
}

apr_status_t pp_buffer_lend(pp_buffer_t *b, const char *data, apr_size_t len)
{
    if (b->error)
        return b->error;
    if (!len)
        return APR_SUCCESS;
    /* Nor is anything lent of a body declared longer than the limit: it would be copied at the
     * limit anyway, and meanwhile the host would hold its blocks (up to the limit, 128 KiB by
     * default) beside the copy. */
    if (b->lend_over || b->nlent == PP_LENT_MAX ||
        b->total + (apr_off_t)len > (apr_off_t)b->mem.max ||
        b->declared > (apr_int64_t)b->mem.max)
        return pp_buffer_feed(b, data, len);
    if (!b->lent)
        b->lent = apr_palloc(b->pool, PP_LENT_MAX * sizeof *b->lent);
    b->lent[b->nlent++] = (pp_str_t){ data, len };
    b->total += (apr_off_t)len;
    return APR_SUCCESS;
}

bool pp_buffer_lending(const pp_buffer_t *b)
{
    return b->nlent > 0;
}

void pp_buffer_hold(pp_buffer_t *b)
{
    b->holding = true;
}

apr_status_t pp_buffer_release(pp_buffer_t *b)
{
    b->holding = false;
    if (b->error)
        return b->error;
    apr_status_t rv = write_held(b);
    return rv == APR_SUCCESS ? rv : fail(b, rv);
}

apr_off_t pp_buffer_length(const pp_buffer_t *b) { return b->total; }
apr_status_t pp_buffer_error(const pp_buffer_t *b) { return b->error; }
bool pp_buffer_spilled(const pp_buffer_t *b) { return b->spilled || b->ram; }
const char *pp_buffer_dir(const pp_buffer_t *b) { return b->dir; }

pp_str_t pp_buffer_prefix(pp_buffer_t *b)
{
    if (b->nlent)
        materialise(b);
    return (pp_str_t){ b->mem.data, b->mem.len };
}

/* Reads n bytes at off from the file (flushed), whole or not at all. */
static apr_status_t read_at(pp_buffer_t *b, char *buf, apr_size_t n, apr_off_t off)
{
    apr_status_t rv = flush(b);
    while (rv == APR_SUCCESS && n > 0) {
        ssize_t got = pread(b->fd, buf, n, off);
        if (got < 0 && errno == EINTR)
            continue;
        /* The file holds exactly what was accepted: coming up short is a failure too. */
        if (got <= 0)
            return got < 0 ? os_error() : APR_EGENERAL;
        buf += got;
        n -= (apr_size_t)got;
        off += got;
    }
    return rv;
}

apr_status_t pp_buffer_read(pp_buffer_t *b, const char **data, apr_size_t *len)
{
    *data = "";
    *len = 0;
    if (b->error)
        return b->error;
    if (b->nlent) {
        /* read_pos counts the bytes of the chunks already given */
        if (b->read_lent < b->nlent) {
            *data = b->lent[b->read_lent].data;
            *len = b->lent[b->read_lent++].len;
            b->read_pos += (apr_off_t)*len;
        }
        return APR_SUCCESS;
    }
    ram_settle(b);
    if (b->ram || !b->spilled) {
        const char *at = b->ram ? b->ram : b->mem.data;
        apr_size_t left = (apr_size_t)(b->total - b->read_pos);
        *data = at + b->read_pos;
        *len = left;
        b->read_pos += (apr_off_t)left;
        return APR_SUCCESS;
    }
    if (!b->chunk)
        b->chunk = apr_palloc(big_pool(b), PP_READ_CHUNK_BYTES);
    apr_size_t n = PP_READ_CHUNK_BYTES;
    if ((apr_off_t)n > b->total - b->read_pos)
        n = (apr_size_t)(b->total - b->read_pos);
    if (!n)
        return APR_SUCCESS;
    apr_status_t rv = read_at(b, b->chunk, n, b->read_pos);
    if (rv != APR_SUCCESS)
        return fail(b, rv);
    *data = b->chunk;
    *len = n;
    b->read_pos += (apr_off_t)n;
    return APR_SUCCESS;
}

apr_status_t pp_buffer_head(pp_buffer_t *b, apr_pool_t *p, apr_size_t max, pp_str_t *out)
{
    *out = pp_buffer_prefix(b);
    if (b->error)
        return b->error;
    apr_size_t n = b->total < (apr_off_t)max ? (apr_size_t)b->total : max;
    ram_settle(b);
    if (b->ram && (apr_off_t)n == b->total) {
        b->ram[n] = '\0'; /* there is room: feeding keeps a byte free */
        *out = (pp_str_t){ b->ram, n };
        return APR_SUCCESS;
    }
    if (b->ram && n > out->len) {
        char *s = apr_palloc(p, n + 1);
        memcpy(s, b->ram, n);
        s[n] = '\0';
        *out = (pp_str_t){ s, n };
        return APR_SUCCESS;
    }
    if (!b->spilled || n <= out->len) {
        if (out->len > n)
            out->len = n;
        return APR_SUCCESS;
    }
    char *s = apr_palloc(p, n + 1);
    apr_status_t rv = read_at(b, s, n, 0);
    if (rv != APR_SUCCESS)
        return fail(b, rv);
    s[n] = '\0';
    *out = (pp_str_t){ s, n };
    return APR_SUCCESS;
}

apr_status_t pp_buffer_sync(pp_buffer_t *b, apr_file_t **file)
{
    *file = NULL;
    if (b->error)
        return b->error;
    if (!b->spilled)
        return APR_SUCCESS;
    apr_status_t rv = flush(b);
    if (rv != APR_SUCCESS)
        return fail(b, rv);
    if (!b->file) {
        apr_os_file_t fd = b->fd;
        /* A view only: the descriptor is closed by its owner (the spool or our pool). */
        rv = apr_os_file_put(&b->file, &fd, APR_FOPEN_READ, b->pool);
        if (rv != APR_SUCCESS)
            return fail(b, rv);
    }
    *file = b->file;
    return APR_SUCCESS;
}

apr_status_t pp_buffer_flatten(pp_buffer_t *b, apr_pool_t *p, apr_size_t max, pp_str_t *out)
{
    if (b->error)
        return b->error;
    if (b->total > (apr_off_t)max)
        return APR_ENOSPC;
    b->read_pos = 0; /* and the next pp_buffer_read starts from the beginning again */
    return pp_buffer_head(b, p, max, out);
}
