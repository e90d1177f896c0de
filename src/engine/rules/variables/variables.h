/*
 * Variable family: the collectors the variable table points at. Generic collectors read a
 * field of the transaction (data = offsetof) so most variables need no function of their own.
 */
#ifndef PP_VARIABLES_H
#define PP_VARIABLES_H

#include "tx.h"

/* A 2.x target (lang/secrule.c, macros): selectors match member names ignoring case, as
 * ModSecurity 2.9 does for every collection (ARGS:y finds Y, FILES:F finds f); a 1.9 one
 * (ARG_y, COOKIE_x) compares them exactly. Some values differ by language too (REQUEST_BODY). */
static inline bool pp_var_lang2(const pp_target_t *t)
{
    return t->label_colon;
}

apr_status_t pp_var_tx_str(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_conn_str(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_fields(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_fields_icase(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_field_names(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_field_count(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_field_pairs(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_none(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_constant(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_env(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_time(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_script(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_request_path(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_basename(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_files(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_files_count(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_response_status(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_is_subreq(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);

apr_status_t pp_var_tx_coll(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
/* persist.c: IP, SESSION, USER, GLOBAL, RESOURCE (data = pp_pcoll_id_t), and SESSIONID, USERID
 * (data = PP_PCOLL_*ID). */
apr_status_t pp_var_pcoll(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_pcoll_id(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
enum { PP_PCOLL_SESSIONID, PP_PCOLL_USERID };
apr_status_t pp_var_matched(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_matched_vars(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_highest_severity(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_rule(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
/* collect2.c: the 2.x variables (spec §6). */
apr_status_t pp_var_args_origin(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_args_size(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_files_names(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_files_size(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_reqbody(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_multipart_flag(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_response_header(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_cstr(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_number(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_xml(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_request_body(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_response_protocol(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_webappid(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
apr_status_t pp_var_full_request(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out);
/* REQBODY_PROCESSOR's value: "URLENCODED", "MULTIPART", "JSON", "XML" or "". */
const char *pp_reqbody_processor_name(const pp_tx_t *tx);

/* Selector values for the collectors that take an enum in `data`. */
enum { PP_TIME_ALL, PP_TIME_YEAR, PP_TIME_MON, PP_TIME_DAY, PP_TIME_HOUR, PP_TIME_MIN, PP_TIME_SEC,
       PP_TIME_WDAY };
enum { PP_SCRIPT_UID, PP_SCRIPT_GID, PP_SCRIPT_USERNAME, PP_SCRIPT_GROUPNAME, PP_SCRIPT_MODE };
enum { PP_FILES_NAMES, PP_FILES_SIZES, PP_FILES_TMPNAMES };
enum { PP_BASENAME_SCRIPT, PP_BASENAME_REQUEST };
enum { PP_PATH_URI, PP_PATH_FILENAME };
enum { PP_CONST_API_VERSION, PP_CONST_ZERO, PP_CONST_MODSEC_BUILD };
enum { PP_MATCHED_VALUE, PP_MATCHED_NAME };
enum { PP_ARGS_GET = 0, PP_ARGS_POST = 1, PP_ARGS_NAMES_BIT = 2 };
enum { PP_REQBODY_PROCESSOR, PP_REQBODY_ERROR, PP_REQBODY_ERROR_MSG };
enum { PP_RESP_CONTENT_TYPE, PP_RESP_CONTENT_LENGTH };
enum { PP_NUM_REMOTE_PORT, PP_NUM_BODY_LENGTH, PP_NUM_DURATION, PP_NUM_EPOCH,
       PP_NUM_OUTBOUND_ERROR, PP_NUM_URLENCODED_ERROR };

#endif
