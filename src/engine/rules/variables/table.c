/*
 * The variable registry: one row per variable of the internal (2.x-shaped) model, sorted by
 * name. 1.9 location names map onto these rows in lang/names19.c. Most rows use a generic
 * collector with `data` saying which transaction field to read.
 */
#include "body/multipart.h"
#include "rules/variables/variables.h"
#include "store/store.h"

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
#define VOL PP_VAR_NOCACHE
#define FULL PP_VAR_FULL_NAMES
#define MP(f) pp_var_multipart_flag, PP_MP_##f, 0, NULL
/* MULTIPART_STRICT_ERROR as 2.9.7 reckons it: every irregularity but CRLF_LF_LINES and
 * UNMATCHED_BOUNDARY, and BOUNDARY_QUOTED although that one is harmless (spec §6.5). */
#define MP_STRICT ((PP_MP_STRICT_MASK | PP_MP_BOUNDARY_QUOTED) & ~(PP_MP_CRLF_LF_LINES | PP_MP_UNMATCHED_BOUNDARY))

/* clang-format off */
static const pp_var_def_t var_table[] = {
    /* name                    sel  phase collector              data                   flags          family             help */
    { "API_VERSION",           NO,  P1, pp_var_constant,       PP_CONST_API_VERSION,   0,             NULL,              "module API version" },
    { "ARGS",                  OPT, P2, pp_var_fields,         TX(args),               DEC,           "ARGS",            "argument values (query and body)", PP_SRC_ARGS },
    { "ARGS_COMBINED",         NO,  P2, pp_var_tx_str,         TX(args_combined),      0,             NULL,              "1.9 ARGS: query string and body as one string" },
    { "ARGS_COMBINED_SIZE",    NO,  P2, pp_var_args_size,      0,                      0,             NULL,              "total length of argument names and values", PP_SRC_ARGS },
    { "ARGS_COUNT",            NO,  P2, pp_var_field_count,    TX(args),               0,             NULL,              "number of arguments", PP_SRC_ARGS },
    { "ARGS_GET",              OPT, P1, pp_var_args_origin,    PP_ARGS_GET,            DEC,           "ARGS_GET",        "query-string argument values", PP_SRC_ARGS },
    { "ARGS_GET_NAMES",        OPT, P1, pp_var_args_origin,    PP_ARGS_GET | PP_ARGS_NAMES_BIT, DEC,  "ARGS_GET",        "query-string argument names", PP_SRC_ARGS },
    { "ARGS_NAMES",            OPT, P2, pp_var_field_names,    TX(args),               DEC,           "ARGS",            "argument names", PP_SRC_ARGS },
    { "ARGS_PAIRS",            NO,  P2, pp_var_field_pairs,    TX(args),               DEC,           "ARGS",            "each argument as name=value", PP_SRC_ARGS },
    { "ARGS_POST",             OPT, P2, pp_var_args_origin,    PP_ARGS_POST,           DEC,           "ARGS_POST",       "urlencoded and multipart body argument values", PP_SRC_ARGS },
    { "ARGS_POST_NAMES",       OPT, P2, pp_var_args_origin,    PP_ARGS_POST | PP_ARGS_NAMES_BIT, DEC, "ARGS_POST",       "urlencoded and multipart body argument names", PP_SRC_ARGS },
    { "AUTH_TYPE",             NO,  P1, pp_var_conn_str,       CI(auth_type),          0,             NULL,              "authentication type" },
    { "COOKIES_COUNT",         NO,  P1, pp_var_field_count,    TX(cookies),            0,             NULL,              "number of cookies" },
    { "DOCUMENT_ROOT",         NO,  P1, pp_var_conn_str,       CI(document_root),      0,             NULL,              "DocumentRoot" },
    { "DURATION",              NO,  P1, pp_var_number,         PP_NUM_DURATION,        VOL,           NULL,              "microseconds since the request started" },
    { "ENV",                   REQ, P1, pp_var_env,            0,                      PP_VAR_NOCACHE, NULL,             "environment variable" },
    { "FILES",                 OPT, P2, pp_var_files,          PP_FILES_NAMES,         0,             "FILES",           "client file names of uploaded files" },
    { "FILES_COMBINED_SIZE",   NO,  P2, pp_var_files_size,     0,                      0,             NULL,              "total size of uploaded files" },
    { "FILES_COUNT",           NO,  P2, pp_var_files_count,    0,                      0,             NULL,              "number of uploaded files" },
    { "FILES_NAMES",           NO,  P2, pp_var_files_names,    0,                      0,             "FILES",           "form field names of uploaded files" },
    { "FILES_SIZES",           OPT, P2, pp_var_files,          PP_FILES_SIZES,         0,             "FILES",           "sizes of uploaded files" },
    { "FILES_TMPNAMES",        OPT, P2, pp_var_files,          PP_FILES_TMPNAMES,      0,             "FILES",           "where uploaded files are stored" },
    { "FULL_REQUEST",          NO,  P2, pp_var_full_request,   0,                      0,             NULL,              "request line, headers and in-memory body" },
    { "FULL_REQUEST_LENGTH",   NO,  P2, pp_var_full_request,   1,                      0,             NULL,              "length of FULL_REQUEST plus one (ModSecurity counts its NUL)" },
    { "GEO",                   OPT, P1, pp_var_fields_icase,   TX(geo),                0,             "GEO",             "country_code, country_code3, country_name, country_continent, region, city, postal_code, latitude, longitude, dma_code, area_code of the last successful @geoLookup", PP_SRC_TX },
    { "GLOBAL",                REQ, P1, pp_var_pcoll,          PP_PCOLL_GLOBAL,        0,             "GLOBAL",          "the GLOBAL persistent collection (initcol:global=...)", PP_SRC_TX },
    { "HEADERS_COUNT",         NO,  P1, pp_var_field_count,    TX(headers),            0,             NULL,              "number of request headers" },
    { "HIGHEST_SEVERITY",      NO,  P1, pp_var_highest_severity, 0,                    0,             NULL,              "lowest severity number of a matched 2.x rule (255: none)", PP_SRC_TX },
    { "INBOUND_DATA_ERROR",    NO,  P2, pp_var_constant,       PP_CONST_ZERO,          0,             NULL,              "0: a body past SecRequestBodyLimit is refused (413) before any rule" },
    { "IP",                    REQ, P1, pp_var_pcoll,          PP_PCOLL_IP,            0,             "IP",              "the IP persistent collection (initcol:ip=...)", PP_SRC_TX },
    { "IS_SUBREQ",             NO,  P1, pp_var_is_subreq,      0,                      0,             NULL,              "true for a sub-request" },
    { "MATCHED_VAR",           NO,  P1, pp_var_matched,        PP_MATCHED_VALUE,       0,             NULL,              "the value that matched last (as the operator saw it)", PP_SRC_TX },
    { "MATCHED_VARS",          OPT, P1, pp_var_matched_vars,   PP_MATCHED_VALUE,       FULL,          NULL,              "values the current 2.x rule (chain) matched so far", PP_SRC_VOLATILE },
    { "MATCHED_VARS_NAMES",    OPT, P1, pp_var_matched_vars,   PP_MATCHED_NAME,        FULL,          NULL,              "names of the values the current 2.x rule (chain) matched", PP_SRC_VOLATILE },
    { "MATCHED_VAR_NAME",      NO,  P1, pp_var_matched,        PP_MATCHED_NAME,        0,             NULL,              "where the last match was: VARIABLE:name", PP_SRC_TX },
    { "MODSEC_BUILD",          NO,  P1, pp_var_constant,       PP_CONST_MODSEC_BUILD,  0,             NULL,              "the ModSecurity build whose language is spoken: 2.9.7 (020907900)" },
    { "MULTIPART_BOUNDARY_QUOTED", NO, P2, MP(BOUNDARY_QUOTED),      "1: boundary parameter in quotes" },
    { "MULTIPART_BOUNDARY_WHITESPACE", NO, P2, MP(BOUNDARY_WHITESPACE), "1: white space around the boundary parameter" },
    { "MULTIPART_CRLF_LF_LINES", NO,  P2, MP(CRLF_LF_LINES),        "1: CRLF and bare LF line ends mixed" },
    { "MULTIPART_CRLF_LINE",   NO,  P2, pp_var_multipart_flag, 0,                      0,             NULL,              "1: CRLF line ends (data 0: not a parser flag)" },
    { "MULTIPART_DATA_AFTER",  NO,  P2, MP(DATA_AFTER),           "1: data after the last boundary" },
    { "MULTIPART_DATA_BEFORE", NO,  P2, MP(DATA_BEFORE),          "1: data before the first boundary" },
    { "MULTIPART_FILENAME",    NO,  P2, pp_var_tx_str,         TX(mp_filename),        0,             NULL,              "the last file name a part gave", PP_SRC_BODY },
    { "MULTIPART_FILE_LIMIT_EXCEEDED", NO, P2, MP(PART_LIMIT_EXCEEDED), "1: more parts than the parser allows" },
    { "MULTIPART_HEADER_FOLDING", NO, P2, MP(HEADER_FOLDING),       "1: folded part header" },
    { "MULTIPART_INVALID_HEADER_FOLDING", NO, P2, MP(INVALID_HEADER_FOLDING), "1: continuation line with nothing to fold" },
    { "MULTIPART_INVALID_PART", NO,  P2, MP(INVALID_PART),         "1: part without proper headers or ending" },
    { "MULTIPART_INVALID_QUOTING", NO, P2, MP(INVALID_QUOTING),     "1: bad quoting in Content-Disposition" },
    { "MULTIPART_LF_LINE",     NO,  P2, MP(LF_LINE),              "1: bare LF line ends" },
    { "MULTIPART_MISSING_SEMICOLON", NO, P2, MP(MISSING_SEMICOLON), "1: parameters without semicolons" },
    { "MULTIPART_NAME",        NO,  P2, pp_var_tx_str,         TX(mp_name),            0,             NULL,              "the last part's name", PP_SRC_BODY },
    { "MULTIPART_PART_HEADERS", OPT, P2, pp_var_fields,        TX(mp_part_headers),    0,             "MULTIPART_PART_HEADERS", "each header line of each part, named by the part", PP_SRC_BODY },
    { "MULTIPART_STRICT_ERROR", NO,  P2, pp_var_multipart_flag, MP_STRICT, 0,                    NULL,              "1: any multipart irregularity ModSecurity counts as strict" },
    { "MULTIPART_UNMATCHED_BOUNDARY", NO, P2, MP(BOUNDARY_LIKE_LINE), "1: a line starting with -- that is not a delimiter, or --boundary inside a line (ModSecurity's test)" },
    { "OUTBOUND_DATA_ERROR",   NO,  P4, pp_var_number,         PP_NUM_OUTBOUND_ERROR,  0,             NULL,              "1: response body past SecResponseBodyLimit" },
    { "PATH_INFO",             NO,  P1, pp_var_conn_str,       CI(path_info),          0,             NULL,              "extra path after the script" },
    { "QUERY_STRING",          NO,  P1, pp_var_tx_str,         TX(query),              0,             NULL,              "query string" },
    { "REMOTE_ADDR",           NO,  P1, pp_var_conn_str,       CI(client_ip),          0,             NULL,              "client address" },
    { "REMOTE_HOST",           NO,  P1, pp_var_conn_str,       CI(remote_host),        0,             NULL,              "client host name" },
    { "REMOTE_IDENT",          NO,  P1, pp_var_conn_str,       CI(remote_ident),       0,             NULL,              "identd user" },
    { "REMOTE_PORT",           NO,  P1, pp_var_number,         PP_NUM_REMOTE_PORT,     0,             NULL,              "client port" },
    { "REMOTE_USER",           NO,  P1, pp_var_conn_str,       CI(remote_user),        0,             NULL,              "authenticated user" },
    { "REQBODY_ERROR",         NO,  P2, pp_var_reqbody,        PP_REQBODY_ERROR,       0,             NULL,              "1: the body processor failed" },
    { "REQBODY_ERROR_MSG",     NO,  P2, pp_var_reqbody,        PP_REQBODY_ERROR_MSG,   0,             NULL,              "the body processor's error message" },
    { "REQBODY_PROCESSOR",     NO,  P1, pp_var_reqbody,        PP_REQBODY_PROCESSOR,   0,             NULL,              "URLENCODED, MULTIPART, JSON, XML or empty", PP_SRC_BODY },
    { "REQBODY_PROCESSOR_ERROR", NO, P2, pp_var_reqbody,        PP_REQBODY_ERROR,       0,             NULL,              "alias of REQBODY_ERROR" },
    { "REQBODY_PROCESSOR_ERROR_MSG", NO, P2, pp_var_reqbody,    PP_REQBODY_ERROR_MSG,   0,             NULL,              "alias of REQBODY_ERROR_MSG" },
    { "REQUEST_BASENAME",      NO,  P1, pp_var_basename,       PP_BASENAME_REQUEST,    0,             NULL,              "file name part of the URI path" },
    { "REQUEST_BODY",          NO,  P2, pp_var_request_body,   0,                      0,             NULL,              "urlencoded request body (1.9 POST_PAYLOAD: any body)" },
    { "REQUEST_BODY_LENGTH",   NO,  P2, pp_var_number,         PP_NUM_BODY_LENGTH,     0,             NULL,              "bytes of request body read" },
    { "REQUEST_COOKIES",       OPT, P1, pp_var_fields,         TX(cookies),            0,             "REQUEST_COOKIES", "cookie values" },
    { "REQUEST_COOKIES_NAMES", OPT, P1, pp_var_field_names,    TX(cookies),            0,             "REQUEST_COOKIES", "cookie names" },
    { "REQUEST_FILENAME",      NO,  P1, pp_var_request_path,   PP_PATH_FILENAME,       0,             NULL,              "URI path without the query string (2.x: decoded by Apache from phase 2)" },
    { "REQUEST_HEADERS",       OPT, P1, pp_var_fields_icase,   TX(headers),            0,             "REQUEST_HEADERS", "request header values" },
    { "REQUEST_HEADERS_LINES", NO,  P1, pp_var_field_pairs,    TX(headers),            0,             "REQUEST_HEADERS", "each header as Name: Value" },
    { "REQUEST_HEADERS_NAMES", OPT, P1, pp_var_field_names,    TX(headers),            0,             "REQUEST_HEADERS", "request header names" },
    { "REQUEST_LINE",          NO,  P1, pp_var_tx_str,         TX(request_line),       0,             NULL,              "request line (1.9 THE_REQUEST)" },
    { "REQUEST_METHOD",        NO,  P1, pp_var_tx_str,         TX(method),             0,             NULL,              "method" },
    { "REQUEST_PROTOCOL",      NO,  P1, pp_var_tx_str,         TX(protocol),           0,             NULL,              "protocol" },
    { "REQUEST_URI",           NO,  P1, pp_var_request_path,   PP_PATH_URI,            0,             NULL,              "URI with the query string (2.x: path decoded by Apache from phase 2)" },
    { "REQUEST_URI_RAW",       NO,  P1, pp_var_tx_str,         TX(uri),                0,             NULL,              "URI as the client sent it" },
    { "RESOURCE",              REQ, P1, pp_var_pcoll,          PP_PCOLL_RESOURCE,      0,             "RESOURCE",        "the RESOURCE persistent collection (setrsc)", PP_SRC_TX },
    { "RESPONSE_BODY",         NO,  P4, pp_var_tx_str,         TX(response_text),      0,             NULL,              "response body (1.9 OUTPUT)" },
    { "RESPONSE_CONTENT_LENGTH", NO, P3, pp_var_response_header, PP_RESP_CONTENT_LENGTH, 0,            NULL,              "response Content-Length header" },
    { "RESPONSE_CONTENT_TYPE", NO,  P3, pp_var_response_header, PP_RESP_CONTENT_TYPE,  0,             NULL,              "response Content-Type header" },
    { "RESPONSE_HEADERS",      OPT, P3, pp_var_fields_icase,   TX(response_headers),   0,             "RESPONSE_HEADERS", "response header values" },
    { "RESPONSE_HEADERS_NAMES", OPT, P3, pp_var_field_names,    TX(response_headers),   0,             "RESPONSE_HEADERS", "response header names" },
    { "RESPONSE_PROTOCOL",     NO,  P3, pp_var_response_protocol, 0,                   0,             NULL,              "protocol of the response: HTTP/1.1 (HTTP/1.0 with force-response-1.0)" },
    { "RESPONSE_STATUS",       NO,  P3, pp_var_response_status, 0,                     0,             NULL,              "response status (1.9 OUTPUT_STATUS)" },
    { "RULE",                  REQ, P1, pp_var_rule,           0,                      0,             NULL,              "the current 2.x rule's id, rev, severity, msg, logdata, ver, maturity, accuracy", PP_SRC_VOLATILE },
    { "SCRIPT_BASENAME",       NO,  P1, pp_var_basename,       PP_BASENAME_SCRIPT,     0,             NULL,              "file name part of SCRIPT_FILENAME" },
    { "SCRIPT_FILENAME",       NO,  P1, pp_var_conn_str,       CI(script_filename),    0,             NULL,              "file system path of what is served" },
    { "SCRIPT_GID",            NO,  P1, pp_var_script,         PP_SCRIPT_GID,          0,             NULL,              "group id of the script file" },
    { "SCRIPT_GROUPNAME",      NO,  P1, pp_var_script,         PP_SCRIPT_GROUPNAME,    0,             NULL,              "group name of the script file" },
    { "SCRIPT_MODE",           NO,  P1, pp_var_script,         PP_SCRIPT_MODE,         0,             NULL,              "permissions of the script file (0755)" },
    { "SCRIPT_UID",            NO,  P1, pp_var_script,         PP_SCRIPT_UID,          0,             NULL,              "owner id of the script file" },
    { "SCRIPT_USERNAME",       NO,  P1, pp_var_script,         PP_SCRIPT_USERNAME,     0,             NULL,              "owner name of the script file" },
    { "SDBM_DELETE_ERROR",     NO,  P1, pp_var_constant,       PP_CONST_ZERO,          0,             NULL,              "0: ModSecurity's SDBM store errors (no SDBM here)" },
    { "SERVER_ADDR",           NO,  P1, pp_var_conn_str,       CI(server_ip),          0,             NULL,              "local address" },
    { "SERVER_ADMIN",          NO,  P1, pp_var_conn_str,       CI(server_admin),       0,             NULL,              "ServerAdmin" },
    { "SERVER_NAME",           NO,  P1, pp_var_conn_str,       CI(server_name),        0,             NULL,              "server name" },
    { "SERVER_PORT",           NO,  P1, pp_var_tx_str,         TX(server_port),        0,             NULL,              "local port" },
    { "SERVER_SOFTWARE",       NO,  P1, pp_var_conn_str,       CI(server_software),    0,             NULL,              "server banner" },
    { "SESSION",               REQ, P1, pp_var_pcoll,          PP_PCOLL_SESSION,       0,             "SESSION",         "the SESSION persistent collection (setsid)", PP_SRC_TX },
    { "SESSIONID",             NO,  P1, pp_var_pcoll_id,       PP_PCOLL_SESSIONID,     0,             NULL,              "the key setsid gave SESSION", PP_SRC_TX },
    { "STATUS_LINE",           NO,  P3, pp_var_cstr,           TX(status_line),        0,             NULL,              "response status line" },
    { "TIME",                  NO,  P1, pp_var_time,           PP_TIME_ALL,            0,             NULL,              "YYYYMMDDHHMMSS" },
    { "TIME_DAY",              NO,  P1, pp_var_time,           PP_TIME_DAY,            0,             NULL,              "day of month, 2 digits" },
    { "TIME_EPOCH",            NO,  P1, pp_var_number,         PP_NUM_EPOCH,           VOL,           NULL,              "seconds since 1970" },
    { "TIME_HOUR",             NO,  P1, pp_var_time,           PP_TIME_HOUR,           0,             NULL,              "hour, 2 digits" },
    { "TIME_MIN",              NO,  P1, pp_var_time,           PP_TIME_MIN,            0,             NULL,              "minute, 2 digits" },
    { "TIME_MON",              NO,  P1, pp_var_time,           PP_TIME_MON,            0,             NULL,              "month, 2 digits" },
    { "TIME_SEC",              NO,  P1, pp_var_time,           PP_TIME_SEC,            0,             NULL,              "second, 2 digits" },
    { "TIME_WDAY",             NO,  P1, pp_var_time,           PP_TIME_WDAY,           0,             NULL,              "weekday, 0 = Sunday" },
    { "TIME_YEAR",             NO,  P1, pp_var_time,           PP_TIME_YEAR,           0,             NULL,              "year, 4 digits" },
    { "TX",                    OPT, P1, pp_var_tx_coll,        0,                      0,             "TX",              "the transaction's collection (setvar, capture)", PP_SRC_TXCOLL },
    { "UNIQUE_ID",             NO,  P1, pp_var_cstr,           TX(unique_id),          0,             NULL,              "the transaction's unique id" },
    { "URLENCODED_ERROR",      NO,  P1, pp_var_number,         PP_NUM_URLENCODED_ERROR, 0,            NULL,              "1: an invalid %-escape in the query string or urlencoded body", PP_SRC_ARGS },
    { "USER",                  REQ, P1, pp_var_pcoll,          PP_PCOLL_USER,          0,             "USER",            "the USER persistent collection (setuid)", PP_SRC_TX },
    { "USERAGENT_IP",          NO,  P1, pp_var_conn_str,       CI(client_ip),          0,             NULL,              "client address (after mod_remoteip)" },
    { "USERID",                NO,  P1, pp_var_pcoll_id,       PP_PCOLL_USERID,        0,             NULL,              "the key setuid gave USER", PP_SRC_TX },
    { "WEBAPPID",              NO,  P1, pp_var_webappid,       0,                      0,             NULL,              "SecWebAppId (default: default)" },
    { "XML",                   OPT, P2, pp_var_xml,            0,                      0,             NULL,              "XPath over the XML body (ctl:requestBodyProcessor=XML)", PP_SRC_BODY },
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
