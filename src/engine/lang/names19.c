/*
 * 1.9 location names (reference §4, §15.2) → targets of the 2.x-shaped model, one row each.
 * Each row also fixes the 1.9 normalisation (§5.1) for the location: raw request data is URL-
 * decoded before matching, values that their parser already decoded are not decoded again
 * (decoding twice would turn %2527 into a quote and cause false positives).
 */
#include "lang/lang.h"
#include "rules/transforms/transforms.h"

#include <apr_lib.h>
#include <assert.h>

#define RAW (PP_N19_URLDECODE | PP_N19_PATH | PP_N19_NULLS)
#define FORM (PP_N19_URLDECODE | PP_N19_PLUS | PP_N19_PATH | PP_N19_NULLS)
#define DEC (PP_N19_PATH | PP_N19_NULLS)
#define NONE 0u

typedef enum { KEEP, UPPER_DASH } sel_style_t;

typedef struct name19_t {
    const char *name;   /* 1.9 name, or prefix when prefix is set */
    bool prefix;        /* NAME_selector form */
    const char *var;    /* internal (2.x) variable */
    const char *label;  /* message location */
    unsigned norm;
    sel_style_t style;  /* how the selector is written in the label */
} name19_t;

/* clang-format off */
static const name19_t names19[] = {
    /* name               prefix var                       label              norm  style */
    { "API_VERSION",       false, "API_VERSION",            "API_VERSION",     NONE, KEEP },
    { "ARGS",              false, "ARGS_COMBINED",          "ARGS",            FORM, KEEP },
    { "ARGS_COUNT",        false, "ARGS_COUNT",             "ARGS_COUNT",      NONE, KEEP },
    { "ARGS_NAMES",        false, "ARGS_NAMES",             "ARGS_NAMES",      DEC,  KEEP },
    { "ARGS_VALUES",       false, "ARGS",                   "ARG",             DEC,  KEEP },
    { "ARG_",              true,  "ARGS",                   "ARG",             DEC,  KEEP },
    { "AUTH_TYPE",         false, "AUTH_TYPE",              "AUTH_TYPE",       NONE, KEEP },
    { "COOKIES",           false, "REQUEST_COOKIES",        "COOKIE",          NONE, KEEP },
    { "COOKIES_COUNT",     false, "COOKIES_COUNT",          "COOKIES_COUNT",   NONE, KEEP },
    { "COOKIES_NAMES",     false, "REQUEST_COOKIES_NAMES",  "COOKIES_NAMES",   NONE, KEEP },
    { "COOKIES_VALUES",    false, "REQUEST_COOKIES",        "COOKIE",          NONE, KEEP },
    { "COOKIE_",           true,  "REQUEST_COOKIES",        "COOKIE",          NONE, KEEP },
    { "DOCUMENT_ROOT",     false, "DOCUMENT_ROOT",          "DOCUMENT_ROOT",   NONE, KEEP },
    { "ENV_",              true,  "ENV",                    "ENV",             NONE, KEEP },
    { "FILES_COUNT",       false, "FILES_COUNT",            "FILES_COUNT",     NONE, KEEP },
    { "FILES_NAMES",       false, "FILES",                  "FILE_NAME",       NONE, KEEP },
    { "FILES_SIZES",       false, "FILES_SIZES",            "FILE_SIZE",       NONE, KEEP },
    { "FILES_TMPNAMES",    false, "FILES_TMPNAMES",         "FILE_TMPNAME",    NONE, KEEP },
    { "FILE_NAME_",        true,  "FILES",                  "FILE_NAME",       NONE, KEEP },
    { "FILE_SIZE_",        true,  "FILES_SIZES",            "FILE_SIZE",       NONE, KEEP },
    { "HEADERS",           false, "REQUEST_HEADERS_LINES",  "HEADER",          RAW,  KEEP },
    { "HEADERS_COUNT",     false, "HEADERS_COUNT",          "HEADERS_COUNT",   NONE, KEEP },
    { "HEADERS_NAMES",     false, "REQUEST_HEADERS_NAMES",  "HEADERS_NAMES",   RAW,  KEEP },
    { "HEADERS_VALUES",    false, "REQUEST_HEADERS",        "HEADER",          RAW,  KEEP },
    { "HEADER_",           true,  "REQUEST_HEADERS",        "HEADER",          RAW,  UPPER_DASH },
    { "HTTP_",             true,  "REQUEST_HEADERS",        "HEADER",          RAW,  UPPER_DASH },
    { "IS_SUBREQ",         false, "IS_SUBREQ",              "IS_SUBREQ",       NONE, KEEP },
    { "OUTPUT",            false, "RESPONSE_BODY",          "OUTPUT",          NONE, KEEP },
    { "OUTPUT_STATUS",     false, "RESPONSE_STATUS",        "OUTPUT_STATUS",   NONE, KEEP },
    { "PATH_INFO",         false, "PATH_INFO",              "PATH_INFO",       RAW,  KEEP },
    { "POST_PAYLOAD",      false, "REQUEST_BODY",           "POST_PAYLOAD",    FORM, KEEP },
    { "QUERY_STRING",      false, "QUERY_STRING",           "QUERY_STRING",    FORM, KEEP },
    { "REMOTE_ADDR",       false, "REMOTE_ADDR",            "REMOTE_ADDR",     NONE, KEEP },
    { "REMOTE_HOST",       false, "REMOTE_HOST",            "REMOTE_HOST",     NONE, KEEP },
    { "REMOTE_IDENT",      false, "REMOTE_IDENT",           "REMOTE_IDENT",    NONE, KEEP },
    { "REMOTE_USER",       false, "REMOTE_USER",            "REMOTE_USER",     NONE, KEEP },
    { "REQUEST_BASENAME",  false, "REQUEST_BASENAME",       "REQUEST_BASENAME", RAW, KEEP },
    { "REQUEST_FILENAME",  false, "SCRIPT_FILENAME",        "REQUEST_FILENAME", NONE, KEEP },
    { "REQUEST_METHOD",    false, "REQUEST_METHOD",         "REQUEST_METHOD",  NONE, KEEP },
    { "REQUEST_URI",       false, "REQUEST_URI",            "REQUEST_URI",     RAW,  KEEP },
    { "SCRIPT_BASENAME",   false, "SCRIPT_BASENAME",        "SCRIPT_BASENAME", NONE, KEEP },
    { "SCRIPT_FILENAME",   false, "SCRIPT_FILENAME",        "SCRIPT_FILENAME", NONE, KEEP },
    { "SCRIPT_GID",        false, "SCRIPT_GID",             "SCRIPT_GID",      NONE, KEEP },
    { "SCRIPT_GROUPNAME",  false, "SCRIPT_GROUPNAME",       "SCRIPT_GROUPNAME", NONE, KEEP },
    { "SCRIPT_MODE",       false, "SCRIPT_MODE",            "SCRIPT_MODE",     NONE, KEEP },
    { "SCRIPT_UID",        false, "SCRIPT_UID",             "SCRIPT_UID",      NONE, KEEP },
    { "SCRIPT_USERNAME",   false, "SCRIPT_USERNAME",        "SCRIPT_USERNAME", NONE, KEEP },
    { "SERVER_ADDR",       false, "SERVER_ADDR",            "SERVER_ADDR",     NONE, KEEP },
    { "SERVER_ADMIN",      false, "SERVER_ADMIN",           "SERVER_ADMIN",    NONE, KEEP },
    { "SERVER_NAME",       false, "SERVER_NAME",            "SERVER_NAME",     NONE, KEEP },
    { "SERVER_PORT",       false, "SERVER_PORT",            "SERVER_PORT",     NONE, KEEP },
    { "SERVER_PROTOCOL",   false, "REQUEST_PROTOCOL",       "SERVER_PROTOCOL", NONE, KEEP },
    { "SERVER_SOFTWARE",   false, "SERVER_SOFTWARE",        "SERVER_SOFTWARE", NONE, KEEP },
    { "THE_REQUEST",       false, "REQUEST_LINE",           "THE_REQUEST",     RAW,  KEEP },
    { "TIME",              false, "TIME",                   "TIME",            NONE, KEEP },
    { "TIME_DAY",          false, "TIME_DAY",               "TIME_DAY",        NONE, KEEP },
    { "TIME_HOUR",         false, "TIME_HOUR",              "TIME_HOUR",       NONE, KEEP },
    { "TIME_MIN",          false, "TIME_MIN",               "TIME_MIN",        NONE, KEEP },
    { "TIME_MON",          false, "TIME_MON",               "TIME_MON",        NONE, KEEP },
    { "TIME_SEC",          false, "TIME_SEC",               "TIME_SEC",        NONE, KEEP },
    { "TIME_WDAY",         false, "TIME_WDAY",              "TIME_WDAY",       NONE, KEEP },
    { "TIME_YEAR",         false, "TIME_YEAR",              "TIME_YEAR",       NONE, KEEP },
};
/* clang-format on */

