/*
 * Unit tests for body/buffer.c and body/spool.c: a body kept in memory up to a limit, spilled to
 * an anonymous spool file past it (a buffer's own, or the connection's reusable one), read back
 * in order (replay) and flattened. The failure cases are real: a temp dir that does
 * not exist makes the spill's create fail, and RLIMIT_FSIZE (with SIGXFSZ ignored) makes the
 * kernel refuse writes past a size, the way a full disk does, either while feeding or when the
 * last buffered bytes are flushed at read-back. After a failure the buffer must refuse
 * everything: a later chunk appended behind a lost one would read back as a body nobody sent.
 * The memory region (SecRequestBodyMemoryBudget) is tested in test_buffer_memory.c.
 */
#include "buffer_fixture.h"

/* ---- In memory ---------------------------------------------------------------------------- */

static void test_memory_only(void **state)
{
    apr_pool_t *p = *state;
    pp_buffer_t *b = pp_buffer_create(p, 64, tmp);
    assert_int_equal(pp_buffer_feed(b, "hello ", 6), APR_SUCCESS);
    assert_int_equal(pp_buffer_feed(b, "", 0), APR_SUCCESS);
    assert_int_equal(pp_buffer_feed(b, "world", 5), APR_SUCCESS);
    apr_file_t *file = (apr_file_t *)p; /* must be reset */
    assert_int_equal(pp_buffer_sync(b, &file), APR_SUCCESS);
    assert_null(file); /* in memory: nothing to replay from a file */
    assert_false(pp_buffer_spilled(b));
    assert_null(pp_buffer_dir(b));
    assert_int_equal(pp_buffer_error(b), APR_SUCCESS);
    assert_int_equal(pp_buffer_length(b), 11);
    assert_str(pp_buffer_prefix(b), "hello world", 11);
    pp_str_t all;
    assert_int_equal(read_all(b, p, &all), APR_SUCCESS);
    assert_str(all, "hello world", 11);
    assert_int_equal(pp_buffer_flatten(b, p, 11, &all), APR_SUCCESS);
    assert_str(all, "hello world", 11);
    assert_int_equal(pp_buffer_flatten(b, p, 10, &all), APR_ENOSPC);
    assert_int_equal(count_files(), 0);
}

static void test_empty(void **state)
{
    pp_buffer_t *b = pp_buffer_create(*state, 16, tmp);
    pp_str_t all;
    assert_int_equal(pp_buffer_length(b), 0);
    assert_str(pp_buffer_prefix(b), "", 0);
    assert_int_equal(read_all(b, *state, &all), APR_SUCCESS);
    assert_int_equal(all.len, 0);
    assert_int_equal(pp_buffer_flatten(b, *state, 0, &all), APR_SUCCESS);
    assert_int_equal(all.len, 0);
}

/* Exactly the limit stays in memory; one byte more spills. */
static void test_limit_boundary(void **state)
{
    apr_pool_t *p = *state;
    pp_buffer_t *b = pp_buffer_create(p, 8, tmp);
    assert_int_equal(pp_buffer_feed(b, "12345678", 8), APR_SUCCESS);
    assert_false(pp_buffer_spilled(b));
    assert_int_equal(pp_buffer_feed(b, "9", 1), APR_SUCCESS);
    assert_true(pp_buffer_spilled(b));
    assert_int_equal(pp_buffer_length(b), 9);
    /* The prefix is what was in memory when it spilled. */
    assert_str(pp_buffer_prefix(b), "12345678", 8);
}

/* ---- Spill, replay, flatten --------------------------------------------------------------- */

