/*
 * Unit tests for upload/store.c: names, 0640 whatever the umask, setgid group inheritance,
 * unlink on release and on pool destruction, keep, sticky write errors (EFBIG through
 * RLIMIT_FSIZE everywhere, ENOSPC on a tiny tmpfs when we may mount one), SecUploadDir checks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* unshare, CLONE_NEWNS */
#endif
#include <errno.h>
#include <regex.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "upload/upload.h"

static apr_pool_t *root;

#include "pp_test.h"
static char dir[] = "/tmp/pp-test-store-XXXXXX";



static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int count_entries(const char *d)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", d);
    FILE *fp = popen(cmd, "r");
    int n = -1;
    if (fp) {
        if (fscanf(fp, "%d", &n) != 1)
            n = -1;
        pclose(fp);
    }
    return n;
}

static pp_upload_file_t *create(apr_pool_t *p, const char *uid)
{
    pp_upload_file_t *f = NULL;
    assert_int_equal(pp_upload_file_create(p, dir, uid, &f), APR_SUCCESS);
    assert_non_null(f);
    return f;
}

static void test_name_format(void **state)
{
    pp_upload_file_t *f = create(*state, "YxZ@abc-12_3");
    const char *path = pp_upload_file_path(f);
    regex_t re;
    char pattern[256];

    snprintf(pattern, sizeof(pattern),
             "^%s/[0-9]{8}-[0-9]{6}-YxZ@abc-12_3-file-[A-Za-z0-9]{6}$", dir);
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    assert_int_equal(regexec(&re, path, 0, NULL, 0), 0);
    regfree(&re);
    assert_true(exists(path));
}

static void test_unique_id_cannot_escape(void **state)
{
    pp_upload_file_t *f = create(*state, "../../etc/x y\n");
    const char *path = pp_upload_file_path(f);
    assert_int_equal(strncmp(path, dir, strlen(dir)), 0);
    assert_null(strchr(path + strlen(dir) + 1, '/'));
    assert_non_null(strstr(path, "-.._.._etc_x_y_-file-"));

    f = create(*state, NULL);
    assert_non_null(strstr(pp_upload_file_path(f), "-noid-file-"));
}

static void test_trailing_slash(void **state)
{
    char with_slash[64];
    pp_upload_file_t *f = NULL;
    snprintf(with_slash, sizeof(with_slash), "%s/", dir);
    assert_int_equal(pp_upload_file_create(*state, with_slash, "id", &f), APR_SUCCESS);
    assert_null(strstr(pp_upload_file_path(f), "//"));
}

