/*
 * Internal header of request/: turning raw request bytes (the request line, the query string
 * and urlencoded bodies, the Cookie header) into fields. These parsers are pure: no
 * transaction, no configuration, no logging, so the unit tests and the fuzzers call them
 * directly. The transaction decides what a failure means (reference §5.2); the parsers only
 * report it. Reference §2.2 (SecFilterCookieFormat), §4, §5.
 */
#ifndef PP_REQUEST_H
#define PP_REQUEST_H

#include "parapet.h"

#include <apr_tables.h>

/* ---- urlencoded.c: query strings and application/x-www-form-urlencoded bodies ----------- */

/* Parses "a=1&b=2" into fields appended to out (an array of pp_field_t, created with
 * elt_size sizeof(pp_field_t)). Items are separated by '&' only (';' is data); an item
 * without '=' becomes a name with an empty value; empty items are skipped; repeated names are
 * kept in order. Names and values are URL-decoded ('+' is a space, %XX a byte); an invalid or
 * truncated escape is kept literally. Every name and value is a new copy in p, NUL-terminated
 * for convenience, but len is authoritative (a %00 puts a NUL inside).
 * The number of invalid escapes in the input is added to *bad_escapes (if not NULL), so one
 * counter can collect the query string and the body.
 * Returns APR_EINVAL if out does not hold pp_field_t, else APR_SUCCESS. */
apr_status_t pp_urlencoded_parse(apr_pool_t *p, pp_str_t in, apr_array_header_t *out,
                                 unsigned *bad_escapes);
/* As pp_urlencoded_parse with sep (SecArgumentSeparator) in place of '&'. */
apr_status_t pp_urlencoded_parse_sep(apr_pool_t *p, pp_str_t in, char sep,
                                     apr_array_header_t *out, unsigned *bad_escapes);
/* As pp_urlencoded_parse_sep, split as ModSecurity 2.9 splits: an empty piece is an argument
 * with an empty name and value too ("a=1&&b=2" has three, "&" one), except an empty last one
 * ("a=1&" has one). */
apr_status_t pp_urlencoded_parse2(apr_pool_t *p, pp_str_t in, char sep,
                                  apr_array_header_t *out, unsigned *bad_escapes);

/* True when a field from index `from` on has a name with a NUL byte in it, or (with
 * encoded_too) a "%00" that the application will decode into one (PHP decodes cookie names).
 * PHP ends such a name at the NUL, binary-safe back ends keep the whole name, so no single
 * name can stand for it in ARG_x / COOKIE_x (docs/body-parsing.md, "Names"). */
bool pp_fields_nul_name(const apr_array_header_t *a, int from, bool encoded_too);

/* URL-decodes in: %XX becomes a byte, and '+' a space when plus_as_space. Invalid or
 * truncated escapes are kept literally and added to *bad_escapes (if not NULL).
 * When in holds no '%' (and no '+' when plus_as_space), *out is in itself: same pointer, no
 * copy, not necessarily terminated. Otherwise *out is a copy in p, NUL-terminated.
 * Always returns APR_SUCCESS. */
apr_status_t pp_url_decode(apr_pool_t *p, pp_str_t in, bool plus_as_space, pp_str_t *out,
                           unsigned *bad_escapes);

/* ---- cookies.c: the Cookie request header ---------------------------------------------- */

#define PP_COOKIE_FORMAT_NETSCAPE 0 /* a=b; c=d */
#define PP_COOKIE_FORMAT_RFC2109 1  /* $Version="1"; a="b"; $Path="/" */

/* Parses one Cookie header value in the given format (SecFilterCookieFormat) and appends one
 * pp_field_t per cookie to out. Names and values are copies in p, NUL-terminated; values are
 * not URL-decoded. In format 1, quoted values lose their quotes and backslash escapes, items
 * are separated by ';' or ',', and "$" attributes ($Version, $Path, $Domain, $Port) are not
 * cookies.
 * *malformed (if not NULL) is set when the header does not follow the format: an item with no
 * '=' or an empty name, a control character, and in format 1 an unterminated quote or text
 * after a closing quote. Parsing goes on past such an item so no data escapes inspection: an
 * item without '=' becomes a name with an empty value, and an unparsable quoted value is kept
 * raw. Empty items (";;", a trailing ";") are skipped and are not malformed.
 * Returns APR_EINVAL for an unknown format or an out that does not hold pp_field_t, else
 * APR_SUCCESS. */
apr_status_t pp_cookies_parse(apr_pool_t *p, pp_str_t header, int format,
                              apr_array_header_t *out, bool *malformed);
/* As pp_cookies_parse; in format 0 the items are split on v0_sep (SecCookiev0Separator) instead
 * of ';', as ModSecurity 2.9.7 splits them. */
apr_status_t pp_cookies_parse_sep(apr_pool_t *p, pp_str_t header, int format, char v0_sep,
                                  apr_array_header_t *out, bool *malformed);

/* ---- line.c: the request line ---------------------------------------------------------- */

/* The parts of "METHOD SP URI [SP PROTOCOL]". Every part points into the parsed line. uri
 * is path plus "?" plus query. An absent part (query without '?', protocol in an HTTP/0.9
 * line) has data NULL and len 0; "/x?" gives a query with data set and len 0. */
typedef struct pp_request_line_t {
    pp_str_t method, uri, path, query, protocol;
} pp_request_line_t;

/* Splits line (without the CRLF) into its parts; no copies, so *out lives as long as line.
 * Returns APR_EGENERAL, with *out zeroed, on an empty method or URI, a control character
 * (CR, LF, TAB and NUL included), anything other than exactly one space between parts, or a
 * fourth part. "GET /" (HTTP/0.9) is accepted with an absent protocol. The protocol text is
 * not checked: the host has already parsed it. */
apr_status_t pp_request_line_parse(pp_str_t line, pp_request_line_t *out);

#endif
