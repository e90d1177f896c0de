/*
 * Audit, guardian and debug logs (reference §9, §10, §11), driven through the public API the
 * adapter uses: a configuration from directive lines, pp_tx_* calls, pp_tx_finish. Checks that
 * the Serial record parses back, that JSON lines are valid and carry 2.9's field names, that
 * Concurrent writes the entry before an index line with the right size and MD5, the
 * SecAuditEngine modes and status relevance, the body limit, that records written by four
 * threads at once are never torn, piped targets, the guardian and debug line formats, and the
 * start-up errors of log targets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_md5.h>
#include <apr_thread_proc.h>
#include <json.h>

#include "log/log.h"
#include "pp_tmpdir.h"

#define SEP_EQ "========================================"
#define SEP_DASH "----------------------------------------"
/* A Serial record opens with "==<8 hex>==" padded with '=' to 40 and closes with "--<8 hex>--". */
#define OPEN_RE "^==([0-9a-f]{8})={30}$"

static apr_pool_t *pool;
static char tmp[PATH_MAX];

/* ---- Helpers: configuration, transactions, files ------------------------------------------- */

/* "@TMP@" in a directive line is this run's temp dir. Lines are separated by '\n'. */
static const char *cfg_try(apr_pool_t *cp, const char *text, pp_cfg_t **out)
{
    pp_cfg_t *cfg = pp_cfg_create(cp);
    char *copy = apr_pstrdup(cp, text), *save = NULL;
    for (char *line = apr_strtok(copy, "\n", &save); line; line = apr_strtok(NULL, "\n", &save)) {
        char *sp = strchr(line, ' ');
        *sp = '\0';
        const char *args = sp + 1;
        for (char *at; (at = strstr(args, "@TMP@"));)
            args = apr_psprintf(cp, "%.*s%s%s", (int)(at - args), args, tmp, at + 5);
        const pp_directive_t *d = pp_directive_find(line);
        if (!d)
            fail_msg("unknown directive %s", line);
        pp_cfg_site_t site = { 0 };
        const char *err = pp_cfg_apply(cfg, d, args, &site, cp, cp);
        if (err)
            return err;
    }
    *out = cfg;
    return pp_cfg_finish(cfg, cp, cp);
}

static pp_cfg_t *cfg_make(apr_pool_t *cp, const char *text)
{
    pp_cfg_t *cfg = NULL;
    const char *err = cfg_try(cp, text, &cfg);
    if (err)
        fail_msg("configuration: %s", err);
    return cfg;
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

static void add_header(pp_tx_t *tx, const char *h, bool response)
{
    const char *colon = strchr(h, ':');
    pp_str_t name = { h, (apr_size_t)(colon - h) }, value = pp_str_from_cstr(colon + 2);
    if (response)
        pp_tx_add_response_header(tx, name, value);
    else
        pp_tx_add_request_header(tx, name, value);
}

/* Runs one transaction the way the adapter does; returns whether it was relevant. */
static bool tx_run(const pp_cfg_t *cfg, apr_pool_t *parent, const req_t *rq)
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

static char *slurp(const char *name, apr_size_t *len)
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
static const char *line_next(cursor_t *c)
{
    const char *nl = memchr(c->pos, '\n', (size_t)(c->end - c->pos));
    if (!nl)
        return NULL;
    const char *s = apr_pstrmemdup(pool, c->pos, (apr_size_t)(nl - c->pos));
    c->pos = nl + 1;
    return s;
}

static const char *line_peek(cursor_t *c)
{
    cursor_t copy = *c;
    return line_next(&copy);
}

static bool starts(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The boundary of an opening separator line, or NULL when l is not one. */
static const char *open_boundary(const char *l)
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
static bool parse_record(cursor_t *c, rec_t *r, const char **why)
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
static apr_array_header_t *parse_file(const char *name)
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

static bool has_line(const apr_array_header_t *a, const char *line)
{
    for (int i = 0; i < a->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(a, i, const char *), line) == 0)
            return true;
    return false;
}

static bool has_prefix(const apr_array_header_t *a, const char *prefix)
{
    for (int i = 0; i < a->nelts; i++)
        if (starts(APR_ARRAY_IDX(a, i, const char *), prefix))
            return true;
    return false;
}

static void assert_matches(const char *s, const char *pattern)
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

/* ---- Serial ---------------------------------------------------------------------------------- */

static void test_serial_layout(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, BASE_CFG "SecAuditEngine On\nSecAuditLog @TMP@/serial.log");
    req_t post = { "POST /form?x=1 HTTP/1.1", form_headers, "a=1&b=attack", 12, 0,
                   "php-script", "uid-serial-1" };
    tx_run(cfg, pool, &post);
    req_t get = { "GET /clean HTTP/1.1", form_headers, NULL, 0, 200, NULL, "uid-serial-2" };
    tx_run(cfg, pool, &get);

    apr_array_header_t *recs = parse_file("serial.log");
    assert_int_equal(recs->nelts, 2);
    rec_t *r = &APR_ARRAY_IDX(recs, 0, rec_t);
    assert_string_equal(r->uid, "uid-serial-1");
    assert_matches(r->request, "^example\\.com 192\\.0\\.2\\.1 - - \\[[0-9]{2}/[A-Z][a-z]{2}/"
                               "[0-9]{4}:[0-9:]{8} [-+][0-9]{4}\\] \"POST /form\\?x=1 HTTP/1\\.1\""
                               " 403 -$");
    assert_string_equal(r->handler, "php-script");
    assert_string_equal(r->reqline, "POST /form?x=1 HTTP/1.1");
    assert_true(has_line(r->headers, "Host: example.com"));
    assert_true(has_line(r->headers, "Content-Type: application/x-www-form-urlencoded"));
    assert_true(has_prefix(r->headers, "mod_security-message: Access denied with code 403. "
                                       "Pattern match"));
    assert_true(has_line(r->headers, "mod_security-action: 403"));
    assert_true(r->has_body);
    assert_string_equal(r->count_line, "12");
    assert_int_equal(r->body.len, 12);
    assert_memory_equal(r->body.data, "a=1&b=attack", 12);
    assert_string_equal(r->response, "HTTP/1.1 403 Forbidden");

    r = &APR_ARRAY_IDX(recs, 1, rec_t);
    assert_string_equal(r->uid, "uid-serial-2");
    assert_false(r->has_body);
    assert_string_equal(r->handler, "-");
    assert_string_equal(r->response, "HTTP/1.1 200 OK");
}

