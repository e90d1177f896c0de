/*
 * libFuzzer target for the phrase matcher (@pm, rules/operators/pm.c). The input is a phrase
 * list and a value, split at the first 0xFF byte; the list is made plain (no NUL, and the
 * content syntax's | \ " become 'x') so that its phrases are exactly its blank-separated words.
 * Checks, for every input:
 *  - the matcher agrees exactly (match, and the text reported) with a direct, slow model of
 *    ModSecurity's acmp_process_quick below: linked children, one-step failure links, o_match;
 *  - a match means some phrase really occurs in the value (case-insensitive strstr of every
 *    phrase), and the reported text is a prefix (case-insensitively) of some phrase;
 *  - no phrase occurring means no match;
 *  - a match meets the row's literal needs (the phrases or prefixes of them, which the rule
 *    index gates the rule by), with and without the value's sketch.
 * ModSecurity's matcher can miss a phrase that occurs (its failure links), so "occurs implies
 * match" is not checked; tests/e2e/test_ms2_operators.py compares with ModSecurity itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/operators/operators.h"
#include "fuzz.h"

static apr_pool_t *root, *scratch;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_pools_init(&root, &scratch);
    return 0;
}

typedef struct mnode_t {
    unsigned char letter;
    int is_last, depth;
    const char *text;
    struct mnode_t *child, *sibling, *parent, *fail, *omatch;
} mnode_t;

static unsigned char lc(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static mnode_t *kid(mnode_t *n, unsigned char l)
{
    for (mnode_t *c = n->child; c; c = c->sibling)
        if (c->letter == l)
            return c;
    return NULL;
}

static mnode_t *model_build(char **phr, size_t *len, size_t n)
{
    mnode_t *rootn = apr_pcalloc(scratch, sizeof *rootn);
    for (size_t k = 0; k < n; k++) {
        mnode_t *p = rootn;
        for (size_t i = 0; i < len[k]; i++) {
            unsigned char l = lc((unsigned char)phr[k][i]);
            mnode_t *c = kid(p, l);
            if (!c) {
                c = apr_pcalloc(scratch, sizeof *c);
                c->letter = l;
                c->depth = (int)i;
                c->text = phr[k];
                c->parent = p;
                c->sibling = p->child; /* order does not matter: letters are unique */
                p->child = c;
            }
            if (i == len[k] - 1)
                c->is_last = 1;
            p = c;
        }
    }
    /* breadth first: one-step failure links */
    apr_array_header_t *q = apr_array_make(scratch, 64, sizeof(mnode_t *));
    for (mnode_t *c = rootn->child; c; c = c->sibling)
        APR_ARRAY_PUSH(q, mnode_t *) = c;
    for (int h = 0; h < q->nelts; h++) {
        mnode_t *v = APR_ARRAY_IDX(q, h, mnode_t *);
        v->fail = rootn;
        if (v->parent != rootn) {
            mnode_t *g = kid(v->parent->fail, v->letter);
            v->fail = g ? g : rootn;
        }
        for (mnode_t *c = v->child; c; c = c->sibling)
            APR_ARRAY_PUSH(q, mnode_t *) = c;
    }
    for (int h = 0; h < q->nelts; h++) {
        mnode_t *v = APR_ARRAY_IDX(q, h, mnode_t *);
        for (mnode_t *om = v->fail; om != rootn; om = om->fail)
            if (om->is_last) {
                v->omatch = om;
                break;
            }
    }
    return rootn;
}

static mnode_t *model_match(mnode_t *rootn, const unsigned char *s, size_t n)
{
    mnode_t *node = rootn;
    for (size_t i = 0; i < n; i++) {
        unsigned char l = lc(s[i]);
        mnode_t *go = NULL;
        while (!go) {
            go = kid(node, l);
            if (go && go->is_last)
                return go;
            if (node == rootn)
                break;
            if (!go)
                node = node->fail;
        }
        if (go)
            node = go;
        if (node->omatch)
            return node;
    }
    return NULL;
}

static int ci_find(const unsigned char *h, size_t hn, const char *p, size_t pn)
{
    for (size_t i = 0; pn <= hn && i <= hn - pn; i++) {
        size_t k = 0;
        while (k < pn && lc(h[i + k]) == lc((unsigned char)p[k]))
            k++;
        if (k == pn)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memchr(data, 0xFF, size);
    if (!sep)
        return 0;
    size_t alen = (size_t)(sep - data);
    char *arg = apr_palloc(scratch, alen + 1);
    for (size_t i = 0; i < alen; i++) {
        char c = (char)data[i];
        arg[i] = (c == '\0' || c == '|' || c == '\\' || c == '"') ? 'x' : c;
    }
    arg[alen] = '\0';
    const unsigned char *val = sep + 1;
    size_t vlen = size - alen - 1;
    char *copy = malloc(vlen ? vlen : 1); /* exactly the value: reads past it are ASan's */
    memcpy(copy, val, vlen);

    /* the phrases: blank-separated words, as @pm splits them (apr_isspace) */
    char **phr = apr_palloc(scratch, sizeof(char *) * (alen + 1));
    size_t *len = apr_palloc(scratch, sizeof(size_t) * (alen + 1)), n = 0;
    for (char *p = arg; *p;) {
        while (*p && strchr(" \t\n\v\f\r", *p))
            p++;
        if (!*p)
            break;
        char *e = p;
        while (*e && !strchr(" \t\n\v\f\r", *e))
            e++;
        phr[n] = p;
        len[n++] = (size_t)(e - p);
        p = e;
    }
    void *pm = NULL;
    const pp_op_def_t *def = pp_op_find("pm");
    if (def->parse(scratch, arg, &pm) != NULL) {
        CHECK(n == 0); /* only an empty list is refused */
        free(copy);
        apr_pool_clear(scratch);
        return 0;
    }
    pp_str_t got;
    bool m = pp_pm_match(pm, (pp_str_t){ copy, vlen }, &got);
    mnode_t *want = model_match(model_build(phr, len, n), (const unsigned char *)copy, vlen);
    CHECK(m == (want != NULL));
    if (m) {
        CHECK(got.len == (size_t)want->depth + 1 && memcmp(got.data, want->text, got.len) == 0);
        int occurs = 0, prefix = 0;
        for (size_t k = 0; k < n; k++) {
            occurs |= ci_find((const unsigned char *)copy, vlen, phr[k], len[k]);
            prefix |= len[k] >= got.len && ci_find((const unsigned char *)phr[k], got.len,
                                                   got.data, got.len);
        }
        CHECK(occurs && prefix);
        const pp_rx_needs_t *nd = def->needs(pm);
        pp_str_t v = { copy, vlen };
        CHECK(nd && pp_rx_needs_met(nd, v, pp_sketch_build(scratch, v)) &&
              pp_rx_needs_met(nd, v, NULL));
    } else {
        /* no match can only be a miss when some phrase does occur; nothing to check here
         * beyond the model, but an empty list or value never matches */
    }
    int any = 0;
    for (size_t k = 0; k < n && !any; k++)
        any = ci_find((const unsigned char *)copy, vlen, phr[k], len[k]);
    if (!any)
        CHECK(!m);
    free(copy);
    apr_pool_clear(scratch);
    return 0;
}
