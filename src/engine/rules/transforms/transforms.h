/*
 * Internal header of rules/transforms/: transformation functions, applied to one value at a
 * time between collecting a target and running the operator (style §2, "apply"), and the
 * fixed 1.9 normalisation pipeline that lang/secfilter.c gives every 1.9 rule (reference
 * §5.1). They never fail and never look at a transaction. The outputs live in the scratch
 * pool the caller clears after each target, or are the input itself.
 */
#ifndef PP_TRANSFORMS_H
#define PP_TRANSFORMS_H

#include "parapet.h"

/* The shape every transformation shares (the table in table.c points at these).
 * *out is in itself (same pointer, no copy) exactly when there was nothing to do, so a caller
 * may test out->data == in.data for "unchanged"; otherwise it is new bytes in scratch. Outputs
 * are never longer than the input and are NOT NUL-terminated: len is authoritative. Always
 * returns APR_SUCCESS. */
typedef apr_status_t (*pp_tfn_apply_fn)(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);

/* ---- url.c ---------------------------------------------------------------------------- */

/* %XX → byte; '+' stays. Invalid or truncated escapes are kept literally. One level only:
 * "%252f" gives "%2f". */
apr_status_t pp_tfn_url_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* As pp_tfn_url_decode, and '+' → space (query strings, urlencoded bodies). */
apr_status_t pp_tfn_url_decode_form(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);

/* Flags of pp_tfn_normalise19; the steps run in this order (reference §5.1). */
#define PP_N19_BACKSLASH 0x10u /* '\' → '/' in the raw input (the Windows-build step) */
#define PP_N19_URLDECODE 0x01u /* %XX → byte, invalid escapes kept literally */
#define PP_N19_PLUS 0x02u      /* '+' → space (raw '+' only, not a decoded %2b) */
#define PP_N19_PATH 0x04u      /* "/./" → "/", then runs of '/' → one '/'; "/../" is kept */
#define PP_N19_NULLS 0x08u     /* NUL → space */

/* The 1.9 normaliser: the steps selected by flags, with the result of running each step over
 * the whole value in the order above. So a decoded %2f takes part in slash collapsing, a
 * decoded %5c is not turned into '/', and no "//" or "/./" is left in the output
 * (self-references are removed until none remains: "/././" → "/"). One pass over the input;
 * no allocation when nothing changes (*out is in), otherwise exactly one buffer of in.len
 * bytes in scratch. Always returns APR_SUCCESS. */
apr_status_t pp_tfn_normalise19(apr_pool_t *scratch, pp_str_t in, unsigned flags, pp_str_t *out);

/* ---- path.c --------------------------------------------------------------------------- */

/* Removes "/./" self-references (→ "/") and collapses runs of '/' into one, until neither is
 * left. Does not resolve "/../", and does not touch a leading "./" or a trailing "/.". */
apr_status_t pp_tfn_normalise_path(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* As pp_tfn_normalise_path after turning every '\' into '/'. */
apr_status_t pp_tfn_normalise_path_win(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);

/* ---- simple.c ------------------------------------------------------------------------- */

/* NUL → space. */
apr_status_t pp_tfn_replace_nulls(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* NUL bytes dropped. */
apr_status_t pp_tfn_remove_nulls(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* ASCII A-Z → a-z; other bytes (including UTF-8 sequences) untouched, whatever the locale. */
apr_status_t pp_tfn_lowercase(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* Every run of ASCII whitespace (space, \t, \n, \v, \f, \r) → one space. Leading and
 * trailing runs are compressed too, not removed. */
apr_status_t pp_tfn_compress_whitespace(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* Removes leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r). */
apr_status_t pp_tfn_trim(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);

#endif