static void test_mode_0640_any_umask(void **state)
{
    const mode_t masks[] = { 0, 022, 077, 0777 };

    for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
        mode_t old = umask(masks[i]);
        pp_upload_file_t *f = create(*state, "mode");
        umask(old);
        struct stat st;
        assert_int_equal(stat(pp_upload_file_path(f), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_true(S_ISREG(st.st_mode));
    }
}

static void test_unique_names(void **state)
{
    enum { N = 200 };
    const char *paths[N];

    for (int i = 0; i < N; i++) {
        paths[i] = pp_upload_file_path(create(*state, "same"));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(paths[i], paths[j]);
    }
}

static void test_write_size_content(void **state)
{
    pp_upload_file_t *f = create(*state, "content");
    char buf[32] = { 0 };

    assert_int_equal(pp_upload_file_write(f, "abc", 3), APR_SUCCESS);
    assert_int_equal(pp_upload_file_write(f, "d\0fg", 4), APR_SUCCESS);
    assert_int_equal(pp_upload_file_write(f, "", 0), APR_SUCCESS);
    assert_int_equal(pp_upload_file_size(f), 7);
    assert_int_equal(pp_upload_file_close(f), APR_SUCCESS);
    assert_int_equal(pp_upload_file_close(f), APR_SUCCESS);
    assert_int_equal(pp_upload_file_write(f, "x", 1), APR_EBADF);

    FILE *fp = fopen(pp_upload_file_path(f), "rb");
    assert_non_null(fp);
    assert_int_equal(fread(buf, 1, sizeof(buf), fp), 7);
    fclose(fp);
    assert_memory_equal(buf, "abcd\0fg", 7);
}

static void test_release_unlinks(void **state)
{
    pp_upload_file_t *f = create(*state, "release");
    char *path = apr_pstrdup(*state, pp_upload_file_path(f));

    assert_int_equal(pp_upload_file_write(f, "x", 1), APR_SUCCESS);
    pp_upload_file_release(f);
    assert_false(exists(path));

    f = create(*state, "release-closed");
    path = apr_pstrdup(*state, pp_upload_file_path(f));
    assert_int_equal(pp_upload_file_close(f), APR_SUCCESS);
    assert_true(exists(path));
    pp_upload_file_release(f);
    assert_false(exists(path));
}

static void test_pool_destroy_unlinks(void **state)
{
    apr_pool_t *tx;
    char *paths[3];

    assert_int_equal(apr_pool_create(&tx, *state), APR_SUCCESS);
    for (int i = 0; i < 3; i++) {
        pp_upload_file_t *f = create(tx, "tx");
        paths[i] = apr_pstrdup(*state, pp_upload_file_path(f));
        if (i == 1)
            pp_upload_file_close(f);
    }
    apr_pool_destroy(tx);
    for (int i = 0; i < 3; i++)
        assert_false(exists(paths[i]));
}

static void test_keep(void **state)
{
    apr_pool_t *tx;
    assert_int_equal(apr_pool_create(&tx, *state), APR_SUCCESS);
    pp_upload_file_t *kept = create(tx, "kept");
    pp_upload_file_t *changed = create(tx, "changed");
    char *kept_path = apr_pstrdup(*state, pp_upload_file_path(kept));
    char *changed_path = apr_pstrdup(*state, pp_upload_file_path(changed));

    assert_int_equal(pp_upload_file_write(kept, "keep me", 7), APR_SUCCESS);
    pp_upload_file_keep(kept, true);
    pp_upload_file_keep(changed, true);
    pp_upload_file_keep(changed, false);
    apr_pool_destroy(tx);
    assert_true(exists(kept_path));
    assert_false(exists(changed_path));

    struct stat st;
    assert_int_equal(stat(kept_path, &st), 0);
    assert_int_equal(st.st_size, 7);
    assert_int_equal(st.st_mode & 07777, 0640);
    unlink(kept_path);
}

static void test_setgid_directory_group(void **state)
{
    char sub[128];
    gid_t want;

    snprintf(sub, sizeof(sub), "%s/setgid", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    if (geteuid() == 0) {
        want = 12345; /* any group: root may give the directory one it is not in */
        assert_int_equal(chown(sub, 0, want), 0);
    } else {
        gid_t groups[64];
        int n = getgroups(64, groups);
        want = getegid();
        for (int i = 0; i < n; i++)
            if (groups[i] != getegid())
                want = groups[i];
        if (want == getegid()) {
            rmdir(sub);
            print_message("skipped: no supplementary group to give the directory\n");
            skip();
        }
        assert_int_equal(chown(sub, (uid_t)-1, want), 0);
    }
    assert_int_equal(chmod(sub, 02770), 0);

    pp_upload_file_t *f = NULL;
    assert_int_equal(pp_upload_file_create(*state, sub, "grp", &f), APR_SUCCESS);
    struct stat st;
    assert_int_equal(stat(pp_upload_file_path(f), &st), 0);
    assert_int_equal(st.st_gid, want);
    assert_int_equal(st.st_mode & 07777, 0640);
    pp_upload_file_release(f);
    assert_int_equal(rmdir(sub), 0);
}

static void test_create_failures(void **state)
{
    pp_upload_file_t *f = (pp_upload_file_t *)1;
    assert_true(APR_STATUS_IS_ENOENT(
        pp_upload_file_create(*state, "/nonexistent/pp-dir", "id", &f)));
    assert_null(f);
    assert_int_equal(pp_upload_file_create(*state, "", "id", &f), APR_EINVAL);
    assert_int_equal(pp_upload_file_create(*state, NULL, "id", &f), APR_EINVAL);
}

/* A write that only partly fits must fail, stay failed, and leave size at what was written.
 * RLIMIT_FSIZE works without privileges: write(2) returns a short count, then EFBIG. */
static void test_short_write_is_error(void **state)
{
    struct rlimit old, lim;
    char block[4096];
    memset(block, 'z', sizeof(block));

    pp_upload_file_t *f = create(*state, "fsize");
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 1000;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    apr_status_t rv = pp_upload_file_write(f, block, sizeof(block));
    apr_status_t again = pp_upload_file_write(f, "x", 1);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);

    assert_int_equal(rv, APR_FROM_OS_ERROR(EFBIG));
    assert_int_equal(again, rv);
    assert_int_equal(pp_upload_file_size(f), 1000);
    /* The truncated file is gone at once, and asking to keep it cannot bring it back. The path
     * is copied: the release below frees the file's own (the check after it read freed memory,
     * which the sanitizer build's pool guard leaves as garbage, so it held whatever happened). */
    const char *path = apr_pstrdup(*state, pp_upload_file_path(f));
    assert_false(exists(path));
    pp_upload_file_keep(f, true);
    assert_int_equal(pp_upload_file_close(f), APR_SUCCESS);
    pp_upload_file_release(f);
    assert_false(exists(path));
}

/* ENOSPC proper needs a full filesystem: a 64 KiB tmpfs in a private mount namespace, which only
 * works with CAP_SYS_ADMIN. Skipped otherwise. */
static void test_enospc(void **state)
{
    char small[128];
    static char block[16384];

    snprintf(small, sizeof(small), "%s/small", dir);
    assert_int_equal(mkdir(small, 0700), 0);
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("pp-test", small, "tmpfs", 0, "size=64k") != 0) {
        rmdir(small);
        print_message("skipped: cannot mount a tmpfs here (%s)\n", strerror(errno));
        skip();
    }
    pp_upload_file_t *f = NULL;
    assert_int_equal(pp_upload_file_create(*state, small, "full", &f), APR_SUCCESS);
    apr_status_t rv = APR_SUCCESS;
    for (int i = 0; i < 64 && rv == APR_SUCCESS; i++)
        rv = pp_upload_file_write(f, block, sizeof(block));
    assert_true(APR_STATUS_IS_ENOSPC(rv));
    assert_int_equal(pp_upload_file_write(f, "x", 1), rv);
    assert_true(pp_upload_file_size(f) < 64 * 1024 + 1);
    /* Removed at once, kept or not, and the space is free again: a file that fits now fits. */
    pp_upload_file_keep(f, true);
    assert_int_equal(count_entries(small), 0);
    pp_upload_file_t *g = NULL;
    assert_int_equal(pp_upload_file_create(*state, small, "fits", &g), APR_SUCCESS);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pp_upload_file_write(g, block, sizeof(block)), APR_SUCCESS);
    assert_int_equal(pp_upload_file_close(g), APR_SUCCESS);
    pp_upload_file_release(g);
    pp_upload_file_release(f);
    assert_int_equal(count_entries(small), 0);
    assert_int_equal(umount(small), 0);
    rmdir(small);
}

