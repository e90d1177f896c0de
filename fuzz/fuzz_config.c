/*
 * libFuzzer target for the configuration parser (config/directives.c, set_rules.c,
 * set_misc.c, lang/secfilter.c, names19.c, actionlist.c; reference §2, §3, §8). The input is
 * configuration text. Lines are joined at a trailing backslash, and each one goes to
 * pp_cfg_apply under the directive its first word names, as config/reader.c does. A line
 * starting with '<' opens the next context (a <Directory> child; "<VirtualHost" a vhost):
 * the sections are merged in order with pp_cfg_merge, and the first one is also merged under
 * and over a fixed configuration. A context stops at its first error, as Apache does.
 *
 * The same input also goes through pp_cfg_read_file (config/reader.c: continuation, containers,
 * <IfModule>) from a file in a private temp dir, unless it mentions Include or a skipped
 * directive anywhere (an Include could read any file, a glob many).
 *
 * Checks: an error message names its directive; after merging, every effective rule is
 * complete (targets, operator, phase) and a chain that passed pp_cfg_finish has its next
 * member. Finally a fixed request and response run against the merged configuration, unless a
 * rule would run a program or sleep.
 *
 * Directives that write to the file system or start things are skipped: SecUploadDir,
 * SecFilterDebugLog, SecAuditLog, SecGuardianLog, SecChrootDir, SecUploadApproveScript,
 * SecAuditLogStorageDir, and SecUploadScanClamd (a transaction would connect to the address).
 */
#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "common.h"

#define MAX_SECTIONS 8

static apr_pool_t *root, *cp, *tp, *txp;
static char conf_dir[512], conf_path[600];
static const pp_cfg_t *fixed_parent, *fixed_child;

static const char *const skipped[] = {
    "SecUploadDir",         "SecFilterDebugLog",      "SecAuditLog",
    "SecGuardianLog",       "SecChrootDir",           "SecUploadApproveScript",
    "SecAuditLogStorageDir", "SecUploadScanClamd",     NULL,
};

/* One context being read: its configuration and whether an error stopped it. */
typedef struct section_t {
    pp_cfg_t *cfg;
    bool failed;
    pp_cfg_site_t site;
} section_t;

static void open_section(section_t *s, const char *tag)
{
    memset(s, 0, sizeof *s);
    s->cfg = pp_cfg_create(cp);
    s->site.file = "fuzz.conf";
    s->site.checking_only = true;
    if (tag) {
        s->site.in_vhost = strncasecmp(tag, "<VirtualHost", 12) == 0;
        s->site.in_dir = !s->site.in_vhost;
    }
}

typedef struct reading_t {
    section_t *sec;
    int n;
} reading_t;

/* A line opens the next context ('<', up to MAX_SECTIONS) or goes to the current one, which
 * stops at its first error. */
static bool section_line(void *ctx, char *line, int lineno)
{
    reading_t *r = ctx;
    if (*line == '<') {
        if (line[1] != '/' && r->n < MAX_SECTIONS)
            open_section(&r->sec[r->n++], line);
        return true;
    }
    section_t *s = &r->sec[r->n - 1];
    if (!s->failed) {
        s->site.line = lineno;
        s->failed = fuzz_apply_line(s->cfg, line, &s->site, skipped, cp, tp) != NULL;
    }
    return true;
}

/* Splits the input into logical lines and sections; returns the number of sections. */
static int read_sections(const uint8_t *data, size_t size, section_t *sec)
{
    reading_t r = { sec, 1 };
    open_section(&sec[0], NULL);
    fuzz_config_lines(tp, (const char *)data, size, section_line, &r);
    return r.n;
}

