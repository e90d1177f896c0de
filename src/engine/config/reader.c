/*
 * Configuration files outside Apache (parapet check / eval, tests, fuzzers): the same
 * directive table and setters as the module, so messages are identical, prefixed FILE:LINE.
 * Handles comments, backslash continuation, Include/IncludeOptional (with wildcards, in
 * Apache's order: sorted by name),
 * <IfModule> (ours: mod_security.c / security_module / parapet_module) and containers, whose
 * Sec* directives are checked in a child context but not kept. Other Apache directives are
 * ignored; an unknown Sec* directive is an error.
 */
#include "config/config.h"

#include <apr_fnmatch.h>
#include <apr_lib.h>
#include <stdlib.h>
#include <string.h>

#define PP_MAX_INCLUDE_DEPTH 16
/* Open containers (<IfModule>, <Location>, ...) at once in one file; Apache has no limit, real
 * configurations nest three or four. */
#define PP_MAX_CONTAINER_DEPTH 32

typedef struct reader_t {
    apr_pool_t *cp, *tp;
    int depth;
    const pp_cfg_read_opts_t *opts; /* never NULL */
} reader_t;

static const char *read_file(reader_t *rd, pp_cfg_t *cfg, const char *path);

static bool our_module(const char *name)
{
    return strcmp(name, "mod_security.c") == 0 || strcmp(name, "security_module") == 0 ||
           strcmp(name, "parapet_module") == 0 || strcmp(name, "mod_parapet.c") == 0;
}

/* Returns the next logical line (continuations joined) or NULL at the end; *lineno is the
 * line where it starts. The line is measured before it is copied: sizing the copy by the rest
 * of the file made reading a file quadratic in its lines (CRS: ~100 MB of a temporary pool). */
static char *next_line(apr_pool_t *p, char **cursor, int *lineno, int *next_no)
{
    if (!**cursor)
        return NULL;
    *lineno = *next_no;
    char *s = *cursor, *end = s;
    for (;;) {   /* the copy loop below, without the copy */
        char *eol = strchr(end, '\n');
        apr_size_t n = eol ? (apr_size_t)(eol - end) : strlen(end);
        if (n && end[n - 1] == '\r')
            n--;
        bool cont = n && end[n - 1] == '\\';
        end = eol ? eol + 1 : end + strlen(end);
        if (!cont || !*end)
            break;
    }
    char *out = apr_palloc(p, (apr_size_t)(end - *cursor) + 1), *o = out;
    s = *cursor;
    for (;;) {
        char *eol = strchr(s, '\n');
        apr_size_t n = eol ? (apr_size_t)(eol - s) : strlen(s);
        if (n && s[n - 1] == '\r')
            n--;
        (*next_no)++;
        bool cont = n && s[n - 1] == '\\';
        memcpy(o, s, cont ? n - 1 : n);
        o += cont ? n - 1 : n;
        s = eol ? eol + 1 : s + strlen(s);
        if (!cont || !*s)
            break;
    }
    *o = '\0';
    *cursor = s;
    return out;
}

/* Apache's order for the files a wildcard Include names (ap_process_fnmatch_configs sorts
 * them with strcmp): apr_match_glob gives the directory's order, which for CRS ran
 * REQUEST-932 before REQUEST-901 had set the paranoia level. */
static int name_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *include(reader_t *rd, pp_cfg_t *cfg, const char *base, const char *pattern,
                           bool optional)
{
    const char *path = pattern[0] == '/' ? pattern
                                         : apr_pstrcat(rd->tp, base, "/", pattern, NULL);
    apr_array_header_t *files = NULL;
    if (apr_fnmatch_test(path)) {
        if (apr_match_glob(path, &files, rd->tp) != APR_SUCCESS || files->nelts == 0)
            return optional ? NULL : apr_psprintf(rd->tp, "Include: no file matches \"%s\"", path);
        qsort(files->elts, (size_t)files->nelts, sizeof(const char *), name_order);
        for (int i = 0; i < files->nelts; i++) {
            const char *f = APR_ARRAY_IDX(files, i, const char *);
            const char *full = f[0] == '/' ? f : apr_pstrcat(rd->tp, apr_pstrndup(rd->tp, path,
                                 (apr_size_t)(strrchr(path, '/') - path)), "/", f, NULL);
            const char *err = read_file(rd, cfg, full);
            if (err)
                return err;
        }
        return NULL;
    }
    apr_finfo_t fi;
    if (optional && apr_stat(&fi, path, APR_FINFO_TYPE, rd->tp) != APR_SUCCESS)
        return NULL;
    return read_file(rd, cfg, path);
}

/* Skips to the matching close tag of a container. */
static void skip_block(char **cursor, int *next_no, apr_pool_t *p)
{
    int depth = 1, ln;
    char *line;
    while (depth > 0 && (line = next_line(p, cursor, &ln, next_no))) {
        while (apr_isspace(*line))
            line++;
        if (line[0] == '<' && line[1] == '/')
            depth--;
        else if (line[0] == '<')
            depth++;
    }
}

