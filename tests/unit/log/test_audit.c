/*
 * Audit logs (reference §9), driven through the public API the adapter uses: a configuration
 * from directive lines, pp_tx_* calls, pp_tx_finish. Checks that the Serial record parses back,
 * that JSON lines are valid and carry 2.9's field names, that Concurrent writes the entry before
 * an index line with the right size and MD5, the SecAuditEngine modes and status relevance and
 * the body limit. Records written by threads at once, piped targets, the guardian and debug
 * lines and the targets' start-up errors are in test_log_targets.c; the helpers in
 * audit_fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <apr_md5.h>
#include <json.h>

#include "audit_fixture.h"

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

int main(void)
{
    if (audit_test_begin() != 0)
        return 1;
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
    };
    return audit_test_end(cmocka_run_group_tests(tests, NULL, NULL));
}