static void check_rules(const pp_cfg_t *cfg, bool finished)
{
    const apr_array_header_t *rules = cfg->effective_rules;
    CHECK(rules != NULL);
    for (int i = 0; i < rules->nelts; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
        CHECK(r != NULL);
        if (r->lang2) {
            /* SecRule: phases 1-5 (a SecMarker stands in every phase: none); SecAction and
             * SecMarker test nothing. */
            CHECK(r->marker ? r->phase == PP_PHASE_NONE
                            : r->phase >= PP_PHASE_REQUEST_HEADERS && r->phase <= PP_PHASE_LOGGING);
            if (r->always || r->marker)
                continue;
        } else {
            CHECK(r->phase == PP_PHASE_REQUEST_BODY || r->phase == PP_PHASE_RESPONSE_BODY);
        }
        CHECK(r->ntargets > 0 && r->targets != NULL);
        CHECK(r->op.def != NULL && (r->op.arg != NULL || r->op.macro != NULL));
        for (unsigned t = 0; t < r->ntargets; t++)
            CHECK(r->targets[t] != NULL && r->targets[t]->var != NULL &&
                  r->targets[t]->label != NULL);
        for (unsigned x = 0; x < r->nexclusions; x++)
            CHECK(r->exclusions[x].family != NULL && r->exclusions[x].name != NULL);
        if (finished && r->own && r->own->chain)
            CHECK(r->chain_next != NULL && r->chain_next->phase == r->phase);
    }
}

static void run_transaction(const pp_cfg_t *cfg)
{
    static const char body[] = "q=1%27+union+select+1&name=%3Cscript%3E&x=..%2F..%2Fetc";
    pp_tx_t *tx = pp_tx_create(cfg, txp, "fuzz");
    pp_conn_info_t ci = { 0 };
    ci.client_ip = "127.0.0.1";
    ci.server_ip = "127.0.0.1";
    ci.server_port = 80;
    ci.server_name = "localhost";
    ci.script_filename = "/var/www/index.php";
    pp_tx_set_conn(tx, &ci);
    pp_tx_set_request_line(tx, PP_STR("POST /a/../index.php/x?id=1&b=%41%00 HTTP/1.1"));
    pp_tx_add_request_header(tx, PP_STR("Host"), PP_STR("localhost"));
    pp_tx_add_request_header(tx, PP_STR("User-Agent"), PP_STR("sqlmap/1.0"));
    pp_tx_add_request_header(tx, PP_STR("Cookie"), PP_STR("sid=abc; $Version=1; t=\"a b\""));
    pp_tx_add_request_header(tx, PP_STR("Content-Type"),
                             PP_STR("application/x-www-form-urlencoded"));
    pp_tx_finish_request_headers(tx);
    if (pp_tx_wants_request_body(tx))
        pp_tx_feed_request_body(tx, body, sizeof body - 1);
    pp_tx_finish_request_body(tx);
    if (!pp_tx_verdict(tx)->intercepted) {
        pp_tx_set_response_status(tx, 200, NULL);
        pp_tx_add_response_header(tx, PP_STR("Content-Type"), PP_STR("text/html"));
        pp_tx_finish_response_headers(tx);
        if (pp_tx_wants_response_body(tx, "text/html"))
            pp_tx_feed_response_body(tx, "<html>root:x:0:0</html>", 23);
        pp_tx_finish_response_body(tx);
    }
    pp_tx_finish(tx);
    const pp_verdict_t *v = pp_tx_verdict(tx);
    CHECK(!v->intercepted || (v->status >= 100 && v->status <= 999));
    apr_pool_clear(txp);
}

/* Case-insensitive search for word not followed by a name character, in bytes that may hold
 * NUL ("SecAuditLog" does not match "SecAuditLogParts"). */
static bool mentions(const uint8_t *data, size_t size, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= size; i++)
        if (strncasecmp((const char *)data + i, word, n) == 0 &&
            (i + n == size || !(apr_isalnum(data[i + n]) || data[i + n] == '_')))
            return true;
    return false;
}

static void read_as_file(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i + 7 <= size; i++)
        if (strncasecmp((const char *)data + i, "include", 7) == 0)
            return;
    for (int i = 0; skipped[i]; i++)
        if (mentions(data, size, skipped[i]))
            return;
    FILE *f = fopen(conf_path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, size, f) == size || size == 0);
    CHECK(fclose(f) == 0);
    pp_cfg_t *cfg = pp_cfg_create(cp);
    const char *err = pp_cfg_read_file(cfg, conf_path, cp, tp);
    /* "FILE:LINE: message" or "FILE: message" (reader.c); pp_cfg_finish's messages come
     * through unprefixed, so one without the file name must be what pp_cfg_finish says. */
    if (err && strncmp(err, conf_path, strlen(conf_path)) != 0) {
        const char *again = pp_cfg_finish(cfg, cp, tp);
        if (!again || strcmp(again, err) != 0) {
            fprintf(stderr, "fuzz_config: pp_cfg_read_file: \"%s\" lacks the file name\n", err);
            CHECK(!"a reader message starts with FILE");
        }
    }
    check_rules(cfg, err == NULL);
}