#define N_NAMES19 (sizeof names19 / sizeof names19[0])

const char *pp_names19_row(apr_size_t i)
{
    return i < N_NAMES19 ? names19[i].name : NULL;
}

/* Exact names win over prefixes (ARGS_NAMES is not ARG_ + "S_NAMES"); among prefixes the
 * longest wins (FILE_NAME_ before FILE_). */
static const name19_t *find19(const char *name, const char **selector)
{
    const name19_t *best = NULL;
    apr_size_t best_len = 0;
    for (apr_size_t i = 0; i < N_NAMES19; i++) {
        const name19_t *n = &names19[i];
        if (!n->prefix) {
            if (strcasecmp(n->name, name) == 0) {
                *selector = NULL;
                return n;
            }
            continue;
        }
        apr_size_t len = strlen(n->name);
        if (len > best_len && strncasecmp(n->name, name, len) == 0 && name[len]) {
            best = n;
            best_len = len;
        }
    }
    *selector = best ? name + best_len : NULL;
    return best;
}

/* HTTP_USER_AGENT looks up User-Agent: underscores stand for dashes (reference §4.2). */
static const char *header_selector(apr_pool_t *cp, const char *sel)
{
    char *s = apr_pstrdup(cp, sel);
    for (char *c = s; *c; c++)
        if (*c == '_')
            *c = '-';
    return s;
}

