/*
 * 1.9 location names (lang/names19.c, reference §4, §5.1): every vector of names19_vectors.h
 * resolved to its target (variable, message label, normalisation) or exclusion, and interning:
 * the same name gives the same target, whatever its case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lang/lang.h"
#include "lang/names19_vectors.h"
#include "rules/transforms/transforms.h"

static apr_pool_t *pool;

static const char *norm_name(unsigned norm)
{
    const unsigned raw = PP_N19_URLDECODE | PP_N19_PATH | PP_N19_NULLS;
    if (norm == 0)
        return "NONE";
    if (norm == raw)
        return "RAW";
    if (norm == (raw | PP_N19_PLUS))
        return "FORM";
    if (norm == (PP_N19_PATH | PP_N19_NULLS))
        return "DEC";
    return apr_psprintf(pool, "0x%x", norm);
}

static void test_vectors(void **state)
{
    for (size_t i = 0; i < sizeof names19_vectors / sizeof names19_vectors[0]; i++) {
        const names19_vector_t *v = &names19_vectors[i];
        bool exclude = v->name[0] == '!';
        const pp_target_t *t = NULL;
        pp_exclusion_t ex = { 0 };
        const char *err = pp_names19_resolve(pool, pool, v->name + exclude, exclude, &t, &ex);
        const char *got = err        ? apr_pstrcat(pool, "error: ", err, NULL)
                          : exclude ? apr_psprintf(pool, "exclude %s %s%s", ex.family, ex.name,
                                                   ex.icase ? " icase" : "")
                                    : apr_psprintf(pool, "%s %s %s", t->var->name, t->label,
                                                   norm_name(t->chain ? t->chain->norm19 : 0));
        bool ok = strncmp(v->expect, "error: ", 7) == 0 ? err && strstr(got, v->expect + 7)
                                                         : strcmp(got, v->expect) == 0;
        if (!ok)
            fail_msg("%s: got \"%s\", expected \"%s\"", v->name, got, v->expect);
        if (!err && !exclude) {
            assert_true(t->missing_as_empty); /* 1.9 tests an absent location as "" */
            /* The 1.9 normaliser is one internal step: a chain of depth 1 (or none). */
            assert_true(!t->chain || (t->chain->depth == 1 && !t->chain->tfn));
        }
    }
}

static void test_interned(void **state)
{
    const pp_target_t *a, *b;
    pp_exclusion_t ex;
    assert_null(pp_names19_resolve(pool, pool, "QUERY_STRING", false, &a, &ex));
    assert_null(pp_names19_resolve(pool, pool, "query_string", false, &b, &ex));
    assert_ptr_equal(a, b);
    assert_null(pp_names19_resolve(pool, pool, "ARG_x", false, &a, &ex));
    assert_null(pp_names19_resolve(pool, pool, "ARG_y", false, &b, &ex));
    assert_ptr_not_equal(a, b);
    assert_int_not_equal(a->slot, b->slot);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_interned),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