/* The descriptor stays usable for a reader until close, and reads what was written even when
 * the name now points elsewhere. */
static void test_handle_reads_what_was_written(void **state)
{
    pp_upload_file_t *f = create(*state, "handle");
    assert_int_equal(pp_upload_file_write(f, "written", 7), APR_SUCCESS);
    assert_int_equal(pp_upload_file_flush(f), APR_SUCCESS);
    char other[160];
    snprintf(other, sizeof(other), "%s/other", dir);
    FILE *fp = fopen(other, "w");
    assert_non_null(fp);
    fputs("swapped", fp);
    fclose(fp);
    assert_int_equal(rename(other, pp_upload_file_path(f)), 0);
    apr_file_t *h = pp_upload_file_handle(f);
    assert_non_null(h);
    apr_off_t zero = 0;
    char buf[16] = { 0 };
    apr_size_t n = sizeof(buf) - 1;
    assert_int_equal(apr_file_seek(h, APR_SET, &zero), APR_SUCCESS);
    assert_int_equal(apr_file_read(h, buf, &n), APR_SUCCESS);
    assert_string_equal(buf, "written");
    assert_int_equal(pp_upload_file_close(f), APR_SUCCESS);
    assert_null(pp_upload_file_handle(f));
    pp_upload_file_release(f);
}