/* Header data cannot forge record lines: CR/LF are escaped. */
static void test_serial_escapes_line_breaks(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, BASE_CFG "SecAuditEngine On\nSecAuditLog @TMP@/esc.log");
    const char *const hdrs[] = { "Host: example.com", "X-Evil: a\n" SEP_EQ "\nUNIQUE_ID: x", NULL };
    req_t get = { "GET / HTTP/1.1", hdrs, NULL, 0, 200, NULL, "uid-esc" };
    tx_run(cfg, pool, &get);
    apr_array_header_t *recs = parse_file("esc.log");
    assert_int_equal(recs->nelts, 1);
    assert_true(has_prefix(APR_ARRAY_IDX(recs, 0, rec_t).headers, "X-Evil: a\\x0a===="));
}

/* The boundaries of the records a reader finds when it frames them by boundary alone (no use
 * of the body count): an opening line names the boundary and the record runs to its own
 * closing line. Returns each record's UNIQUE_ID line; a line outside any record fails. */
static apr_array_header_t *frame_records(const char *name)
{
    apr_size_t len;
    char *buf = slurp(name, &len), *save = NULL;
    apr_array_header_t *uids = apr_array_make(pool, 4, sizeof(const char *));
    const char *close = NULL;
    bool want_uid = false;
    for (char *l = apr_strtok(buf, "\n", &save); l; l = apr_strtok(NULL, "\n", &save)) {
        if (want_uid) {
            APR_ARRAY_PUSH(uids, const char *) = l;
            want_uid = false;
        } else if (close) {
            if (strcmp(l, close) == 0)
                close = NULL;
        } else {
            const char *b = open_boundary(l);
            if (!b)
                fail_msg("%s: line outside any record: \"%s\"", name, l);
            close = apr_psprintf(pool, "--%s--", b);
            want_uid = true;
        }
    }
    assert_null(close);
    return uids;
}

/* Attack run D12 (1.11): an urlencoded body that carries a complete record, once in the old
 * fixed-separator layout and once with a made-up boundary, stays inside the real record: a
 * reader that frames by boundary sees one record, and the strict parser reads the body back
 * whole. */
static void test_serial_forged_record(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, BASE_CFG "SecAuditEngine On\nSecAuditLog @TMP@/forge.log");
    const char *fake = "Request: 10.0.0.1 10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "
                       "\"GET /admin HTTP/1.1\" 200 0\nHandler: -\n" SEP_DASH "\n"
                       "GET /admin HTTP/1.1\n\nHTTP/1.1 200 OK\n";
    const char *body = apr_pstrcat(pool, "a=1&b=\n" SEP_EQ "\nUNIQUE_ID: FORGED-RECORD\n", fake,
                                   "==deadbeef==============================\n"
                                   "UNIQUE_ID: FORGED-BOUNDARY\n", fake, "--deadbeef--\n"
                                   "&id=1+union+select+2+attack", NULL);
    req_t post = { "POST /form HTTP/1.1", form_headers, body, strlen(body), 0, NULL,
                   "uid-forge" };
    tx_run(cfg, pool, &post);
    req_t get = { "GET /after HTTP/1.1", form_headers, NULL, 0, 200, NULL, "uid-after" };
    tx_run(cfg, pool, &get);

    apr_array_header_t *uids = frame_records("forge.log");
    assert_int_equal(uids->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(uids, 0, const char *), "UNIQUE_ID: uid-forge");
    assert_string_equal(APR_ARRAY_IDX(uids, 1, const char *), "UNIQUE_ID: uid-after");
    apr_array_header_t *recs = parse_file("forge.log");
    assert_int_equal(recs->nelts, 2);
    rec_t *r = &APR_ARRAY_IDX(recs, 0, rec_t);
    assert_int_equal(r->body.len, strlen(body));
    assert_memory_equal(r->body.data, body, strlen(body));
    assert_string_not_equal(r->boundary, APR_ARRAY_IDX(recs, 1, rec_t).boundary);
}

static void test_body_truncated(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, BASE_CFG "SecAuditEngine On\nSecAuditLog @TMP@/big.log");
    apr_size_t n = 100000;
    char *body = apr_palloc(pool, n);
    for (apr_size_t i = 0; i < n; i++)
        body[i] = (char)('a' + i % 26);
    const char *const hdrs[] = { "Host: example.com", "Content-Type: text/plain", NULL };
    req_t post = { "POST /upload HTTP/1.1", hdrs, body, n, 200, NULL, "uid-big" };
    tx_run(cfg, pool, &post);
    apr_array_header_t *recs = parse_file("big.log");
    assert_int_equal(recs->nelts, 1);
    rec_t *r = &APR_ARRAY_IDX(recs, 0, rec_t);
    assert_string_equal(r->count_line, "65536 (truncated; 100000 bytes)");
    assert_int_equal(r->body.len, PP_AUDIT_BODY_LIMIT_BYTES);
    assert_memory_equal(r->body.data, body, PP_AUDIT_BODY_LIMIT_BYTES);

    /* Spilled to disk but under the limit, and never replayed (as when intercepted): whole. */
    cfg = cfg_make(pool, BASE_CFG "SecUploadInMemoryLimit 1000\nSecAuditEngine On\n"
                                  "SecAuditLog @TMP@/spilled.log");
    post = (req_t){ "POST /upload HTTP/1.1", hdrs, body, 5000, 200, NULL, "uid-spilled" };
    tx_run(cfg, pool, &post);
    recs = parse_file("spilled.log");
    r = &APR_ARRAY_IDX(recs, 0, rec_t);
    assert_string_equal(r->count_line, "5000");
    assert_memory_equal(r->body.data, body, 5000);
}

