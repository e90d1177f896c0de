/*
 * Action family (rules/actions/ and lang/actionlist.c): every vector of action_vectors.h
 * parsed into an action set and compared field by field; unknown names; and merging of a rule's
 * own list over a default (reference §8.3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lang/lang.h"
#include "rules/actions/action_vectors.h"

static apr_pool_t *pool;

static const char *kvs(const apr_array_header_t *a)
{
    const char *s = "";
    for (int i = 0; a && i < a->nelts; i++) {
        const pp_kv_t *kv = &APR_ARRAY_IDX(a, i, pp_kv_t);
        s = apr_psprintf(pool, "%s%s%s=%s", s, i ? ";" : "", kv->name, kv->value);
    }
    return s;
}

/* The set's fields that are set, in the order action_vectors.h documents. */
static const char *dump(const pp_actionset_t *as)
{
    apr_array_header_t *w = apr_array_make(pool, 8, sizeof(const char *));
#define W(...) APR_ARRAY_PUSH(w, const char *) = apr_psprintf(pool, __VA_ARGS__)
    if (as->disruptive != PP_TRI_UNSET)
        W("%s", pp_action_name((pp_action_t)as->disruptive));
    if (as->status != PP_TRI_UNSET)
        W("status=%d", as->status);
    if (as->url)
        W("url=%s", as->url);
    if (as->log != PP_TRI_UNSET)
        W("log=%d", as->log);
    if (as->auditlog != PP_TRI_UNSET)
        W("auditlog=%d", as->auditlog);
    if (as->id)
        W("id=%s", as->id);
    if (as->rev)
        W("rev=%s", as->rev);
    if (as->msg)
        W("msg=%s", as->msg);
    if (as->severity != PP_TRI_UNSET)
        W("severity=%d", as->severity);
    if (as->pause_ms != PP_TRI_UNSET)
        W("pause=%d", as->pause_ms);
    if (as->exec)
        W("exec=%s", as->exec);
    if (as->setenv && as->setenv->nelts)
        W("setenv=%s", kvs(as->setenv));
    if (as->setnote && as->setnote->nelts)
        W("setnote=%s", kvs(as->setnote));
    if (as->logparts)
        W("logparts=%s", as->logparts);
    if (as->chain)
        W("chain");
    if (as->skipnext)
        W("skipnext=%d", as->skipnext);
    if (as->mandatory)
        W("mandatory");
#undef W
    return apr_array_pstrcat(pool, w, ' ');
}

static void test_vectors(void **state)
{
    for (size_t i = 0; i < sizeof action_vectors / sizeof action_vectors[0]; i++) {
        const action_vector_t *v = &action_vectors[i];
        assert_non_null(pp_action_find(v->name));
        pp_actionset_t *as = NULL;
        const char *warning = NULL;
        const char *err = pp_actionlist_parse(pool, v->list, v->restricted, &as, &warning);
        if (v->error) {
            if (!err || !strstr(err, v->error))
                fail_msg("\"%s\": expected error \"%s\", got \"%s\"", v->list, v->error,
                         err ? err : "(accepted)");
            continue;
        }
        if (err)
            fail_msg("\"%s\": unexpected error %s", v->list, err);
        const char *got = dump(as);
        if (strcmp(got, v->expect) != 0)
            fail_msg("\"%s\": got \"%s\", expected \"%s\"", v->list, got, v->expect);
        if (v->warning ? !warning || !strstr(warning, v->warning) : warning != NULL)
            fail_msg("\"%s\": warning \"%s\", expected \"%s\"", v->list,
                     warning ? warning : "(none)", v->warning ? v->warning : "(none)");
    }
}

static void test_unknown_action(void **state)
{
    pp_actionset_t *as;
    const char *warning = NULL;
    const char *err = pp_actionlist_parse(pool, "deny,blok", false, &as, &warning);
    assert_string_equal(err, "unknown action \"blok\"");
    assert_null(pp_action_find("nosuch"));
    assert_non_null(pp_action_find("DeNy")); /* 1.9 action names ignore case */
}

static void test_merge(void **state)
{
    pp_actionset_t *base, *over;
    const char *warning = NULL;
    assert_null(pp_actionlist_parse(pool, "deny,log,status:500,setenv:a=1,id:1", false, &base,
                                    &warning));
    assert_null(pp_actionlist_parse(pool, "redirect:http://e.test/,setenv:b=2,msg:m", false,
                                    &over, &warning));
    assert_string_equal(dump(pp_actionset_merge(pool, base, over)),
                        "redirect status=500 url=http://e.test/ log=1 id=1 msg=m setenv=a=1;b=2");
    /* A url does not outlive the primary action it came with. */
    assert_null(pp_actionlist_parse(pool, "pass", false, &over, &warning));
    assert_string_equal(dump(pp_actionset_merge(pool, pp_actionset_merge(pool, base, over), NULL)),
                        "pass status=500 log=1 id=1 setenv=a=1");
    assert_ptr_equal(pp_actionset_merge(pool, NULL, over), over);
    assert_string_equal(dump(pp_actionset_builtin_default()), "deny status=403 log=1");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_unknown_action),
        cmocka_unit_test(test_merge),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
