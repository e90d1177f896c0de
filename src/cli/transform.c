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

static int run_hex_lines(apr_pool_t *p, const char *names)
{
    apr_pool_t *scratch;
    apr_pool_create(&scratch, p);
    pp_str_t in;
    int got;
    while ((got = pp_cli_read_hex_line(scratch, "transform", &in)) > 0) {
        pp_str_t out;
        const char *err = pp_transform(scratch, names, in, &out);
        if (err) {
            fprintf(stderr, "parapet transform: %s\n", err);
            return 2;
        }
        for (apr_size_t i = 0; i < out.len; i++)
            printf("%02x", (unsigned char)out.data[i]);
        putchar('\n');
        apr_pool_clear(scratch);
    }
    return got < 0 ? 2 : 0;
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
