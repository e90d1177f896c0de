/*
 * The SecRule action table (lang/actions2/table.c): sorted, unique, every row complete and
 * found case-insensitively; and every action CRS 3.3.4 uses (inventory §8) is a row, so a
 * missing one fails here before it fails as a start-up error on CRS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lang/actions2/actions2.h"

#include <apr_lib.h>

static void test_rows(void **state)
{
    (void)state;
    apr_size_t n;
    const pp_action2_def_t *t = pp_action2_table(&n);
    assert_true(n > 0);
    for (apr_size_t i = 0; i < n; i++) {
        assert_non_null(t[i].compile);
        assert_non_null(t[i].help);
        assert_true(strlen(t[i].help) > 10);
        if (i > 0)
            assert_true(strcasecmp(t[i - 1].name, t[i].name) < 0);
        char upper[64];
        apr_size_t k = 0;
        for (; t[i].name[k] && k < sizeof upper - 1; k++)
            upper[k] = (char)apr_toupper((unsigned char)t[i].name[k]);
        upper[k] = '\0';
        assert_ptr_equal(pp_action2_find(upper), &t[i]);
    }
    assert_null(pp_action2_find("no-such-action"));
}

static void test_crs_actions_present(void **state)
{
    (void)state;
    static const char *const crs[] = { "tag", "t", "id", "phase", "setvar", "ctl", "ver",
                                       "pass", "nolog", "msg", "severity", "block", "logdata",
                                       "skipAfter", "capture", "chain", "log", "status", "deny",
                                       "auditlog", "noauditlog", "multiMatch", "drop", "initcol",
                                       "expirevar" };
    for (size_t i = 0; i < sizeof crs / sizeof crs[0]; i++) {
        if (!pp_action2_find(crs[i]))
            fail_msg("CRS action \"%s\" has no row", crs[i]);
    }
}

/* Every ctl: of the reference (§9.5) has a row, the rows sorted (case-insensitively). */
static void test_ctl_names(void **state)
{
    (void)state;
    static const char *const ref[] = {
        "auditEngine", "auditLogParts", "debugLogLevel", "forceRequestBodyVariable",
        "hashEnforcement", "hashEngine", "requestBodyAccess", "requestBodyLimit",
        "requestBodyProcessor", "responseBodyAccess", "responseBodyLimit", "ruleEngine",
        "ruleRemoveById", "ruleRemoveByMsg", "ruleRemoveByTag", "ruleRemoveTargetById",
        "ruleRemoveTargetByMsg", "ruleRemoveTargetByTag",
    };
    apr_size_t n = 0;
    for (; pp_a2_ctl_name(n); n++)
        if (n > 0)
            assert_true(strcasecmp(pp_a2_ctl_name(n - 1), pp_a2_ctl_name(n)) < 0);
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        bool found = false;
        for (apr_size_t k = 0; k < n; k++)
            found = found || strcmp(pp_a2_ctl_name(k), ref[i]) == 0;
        if (!found)
            fail_msg("ctl:%s has no row", ref[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_crs_actions_present),
        cmocka_unit_test(test_ctl_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