static void test_spill_replay(void **state)
{
    apr_pool_t *p = *state;
    const apr_size_t total = 300000, limit = 1000;
    char *body = pattern(p, total);
    pp_buffer_t *b = pp_buffer_create(p, limit, tmp);
    /* Uneven chunks, so memory growth, the spill and file writes all meet odd boundaries. */
    for (apr_size_t off = 0, n = 1; off < total; off += n, n = n * 3 + 7) {
        if (n > total - off)
            n = total - off;
        assert_int_equal(pp_buffer_feed(b, body + off, n), APR_SUCCESS);
    }
    assert_true(pp_buffer_spilled(b));
    assert_int_equal(pp_buffer_length(b), (apr_off_t)total);
    assert_true(pp_buffer_prefix(b).len <= limit);
    assert_memory_equal(pp_buffer_prefix(b).data, body, pp_buffer_prefix(b).len);

    /* The spill file: in the configured dir, private, and nameless: nothing in the directory. */
    assert_string_equal(pp_buffer_dir(b), tmp);
    assert_int_equal(count_files(), 0);

    /* pp_buffer_sync: the file itself holds the whole body (the last bytes were still in
     * the 64 KiB write buffer), read through a descriptor of our own. */
    apr_file_t *file = NULL;
    assert_int_equal(pp_buffer_sync(b, &file), APR_SUCCESS);
    assert_non_null(file);
    apr_os_file_t fd;
    assert_int_equal(apr_os_file_get(&fd, file), APR_SUCCESS);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_nlink, 0);
    assert_int_equal(st.st_size, (off_t)total);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    /* The caller may move the descriptor's offset (the replay's file buckets seek and read). */
    char *copy = apr_palloc(p, total + 1);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(read(fd, copy, total + 1), (ssize_t)total);
    assert_memory_equal(copy, body, total);
    assert_int_equal(lseek(fd, 12345, SEEK_SET), 12345);

    /* Replay is byte-identical, chunk by chunk; a second read after the end gives nothing. */
    pp_str_t all;
    assert_int_equal(read_all(b, p, &all), APR_SUCCESS);
    assert_str(all, body, total);
    const char *data;
    apr_size_t len = 1;
    assert_int_equal(pp_buffer_read(b, &data, &len), APR_SUCCESS);
    assert_int_equal(len, 0);

    /* Flatten reads the file whole and leaves the buffer ready to replay again. */
    assert_int_equal(pp_buffer_flatten(b, p, total - 1, &all), APR_ENOSPC);
    assert_int_equal(pp_buffer_flatten(b, p, total, &all), APR_SUCCESS);
    assert_str(all, body, total);
    assert_int_equal(all.data[total], '\0');
    assert_int_equal(read_all(b, p, &all), APR_SUCCESS);
    assert_str(all, body, total);
}

/* The descriptor of this process's one nameless file in the test's temp dir (O_TMPFILE files
 * read as "DIR/#INODE (deleted)"), -1 when there is none or more than one. */
static int spill_fd(void)
{
    char link[300], target[PATH_MAX + 1];
    int found = -1, n = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));) {
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(link, target, PATH_MAX);
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (strncmp(target, tmp, strlen(tmp)) == 0 && target[strlen(tmp)] == '/') {
            found = atoi(e->d_name);
            n++;
        }
    }
    if (d)
        closedir(d);
    return n == 1 ? found : -1;
}

/* The size of b's spill file (*fd: found at the first call that finds b spilled), or -1 while
 * b is all in memory. */
static off_t spilled_size(const pp_buffer_t *b, int *fd)
{
    if (!pp_buffer_spilled(b))
        return -1;
    if (*fd < 0)
        *fd = spill_fd();
    assert_true(*fd >= 0);
    struct stat st;
    assert_int_equal(fstat(*fd, &st), 0);
    return st.st_size;
}

/* Past the in-memory part, the file is written in 64 KiB steps at 64 KiB boundaries, whatever
 * the chunks (page-cache folios stay whole: see gather_limit); the body reads back intact. */
static void test_spill_writes_aligned(void **state)
{
    apr_pool_t *p = *state;
    const apr_size_t total = 1000000;
    char *body = pattern(p, total);
    pp_buffer_t *b = pp_buffer_create(p, 128000, tmp);
    static const apr_size_t sizes[] = { 8000, 8000, 70000, 1, 200000, 8000, 65536, 3 };
    apr_size_t off = 0;
    int fd = -1;
    for (unsigned k = 0; off < total; k++) {
        apr_size_t n = sizes[k % 8] < total - off ? sizes[k % 8] : total - off;
        assert_int_equal(pp_buffer_feed(b, body + off, n), APR_SUCCESS);
        off += n;
        off_t size = spilled_size(b, &fd);
        /* The in-memory part alone, or up to a boundary. */
        if (size >= 0 && size != (off_t)pp_buffer_prefix(b).len)
            assert_int_equal(size % 65536, 0);
    }
    pp_str_t all;
    assert_int_equal(read_all(b, p, &all), APR_SUCCESS);
    assert_str(all, body, total);
}

