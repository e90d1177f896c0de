/*
 * libFuzzer target for a whole transaction (transaction.c, request/, body/, upload/store.c,
 * rules/; reference §1.2, §4–§7). The input is a raw HTTP request: request line, headers up to
 * the blank line, body (de-chunked for Transfer-Encoding: chunked and cut at Content-Length,
 * as Apache's input filters would). It is driven through the pp_tx_* calls in the adapter's
 * order against a configuration built once: every implicit check on, a small in-memory limit
 * so bodies spill to SecUploadDir, and rules over every location family (exclusions, a chain,
 * skipnext, OUTPUT). The body goes in chunks whose sizes come from a hash of the input, so a
 * crash reproduces from the file alone. The hash also picks the server or the merged
 * per-directory configuration, and one of four audit set-ups (none; Serial Native; Concurrent
 * JSON; Concurrent Native with the debug log at level 9; each with a guardian log), all
 * writing under a private temp dir that is emptied after every input.
 *
 * Checks: the buffered request and response bodies replay byte for byte; an interception has a
 * status; and once the transaction pool is gone the upload directory is empty again (no
 * leaked spill or upload file) — abort() otherwise.
 */
#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "common.h"

#define N_VARIANTS 4

static apr_pool_t *root, *txp;
static char upload_dir[512], audit_dir[512];
static const char *audit_log, *guardian_log, *debug_log, *audit_store;
static const pp_cfg_t *server_cfg[N_VARIANTS], *dir_cfg[N_VARIANTS];
static apr_table_t *env;

/* clang-format off */
static const char *const server_lines[] = {
    "SecFilterEngine On",
    "SecFilterScanPOST On",
    "SecFilterScanOutput On",
    "SecFilterOutputMimeTypes \"text/html text/plain (null)\"",
    "SecFilterCheckURLEncoding On",
    "SecFilterCheckUnicodeEncoding On",
    "SecFilterCheckCookieFormat On",
    "SecFilterNormalizeCookies On",
    "SecFilterForceByteRange 1 255",
    "SecUploadInMemoryLimit 1024",
    "SecOutputInMemoryLimit 512",
    "SecUploadKeepFiles Off",
    "SecFilterDefaultAction \"deny,log,status:403\"",
    "SecFilter \"select.+from\" \"id:101,pass,msg:'sqli'\"",
    "SecFilter \"<[[:space:]]*script\" \"id:102,deny,status:406\"",
    "SecFilterSelective \"ARGS|!ARG_comment|!ARG_token\" \"union[[:space:]]+select\" \"id:103,pass\"",
    "SecFilterSelective ARGS_NAMES \"^(_|GLOBALS|mosConfig)\" \"id:104,pass,severity:2\"",
    "SecFilterSelective ARG_id \"[^0-9]\" \"id:105,pass,setenv:bad_id=1\"",
    "SecFilterSelective \"ARGS_VALUES|ARGS_COUNT\" \"\\.\\./|^[0-9]{3,}$\" \"id:106,pass\"",
    "SecFilterSelective \"COOKIES_NAMES|COOKIES_VALUES|!COOKIE_trusted\" \"(javascript|vbscript):\" \"id:107,pass\"",
    "SecFilterSelective COOKIE_sessionid \"!^[0-9a-f]*$\" \"id:108,pass,setnote:sid=bad\"",
    "SecFilterSelective \"HEADERS|!HEADER_Cookie\" \"\\(\\)[[:space:]]*\\{\" \"id:109,pass\"",
    "SecFilterSelective \"HEADERS_NAMES|HEADERS_VALUES|HEADERS_COUNT\" \"^x-(forwarded|original)\" \"id:110,pass\"",
    "SecFilterSelective HTTP_User-Agent \"(nikto|sqlmap)\" \"id:111,pass,auditlog\"",
    "SecFilterSelective \"REQUEST_URI|REQUEST_BASENAME|PATH_INFO|QUERY_STRING|THE_REQUEST\" \"/etc/passwd\" \"id:112,pass\"",
    "SecFilterSelective REQUEST_METHOD \"^(PUT|DELETE)$\" \"id:113,pass,chain\"",
    "SecFilterSelective HTTP_Content-Length \"^[0-9]{4,}$\" \"id:114\"",
    "SecFilterSelective \"FILES_NAMES|FILE_NAME_upload\" \"\\.(php|exe)$\" \"id:115,pass,skipnext:1\"",
    "SecFilterSelective FILES_SIZES \"^0$\" \"id:116,pass\"",
    "SecFilterSelective \"FILES_COUNT|FILES_TMPNAMES|FILE_SIZE_upload\" \"^9999\" \"id:117,pass\"",
    "SecFilterSelective POST_PAYLOAD \"union[[:space:]]+select\" \"id:118,pass,nolog\"",
    "SecFilterSelective \"REMOTE_ADDR|SERVER_PROTOCOL|SERVER_NAME|SCRIPT_FILENAME|ENV_HTTPS|TIME_HOUR\" \"^$\" \"id:119,pass\"",
    "SecFilterSelective \"ARGS|ARGS_NAMES\" \"allow_me\" \"id:120,allow\"",
    "SecFilterSelective REQUEST_METHOD \"^TRACE$\" \"id:121,redirect:http://localhost/\"",
    "SecFilterSelective OUTPUT \"(root:x:0:0|Warning: mysql)\" \"id:122,deny,status:500\"",
    "SecFilterSelective OUTPUT_STATUS \"^5\" \"id:123,pass\"",
    NULL,
};

