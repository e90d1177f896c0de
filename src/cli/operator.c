/*
 * parapet operator NAME ARG [VALUE | --hex]: what one SecRule operator row says of a value,
 * for someone writing or debugging a rule (`parapet operator pm "foo bar" "xFOOx"`). With
 * VALUE, prints "match DATA" (DATA: what the operator reports as matched, bytes outside
 * printable ASCII as \xHH) or "no match". With --hex, reads one hex-encoded value per line on
 * stdin and prints "1 HEXDATA" or "0" per line (tests compare this with ModSecurity itself).
 * A relative file argument (@pmFromFile) is relative to the working directory. Exit 2 when
 * the argument is refused, with ModSecurity's message.
 */
#include "cli.h"

#include <apr_strings.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "rules/operators/operators.h"
#include "tx.h"

static int run(pp_tx_t *tx, const pp_op_def_t *def, const void *c, pp_str_t v, bool hex)
{
    bool match = false;
    pp_op_out_t out = { .want_captures = false };
    if (def->exec(tx, c, v, &match, &out) != APR_SUCCESS) {
        fprintf(stderr, "parapet operator: the operator could not decide (a limit)\n");
        return 2;
    }
    if (hex) {
        if (match) {
            printf("1 ");
            for (apr_size_t i = 0; i < out.data.len; i++)
                printf("%02x", (unsigned char)out.data.data[i]);
        } else {
            putchar('0');
        }
    } else if (match) {
        printf("match ");
        for (apr_size_t i = 0; i < out.data.len; i++) {
            unsigned char ch = (unsigned char)out.data.data[i];
            if (ch >= 0x20 && ch < 0x7f && ch != '\\')
                putchar(ch);
            else
                printf("\\x%02x", ch);
        }
    } else {
        printf("no match");
    }
    putchar('\n');
    return 0;
}

int pp_cli_operator(apr_pool_t *p, int argc, const char *const *argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: parapet operator NAME ARG VALUE | parapet operator NAME ARG --hex\n");
        return 2;
    }
    const char *name = argv[0][0] == '@' ? argv[0] + 1 : argv[0];
    const pp_op_def_t *def = pp_op_find(name);
    if (!def) {
        fprintf(stderr, "parapet operator: unknown operator \"%s\"\n", name);
        return 2;
    }
    void *c = NULL;
    const char *err = def->parse(p, argv[1], &c);
    if (err) {
        fprintf(stderr, "parapet operator: %s\n", err);
        return 2;
    }
    pp_tx_t *tx = pp_tx_create(pp_cfg_create(p), p, "cli");
    if (strcmp(argv[2], "--hex") != 0)
        return run(tx, def, c, (pp_str_t){ argv[2], strlen(argv[2]) }, false);
    apr_pool_t *scratch;
    apr_pool_create(&scratch, p);
    pp_str_t in;
    int got;
    while ((got = pp_cli_read_hex_line(scratch, "operator", &in)) > 0) {
        int rc = run(tx, def, c, in, true);
        if (rc)
            return rc;
        apr_pool_clear(scratch);
    }
    return got < 0 ? 2 : 0;
}