/* pp_buffer_hold: the chunks of a hold are written at release from where they are, up to the
 * last 64 KiB boundary they reach (the rest is copied); the caller may reuse their memory once
 * release returned. Reads in the middle of a hold see every byte fed. Batches of every shape:
 * 64 KiB at 64 KiB boundaries in 8,000-byte pieces (what the adapter hands over), short ones
 * that shift the alignment, one longer than the chunks a hold keeps before it writes. */
static void test_hold_release(void **state)
{
    apr_pool_t *p = *state;
    const apr_size_t total = 3000000;
    char *body = pattern(p, total);
    char *scratch = apr_palloc(p, 400000); /* the "buckets": scribbled over after each release */
    pp_buffer_t *b = pp_buffer_create(p, 128000, tmp);
    static const apr_size_t batches[] = { 65536, 1000, 64536, 65536, 300000, 7, 65529, 65536 };
    static const apr_size_t pieces[] = { 8000, 3, 8000, 65536, 1 };
    apr_size_t off = 0;
    int fd = -1;
    for (unsigned k = 0; off < total; k++) {
        apr_size_t want = batches[k % 8] < total - off ? batches[k % 8] : total - off;
        memcpy(scratch, body + off, want);
        pp_buffer_hold(b);
        for (apr_size_t at = 0, n; at < want; at += n) {
            n = pieces[(k + at) % 5] < want - at ? pieces[(k + at) % 5] : want - at;
            assert_int_equal(pp_buffer_feed(b, scratch + at, n), APR_SUCCESS);
        }
        if (k == 5) {
            /* A read in the middle of a hold (none does today, but it must not lose bytes). */
            pp_str_t head;
            assert_int_equal(pp_buffer_head(b, p, off + want, &head), APR_SUCCESS);
            assert_str(head, body, off + want);
        }
        assert_int_equal(pp_buffer_release(b), APR_SUCCESS);
        memset(scratch, 'X', want);
        off += want;
        off_t size = spilled_size(b, &fd);
        if (size < 0)
            continue;
        /* The in-memory part alone, or up to a boundary (but the read flushed everything). */
        if (size != (off_t)pp_buffer_prefix(b).len && k != 5)
            assert_int_equal(size % 65536, 0);
        assert_true(size > (off_t)off - 65536); /* less than 64 KiB still in memory */
    }
    assert_int_equal(pp_buffer_length(b), (apr_off_t)total);
    pp_str_t all;
    assert_int_equal(read_all(b, p, &all), APR_SUCCESS);
    assert_str(all, body, total);
}

/* Closed with the pool: the descriptor is gone (and, nameless, the file with it). */
static void test_spill_closed_with_pool(void **state)
{
    apr_pool_t *p;
    assert_int_equal(apr_pool_create(&p, *state), APR_SUCCESS);
    pp_buffer_t *b = pp_buffer_create(p, 4, tmp);
    assert_int_equal(pp_buffer_feed(b, "0123456789", 10), APR_SUCCESS);
    apr_file_t *file;
    apr_os_file_t fd;
    assert_int_equal(pp_buffer_sync(b, &file), APR_SUCCESS);
    assert_int_equal(apr_os_file_get(&fd, file), APR_SUCCESS);
    assert_int_not_equal(fcntl(fd, F_GETFD), -1);
    apr_pool_destroy(p);
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    assert_int_equal(count_files(), 0);
}

