/*
 * Throughput of @detectSQLi and @detectXSS (rules/operators/sqli.c, sqli_fold.c, xss.c) next to
 * the reference, libinjection 3.9.2 inside Debian's mod_security2.so (tests/oracle/), on the
 * same values: a benign set (prose, names, JSON, URLs, code, non-Latin text) and an attack set
 * (SQL injection and XSS payloads), each a few thousand values of 10 to 300 bytes. Each
 * combination runs for about 0.3 s, best of three; prints MB/s (10^6 bytes per second of
 * input) for both sides and their ratio. The answers are compared on the way (a mismatch
 * aborts: the two must be measured doing the same work).
 *
 * The reference is called as ModSecurity calls it, on a NUL-terminated value; the values are
 * prepared that way once, outside the timed loop, for both sides.
 *
 * Built by make (build/bench_injection, linked with -rdynamic for the module) and run by
 * bench/run.sh, which appends the table to bench/RESULTS.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>

#include "rules/operators/operators.h"
#include "../../tests/oracle/libinjection_oracle.h"

#define VALUES 4000
#define RUNS 3
#define RUN_SECONDS 0.3

static const char *const benign_parts[] = {
    "The quick brown fox jumps over the lazy dog", "O'Brien", "D'Angelo", "Rock 'n' Roll",
    "{\"name\": \"Ann\", \"age\": 42, \"tags\": [\"a\", \"b\"]}", "https://example.com/a/b?c=d",
    "Please select one of the options from the list below", "user@example.com", "2024-01-01",
    "Привет, мир", "こんにちは世界", "naïve café", "if (a < b) { return a; }", "1234567890",
    "order by date, then by name", "Tom & Jerry", "50% off", "shoes", "page=2", "en-US,en;q=0.9",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)", "C# and F#",
    "<b>bold</b> text", "a, b, c", "$100.00", "I'll be there at 5 or 6",
};

static const char *const attack_parts[] = {
    "1' OR '1'='1", "1 UNION SELECT username, password FROM users--", "1; DROP TABLE users--",
    "1' AND SLEEP(5)--", "-1 union all select null,@@version#", "admin'--", "1/*!50000union*/",
    "1 AND extractvalue(1,concat(0x7e,version()))", "'; exec xp_cmdshell 'dir'--",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\" onmouseover=\"alert(1)",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>", "<svg onload=alert(1)>", "<iframe src=x>",
    "<x style=\"behavior:url(x)\">", "'><script>x</script>", "<!--[if IE]>x<![endif]-->",
};

typedef struct set_t {
    const char *name;
    char *vals[VALUES];
    size_t lens[VALUES];
    size_t bytes;
} set_t;

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* Values of one to four parts joined by spaces, so lengths vary from ~10 to ~300 bytes. */
static void build(set_t *set, const char *name, const char *const *parts, size_t nparts)
{
    set->name = name;
    set->bytes = 0;
    for (int i = 0; i < VALUES; i++) {
        char buf[1024];
        size_t n = 0;
        unsigned k = 1 + rnd(4);
        for (unsigned j = 0; j < k; j++) {
            const char *p = parts[rnd((uint32_t)nparts)];
            size_t l = strlen(p);
            if (n + l + 2 > sizeof buf)
                break;
            if (n)
                buf[n++] = ' ';
            memcpy(buf + n, p, l);
            n += l;
        }
        set->vals[i] = malloc(n + 1);
        memcpy(set->vals[i], buf, n);
        set->vals[i][n] = '\0';
        set->lens[i] = n;
        set->bytes += n;
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef enum { OURS_SQLI, REF_SQLI, OURS_XSS, REF_XSS } side_t;

static unsigned long pass(oracle_t *o, const set_t *set, side_t side)
{
    unsigned long hits = 0;
    char fp[8];
    for (int i = 0; i < VALUES; i++) {
        const char *s = set->vals[i];
        size_t n = set->lens[i];
        switch (side) {
        case OURS_SQLI: hits += pp_sqli_detect((pp_str_t){ s, n }, fp); break;
        case REF_SQLI: hits += o->sqli(s, n, fp) != 0; break;
        case OURS_XSS: hits += pp_xss_detect((pp_str_t){ s, n }); break;
        case REF_XSS: hits += o->xss(s, n) != 0; break;
        }
    }
    return hits;
}

/* Best MB/s of RUNS runs of about RUN_SECONDS each; *hits is the answers' count per pass. */
static double measure(oracle_t *o, const set_t *set, side_t side, unsigned long *hits)
{
    double best = 0;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now(), t;
        unsigned long passes = 0;
        do {
            *hits = pass(o, set, side);
            passes++;
            t = now() - t0;
        } while (t < RUN_SECONDS);
        double mbs = (double)set->bytes * passes / t / 1e6;
        if (mbs > best)
            best = mbs;
    }
    return best;
}

int main(void)
{
    apr_initialize();
    oracle_t o;
    const char *err = oracle_open(&o);
    if (err) {
        fprintf(stderr, "bench_injection: %s\n", err);
        return 2;
    }
    static set_t benign, attack;
    build(&benign, "benign", benign_parts, sizeof benign_parts / sizeof benign_parts[0]);
    build(&attack, "attack", attack_parts, sizeof attack_parts / sizeof attack_parts[0]);
    const set_t *sets[] = { &benign, &attack };

    printf("| detector | input | values (bytes) | Parapet MB/s | reference MB/s | ratio |\n");
    printf("|---|---|---|---|---|---|\n");
    for (int k = 0; k < 2; k++) {
        side_t ours = k == 0 ? OURS_SQLI : OURS_XSS, ref = k == 0 ? REF_SQLI : REF_XSS;
        for (int i = 0; i < 2; i++) {
            unsigned long h_ours, h_ref;
            double a = measure(&o, sets[i], ours, &h_ours);
            double b = measure(&o, sets[i], ref, &h_ref);
            if (h_ours != h_ref) {
                fprintf(stderr, "bench_injection: answers differ on %s (%lu vs %lu)\n",
                        sets[i]->name, h_ours, h_ref);
                return 1;
            }
            printf("| %s | %s (%lu hits) | %d (%zu) | %.1f | %.1f | %.2f |\n",
                   k == 0 ? "@detectSQLi" : "@detectXSS", sets[i]->name, h_ours, VALUES,
                   sets[i]->bytes, a, b, a / b);
        }
    }
    oracle_close(&o);
    return 0;
}
