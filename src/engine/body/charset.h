/*
 * Text in a declared charset, converted to UTF-8 the way the application will read it (issue 17).
 *
 * Java servlets, .NET, Django and Jetty decode a multipart field with its part's
 * `Content-Type: ...; charset=X`, the fields of a form with the value of its `_charset_` field,
 * and an urlencoded body with the request's `charset=`. A field sent as UTF-16, UTF-7 or EBCDIC
 * reaches such an application as plain text while its bytes match no rule, so body/dispatch.c
 * converts such text with iconv before the rules see it. Every charset glibc's iconv knows is
 * converted; a charset it does not know, or text that does not convert, makes the body
 * ambiguous (the caller answers 400).
 *
 * Not converted: UTF-8 and US-ASCII (identity: a decoder turns an invalid byte into U+FFFD,
 * never into an ASCII character the rules did not see). "UTF-16"/"UTF-32"/"UCS-2"/"UCS-4"
 * text without a byte order mark is read both ways: Java reads it big-endian, .NET
 * little-endian.
 */
#ifndef PP_BODY_CHARSET_H
#define PP_BODY_CHARSET_H

#include "parapet.h"

typedef struct pp_charset_conv_t pp_charset_conv_t;

/* The charset parameter of a Content-Type value (media type and parameters), unquoted, in p;
 * *out = NULL when there is none. Returns NULL, or a static message when the parameter list
 * is malformed where the charset is concerned (two charset parameters, unterminated quote).
 * Other parameters are not judged here. */
const char *pp_charset_param(apr_pool_t *p, pp_str_t content_type, const char **out);

/* True for charsets whose text the rules already see as the application does (UTF-8,
 * US-ASCII and their common aliases, compared ignoring case). */
bool pp_charset_is_identity(const char *charset);

/* A converter for one request, in p (iconv descriptors are closed with p; one is opened per
 * charset the request uses, at most a few). */
pp_charset_conv_t *pp_charset_conv_create(apr_pool_t *p);

/* Converts in from charset to UTF-8 into p. Identity charsets give in unchanged. An unmarked
 * UTF-16/32 (no BOM) is read big-endian into *out and little-endian into *alt (alt->data is
 * NULL otherwise, or when only one reading converts). Returns NULL, or a static message: unknown
 * charset, text that does not convert (invalid or incomplete sequence), or output past 4 bytes
 * per input byte + 16 (cannot happen for a real charset; bounds memory). */
const char *pp_charset_to_utf8(pp_charset_conv_t *c, const char *charset, pp_str_t in,
                               pp_str_t *out, pp_str_t *alt);

#endif