/* A large body's blocks (the memory part at the limit, the write buffer, the read-back chunk)
 * are not given to the allocator of the buffer's pool when that pool is cleared: Apache keeps a
 * connection's freed blocks for its later requests, so they stayed resident per connection.
 * After the clear, the host allocator's free list has no block holding the old memory part:
 * asked for a large block, it gives a new one (or, in a build whose pools allocate elsewhere,
 * one that cannot hold it). */
static void test_large_blocks_not_kept_by_host(void **state)
{
    (void)state;
    apr_allocator_t *host;
    apr_pool_t *p;
    assert_int_equal(apr_allocator_create(&host), APR_SUCCESS);
    assert_int_equal(apr_pool_create_ex(&p, NULL, NULL, host), APR_SUCCESS);
    apr_allocator_owner_set(host, p);
    const apr_size_t limit = 131072, total = 200000, piece = 8000;
    char *chunk = apr_palloc(p, piece);
    for (apr_size_t i = 0; i < piece; i++)
        chunk[i] = (char)('a' + i % 23);
    pp_buffer_t *b = pp_buffer_create(p, limit, tmp);
    pp_buffer_expect(b, (apr_int64_t)total);
    for (apr_size_t at = 0; at < total; at += piece)
        assert_int_equal(pp_buffer_feed(b, chunk, piece), APR_SUCCESS);
    assert_true(pp_buffer_spilled(b));
    pp_str_t all;
    assert_int_equal(read_all(b, p, &all), APR_SUCCESS);
    assert_int_equal(all.len, total);
    pp_str_t prefix = pp_buffer_prefix(b);
    assert_int_equal(prefix.len, limit - limit % piece);
    char want[64];
    memcpy(want, prefix.data, sizeof want);
    uintptr_t old = (uintptr_t)prefix.data;
    apr_pool_clear(p);
    apr_memnode_t *n = apr_allocator_alloc(host, 100000);
    assert_non_null(n);
    uintptr_t lo = (uintptr_t)n, hi = (uintptr_t)n->endp;
    /* Compared only when the block covers it (so never read freed memory): a new block there
     * (the same address mapped again) is zeroed; the old one kept still holds the body. */
    assert_false(old >= lo && old + sizeof want <= hi && memcmp((void *)old, want, sizeof want) == 0);
    apr_allocator_free(host, n);
    apr_pool_destroy(p);
    assert_int_equal(count_files(), 0);
}

/* What a cleanup of the buffer's pool registered after the body arrived reads (as the adapter's
 * pool buckets on the request's pool copy out what a handler set aside) is still the body: the
 * large blocks are released after such cleanups, not before them as a subpool's would be. */
static char *copied; /* the cleanup's copy, outside the pool */

static apr_status_t copy_prefix(void *data)
{
    pp_str_t s = pp_buffer_prefix(data);
    copied = malloc(s.len + 1);
    memcpy(copied, s.data, s.len);
    copied[s.len] = '\0';
    return APR_SUCCESS;
}

static void test_large_memory_part_outlives_later_cleanups(void **state)
{
    apr_pool_t *p;
    assert_int_equal(apr_pool_create(&p, *state), APR_SUCCESS);
    const apr_size_t n = 40000;
    char *body = apr_palloc(*state, n + 1);
    for (apr_size_t i = 0; i < n; i++)
        body[i] = (char)('A' + i % 26);
    body[n] = '\0';
    pp_buffer_t *b = pp_buffer_create(p, 131072, tmp);
    pp_buffer_expect(b, (apr_int64_t)n);
    for (apr_size_t at = 0; at < n; at += 8000)
        assert_int_equal(pp_buffer_feed(b, body + at, 8000), APR_SUCCESS);
    assert_false(pp_buffer_spilled(b));
    apr_pool_cleanup_register(p, b, copy_prefix, apr_pool_cleanup_null);
    copied = NULL;
    apr_pool_destroy(p);
    assert_non_null(copied);
    assert_string_equal(copied, body);
    free(copied);
}

/* ---- The connection's reusable spool ------------------------------------------------------ */

/* One request after the other on a connection: the same file, each request reads exactly its
 * own body even where the previous one's was longer, and when a request ends the file holds
 * nothing past its body. */
