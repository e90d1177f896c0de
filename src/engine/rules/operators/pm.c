/*
 * @pm, @pmf and @pmFromFile: ModSecurity 2.9.7's phrase matching, quirks included (reference
 * §8.3). The phrases go into an Aho-Corasick trie built once at start-up and matched
 * case-insensitively (ASCII, as in the C locale). Three of ModSecurity's own choices decide
 * what matches and what is reported, and are kept on purpose so that the same rule gives the
 * same verdict and the same TX:0:
 *  - a node's failure link is looked up only one step back (the child of the parent's failure
 *    node with the same letter, else the root), not along the whole failure chain;
 *  - the scan stops at the first byte where a phrase ends; a phrase ending exactly at the node
 *    reached reports that node's text, one found only through the failure links ("o_match")
 *    reports the text of the node reached, which is a prefix of a longer phrase;
 *  - a node's text is the prefix of the first phrase that created it, in that phrase's case.
 * Phrase text goes through ModSecurity's content syntax (|hex|, \ escapes, surrounding double
 * quotes) before it is split (@pm: on blanks; files: one phrase per line, trimmed, '#' lines
 * and lines of one byte skipped). The trie's scan is then tabulated for the nodes near the
 * root (pm_build_dfa), so that matching is mostly one table look-up per byte. The compiled
 * matcher lives in the configuration pool and is read-only at run time; matching allocates
 * nothing.
 */
#include "rules/operators/operators.h"

#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PM_LINE 8192 /* apr_file_gets(buf, HUGE_STRING_LEN) as ModSecurity reads phrase files */
#define PM_BASE_DIR_KEY "parapet.op.base_dir"

/* One trie node, 8 bytes (CRS's phrase files make ~42,000 of them). The nodes are numbered
 * breadth first, a node's children in letter order, so the children of a node are the nodes
 * kids .. next node's kids - 1 and no child array is kept. Only the nodes where the scan can
 * stop (a phrase ends there, or it has ModSecurity's "o_match" link, of which only whether
 * there is one is kept: the scan reports the text of the node it stops at) have a text, in
 * pm_t.out: they are a few thousand of the ~42,000. */
typedef struct pm_node_t {
    uint32_t fail;
    uint32_t kids;           /* the first child's number (the next node's kids: none) */
} pm_node_t;

/* A stopping node's text: the first len bytes of pm_t.text + text (the creating phrase). */
typedef struct pm_out_t {
    uint32_t text, len;
} pm_out_t;

typedef struct pm_t {
    pm_node_t *node;         /* node[0] is the root; node[nnodes] only closes the kid range */
    uint32_t nnodes;
    uint8_t *letter;         /* per node: the letter of the edge into it (node[0]: unused) */
    uint64_t *last, *stop;   /* bit per node: a phrase ends there; the scan stops there */
    uint32_t *stop_rank;     /* per 64 nodes: the stopping nodes before them */
    pm_out_t *out;           /* per stopping node, in node order */
    const char *text;        /* every phrase, one after another */
    uint32_t root_next[256]; /* the root's children by lower-cased byte, 0 = none */
    uint32_t nphrases;
    /* The same automaton as a table for the nodes near the root, where a scan spends nearly
     * all its time (pm_build_dfa): cls[] maps a byte to one of ncls columns (0: a byte no
     * phrase holds, in either case); the row of a tabulated node holds, per
     * column, the next node, or PM_SPECIAL | the next node when the scan stops there or it
     * lies deeper than PM_DFA_DEPTH (walked with step() until the scan comes back near the
     * root). Breadth first, the tabulated nodes are the first nstates: a node's row is its
     * number. NULL when the list has too many nodes for 15 bits: the trie is walked. */
    uint16_t *dfa;
    uint32_t nstates;
    uint32_t ncls;
    uint8_t cls[256];
    const pp_rx_needs_t *needs; /* the phrases (or prefixes of them) as literal needs */
} pm_t;

#define PM_SPECIAL 0x8000u
#define PM_DFA_MAX_NODES 0x8000u
/* CRS's 20 phrase files: ~390 KB of rows (3.5 MB if every node had one), for 0.6 % more
 * instructions per byte than a row per node on a CRS POST */
