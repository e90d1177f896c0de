/*
 * What the audit and log-target unit tests share (test_audit.c, test_log_targets.c): a
 * configuration from directive lines in this run's temp dir, one transaction run the way the
 * adapter runs it, reading a log file back, a strict parser of Serial records, and the run's
 * set-up and clean-up. Include after <cmocka.h>.
 */
#ifndef PP_AUDIT_FIXTURE_H
#define PP_AUDIT_FIXTURE_H

#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log.h"
#include "pp_cfg_lines.h"
#include "pp_tmpdir.h"

#define SEP_EQ "========================================"
#define SEP_DASH "----------------------------------------"
/* A Serial record opens with "==<8 hex>==" padded with '=' to 40 and closes with "--<8 hex>--". */
#define OPEN_RE "^==([0-9a-f]{8})={30}$"

static apr_pool_t *pool;
static char tmp[PATH_MAX];

/* ---- Helpers: configuration, transactions, files ------------------------------------------- */

/* A configuration from directive lines ('\n' between them); "@TMP@" is this run's temp dir
 * (pp_cfg_lines.h). */
static inline const char *cfg_try(apr_pool_t *cp, const char *text, pp_cfg_t **out)
{
    return pp_test_cfg_try(cp, text, tmp, out);
}

static inline pp_cfg_t *cfg_make(apr_pool_t *cp, const char *text)
{
    return pp_test_cfg_make(cp, text, tmp);
}

typedef struct req_t {
    const char *line;
    const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
    const char *body;
    apr_size_t body_len;
    int status;
    const char *handler;
    const char *uid;
} req_t;

static inline void add_header(pp_tx_t *tx, const char *h, bool response)
{
    const char *colon = strchr(h, ':');
    pp_str_t name = { h, (apr_size_t)(colon - h) }, value = pp_str_from_cstr(colon + 2);
    if (response)
        pp_tx_add_response_header(tx, name, value);
    else
        pp_tx_add_request_header(tx, name, value);
}

/* Runs one transaction the way the adapter does; returns whether it was relevant. */
static inline bool tx_run(const pp_cfg_t *cfg, apr_pool_t *parent, const req_t *rq)
{
    apr_pool_t *p;
    apr_pool_create(&p, parent);
    pp_tx_t *tx = pp_tx_create(cfg, p, rq->uid);
    pp_conn_info_t ci = { .client_ip = "192.0.2.1", .client_port = 40000,
                          .server_ip = "192.0.2.10", .server_port = 80,
                          .server_name = "example.com", .server_software = "Apache",
                          .handler = rq->handler };
    pp_tx_set_conn(tx, &ci);
    pp_tx_set_request_line(tx, pp_str_from_cstr(rq->line));
    for (const char *const *h = rq->headers; h && *h; h++)
        add_header(tx, *h, false);
    pp_tx_finish_request_headers(tx);
    if (rq->body && pp_tx_wants_request_body(tx))
        for (apr_size_t off = 0; off < rq->body_len; off += 8192)
            pp_tx_feed_request_body(tx, rq->body + off,
                                    rq->body_len - off > 8192 ? 8192 : rq->body_len - off);
    pp_tx_finish_request_body(tx);
    const pp_verdict_t *v = pp_tx_verdict(tx);
    int status = rq->status ? rq->status : v->intercepted ? v->status : 200;
    pp_tx_set_response_status(tx, status, NULL);
    add_header(tx, "Content-Type: text/html", true);
    pp_tx_finish_response_headers(tx);
    pp_tx_finish_response_body(tx);
    assert_int_equal(pp_tx_finish(tx), APR_SUCCESS);
    bool relevant = v->relevant;
    apr_pool_destroy(p);
    return relevant;
}