static void test_multipart_summary(void **state)
{
    char script[PATH_MAX];
    assert_non_null(realpath("tests/eval/scripts/approve-ok.sh", script));
    apr_dir_make(apr_pstrcat(pool, tmp, "/up", NULL), APR_FPROT_OS_DEFAULT, pool);
    pp_cfg_t *cfg = cfg_make(pool, apr_pstrcat(pool, BASE_CFG,
                                               "SecAuditEngine On\nSecAuditLog @TMP@/mp.log\n"
                                               "SecUploadDir @TMP@/up\nSecUploadApproveScript ",
                                               script, NULL));
    const char *body = "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nvalue\r\n"
                       "--XyZ\r\nContent-Disposition: form-data; name=\"upload\"; "
                       "filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello world\r\n"
                       "--XyZ--\r\n";
    const char *const hdrs[] = { "Host: example.com",
                                 "Content-Type: multipart/form-data; boundary=XyZ", NULL };
    req_t post = { "POST /up HTTP/1.1", hdrs, body, strlen(body), 200, NULL, "uid-mp" };
    tx_run(cfg, pool, &post);
    apr_array_header_t *recs = parse_file("mp.log");
    assert_int_equal(recs->nelts, 1);
    rec_t *r = &APR_ARRAY_IDX(recs, 0, rec_t);
    assert_string_equal(r->count_line, "10 (multipart fields, urlencoded)");
    assert_memory_equal(r->body.data, "name=value", 10);
    assert_int_equal(r->files->nelts, 1);
    const char *f = APR_ARRAY_IDX(r->files, 0, const char *);
    assert_matches(f, apr_psprintf(pool, "^File: field=\"upload\" filename=\"a\\.txt\" size=11 "
                                         "stored=\"%s/up/[^\"]+-uid-mp-file-[^\"]+\" "
                                         "verdict=\"accepted: .*\"$", tmp));
}

/* ---- JSON -------------------------------------------------------------------------------- */

static json_object *get_path(json_object *o, const char *path)
{
    char *copy = apr_pstrdup(pool, path), *save = NULL;
    for (char *k = apr_strtok(copy, ".", &save); k; k = apr_strtok(NULL, ".", &save))
        if (!json_object_object_get_ex(o, k, &o))
            fail_msg("JSON has no %s (at %s)", path, k);
    return o;
}

static json_object *parse_json_line(const char *s, apr_size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, s, (int)len);
    if (!o || json_tokener_get_parse_end(tok) != len)
        fail_msg("not one valid JSON object: %s (%.200s)",
                 json_tokener_error_desc(json_tokener_get_error(tok)), s);
    json_tokener_free(tok);
    return o;
}

static void test_json_fields(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, BASE_CFG "SecAuditEngine On\nSecAuditLogFormat JSON\n"
                                            "SecAuditLog @TMP@/json.log");
    const char *const hdrs[] = { "Host: example.com", "User-Agent: bad\xff\xfe utf8",
                                 "Content-Type: application/x-www-form-urlencoded",
                                 "Cookie: a=1", "Cookie: b=2", NULL };
    req_t post = { "POST /form HTTP/1.1", hdrs, "q=attack", 8, 0, "php-script", "uid-json" };
    tx_run(cfg, pool, &post);
    apr_size_t len;
    char *buf = slurp("json.log", &len);
    assert_true(len > 0 && buf[len - 1] == '\n');
    assert_null(memchr(buf, '\n', len - 1)); /* one line */
    json_object *o = parse_json_line(buf, len - 1);

    assert_string_equal(json_object_get_string(get_path(o, "transaction.transaction_id")),
                        "uid-json");
    assert_string_equal(json_object_get_string(get_path(o, "transaction.remote_address")),
                        "192.0.2.1");
    assert_int_equal(json_object_get_int(get_path(o, "transaction.remote_port")), 40000);
    assert_string_equal(json_object_get_string(get_path(o, "transaction.local_address")),
                        "192.0.2.10");
    assert_int_equal(json_object_get_int(get_path(o, "transaction.local_port")), 80);
    assert_matches(json_object_get_string(get_path(o, "transaction.time")),
                   "^[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8}\\.[0-9]{6} [-+][0-9]{4}$");
    assert_string_equal(json_object_get_string(get_path(o, "request.request_line")),
                        "POST /form HTTP/1.1");
    assert_string_equal(json_object_get_string(get_path(o, "request.headers.Host")),
                        "example.com");
    assert_string_equal(json_object_get_string(get_path(o, "request.headers.Cookie")),
                        "a=1, b=2");
    assert_string_equal(json_object_get_string(get_path(o, "request.headers.User-Agent")),
                        "bad\xef\xbf\xbd\xef\xbf\xbd utf8");
    assert_string_equal(json_object_get_string(get_path(o, "request.headers.mod_security-action")),
                        "403");
    json_object *body = get_path(o, "request.body");
    assert_true(json_object_is_type(body, json_type_array));
    assert_string_equal(json_object_get_string(json_object_array_get_idx(body, 0)), "q=attack");
    assert_string_equal(json_object_get_string(get_path(o, "response.protocol")), "HTTP/1.1");
    assert_int_equal(json_object_get_int(get_path(o, "response.status")), 403);
    assert_string_equal(json_object_get_string(get_path(o, "response.headers.Content-Type")),
                        "text/html");
    json_object *msgs = get_path(o, "audit_data.messages");
    assert_int_equal(json_object_array_length(msgs), 1);
    assert_non_null(strstr(json_object_get_string(json_object_array_get_idx(msgs, 0)),
                           "Pattern match \"attack\" at POST_PAYLOAD"));
    assert_string_equal(json_object_get_string(get_path(o, "audit_data.handler")), "php-script");
    assert_true(json_object_is_type(get_path(o, "audit_data.producer"), json_type_array));
    assert_string_equal(json_object_get_string(get_path(o, "audit_data.server")), "Apache");
    assert_string_equal(json_object_get_string(get_path(o, "audit_data.engine_mode")), "ENABLED");
    assert_true(json_object_get_boolean(get_path(o, "audit_data.action.intercepted")));
    assert_int_equal(json_object_get_int(get_path(o, "audit_data.action.phase")), 2);
    get_path(o, "audit_data.stopwatch.duration");
    json_object_put(o);
}

