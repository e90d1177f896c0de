/*
 * One hex-encoded value per line on stdin: how `parapet transform --hex` and `parapet operator
 * --hex` take values from tests that compare them with ModSecurity (any byte survives).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "util/util.h"

#define HEX_LINE_MAX (1u << 20)

int pp_cli_read_hex_line(apr_pool_t *p, const char *who, pp_str_t *out)
{
    char *line = apr_palloc(p, HEX_LINE_MAX);
    if (!fgets(line, HEX_LINE_MAX, stdin))
        return 0;
    apr_size_t n = strcspn(line, "\r\n");
    if (n % 2) {
        fprintf(stderr, "parapet %s: odd number of hex digits\n", who);
        return -1;
    }
    char *bytes = apr_palloc(p, n / 2 + 1);
    for (apr_size_t i = 0; i < n; i += 2) {
        int b = pp_hex_pair(line + i);
        if (b < 0) {
            fprintf(stderr, "parapet %s: not hex: %.*s\n", who, (int)n, line);
            return -1;
        }
        bytes[i / 2] = (char)b;
    }
    *out = (pp_str_t){ bytes, n / 2 };
    return 1;
}
