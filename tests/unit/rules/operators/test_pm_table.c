/*
 * @pm's start-up table (rules/operators/pm.c, pm_build_dfa) against the trie walk it replaced,
 * ModSecurity's own loop with its one-step failure links (pp_pm_match_trie): the same
 * match / no match and the same reported phrase (pointer and length, so the same node) for
 *  - 200 seeded random phrase lists over a five-letter alphabet in both cases (short, heavily
 *    overlapping phrases: the case where the quirky failure links differ from textbook
 *    Aho-Corasick; half of the lists with phrases longer than the table is deep), on every
 *    value of up to 6 bytes and on random values up to 200 bytes;
 *  - CRS 3.3.4's phrase files, when the Debian package is installed, on values made of their
 *    own phrases' pieces and random bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <dirent.h>
#include <string.h>

#include "rules/operators/operators.h"

#include "pp_random.h"

static apr_pool_t *pool;
static unsigned long compared, matched;

static void compare(const void *pm, const char *v, apr_size_t len)
{
    pp_str_t a = { NULL, 0 }, b = { NULL, 0 };
    bool ma = pp_pm_match(pm, (pp_str_t){ v, len }, &a);
    bool mb = pp_pm_match_trie(pm, (pp_str_t){ v, len }, &b);
    if (ma != mb || (ma && (a.data != b.data || a.len != b.len))) {
        print_error("value \"%.*s\": table %s \"%.*s\", trie %s \"%.*s\"\n", (int)len, v,
                    ma ? "matches" : "does not match", (int)a.len, a.data ? a.data : "",
                    mb ? "matches" : "does not match", (int)b.len, b.data ? b.data : "");
        fail();
    }
    compared++;
    matched += ma;
}

static void test_random_lists(void **state)
{
    static const char alphabet[] = "abcAB x";
    uint64_t seed = 20261207;
    char v[200];
    for (int list = 0; list < 200; list++) {
        /* 1-12 phrases of 1-5 letters, or of 1-12 in every other list (deeper than the
         * table: the walk below it), separated by spaces as @pm takes them */
        char arg[192];
        apr_size_t o = 0;
        int nphrases = 1 + (int)(pp_test_rnd(&seed) % 12);
        for (int k = 0; k < nphrases; k++) {
            int n = 1 + (int)(pp_test_rnd(&seed) % (list % 2 ? 12 : 5));
            for (int i = 0; i < n; i++)
                arg[o++] = "abcAB"[pp_test_rnd(&seed) % 5];
            arg[o++] = ' ';
        }
        arg[o] = '\0';
        void *pm;
        assert_null(pp_op_pm_parse(pool, arg, &pm));
        assert_true(pp_pm_uses_table(pm));
        apr_size_t n = sizeof alphabet - 1;
        for (apr_size_t len = 0, total = 1; len <= 6; len++, total *= n)
            for (apr_size_t code = 0; code < total; code += 1 + list % 3) {
                apr_size_t c = code;
                for (apr_size_t i = 0; i < len; i++, c /= n)
                    v[i] = alphabet[c % n];
                compare(pm, v, len);
            }
        for (int r = 0; r < 200; r++) {
            apr_size_t len = pp_test_rnd(&seed) % sizeof v;
            for (apr_size_t i = 0; i < len; i++)
                v[i] = alphabet[pp_test_rnd(&seed) % n];
            compare(pm, v, len);
        }
    }
    assert_true(compared > 1000000 && matched > 100000);
}

static void test_crs_files(void **state)
{
    const char *dir = "/usr/share/modsecurity-crs/rules";
    DIR *d = opendir(dir);
    if (!d)
        skip(); /* modsecurity-crs not installed */
    uint64_t seed = 7;
    unsigned files = 0;
    char v[300];
    struct dirent *e;
    while ((e = readdir(d))) {
        apr_size_t nl = strlen(e->d_name);
        if (nl < 6 || strcmp(e->d_name + nl - 5, ".data") != 0)
            continue;
        void *pm;
        const char *path = apr_pstrcat(pool, dir, "/", e->d_name, NULL);
        assert_null(pp_op_pmf_parse(pool, path, &pm));
        assert_true(pp_pm_uses_table(pm));
        /* the file's own text, cut at random places and glued with random bytes, so that
         * values run deep into the trie and fall out of it */
        char *text = NULL;
        apr_size_t tlen = 0;
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        text = apr_palloc(pool, 65536);
        tlen = fread(text, 1, 65536, f);
        fclose(f);
        for (int r = 0; r < 20000; r++) {
            apr_size_t len = 0, want = pp_test_rnd(&seed) % sizeof v;
            while (len < want) {
                if (pp_test_rnd(&seed) % 4 == 0) {
                    v[len++] = (char)pp_test_rnd(&seed);
                } else {
                    apr_size_t at = pp_test_rnd(&seed) % tlen, n = 1 + pp_test_rnd(&seed) % 12;
                    for (apr_size_t i = 0; i < n && len < want && at + i < tlen; i++) {
                        char c = text[at + i];
                        v[len++] = pp_test_rnd(&seed) % 3 ? c : (char)(c ^ 0x20);
                    }
                }
            }
            compare(pm, v, len);
        }
        files++;
    }
    closedir(d);
    assert_true(files >= 15);
}

static int setup(void **state)
{
    apr_initialize();
    return apr_pool_create(&pool, NULL) == APR_SUCCESS ? 0 : -1;
}

static int teardown(void **state)
{
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_lists),
        cmocka_unit_test(test_crs_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
