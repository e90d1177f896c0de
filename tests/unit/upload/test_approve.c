/*
 * Unit tests for upload/approve.c: the §6.6 protocol with scripts the test writes itself
 * (accept, reject, silent, exit codes, signals, timeout, huge output, argument passing, reason
 * clean-up) and the SecUploadApproveScript config-time check.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "upload/upload.h"

static apr_pool_t *root;

#include "pp_test.h"
#include "pp_tmpdir.h"
static char dir[] = "/tmp/pp-test-approve-XXXXXX";
static const char *upload; /* the "uploaded file" handed to every script */


static int teardown(void **state)
{
    pp_test_pool_teardown(state);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* nothing left to reap */
    return 0;
}

/* Writes an executable /bin/sh script with the given body and returns its path. */
static const char *script(apr_pool_t *p, const char *name, const char *body)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "#!/bin/sh\n%s\n", body);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(path, 0755), 0);
    return path;
}

static pp_approve_result_t approve(apr_pool_t *p, const char *name, const char *body,
                                   apr_interval_time_t timeout)
{
    pp_approve_result_t res;
    assert_int_equal(pp_approve_run(p, script(p, name, body), upload, timeout, &res),
                     APR_SUCCESS);
    assert_non_null(res.reason);
    return res;
}

static void test_accept(void **state)
{
    pp_approve_result_t res = approve(*state, "ok.sh", "echo '1 ok'", apr_time_from_sec(5));
    assert_true(res.accepted);
    assert_string_equal(res.reason, "ok");
    assert_null(res.detail);

    res = approve(*state, "bare.sh", "printf 1", apr_time_from_sec(5));
    assert_true(res.accepted);
    assert_string_equal(res.reason, "");

    res = approve(*state, "lines.sh", "printf '1   clean: OK  \\r\\nsecond line\\n'",
                  apr_time_from_sec(5));
    assert_true(res.accepted);
    assert_string_equal(res.reason, "clean: OK");
}

static void test_reject_by_verdict(void **state)
{
    pp_approve_result_t res = approve(*state, "bad.sh", "echo '0 bad'", apr_time_from_sec(5));
    assert_false(res.accepted);
    assert_string_equal(res.reason, "bad");
    assert_null(res.detail);

    res = approve(*state, "other.sh", "echo 'yes 1'", apr_time_from_sec(5));
    assert_false(res.accepted);
    assert_string_equal(res.reason, "es 1");

    /* Strictly the first byte: a leading blank or newline is not a '1'. */
    res = approve(*state, "blank.sh", "echo ' 1 ok'", apr_time_from_sec(5));
    assert_false(res.accepted);
    res = approve(*state, "newline.sh", "printf '\\n1 ok\\n'", apr_time_from_sec(5));
    assert_false(res.accepted);
}

static void test_empty_output(void **state)
{
    pp_approve_result_t res = approve(*state, "silent.sh", "exit 0", apr_time_from_sec(5));
    assert_false(res.accepted);
    assert_string_equal(res.detail, "no output");
}

static void test_nonzero_exit(void **state)
{
    pp_approve_result_t res = approve(*state, "exit3.sh", "echo '1 ok'; exit 3",
                                      apr_time_from_sec(5));
    assert_false(res.accepted);
    assert_string_equal(res.reason, "ok");
    assert_string_equal(res.detail, "exited with 3");

    res = approve(*state, "stderr.sh", "echo 'cannot read file' >&2; exit 2",
                  apr_time_from_sec(5));
    assert_false(res.accepted);
    assert_string_equal(res.detail, "exited with 2 (stderr: cannot read file)");
}

static void test_signal(void **state)
{
    pp_approve_result_t res = approve(*state, "segv.sh", "echo '1 ok'; kill -SEGV $$",
                                      apr_time_from_sec(5));
    assert_false(res.accepted);
    assert_string_equal(res.detail, "killed by signal 11");
}

static void test_timeout(void **state)
{
    pp_approve_result_t res = approve(*state, "slow.sh", "sleep 10; echo '1 ok'",
                                      apr_time_from_msec(300));
    assert_false(res.accepted);
    assert_string_equal(res.detail, "timed out after 300 ms");
    assert_true(res.elapsed < apr_time_from_sec(2));

    res = approve(*state, "slow1.sh", "echo '1 early'; exec sleep 10", apr_time_from_sec(1));
    assert_false(res.accepted);
    assert_string_equal(res.reason, "early");
    assert_string_equal(res.detail, "timed out after 1 s");
}

/* The script's environment is PATH and nothing else, whatever the server's environment holds.
 * /proc/$$/environ is what the kernel received at exec, before the shell adds PWD and friends. */