/* ---- Concurrent ------------------------------------------------------------------------- */

typedef struct index_t {
    const char *rel;
    apr_size_t offset, size;
    const char *md5;
    bool truncated;
} index_t;

/* The fixed fields at the end of an index line: rel offset size md5:hex [L]. */
static void parse_index(const char *line, index_t *ix)
{
    char *copy = apr_pstrdup(pool, line);
    char *tok[64];
    int n = 0;
    char *save = NULL;
    for (char *t = apr_strtok(copy, " ", &save); t && n < 64; t = apr_strtok(NULL, " ", &save))
        tok[n++] = t;
    ix->truncated = strcmp(tok[n - 1], "L") == 0;
    if (ix->truncated)
        n--;
    assert_true(n > 4 && starts(tok[n - 1], "md5:"));
    ix->md5 = tok[n - 1] + 4;
    ix->size = strtoul(tok[n - 2], NULL, 10);
    ix->offset = strtoul(tok[n - 3], NULL, 10);
    ix->rel = tok[n - 4];
}

static void check_entry(const char *store, const index_t *ix, char **content)
{
    apr_size_t len;
    *content = slurp(apr_pstrcat(pool, store, ix->rel, NULL), &len);
    assert_int_equal(len, ix->size);
    assert_int_equal(ix->offset, 0);
    unsigned char d[APR_MD5_DIGESTSIZE];
    apr_md5(d, *content, len);
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    assert_string_equal(ix->md5, hex);
    struct stat st;
    assert_int_equal(stat(apr_pstrcat(pool, store, ix->rel, NULL), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    char *dir = apr_pstrcat(pool, store, ix->rel, NULL);
    *strrchr(dir, '/') = '\0';
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);
}

/* Every control byte in a header line is escaped, not only CR, LF and NUL: ESC, BEL, VT and
 * DEL reach neither the Serial record nor the Concurrent entry raw (terminal escapes for cat
 * or less -R readers). */
static void test_serial_escapes_control_bytes(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, BASE_CFG "SecAuditEngine On\nSecAuditLog @TMP@/ctl.log");
    const char *const hdrs[] = { "Host: example.com", "X-Esc: a\x1b[31mb\x07\x0b\x7f\x01" "c",
                                 NULL };
    req_t get = { "GET /\x1b[2J HTTP/1.1", hdrs, NULL, 0, 200, NULL, "uid-ctl" };
    tx_run(cfg, pool, &get);
    apr_array_header_t *recs = parse_file("ctl.log");
    assert_int_equal(recs->nelts, 1);
    rec_t *r = &APR_ARRAY_IDX(recs, 0, rec_t);
    assert_true(has_line(r->headers, "X-Esc: a\\x1b[31mb\\x07\\x0b\\x7f\\x01c"));
    assert_string_equal(r->reqline, "GET /\\x1b[2J HTTP/1.1");

    const char *store = apr_pstrcat(pool, tmp, "/ctlstore", NULL);
    apr_dir_make(store, APR_FPROT_OS_DEFAULT, pool);
    cfg = cfg_make(pool, BASE_CFG "SecAuditEngine On\nSecAuditLogType Concurrent\n"
                                  "SecAuditLogStorageDir @TMP@/ctlstore\n"
                                  "SecAuditLog @TMP@/ctlindex.log");
    tx_run(cfg, pool, &get);
    apr_size_t len;
    char *index = slurp("ctlindex.log", &len);
    *strchr(index, '\n') = '\0';
    index_t ix;
    parse_index(index, &ix);
    char *content;
    check_entry(store, &ix, &content);
    assert_non_null(strstr(content, "\nX-Esc: a\\x1b[31mb\\x07\\x0b\\x7f\\x01c\n"));
    assert_non_null(strstr(content, "\nGET /\\x1b[2J HTTP/1.1\n"));
    for (const char *c = content; *c; c++)
        if ((unsigned char)*c < 0x20 && *c != '\n')
            fail_msg("raw control byte 0x%02x in the Concurrent entry", (unsigned char)*c);
}

static void test_concurrent(void **state)
{
    const char *store = apr_pstrcat(pool, tmp, "/store", NULL);
    apr_dir_make(store, APR_FPROT_OS_DEFAULT, pool);
    pp_cfg_t *cfg = cfg_make(pool, BASE_CFG "SecAuditEngine On\nSecAuditLogType Concurrent\n"
                                            "SecAuditLogStorageDir @TMP@/store\n"
                                            "SecAuditLog @TMP@/index.log");
    req_t post = { "POST /c HTTP/1.1", form_headers, "a=attack", 8, 0, NULL, "uid-conc-1" };
    tx_run(cfg, pool, &post);
    char *ua = apr_palloc(pool, 10001);
    memset(ua, 'u', 10000);
    ua[10000] = '\0';
    const char *const hdrs[] = { "Host: example.com", apr_pstrcat(pool, "User-Agent: ", ua, NULL),
                                 NULL };
    req_t get = { "GET /long HTTP/1.1", hdrs, NULL, 0, 200, NULL, "uid-conc-2" };
    tx_run(cfg, pool, &get);

    apr_size_t len;
    char *index = slurp("index.log", &len);
    char *save = NULL;
    char *l1 = apr_strtok(index, "\n", &save), *l2 = apr_strtok(NULL, "\n", &save);
    assert_non_null(l2);
    assert_null(apr_strtok(NULL, "\n", &save));
    index_t ix;
    parse_index(l1, &ix);
    assert_false(ix.truncated);
    assert_matches(ix.rel, "^/[0-9]{8}/[0-9]{8}-[0-9]{4}/[0-9]{8}-[0-9]{6}-uid-conc-1$");
    assert_matches(l1, "^example\\.com 192\\.0\\.2\\.1 - - \\[[^]]+\\] \"POST /c HTTP/1\\.1\" 403"
                       " - \"-\" \"test/1\\.0\" uid-conc-1 \"-\" /");
    char *content;
    check_entry(store, &ix, &content);
    assert_matches(content, "^--[0-9a-f]{8}-A--\n\\[[^]]+\\] uid-conc-1 192\\.0\\.2\\.1 40000 "
                            "192\\.0\\.2\\.10 80\n--[0-9a-f]{8}-B--\nPOST /c HTTP/1\\.1\n");
    assert_non_null(strstr(content, "-C--\na=attack\n"));
    assert_non_null(strstr(content, "-F--\nHTTP/1.1 403 Forbidden\n"));
    assert_non_null(strstr(content, "-H--\nMessage: Access denied with code 403."));
    assert_non_null(strstr(content, "-Z--\n"));

    /* A huge User-Agent is shortened so the index line stays one atomic pipe write. */
    assert_true(strlen(l2) + 1 <= PIPE_BUF);
    parse_index(l2, &ix);
    assert_true(ix.truncated);
    check_entry(store, &ix, &content);
    assert_matches(l2, "\"GET /long HTTP/1\\.1\" 200 - \"-\" \"uuuu");
}