/* A <Directory> context: RFC 2109 cookies, inheritance off with imports and a removal. */
static const char *const dir_lines[] = {
    "SecFilterCookieFormat 1",
    "SecFilterInheritance Off",
    "SecFilterImport 101 102 103 107 108 113 115 116 122",
    "SecFilterRemove 116",
    "SecFilterSignatureAction \"log,severity:4\"",
    "SecFilterSelective \"ARGS|!ARG_q\" \"<(iframe|object)\" \"id:201,pass\"",
    "SecFilterSelective \"COOKIES|HEADER_Host\" \"^\\$\" \"id:202,pass\"",
    "SecFilter \"\\x00|%00\" \"id:203\"",
    NULL,
};
/* clang-format on */

/* Applies lines (NULL-terminated) to cfg; aborts on any error: the fixed configuration must be
 * valid. */
static void apply_lines(pp_cfg_t *cfg, const char *const *lines, bool in_dir)
{
    pp_cfg_site_t site = { "fuzz_request.conf", 0, NULL, in_dir, false, false };
    for (int i = 0; lines[i]; i++) {
        char *line = apr_pstrdup(root, lines[i]), *args = strchr(line, ' ');
        *args++ = '\0';
        site.line = i + 1;
        const pp_directive_t *d = pp_directive_find(line);
        const char *err = d ? pp_cfg_apply(cfg, d, args, &site, root, root) : "unknown";
        if (err) {
            fprintf(stderr, "fuzz_request: %s: %s\n", lines[i], err);
            abort();
        }
    }
}

static const pp_cfg_t *finish_config(pp_cfg_t *cfg)
{
    const char *err = pp_cfg_finish(cfg, root, root);
    if (err) {
        fprintf(stderr, "fuzz_request: %s\n", err);
        abort();
    }
    return cfg;
}

/* Server context number v: the common lines, the upload dir, and audit set-up v. */
static const pp_cfg_t *server_variant(int v)
{
    pp_cfg_t *cfg = pp_cfg_create(root);
    apply_lines(cfg, server_lines, false);
    const char *local[10] = { apr_psprintf(root, "SecUploadDir \"%s\"", upload_dir), NULL };
    if (v > 0) {
        local[1] = apr_psprintf(root, "SecAuditLog \"%s\"", audit_log);
        local[2] = apr_psprintf(root, "SecGuardianLog \"%s\"", guardian_log);
        local[3] = v == 1 ? "SecAuditEngine RelevantOnly" : "SecAuditEngine On";
        local[4] = v == 1 ? "SecAuditLogType Serial" : "SecAuditLogType Concurrent";
        local[5] = v == 2 ? "SecAuditLogFormat JSON" : "SecAuditLogFormat Native";
        local[6] = apr_psprintf(root, "SecAuditLogStorageDir \"%s\"", audit_store);
    }
    if (v == 3) {
        local[7] = apr_psprintf(root, "SecFilterDebugLog \"%s\"", debug_log);
        local[8] = "SecFilterDebugLevel 9";
    }
    apply_lines(cfg, local, false);
    return finish_config(cfg);
}