#define PM_DFA_DEPTH 6

/* The literal needs of a list are its phrases cut to prefixes short enough that their trie has
 * at most this many nodes: the rule index joins them into the automaton of every target the
 * rule tests (rules/index.c), whose table grows with its states times its byte classes. CRS
 * 3.3.4's lists keep 9 to 32 bytes for the short ones, 2 or 3 for lfi-os-files.data,
 * php-config-directives.data, php-errors.data, restricted-files.data, sql-errors.data and
 * windows-powershell-commands.data, 1 for php-function-names-933151.data. Measured with CRS
 * PL1 (bench_rules, peak RSS / instructions per POST 2 KB): 128 nodes +1.1 MB / -10 %, 256
 * +2.1 MB / -13 %, 512 +4.8 MB / -16 % over not gating the lists. */
#define PM_NEEDS_NODES 128

#define PM_BIT(set, v) (((set)[(v) >> 6] >> ((v) & 63)) & 1u)

/* ---- building (start-up) -------------------------------------------------------------- */

typedef struct bnode_t {
    uint32_t first_child, sibling, parent, fail, omatch;
    uint32_t depth, text;    /* text: offset in builder_t.text */
    uint8_t letter, is_last;
} bnode_t;

typedef struct builder_t {
    apr_pool_t *tmp;
    apr_array_header_t *nodes; /* bnode_t */
    apr_array_header_t *text;  /* the phrases' bytes */
    apr_size_t nphrases;
    const char *err;           /* set when the phrases outgrow the 32-bit offsets */
} builder_t;