static void test_concurrent_json(void **state)
{
    const char *store = apr_pstrcat(pool, tmp, "/jstore", NULL);
    apr_dir_make(store, APR_FPROT_OS_DEFAULT, pool);
    pp_cfg_t *cfg = cfg_make(pool, BASE_CFG "SecAuditEngine On\nSecAuditLogType Concurrent\n"
                                            "SecAuditLogFormat JSON\n"
                                            "SecAuditLogStorageDir @TMP@/jstore\n"
                                            "SecAuditLog @TMP@/jindex.log");
    req_t get = { "GET /j HTTP/1.1", form_headers, NULL, 0, 200, NULL, "uid-cj" };
    tx_run(cfg, pool, &get);
    apr_size_t len;
    char *line = slurp("jindex.log", &len);
    line[len - 1] = '\0';
    index_t ix;
    parse_index(line, &ix);
    char *content;
    check_entry(store, &ix, &content);
    json_object *o = parse_json_line(content, ix.size - 1);
    assert_string_equal(json_object_get_string(get_path(o, "transaction.transaction_id")),
                        "uid-cj");
    json_object_put(o);
}

/* ---- Engine modes and relevance ------------------------------------------------------------ */

static int count_records(const char *name)
{
    return parse_file(name)->nelts;
}

static void test_relevant_only(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, "SecFilterEngine On\nSecFilter attack\n"
                                   "SecFilter quiet pass,nolog\n"
                                   "SecAuditEngine RelevantOnly\nSecAuditLogRelevantStatus ^5\n"
                                   "SecAuditLog @TMP@/rel.log");
    req_t rq = { "GET /clean HTTP/1.1", form_headers, NULL, 0, 200, NULL, "uid-r1" };
    assert_false(tx_run(cfg, pool, &rq));
    assert_int_equal(count_records("rel.log"), 0);
    rq = (req_t){ "GET /quiet HTTP/1.1", form_headers, NULL, 0, 200, NULL, "uid-r2" };
    assert_false(tx_run(cfg, pool, &rq));
    assert_int_equal(count_records("rel.log"), 0);
    rq = (req_t){ "GET /clean HTTP/1.1", form_headers, NULL, 0, 500, NULL, "uid-r3" };
    assert_true(tx_run(cfg, pool, &rq));
    assert_int_equal(count_records("rel.log"), 1);
    rq = (req_t){ "GET /attack HTTP/1.1", form_headers, NULL, 0, 0, NULL, "uid-r4" };
    assert_true(tx_run(cfg, pool, &rq));
    apr_array_header_t *recs = parse_file("rel.log");
    assert_int_equal(recs->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(recs, 0, rec_t).uid, "uid-r3");
    assert_string_equal(APR_ARRAY_IDX(recs, 1, rec_t).uid, "uid-r4");
}

/* A 2.x configuration writes ModSecurity 2.9's native record in its fixed part order, with
 * the parts ctl:auditLogParts left for this transaction (K lists the rule as written). */
static void test_lang2_record_and_parts_override(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, "SecRuleEngine On\n"
                                   "SecRule ARGS:a \"x\" \"id:1,phase:2,deny,status:403\"\n"
                                   "SecAuditEngine On\nSecAuditLogParts ABHZ\n"
                                   "SecAuditLog @TMP@/lang2.log");
    apr_pool_t *p;
    apr_pool_create(&p, pool);
    pp_tx_t *tx = pp_tx_create(cfg, p, "uid-l2");
    pp_conn_info_t ci = { .client_ip = "192.0.2.1", .client_port = 40000,
                          .server_ip = "192.0.2.10", .server_port = 80 };
    pp_tx_set_conn(tx, &ci);
    pp_tx_set_request_line(tx, pp_str_from_cstr("GET /?a=x HTTP/1.1"));
    add_header(tx, "Host: example.com", false);
    pp_tx_finish_request_headers(tx);
    pp_tx_overrides(tx)->audit_parts = "AHZFK"; /* what ctl:auditLogParts=-B,+FK leaves */
    pp_tx_finish_request_body(tx);
    pp_tx_set_response_status(tx, 403, NULL);
    pp_tx_finish_response_headers(tx);
    pp_tx_finish_response_body(tx);
    assert_int_equal(pp_tx_finish(tx), APR_SUCCESS);
    apr_pool_destroy(p);
    apr_size_t len;
    char *text = slurp("lang2.log", &len);
    assert_matches(text, "^--([0-9a-f]{8})-A--\n\\[[^]]+\\] uid-l2 192\\.0\\.2\\.1 40000 "
                         "192\\.0\\.2\\.10 80\n--\\1-F--\nHTTP/1\\.1 403 Forbidden\n\n--\\1-H--\n"
                         "Message: Access denied with code 403 \\(phase 2\\)\\. Pattern match "
                         "\"x\" at ARGS:a\\. \\[id \"1\"\\]\n"
                         "Action: Intercepted \\(phase 2\\)\n");
    assert_non_null(strstr(text, "\n--"));
    assert_null(strstr(text, "-B--"));
    assert_matches(strstr(text, "-K--"), "^-K--\nSecRule \"ARGS:a\" \"@rx x\" "
                                         "\"id:1,phase:2,deny,status:403\"\n\n\n--[0-9a-f]{8}"
                                         "-Z--\n\n$");
}