/* Removes every file below dir, and the directories too unless keep_dirs (the concurrent audit
 * log's date directories are reused, and re-creating them per input is slow). */
static void empty_tree(const char *dir, bool keep_dirs)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_type == DT_DIR) {
            empty_tree(path, keep_dirs);
            if (!keep_dirs)
                rmdir(path);
        } else {
            unlink(path);
        }
    }
    closedir(d);
}

static void remove_temp_dirs(void)
{
    rmdir(upload_dir);
    empty_tree(audit_dir, false);
    rmdir(audit_dir);
}

static void make_temp_dir(char *buf, size_t size, const char *kind)
{
    const char *base = getenv("PP_FUZZ_TMPDIR");
    if (!base)
        base = getenv("TMPDIR");
    snprintf(buf, size, "%s/parapet-fuzz-%s-XXXXXX", base ? base : "/tmp", kind);
    if (!mkdtemp(buf)) {
        perror("fuzz_request: mkdtemp");
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    apr_pool_create(&txp, root);
    const char *err = pp_engine_init(root);
    if (err) {
        fprintf(stderr, "fuzz_request: %s\n", err);
        abort();
    }
    make_temp_dir(upload_dir, sizeof upload_dir, "upload");
    make_temp_dir(audit_dir, sizeof audit_dir, "audit");
    atexit(remove_temp_dirs);
    audit_log = apr_pstrcat(root, audit_dir, "/audit.log", NULL);
    guardian_log = apr_pstrcat(root, audit_dir, "/guardian.log", NULL);
    debug_log = apr_pstrcat(root, audit_dir, "/debug.log", NULL);
    audit_store = apr_pstrcat(root, audit_dir, "/store", NULL);
    if (apr_dir_make(audit_store, APR_FPROT_OS_DEFAULT, root) != APR_SUCCESS)
        abort();

    /* Server and <Directory> contexts live in one configuration pool, as under Apache. */
    pp_cfg_t *dir = pp_cfg_create(root);
    apply_lines(dir, dir_lines, true);
    finish_config(dir);
    for (int v = 0; v < N_VARIANTS; v++) {
        server_cfg[v] = server_variant(v);
        dir_cfg[v] = pp_cfg_merge(root, server_cfg[v], dir);
    }
    env = apr_table_make(root, 4);
    apr_table_setn(env, "HTTPS", "on");
    apr_table_setn(env, "UNIQUE_ID", "fuzz");
    return 0;
}

/* ---- input ----------------------------------------------------------------------------- */

/* ---- chunking from a hash of the input --------------------------------------------------- */

static uint64_t hash_input(const uint8_t *data, size_t size)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3ULL;
    return h ? h : 1;
}

static uint64_t next_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static apr_size_t chunk_size(uint64_t *state)
{
    static const apr_size_t caps[] = { 1, 3, 17, 64, 700, 1500, 8192 };
    uint64_t r = next_rand(state);
    return 1 + (apr_size_t)((r >> 8) % caps[r % (sizeof caps / sizeof caps[0])]);
}

/* ---- the transaction ----------------------------------------------------------------------- */

static void check_replay(pp_tx_t *tx, pp_str_t want, bool response)
{
    apr_size_t got = 0;
    for (;;) {
        const char *d;
        apr_size_t n;
        apr_status_t rv = response ? pp_tx_read_response_body(tx, &d, &n)
                                   : pp_tx_read_request_body(tx, &d, &n);
        CHECK(rv == APR_SUCCESS);
        if (!n)
            break;
        CHECK(got + n <= want.len && memcmp(want.data + got, d, n) == 0);
        got += n;
    }
    CHECK(got == want.len);
}

