/*
 * Directive table and setters: good and bad values with the exact messages, merging of slots
 * and rule lists across contexts (SecFilterInheritance, SecFilterImport, SecFilterRemove,
 * mandatory rules).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"

static apr_pool_t *pool;

static const char *apply(pp_cfg_t *cfg, const char *name, const char *args)
{
    const pp_directive_t *d = pp_directive_find(name);
    assert_non_null(d);
    pp_cfg_site_t site = { 0 };
    return pp_cfg_apply(cfg, d, args, &site, pool, pool);
}

typedef struct vector_t {
    const char *name, *args, *error; /* error NULL: accepted */
} vector_t;

static const vector_t vectors[] = {
    { "SecFilterEngine", "On", NULL },
    { "SecFilterEngine", "dynamiconly", NULL },
    { "SecFilterEngine", "Maybe", "SecFilterEngine: \"Maybe\" is not one of Off, On or DynamicOnly" },
    { "SecFilterEngine", "On Off", "SecFilterEngine takes 1 argument (On, Off or DynamicOnly), 2 given" },
    { "SecFilterScanPOST", "yes", "SecFilterScanPOST: \"yes\" is not On or Off" },
    { "SecUploadInMemoryLimit", "125000", NULL },
    { "SecUploadInMemoryLimit", "60k", "SecUploadInMemoryLimit: \"60k\" is not a number of bytes" },
    { "SecFilterDebugLevel", "10", "SecFilterDebugLevel: \"10\" is not a number from 0 to 9" },
    { "SecFilterForceByteRange", "1 255", NULL },
    { "SecFilterForceByteRange", "200 100", "SecFilterForceByteRange: \"200 100\" is not a byte range (0-255, MIN <= MAX)" },
    { "SecUploadKeepFiles", "RelevantOnly", NULL },
    { "SecUploadDir", "/nonexistent/dir", "SecUploadDir" },
    { "SecUploadApproveScript", "relative/script", "SecUploadApproveScript" },
    { "SecFilterDefaultAction", "\"deny,log,status:500\"", NULL },
    { "SecFilterDefaultAction", "\"deny,chain\"", "SecFilterDefaultAction: chain and skipnext cannot be default actions" },
    { "SecFilter", "\"(bad\"", "SecFilter: invalid regular expression \"(bad\": missing closing parenthesis at offset 4" },
    { "SecFilterSelective", "ARGS \"x\" \"deny,status:abc\"", "SecFilterSelective: action \"status\": \"abc\" is not an HTTP status (100-599)" },
    { "SecFilter", "\"unterminated", "SecFilter: unterminated \" quote" },
    { "SecAuditLogParts", "ABQ", "SecAuditLogParts: \"Q\" is not an audit part (ABCEFHZ)" },
    { "SecUploadScanClamd", "ftp:x", "SecUploadScanClamd" },
};

static void test_vectors(void **state)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        pp_cfg_t *cfg = pp_cfg_create(pool);
        const char *err = apply(cfg, vectors[i].name, vectors[i].args);
        if (!vectors[i].error) {
            if (err)
                fail_msg("%s %s: unexpected error %s", vectors[i].name, vectors[i].args, err);
        } else if (!err || !strstr(err, vectors[i].error)) {
            fail_msg("%s %s: expected \"%s\", got \"%s\"", vectors[i].name, vectors[i].args,
                     vectors[i].error, err ? err : "(accepted)");
        }
    }
}

static void test_server_only_in_directory(void **state)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    pp_cfg_site_t site = { 0 };
    site.in_dir = true;
    const char *err = pp_cfg_apply(cfg, pp_directive_find("SecChrootDir"), "/", &site, pool, pool);
    assert_non_null(err);
    assert_non_null(strstr(err, "not allowed in <Directory>"));
    site.in_dir = false;
    site.in_vhost = true;
    err = pp_cfg_apply(cfg, pp_directive_find("SecServerSignature"), "X", &site, pool, pool);
    assert_non_null(strstr(err, "only allowed in the main server"));
}

static void test_merge_slots(void **state)
{
    pp_cfg_t *parent = pp_cfg_create(pool), *child = pp_cfg_create(pool);
    assert_null(apply(parent, "SecFilterEngine", "On"));
    assert_null(apply(parent, "SecFilterScanPOST", "On"));
    assert_null(apply(child, "SecFilterEngine", "Off"));
    pp_cfg_t *m = pp_cfg_merge(pool, parent, child);
    assert_false(pp_cfg_engine_enabled(m));
    assert_true(pp_cfg_scan_request_body(m));
    assert_true(pp_cfg_engine_enabled(pp_cfg_merge(pool, parent, pp_cfg_create(pool))));
}

static int rule_count(const pp_cfg_t *c)
{
    return c->effective_rules->nelts;
}

static void test_merge_rules(void **state)
{
    pp_cfg_t *parent = pp_cfg_create(pool);
    assert_null(apply(parent, "SecFilter", "a id:1"));
    assert_null(apply(parent, "SecFilter", "b id:2"));
    assert_null(apply(parent, "SecFilter", "c id:3,mandatory"));

    pp_cfg_t *inherit = pp_cfg_create(pool);
    assert_null(apply(inherit, "SecFilter", "d id:4"));
    assert_int_equal(rule_count(pp_cfg_merge(pool, parent, inherit)), 4);

    pp_cfg_t *off = pp_cfg_create(pool);
    assert_null(apply(off, "SecFilterInheritance", "Off"));
    assert_int_equal(rule_count(pp_cfg_merge(pool, parent, off)), 1); /* mandatory only */

    pp_cfg_t *import = pp_cfg_create(pool);
    assert_null(apply(import, "SecFilterInheritance", "Off"));
    assert_null(apply(import, "SecFilterImport", "2"));
    assert_int_equal(rule_count(pp_cfg_merge(pool, parent, import)), 2);

    pp_cfg_t *removed = pp_cfg_create(pool);
    assert_null(apply(removed, "SecFilterRemove", "1 3"));
    assert_int_equal(rule_count(pp_cfg_merge(pool, parent, removed)), 2); /* 3 is mandatory */
}

static void test_inheritance_mandatory(void **state)
{
    pp_cfg_t *parent = pp_cfg_create(pool);
    assert_null(apply(parent, "SecFilterInheritanceMandatory", "On"));
    assert_null(apply(parent, "SecFilter", "a id:1"));
    pp_cfg_t *off = pp_cfg_create(pool);
    assert_null(apply(off, "SecFilterInheritance", "Off"));
    assert_int_equal(rule_count(pp_cfg_merge(pool, parent, off)), 1);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    assert_null(pp_engine_init(pool));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_server_only_in_directory),
        cmocka_unit_test(test_merge_slots),
        cmocka_unit_test(test_merge_rules),
        cmocka_unit_test(test_inheritance_mandatory),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
