/*
 * Speed of the phrase matcher (@pm / @pmFromFile, rules/operators/pm.c) on CRS 3.3.4's largest
 * phrase list, php-function-names-933151.data (1,264 phrases), next to the same phrases as one
 * case-insensitive PCRE2 alternation with JIT (what a regex-only engine would run). Values: a
 * benign set (prose, names, URLs, JSON, headers; 10 to 120 bytes) and an attack-like set (the
 * benign values with a phrase from the list inserted). Prints ns per value for both, best of
 * three runs of about 0.3 s each. The two must agree on match / no match for every value
 * (a mismatch aborts): they are measured doing the same work.
 *
 *   make build/bench_pm && build/bench_pm [PHRASE_FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "rules/operators/operators.h"

#define VALUES 2000
#define RUNS 3
#define RUN_SECONDS 0.3

static const char *const parts[] = {
    "The quick brown fox jumps over the lazy dog", "O'Brien", "page=2", "en-US,en;q=0.9",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)", "shoes",
    "{\"name\": \"Ann\", \"age\": 42}", "https://example.com/a/b?c=d", "user@example.com",
    "Please select one of the options from the list below", "2024-01-01", "Tom & Jerry",
    "naïve café", "order by date, then by name", "1234567890", "a, b, c", "$100.00",
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct value_t {
    pp_str_t s;
} value_t;

static int pm_count(const void *pm, const value_t *v, int n)
{
    int hits = 0;
    pp_str_t phrase;
    for (int i = 0; i < n; i++)
        hits += pp_pm_match(pm, v[i].s, &phrase);
    return hits;
}

static int rx_count(const pp_regex_t *re, pp_rx_state_t *st, const value_t *v, int n)
{
    int hits = 0;
    for (int i = 0; i < n; i++) {
        bool m = false;
        if (pp_regex_exec(re, st, v[i].s, &m) != APR_SUCCESS)
            abort();
        hits += m;
    }
    return hits;
}

static double ns_per_value(int which, const void *pm, const pp_regex_t *re, pp_rx_state_t *st,
                           const value_t *v, int n)
{
    double best = 1e18;
    for (int r = 0; r < RUNS; r++) {
        long rounds = 0;
        double t0 = now(), t;
        do {
            if (which == 0)
                pm_count(pm, v, n);
            else
                rx_count(re, st, v, n);
            rounds++;
        } while ((t = now()) - t0 < RUN_SECONDS);
        double ns = (t - t0) * 1e9 / ((double)rounds * n);
        if (ns < best)
            best = ns;
    }
    return best;
}

int main(int argc, char **argv)
{
    const char *file = argc > 1 ? argv[1]
                                : "/usr/share/modsecurity-crs/rules/php-function-names-933151.data";
    apr_initialize();
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    const pp_op_def_t *def = pp_op_find("pmFromFile");
    void *pm = NULL;
    const char *err = def->parse(p, file, &pm);
    if (err) {
        fprintf(stderr, "bench_pm: %s\n", err);
        return 2;
    }
    /* The same phrases as a regex alternation, each quoted. */
    FILE *f = fopen(file, "r");
    char line[8192];
    char **phr = malloc(sizeof(char *) * 20000);
    int nphr = 0;
    apr_array_header_t *alt = apr_array_make(p, 2000, sizeof(char *));
    while (f && fgets(line, sizeof line, f) && nphr < 20000) {
        char *s = line, *e = line + strcspn(line, "\r\n");
        *e = '\0';
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (e - s < 2 || *s == '#')
            continue;
        phr[nphr++] = apr_pstrdup(p, s);
        APR_ARRAY_PUSH(alt, char *) = apr_pstrcat(p, "\\Q", s, "\\E", NULL);
    }
    if (f)
        fclose(f);
    const char *pattern = apr_array_pstrcat(p, alt, '|');
    pp_regex_t *re = pp_regex_compile(p, pattern, PP_RX_ICASE, &err);
    if (!re) {
        fprintf(stderr, "bench_pm: %s\n", err);
        return 2;
    }
    pp_rx_state_t *st = pp_rx_state_create(p);
    srand(20261207);
    value_t *benign = apr_pcalloc(p, sizeof(value_t) * VALUES);
    value_t *attack = apr_pcalloc(p, sizeof(value_t) * VALUES);
    size_t nparts = sizeof parts / sizeof parts[0];
    for (int i = 0; i < VALUES; i++) {
        const char *a = parts[rand() % nparts], *b = parts[rand() % nparts];
        char *v = apr_psprintf(p, "%s%s", a, rand() % 2 ? b : "");
        benign[i].s = (pp_str_t){ v, strlen(v) };
        char *w = apr_psprintf(p, "%s %s(1) %s", a, phr[rand() % nphr], b);
        attack[i].s = (pp_str_t){ w, strlen(w) };
    }
    int bm = pm_count(pm, benign, VALUES), am = pm_count(pm, attack, VALUES);
    if (bm != rx_count(re, st, benign, VALUES) || am != rx_count(re, st, attack, VALUES)) {
        fprintf(stderr, "bench_pm: the matcher and the regex disagree\n");
        return 1;
    }
    printf("phrase list: %s (%zu phrases); %d values each, benign %d matches, attack %d\n", file,
           (size_t)pp_pm_phrases(pm), VALUES, bm, am);
    printf("%-8s %14s %14s\n", "values", "@pm ns/value", "regex ns/value");
    printf("%-8s %14.0f %14.0f\n", "benign", ns_per_value(0, pm, re, st, benign, VALUES),
           ns_per_value(1, pm, re, st, benign, VALUES));
    printf("%-8s %14.0f %14.0f\n", "attack", ns_per_value(0, pm, re, st, attack, VALUES),
           ns_per_value(1, pm, re, st, attack, VALUES));
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
