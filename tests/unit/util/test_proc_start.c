/*
 * util/proc.c pp_proc_start: the program is started and the caller goes on at once; the pool's
 * destruction supervises it for the rest of its timeout (SIGTERM, SIGKILL), reaps it and hands
 * over the result, so nothing outlives its time or becomes a zombie (review M2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <apr_strings.h>

#include "util/proc.h"

static apr_pool_t *root;
#include "pp_test.h"

typedef struct seen_t {
    int calls;
    pp_proc_result_t res;
    char out[64];
} seen_t;

static void done(void *ctx, const pp_proc_result_t *res)
{
    seen_t *s = ctx;
    s->calls++;
    s->res = *res;
    snprintf(s->out, sizeof s->out, "%s", res->output.data);
}

/* The call returns while the program still runs: its marker file appears only after the pool
 * is destroyed, which waits for it and reports its output. */
static void test_returns_before_the_program_ends(void **state)
{
    apr_pool_t *parent = *state, *p;
    apr_pool_create(&p, parent);
    char marker[] = "/tmp/parapet-proc-start-XXXXXX";
    int fd = mkstemp(marker);
    assert_true(fd >= 0);
    close(fd);
    unlink(marker);
    const char *script = apr_psprintf(parent, "sleep 1; echo ok; touch %s", marker);
    const char *argv[] = { "/bin/sh", "-c", script, NULL };
    seen_t seen = { 0 };
    assert_int_equal(pp_proc_start(p, argv, NULL, apr_time_from_sec(20), 64, done, &seen),
                     APR_SUCCESS);
    assert_int_equal(access(marker, F_OK), -1); /* still sleeping: not waited for */
    assert_int_equal(seen.calls, 0);
    apr_pool_destroy(p);
    assert_int_equal(seen.calls, 1);
    assert_true(seen.res.exited && seen.res.exit_code == 0 && !seen.res.timed_out);
    assert_string_equal(seen.out, "ok\n");
    assert_int_equal(access(marker, F_OK), 0);
    unlink(marker);
}

/* A program that outlives its timeout is ended when the pool goes, and reaped. */
static void test_timeout_ends_it(void **state)
{
    apr_pool_t *parent = *state, *p;
    apr_pool_create(&p, parent);
    const char *argv[] = { "/bin/sleep", "30", NULL };
    seen_t seen = { 0 };
    assert_int_equal(pp_proc_start(p, argv, NULL, apr_time_from_msec(200), 64, done, &seen),
                     APR_SUCCESS);
    apr_pool_destroy(p);
    assert_int_equal(seen.calls, 1);
    assert_true(seen.res.timed_out && seen.res.reaped && seen.res.signalled);
}

static void test_start_errors(void **state)
{
    apr_pool_t *p = *state;
    seen_t seen = { 0 };
    const char *missing[] = { "/nonexistent/prog", NULL };
    assert_int_equal(pp_proc_start(p, missing, NULL, apr_time_from_sec(1), 64, done, &seen),
                     APR_ENOENT);
    assert_int_equal(pp_proc_start(p, missing, NULL, 0, 64, done, &seen), APR_EINVAL);
    assert_int_equal(seen.calls, 0);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_returns_before_the_program_ends, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_ends_it, pp_test_pool_setup,
                                        pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_start_errors, pp_test_pool_setup,
                                        pp_test_pool_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(root);
    apr_terminate();
    return rc;
}
