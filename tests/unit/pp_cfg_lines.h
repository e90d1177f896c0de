/*
 * A unit test's configuration from directive lines: text holds one "Name arguments" a line
 * ('\n' between them), and "@TMP@" in the arguments is the test's temp dir. Each line goes
 * through pp_cfg_apply as the reader would apply it (no <Directory>, no virtual host), then
 * pp_cfg_finish. Include after cmocka.h.
 */
#ifndef PP_CFG_LINES_H
#define PP_CFG_LINES_H

#include <string.h>

#include <apr_strings.h>

#include "parapet.h"

/* The first error (a line's, or pp_cfg_finish's), NULL when accepted; *out is the configuration
 * once every line applied. An unknown directive fails the test. */
static inline const char *pp_test_cfg_try(apr_pool_t *cp, const char *text, const char *tmpdir,
                                          pp_cfg_t **out)
{
    pp_cfg_t *cfg = pp_cfg_create(cp);
    char *copy = apr_pstrdup(cp, text), *save = NULL;
    for (char *line = apr_strtok(copy, "\n", &save); line; line = apr_strtok(NULL, "\n", &save)) {
        char *sp = strchr(line, ' ');
        if (!sp)
            fail_msg("no arguments: %s", line);
        *sp = '\0';
        const char *args = sp + 1;
        for (char *at; (at = strstr(args, "@TMP@"));)
            args = apr_psprintf(cp, "%.*s%s%s", (int)(at - args), args, tmpdir, at + 5);
        const pp_directive_t *d = pp_directive_find(line);
        if (!d)
            fail_msg("unknown directive %s", line);
        pp_cfg_site_t site = { 0 };
        const char *err = pp_cfg_apply(cfg, d, args, &site, cp, cp);
        if (err)
            return err;
    }
    *out = cfg;
    return pp_cfg_finish(cfg, cp, cp);
}

/* The configuration; any error fails the test. */
static inline pp_cfg_t *pp_test_cfg_make(apr_pool_t *cp, const char *text, const char *tmpdir)
{
    pp_cfg_t *cfg = NULL;
    const char *err = pp_test_cfg_try(cp, text, tmpdir, &cfg);
    if (err)
        fail_msg("configuration: %s", err);
    return cfg;
}

#endif
