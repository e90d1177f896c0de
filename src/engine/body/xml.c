/*
 * XML body processor on libxml2 (see xml.h). ModSecurity 2.9.7 (msc_xml.c) parses with a push
 * parser named "body.xml" and reports any failure as "XML: Failed parsing document."; so
 * does this one.
 */
#include "body/xml.h"

#include <apr_strings.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

struct pp_xml_t {
    apr_pool_t *pool;
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;
    bool failed, finished;
    bool fed;          /* a chunk was parsed */
    bool deferred;     /* the first chunk was not well formed: reported at the end */
    char head[4];      /* the first bytes, held until libxml2 can detect the encoding */
    int nhead;
};

static apr_status_t cleanup(void *data)
{
    pp_xml_t *x = data;
    if (x->ctxt) {
        if (x->ctxt->myDoc && x->ctxt->myDoc != x->doc)
            xmlFreeDoc(x->ctxt->myDoc);
        xmlFreeParserCtxt(x->ctxt);
        x->ctxt = NULL;
    }
    if (x->doc)
        xmlFreeDoc(x->doc);
    x->doc = NULL;
    return APR_SUCCESS;
}

/* Errors are the parser's business, not stderr's. */
static void quiet(void *ctx, const char *msg, ...) {}
static void quiet_structured(void *ctx, xmlErrorPtr e) {}

