/*
 * The variable registry: one row per variable of the internal (2.x-shaped) model, sorted by
 * name. 1.9 location names map onto these rows in lang/names19.c. Most rows use a generic
 * collector with `data` saying which transaction field to read.
 */
#include "rules/variables/variables.h"

#include <stddef.h>

#define TX(f) offsetof(pp_tx_t, f)
#define CI(f) offsetof(pp_conn_info_t, f)
#define P1 PP_PHASE_REQUEST_HEADERS
#define P2 PP_PHASE_REQUEST_BODY
#define P3 PP_PHASE_RESPONSE_HEADERS
#define P4 PP_PHASE_RESPONSE_BODY
#define NO PP_SEL_NONE
#define OPT PP_SEL_OPTIONAL
#define REQ PP_SEL_REQUIRED
#define DEC PP_VAR_DECODED

/* clang-format off */
static const pp_var_def_t var_table[] = {
    /* name                    sel  phase collector              data                   flags          family             help */
    { "API_VERSION",           NO,  P1, pp_var_constant,       PP_CONST_API_VERSION,   0,             NULL,              "module API version" },
    { "ARGS",                  OPT, P2, pp_var_fields,         TX(args),               DEC,           "ARGS",            "argument values (query and body)", PP_SRC_ARGS },
    { "ARGS_COMBINED",         NO,  P2, pp_var_tx_str,         TX(args_combined),      0,             NULL,              "1.9 ARGS: query string and body as one string" },
    { "ARGS_COUNT",            NO,  P2, pp_var_field_count,    TX(args),               0,             NULL,              "number of arguments", PP_SRC_ARGS },
    { "ARGS_NAMES",            NO,  P2, pp_var_field_names,    TX(args),               DEC,           "ARGS",            "argument names", PP_SRC_ARGS },
    { "ARGS_PAIRS",            NO,  P2, pp_var_field_pairs,    TX(args),               DEC,           "ARGS",            "each argument as name=value", PP_SRC_ARGS },
    { "AUTH_TYPE",             NO,  P1, pp_var_conn_str,       CI(auth_type),          0,             NULL,              "authentication type" },
    { "COOKIES_COUNT",         NO,  P1, pp_var_field_count,    TX(cookies),            0,             NULL,              "number of cookies" },
    { "DOCUMENT_ROOT",         NO,  P1, pp_var_conn_str,       CI(document_root),      0,             NULL,              "DocumentRoot" },
    { "ENV",                   REQ, P1, pp_var_env,            0,                      PP_VAR_NOCACHE, NULL,             "environment variable" },
    { "FILES",                 OPT, P2, pp_var_files,          PP_FILES_NAMES,         0,             "FILES",           "client file names of uploaded files" },
    { "FILES_COUNT",           NO,  P2, pp_var_files_count,    0,                      0,             NULL,              "number of uploaded files" },
    { "FILES_SIZES",           OPT, P2, pp_var_files,          PP_FILES_SIZES,         0,             "FILES",           "sizes of uploaded files" },
    { "FILES_TMPNAMES",        OPT, P2, pp_var_files,          PP_FILES_TMPNAMES,      0,             "FILES",           "where uploaded files are stored" },
    { "HEADERS_COUNT",         NO,  P1, pp_var_field_count,    TX(headers),            0,             NULL,              "number of request headers" },
    { "IS_SUBREQ",             NO,  P1, pp_var_is_subreq,      0,                      0,             NULL,              "true for a sub-request" },
    { "MATCHED_VAR",           NO,  P1, pp_var_matched,        PP_MATCHED_VALUE,       0,             NULL,              "the value that matched last (as the operator saw it)", PP_SRC_TX },
    { "MATCHED_VAR_NAME",      NO,  P1, pp_var_matched,        PP_MATCHED_NAME,        0,             NULL,              "where the last match was: VARIABLE:name", PP_SRC_TX },
    { "PATH_INFO",             NO,  P1, pp_var_conn_str,       CI(path_info),          0,             NULL,              "extra path after the script" },
    { "QUERY_STRING",          NO,  P1, pp_var_tx_str,         TX(query),              0,             NULL,              "query string" },
    { "REMOTE_ADDR",           NO,  P1, pp_var_conn_str,       CI(client_ip),          0,             NULL,              "client address" },
    { "REMOTE_HOST",           NO,  P1, pp_var_conn_str,       CI(remote_host),        0,             NULL,              "client host name" },
    { "REMOTE_IDENT",          NO,  P1, pp_var_conn_str,       CI(remote_ident),       0,             NULL,              "identd user" },
    { "REMOTE_USER",           NO,  P1, pp_var_conn_str,       CI(remote_user),        0,             NULL,              "authenticated user" },
    { "REQUEST_BASENAME",      NO,  P1, pp_var_basename,       PP_BASENAME_REQUEST,    0,             NULL,              "file name part of the URI path" },
    { "REQUEST_BODY",          NO,  P2, pp_var_tx_str,         TX(request_body),       0,             NULL,              "request body (1.9 POST_PAYLOAD)" },
    { "REQUEST_COOKIES",       OPT, P1, pp_var_fields,         TX(cookies),            0,             "REQUEST_COOKIES", "cookie values" },
    { "REQUEST_COOKIES_NAMES", NO,  P1, pp_var_field_names,    TX(cookies),            0,             "REQUEST_COOKIES", "cookie names" },
    { "REQUEST_HEADERS",       OPT, P1, pp_var_fields_icase,   TX(headers),            0,             "REQUEST_HEADERS", "request header values" },
    { "REQUEST_HEADERS_LINES", NO,  P1, pp_var_field_pairs,    TX(headers),            0,             "REQUEST_HEADERS", "each header as Name: Value" },
    { "REQUEST_HEADERS_NAMES", NO,  P1, pp_var_field_names,    TX(headers),            0,             "REQUEST_HEADERS", "request header names" },
    { "REQUEST_LINE",          NO,  P1, pp_var_tx_str,         TX(request_line),       0,             NULL,              "request line (1.9 THE_REQUEST)" },
    { "REQUEST_METHOD",        NO,  P1, pp_var_tx_str,         TX(method),             0,             NULL,              "method" },
    { "REQUEST_PROTOCOL",      NO,  P1, pp_var_tx_str,         TX(protocol),           0,             NULL,              "protocol" },
    { "REQUEST_URI",           NO,  P1, pp_var_tx_str,         TX(uri),                0,             NULL,              "URI with the query string" },
    { "RESPONSE_BODY",         NO,  P4, pp_var_tx_str,         TX(response_text),      0,             NULL,              "response body (1.9 OUTPUT)" },
    { "RESPONSE_STATUS",       NO,  P3, pp_var_response_status, 0,                     0,             NULL,              "response status (1.9 OUTPUT_STATUS)" },
    { "SCRIPT_BASENAME",       NO,  P1, pp_var_basename,       PP_BASENAME_SCRIPT,     0,             NULL,              "file name part of SCRIPT_FILENAME" },
    { "SCRIPT_FILENAME",       NO,  P1, pp_var_conn_str,       CI(script_filename),    0,             NULL,              "file system path of what is served" },
    { "SCRIPT_GID",            NO,  P1, pp_var_script,         PP_SCRIPT_GID,          0,             NULL,              "group id of the script file" },
    { "SCRIPT_GROUPNAME",      NO,  P1, pp_var_script,         PP_SCRIPT_GROUPNAME,    0,             NULL,              "group name of the script file" },
    { "SCRIPT_MODE",           NO,  P1, pp_var_script,         PP_SCRIPT_MODE,         0,             NULL,              "permissions of the script file (0755)" },
    { "SCRIPT_UID",            NO,  P1, pp_var_script,         PP_SCRIPT_UID,          0,             NULL,              "owner id of the script file" },
    { "SCRIPT_USERNAME",       NO,  P1, pp_var_script,         PP_SCRIPT_USERNAME,     0,             NULL,              "owner name of the script file" },
    { "SERVER_ADDR",           NO,  P1, pp_var_conn_str,       CI(server_ip),          0,             NULL,              "local address" },
    { "SERVER_ADMIN",          NO,  P1, pp_var_conn_str,       CI(server_admin),       0,             NULL,              "ServerAdmin" },
    { "SERVER_NAME",           NO,  P1, pp_var_conn_str,       CI(server_name),        0,             NULL,              "server name" },
    { "SERVER_PORT",           NO,  P1, pp_var_tx_str,         TX(server_port),        0,             NULL,              "local port" },
    { "SERVER_SOFTWARE",       NO,  P1, pp_var_conn_str,       CI(server_software),    0,             NULL,              "server banner" },
    { "TIME",                  NO,  P1, pp_var_time,           PP_TIME_ALL,            0,             NULL,              "YYYYMMDDHHMMSS" },
    { "TIME_DAY",              NO,  P1, pp_var_time,           PP_TIME_DAY,            0,             NULL,              "day of month, 2 digits" },
    { "TIME_HOUR",             NO,  P1, pp_var_time,           PP_TIME_HOUR,           0,             NULL,              "hour, 2 digits" },
    { "TIME_MIN",              NO,  P1, pp_var_time,           PP_TIME_MIN,            0,             NULL,              "minute, 2 digits" },
    { "TIME_MON",              NO,  P1, pp_var_time,           PP_TIME_MON,            0,             NULL,              "month, 2 digits" },
    { "TIME_SEC",              NO,  P1, pp_var_time,           PP_TIME_SEC,            0,             NULL,              "second, 2 digits" },
    { "TIME_WDAY",             NO,  P1, pp_var_time,           PP_TIME_WDAY,           0,             NULL,              "weekday, 0 = Sunday" },
    { "TIME_YEAR",             NO,  P1, pp_var_time,           PP_TIME_YEAR,           0,             NULL,              "year, 4 digits" },
    { "TX",                    OPT, P1, pp_var_tx_coll,        0,                      0,             "TX",              "the transaction's collection (setvar, capture)", PP_SRC_TX },
};
/* clang-format on */

#define N_VARS (sizeof var_table / sizeof var_table[0])

const pp_var_def_t *pp_var_table(apr_size_t *n)
{
    *n = N_VARS;
    return var_table;
}

pp_var_source_t pp_var_source(const pp_var_def_t *def)
{
    if (def->source != PP_SRC_PHASE)
        return def->source;
    if (def->flags & PP_VAR_NOCACHE)
        return PP_SRC_VOLATILE;
    if (def->phase <= PP_PHASE_REQUEST_HEADERS)
        return PP_SRC_REQUEST;
    return def->phase == PP_PHASE_REQUEST_BODY ? PP_SRC_BODY : PP_SRC_RESPONSE;
}

const pp_var_def_t *pp_var_find(const char *name)
{
    apr_size_t lo = 0, hi = N_VARS;
    while (lo < hi) {
        apr_size_t mid = (lo + hi) / 2;
        int c = strcmp(name, var_table[mid].name);
        if (c == 0)
            return &var_table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
