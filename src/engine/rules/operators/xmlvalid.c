/*
 * @validateDTD FILE and @validateSchema FILE (libxml2) on the request's XML document, as
 * ModSecurity 2.9.7 runs them: no document (the XML processor did not run) is no match; a
 * document that is not well formed, or a body processor error, matches; otherwise the document
 * is validated and a failure matches. The DTD or schema is read once at start-up (relative:
 * to the rule file), never from the network: the DTD parser loads no external parameter
 * entity, and a schema whose xs:include / xs:import / xs:redefine names a URL is refused. One
 * compiled DTD/schema is shared read-only by all threads; each validation has its own context,
 * with libxml2's error output silenced.
 */
#include "rules/operators/operators.h"
#include "body/xml.h"

#include <apr_strings.h>
#include <errno.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <libxml/xmlschemas.h>

static void quiet(void *ctx, const char *msg, ...) {}

static apr_status_t free_dtd(void *d)
{
    xmlFreeDtd(d);
    return APR_SUCCESS;
}

static apr_status_t free_schema(void *s)
{
    xmlSchemaFree(s);
    return APR_SUCCESS;
}

const char *pp_op_dtd_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    if (!*arg)
        return "@validateDTD needs the DTD's path";
    const char *path = pp_op_resolve_path(cp, arg);
    if (access(path, R_OK) != 0) /* said here, not by libxml2 on stderr */
        return apr_psprintf(cp, "Failed to load DTD: %s: %s", path, strerror(errno));
    xmlDtdPtr dtd = xmlParseDTD(NULL, (const xmlChar *)path);
    if (!dtd)
        return apr_psprintf(cp, "Failed to load DTD: %s", path);
    apr_pool_cleanup_register(cp, dtd, free_dtd, apr_pool_cleanup_null);
    *compiled = dtd;
    return NULL;
}

/* A schema's include/import/redefine that names a URL (scheme://): refused. */
static const char *remote_reference(xmlNodePtr n)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)n->name;
        if (strcmp(name, "include") == 0 || strcmp(name, "import") == 0 ||
            strcmp(name, "redefine") == 0) {
            xmlChar *loc = xmlGetProp(n, (const xmlChar *)"schemaLocation");
            bool remote = loc && strstr((const char *)loc, "://");
            xmlFree(loc);
            if (remote)
                return name;
        }
        const char *r = remote_reference(n->children);
        if (r)
            return r;
    }
    return NULL;
}

const char *pp_op_schema_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    if (!*arg)
        return "@validateSchema needs the schema's path";
    const char *path = pp_op_resolve_path(cp, arg);
    if (access(path, R_OK) != 0)
        return apr_psprintf(cp, "Failed to load Schema: %s: %s", path, strerror(errno));
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                XML_PARSE_NOWARNING);
    if (!doc)
        return apr_psprintf(cp, "Failed to load Schema: %s", path);
    const char *remote = remote_reference(xmlDocGetRootElement(doc));
    if (remote) {
        xmlFreeDoc(doc);
        return apr_psprintf(cp, "the schema %s has an xs:%s of a URL: Parapet never reads "
                            "schemas from the network", path, remote);
    }
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewDocParserCtxt(doc);
    xmlSchemaPtr schema = NULL;
    if (pc) {
        xmlSchemaSetParserErrors(pc, quiet, quiet, NULL);
        schema = xmlSchemaParse(pc);
        xmlSchemaFreeParserCtxt(pc);
    }
    xmlFreeDoc(doc);
    if (!schema)
        return apr_psprintf(cp, "XML: Failed to load Schema: %s", path);
    apr_pool_cleanup_register(cp, schema, free_schema, apr_pool_cleanup_null);
    *compiled = schema;
    return NULL;
}

/* The document, or NULL with *match set as ModSecurity decides without one. */
static xmlDocPtr document(pp_tx_t *tx, bool *match)
{
    *match = false;
    if (tx->body_kind != PP_BODY_XML)
        return NULL; /* no XML processor: ModSecurity's operator error, no match */
    const pp_xml_t *x = tx->body_proc;
    if (!pp_xml_has_document(x) || tx->reqbody_error_msg) {
        *match = true; /* not well formed, or the processor failed: a match */
        return NULL;
    }
    return pp_xml_document(x);
}

PP_OP_EXEC(pp_op_dtd_exec)
{
    xmlDocPtr doc = document(tx, match);
    if (!doc)
        return APR_SUCCESS;
    xmlValidCtxtPtr vc = xmlNewValidCtxt();
    if (!vc)
        return APR_ENOMEM; /* undecided: the loop fails closed */
    vc->error = quiet;
    vc->warning = quiet;
    *match = !xmlValidateDtd(vc, doc, (xmlDtdPtr)compiled);
    xmlFreeValidCtxt(vc);
    out->data = value;
    return APR_SUCCESS;
}

PP_OP_EXEC(pp_op_schema_exec)
{
    xmlDocPtr doc = document(tx, match);
    if (!doc)
        return APR_SUCCESS;
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt((xmlSchemaPtr)compiled);
    if (!vc)
        return APR_ENOMEM;
    xmlSchemaSetValidErrors(vc, quiet, quiet, NULL);
    *match = xmlSchemaValidateDoc(vc, doc) != 0;
    xmlSchemaFreeValidCtxt(vc);
    out->data = value;
    return APR_SUCCESS;
}
