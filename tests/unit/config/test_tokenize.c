/*
 * pp_cfg_tokenize (config/directives.c): directive arguments split the way Apache's
 * ap_getword_conf does. Vectors: words, both quote kinds, an escaped quote, and unterminated
 * quotes. The last come from fuzz_config: the outputs were left unset on that error, and
 * SecFilterOutputMimeTypes (which tokenises its argument again) then read an uninitialised
 * count and array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"

static apr_pool_t *pool;

typedef struct vector_t {
    const char *raw;
    const char *error;      /* NULL: accepted */
    int argc;
    const char *argv[4];
} vector_t;

static const vector_t vectors[] = {
    { "", NULL, 0, { NULL } },
    { " \t ", NULL, 0, { NULL } },
    { "On", NULL, 1, { "On" } },
    { "  ARGS   \"a b\"  'c d' ", NULL, 3, { "ARGS", "a b", "c d" } },
    { "\"it\\\"s\" x\\y", NULL, 2, { "it\"s", "x\\y" } },
    { "'it\\'s'", NULL, 1, { "it's" } },
    { "\"\"", NULL, 1, { "" } },
    { "\"open", "unterminated \" quote", 0, { NULL } },
    { "text/html 'x", "unterminated ' quote", 0, { NULL } },
    { "a \"b\\\"", "unterminated \" quote", 0, { NULL } },
};

static void test_vectors(void **state)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const vector_t *v = &vectors[i];
        int argc = -7;
        char **argv = NULL;
        const char *err = pp_cfg_tokenize(pool, v->raw, &argc, &argv);
        if (v->error) {
            if (!err || strcmp(err, v->error) != 0)
                fail_msg("[%s]: expected \"%s\", got \"%s\"", v->raw, v->error,
                         err ? err : "(accepted)");
        } else if (err) {
            fail_msg("[%s]: unexpected error %s", v->raw, err);
        }
        /* Defined on every path: a caller that ignores the error must see no words. */
        assert_int_equal(argc, v->argc);
        if (argc)
            assert_non_null(argv);
        for (int k = 0; k < argc; k++)
            if (strcmp(argv[k], v->argv[k]) != 0)
                fail_msg("[%s]: word %d is [%s], expected [%s]", v->raw, k, argv[k], v->argv[k]);
    }
}

/* The fuzz_config reproducer, through the setter that re-tokenises its argument. */
static void test_mime_types_unterminated_quote(void **state)
{
    pp_cfg_t *cfg = pp_cfg_create(pool);
    const pp_directive_t *d = pp_directive_find("SecFilterOutputMimeTypes");
    pp_cfg_site_t site = { 0 };
    const char *err = pp_cfg_apply(cfg, d, "\"text/html 'x\"", &site, pool, pool);
    if (!err) {
        assert_non_null(cfg->output_mime_types);
        assert_true(cfg->output_mime_types->nelts <= 1);
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_mime_types_unterminated_quote),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
