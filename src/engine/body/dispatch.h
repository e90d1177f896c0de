/*
 * Shared between the request body dispatch (dispatch.c) and the processors in files of their
 * own (dispatch_structured.c, dispatch_multipart.c). Internal to body/.
 */
#ifndef PP_BODY_DISPATCH_H
#define PP_BODY_DISPATCH_H

#include "body/charset.h"
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

/* The multipart processor (dispatch_multipart.c); check: called by the feed, it refuses the
 * body with 413 once its form data (all but file contents) passes SecRequestBodyNoFilesLimit. */
apr_status_t pp_body_multipart_begin(pp_tx_t *tx);
apr_status_t pp_body_multipart_feed(pp_tx_t *tx, const char *data, apr_size_t len);
apr_status_t pp_body_multipart_finish(pp_tx_t *tx);
apr_status_t pp_body_multipart_check(pp_tx_t *tx);

/* Shared by the processors (dispatch.c): the body the rules see (1.9's ARGS is the query and
 * the body as one string), a field decoded from its declared charset appended to the
 * arguments, and the 400 for a charset problem. */
void pp_body_set_payload(pp_tx_t *tx, pp_str_t payload);
const char *pp_body_add_decoded(pp_tx_t *tx, pp_charset_conv_t *conv, int i, int mark,
                                const char *name_cs, const char *value_cs);
void pp_body_refuse_charset(pp_tx_t *tx, const char *why);

#endif
