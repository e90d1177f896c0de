/*
 * Shared between the request body dispatch (dispatch.c) and the processors in files of their
 * own (dispatch_structured.c). Internal to body/.
 */
#ifndef PP_BODY_DISPATCH_H
#define PP_BODY_DISPATCH_H

#include "tx.h"

/* SecRequestBodyNoFilesLimit in force, and the 413 for form data past it. */
apr_int64_t pp_body_nofiles_limit(const pp_tx_t *tx);
void pp_body_refuse_nofiles(pp_tx_t *tx, apr_off_t seen);

/* JSON and XML processors (rows of dispatch.c's table). */
apr_status_t pp_body_json_begin(pp_tx_t *tx);
apr_status_t pp_body_json_feed(pp_tx_t *tx, const char *data, apr_size_t len);
apr_status_t pp_body_json_finish(pp_tx_t *tx);
apr_status_t pp_body_xml_begin(pp_tx_t *tx);
apr_status_t pp_body_xml_finish(pp_tx_t *tx);

#endif
