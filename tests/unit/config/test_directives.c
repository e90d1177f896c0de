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
#include "rules/transforms/transforms.h"

#include <stdio.h>

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

/* 2.x's SecResponseBodyMimeType adds to the enclosing context's list, 1.9's list replaces it,
 * SecResponseBodyMimeTypesClear starts from nothing; the default is text/html and text/plain
 * until a context names any type (reference secrule-2.9 §3). */
static void test_merge_mime_types(void **state)
{
    pp_cfg_t *server = pp_cfg_create(pool);
    assert_true(pp_cfg_output_mime_matches(server, "text/html; charset=utf-8"));
    assert_false(pp_cfg_output_mime_matches(server, "text/xml"));
    assert_null(apply(server, "SecResponseBodyMimeType", "Text/XML"));
    assert_null(apply(server, "SecResponseBodyMimeType", "application/json null"));
    assert_true(pp_cfg_output_mime_matches(server, "text/xml"));
    assert_true(pp_cfg_output_mime_matches(server, NULL)); /* null: no Content-Type */
    assert_false(pp_cfg_output_mime_matches(server, "text/html")); /* defaults replaced */

    pp_cfg_t *add = pp_cfg_create(pool);
    assert_null(apply(add, "SecResponseBodyMimeType", "text/css"));
    pp_cfg_t *m = pp_cfg_merge(pool, server, add);
    assert_true(pp_cfg_output_mime_matches(m, "text/css"));
    assert_true(pp_cfg_output_mime_matches(m, "application/json"));

    pp_cfg_t *clear = pp_cfg_create(pool);
    assert_null(apply(clear, "SecResponseBodyMimeTypesClear", ""));
    m = pp_cfg_merge(pool, server, clear);
    assert_false(pp_cfg_output_mime_matches(m, "text/xml"));
    assert_false(pp_cfg_output_mime_matches(m, "text/html"));
    assert_null(apply(clear, "SecResponseBodyMimeType", "text/csv"));
    m = pp_cfg_merge(pool, server, clear);
    assert_true(pp_cfg_output_mime_matches(m, "text/csv"));
    assert_false(pp_cfg_output_mime_matches(m, "text/xml"));

    pp_cfg_t *v19 = pp_cfg_create(pool);
    assert_null(apply(v19, "SecFilterOutputMimeTypes", "\"image/svg+xml\""));
    m = pp_cfg_merge(pool, server, v19);
    assert_true(pp_cfg_output_mime_matches(m, "image/svg+xml"));
    assert_false(pp_cfg_output_mime_matches(m, "text/xml"));
}