static void remove_conf_dir(void)
{
    unlink(conf_path);
    rmdir(conf_dir);
}

static pp_cfg_t *fixed_config(const char *const *lines, bool in_dir)
{
    pp_cfg_t *cfg = pp_cfg_create(root);
    pp_cfg_site_t site = { "fixed.conf", 0, NULL, in_dir, false, true };
    for (int i = 0; lines[i]; i++) {
        char *line = apr_pstrdup(root, lines[i]), *args = strchr(line, ' ');
        *args++ = '\0';
        site.line = i + 1;
        const char *err = pp_cfg_apply(cfg, pp_directive_find(line), args, &site, root, root);
        if (err) {
            fprintf(stderr, "fuzz_config: fixed configuration: %s\n", err);
            abort();
        }
    }
    return cfg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const parent[] = {
        "SecFilterEngine On",
        "SecFilterScanPOST On",
        "SecFilterDefaultAction \"deny,log,status:403\"",
        "SecFilterSelective ARGS \"union.+select\" \"id:1,pass\"",
        "SecFilterInheritanceMandatory On",
        "SecFilterSelective REQUEST_URI \"/etc/passwd\" \"id:2\"",
        "SecFilterInheritanceMandatory Off",
        "SecFilter \"<script\" \"id:3,chain\"",
        "SecFilterSelective HTTP_User-Agent \"sqlmap\" \"id:4\"",
        NULL,
    };
    static const char *const child[] = {
        "SecFilterInheritance Off",
        "SecFilterImport 1 3",
        "SecFilterRemove 2 3",
        "SecFilterSelective \"ARGS|!ARG_q\" \"select\" \"id:5,pass\"",
        NULL,
    };
    apr_initialize();
    apr_pool_create(&root, NULL);
    const char *err = pp_engine_init(root);
    if (err) {
        fprintf(stderr, "fuzz_config: %s\n", err);
        abort();
    }
    apr_pool_create(&cp, root);
    apr_pool_create(&tp, root);
    apr_pool_create(&txp, root);
    const char *base = getenv("PP_FUZZ_TMPDIR");
    if (!base)
        base = getenv("TMPDIR");
    snprintf(conf_dir, sizeof conf_dir, "%s/parapet-fuzz-conf-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(conf_dir)) {
        perror("fuzz_config: mkdtemp");
        abort();
    }
    snprintf(conf_path, sizeof conf_path, "%s/fuzz.conf", conf_dir);
    atexit(remove_conf_dir);
    fixed_parent = fixed_config(parent, false);
    fixed_child = fixed_config(child, true);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    section_t sec[MAX_SECTIONS];
    int n = read_sections(data, size, sec);
    bool finished = true;
    for (int i = 0; i < n; i++) {
        bool ok = !sec[i].failed && pp_cfg_finish(sec[i].cfg, cp, tp) == NULL;
        finished = finished && ok;
        check_rules(sec[i].cfg, ok);
    }
    const pp_cfg_t *eff = sec[0].cfg;
    for (int i = 1; i < n; i++) {
        eff = pp_cfg_merge(cp, eff, sec[i].cfg);
        check_rules(eff, finished);
    }
    const pp_cfg_t *under = pp_cfg_merge(cp, fixed_parent, sec[0].cfg);
    const pp_cfg_t *over = pp_cfg_merge(cp, sec[0].cfg, fixed_child);
    check_rules(under, finished);
    check_rules(over, finished);
    /* Only configurations Apache would have accepted reach a transaction. */
    if (finished && fuzz_safe_to_run(eff))
        run_transaction(eff);
    if (finished && fuzz_safe_to_run(under))
        run_transaction(under);
    read_as_file(data, size);
    apr_pool_clear(tp);
    apr_pool_clear(cp);
    return 0;
}