static void feed_response(pp_tx_t *tx, pp_str_t body, uint64_t *state)
{
    static const char *const types[] = { "text/html", "text/plain; charset=utf-8",
                                         "application/json", NULL };
    const char *type = types[next_rand(state) % 4];
    pp_tx_set_response_status(tx, next_rand(state) % 4 ? 200 : 500, NULL);
    if (type)
        pp_tx_add_response_header(tx, PP_STR("Content-Type"), pp_str_from_cstr(type));
    pp_tx_finish_response_headers(tx);
    bool wanted = !pp_tx_verdict(tx)->intercepted && pp_tx_wants_response_body(tx, type);
    bool fed_all = true;
    for (apr_size_t off = 0; wanted && off < body.len;) {
        apr_size_t n = chunk_size(state);
        if (n > body.len - off)
            n = body.len - off;
        fed_all = fed_all && pp_tx_feed_response_body(tx, body.data + off, n) == APR_SUCCESS;
        off += n;
    }
    pp_tx_finish_response_body(tx);
    if (wanted && fed_all)
        check_replay(tx, body, true);
}

static void run(const uint8_t *data, size_t size)
{
    fuzz_request_t rq;
    fuzz_parse_request(txp, (const char *)data, (const char *)data + size, &rq);
    uint64_t state = hash_input(data, size);
    uint64_t pick = next_rand(&state);
    /* Half of the inputs run without audit logs: file I/O costs most of an execution. */
    int v = (int)((pick >> 1) % (2 * (N_VARIANTS - 1)));
    v = v < N_VARIANTS - 1 ? 0 : v - (N_VARIANTS - 2);
    pp_tx_t *tx = pp_tx_create(server_cfg[v], txp, NULL);
    pp_tx_set_errlog(tx, fuzz_discard_log, NULL);
    pp_tx_set_config(tx, pick & 1 ? dir_cfg[v] : server_cfg[v]);
    pp_conn_info_t ci;
    fuzz_conn_info(&ci);
    ci.path_info = "/extra";
    pp_tx_set_conn(tx, &ci);
    pp_tx_set_env(tx, env);
    fuzz_send_request_head(tx, &rq);
    bool fed = false, fed_all = true;
    if (!pp_tx_verdict(tx)->intercepted && rq.body.len && pp_tx_wants_request_body(tx)) {
        fed = true;
        for (apr_size_t off = 0; off < rq.body.len;) {
            apr_size_t n = chunk_size(&state);
            if (n > rq.body.len - off)
                n = rq.body.len - off;
            /* Half of the inputs lend the chunks (the input outlives the transaction), as the
             * Apache adapter lends its buckets: the replay must give the same bytes. */
            pp_str_t piece = { rq.body.data + off, n };
            if ((pick >> 40 & 1 ? pp_tx_feed_request_body_lent(tx, &piece, 1)
                                : pp_tx_feed_request_body(tx, piece.data, n)) != APR_SUCCESS) {
                fed_all = false;
                break;
            }
            off += n;
        }
    }
    /* A body refused while it arrived (a body limit, a rule that needs no body) is not kept:
     * the request is answered with the refusal, nothing is replayed. */
    bool refused = fed && pp_tx_verdict(tx)->intercepted;
    pp_tx_finish_request_body(tx);
    fuzz_check_verdict(tx);
    if (fed && fed_all && !refused) {
        CHECK(pp_tx_request_body_length(tx) == (apr_off_t)rq.body.len);
        check_replay(tx, rq.body, false);
    }
    if (!pp_tx_verdict(tx)->intercepted)
        feed_response(tx, rq.body.len ? rq.body : rq.line, &state);
    pp_tx_finish(tx);
    fuzz_check_verdict(tx);
}

/* Lists what is left in the upload directory; aborts when anything is. */
static void check_upload_dir_empty(void)
{
    DIR *dir = opendir(upload_dir);
    CHECK(dir != NULL);
    int left = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        fprintf(stderr, "fuzz_request: left in the upload directory: %s\n", e->d_name);
        left++;
    }
    closedir(dir);
    empty_tree(upload_dir, false);
    CHECK(left == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size);
    apr_pool_clear(txp);
    check_upload_dir_empty();
    /* The logs stay open in append mode: truncating keeps the disk use flat. */
    CHECK(truncate(audit_log, 0) == 0 && truncate(guardian_log, 0) == 0 &&
          truncate(debug_log, 0) == 0);
    empty_tree(audit_store, true);
    return 0;
}