pp_xml_t *pp_xml_create(apr_pool_t *p)
{
    pp_xml_t *x = apr_pcalloc(p, sizeof *x);
    x->pool = p;
    x->ctxt = xmlCreatePushParserCtxt(NULL, NULL, NULL, 0, "body.xml");
    if (!x->ctxt)
        return NULL;
    apr_pool_cleanup_register(p, x, cleanup, apr_pool_cleanup_null);
    /* No network; no DTD loading, no entity substitution, no XInclude: nothing outside the
     * body is ever read. */
    xmlCtxtUseOptions(x->ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    x->ctxt->sax->error = quiet;
    x->ctxt->sax->warning = quiet;
    x->ctxt->sax->serror = quiet_structured;
    return x;
}

/* ModSecurity 2.9.7 hands the first chunk to xmlCreatePushParserCtxt, which only stores it:
 * an error in it shows when the document ends (and is answered with 500, no phase-2 rule
 * running), one in a later chunk while streaming (REQBODY_ERROR for the rules). The same split
 * here: an error in the first chunk is kept for pp_xml_finish. */
static apr_status_t parse(pp_xml_t *x, const char *data, apr_size_t len, bool first);

/* libxml2 guesses the encoding from the first four bytes, and guesses differently from fewer
 * (fuzz_xml: "\0\0\0<" whole or split), so they are held until there are four: the result then
 * never depends on how the body was chunked. */
apr_status_t pp_xml_feed(pp_xml_t *x, const char *data, apr_size_t len)
{
    if (x->deferred)
        return APR_SUCCESS;
    if (x->failed || x->finished)
        return x->failed ? APR_EGENERAL : APR_SUCCESS;
    if (!x->fed && x->nhead + len < sizeof x->head) {
        memcpy(x->head + x->nhead, data, len);
        x->nhead += (int)len;
        return APR_SUCCESS;
    }
    bool first = !x->fed;
    x->fed = true;
    if (first && x->nhead) {
        apr_size_t take = sizeof x->head - (apr_size_t)x->nhead;
        memcpy(x->head + x->nhead, data, take);
        x->nhead = sizeof x->head;
        apr_status_t rv = parse(x, x->head, sizeof x->head, true);
        if (rv != APR_SUCCESS || x->deferred)
            return rv;
        return parse(x, data + take, len - take, true);
    }
    return parse(x, data, len, first);
}

static apr_status_t parse(pp_xml_t *x, const char *data, apr_size_t len, bool first)
{
    while (len > 0) {
        int n = len > (1 << 20) ? 1 << 20 : (int)len;
        xmlParseChunk(x->ctxt, data, n, 0);
        if (!x->ctxt->wellFormed) {
            if (first) {
                x->deferred = true;
                return APR_SUCCESS;
            }
            x->failed = true;
            return APR_EGENERAL;
        }
        data += n;
        len -= (apr_size_t)n;
    }
    return APR_SUCCESS;
}

apr_status_t pp_xml_finish(pp_xml_t *x)
{
    if (x->deferred)
        x->failed = true;
    if (x->failed)
        return APR_EGENERAL;
    if (x->finished)
        return APR_SUCCESS;
    x->finished = true;
    if (!x->fed && x->nhead)
        xmlParseChunk(x->ctxt, x->head, x->nhead, 0);
    xmlParseChunk(x->ctxt, NULL, 0, 1);
    bool ok = x->ctxt->wellFormed && x->ctxt->myDoc;
    if (ok) {
        x->doc = x->ctxt->myDoc;
        x->ctxt->myDoc = NULL;
    }
    x->failed = !ok;
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

bool pp_xml_has_document(const pp_xml_t *x)
{
    return x && x->doc;
}

void *pp_xml_document(const pp_xml_t *x)
{
    return x ? x->doc : NULL;
}

typedef struct text_t {
    apr_array_header_t *parts; /* pp_str_t pieces, joined at the end */
    apr_size_t len, budget;
    int depth;
} text_t;

static bool add(text_t *t, const xmlChar *s)
{
    if (!s)
        return true;
    apr_size_t n = strlen((const char *)s);
    if (n > t->budget - t->len)
        return false;
    t->len += n;
    APR_ARRAY_PUSH(t->parts, pp_str_t) = (pp_str_t){ (const char *)s, n };
    return true;
}

/* xmlBufGetNodeContent's walk: text and CDATA of the descendants, entity references through
 * their entity's content, attributes by their children. Comments and processing instructions
 * count only as the node asked for itself. */
static bool content(text_t *t, const xmlNode *n, bool self)
{
    if (++t->depth > 512)
        return false;
    bool ok = true;
    switch (n->type) {
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
        ok = add(t, n->content);
        break;
    case XML_COMMENT_NODE:
    case XML_PI_NODE:
        if (self)
            ok = add(t, n->content);
        break;
    case XML_ENTITY_REF_NODE: {
        const xmlEntity *ent = xmlGetDocEntity(n->doc, n->name);
        for (const xmlNode *c = ent ? ent->children : NULL; ok && c; c = c->next)
            ok = content(t, c, false);
        break;
    }
    case XML_ELEMENT_NODE:
    case XML_ATTRIBUTE_NODE:
    case XML_DOCUMENT_NODE:
    case XML_DOCUMENT_FRAG_NODE:
    case XML_ENTITY_DECL:
        for (const xmlNode *c = n->children; ok && c; c = c->next)
            if (c->type != XML_ATTRIBUTE_NODE)
                ok = content(t, c, false);
        break;
    case XML_NAMESPACE_DECL:
        ok = add(t, ((const xmlNs *)n)->href);
        break;
    default:
        break;
    }
    t->depth--;
    return ok;
}

apr_status_t pp_xml_xpath(const pp_xml_t *x, apr_pool_t *p, const char *expr, apr_size_t budget,
                          apr_array_header_t *out, const char **err)
{
    return pp_xml_xpath_ns(x, p, expr, NULL, budget, out, err);
}

apr_status_t pp_xml_xpath_ns(const pp_xml_t *x, apr_pool_t *p, const char *expr,
                             const char *const *ns, apr_size_t budget, apr_array_header_t *out,
                             const char **err)
{
    if (!pp_xml_has_document(x))
        return APR_SUCCESS;
    xmlXPathContextPtr ctx = xmlXPathNewContext(x->doc);
    if (!ctx)
        return APR_ENOMEM;
    ctx->error = quiet_structured;
    for (int i = 0; ns && ns[i] && ns[i + 1]; i += 2)
        if (xmlXPathRegisterNs(ctx, (const xmlChar *)ns[i], (const xmlChar *)ns[i + 1]) != 0) {
            xmlXPathFreeContext(ctx);
            *err = apr_psprintf(p, "XML: Failed to register XML namespace href \"%s\" prefix "
                                   "\"%s\"", ns[i + 1], ns[i]);
            return APR_EINVAL;
        }
    xmlXPathObjectPtr res = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    if (!res) {
        xmlXPathFreeContext(ctx);
        *err = apr_psprintf(p, "XML: Unable to evaluate xpath expression: %s", expr);
        return APR_EINVAL;
    }
    apr_status_t rv = APR_SUCCESS;
    text_t t = { apr_array_make(p, 8, sizeof(pp_str_t)), 0, budget, 0 };
    const xmlNodeSet *set = res->type == XPATH_NODESET ? res->nodesetval : NULL;
    for (int i = 0; set && i < set->nodeNr && rv == APR_SUCCESS; i++) {
        t.parts->nelts = 0;
        if (!content(&t, set->nodeTab[i], true)) {
            rv = APR_ENOSPC;
            break;
        }
        char *s = apr_palloc(p, 1), *o;
        apr_size_t n = 0;
        for (int k = 0; k < t.parts->nelts; k++)
            n += APR_ARRAY_IDX(t.parts, k, pp_str_t).len;
        s = o = apr_palloc(p, n + 1);
        for (int k = 0; k < t.parts->nelts; k++) {
            pp_str_t part = APR_ARRAY_IDX(t.parts, k, pp_str_t);
            memcpy(o, part.data, part.len);
            o += part.len;
        }
        *o = '\0';
        APR_ARRAY_PUSH(out, pp_str_t) = (pp_str_t){ s, n };
    }
    xmlXPathFreeObject(res);
    xmlXPathFreeContext(ctx);
    return rv;
}
