/*
 * The JSON request body processor (spec secrule-2.9-reference.md §12.4), selected by
 * ctl:requestBodyProcessor=JSON. It parses as the body streams in, with YAJL (the library
 * ModSecurity 2.9.7 uses, so its error texts are ModSecurity's), and appends every scalar leaf
 * to tx->args with ModSecurity 2.9.7's names: "p.k" for key k under prefix p, an array's
 * elements named after the array's own key, a top-level array as prefix and key "array".
 * Nesting deeper than the depth limit is an error. Nothing of the document is kept but the
 * current prefix and key.
 */
#ifndef PP_BODY_JSON_H
#define PP_BODY_JSON_H

#include "parapet.h"
#include "util/util.h"

typedef struct pp_json_t pp_json_t;

/* Called for each leaf; a non-success status stops the parse (e.g. too many arguments). */
typedef apr_status_t (*pp_json_arg_fn)(void *ctx, pp_str_t name, pp_str_t value);

#define PP_JSON_DEFAULT_DEPTH 512 /* SecRequestBodyJsonDepthLimit in the recommended config */

/* A parser in p (freed with p). depth: most nested objects and arrays. */
pp_json_t *pp_json_create(apr_pool_t *p, int depth, pp_json_arg_fn arg, void *ctx);
/* Parses a chunk. APR_SUCCESS, or APR_EGENERAL with pp_json_error() set (the parser then takes
 * no more input), or the callback's status. */
apr_status_t pp_json_feed(pp_json_t *j, const char *data, apr_size_t len);
/* End of body: APR_EGENERAL with pp_json_error() when the document is incomplete. */
apr_status_t pp_json_finish(pp_json_t *j);
/* YAJL's message, as ModSecurity reports it ("parse error: premature EOF\n", trailing newline
 * included), or "JSON depth limit exceeded"; NULL without an error. */
const char *pp_json_error(const pp_json_t *j);

#endif
