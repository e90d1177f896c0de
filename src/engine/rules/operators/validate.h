/*
 * Validation checks of request data: URL encoding, UTF-8 and byte range (reference §5.2,
 * SecFilterCheckURLEncoding, SecFilterCheckUnicodeEncoding, SecFilterForceByteRange). The
 * transaction runs them as 1.9's implicit validation before any rule, and the operator table
 * wraps them as @validateUrlEncoding, @validateUtf8Encoding and @validateByteRange. They are
 * pure and cannot fail: true means the data is valid.
 */
#ifndef PP_VALIDATE_H
#define PP_VALIDATE_H

#include "parapet.h"

/* False if some '%' is not followed by two hex digits (a truncated escape at the end
 * included); *bad_offset (if not NULL) is then the offset of that '%'. */
bool pp_validate_url_encoding(pp_str_t in, apr_size_t *bad_offset);

/* False if in is not well-formed UTF-8. Then *why (if not NULL) is a static string:
 * "not enough bytes" (the data ends inside a sequence), "invalid byte" (a byte that cannot
 * start a sequence, 0x80-0xBF or 0xF8-0xFF, or a missing continuation byte), "overlong
 * character" (a code point encoded with more bytes than needed, 0xC0/0xC1 leads included) or
 * "invalid code point" (a UTF-16 surrogate, or above U+10FFFF); and *bad_offset (if not
 * NULL) is the offset of the first byte of the bad sequence. */
bool pp_validate_utf8(pp_str_t in, const char **why, apr_size_t *bad_offset);

/* False if some byte (as 0..255) is below min or above max; *bad_byte (if not NULL) is then
 * the first such byte. min <= 0 and max >= 255 accept everything. */
bool pp_validate_byte_range(pp_str_t in, int min, int max, int *bad_byte);

#endif