static void test_spool_reused_per_request(void **state)
{
    apr_pool_t *conn = *state, *r1, *r2, *r3;
    const apr_size_t big = 200000, small = 70000;
    char *a = pattern(conn, big);
    char *bb = apr_palloc(conn, small);
    memset(bb, 'B', small);
    pp_spool_t *spool = pp_spool_create(conn);

    assert_int_equal(apr_pool_create(&r1, conn), APR_SUCCESS);
    pp_buffer_t *b1 = pp_buffer_create(r1, 1000, tmp);
    pp_buffer_use_spool(b1, spool);
    assert_int_equal(pp_buffer_feed(b1, a, big), APR_SUCCESS);
    int fd = spool_fd(b1);
    assert_int_equal(fd_size(fd), (off_t)big);
    apr_pool_destroy(r1);
    assert_int_not_equal(fcntl(fd, F_GETFD), -1); /* the connection keeps it */

    assert_int_equal(apr_pool_create(&r2, conn), APR_SUCCESS);
    pp_buffer_t *b2 = pp_buffer_create(r2, 1000, tmp);
    pp_buffer_use_spool(b2, spool);
    for (apr_size_t off = 0; off < small; off += 8000)
        assert_int_equal(pp_buffer_feed(b2, bb + off, small - off < 8000 ? small - off : 8000),
                         APR_SUCCESS);
    assert_int_equal(spool_fd(b2), fd);
    pp_str_t all;
    assert_int_equal(read_all(b2, r2, &all), APR_SUCCESS);
    assert_str(all, bb, small);
    assert_int_equal(pp_buffer_flatten(b2, r2, big, &all), APR_SUCCESS);
    assert_str(all, bb, small);
    assert_int_equal(pp_buffer_head(b2, r2, big, &all), APR_SUCCESS);
    assert_str(all, bb, small);
    apr_pool_destroy(r2);
    /* The first body's tail is gone with the second request. */
    assert_int_equal(fd_size(fd), (off_t)small);

    /* A body that stays in memory leaves the spool alone. */
    assert_int_equal(apr_pool_create(&r3, conn), APR_SUCCESS);
    pp_buffer_t *b3 = pp_buffer_create(r3, 1000, tmp);
    pp_buffer_use_spool(b3, spool);
    assert_int_equal(pp_buffer_feed(b3, "tiny", 4), APR_SUCCESS);
    assert_false(pp_buffer_spilled(b3));
    apr_pool_destroy(r3);
    assert_int_equal(fd_size(fd), (off_t)small);
    assert_int_equal(count_files(), 0);
}

/* Two bodies at once on one spool (a pipelined request while the previous one's pool lives):
 * the second gets a file of its own, and both read back their own bytes. */
static void test_spool_busy_gets_own_file(void **state)
{
    apr_pool_t *conn = *state, *r1, *r2;
    pp_spool_t *spool = pp_spool_create(conn);
    assert_int_equal(apr_pool_create(&r1, conn), APR_SUCCESS);
    assert_int_equal(apr_pool_create(&r2, conn), APR_SUCCESS);
    pp_buffer_t *b1 = pp_buffer_create(r1, 4, tmp), *b2 = pp_buffer_create(r2, 4, tmp);
    pp_buffer_use_spool(b1, spool);
    pp_buffer_use_spool(b2, spool);
    assert_int_equal(pp_buffer_feed(b1, "first body", 10), APR_SUCCESS);
    assert_int_equal(pp_buffer_feed(b2, "second one", 10), APR_SUCCESS);
    int fd1 = spool_fd(b1), fd2 = spool_fd(b2);
    assert_int_not_equal(fd1, fd2);
    pp_str_t all;
    assert_int_equal(read_all(b1, r1, &all), APR_SUCCESS);
    assert_str(all, "first body", 10);
    assert_int_equal(read_all(b2, r2, &all), APR_SUCCESS);
    assert_str(all, "second one", 10);
    apr_pool_destroy(r2);
    assert_int_equal(fcntl(fd2, F_GETFD), -1); /* its own file went with its pool */
    apr_pool_destroy(r1);
    assert_int_not_equal(fcntl(fd1, F_GETFD), -1);
}