static const char *container(reader_t *rd, pp_cfg_t **cur, pp_cfg_t *top, char *line,
                             char **cursor, int *next_no, int *stack_kind, int *sp)
{
    if (line[1] == '/') {
        if (*sp == 0)
            return apr_psprintf(rd->tp, "%s without matching open tag", line);
        (*sp)--;
        if (*sp == 0 || stack_kind[*sp - 1] == 0)
            *cur = top;
        return NULL;
    }
    char *name = line + 1, *arg = name;
    while (*arg && !apr_isspace(*arg) && *arg != '>')
        arg++;
    char saved = *arg;
    *arg = '\0';
    char *val = arg + (saved ? 1 : 0);
    while (apr_isspace(*val))
        val++;
    char *end = strrchr(val, '>');
    if (end)
        *end = '\0';
    apr_collapse_spaces(val, val);
    if (*sp >= PP_MAX_CONTAINER_DEPTH)
        return apr_psprintf(rd->tp, "containers nested too deeply (more than %d)",
                            PP_MAX_CONTAINER_DEPTH);
    if (strcasecmp(name, "IfModule") == 0) {
        bool neg = val[0] == '!';
        bool ours = our_module(neg ? val + 1 : val);
        if (ours == neg) {
            skip_block(cursor, next_no, rd->tp);
            return NULL;
        }
        stack_kind[(*sp)++] = (*cur == top) ? 0 : 1;
        return NULL;
    }
    /* <Directory>, <Location>, <VirtualHost>...: check its directives in a throwaway child. */
    stack_kind[(*sp)++] = 1;
    *cur = pp_cfg_create(rd->cp);
    return NULL;
}

static const char *apply_line(reader_t *rd, pp_cfg_t *cfg, const char *path, int ln,
                              const char *dir, char *line, bool in_container)
{
    char *args = line;
    while (*args && !apr_isspace(*args))
        args++;
    if (*args)
        *args++ = '\0';
    if (strcasecmp(line, "Include") == 0 || strcasecmp(line, "IncludeOptional") == 0) {
        int argc;
        char **argv;
        pp_cfg_tokenize(rd->tp, args, &argc, &argv);
        if (argc != 1)
            return "Include takes one argument";
        /* Apache resolves Include against ServerRoot (ap_server_root_relative). */
        return include(rd, cfg, rd->opts->server_root ? rd->opts->server_root : dir, argv[0],
                       strcasecmp(line, "IncludeOptional") == 0);
    }
    const pp_directive_t *d = pp_directive_find(line);
    if (!d) {
        if (strncasecmp(line, "Sec", 3) == 0)
            return apr_psprintf(rd->tp, "Invalid command '%s', perhaps misspelled or defined by a "
                                        "module not included in the server configuration", line);
        return NULL;
    }
    pp_cfg_site_t site = { 0 };
    site.file = path;
    site.line = ln;
    site.server_root = rd->opts->server_root;
    site.in_dir = in_container;
    site.checking_only = rd->opts->check_only;
    site.warn = rd->opts->warn;
    site.warn_ctx = rd->opts->warn_ctx;
    return pp_cfg_apply(cfg, d, args, &site, rd->cp, rd->tp);
}

static const char *read_file(reader_t *rd, pp_cfg_t *cfg, const char *path)
{
    if (++rd->depth > PP_MAX_INCLUDE_DEPTH)
        return apr_psprintf(rd->tp, "%s: Include nested too deeply", path);
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, rd->tp);
    if (rv == APR_SUCCESS)
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv != APR_SUCCESS) {
        char buf[120];
        return apr_psprintf(rd->tp, "%s: cannot read: %s", path, apr_strerror(rv, buf, sizeof buf));
    }
    char *text = apr_palloc(rd->tp, (apr_size_t)fi.size + 1);
    apr_size_t n = (apr_size_t)fi.size;
    rv = apr_file_read_full(f, text, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !(rv == APR_EOF && n == 0 && fi.size == 0)) {
        char buf[120];
        return apr_psprintf(rd->tp, "%s: cannot read: %s", path, apr_strerror(rv, buf, sizeof buf));
    }
    text[n] = '\0';
    const char *dir = apr_pstrndup(rd->tp, path, strrchr(path, '/') ? (apr_size_t)(strrchr(path, '/') - path) : 1);
    if (!strrchr(path, '/'))
        dir = ".";
    char *cursor = text, *line;
    int ln, next_no = 1, stack_kind[PP_MAX_CONTAINER_DEPTH], sp = 0;
    pp_cfg_t *cur = cfg;
    while ((line = next_line(rd->tp, &cursor, &ln, &next_no))) {
        while (apr_isspace(*line))
            line++;
        if (!*line || *line == '#')
            continue;
        const char *err = line[0] == '<'
            ? container(rd, &cur, cfg, line, &cursor, &next_no, stack_kind, &sp)
            : apply_line(rd, cur, path, ln, dir, line, cur != cfg);
        if (err)
            return strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':'
                       ? err : apr_psprintf(rd->tp, "%s:%d: %s", path, ln, err);
    }
    rd->depth--;
    return NULL;
}

const char *pp_cfg_read_file_opts(pp_cfg_t *cfg, const char *path, const pp_cfg_read_opts_t *opts,
                                  apr_pool_t *cp, apr_pool_t *tp)
{
    static const pp_cfg_read_opts_t plain = { 0 };
    reader_t rd = { cp, tp, 0, opts ? opts : &plain };
    const char *err = read_file(&rd, cfg, path);
    if (!err && (err = rd.opts->check_only ? pp_cfg_finish_check(cfg, cp, tp)
                                           : pp_cfg_finish(cfg, cp, tp)) != NULL)
        err = apr_psprintf(tp, "%s: %s", path, err);
    return err;
}

const char *pp_cfg_read_file(pp_cfg_t *cfg, const char *path, apr_pool_t *cp, apr_pool_t *tp)
{
    return pp_cfg_read_file_opts(cfg, path, NULL, cp, tp);
}