static void test_minimal_environment(void **state)
{
    apr_pool_t *p = *state;
    const char *dump = apr_pstrcat(p, dir, "/env.dump", NULL);
    setenv("PP_TEST_SECRET", "do-not-leak", 1);
    setenv("LD_PRELOAD", "", 1);
    pp_approve_result_t res = approve(
        p, "env.sh", apr_psprintf(p, "tr '\\000' '\\n' < /proc/$$/environ > '%s'; echo 1", dump),
        apr_time_from_sec(5));
    unsetenv("PP_TEST_SECRET");
    unsetenv("LD_PRELOAD");
    assert_true(res.accepted);
    char buf[4096];
    FILE *fp = fopen(dump, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    assert_string_equal(buf, "PATH=/usr/local/bin:/usr/bin:/bin\n");
}

static void test_huge_output(void **state)
{
    /* Megabytes of output: drained, never blocks the script, verdict from the first byte. */
    pp_approve_result_t res = approve(*state, "huge.sh",
                                      "printf '1 '; head -c 3000000 /dev/zero | tr '\\0' x",
                                      apr_time_from_sec(10));
    assert_true(res.accepted);
    assert_int_equal(strlen(res.reason), PP_APPROVE_REASON_MAX_BYTES);
    assert_null(res.detail);

    res = approve(*state, "huge0.sh", "head -c 3000000 /dev/zero | tr '\\0' 0",
                  apr_time_from_sec(10));
    assert_false(res.accepted);
    assert_null(res.detail);
}

static void test_reason_cleaned(void **state)
{
    pp_approve_result_t res = approve(*state, "ctl.sh", "printf '0 a\\033[31mb\\001c\\000d\\n'",
                                      apr_time_from_sec(5));
    assert_false(res.accepted);
    assert_string_equal(res.reason, "a?[31mb?c?d");

    /* Truncation at the limit never splits a UTF-8 character. */
    res = approve(*state, "utf8.sh",
                  "printf '1 a'; i=0; while [ $i -lt 600 ]; do printf '\\303\\251'; "
                  "i=$((i+1)); done",
                  apr_time_from_sec(5));
    assert_true(res.accepted);
    /* "a" + 511 two-byte characters; the 512th would straddle the limit. */
    assert_int_equal(strlen(res.reason), PP_APPROVE_REASON_MAX_BYTES - 1);
    assert_int_equal((unsigned char)res.reason[PP_APPROVE_REASON_MAX_BYTES - 2], 0xa9);
}

static void test_exactly_one_literal_argument(void **state)
{
    pp_approve_result_t res = approve(*state, "args.sh", "printf '1 %s:%s' \"$#\" \"$1\"",
                                      apr_time_from_sec(5));
    assert_true(res.accepted);
    assert_string_equal(res.reason, apr_pstrcat(*state, "1:", upload, NULL));
}

static void test_cannot_run(void **state)
{
    pp_approve_result_t res;
    apr_status_t rv = pp_approve_run(*state, "/nonexistent/approve.sh", upload,
                                     apr_time_from_sec(5), &res);
    assert_true(APR_STATUS_IS_ENOENT(rv));
    assert_false(res.accepted);
    assert_non_null(strstr(res.detail, "could not run /nonexistent/approve.sh"));
    assert_string_equal(res.reason, "");

    rv = pp_approve_run(*state, NULL, upload, apr_time_from_sec(5), &res);
    assert_int_equal(rv, APR_EINVAL);
    assert_false(res.accepted);
    assert_non_null(res.detail);
}

static void test_script_check(void **state)
{
    apr_pool_t *p = *state;
    const char *good = script(p, "check.sh", "echo 1");
    const char *plain = apr_pstrcat(p, dir, "/plain.sh", NULL);

    assert_null(pp_approve_script_check(p, good));
    assert_string_equal(pp_approve_script_check(p, "check.sh"),
                        "SecUploadApproveScript: check.sh is not an absolute path");
    assert_string_equal(pp_approve_script_check(p, "/nonexistent/x.sh"),
                        "SecUploadApproveScript: /nonexistent/x.sh does not exist");
    assert_string_equal(pp_approve_script_check(p, dir),
                        apr_pstrcat(p, "SecUploadApproveScript: ", dir,
                                    " is not a regular file", NULL));
    FILE *fp = fopen(plain, "w");
    assert_non_null(fp);
    fclose(fp);
    chmod(plain, 0644);
    assert_string_equal(pp_approve_script_check(p, plain),
                        apr_psprintf(p, "SecUploadApproveScript: %s is not executable by uid %ld",
                                     plain, (long)geteuid()));
    assert_non_null(pp_approve_script_check(p, ""));
    assert_non_null(pp_approve_script_check(p, NULL));
}

int main(void)
{
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root, NULL) != APR_SUCCESS)
        return 1;
    if (mkdtemp(dir) == NULL)
        return 1;
    /* A name a shell would mangle: it must reach the script as one literal argument. */
    upload = apr_pstrcat(root, dir, "/up load;rm -rf x $(id) *", NULL);
    FILE *fp = fopen(upload, "w");
    if (fp == NULL)
        return 1;
    fputs("data", fp);
    fclose(fp);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accept, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_by_verdict, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_output, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_nonzero_exit, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_minimal_environment, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_output, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_reason_cleaned, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_exactly_one_literal_argument, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_cannot_run, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_script_check, pp_test_pool_setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("upload/approve", tests, NULL, NULL);
    if (pp_test_remove_tree(dir) != 0)
        failed++;
    apr_pool_destroy(root);
    apr_terminate();
    return failed;
}