static void test_ms2_settings(void **state)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    assert_int_equal(pp_cfg_collection_timeout_s(cfg), 3600);
    assert_string_equal(pp_cfg_webappid(cfg), "default");
    assert_int_equal(pp_cfg_body_limit_action(cfg), PP_LIMIT_REJECT);
    assert_null(apply(cfg, "SecCollectionTimeout", "600"));
    assert_null(apply(cfg, "SecWebAppId", "shop"));
    assert_int_equal(pp_cfg_collection_timeout_s(cfg), 600);
    assert_string_equal(pp_cfg_webappid(cfg), "shop");

    /* DetectionOnly never refuses a body: ProcessPartial, before or after the limit action. */
    assert_null(apply(cfg, "SecRequestBodyLimitAction", "Reject"));
    assert_null(apply(cfg, "SecRuleEngine", "DetectionOnly"));
    assert_int_equal(pp_cfg_body_limit_action(cfg), PP_LIMIT_PROCESS_PARTIAL);
    pp_cfg_t *child = pp_cfg_create(pool);
    assert_null(apply(child, "SecRequestBodyLimitAction", "Reject"));
    assert_int_equal(pp_cfg_body_limit_action(pp_cfg_merge(pool, cfg, child)),
                     PP_LIMIT_PROCESS_PARTIAL);
    assert_null(apply(child, "SecRuleEngine", "On"));
    assert_int_equal(pp_cfg_body_limit_action(pp_cfg_merge(pool, cfg, child)), PP_LIMIT_REJECT);

    /* 2.x names share the 1.9 slots where the meaning is the same. */
    pp_cfg_t *s2 = pp_cfg_create(pool);
    assert_null(apply(s2, "SecRequestBodyAccess", "On"));
    assert_true(pp_cfg_scan_request_body(s2));
    assert_null(apply(s2, "SecFilterScanPOST", "Off"));
    assert_false(pp_cfg_scan_request_body(s2));
    assert_null(apply(s2, "SecResponseBodyAccess", "On"));
    assert_true(pp_cfg_scan_output(s2));

    /* Component signatures accumulate from the server down. */
    pp_cfg_t *a = pp_cfg_create(pool), *b = pp_cfg_create(pool);
    assert_null(apply(a, "SecComponentSignature", "OWASP_CRS/3.3.4"));
    assert_null(apply(b, "SecComponentSignature", "site/1"));
    pp_cfg_t *m = pp_cfg_merge(pool, a, b);
    assert_int_equal(m->component_signatures->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(m->component_signatures, 1, const char *), "site/1");

    /* SecAuditLog2 follows a SecAuditLog of the same context. */
    pp_cfg_t *logs = pp_cfg_create(pool);
    assert_null(apply(logs, "SecAuditLog", "/tmp/parapet-unit-audit.log"));
    assert_null(apply(logs, "SecAuditLog2", "/tmp/parapet-unit-audit2.log"));
    assert_string_equal(logs->audit_log2, "/tmp/parapet-unit-audit2.log");

    /* SecDataDir is for the main server only, as in ModSecurity. */
    pp_cfg_site_t site = { 0 };
    site.in_vhost = true;
    const char *err = pp_cfg_apply(cfg, pp_directive_find("SecDataDir"), "/tmp", &site, pool, pool);
    assert_non_null(err);
    assert_non_null(strstr(err, "only allowed in the main server"));
}

/* A map file in ModSecurity's format: the section of the code page asked for, and only it;
 * without a code page the map is read but not used. */
static void test_unicode_map(void **state)
{
    const char *path = "/tmp/parapet-unit-unicode.mapping";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("(MAC - Roman)\n\n\n1250  (ANSI - Central Europe)\n00a1:21 00a2:63\n\n"
          "20127 (US-ASCII)\n00a1:41 ff21:7a 3002:2c\n\n437   (OEM)\n00a1:ad\n", f);
    fclose(f);
    pp_cfg_t *cfg = pp_cfg_create(pool);
    assert_null(apply(cfg, "SecUnicodeMapFile", "/tmp/parapet-unit-unicode.mapping 20127"));
    const pp_unicode_map_t *m = pp_cfg_unicode_map(cfg);
    assert_non_null(m);
    assert_int_equal(pp_unicode_map_byte(m, 0x00a1), 0x41);
    assert_int_equal(pp_unicode_map_byte(m, 0xff21), 0x7a);
    assert_int_equal(pp_unicode_map_byte(m, 0x3002), 0x2c);   /* the file overrides the dots */
    assert_int_equal(pp_unicode_map_byte(m, 0xff61), 0x2e);   /* RFC 3490 dot */
    assert_int_equal(pp_unicode_map_byte(m, 0x00a2), -1);     /* 1250's, not read */
    pp_tfn_env_t env = { m };
    pp_str_t out;
    pp_tfn_url_decode_uni_env(pool, &env, PP_STR("%u00a1%uff21%u00a2%uff41%u3002"), &out);
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.data, "Az\xa2" "a,", 5);

    pp_cfg_t *nocp = pp_cfg_create(pool);
    assert_null(apply(nocp, "SecUnicodeMapFile", "/tmp/parapet-unit-unicode.mapping"));
    assert_null(pp_cfg_unicode_map(nocp));
    remove(path);
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
        cmocka_unit_test(test_merge_mime_types),
        cmocka_unit_test(test_ms2_settings),
        cmocka_unit_test(test_unicode_map),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
