/*
 * parapet: subcommand table (check, eval, help, operator, transform, vars). Exit codes: 0 ok / request passed,
 * 1 request intercepted, 2 usage, configuration or input error.
 */
#include "cli.h"

#include <apr_general.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

typedef struct subcommand_t {
    const char *name;
    int (*run)(apr_pool_t *p, int argc, const char *const *argv);
    const char *usage;
} subcommand_t;

/* clang-format off */
static const subcommand_t commands[] = {
    { "check", pp_cli_check, "check [-d SERVERROOT] CONFIG      validate a configuration as Apache would load it (exit 0 valid, 2 invalid)" },
    { "eval",  pp_cli_eval,  "eval -c CONFIG REQUEST [--response RESPONSE]  verdict as JSON (exit 0 pass, 1 intercepted, 2 error)" },
    { "help",  pp_cli_help,  "help                              list directives" },
    { "operator", pp_cli_operator, "operator NAME ARG VALUE|--hex         run one SecRule operator (@pm, @eq, ...) on a value" },
    { "transform", pp_cli_transform, "transform NAMES VALUE|--hex         apply ModSecurity 2 transformations (t:) to a value" },
    { "vars", pp_cli_vars, "vars -c CONFIG [--processor NAME] REQUEST VAR[:KEY]...  each value as VAR, name, hex" },
};
/* clang-format on */

static void usage(void)
{
    fprintf(stderr, "usage: parapet COMMAND ...\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(stderr, "  parapet %s\n", commands[i].usage);
}

int main(int argc, const char *const *argv)
{
    apr_app_initialize(&argc, &argv, NULL);
    /* A piped audit/guardian log program that exits must not kill us (Apache ignores it too). */
    signal(SIGPIPE, SIG_IGN);
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    const char *err = pp_engine_init(p);
    if (err) {
        fprintf(stderr, "parapet: %s\n", err);
        return 2;
    }
    int rc = 2;
    if (argc < 2) {
        usage();
    } else {
        size_t i;
        for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (strcmp(argv[1], commands[i].name) == 0)
                break;
        if (i == sizeof commands / sizeof commands[0])
            usage();
        else
            rc = commands[i].run(p, argc - 2, argv + 2);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