/* Where a descriptor's nameless file lives: /proc shows "DIR/#INODE (deleted)" for O_TMPFILE,
 * "DIR/parapet-body-XXXXXX (deleted)" for the fallback. */
static char *fd_dir(apr_pool_t *p, int fd)
{
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_non_null(strstr(target, " (deleted)"));
    *strrchr(target, '/') = '\0';
    return apr_pstrdup(p, target);
}

/* Another spool directory (a per-directory SecUploadDir) moves the spool there. */
static void test_spool_follows_dir(void **state)
{
    apr_pool_t *conn = *state, *r;
    char *other = apr_pstrcat(conn, tmp, "/other", NULL);
    assert_int_equal(mkdir(other, 0700), 0);
    pp_spool_t *spool = pp_spool_create(conn);
    const char *dirs[3] = { tmp, other, other };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(apr_pool_create(&r, conn), APR_SUCCESS);
        pp_buffer_t *b = pp_buffer_create(r, 4, dirs[i]);
        pp_buffer_use_spool(b, spool);
        assert_int_equal(pp_buffer_feed(b, "0123456789", 10), APR_SUCCESS);
        assert_string_equal(fd_dir(conn, spool_fd(b)), dirs[i]);
        apr_pool_destroy(r);
    }
    assert_int_equal(rmdir(other), 0);
}

/* A body larger than a connection keeps between requests (16 MiB): its file is closed when the
 * request ends, so an idle connection does not hold it on disk. */
static void test_spool_large_body_not_kept(void **state)
{
    apr_pool_t *conn = *state, *r;
    const apr_size_t block = 1 << 20;
    char *data = pattern(conn, block);
    pp_spool_t *spool = pp_spool_create(conn);
    assert_int_equal(apr_pool_create(&r, conn), APR_SUCCESS);
    pp_buffer_t *b = pp_buffer_create(r, 4, tmp);
    pp_buffer_use_spool(b, spool);
    for (int i = 0; i < 17; i++)
        assert_int_equal(pp_buffer_feed(b, data, block), APR_SUCCESS);
    int fd = spool_fd(b);
    assert_int_equal(fd_size(fd), (off_t)17 * block);
    apr_pool_destroy(r);
    assert_int_equal(fcntl(fd, F_GETFD), -1);
}

/* ---- Errors are sticky -------------------------------------------------------------------- */

/* Review H3: AAAAAAAA, then BBBBBBBB whose spill fails, then CC must not read back as
 * AAAAAAAACC. The spill dir does not exist, so creating the file fails. */
static void test_failed_spill_is_sticky(void **state)
{
    apr_pool_t *p = *state;
    const char *gone = apr_pstrcat(p, tmp, "/no-such-dir", NULL);
    pp_buffer_t *b = pp_buffer_create(p, 10, gone);
    assert_int_equal(pp_buffer_feed(b, "AAAAAAAA", 8), APR_SUCCESS);
    apr_status_t rv = pp_buffer_feed(b, "BBBBBBBB", 8);
    assert_int_equal(rv, APR_ENOENT);
    assert_int_equal(pp_buffer_feed(b, "CC", 2), rv);
    assert_int_equal(pp_buffer_feed(b, "D", 1), rv);
    assert_int_equal(pp_buffer_error(b), rv);
    /* Only what was accepted before the failure counts. */
    assert_int_equal(pp_buffer_length(b), 8);
    assert_str(pp_buffer_prefix(b), "AAAAAAAA", 8);
    const char *data = NULL;
    apr_size_t len = 0;
    assert_int_equal(pp_buffer_read(b, &data, &len), rv);
    pp_str_t all;
    assert_int_equal(pp_buffer_flatten(b, p, 100, &all), rv);
    assert_false(pp_buffer_spilled(b));
}

/* The file was created but writing to it fails (a full disk): the same stickiness, and the
 * partial file is removed at once rather than when the request ends. */
