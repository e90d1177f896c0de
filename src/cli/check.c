/*
 * parapet check CONFIG and parapet help: the configuration is read with the same directive
 * table and setters as inside Apache, so the messages are the ones `apachectl configtest`
 * prints (with FILE:LINE).
 */
#include "cli.h"

#include <stdio.h>

pp_cfg_t *pp_cli_load_config(apr_pool_t *p, const char *path)
{
    apr_pool_t *tp;
    apr_pool_create(&tp, p);
    pp_cfg_t *cfg = pp_cfg_create(p);
    const char *err = pp_cfg_read_file(cfg, path, p, tp);
    if (err) {
        fprintf(stderr, "%s\n", err);
        cfg = NULL;
    }
    apr_pool_destroy(tp);
    return cfg;
}

int pp_cli_check(apr_pool_t *p, int argc, const char *const *argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: parapet check CONFIG\n");
        return 2;
    }
    if (!pp_cli_load_config(p, argv[0]))
        return 2;
    printf("%s: Syntax OK\n", argv[0]);
    return 0;
}

int pp_cli_help(apr_pool_t *p, int argc, const char *const *argv)
{
    const char *names[] = {
#define PP_DIRECTIVE(name, ...) #name,
#include "config/directives.def"
#undef PP_DIRECTIVE
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const pp_directive_t *d = pp_directive_find(names[i]);
        printf("%-32s %s\n", pp_directive_name(d), pp_directive_help(d));
    }
    return 0;
}
