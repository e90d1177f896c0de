/*
 * The request line → method, URI, path, query string and protocol (THE_REQUEST,
 * REQUEST_METHOD, REQUEST_URI, QUERY_STRING, SERVER_PROTOCOL; reference §4.1). The
 * transaction calls this from pp_tx_set_request_line, before any header is known. Nothing is
 * copied or decoded: the parts point into the line, and URL decoding happens later (query
 * arguments in urlencoded.c, normalisation in the rules, §5.1). The split is strict, one
 * space between parts and no control characters, because a line that two parsers could
 * split differently is an evasion; the caller answers such a line with 400. The protocol is
 * not checked against "HTTP/x.y", and "/../" is left alone (§5.1).
 */
#include "request/request.h"

#include <stdint.h>
#include <string.h>

/* CR, LF, TAB and NUL all count: none of them belongs in a request line. Eight bytes at a
 * time: a byte below 0x20 ((x - 0x20..) & ~x & 0x80..) or equal to 0x7f (a zero byte of x ^
 * 0x7f..) sets its top bit; exact for every byte, 0x80 and above included. */
static bool has_control(pp_str_t s)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    apr_size_t i = 0;
    for (; i + 8 <= s.len; i += 8) {
        uint64_t x, d;
        memcpy(&x, s.data + i, 8);
        d = x ^ (0x7f * ones);
        if ((((x - 0x20 * ones) & ~x) | ((d - ones) & ~d)) & high)
            return true;
    }
    for (; i < s.len; i++) {
        unsigned char c = (unsigned char)s.data[i];
        if (c < 0x20 || c == 0x7f)
            return true;
    }
    return false;
}

/* Splits the URI at its first '?'. */
static void split_query(pp_request_line_t *rl)
{
    const char *q = memchr(rl->uri.data, '?', rl->uri.len);
    if (!q) {
        rl->path = rl->uri;
        return;
    }
    apr_size_t path_len = (apr_size_t)(q - rl->uri.data);
    rl->path = (pp_str_t){ rl->uri.data, path_len };
    rl->query = (pp_str_t){ q + 1, rl->uri.len - path_len - 1 };
}

/* Everything after the second space: one non-empty word. */
static apr_status_t parse_protocol(const char *s, apr_size_t len, pp_str_t *protocol)
{
    if (len == 0 || memchr(s, ' ', len))
        return APR_EGENERAL;
    *protocol = (pp_str_t){ s, len };
    return APR_SUCCESS;
}

apr_status_t pp_request_line_parse(pp_str_t line, pp_request_line_t *out)
{
    pp_request_line_t rl = { 0 };
    memset(out, 0, sizeof(*out));
    if (line.len == 0 || has_control(line))
        return APR_EGENERAL;
    const char *s = line.data;
    const char *sp1 = memchr(s, ' ', line.len);
    if (!sp1 || sp1 == s)
        return APR_EGENERAL;
    rl.method = (pp_str_t){ s, (apr_size_t)(sp1 - s) };

    apr_size_t uri_start = rl.method.len + 1;
    const char *sp2 = memchr(s + uri_start, ' ', line.len - uri_start);
    apr_size_t uri_end = sp2 ? (apr_size_t)(sp2 - s) : line.len;
    if (uri_end == uri_start)
        return APR_EGENERAL; /* empty URI, or two spaces after the method */
    rl.uri = (pp_str_t){ s + uri_start, uri_end - uri_start };
    if (sp2 && parse_protocol(sp2 + 1, line.len - uri_end - 1, &rl.protocol) != APR_SUCCESS)
        return APR_EGENERAL;
    split_query(&rl);
    *out = rl;
    return APR_SUCCESS;
}
