/*
 * parapet transform NAMES [VALUE]: what a chain of ModSecurity 2 transformations makes of a
 * value, for someone writing or debugging a rule (`t:urlDecodeUni,t:htmlEntityDecode` is
 * "urlDecodeUni,htmlEntityDecode"). With VALUE, prints the result with bytes outside
 * printable ASCII as \xHH. With --hex instead of VALUE, reads one hex-encoded value per line
 * on stdin and prints each result as one hex line (tests use this to compare with
 * ModSecurity itself).
 */
#include "cli.h"

#include <apr_strings.h>
#include <stdio.h>
#include <string.h>

static void print_escaped(pp_str_t v)
{
    for (apr_size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.data[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    putchar('\n');
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int run_hex_lines(apr_pool_t *p, const char *names)
{
    char line[65536];
    while (fgets(line, sizeof line, stdin)) {
        apr_size_t n = strcspn(line, "\r\n");
        if (n % 2) {
            fprintf(stderr, "parapet transform: odd number of hex digits\n");
            return 2;
        }
        char *bytes = apr_palloc(p, n / 2 + 1);
        for (apr_size_t i = 0; i < n; i += 2) {
            int hi = hex_digit(line[i]), lo = hex_digit(line[i + 1]);
            if (hi < 0 || lo < 0) {
                fprintf(stderr, "parapet transform: not hex: %.*s\n", (int)n, line);
                return 2;
            }
            bytes[i / 2] = (char)(hi << 4 | lo);
        }
        pp_str_t out;
        const char *err = pp_transform(p, names, (pp_str_t){ bytes, n / 2 }, &out);
        if (err) {
            fprintf(stderr, "parapet transform: %s\n", err);
            return 2;
        }
        for (apr_size_t i = 0; i < out.len; i++)
            printf("%02x", (unsigned char)out.data[i]);
        putchar('\n');
    }
    return 0;
}

int pp_cli_transform(apr_pool_t *p, int argc, const char *const *argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: parapet transform NAMES VALUE | parapet transform NAMES --hex\n");
        return 2;
    }
    if (strcmp(argv[1], "--hex") == 0)
        return run_hex_lines(p, argv[0]);
    pp_str_t out;
    const char *err = pp_transform(p, argv[0], (pp_str_t){ argv[1], strlen(argv[1]) }, &out);
    if (err) {
        fprintf(stderr, "parapet transform: %s\n", err);
        return 2;
    }
    print_escaped(out);
    return 0;
}