static void test_dynamic_or_relevant_and_off(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, "SecFilterEngine On\nSecAuditEngine DynamicOrRelevant\n"
                                   "SecAuditLog @TMP@/dyn.log");
    req_t rq = { "GET /static.html HTTP/1.1", form_headers, NULL, 0, 200, "default-handler",
                 "uid-d1" };
    tx_run(cfg, pool, &rq);
    rq = (req_t){ "GET /static.css HTTP/1.1", form_headers, NULL, 0, 200, NULL, "uid-d2" };
    tx_run(cfg, pool, &rq);
    rq = (req_t){ "GET /app.php HTTP/1.1", form_headers, NULL, 0, 200, "php-script", "uid-d3" };
    tx_run(cfg, pool, &rq);
    apr_array_header_t *recs = parse_file("dyn.log");
    assert_int_equal(recs->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(recs, 0, rec_t).uid, "uid-d3");

    cfg = cfg_make(pool, "SecFilterEngine On\nSecFilter attack\nSecAuditEngine Off\n"
                         "SecAuditLog @TMP@/off.log");
    rq = (req_t){ "GET /attack HTTP/1.1", form_headers, NULL, 0, 0, "php-script", "uid-o1" };
    tx_run(cfg, pool, &rq);
    assert_int_equal(count_records("off.log"), 0);
}

/* ---- Concurrency ---------------------------------------------------------------------------- */

#define THREADS 4
#ifndef PER_THREAD /* -DPER_THREAD=5000 for a longer throughput measurement */
#define PER_THREAD 200
#endif

typedef struct worker_t {
    const pp_cfg_t *cfg;
    apr_pool_t *pool; /* own allocator: APR pools are not shared across threads */
    int index, count;
} worker_t;

/* Body sizes from 100 bytes to ~20 KB, so many records exceed PIPE_BUF. */
static apr_size_t body_size(int t, int i)
{
    return 100 + (apr_size_t)((t * 7919 + i * 104729) % 20000);
}

static void *APR_THREAD_FUNC worker(apr_thread_t *th, void *data)
{
    worker_t *w = data;
    const char *const hdrs[] = { "Host: example.com", "Content-Type: text/plain", NULL };
    for (int i = 0; i < w->count; i++) {
        apr_pool_t *p;
        apr_pool_create(&p, w->pool);
        apr_size_t n = body_size(w->index, i);
        char *body = apr_palloc(p, n);
        memset(body, 'A' + w->index, n);
        req_t rq = { "POST /c HTTP/1.1", hdrs, body, n, 200, NULL,
                     apr_psprintf(p, "t%d-%d", w->index, i) };
        tx_run(w->cfg, p, &rq);
        apr_pool_destroy(p);
    }
    /* Returning (not apr_thread_exit) avoids unwinding with pthread_exit, which ASan's
     * thread teardown misreports. */
    return NULL;
}

static double run_threads(const pp_cfg_t *cfg, int per_thread)
{
    worker_t w[THREADS];
    apr_thread_t *th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        apr_allocator_t *a;
        apr_allocator_create(&a);
        w[t] = (worker_t){ cfg, NULL, t, per_thread };
        apr_pool_create_ex(&w[t].pool, NULL, NULL, a);
        apr_allocator_owner_set(a, w[t].pool);
    }
    apr_time_t start = apr_time_now();
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(apr_thread_create(&th[t], NULL, worker, &w[t], pool), APR_SUCCESS);
    for (int t = 0; t < THREADS; t++) {
        apr_status_t rv;
        apr_thread_join(&rv, th[t]);
    }
    double secs = (double)(apr_time_now() - start) / APR_USEC_PER_SEC;
    for (int t = 0; t < THREADS; t++)
        apr_pool_destroy(w[t].pool);
    return secs;
}

/* Every record whole: its body is PER-thread letter repeated exactly body_size times. */
static void check_thread_records(const char *name, int per_thread)
{
    apr_array_header_t *recs = parse_file(name);
    assert_int_equal(recs->nelts, THREADS * per_thread);
    char seen[THREADS][PER_THREAD] = { { 0 } };
    for (int k = 0; k < recs->nelts; k++) {
        rec_t *r = &APR_ARRAY_IDX(recs, k, rec_t);
        int t, i;
        assert_int_equal(sscanf(r->uid, "t%d-%d", &t, &i), 2);
        assert_true(t >= 0 && t < THREADS && i >= 0 && i < per_thread && !seen[t][i]);
        seen[t][i] = 1;
        assert_int_equal(r->body.len, body_size(t, i));
        for (apr_size_t b = 0; b < r->body.len; b++)
            if (r->body.data[b] != 'A' + t)
                fail_msg("record %s: body byte %zu is foreign", r->uid, (size_t)b);
    }
}

static void test_concurrent_writers(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, BASE_CFG "SecAuditEngine On\nSecAuditLog @TMP@/threads.log");
    double secs = run_threads(cfg, PER_THREAD);
    check_thread_records("threads.log", PER_THREAD);
    apr_size_t len;
    slurp("threads.log", &len);
    printf("[ INFO     ] Serial: %d records (%.1f MB) by %d threads in %.3f s: %.0f records/s\n",
           THREADS * PER_THREAD, (double)len / 1e6, THREADS, secs, THREADS * PER_THREAD / secs);
}

