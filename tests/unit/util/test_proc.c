/*
 * Unit tests for util/proc.c: argv-only spawning (no shell), exit codes, signals, timeouts with
 * TERM then KILL escalation, bounded capture with draining, separate stderr, environment, and
 * that no child is left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "util/proc.h"

static apr_pool_t *root;

#include "pp_test.h"


static int teardown(void **state)
{
    pp_test_pool_teardown(state);
    /* No test may leave a child of ours behind, zombie or alive. */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
    return 0;
}

static pp_proc_result_t run_sh(apr_pool_t *p, const char *script, apr_interval_time_t timeout,
                               apr_size_t max_output)
{
    const char *argv[] = { "/bin/sh", "-c", script, NULL };
    pp_proc_result_t res;
    assert_int_equal(pp_proc_run(p, argv, timeout, max_output, &res), APR_SUCCESS);
    return res;
}

static void test_arguments_are_literal(void **state)
{
    const char *argv[] = { "/usr/bin/printf", "[%s]", "a;rm -rf /nonexistent-pp", "$(id)",
                           "*", "x y", NULL };
    pp_proc_result_t res;

    assert_int_equal(pp_proc_run(*state, argv, apr_time_from_sec(5), 4096, &res), APR_SUCCESS);
    assert_true(res.exited);
    assert_int_equal(res.exit_code, 0);
    assert_string_equal(res.output.data, "[a;rm -rf /nonexistent-pp][$(id)][*][x y]");
    assert_int_equal(res.output.len, strlen(res.output.data));
    assert_false(res.timed_out);
    assert_true(res.reaped);
}

static void test_exit_codes(void **state)
{
    pp_proc_result_t res = run_sh(*state, "exit 0", apr_time_from_sec(5), 100);
    assert_true(res.exited);
    assert_int_equal(res.exit_code, 0);
    assert_false(res.signalled);

    res = run_sh(*state, "exit 3", apr_time_from_sec(5), 100);
    assert_true(res.exited);
    assert_int_equal(res.exit_code, 3);

    res = run_sh(*state, "exit 255", apr_time_from_sec(5), 100);
    assert_int_equal(res.exit_code, 255);
}

static void test_signal(void **state)
{
    pp_proc_result_t res = run_sh(*state, "kill -SEGV $$", apr_time_from_sec(5), 100);
    assert_false(res.exited);
    assert_true(res.signalled);
    assert_int_equal(res.signal, 11);
    assert_false(res.timed_out);
}

static void test_timeout_kills(void **state)
{
    const char *argv[] = { "/bin/sleep", "10", NULL };
    pp_proc_result_t res;

    assert_int_equal(pp_proc_run(*state, argv, apr_time_from_msec(300), 100, &res), APR_SUCCESS);
    assert_true(res.timed_out);
    assert_true(res.signalled);
    assert_int_equal(res.signal, 15);
    assert_true(res.reaped);
    assert_true(res.elapsed >= apr_time_from_msec(300));
    assert_true(res.elapsed < apr_time_from_msec(1000));
}

/* A child that ignores SIGTERM gets SIGKILL after the grace period. Its own background child
 * (the sleep) keeps the pipes open, and must not keep us waiting. */
static void test_timeout_escalates_to_kill(void **state)
{
    pp_proc_result_t res = run_sh(*state, "trap '' TERM; echo started; sleep 5; echo late",
                                  apr_time_from_msec(200), 100);
    assert_true(res.timed_out);
    assert_true(res.signalled);
    assert_int_equal(res.signal, 9);
    assert_string_equal(res.output.data, "started\n");
    assert_true(res.elapsed < apr_time_from_msec(200) + PP_PROC_KILL_GRACE_US +
                                  apr_time_from_msec(700));
}

static void test_grandchild_holding_pipe(void **state)
{
    pp_proc_result_t res = run_sh(*state, "sleep 3 & echo done", apr_time_from_sec(10), 100);
    assert_true(res.exited);
    assert_int_equal(res.exit_code, 0);
    assert_string_equal(res.output.data, "done\n");
    assert_true(res.elapsed < apr_time_from_msec(1500));
}

/* State letter of pid from /proc/PID/stat and its process group; 0 when the process is gone. */
static char proc_state(long pid, long *pgrp)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *close_paren = strrchr(buf, ')');
    char state = 0;
    long ppid = 0;
    if (close_paren == NULL || sscanf(close_paren + 2, "%c %ld %ld", &state, &ppid, pgrp) != 3)
        return 0;
    return state;
}

/* Processes still alive (not zombies) in process group pgid. */
static int alive_in_group(long pgid)
{
    int alive = 0;
    DIR *d = opendir("/proc");
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        long pgrp = -1;
        if (*end != '\0' || pid <= 0)
            continue;
        char st = proc_state(pid, &pgrp);
        if (st != 0 && st != 'Z' && pgrp == pgid)
            alive++;
    }
    closedir(d);
    return alive;
}

/* A child that exits normally but leaves a background job behind (which also keeps stdout):
 * the whole process group goes with it, whatever the job would have done later. */
