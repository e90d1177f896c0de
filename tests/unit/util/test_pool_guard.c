/*
 * The sanitizer build's pool guard (fuzz/pool_guard.c) makes a use of a destroyed or cleared
 * pool's memory an AddressSanitizer report: each case runs in a child process, once using its
 * pool memory while the pool lives (nothing reported, exit 0) and once after the pool is gone
 * (the report "heap-use-after-free" on the child's stderr, a failing exit). The cases are the
 * ways a use went unreported before: a string from apr_psprintf (formatted into the pool's own
 * blocks, not through apr_palloc) and a path handed to a function that AddressSanitizer does
 * not intercept (unlink, rmdir, open, stat: the kernel reads the path; test_collect removed
 * its temp files through freed paths and removed nothing). A read of apr_pstrdup's copy is the
 * case that always reported.
 *
 * Only the sanitizer build (make asan-unit) has the guard: elsewhere the tests are skipped,
 * since the uses after free would be real ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A path in no existing directory: every call fails with ENOENT while the pool lives. */
#define MISSING "/nonexistent-parapet-pool-guard/dir/file"

typedef void (*use_fn)(const char *s);

static void use_read(const char *s)
{
    if (strlen(s) == 0)
        abort();
}

static void use_unlink(const char *s) { (void)unlink(s); }
static void use_rmdir(const char *s) { (void)rmdir(s); }

static void use_open(const char *s)
{
    int fd = open(s, O_RDONLY);
    if (fd >= 0)
        close(fd);
}

static void use_stat(const char *s)
{
    struct stat st;
    (void)stat(s, &st);
}

typedef enum { MAKE_PSTRDUP, MAKE_PSTRCAT, MAKE_PSPRINTF } make_t;

static const char *make(apr_pool_t *p, make_t how)
{
    switch (how) {
    case MAKE_PSTRDUP:
        return apr_pstrdup(p, MISSING);
    case MAKE_PSTRCAT:
        return apr_pstrcat(p, "/nonexistent-parapet-pool-guard", "/dir/file", NULL);
    case MAKE_PSPRINTF:
        return apr_psprintf(p, "%s/%s/%s", "/nonexistent-parapet-pool-guard", "dir", "file");
    }
    return NULL;
}

typedef enum { LIVE, DESTROYED, CLEARED } when_t;

/* Runs use on a string made in a fresh pool, in a child; returns the child's stderr, and its
 * exit status in *status. */
static char *run_child(make_t how, use_fn use, when_t when, int *status)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        apr_pool_t *p;
        if (apr_pool_create(&p, NULL) != APR_SUCCESS)
            _exit(2);
        const char *s = make(p, how);
        if (strcmp(s, MISSING) != 0)
            _exit(3);
        if (when == DESTROYED)
            apr_pool_destroy(p);
        else if (when == CLEARED)
            apr_pool_clear(p);
        use(s);
        _exit(0);
    }
    close(fds[1]);
    apr_size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    for (;;) {
        if (len + 1 == cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        ssize_t n = read(fds[0], out + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (apr_size_t)n;
    }
    out[len] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(pid, status, 0), pid);
    return out;
}

static void expect_reported(make_t how, use_fn use, when_t when)
{
    int status;
    char *out = run_child(how, use, LIVE, &status);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || strstr(out, "AddressSanitizer"))
        fail_msg("use while the pool lives: status %d, stderr:\n%s", status, out);
    free(out);
    out = run_child(how, use, when, &status);
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 0 || !strstr(out, "heap-use-after-free"))
        fail_msg("use after the pool: status %d, no use-after-free report; stderr:\n%s", status,
                 out);
    free(out);
}

static void skip_without_guard(void)
{
#ifndef __SANITIZE_ADDRESS__
    skip(); /* no guard: the use after free would be a real one */
#endif
}

static void test_read_of_pstrdup(void **state)
{
    skip_without_guard();
    expect_reported(MAKE_PSTRDUP, use_read, DESTROYED);
    expect_reported(MAKE_PSTRDUP, use_read, CLEARED);
}

static void test_read_of_psprintf(void **state)
{
    skip_without_guard();
    expect_reported(MAKE_PSPRINTF, use_read, DESTROYED);
    expect_reported(MAKE_PSPRINTF, use_read, CLEARED);
}

static void test_paths_the_kernel_reads(void **state)
{
    skip_without_guard();
    expect_reported(MAKE_PSTRCAT, use_unlink, DESTROYED);
    expect_reported(MAKE_PSTRDUP, use_rmdir, DESTROYED);
    expect_reported(MAKE_PSPRINTF, use_open, DESTROYED);
    expect_reported(MAKE_PSTRCAT, use_stat, CLEARED);
}

int main(void)
{
    apr_initialize();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_of_pstrdup),
        cmocka_unit_test(test_read_of_psprintf),
        cmocka_unit_test(test_paths_the_kernel_reads),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