static unsigned char lc(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

#define BN(b, i) (&APR_ARRAY_IDX((b)->nodes, (i), bnode_t))

static uint32_t child_for(builder_t *b, uint32_t parent, uint8_t letter)
{
    for (uint32_t c = BN(b, parent)->first_child; c; c = BN(b, c)->sibling)
        if (BN(b, c)->letter == letter)
            return c;
    return 0;
}

/* acmp_add_pattern: the text is kept so that node texts can point into it. */
static void add_phrase(builder_t *b, const char *p, apr_size_t len)
{
    if (b->err)
        return;
    if (len >= (1u << 30) || (apr_size_t)b->text->nelts + len >= UINT32_MAX / 2) {
        b->err = "the phrases are too long (more than 2 GB)";
        return;
    }
    uint32_t text = (uint32_t)b->text->nelts;
    for (apr_size_t i = 0; i < len; i++)
        APR_ARRAY_PUSH(b->text, char) = p[i];
    uint32_t parent = 0;
    for (apr_size_t i = 0; i < len; i++) {
        uint8_t letter = lc((unsigned char)p[i]);
        uint32_t c = BN(b, parent)->first_child, prev = 0;
        while (c && BN(b, c)->letter != letter) {
            prev = c;
            c = BN(b, c)->sibling;
        }
        if (!c) { /* new children go last among their siblings */
            c = (uint32_t)b->nodes->nelts;
            bnode_t *n = apr_array_push(b->nodes);
            memset(n, 0, sizeof *n);
            n->letter = letter;
            n->depth = (uint32_t)i;
            n->parent = parent;
            n->text = text;
            if (prev)
                BN(b, prev)->sibling = c;
            else
                BN(b, parent)->first_child = c;
        }
        if (i == len - 1 && !BN(b, c)->is_last) {
            BN(b, c)->is_last = 1;
            b->nphrases++;
        }
        parent = c;
    }
}

static uint32_t go(const pm_t *pm, uint32_t node, uint8_t letter)
{
    if (node == 0)
        return pm->root_next[letter];
    const pm_node_t *n = &pm->node[node];
    const uint8_t *l = pm->letter + n->kids;
    unsigned lo = 0, hi = n[1].kids - n->kids;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (l[mid] == letter)
            return n->kids + mid;
        if (l[mid] < letter)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static bool pm_accepts(const pm_t *pm, uint32_t node)
{
    return PM_BIT(pm->stop, node);
}

/* The text of a node where the scan stops (pm_accepts). */
static pp_str_t pm_text(const pm_t *pm, uint32_t node)
{
    uint64_t below = pm->stop[node >> 6] & ((1ull << (node & 63)) - 1);
    const pm_out_t *o = &pm->out[pm->stop_rank[node >> 6] + (uint32_t)__builtin_popcountll(below)];
    return (pp_str_t){ pm->text + o->text, o->len };
}

/* One byte of ModSecurity's scan (acmp_process_quick) from node v: the child for the letter,
 * else the same from v's failure node, one failure at a time until the root. The scan stops at
 * the node reached when it ends a phrase or has an "o_match" (pm_accepts). */
static uint32_t step(const pm_t *pm, uint32_t v, uint8_t letter)
{
    for (;;) {
        uint32_t to = go(pm, v, letter);
        if (to || v == 0)
            return to;
        v = pm->node[v].fail;
    }
}

/* step() as a table for the nodes at most PM_DFA_DEPTH letters deep: the row of v is the row
 * of its failure node (nearer the root: built before it, breadth first) with v's own children
 * written over it. Letters that label no edge share column 0, which leads to the root from
 * every node. Built once at start-up. */
static void pm_build_dfa(pm_t *pm, apr_pool_t *cp)
{
    pm->ncls = 1;
    for (uint32_t v = 1; v < pm->nnodes; v++) { /* every node but the root */
        uint8_t letter = pm->letter[v];
        if (!pm->cls[letter])
            pm->cls[letter] = (uint8_t)pm->ncls++;
    }
    for (unsigned c = 'A'; c <= 'Z'; c++)
        pm->cls[c] = pm->cls[c | 0x20];
    if (pm->nnodes >= PM_DFA_MAX_NODES)
        return;
    apr_size_t ncls = pm->ncls;
    uint32_t nstates = pm->nstates;
    uint16_t *t = apr_palloc(cp, nstates * ncls * sizeof(uint16_t));
    memset(t, 0, ncls * sizeof(uint16_t)); /* the root's row; every other row is copied */
    for (uint32_t v = 0; v < nstates; v++) {
        const pm_node_t *n = &pm->node[v];
        uint16_t *row = t + (apr_size_t)v * ncls;
        if (v != 0)
            memcpy(row, t + (apr_size_t)n->fail * ncls, ncls * sizeof(uint16_t));
        for (uint32_t to = n->kids; to < n[1].kids; to++) {
            bool plain = to < nstates && !pm_accepts(pm, to);
            row[pm->cls[pm->letter[to]]] = (uint16_t)(plain ? to : PM_SPECIAL | to);
        }
    }
    pm->dfa = t;
}

static int cmp_letter(const void *a, const void *b)
{
    return (int)((const uint8_t *)a)[0] - (int)((const uint8_t *)b)[0];
}

/* acmp_connect_fail_branches + acmp_connect_other_matches, then a flat read-only copy. */
static pm_t *finish(builder_t *b, apr_pool_t *cp)
{
    uint32_t n = (uint32_t)b->nodes->nelts;
    uint32_t *queue = apr_palloc(b->tmp, sizeof(uint32_t) * n);
    uint32_t qh = 0, qt = 0;
    for (uint32_t c = BN(b, 0)->first_child; c; c = BN(b, c)->sibling)
        queue[qt++] = c;
    while (qh < qt) {
        uint32_t v = queue[qh++];
        bnode_t *nv = BN(b, v);
        nv->fail = 0;
        if (nv->parent != 0)
            nv->fail = child_for(b, BN(b, nv->parent)->fail, nv->letter);
        for (uint32_t c = nv->first_child; c; c = BN(b, c)->sibling)
            queue[qt++] = c;
    }
    for (uint32_t v = 1; v < n; v++) {
        for (uint32_t om = BN(b, v)->fail; om != 0; om = BN(b, om)->fail)
            if (BN(b, om)->is_last) {
                BN(b, v)->omatch = om;
                break;
            }
    }

    pm_t *pm = apr_pcalloc(cp, sizeof *pm);
    pm->nnodes = n;
    pm->nphrases = (uint32_t)b->nphrases;
    pm->text = apr_pstrmemdup(cp, b->text->elts, (apr_size_t)b->text->nelts);
    pm->node = apr_palloc(cp, sizeof(pm_node_t) * (n + 1));
    pm->letter = apr_palloc(cp, n ? n : 1);
    /* Renumbered breadth first, children in letter order: order[new] = old, num[old] = new. */
    uint32_t *order = apr_palloc(b->tmp, sizeof(uint32_t) * n);
    uint32_t *num = apr_palloc(b->tmp, sizeof(uint32_t) * n);
    struct { uint8_t letter; uint32_t idx; } *tmp = apr_palloc(b->tmp, sizeof *tmp * 256);
    uint32_t nn = 1;
    order[0] = 0;
    num[0] = 0;
    for (uint32_t q = 0; q < nn; q++) {
        unsigned k = 0;
        bool sorted = true;
        for (uint32_t c = BN(b, order[q])->first_child; c; c = BN(b, c)->sibling) {
            tmp[k].letter = BN(b, c)->letter;
            tmp[k].idx = c;
            sorted = sorted && (k == 0 || tmp[k - 1].letter < tmp[k].letter);
            k++;
        }
        if (!sorted)
            qsort(tmp, k, sizeof *tmp, cmp_letter);
        pm->node[q].kids = nn;
        for (unsigned i = 0; i < k; i++) {
            order[nn] = tmp[i].idx;
            num[tmp[i].idx] = nn;
            pm->letter[nn] = tmp[i].letter;
            if (q == 0)
                pm->root_next[tmp[i].letter] = nn;
            nn++;
        }
    }
    apr_size_t words = n / 64 + 1;
    pm->last = apr_pcalloc(cp, words * sizeof(uint64_t));
    pm->stop = apr_pcalloc(cp, words * sizeof(uint64_t));
    pm->stop_rank = apr_palloc(cp, words * sizeof(uint32_t));
    uint32_t nstop = 0;
    for (uint32_t v = 0; v < n; v++) {
        bnode_t *bv = BN(b, order[v]);
        pm->node[v].fail = num[bv->fail];
        if (bv->is_last)
            pm->last[v >> 6] |= 1ull << (v & 63);
        if (bv->is_last || bv->omatch) {
            pm->stop[v >> 6] |= 1ull << (v & 63);
            nstop++;
        }
    }
    pm->node[n] = (pm_node_t){ .kids = n };
    pm->out = apr_palloc(cp, (nstop ? nstop : 1) * sizeof(pm_out_t));
    nstop = 0;
    for (uint32_t v = 0; v < n; v++) {
        bnode_t *bv = BN(b, order[v]);
        if (!(v & 63))
            pm->stop_rank[v >> 6] = nstop;
        if (PM_BIT(pm->stop, v))
            pm->out[nstop++] = (pm_out_t){ bv->text, bv->depth + 1 };
    }
    /* Numbered breadth first, the nodes at most PM_DFA_DEPTH letters deep come first. */
    pm->nstates = 1;
    while (pm->nstates < n && BN(b, order[pm->nstates])->depth + 1 <= PM_DFA_DEPTH)
        pm->nstates++;
    pm_build_dfa(pm, cp);
    /* Needs: every match holds a phrase (a node where one ends is reached only through the
     * value's own bytes, and its failure links are suffixes of it, so the scan reports a phrase
     * only when the value holds one, in either ASCII case), so every match holds a literal. */
    pp_str_t *ph = apr_palloc(b->tmp, (b->nphrases ? b->nphrases : 1) * sizeof *ph);
    unsigned nph = 0;
    for (uint32_t v = 1; v < n && nph < b->nphrases; v++)
        if (BN(b, v)->is_last)
            ph[nph++] = (pp_str_t){ (const char *)b->text->elts + BN(b, v)->text,
                                    BN(b, v)->depth + 1 };
    pm->needs = pp_rx_needs_of_texts(cp, ph, nph, PM_NEEDS_NODES);
    return pm;
}

/* The builder's pool has an allocator of its own, so that what it held (CRS's largest
 * phrase file: ~1.5 MB of nodes, in blocks too large for the configuration's later small
 * allocations) goes back to the system when it is destroyed instead of staying mapped, unused,
 * in the configuration pool's allocator of every worker. */
static builder_t *builder_new(apr_pool_t *cp)
{
    apr_pool_t *tmp;
    if (pp_pool_create_own(&tmp, cp) != APR_SUCCESS)
        return NULL;
    builder_t *b = apr_pcalloc(tmp, sizeof *b);
    b->tmp = tmp;
    b->nodes = apr_array_make(tmp, 1024, sizeof(bnode_t));
    b->text = apr_array_make(tmp, 4096, 1);
    bnode_t *root = apr_array_push(b->nodes);
    memset(root, 0, sizeof *root);
    return b;
}

/* ModSecurity's parse_pm_content (msc_util.c), transcribed: a parameter wrapped in double
 * quotes loses them, |41 42| is hex, \ escapes ; : \ ". NULL (with *why) for an empty
 * content or an unsupported escape; the caller then uses the text as it was. Lengths are
 * unsigned short there and so here. */
static char *pm_content(apr_pool_t *p, const char *op_parm, const char **why)
{
    unsigned short op_len = (unsigned short)strlen(op_parm), offset = 0;
    char *content = apr_pstrdup(p, op_parm), *parm;
    while (offset < op_len && apr_isspace(content[offset]))
        offset++;
    op_len = (unsigned short)strlen(content);
    if (content[offset] == '"' && op_len > 0 && content[op_len - 1] == '"') {
        parm = apr_pstrdup(p, content + offset + 1);
        if (op_len - offset - 2 >= 0)
            parm[op_len - offset - 2] = '\0';
    } else {
        parm = apr_pstrdup(p, content + offset);
    }
    op_len = (unsigned short)strlen(parm);
    if (op_len == 0) {
        *why = "Content length is 0.";
        return NULL;
    }
    int x = 0;
    unsigned char bin = 0, esc = 0, bin_offset = 0, converted = 0;
    char bin_parm[3] = { 0, 0, 0 };
    for (int i = 0; i < op_len; i++) {
        char ch = parm[i];
        if (ch == '|') {
            bin = !bin;
        } else if (!esc && ch == '\\') {
            esc = 1;
        } else if (bin) {
            if (apr_isxdigit(ch)) {
                bin_parm[bin_offset++] = ch;
                if (bin_offset == 2) {
                    parm[x++] = (char)(strtol(bin_parm, NULL, 16) & 0xFF);
                    bin_offset = 0;
                    converted = 1;
                }
            }
        } else if (esc) {
            if (ch == ':' || ch == ';' || ch == '\\' || ch == '"') {
                parm[x++] = ch;
            } else {
                *why = "Unsupported escape sequence.";
                return NULL;
            }
            esc = 0;
            converted = 1;
        } else {
            parm[x++] = ch;
        }
    }
    if (converted)
        op_len = (unsigned short)x;
    return apr_pstrmemdup(p, parm, op_len);
}

const char *pp_op_pm_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    if (!arg || !*arg)
        return "Missing parameter for operator 'pm'.";
    builder_t *b = builder_new(cp);
    if (!b)
        return "out of memory";
    const char *why = NULL;
    char *c = pm_content(b->tmp, arg, &why);
    /* apr_pstrdup of the processed content: a NUL from |00| ends the list */
    const char *phrase = c ? c : arg;
    for (;;) {
        while (apr_isspace(*phrase))
            phrase++;
        if (!*phrase)
            break;
        const char *next = phrase;
        while (*next && !apr_isspace(*next))
            next++;
        add_phrase(b, phrase, (apr_size_t)(next - phrase));
        phrase = next;
    }
    if (b->err) {
        const char *err = b->err; /* a literal; b lives in b->tmp */
        apr_pool_destroy(b->tmp);
        return err;
    }
    *compiled = finish(b, cp);
    apr_pool_destroy(b->tmp);
    return NULL;
}

/* Called for every rule: the copy is made only when the directory changes (CRS: 800 copies of
 * one directory name otherwise). */
void pp_op_set_base_dir(apr_pool_t *cp, const char *dir)
{
    void *base = NULL;
    apr_pool_userdata_get(&base, PM_BASE_DIR_KEY, cp);
    if (base && dir && strcmp(base, dir) == 0)
        return;
    apr_pool_userdata_set(dir ? apr_pstrdup(cp, dir) : NULL, PM_BASE_DIR_KEY, NULL, cp);
}

const char *pp_op_resolve_path(apr_pool_t *cp, const char *fn)
{
    void *base = NULL;
    apr_pool_userdata_get(&base, PM_BASE_DIR_KEY, cp);
    if (fn[0] == '/' || !base)
        return fn;
    char *merged = NULL;
    if (apr_filepath_merge(&merged, base, fn, APR_FILEPATH_TRUENAME, cp) != APR_SUCCESS)
        return apr_pstrcat(cp, (const char *)base, "/", fn, NULL);
    return merged;
}

/* One file's phrases, as msre_op_pmFromFile_param_init reads them. */
static const char *load_file(builder_t *b, apr_pool_t *cp, const char *fn)
{
    char errstr[256];
    apr_file_t *fd;
    apr_status_t rc = apr_file_open(&fd, fn, APR_READ | APR_BUFFERED, 0, b->tmp);
    if (rc != APR_SUCCESS)
        return apr_psprintf(cp, "Could not open phrase file \"%s\": %s", fn,
                            apr_strerror(rc, errstr, sizeof errstr));
    char *buf = apr_palloc(b->tmp, PM_LINE + 1);
    for (int line = 1;; line++) {
        rc = apr_file_gets(buf, PM_LINE, fd);
        if (rc == APR_EOF)
            break;
        if (rc != APR_SUCCESS) {
            apr_file_close(fd);
            return apr_psprintf(cp, "Could not read \"%s\" line %d: %s", fn, line,
                                apr_strerror(rc, errstr, sizeof errstr));
        }
        const char *why;
        char *processed = pm_content(b->tmp, buf, &why);
        char *start = processed ? processed : buf;
        while (apr_isspace(*start))
            start++;
        char *end = (processed ? processed : buf) + strlen(processed ? processed : buf);
        if (end > start)
            end--;
        while (end > start && apr_isspace(*end))
            end--;
        if (end > start)
            *(++end) = '\0';
        /* start == end: empty, and (ModSecurity's off-by-one) a single byte */
        if (start == end || *start == '#')
            continue;
        add_phrase(b, start, (apr_size_t)(end - start));
    }
    apr_file_close(fd);
    return NULL;
}

const char *pp_op_pmf_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    if (!arg || !*arg)
        return "Missing parameter for operator 'pmFromFile'.";
    builder_t *b = builder_new(cp);
    if (!b)
        return "out of memory";
    char *fn = apr_pstrdup(b->tmp, arg);
    for (;;) {
        while (apr_isspace(*fn))
            fn++;
        if (!*fn)
            break;
        char *next = fn;
        while (*next && !apr_isspace(*next))
            next++;
        while (*next && apr_isspace(*next))
            *next++ = '\0';
        if (strncmp(fn, "http://", 7) == 0 || strncmp(fn, "https://", 8) == 0) {
            /* The message first: fn lives in b->tmp. */
            const char *msg = apr_psprintf(cp, "phrase file \"%s\": only local files are "
                                               "supported (download it and name the file)", fn);
            apr_pool_destroy(b->tmp);
            return msg;
        }
        const char *err = load_file(b, cp, pp_op_resolve_path(cp, fn));
        if (err) {
            apr_pool_destroy(b->tmp);
            return err;
        }
        fn = next;
    }
    if (b->err) {
        const char *err = b->err; /* a literal; b lives in b->tmp */
        apr_pool_destroy(b->tmp);
        return err;
    }
    *compiled = finish(b, cp);
    apr_pool_destroy(b->tmp);
    return NULL;
}

