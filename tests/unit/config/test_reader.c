/*
 * pp_cfg_read_file (config/reader.c), the configuration reader of parapet check / eval and the
 * fuzzers: container nesting is bounded for <IfModule> as for the other containers (review H5:
 * 33 nested <IfModule mod_security.c> overflowed a 32-entry stack), and the limit is reported
 * with the file and line of the block that goes too deep; a file that cannot be read is an
 * error, not an empty configuration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config/config.h"
#include "pp_tmpdir.h"

static apr_pool_t *pool;
static char tmp[PATH_MAX];

static const char *write_conf(const char *name, const char *text)
{
    const char *path = apr_pstrcat(pool, tmp, "/", name, NULL);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* depth nested opening tags (each from open, cycling), a rule, then the closing tags. */
static const char *nested(int depth, const char *const *open, const char *const *close)
{
    char *text = "";
    int n = 0;
    while (open[n])
        n++;
    for (int i = 0; i < depth; i++)
        text = apr_pstrcat(pool, text, open[i % n], "\n", NULL);
    text = apr_pstrcat(pool, text, "SecFilter attack\n", NULL);
    for (int i = depth - 1; i >= 0; i--)
        text = apr_pstrcat(pool, text, close[i % n], "\n", NULL);
    return text;
}

static const char *read_conf(const char *path)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    return pp_cfg_read_file(cfg, path, pool, pool);
}

static void test_ifmodule_nesting_bounded(void **state)
{
    static const char *const open[] = { "<IfModule mod_security.c>", NULL };
    static const char *const close[] = { "</IfModule>", NULL };
    const char *ok = write_conf("deep32.conf", nested(32, open, close));
    assert_null(read_conf(ok));
    const char *path = write_conf("deep33.conf", nested(33, open, close));
    const char *err = read_conf(path);
    assert_non_null(err);
    assert_string_equal(err, apr_psprintf(pool, "%s:33: containers nested too deeply (more than "
                                                "32)", path));
    path = write_conf("deep200.conf", nested(200, open, close));
    err = read_conf(path);
    assert_non_null(err);
    assert_string_equal(err, apr_psprintf(pool, "%s:33: containers nested too deeply (more than "
                                                "32)", path));
}

/* <IfModule> and other containers share one bound. */
static void test_mixed_nesting_bounded(void **state)
{
    static const char *const open[] = { "<IfModule mod_security.c>", "<Location /a>", NULL };
    static const char *const close[] = { "</IfModule>", "</Location>", NULL };
    assert_null(read_conf(write_conf("mixed32.conf", nested(32, open, close))));
    const char *path = write_conf("mixed40.conf", nested(40, open, close));
    const char *err = read_conf(path);
    assert_non_null(err);
    assert_string_equal(err, apr_psprintf(pool, "%s:33: containers nested too deeply (more than "
                                                "32)", path));
}

/* Review 2.C: a failed read is an error, not an empty configuration (a directory named as
 * the file used to give "Syntax OK" with no rules). */
static void test_unreadable_file(void **state)
{
    const char *err = read_conf(tmp);
    assert_non_null(err);
    assert_string_equal(err, apr_psprintf(pool, "%s: cannot read: Is a directory", tmp));
    assert_null(read_conf(write_conf("empty.conf", "")));
}

/* A wildcard Include reads its files sorted by name, as Apache does (ap_process_fnmatch_configs):
 * the directory's own order ran CRS's REQUEST-932 before REQUEST-901 had set the paranoia
 * level. 24 files made in reverse order: the directory order is not the sorted one. */
static void test_include_glob_sorted(void **state)
{
    const char *dir = apr_pstrcat(pool, tmp, "/glob", NULL);
    assert_int_equal(apr_dir_make(dir, APR_OS_DEFAULT, pool), APR_SUCCESS);
    for (int i = 23; i >= 0; i--)
        write_conf(apr_psprintf(pool, "glob/r%02d.conf", i),
                   apr_psprintf(pool, "SecFilter attack%02d\n", i));
    pp_cfg_t *cfg = pp_cfg_create(pool);
    const char *main = write_conf("glob.conf", apr_psprintf(pool, "Include %s/*.conf\n", dir));
    assert_null(pp_cfg_read_file(cfg, main, pool, pool));
    assert_int_equal(cfg->rules->nelts, 24);
    for (int i = 0; i < 24; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(cfg->rules, i, const pp_rule_t *);
        assert_string_equal(r->op.arg, apr_psprintf(pool, "attack%02d", i));
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    assert_null(pp_engine_init(pool));
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof tmp, "%s/parapet-reader-XXXXXX", tmpdir);
    if (!mkdtemp(tmp))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ifmodule_nesting_bounded),
        cmocka_unit_test(test_mixed_nesting_bounded),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_include_glob_sorted),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (pp_test_remove_tree(tmp) != 0)
        rc = 1;
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