/* A piped target: records larger than PIPE_BUF from several threads arrive whole, and the
 * program drains and exits when the configuration pool goes. */
static void test_pipe_target(void **state)
{
    apr_pool_t *cp;
    apr_pool_create(&cp, pool);
    pp_cfg_t *cfg = cfg_make(cp, BASE_CFG "SecAuditEngine On\n"
                                 "SecAuditLog \"|/bin/dd of=@TMP@/pipe.log oflag=append "
                                 "conv=notrunc status=none\"");
    run_threads(cfg, 25);
    apr_pool_destroy(cp);
    check_thread_records("pipe.log", 25);
}

/* ---- Guardian and debug lines ---------------------------------------------------------------- */

#define CLF_DATE "\\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4}\\]"

static void test_guardian_line(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, "SecFilterEngine On\nSecGuardianLog @TMP@/guardian.log");
    const char *const hdrs[] = { "Host: example.com", "Referer: http://ref.example/",
                                 "User-Agent: UA \"quoted\"", NULL };
    req_t rq = { "GET /g?x=1 HTTP/1.1", hdrs, NULL, 0, 200, NULL, "uid-g1" };
    tx_run(cfg, pool, &rq);
    char *big = apr_palloc(pool, 8001);
    memset(big, 'r', 8000);
    big[8000] = '\0';
    const char *const hdrs2[] = { "Host: example.com", apr_pstrcat(pool, "Referer: ", big, NULL),
                                  apr_pstrcat(pool, "User-Agent: ", big, NULL), NULL };
    rq = (req_t){ "GET /g2 HTTP/1.1", hdrs2, NULL, 0, 404, NULL, "uid-g2" };
    tx_run(cfg, pool, &rq);

    apr_size_t len;
    char *buf = slurp("guardian.log", &len), *save = NULL;
    char *l1 = apr_strtok(buf, "\n", &save), *l2 = apr_strtok(NULL, "\n", &save);
    assert_matches(l1, "^example\\.com 192\\.0\\.2\\.1 - - " CLF_DATE
                       " \"GET /g\\?x=1 HTTP/1\\.1\" 200 - \"http://ref\\.example/\" "
                       "\"UA \\\\x22quoted\\\\x22\" uid-g1 \"-\" [0-9]+ [0-9]+ \"-\" 0$");
    assert_non_null(l2);
    assert_true(strlen(l2) + 1 <= PIPE_BUF);
    assert_matches(l2, "^example\\.com .* \"GET /g2 HTTP/1\\.1\" 404 - \"r+\" \"r+\" uid-g2 \"-\" "
                       "[0-9]+ [0-9]+ \"-\" 0 L$");
}

static void test_debug_line(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, "SecFilterEngine On\nSecFilterDebugLog @TMP@/debug.log\n"
                                   "SecFilterDebugLevel 4");
    req_t rq = { "GET /dbg HTTP/1.1", form_headers, NULL, 0, 200, NULL, "uid-dbg" };
    tx_run(cfg, pool, &rq);
    apr_size_t len;
    char *buf = slurp("debug.log", &len), *save = NULL;
    int n = 0;
    for (char *l = apr_strtok(buf, "\n", &save); l; l = apr_strtok(NULL, "\n", &save), n++)
        assert_matches(l, "^" CLF_DATE " \\[example\\.com/sid#[0-9a-f]+\\]\\[rid#uid-dbg\\]"
                          "\\[/dbg\\]\\[[1-4]\\] .+$");
    assert_true(n >= 1);
    assert_non_null(strstr(slurp("debug.log", &len), "Transaction finished: status 200"));
}

/* Attack run D13 (1.18): a ']' in the URI cannot close the URI field early, so a reader that
 * splits on brackets does not see a forged level and message. */
static void test_debug_line_brackets(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, "SecFilterEngine On\nSecFilterDebugLog @TMP@/d13.log\n"
                                   "SecFilterDebugLevel 4");
    req_t rq = { "GET /dbg?x=][1]%20Access%20denied%20FAKE HTTP/1.1", form_headers, NULL, 0, 200,
                 NULL, "uid-d13" };
    tx_run(cfg, pool, &rq);
    apr_size_t len;
    char *buf = slurp("d13.log", &len), *save = NULL;
    regex_t re;
    regmatch_t m[3];
    assert_int_equal(regcomp(&re, "^\\[[^]]*\\] \\[[^]]*\\]\\[rid#uid-d13\\]\\[([^]]*)\\]"
                                  "\\[([0-9])\\] ", REG_EXTENDED), 0);
    int n = 0;
    for (char *l = apr_strtok(buf, "\n", &save); l; l = apr_strtok(NULL, "\n", &save), n++) {
        if (regexec(&re, l, 3, m, 0) != 0)
            fail_msg("debug line does not split: %s", l);
        assert_memory_equal(l + m[1].rm_so, "/dbg?x=\\x5d[1\\x5d%20Access%20denied%20FAKE",
                            (size_t)(m[1].rm_eo - m[1].rm_so));
        assert_int_not_equal(l[m[2].rm_so], '1');
    }
    regfree(&re);
    assert_true(n >= 1);
}

/* The exec action's program output is request-derived text: in the debug log (and the error
 * log when it times out) its control bytes, '"' and '\' are escaped like any other. */