/* ---- matching (per value) ------------------------------------------------------------- */


/* The trie walk, ModSecurity's loop as it is: used for a list too large for the table, and
 * by the tests as the reference the table is checked against. */
bool pp_pm_match_trie(const void *compiled, pp_str_t value, pp_str_t *phrase)
{
    const pm_t *pm = compiled;
    const unsigned char *s = (const unsigned char *)value.data, *end = s + value.len;
    uint32_t node = 0;
    while (s < end) {
        if (node == 0) {
            /* at the root, bytes that start no phrase leave it there */
            while (s < end && !pm->root_next[lc(*s)])
                s++;
            if (s == end)
                break;
        }
        uint8_t letter = lc(*s++);
        uint32_t to = 0;
        for (;;) {
            to = go(pm, node, letter);
            if (to && PM_BIT(pm->last, to)) {
                *phrase = pm_text(pm, to);
                return true;
            }
            if (node == 0 || to)
                break;
            node = pm->node[node].fail;
        }
        if (to)
            node = to;
        if (pm_accepts(pm, node) && !PM_BIT(pm->last, node)) { /* an o_match */
            *phrase = pm_text(pm, node);
            return true;
        }
    }
    return false;
}

bool pp_pm_uses_table(const void *compiled)
{
    return ((const pm_t *)compiled)->dfa != NULL;
}