static void test_failed_write_is_sticky(void **state)
{
    apr_pool_t *p = *state;
    /* more than the 64 KiB the spill gathers before it writes */
    char *big = pattern(p, 200000);
    pp_buffer_t *b = pp_buffer_create(p, 16, tmp);
    fsize_guard_t g;
    assert_int_equal(pp_buffer_feed(b, big, 16), APR_SUCCESS);
    fsize_limit(&g, 100);
    apr_status_t rv = pp_buffer_feed(b, big + 16, 200000 - 16);
    apr_status_t small = pp_buffer_feed(b, "CC", 2);
    fsize_restore(&g);
    assert_int_not_equal(rv, APR_SUCCESS);
    assert_int_equal(small, rv);
    assert_int_equal(pp_buffer_error(b), rv);
    assert_int_equal(pp_buffer_length(b), 16);
    const char *data;
    apr_size_t len;
    assert_int_equal(pp_buffer_read(b, &data, &len), rv);
    assert_int_equal(count_files(), 0);
}

/* A write that fails when a hold is released fails the buffer like a feed's: sticky, nothing
 * more accepted, the partial file removed at once. */
static void test_failed_release_is_sticky(void **state)
{
    apr_pool_t *p = *state;
    char *big = pattern(p, 200000);
    pp_buffer_t *b = pp_buffer_create(p, 16, tmp);
    fsize_guard_t g;
    assert_int_equal(pp_buffer_feed(b, big, 16), APR_SUCCESS);
    pp_buffer_hold(b);
    fsize_limit(&g, 100000);
    apr_status_t fed = pp_buffer_feed(b, big + 16, 200000 - 16);
    apr_status_t rv = pp_buffer_release(b);
    apr_status_t small = pp_buffer_feed(b, "CC", 2);
    fsize_restore(&g);
    assert_int_equal(fed, APR_SUCCESS); /* held: nothing written yet */
    assert_int_not_equal(rv, APR_SUCCESS);
    assert_int_equal(small, rv);
    assert_int_equal(pp_buffer_error(b), rv);
    assert_int_equal(pp_buffer_release(b), rv);
    const char *data;
    apr_size_t len;
    assert_int_equal(pp_buffer_read(b, &data, &len), rv);
    assert_int_equal(count_files(), 0);
}

/* The last bytes sit in APR's file buffer until read-back flushes them; a flush that fails
 * must fail the replay (not give a short body) and stay failed. */
static void test_failed_flush_at_replay(void **state)
{
    apr_pool_t *p = *state;
    char *body = pattern(p, 600);
    pp_buffer_t *b = pp_buffer_create(p, 16, tmp);
    fsize_guard_t g;
    fsize_limit(&g, 100);
    apr_status_t fed = pp_buffer_feed(b, body, 16);
    fed = fed ? fed : pp_buffer_feed(b, body + 16, 600 - 16);
    const char *data;
    apr_size_t len;
    apr_status_t rv = pp_buffer_read(b, &data, &len);
    fsize_restore(&g);
    assert_int_equal(fed, APR_SUCCESS); /* all of it still in APR's buffer */
    assert_int_not_equal(rv, APR_SUCCESS);
    assert_int_equal(pp_buffer_read(b, &data, &len), rv);
    assert_int_equal(pp_buffer_feed(b, "x", 1), rv);
    pp_str_t all;
    assert_int_equal(pp_buffer_flatten(b, p, 1000, &all), rv);
    assert_int_equal(count_files(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_memory_only, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_empty, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_limit_boundary, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_spill_replay, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_spill_writes_aligned, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_hold_release, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_failed_release_is_sticky, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_spill_closed_with_pool, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_large_blocks_not_kept_by_host, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_large_memory_part_outlives_later_cleanups,
                                        pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_spool_reused_per_request, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_spool_busy_gets_own_file, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_spool_follows_dir, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_spool_large_body_not_kept, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_failed_spill_is_sticky, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_is_sticky, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_failed_flush_at_replay, pp_test_pool_setup,
                                        pp_test_pool_teardown),
    };
    return buffer_tests_run("test_buffer", tests, sizeof tests / sizeof tests[0]);
}
