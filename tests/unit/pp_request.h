/*
 * Feeding a raw HTTP message to a transaction the way the adapter and `parapet eval` do: the
 * start line, the headers up to the blank line (CRLF or LF), then the body. For tests that need
 * whole requests (collectors, the phase loop, the threaded engine test).
 */
#ifndef PP_REQUEST_H
#define PP_REQUEST_H

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "parapet.h"

static inline bool pp_test_next_line(const char **s, const char *end, pp_str_t *line)
{
    if (*s >= end)
        return false;
    const char *nl = memchr(*s, '\n', (size_t)(end - *s));
    const char *stop = nl ? nl : end;
    size_t n = (size_t)(stop - *s);
    if (n && (*s)[n - 1] == '\r')
        n--;
    *line = (pp_str_t){ *s, n };
    *s = nl ? nl + 1 : end;
    return true;
}

/* Reads the header block at *s; calls add for each header. Returns false on a malformed line. */
static inline bool pp_test_headers(const char **s, const char *end, pp_tx_t *tx, bool response)
{
    pp_str_t line = { "", 0 };
    while (pp_test_next_line(s, end, &line) && line.len) {
        const char *colon = memchr(line.data, ':', line.len);
        if (!colon)
            return false;
        pp_str_t name = { line.data, (size_t)(colon - line.data) };
        const char *v = colon + 1, *e = line.data + line.len;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        pp_str_t value = { v, (size_t)(e - v) };
        if (response)
            pp_tx_add_response_header(tx, name, value);
        else
            pp_tx_add_request_header(tx, name, value);
    }
    return true;
}

/* The request body (after phase 1): in chunks of `chunk` bytes (0: at once) when the engine
 * wants it, then phase 2. */
static inline void pp_test_feed_request_body(pp_tx_t *tx, const char *body, size_t len,
                                             size_t chunk)
{
    if (pp_tx_wants_request_body(tx)) {
        size_t step = chunk ? chunk : len;
        for (size_t i = 0; i < len; i += step)
            pp_tx_feed_request_body(tx, body + i, len - i < step ? len - i : step);
    }
    pp_tx_finish_request_body(tx);
}

/* The request: line, headers, phase 1, the body in chunks of `chunk` bytes (0: at once) when
 * the engine wants it, then phase 2. */
static inline void pp_test_feed_request(pp_tx_t *tx, const char *raw, size_t len, size_t chunk)
{
    const char *s = raw, *end = raw + len;
    pp_str_t line = { "", 0 };
    pp_test_next_line(&s, end, &line);
    pp_tx_set_request_line(tx, line);
    pp_test_headers(&s, end, tx, false);
    pp_tx_finish_request_headers(tx);
    pp_test_feed_request_body(tx, s, (size_t)(end - s), chunk);
}

/* The response: "HTTP/1.1 404 Not Found", headers, and the body when the engine holds it. */
static inline void pp_test_feed_response(pp_tx_t *tx, const char *raw, size_t len)
{
    const char *s = raw, *end = raw + len;
    pp_str_t line = { "", 0 };
    pp_test_next_line(&s, end, &line);
    const char *sp = memchr(line.data, ' ', line.len);
    int status = sp ? atoi(sp + 1) : 200;
    pp_tx_set_response_status(tx, status, sp ? apr_pstrmemdup(pp_tx_pool(tx), sp + 1,
                                                              (size_t)(line.data + line.len - sp - 1))
                                             : "200 OK");
    const char *ct = NULL;
    const char *hs = s;
    pp_test_headers(&s, end, tx, true);
    for (pp_str_t h; pp_test_next_line(&hs, s, &h) && h.len;)
        if (h.len > 14 && strncasecmp(h.data, "Content-Type: ", 14) == 0)
            ct = apr_pstrmemdup(pp_tx_pool(tx), h.data + 14, h.len - 14);
    bool hold = pp_tx_wants_response_body(tx, ct);
    pp_tx_finish_response_headers(tx);
    if (hold) {
        pp_tx_feed_response_body(tx, s, (size_t)(end - s));
        pp_tx_finish_response_body(tx);
    }
}

#endif