/* The scan from node on, at s: the trie is walked while the node is deeper than the table,
 * the table is used while it is not, until the scan stops at a node (true, *phrase set) or the
 * value ends. pp_pm_match hands over to it at the first entry that leaves the table. */
static __attribute__((noinline)) bool pm_scan(const pm_t *pm, uint32_t node,
                                              const unsigned char *s, const unsigned char *end,
                                              pp_str_t *phrase)
{
    const uint16_t *t = pm->dfa;
    apr_size_t ncls = pm->ncls;
    for (;;) {
        while (!pm_accepts(pm, node) && node >= pm->nstates && s < end)
            node = step(pm, node, lc(*s++));
        if (pm_accepts(pm, node)) {
            *phrase = pm_text(pm, node);
            return true;
        }
        if (node >= pm->nstates)
            return false; /* the value ended deep in the trie */
        apr_size_t x = node;
        do {
            if (s == end)
                return false;
            x = t[x * ncls + pm->cls[*s++]];
        } while (!(x & PM_SPECIAL));
        node = (uint32_t)(x & ~PM_SPECIAL);
    }
}

bool pp_pm_match(const void *compiled, pp_str_t value, pp_str_t *phrase)
{
    const pm_t *pm = compiled;
    if (!pm->dfa)
        return pp_pm_match_trie(compiled, value, phrase);
    const unsigned char *s = (const unsigned char *)value.data, *end = s + value.len;
    const uint16_t *t = pm->dfa;
    apr_size_t ncls = pm->ncls, x = 0; /* x: an entry, then the offset of its row */
    for (;;) {
        if (s == end)
            return false;
        x = t[x + pm->cls[*s++]];
        if (x & PM_SPECIAL)
            break;
        x *= ncls;
    }
    /* the scan stops here, or goes deeper than the table */
    return pm_scan(pm, (uint32_t)(x & ~PM_SPECIAL), s, end, phrase);
}

const pp_rx_needs_t *pp_op_pm_needs(const void *compiled)
{
    return ((const pm_t *)compiled)->needs;
}

apr_size_t pp_pm_phrases(const void *compiled)
{
    return ((const pm_t *)compiled)->nphrases;
}

apr_status_t pp_op_pm_exec(pp_tx_t *tx, const void *compiled, pp_str_t value, bool *match,
                           pp_op_out_t *out)
{
    pp_str_t phrase;
    *match = value.len > 0 && pp_pm_match(compiled, value, &phrase);
    if (*match) {
        out->data = phrase;
        out->ncaptures = 0;
        if (out->want_captures) {
            out->captures[0] = phrase; /* TX:0 = the phrase */
            out->ncaptures = 1;
        }
    }
    return APR_SUCCESS;
}

const char *pp_pm_content(apr_pool_t *p, const char *arg)
{
    const char *why;
    return pm_content(p, arg, &why);
}

PP_OP_WORDS(pp_op_pm_words)
{
    return apr_psprintf(p, "Matched phrase \"%s\" at %s.", pp_ms_log_escape(p, out->data), var);
}
