/*
 * What the targets that load configurations or run transactions share (fuzz/common.c, which
 * run.sh links into every target): configuration text cut into logical lines and applied
 * directive by directive, the test for a configuration a transaction may run under, a raw HTTP
 * request cut into line, headers and body, and a transaction's first steps and verdict check.
 * Used by fuzz_config.c, fuzz_secrule.c and fuzz_request.c.
 */
#ifndef PP_FUZZ_COMMON_H
#define PP_FUZZ_COMMON_H

#include <stdbool.h>

#include "config/config.h"
#include "fuzz.h"

/* ---- configuration (common.c) ---- */

/* Called per logical line of configuration text; false stops the reading. */
typedef bool (*fuzz_line_fn)(void *ctx, char *line, int lineno);

/* Cuts [data, data + size) into logical lines as config/reader.c does (backslash continuation,
 * CR LF; a NUL also ends a line), drops leading blanks, skips empty lines and comments, and
 * hands each line (writable, in p) and its first line number to fn. False when fn stopped. */
bool fuzz_config_lines(apr_pool_t *p, const char *data, size_t size, fuzz_line_fn fn, void *ctx);

/* Applies "Directive arguments" (split in place) with pp_cfg_apply, unless the first word names
 * no directive or one in skipped (a NULL-terminated list; NULL: none). The error or NULL; an
 * error must name its directive (CHECK). */
const char *fuzz_apply_line(pp_cfg_t *cfg, char *line, const pp_cfg_site_t *site,
                            const char *const *skipped, apr_pool_t *cp, apr_pool_t *tp);

/* Whether a transaction under cfg could start a program (exec, @inspectFile, the approval
 * script), sleep (pause), or connect somewhere (@rbl, clamd) or write uploads: if so, the
 * targets do not run one. */
bool fuzz_safe_to_run(const pp_cfg_t *cfg);

/* ---- requests (common.c) ---- */

#define FUZZ_MAX_HEADERS 100 /* Apache's LimitRequestFields default */

/* A raw HTTP request: request line, headers up to the blank line, body (de-chunked for
 * Transfer-Encoding: chunked, cut at Content-Length, as Apache's input filters would). */
typedef struct fuzz_request_t {
    pp_str_t line;
    pp_field_t headers[FUZZ_MAX_HEADERS];
    int nheaders;
    pp_str_t body;
    const char *content_type; /* the first Content-Type value, or NULL */
} fuzz_request_t;

/* The line at *s (without its CR LF or LF), *s moved past it; false at end. */
bool fuzz_next_line(const char **s, const char *end, pp_str_t *line);
/* Parses [s, end) into rq; copies (a de-chunked body, header values) go to p. */
void fuzz_parse_request(apr_pool_t *p, const char *s, const char *end, fuzz_request_t *rq);

/* ---- the transaction (common.c) ---- */

/* An error-log sink for pp_tx_set_errlog. */
void fuzz_discard_log(void *ctx, int level, const char *msg);
/* A fixed client and server (192.0.2.7:51234 to localhost 127.0.0.1:80, /var/www). */
void fuzz_conn_info(pp_conn_info_t *ci);
/* Request line and headers into tx, then pp_tx_finish_request_headers (phase 1). */
void fuzz_send_request_head(pp_tx_t *tx, const fuzz_request_t *rq);
/* The verdict is whole: matches listed, each with its text; an interception has a status in
 * 100-999 and an action. */
void fuzz_check_verdict(const pp_tx_t *tx);

#endif
