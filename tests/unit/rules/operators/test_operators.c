/*
 * Operator family (rules/operators/): every vector of operator_vectors.h through the row's
 * parse and exec, in a real transaction. Where the row has a literal prefilter (needs), a value
 * that matches must also pass the prefilter: the evaluator skips exec for values that do not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"
#include "rules/operators/operator_vectors.h"
#include "tx.h"

static apr_pool_t *pool;

static void test_vectors(void **state)
{
    pp_tx_t *tx = pp_tx_create(pp_cfg_create(pool), pool, "t");
    for (size_t i = 0; i < sizeof op_vectors / sizeof op_vectors[0]; i++) {
        const op_vector_t *v = &op_vectors[i];
        const pp_op_def_t *def = pp_op_find(v->name);
        if (!def)
            fail_msg("vector %zu: no operator \"%s\"", i, v->name);
        void *compiled = NULL;
        const char *err = def->parse(pool, v->arg, &compiled);
        if (v->error) {
            if (!err || !strstr(err, v->error))
                fail_msg("%s \"%s\": expected error \"%s\", got \"%s\"", v->name, v->arg,
                         v->error, err ? err : "(accepted)");
            continue;
        }
        if (err)
            fail_msg("%s \"%s\": unexpected error %s", v->name, v->arg, err);
        bool m = !v->match;
        pp_str_t in = { v->in, v->in_len };
        assert_int_equal(def->exec(tx, compiled, in, &m), APR_SUCCESS);
        if (m != v->match)
            fail_msg("%s \"%s\" on \"%s\": match %d, expected %d", v->name, v->arg, v->in, m,
                     v->match);
        const pp_rx_needs_t *needs = def->needs ? def->needs(compiled) : NULL;
        if (m && needs && !pp_rx_needs_met(needs, in, pp_sketch_build(pool, in)))
            fail_msg("%s \"%s\": the prefilter rules out \"%s\", which matches", v->name,
                     v->arg, v->in);
    }
}

static void test_unknown_operator(void **state)
{
    assert_null(pp_op_find("nosuchop"));
    assert_null(pp_op_find(""));
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_unknown_operator),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