static const char *label_for(apr_pool_t *cp, const name19_t *n, const char *selector)
{
    if (!selector)
        return n->label;
    if (n->style == UPPER_DASH) {
        char *s = apr_pstrdup(cp, selector);
        for (char *c = s; *c; c++)
            *c = (char)apr_toupper(*c);
        selector = s;
    }
    return apr_psprintf(cp, "%s(\"%s\")", n->label, selector);
}

const char *pp_names19_resolve(apr_pool_t *cp, apr_pool_t *tp, const char *name, bool exclude,
                               const pp_target_t **target, pp_exclusion_t *exclusion)
{
    const char *sel;
    const name19_t *n = find19(name, &sel);
    if (!n)
        return apr_psprintf(tp, "unknown location \"%s\"", name);
    const pp_var_def_t *var = pp_var_find(n->var);
    assert(var);
    if (n->style == UPPER_DASH && sel)
        sel = header_selector(cp, sel);
    if (exclude) {
        if (!sel || !var->family)
            return apr_psprintf(tp, "\"!%s\": only single arguments, cookies or headers "
                                    "(ARG_x, COOKIE_x, HEADER_x) can be excluded", name);
        *exclusion = (pp_exclusion_t){ .family = var->family, .name = apr_pstrdup(cp, sel),
                                       .icase = n->style == UPPER_DASH };
        return NULL;
    }
    pp_target_t t = { 0 };
    t.var = var;
    t.selector = sel ? apr_pstrdup(cp, sel) : NULL;
    t.label = label_for(cp, n, t.selector);
    t.label_names_value = !sel && var->family != NULL && strcmp(n->label, "COOKIES_NAMES") != 0 &&
                          strcmp(n->label, "ARGS_NAMES") != 0 &&
                          strcmp(n->label, "HEADERS_NAMES") != 0;
    t.chain = pp_chain_append_norm19(
        cp, NULL, n->norm, var->family && strcmp(var->family, "REQUEST_COOKIES") == 0);
    t.missing_as_empty = true;
    *target = pp_target_intern(cp, &t);
    return NULL;
}

const pp_target_t *pp_names19_args_pairs(apr_pool_t *cp)
{
    pp_target_t t = { 0 };
    t.var = pp_var_find("ARGS_PAIRS");
    t.label = "ARG";
    t.label_names_value = true;
    t.chain = pp_chain_append_norm19(cp, NULL, DEC, false);
    t.missing_as_empty = true;
    return pp_target_intern(cp, &t);
}