static inline char *slurp(const char *name, apr_size_t *len)
{
    const char *path = name[0] == '/' ? name : apr_pstrcat(pool, tmp, "/", name, NULL);
    apr_file_t *f;
    apr_finfo_t fi;
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, pool) != APR_SUCCESS) {
        *len = 0;
        return apr_pstrdup(pool, "");
    }
    apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    char *buf = apr_palloc(pool, (apr_size_t)fi.size + 1);
    apr_size_t n = 0;
    apr_file_read_full(f, buf, (apr_size_t)fi.size, &n);
    apr_file_close(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static const char *const form_headers[] = {
    "Host: example.com", "User-Agent: test/1.0",
    "Content-Type: application/x-www-form-urlencoded", NULL
};

/* ---- Serial record parser ------------------------------------------------------------------ */

typedef struct rec_t {
    const char *boundary;
    const char *uid, *request, *handler, *reqline, *response;
    apr_array_header_t *headers; /* const char* lines */
    apr_array_header_t *files;   /* const char* File: lines */
    bool has_body;
    const char *count_line;
    pp_str_t body;
} rec_t;

typedef struct cursor_t {
    const char *pos, *end;
} cursor_t;

/* Next line without its '\n'; NULL at the end or when the line is not terminated. */
static inline const char *line_next(cursor_t *c)
{
    const char *nl = memchr(c->pos, '\n', (size_t)(c->end - c->pos));
    if (!nl)
        return NULL;
    const char *s = apr_pstrmemdup(pool, c->pos, (apr_size_t)(nl - c->pos));
    c->pos = nl + 1;
    return s;
}

static inline const char *line_peek(cursor_t *c)
{
    cursor_t copy = *c;
    return line_next(&copy);
}

static inline bool starts(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The boundary of an opening separator line, or NULL when l is not one. */
static inline const char *open_boundary(const char *l)
{
    regex_t re;
    regmatch_t m[2];
    assert_int_equal(regcomp(&re, OPEN_RE, REG_EXTENDED), 0);
    int rc = regexec(&re, l, 2, m, 0);
    regfree(&re);
    return rc == 0 ? apr_pstrmemdup(pool, l + m[1].rm_so, (apr_size_t)(m[1].rm_eo - m[1].rm_so))
                   : NULL;
}

/* Parses one record at c; false (with *why) when the layout is broken. */
static inline bool parse_record(cursor_t *c, rec_t *r, const char **why)
{
    memset(r, 0, sizeof *r);
    r->headers = apr_array_make(pool, 8, sizeof(const char *));
    r->files = apr_array_make(pool, 1, sizeof(const char *));
    const char *l = line_next(c);
    if (!l || !(r->boundary = open_boundary(l)))
        return *why = "opening separator", false;
    const char *close = apr_psprintf(pool, "--%s--", r->boundary);
    if (!starts(l = line_next(c), "UNIQUE_ID: "))
        return *why = "UNIQUE_ID", false;
    r->uid = l + 11;
    if (!starts(l = line_next(c), "Request: "))
        return *why = "Request:", false;
    r->request = l + 9;
    if (!starts(l = line_next(c), "Handler: "))
        return *why = "Handler:", false;
    r->handler = l + 9;
    if (!(l = line_next(c)) || strcmp(l, SEP_DASH) != 0)
        return *why = "dash separator", false;
    if (!(r->reqline = line_next(c)) || !*r->reqline)
        return *why = "request line", false;
    while ((l = line_next(c)) && *l) {
        if (!strstr(l, ": "))
            return *why = "request header", false;
        APR_ARRAY_PUSH(r->headers, const char *) = l;
    }
    if (!l)
        return *why = "end of headers", false;
    l = line_peek(c);
    if (l && l[0] >= '0' && l[0] <= '9') {
        r->count_line = line_next(c);
        apr_size_t n = strtoul(r->count_line, NULL, 10);
        if ((apr_size_t)(c->end - c->pos) < n + 1 || c->pos[n] != '\n')
            return *why = "body count", false;
        r->has_body = true;
        r->body = (pp_str_t){ c->pos, n };
        c->pos += n + 1;
        while ((l = line_next(c)) && starts(l, "File: "))
            APR_ARRAY_PUSH(r->files, const char *) = l;
        if (!l || *l)
            return *why = "blank after body", false;
    }
    if (!starts(r->response = line_next(c), "HTTP/"))
        return *why = "response line", false;
    while ((l = line_next(c)) && strcmp(l, close) != 0) {
        if (!strstr(l, ": "))
            return *why = "response header", false;
    }
    if (!l)
        return *why = "closing boundary", false;
    return true;
}

/* All records of a Serial file; fails the test on any broken record. */
static inline apr_array_header_t *parse_file(const char *name)
{
    apr_size_t len;
    char *buf = slurp(name, &len);
    cursor_t c = { buf, buf + len };
    apr_array_header_t *recs = apr_array_make(pool, 16, sizeof(rec_t));
    while (c.pos < c.end) {
        const char *why = NULL;
        rec_t *r = apr_array_push(recs);
        if (!parse_record(&c, r, &why))
            fail_msg("%s: record %d broken at %s (offset %ld)", name, recs->nelts, why,
                     (long)(c.pos - buf));
    }
    return recs;
}

static inline bool has_line(const apr_array_header_t *a, const char *line)
{
    for (int i = 0; i < a->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(a, i, const char *), line) == 0)
            return true;
    return false;
}

static inline bool has_prefix(const apr_array_header_t *a, const char *prefix)
{
    for (int i = 0; i < a->nelts; i++)
        if (starts(APR_ARRAY_IDX(a, i, const char *), prefix))
            return true;
    return false;
}

static inline void assert_matches(const char *s, const char *pattern)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&re, s, 0, NULL, 0);
    regfree(&re);
    if (rc != 0)
        fail_msg("\"%s\" does not match /%s/", s, pattern);
}

/* With at least one rule, so target slots are interned at configuration time (the threaded
 * tests must not be the first to touch the configuration pool). */
#define BASE_CFG                                                                               \
    "SecFilterEngine On\nSecFilterScanPOST On\nSecFilter attack\n"

/* The run's set-up: APR, the engine, this run's temp dir (tmp). Non-zero when it failed. */
static inline int audit_test_begin(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    assert_null(pp_engine_init(pool));
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof tmp, "%s/parapet-audit-XXXXXX", tmpdir);
    if (!mkdtemp(tmp))
        return 1;
    umask(022);
    return 0;
}

/* The run's clean-up after the tests gave rc: the temp dir is removed when they passed (kept
 * to look at when one failed). Returns the run's exit status. */
static inline int audit_test_end(int rc)
{
    if (rc == 0 && pp_test_remove_tree(tmp) != 0)
        rc = 1;
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}

#endif