static void test_dir_private(void **state)
{
    apr_pool_t *p = *state;
    char sub[160], link[160];
    snprintf(sub, sizeof(sub), "%s/priv", dir);
    snprintf(link, sizeof(link), "%s/link", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(chmod(dir, 0700), 0);
    /* /tmp is sticky, dir and sub are ours and private. */
    assert_null(pp_upload_dir_private(p, sub));
    assert_int_equal(chmod(sub, 02770), 0);
    const char *msg = pp_upload_dir_private(p, sub);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "is writable by its group (mode 2770)"));
    assert_int_equal(chmod(sub, 0757), 0);
    assert_non_null(strstr(pp_upload_dir_private(p, sub), "writable by others"));
    assert_int_equal(chmod(sub, 01777), 0); /* sticky: nobody renames what is not theirs */
    assert_null(pp_upload_dir_private(p, sub));
    /* A private path that leads, through a symlink, into a directory others can write. */
    assert_int_equal(chmod(sub, 0777), 0);
    assert_int_equal(symlink(sub, link), 0);
    msg = pp_upload_dir_private(p, link);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "priv is writable by others"));
    /* A parent that is not private spoils everything below it. */
    assert_int_equal(chmod(sub, 0700), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_non_null(strstr(pp_upload_dir_private(p, sub), "writable by others"));
    assert_int_equal(chmod(dir, 0700), 0);
    if (geteuid() == 0) {
        assert_int_equal(chown(sub, 12345, -1), 0);
        assert_non_null(strstr(pp_upload_dir_private(p, sub), "belongs to uid 12345"));
    }
    assert_non_null(pp_upload_dir_private(p, "relative/dir"));
    unlink(link);
    rmdir(sub);
}

static void test_dir_check(void **state)
{
    char file[128], ro[128];
    apr_pool_t *p = *state;

    assert_null(pp_upload_dir_check(p, dir));
    assert_string_equal(pp_upload_dir_check(p, "/nonexistent/pp"),
                        "SecUploadDir: /nonexistent/pp does not exist");
    assert_string_equal(pp_upload_dir_check(p, "/etc/passwd/x"),
                        "SecUploadDir: /etc/passwd/x does not exist");
    snprintf(file, sizeof(file), "%s/plain", dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_string_equal(pp_upload_dir_check(p, file),
                        apr_psprintf(p, "SecUploadDir: %s is not a directory", file));
    unlink(file);
    assert_non_null(pp_upload_dir_check(p, ""));

    snprintf(ro, sizeof(ro), "%s/ro", dir);
    assert_int_equal(mkdir(ro, 0555), 0);
    chmod(ro, 0555);
    if (geteuid() != 0)
        assert_string_equal(pp_upload_dir_check(p, ro),
                            apr_psprintf(p, "SecUploadDir: %s is not writable by uid %ld", ro,
                                         (long)geteuid()));
    /* Permission-bit view for another user (the server's run-time user). */
    uid_t owner = geteuid();
    assert_string_equal(pp_upload_dir_check_as(p, ro, owner == 0 ? 4242 : owner, 4242),
                        apr_psprintf(p, "SecUploadDir: %s is not writable by uid %ld", ro,
                                     (long)(owner == 0 ? 4242 : owner)));
    assert_null(pp_upload_dir_check_as(p, ro, 0, 0));
    chmod(ro, 0730);
    assert_null(pp_upload_dir_check_as(p, ro, 4242, getegid()));
    assert_non_null(pp_upload_dir_check_as(p, ro, 4242, 4243));
    assert_int_equal(rmdir(ro), 0);
}

int main(void)
{
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root, NULL) != APR_SUCCESS)
        return 1;
    if (mkdtemp(dir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_name_format, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_unique_id_cannot_escape, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_trailing_slash, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_mode_0640_any_umask, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_unique_names, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_write_size_content, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_release_unlinks, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_pool_destroy_unlinks, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_keep, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_setgid_directory_group, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_create_failures, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_short_write_is_error, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_enospc, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_handle_reads_what_was_written, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_dir_private, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_dir_check, pp_test_pool_setup, pp_test_pool_teardown),
    };
    int failed = cmocka_run_group_tests_name("upload/store", tests, NULL, NULL);
    /* Every file made by the tests is gone again (kept ones are removed by the test itself). */
    int left = count_entries(dir);
    if (left != 0) {
        fprintf(stderr, "%d entries left in %s\n", left, dir);
        failed++;
    }
    rmdir(dir);
    apr_pool_destroy(root);
    apr_terminate();
    return failed;
}
