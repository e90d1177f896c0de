/*
 * The XML request body processor (spec secrule-2.9-reference.md §12.5), selected by
 * ctl:requestBodyProcessor=XML: libxml2's push parser builds the document as the body streams
 * in, with no network, no DTD loading and no entity substitution (external entities are never
 * read), within libxml2's default limits (depth 256, 10 MB text nodes). No arguments are made;
 * rules reach the document through XML:<xpath>, each node's value being its text content as
 * xmlNodeGetContent gives it, collected here with a byte budget so entity references cannot
 * multiply it without bound.
 */
#ifndef PP_BODY_XML_H
#define PP_BODY_XML_H

#include "parapet.h"
#include "util/util.h"

typedef struct pp_xml_t pp_xml_t;

/* A parser in p (the parser and document are freed with p); NULL when libxml2 cannot make one. */
pp_xml_t *pp_xml_create(apr_pool_t *p);
/* Parses a chunk; APR_EGENERAL once the document is known not to be well formed (the parser
 * then takes no more input), except for an error in the first chunk, which pp_xml_finish
 * reports (as ModSecurity 2.9.7 does). */
apr_status_t pp_xml_feed(pp_xml_t *x, const char *data, apr_size_t len);
/* End of body: APR_EGENERAL when the document is not well formed. The document is kept. */
apr_status_t pp_xml_finish(pp_xml_t *x);
/* Whether a complete, well-formed document is there for XPath. */
bool pp_xml_has_document(const pp_xml_t *x);
/* The document (an xmlDocPtr) for @validateDTD / @validateSchema, or NULL. */
void *pp_xml_document(const pp_xml_t *x);
/* Evaluates expr on the document and appends one pp_str_t per node (its text content, in p) to
 * out. Fails with APR_EINVAL (and *err) for a bad expression, APR_ENOSPC when the values would
 * pass budget bytes in total. No document: no values, APR_SUCCESS. */
apr_status_t pp_xml_xpath(const pp_xml_t *x, apr_pool_t *p, const char *expr, apr_size_t budget,
                          apr_array_header_t *out, const char **err);
/* The same with namespace prefixes for the expression (the rule's xmlns actions): ns holds
 * prefix, URI, prefix, URI, ... and a NULL (ns NULL: none). */
apr_status_t pp_xml_xpath_ns(const pp_xml_t *x, apr_pool_t *p, const char *expr,
                             const char *const *ns, apr_size_t budget, apr_array_header_t *out,
                             const char **err);

#endif
