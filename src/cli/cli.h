/*
 * The parapet command-line tool: subcommands share one engine set-up and the same pp_tx_*
 * sequence as the Apache adapter, so tests, fuzzers and benchmarks exercise the real path.
 */
#ifndef PP_CLI_H
#define PP_CLI_H

#include "parapet.h"

int pp_cli_check(apr_pool_t *p, int argc, const char *const *argv);
int pp_cli_eval(apr_pool_t *p, int argc, const char *const *argv);
int pp_cli_help(apr_pool_t *p, int argc, const char *const *argv);
int pp_cli_transform(apr_pool_t *p, int argc, const char *const *argv);
/* Reads one hex-encoded value from stdin into p (hex_lines.c): 1 read, 0 end of input, -1 bad
 * line (reported on stderr as "parapet WHO: ..."). */
int pp_cli_read_hex_line(apr_pool_t *p, const char *who, pp_str_t *out);
int pp_cli_operator(apr_pool_t *p, int argc, const char *const *argv);
int pp_cli_vars(apr_pool_t *p, int argc, const char *const *argv);

/* A raw HTTP message read from a file. */
typedef struct pp_http_msg_t {
    pp_str_t start_line;          /* request line or status line */
    apr_array_header_t *headers;  /* pp_field_t */
    pp_str_t body;                /* de-chunked when Transfer-Encoding: chunked */
} pp_http_msg_t;

/* Reads and splits a raw HTTP/1.x message (CRLF or LF line ends). NULL or an error message. */
const char *pp_cli_read_message(apr_pool_t *p, const char *path, pp_http_msg_t *msg);
/* Loads a configuration file; prints "FILE:LINE: message" on stderr and returns NULL on error. */
pp_cfg_t *pp_cli_load_config(apr_pool_t *p, const char *path);

#endif
