/*
 * Directive table and setters: the vectors of directive_vectors.h (good and bad values with the
 * exact messages and the slot they set), merging of slots and rule lists across contexts
 * (SecFilterInheritance, SecFilterImport, SecFilterRemove, mandatory rules).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"
#include "config/directive_vectors.h"

static apr_pool_t *pool;

static const char *apply(pp_cfg_t *cfg, const char *name, const char *args)
{
    const pp_directive_t *d = pp_directive_find(name);
    assert_non_null(d);
    pp_cfg_site_t site = { 0 };
    return pp_cfg_apply(cfg, d, args, &site, pool, pool);
}

/* The slot of an accepted directive as text, for directive_vectors.h's value column. */
static const char *slot_text(const pp_cfg_t *cfg, const pp_directive_t *d)
{
    const char *at = (const char *)cfg + d->slot;
    switch (d->slot_type) {
    case PP_SLOT_INT:
        return apr_itoa(pool, *(const int *)at);
    case PP_SLOT_SIZE:
        return apr_off_t_toa(pool, (apr_off_t) * (const apr_int64_t *)at);
    case PP_SLOT_STR:
        return *(const char *const *)at ? *(const char *const *)at : "(unset)";
    default:
        return NULL;
    }
}

static void test_vectors(void **state)
{
    for (size_t i = 0; i < sizeof directive_vectors / sizeof directive_vectors[0]; i++) {
        const directive_vector_t *v = &directive_vectors[i];
        pp_cfg_t *cfg = pp_cfg_create(pool);
        const char *err = apply(cfg, v->name, v->args);
        if (v->error) {
            if (!err || !strstr(err, v->error))
                fail_msg("%s %s: expected \"%s\", got \"%s\"", v->name, v->args, v->error,
                         err ? err : "(accepted)");
            continue;
        }
        if (err)
            fail_msg("%s %s: unexpected error %s", v->name, v->args, err);
        const char *got = slot_text(cfg, pp_directive_find(v->name));
        if (v->value && (!got || strcmp(got, v->value) != 0))
            fail_msg("%s %s: slot reads \"%s\", expected \"%s\"", v->name, v->args,
                     got ? got : "(no slot)", v->value);
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