static void test_exit_kills_left_behind_group(void **state)
{
    pp_proc_result_t res = run_sh(*state, "sleep 30 & echo $$ $!; echo done",
                                  apr_time_from_sec(10), 100);
    long leader = 0, job = 0;
    assert_true(res.exited);
    assert_int_equal(res.exit_code, 0);
    assert_int_equal(sscanf(res.output.data, "%ld %ld", &leader, &job), 2);
    assert_non_null(strstr(res.output.data, "done\n"));
    /* SIGKILL is delivered asynchronously; it takes microseconds, allow a second. */
    int alive = 1;
    for (int i = 0; i < 100 && (alive = alive_in_group(leader)) != 0; i++)
        usleep(10000);
    long pgrp = 0;
    char st = proc_state(job, &pgrp);
    print_message("    background job %ld: state %c after the run\n", job, st ? st : '-');
    assert_int_equal(alive, 0);
    assert_true(st == 0 || st == 'Z');
}

static void test_output_bounded_and_drained(void **state)
{
    /* 2 MB to stdout: far past the pipe buffer, so a reader that stopped would hang the child. */
    pp_proc_result_t res = run_sh(*state, "head -c 2000000 /dev/zero | tr '\\0' a; exit 4",
                                  apr_time_from_sec(10), 100);
    assert_true(res.exited);
    assert_int_equal(res.exit_code, 4);
    assert_false(res.timed_out);
    assert_true(res.truncated);
    assert_int_equal(res.output.len, 100);
    assert_int_equal(res.output.data[99], 'a');
    assert_int_equal(res.output.data[100], '\0');
}

static void test_zero_max_output(void **state)
{
    pp_proc_result_t res = run_sh(*state, "echo hello", apr_time_from_sec(5), 0);
    assert_true(res.exited);
    assert_int_equal(res.output.len, 0);
    assert_string_equal(res.output.data, "");
    assert_true(res.truncated);
}

static void test_stderr_separate(void **state)
{
    pp_proc_result_t res = run_sh(*state, "echo out; echo err >&2", apr_time_from_sec(5), 100);
    assert_string_equal(res.output.data, "out\n");
    assert_string_equal(res.errout.data, "err\n");
}

static void test_stdin_is_devnull(void **state)
{
    const char *argv[] = { "/bin/cat", NULL };
    pp_proc_result_t res;

    assert_int_equal(pp_proc_run(*state, argv, apr_time_from_sec(5), 100, &res), APR_SUCCESS);
    assert_true(res.exited);
    assert_int_equal(res.exit_code, 0);
    assert_int_equal(res.output.len, 0);
    assert_false(res.timed_out);
}

static void test_environment(void **state)
{
    const char *argv[] = { "/usr/bin/env", NULL };
    const char *envp[] = { "PP_ONLY=1", NULL };
    pp_proc_result_t res;

    assert_int_equal(pp_proc_run_env(*state, argv, envp, apr_time_from_sec(5), 4096, &res),
                     APR_SUCCESS);
    assert_string_equal(res.output.data, "PP_ONLY=1\n");

    setenv("PP_INHERITED", "yes", 1);
    assert_int_equal(pp_proc_run(*state, argv, apr_time_from_sec(5), 65536, &res), APR_SUCCESS);
    assert_non_null(strstr(res.output.data, "PP_INHERITED=yes\n"));
    unsetenv("PP_INHERITED");
}

static void test_start_failures(void **state)
{
    const char *missing[] = { "/nonexistent/pp-program", NULL };
    const char *not_exec[] = { "/etc/passwd", NULL };
    const char *empty[] = { NULL };
    pp_proc_result_t res;

    apr_status_t rv = pp_proc_run(*state, missing, apr_time_from_sec(5), 100, &res);
    assert_true(APR_STATUS_IS_ENOENT(rv));
    assert_int_equal(res.output.len, 0);
    assert_false(res.exited);
    rv = pp_proc_run(*state, not_exec, apr_time_from_sec(5), 100, &res);
    if (geteuid() != 0)
        assert_true(APR_STATUS_IS_EACCES(rv));
    else
        assert_int_not_equal(rv, APR_SUCCESS); /* root: no execute bit at all is still refused */
    assert_int_equal(pp_proc_run(*state, empty, apr_time_from_sec(5), 100, &res), APR_EINVAL);
    assert_int_equal(pp_proc_run(*state, missing, 0, 100, &res), APR_EINVAL);
    assert_int_equal(pp_proc_run(*state, NULL, apr_time_from_sec(5), 100, &res), APR_EINVAL);
}

/* Many short runs in one pool: every child is reaped and no descriptor leaks. */
static void test_many_runs_no_leak(void **state)
{
    long before = 0, after = 0;
    char path[64];

    for (int fd = 0; fd < 1024; fd++) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        before += access(path, F_OK) == 0;
    }
    for (int i = 0; i < 50; i++) {
        pp_proc_result_t res = run_sh(*state, "echo x", apr_time_from_sec(5), 10);
        assert_string_equal(res.output.data, "x\n");
    }
    for (int fd = 0; fd < 1024; fd++) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        after += access(path, F_OK) == 0;
    }
    assert_int_equal(before, after);
}

int main(void)
{
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root, NULL) != APR_SUCCESS)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_arguments_are_literal, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_codes, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_kills, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_escalates_to_kill, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_grandchild_holding_pipe, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_kills_left_behind_group, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_bounded_and_drained, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_max_output, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_stderr_separate, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdin_is_devnull, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_failures, pp_test_pool_setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_runs_no_leak, pp_test_pool_setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("util/proc", tests, NULL, NULL);
    apr_pool_destroy(root);
    apr_terminate();
    return failed;
}