static void test_debug_exec_output_escaped(void **state)
{
    const char *hook = apr_pstrcat(pool, tmp, "/hook.sh", NULL);
    FILE *f = fopen(hook, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nprintf 'out \\033[31m\\a\"] [unique_id \"FORGED\"] \\\\ end\\nsecond'\n", f);
    fclose(f);
    assert_int_equal(chmod(hook, 0755), 0);
    pp_cfg_t *cfg = cfg_make(pool, apr_pstrcat(pool, "SecFilterEngine On\n"
                                                     "SecFilterDebugLog @TMP@/exec.log\n"
                                                     "SecFilterDebugLevel 2\n"
                                                     "SecFilter execprobe pass,nolog,exec:",
                                               hook, NULL));
    req_t rq = { "GET /?execprobe HTTP/1.1", form_headers, NULL, 0, 200, NULL, "uid-exec" };
    tx_run(cfg, pool, &rq);
    apr_size_t len;
    const char *log = slurp("exec.log", &len);
    const char *line = strstr(log, "exec ");
    if (!line || !strstr(line, ": out \\x1b[31m\\x07\\x22] [unique_id \\x22FORGED\\x22] "
                                "\\x5c end\n"))
        fail_msg("exec output line not escaped: %s", log);
    assert_null(strstr(log, "second"));
}

static void collect_errlog(void *ctx, int level, const char *msg)
{
    apr_array_header_t *a = ctx;
    APR_ARRAY_PUSH(a, const char *) = apr_psprintf(pool, "%d %s", level, msg);
}

/* Review 2.C: a failed debug-log write (here /dev/full: ENOSPC) reaches the host's error log,
 * once per transaction however many lines were lost. */
static void test_debug_write_failure_reported(void **state)
{
    pp_cfg_t *cfg = cfg_make(pool, "SecFilterEngine On\nSecFilterDebugLog /dev/full\n"
                                   "SecFilterDebugLevel 9");
    apr_array_header_t *said = apr_array_make(pool, 4, sizeof(const char *));
    apr_pool_t *p;
    apr_pool_create(&p, pool);
    pp_tx_t *tx = pp_tx_create(cfg, p, "uid-full");
    pp_tx_set_errlog(tx, collect_errlog, said);
    pp_tx_set_request_line(tx, pp_str_from_cstr("GET /full HTTP/1.1"));
    pp_tx_finish_request_headers(tx);
    pp_tx_finish_request_body(tx);
    pp_tx_finish(tx);
    apr_pool_destroy(p);
    int failures = 0;
    for (int i = 0; i < said->nelts; i++) {
        const char *m = APR_ARRAY_IDX(said, i, const char *);
        if (strstr(m, "Debug log: write failed"))
            failures++;
    }
    if (failures != 1)
        fail_msg("%d failure reports in %d error-log lines", failures, said->nelts);
}

/* ---- Targets: start-up errors, idempotence, sharing ------------------------------------------ */

static void expect_error(const char *text, const char *message)
{
    pp_cfg_t *cfg;
    const char *err = cfg_try(pool, text, &cfg);
    if (!err || !strstr(err, message))
        fail_msg("expected \"%s\", got \"%s\"", message, err ? err : "(accepted)");
}

static void test_target_errors(void **state)
{
    expect_error("SecAuditLog /proc/parapet-audit.log",
                 "SecAuditLog: cannot open \"/proc/parapet-audit.log\"");
    expect_error("SecGuardianLog |guardian", "SecGuardianLog: \"|guardian\": the program must "
                                            "be an absolute path");
    expect_error("SecAuditLog \"|/nonexistent/prog -x\"", "SecAuditLog: cannot run "
                                                      "\"/nonexistent/prog\"");
    expect_error("SecAuditLogType Concurrent\nSecAuditLog @TMP@/x.log",
                 "SecAuditLogType Concurrent needs SecAuditLogStorageDir");
}

static void test_target_sharing(void **state)
{
    pp_cfg_t *a = cfg_make(pool, "SecAuditEngine On\nSecAuditLog @TMP@/shared.log");
    const pp_logs_t *logs = a->logs;
    assert_non_null(logs);
    assert_null(pp_cfg_finish(a, pool, pool));
    assert_ptr_equal(a->logs, logs); /* idempotent */
    pp_cfg_t *b = cfg_make(pool, "SecAuditLog @TMP@/shared.log\nSecGuardianLog @TMP@/g2.log");
    assert_ptr_equal(((pp_logs_t *)b->logs)->audit, logs->audit); /* one descriptor */
    pp_cfg_t *child = cfg_make(pool, "SecAuditEngine RelevantOnly");
    assert_null(child->logs);
    pp_cfg_t *m = pp_cfg_merge(pool, a, child);
    assert_null(pp_cfg_finish(m, pool, pool));
    assert_ptr_equal(m->logs, logs); /* inherited */
    /* A child naming its own log, merged from a parent that was finished first, gets its own. */
    pp_cfg_t *own = pp_cfg_create(pool);
    pp_cfg_site_t site = { 0 };
    assert_null(pp_cfg_apply(own, pp_directive_find("SecAuditLog"),
                             apr_pstrcat(pool, tmp, "/own.log", NULL), &site, pool, pool));
    m = pp_cfg_merge(pool, a, own);
    assert_null(pp_cfg_finish(m, pool, pool));
    assert_ptr_not_equal(((pp_logs_t *)m->logs)->audit, logs->audit);
    assert_string_equal(((pp_logs_t *)m->logs)->audit->spec,
                        apr_pstrcat(pool, tmp, "/own.log", NULL));
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    assert_null(pp_engine_init(pool));
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof tmp, "%s/parapet-audit-XXXXXX", tmpdir);
    if (!mkdtemp(tmp))
        return 1;
    umask(022);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serial_layout),
        cmocka_unit_test(test_serial_escapes_line_breaks),
        cmocka_unit_test(test_serial_escapes_control_bytes),
        cmocka_unit_test(test_serial_forged_record),
        cmocka_unit_test(test_body_truncated),
        cmocka_unit_test(test_multipart_summary),
        cmocka_unit_test(test_json_fields),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_concurrent_json),
        cmocka_unit_test(test_relevant_only),
        cmocka_unit_test(test_lang2_record_and_parts_override),
        cmocka_unit_test(test_dynamic_or_relevant_and_off),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_pipe_target),
        cmocka_unit_test(test_guardian_line),
        cmocka_unit_test(test_debug_line),
        cmocka_unit_test(test_debug_line_brackets),
        cmocka_unit_test(test_debug_exec_output_escaped),
        cmocka_unit_test(test_debug_write_failure_reported),
        cmocka_unit_test(test_target_errors),
        cmocka_unit_test(test_target_sharing),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0 && pp_test_remove_tree(tmp) != 0)
        rc = 1;
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
