/* Shared by test_buffer.c and test_buffer_memory.c (each its own binary): the includes, the
 * test's temp dir (spill files live there while their pool does), the helpers both use, and the
 * main() around a group of tests. */
#ifndef PP_TEST_BUFFER_FIXTURE_H
#define PP_TEST_BUFFER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "body/body.h"

static apr_pool_t *root; /* pp_test.h makes each test's pool under it */
static char tmp[PATH_MAX];

#include "pp_test.h"

/* Everything pp_buffer_read gives back from the current position, as one string in p. */
static inline apr_status_t read_all(pp_buffer_t *b, apr_pool_t *p, pp_str_t *out)
{
    char *s = apr_palloc(p, 1);
    apr_size_t got = 0;
    for (;;) {
        const char *data;
        apr_size_t len;
        apr_status_t rv = pp_buffer_read(b, &data, &len);
        if (rv != APR_SUCCESS)
            return rv;
        if (!len)
            break;
        char *grown = apr_palloc(p, got + len + 1);
        memcpy(grown, s, got);
        memcpy(grown + got, data, len);
        s = grown;
        got += len;
    }
    *out = (pp_str_t){ s, got };
    return APR_SUCCESS;
}

static inline void assert_str(pp_str_t got, const char *want, apr_size_t want_len)
{
    assert_int_equal(got.len, want_len);
    assert_memory_equal(got.data, want, want_len);
}

/* Files in the test's temp dir (spill files live there while their pool does). */
static inline int count_files(void)
{
    DIR *d = opendir(tmp);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* Deterministic bytes, different at every offset within a cycle of 251. */
static inline char *pattern(apr_pool_t *p, apr_size_t n)
{
    char *s = apr_palloc(p, n);
    for (apr_size_t i = 0; i < n; i++)
        s[i] = (char)('!' + i % 251 % 90);
    return s;
}

/* Writes past `bytes` fail with EFBIG (SIGXFSZ ignored), as writes to a full disk fail. */
typedef struct fsize_guard_t {
    struct rlimit old;
    void (*old_handler)(int);
} fsize_guard_t;

static inline void fsize_limit(fsize_guard_t *g, rlim_t bytes)
{
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &g->old), 0);
    g->old_handler = signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = { bytes, g->old.rlim_max };
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

static inline void fsize_restore(fsize_guard_t *g)
{
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &g->old), 0);
    signal(SIGXFSZ, g->old_handler);
}

/* The spool file a buffer spilled to, as a descriptor. */
static inline int spool_fd(pp_buffer_t *b)
{
    apr_file_t *file;
    apr_os_file_t fd;
    assert_int_equal(pp_buffer_sync(b, &file), APR_SUCCESS);
    assert_non_null(file);
    assert_int_equal(apr_os_file_get(&fd, file), APR_SUCCESS);
    return fd;
}

static inline off_t fd_size(int fd)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    return st.st_size;
}

/* main() of a buffer test binary: APR, a fresh temp dir, the group, the temp dir removed. */
static inline int buffer_tests_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&root, NULL);
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof tmp, "%s/parapet-test-buffer-XXXXXX", dir);
    if (!mkdtemp(tmp))
        return 1;
    int failed = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    apr_pool_destroy(root);
    rmdir(tmp);
    return failed;
}

#endif
