/*
 * Unit tests for body/multipart.c and body/multipart_header.c (reference §6.3): tables of
 * vectors, each a Content-Type and a raw body with the exact flags and callbacks expected.
 * The client vectors are written by hand in the shape each client sends (Firefox, Chrome, curl,
 * Python requests, Apache HttpClient, OkHttp, Go, .NET) and must raise no strict flag. Every
 * vector is also fed split at every position, byte by byte and in random chunks, and must give
 * identical results. Inputs found by fuzz/fuzz_multipart.c live at the end of the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body/multipart.h"
#include "pp_random.h"

static apr_pool_t *pool;

static pp_str_t cstr(const char *s)
{
    return (pp_str_t){ s, strlen(s) };
}

/* ---- Recording callbacks -------------------------------------------------------------------- */

typedef struct growbuf_t {
    char *data;
    apr_size_t len, cap;
} growbuf_t;

typedef struct rec_t {
    apr_pool_t *p;
    growbuf_t log;  /* one line per event, bytes escaped */
    growbuf_t file; /* data of the open file */
    int open_files;
    apr_status_t fail_field; /* returned by field() when set */
} rec_t;

static void gb_add(apr_pool_t *p, growbuf_t *b, const char *data, apr_size_t n)
{
    if (b->len + n + 1 > b->cap) {
        apr_size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *grown = apr_palloc(p, cap);
        if (b->len) {
            memcpy(grown, b->data, b->len);
        }
        b->data = grown;
        b->cap = cap;
    }
    if (n) {
        memcpy(b->data + b->len, data, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
}

static void log_str(rec_t *r, const char *s)
{
    gb_add(r->p, &r->log, s, strlen(s));
}

/* Printable ASCII as is (except backslash), everything else as \xhh. */
static void log_bytes(rec_t *r, pp_str_t s)
{
    for (apr_size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.data[i];
        char esc[8];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            gb_add(r->p, &r->log, (const char *)&c, 1);
        } else {
            snprintf(esc, sizeof(esc), "\\x%02x", c);
            log_str(r, esc);
        }
    }
}

static apr_status_t on_field(void *ctx, pp_str_t name, pp_str_t value)
{
    rec_t *r = ctx;
    assert_non_null(name.data);
    assert_non_null(value.data);
    log_str(r, "F ");
    log_bytes(r, name);
    log_str(r, "=");
    log_bytes(r, value);
    log_str(r, "\n");
    return r->fail_field;
}

static apr_status_t on_file_begin(void *ctx, pp_str_t field_name, pp_str_t filename,
                                  pp_str_t content_type, void **handle)
{
    rec_t *r = ctx;
    assert_null(*handle);
    assert_int_equal(r->open_files, 0);
    r->open_files++;
    *handle = r;
    r->file.len = 0;
    log_str(r, "B ");
    log_bytes(r, field_name);
    log_str(r, "|");
    log_bytes(r, filename);
    log_str(r, "|");
    log_bytes(r, content_type);
    log_str(r, "\n");
    return APR_SUCCESS;
}

static apr_status_t on_file_data(void *ctx, void *handle, const char *data, apr_size_t len)
{
    rec_t *r = ctx;
    assert_ptr_equal(handle, r);
    assert_true(len > 0);
    gb_add(r->p, &r->file, data, len);
    return APR_SUCCESS;
}

static apr_status_t on_file_end(void *ctx, void *handle, apr_off_t size)
{
    rec_t *r = ctx;
    char num[32];
    assert_ptr_equal(handle, r);
    assert_int_equal((apr_size_t)size, r->file.len);
    r->open_files--;
    snprintf(num, sizeof(num), "E %lu:", (unsigned long)size);
    log_str(r, num);
    log_bytes(r, (pp_str_t){ r->file.data ? r->file.data : "", r->file.len });
    log_str(r, "\n");
    return APR_SUCCESS;
}

/* ---- Vectors -------------------------------------------------------------------------------- */

typedef struct mp_vec_t {
    const char *name;
    const char *ct;
    const char *body;
    apr_size_t body_len;
    unsigned flags;     /* exact */
    bool fatal;         /* error set, feed/finish return APR_EGENERAL */
    const char *events; /* exact callback log */
    pp_multipart_limits_t limits;
} mp_vec_t;

#define BODY(s) .body = s, .body_len = sizeof(s) - 1

/* Firefox 125+ */
#define FFB "----geckoformboundary5e3b7a1c9d2f4e6a8b0c1d3e5f7a9b2c"
/* Firefox before 125 */
#define FFO "---------------------------974767299852498929531610575"
/* Chrome, Edge, Safari */
#define CRB "----WebKitFormBoundaryePkpFF7tjBAqx29L"
/* curl 7 and curl 8 */
#define C7B "------------------------d74496d66958873e"
#define C8B "------------------------qZ8VnL2sXk4pRt7wYb3mCd"
/* Python requests / urllib3: 16 random bytes in hex */
#define PYB "8f3a1c2e5b7d9e0f1a2b3c4d5e6f7a8b"
/* Apache HttpClient 4.x (STRICT mode) */
#define JHB "Ys3kF9_-q2LmZ0xN8pW4aVb7Rc1Ud5Te6"
/* OkHttp: a UUID */
#define OKB "0b9d3a6e-7f21-4c58-9e0a-5d4c3b2a1f09"
/* Go mime/multipart: 30 random bytes in hex */
#define GOB "3f8a2c1e9b7d5f4a6c8e0b2d4f6a8c0e2b4d6f8a1c3e5a7b9d1f3e5c7a9b"
/* .NET HttpClient MultipartFormDataContent */
#define NTB "9d3c4f0a-1b2c-4d5e-8f9a-0b1c2d3e4f5a"

#define CT(b) "multipart/form-data; boundary=" b
#define CD "Content-Disposition: form-data; "

/* Short boundary for the flag vectors. */
#define XCT CT("xyzzy")
#define XA "--xyzzy\r\n" CD "name=\"a\"\r\n\r\n1\r\n"
#define XB "--xyzzy\r\n" CD "name=\"b\"\r\n\r\n2\r\n"
#define XEND "--xyzzy--\r\n"
#define XPART(hdrs, content) "--xyzzy\r\n" hdrs "\r\n" content "\r\n"

static const mp_vec_t vectors[] = {
    /* ---- real clients: no strict flag ---- */
    { .name = "firefox",
      .ct = CT(FFB),
      BODY("--" FFB "\r\n" CD "name=\"title\"\r\n\r\nR\xc3\xa9sum\xc3\xa9 draft\r\n"
           "--" FFB "\r\n" CD "name=\"upload\"; filename=\"r\xc3\xa9sum\xc3\xa9.txt\"\r\n"
           "Content-Type: text/plain\r\n\r\nline one\r\nline two\r\n\r\n"
           "--" FFB "\r\n" CD "name=\"empty\"; filename=\"\"\r\n"
           "Content-Type: application/octet-stream\r\n\r\n\r\n"
           "--" FFB "--\r\n"),
      .events = "F title=R\\xc3\\xa9sum\\xc3\\xa9 draft\n"
                "B upload|r\\xc3\\xa9sum\\xc3\\xa9.txt|text/plain\n"
                "E 20:line one\\x0d\\x0aline two\\x0d\\x0a\n"
                "B empty||application/octet-stream\n"
                "E 0:\n" },
    { .name = "firefox-old",
      .ct = CT(FFO),
      BODY("--" FFO "\r\n" CD "name=\"q\"\r\n\r\nhello world\r\n"
           "--" FFO "\r\n" CD "name=\"text\"\r\n\r\na\r\nb\r\n"
           "--" FFO "--\r\n"),
      .events = "F q=hello world\nF text=a\\x0d\\x0ab\n" },
    { .name = "chrome",
      .ct = CT(CRB),
      BODY("--" CRB "\r\n" CD "name=\"user\"\r\n\r\njoe\r\n"
           "--" CRB "\r\n" CD "name=\"pic\"; filename=\"say %22hi%22.png\"\r\n"
           "Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\x00\x00\r\n"
           "--" CRB "--\r\n"),
      .events = "F user=joe\nB pic|say %22hi%22.png|image/png\n"
                "E 10:\\x89PNG\\x0d\\x0a\\x1a\\x0a\\x00\\x00\n" },
    { .name = "chrome-old-escaped-quotes",
      .ct = CT(CRB),
      BODY("--" CRB "\r\n" CD "name=\"a\\\"b\"\r\n\r\nv\r\n"
           "--" CRB "\r\n" CD "name=\"f\"; filename=\"say \\\"hi\\\".txt\"\r\n"
           "Content-Type: text/plain\r\n\r\nx\r\n"
           "--" CRB "--\r\n"),
      .events = "F a\"b=v\nB f|say \"hi\".txt|text/plain\nE 1:x\n" },
    { .name = "curl7",
      .ct = CT(C7B),
      BODY("--" C7B "\r\n" CD "name=\"name\"\r\n\r\nvalue\r\n"
           "--" C7B "\r\n" CD "name=\"file\"; filename=\"notes.txt\"\r\n"
           "Content-Type: text/plain\r\n\r\n"
           "-- not a boundary\r\n------------------------\r\n--\r\n\r\n"
           "--" C7B "--\r\n"),
      .flags = PP_MP_BOUNDARY_LIKE_LINE, /* informational: "-- not a boundary" for 2.9.7 */
      .events = "F name=value\nB file|notes.txt|text/plain\n"
                "E 49:-- not a boundary\\x0d\\x0a------------------------\\x0d\\x0a--"
                "\\x0d\\x0a\n" },
    { .name = "curl8",
      .ct = CT(C8B),
      BODY("--" C8B "\r\n" CD "name=\"blob\"; filename=\"data.bin\"\r\n"
           "Content-Type: application/octet-stream\r\n\r\n"
           "\r\n--\r\n--" "------------------------qZ8W\r\n-\n\r\r\n"
           "\r\n--" C8B "--\r\n"),
      .flags = PP_MP_BOUNDARY_LIKE_LINE, /* informational: "--\r\n" for 2.9.7 */
      .events = "B blob|data.bin|application/octet-stream\n"
                "E 43:\\x0d\\x0a--\\x0d\\x0a--------------------------qZ8W\\x0d\\x0a-\\x0a\\x0d"
                "\\x0d\\x0a\n" },
    { .name = "python-requests",
      .ct = CT(PYB),
      BODY("--" PYB "\r\n" CD "name=\"a\"\r\n\r\n1\r\n"
           "--" PYB "\r\n" CD "name=\"b\"\r\n\r\ntwo words\r\n"
           "--" PYB "\r\n" CD "name=\"file\"; filename=\"report.csv\"\r\n\r\n"
           "id,val\r\n1,2\r\n\r\n"
           "--" PYB "--\r\n"),
      .events = "F a=1\nF b=two words\nB file|report.csv|\n"
                "E 13:id,val\\x0d\\x0a1,2\\x0d\\x0a\n" },
    { .name = "java-httpclient",
      .ct = CT(JHB) "; charset=UTF-8",
      BODY("--" JHB "\r\n" CD "name=\"comment\"\r\n"
           "Content-Type: text/plain; charset=ISO-8859-1\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\nnice\r\n"
           "--" JHB "\r\n" CD "name=\"file\"; filename=\"data.bin\"\r\n"
           "Content-Type: application/octet-stream\r\n"
           "Content-Transfer-Encoding: binary\r\n\r\n\x01\x02\xff\r\n"
           "--" JHB "--\r\n"),
      .events = "F comment=nice\nB file|data.bin|application/octet-stream\n"
                "E 3:\\x01\\x02\\xff\n" },
    { .name = "okhttp",
      .ct = CT(OKB),
      BODY("--" OKB "\r\n" CD "name=\"user\"\r\nContent-Length: 5\r\n\r\nalice\r\n"
           "--" OKB "\r\n" CD "name=\"avatar\"; filename=\"me.png\"\r\n"
           "Content-Type: image/png\r\nContent-Length: 4\r\n\r\n\x89PNG\r\n"
           "--" OKB "--\r\n"),
      .flags = PP_MP_UNKNOWN_PART_HEADER,
      .events = "F user=alice\nB avatar|me.png|image/png\nE 4:\\x89PNG\n" },
    { .name = "go",
      .ct = CT(GOB),
      BODY("--" GOB "\r\n" CD "name=\"note\"\r\n\r\nhi\r\n"
           "--" GOB "\r\n" CD "name=\"doc\"; filename=\"my \\\"quoted\\\" \\\\ file.txt\"\r\n"
           "Content-Type: application/octet-stream\r\n\r\nbody\r\n"
           "--" GOB "--\r\n"),
      .flags = PP_MP_FILENAME_PATH,
      .events = "F note=hi\nB doc|my \"quoted\" \\x5c file.txt|application/octet-stream\n"
                "E 4:body\n" },
    { .name = "dotnet",
      .ct = "multipart/form-data; boundary=\"" NTB "\"",
      BODY("--" NTB "\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Disposition: form-data; name=file; filename=hello.txt; "
           "filename*=utf-8''hello.txt\r\n\r\nhello\r\n"
           "--" NTB "--\r\n"),
      .flags = PP_MP_BOUNDARY_QUOTED | PP_MP_FILENAME_ENCODING,
      .events = "B file|hello.txt|text/plain; charset=utf-8\nE 5:hello\n" },
    { .name = "empty-form", .ct = CT(CRB), BODY("--" CRB "--\r\n"), .events = "" },
    { .name = "no-crlf-after-final", .ct = XCT, BODY(XA "--xyzzy--"), .events = "F a=1\n" },
    { .name = "crlf-preamble", .ct = XCT, BODY("\r\n" XA XEND), .events = "F a=1\n" },
    { .name = "epilogue-white-space", .ct = XCT, BODY(XA XEND "\r\n \t\r\n"), .events = "F a=1\n" },
    { .name = "near-boundaries",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "\r\n--xyzzQ\r-xyzzy\r\n--xyzzz\r\n--xy\r\n--\n\n-")
           XEND),
      .flags = PP_MP_BOUNDARY_LIKE_LINE,
      .events = "F a=\\x0d\\x0a--xyzzQ\\x0d-xyzzy\\x0d\\x0a--xyzzz\\x0d\\x0a--xy\\x0d\\x0a--"
                "\\x0a\\x0a-\n" },
    { .name = "upper-case-names",
      .ct = "Multipart/Form-Data; BOUNDARY=xyzzy",
      BODY("--xyzzy\r\ncontent-disposition: FORM-DATA; NAME=\"a\"\r\nCONTENT-TYPE: x/y\r\n\r\n1\r\n"
           XEND),
      .events = "F a=1\n" },

    /* ---- one flag at a time ---- */
    { .name = "boundary-quoted",
      .ct = "multipart/form-data; boundary=\"xyzzy\"",
      BODY(XA XEND),
      .flags = PP_MP_BOUNDARY_QUOTED,
      .events = "F a=1\n" },
    { .name = "boundary-whitespace-ct",
      .ct = "multipart/form-data; boundary= xyzzy",
      BODY(XA XEND),
      .flags = PP_MP_BOUNDARY_WHITESPACE,
      .events = "F a=1\n" },
    { .name = "boundary-whitespace-inside",
      .ct = "multipart/form-data; boundary=\"xy zzy\"",
      BODY("--xy zzy\r\n" CD "name=\"a\"\r\n\r\n1\r\n--xy zzy--\r\n"),
      .flags = PP_MP_BOUNDARY_QUOTED | PP_MP_BOUNDARY_WHITESPACE,
      .events = "F a=1\n" },
    { .name = "boundary-whitespace-padding",
      .ct = XCT,
      BODY("--xyzzy \t\r\n" CD "name=\"a\"\r\n\r\n1\r\n" XEND),
      .flags = PP_MP_BOUNDARY_WHITESPACE,
      .events = "F a=1\n" },
    { .name = "data-before",
      .ct = XCT,
      BODY("This is a preamble.\r\n" XA XEND),
      .flags = PP_MP_DATA_BEFORE,
      .events = "F a=1\n" },
    { .name = "data-after",
      .ct = XCT,
      BODY(XA XEND "trailing junk"),
      .flags = PP_MP_DATA_AFTER,
      .events = "F a=1\n" },
    { .name = "data-after-close-junk",
      .ct = XCT,
      BODY(XA "--xyzzy--junk\r\n"),
      .flags = PP_MP_DATA_AFTER,
      .events = "F a=1\n" },
    { .name = "header-folding",
      .ct = XCT,
      BODY("--xyzzy\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\n1\r\n" XEND),
      .flags = PP_MP_HEADER_FOLDING,
      .events = "F a=1\n" },
    { .name = "invalid-header-folding",
      .ct = XCT,
      BODY("--xyzzy\r\n X: y\r\n" CD "name=\"a\"\r\n\r\n1\r\n" XEND),
      .flags = PP_MP_INVALID_HEADER_FOLDING,
      .events = "F a=1\n" },
    { .name = "lf-line",
      .ct = XCT,
      BODY("--xyzzy\n" CD "name=\"a\"\n\n1\n--xyzzy\n" CD "name=\"b\"\n\n2\n--xyzzy--\n"),
      .flags = PP_MP_LF_LINE,
      .events = "F a=1\nF b=2\n" },
    { .name = "crlf-lf-mixed",
      .ct = XCT,
      BODY("--xyzzy\r\n" CD "name=\"a\"\n\r\n1\r\n" XEND),
      .flags = PP_MP_LF_LINE | PP_MP_CRLF_LF_LINES,
      .events = "F a=1\n" },
    { .name = "lf-before-delimiter",
      .ct = XCT,
      BODY("--xyzzy\r\n" CD "name=\"a\"\r\n\r\n1\n--xyzzy--\r\n"),
      .flags = PP_MP_LF_LINE | PP_MP_CRLF_LF_LINES,
      .events = "F a=1\n" },
    { .name = "missing-semicolon",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\" filename=\"f\"\r\n", "1") XEND),
      .flags = PP_MP_MISSING_SEMICOLON,
      .events = "B a|f|\nE 1:1\n" },
    { .name = "missing-semicolon-after-type",
      .ct = XCT,
      BODY(XPART("Content-Disposition: form-data name=\"a\"\r\n", "1") XEND),
      .flags = PP_MP_MISSING_SEMICOLON,
      .events = "F a=1\n" },
    { .name = "invalid-quoting-unterminated",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\r\n", "1") XEND),
      .flags = PP_MP_INVALID_QUOTING,
      .events = "F a=1\n" },
    { .name = "invalid-quoting-single",
      .ct = XCT,
      BODY(XPART(CD "name='a'\r\n", "1") XEND),
      .flags = PP_MP_INVALID_QUOTING,
      .events = "F 'a'=1\n" },
    { .name = "invalid-quoting-after-quote",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"b\r\n", "1") XEND),
      .flags = PP_MP_INVALID_QUOTING,
      .events = "F a=1\n" },
    { .name = "invalid-quoting-unquoted-quote",
      .ct = XCT,
      BODY(XPART(CD "name=a\"b\r\n", "1") XEND),
      .flags = PP_MP_INVALID_QUOTING,
      .events = "F a\"b=1\n" },
    { .name = "invalid-quoting-backslash-in-name",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\\b\"\r\n", "1") XEND),
      .flags = PP_MP_INVALID_QUOTING,
      .events = "F a\\x5cb=1\n" },
    { .name = "invalid-part-no-blank-line",
      .ct = XCT,
      BODY("--xyzzy\r\n" CD "name=\"a\"\r\n" XB XEND),
      .flags = PP_MP_INVALID_PART,
      .events = "F b=2\n" },
    { .name = "invalid-part-no-blank-line-close",
      .ct = XCT,
      BODY("--xyzzy\r\n" CD "name=\"a\"\r\n" XEND),
      .flags = PP_MP_INVALID_PART,
      .events = "" },
    { .name = "invalid-part-bare-cr",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\nX-A: b\rc\r\n", "1") XEND),
      .flags = PP_MP_INVALID_PART | PP_MP_UNKNOWN_PART_HEADER,
      .events = "F a=1\n" },
    { .name = "invalid-part-header-name",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\nContent-Type : text/plain\r\n", "1") XEND),
      .flags = PP_MP_INVALID_PART | PP_MP_UNKNOWN_PART_HEADER,
      .events = "F a=1\n" },
    { .name = "invalid-part-duplicate-content-type",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; filename=\"f\"\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n",
                 "1") XEND),
      .flags = PP_MP_INVALID_PART,
      .events = "B a|f|a/b\nE 1:1\n" },
    { .name = "invalid-part-delimiter-after-blank-line",
      .ct = XCT,
      BODY("--xyzzy\r\n" CD "name=\"a\"\r\n\r\n" XB XEND),
      .flags = PP_MP_INVALID_PART,
      .events = "F a=\nF b=2\n" },
    { .name = "invalid-part-nul-in-header",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; filename=\"f\"\r\nContent-Type: a\0b\r\n", "1") XEND),
      .flags = PP_MP_INVALID_PART,
      .events = "B a|f|a\\x00b\nE 1:1\n" },
    { .name = "part-limit",
      .ct = XCT,
      BODY(XA XB XA XEND),
      .limits = { .max_parts = 2 },
      .flags = PP_MP_PART_LIMIT_EXCEEDED,
      .fatal = true,
      .events = "F a=1\nF b=2\n" },
    { .name = "part-limit-exact",
      .ct = XCT,
      BODY(XA XB XEND),
      .limits = { .max_parts = 2 },
      .events = "F a=1\nF b=2\n" },
    { .name = "unknown-part-header",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\nX-Foo: bar\r\n", "1") XEND),
      .flags = PP_MP_UNKNOWN_PART_HEADER,
      .events = "F a=1\n" },
    { .name = "duplicate-cd",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n" CD "name=\"b\"\r\n", "1") XEND),
      .flags = PP_MP_DUPLICATE_CD,
      .events = "F a=1\n" },
    { .name = "malformed-cd-type",
      .ct = XCT,
      BODY(XPART("Content-Disposition: attachment; name=\"a\"\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .events = "F a=1\n" },
    { .name = "malformed-cd-no-name",
      .ct = XCT,
      BODY(XPART("Content-Disposition: form-data\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .events = "F =1\n" },
    { .name = "cd-rfc2183-params-ignored",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; size=3; creation-date=\"Wed, 12 Feb 1997 16:29:51 -0500\"; "
                    "modification-date=\"Wed, 12 Feb 1997 16:29:51 -0500\"; "
                    "read-date=\"Wed, 12 Feb 1997 16:29:51 -0500\"; x-ext=token\r\n", "1") XEND),
      .events = "F a=1\n" },
    { .name = "cd-jaxrs-file-params",
      .ct = XCT,
      BODY(XPART(CD "name=\"f\"; filename=\"r.pdf\"; modification-date=\"Mon, 07 Dec 2026 "
                    "03:00:00 GMT\"; size=1\r\nContent-Type: application/pdf\r\n", "1") XEND),
      .events = "B f|r.pdf|application/pdf\nE 1:1\n" },
    { .name = "cd-unknown-param-duplicate-ignored",
      .ct = XCT,
      BODY(XPART(CD "size=3; name=\"a\"; size=4\r\n", "1") XEND),
      .events = "F a=1\n" },
    { .name = "malformed-cd-unknown-param-bad-quote",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; x=\"b; filename=\"c\"\r\n", "1") XEND),
      .flags = PP_MP_INVALID_QUOTING,
      .events = "F a=1\n" },
    { .name = "malformed-cd-unknown-param-space",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; size = 3\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .events = "F a=1\n" },
    { .name = "malformed-cd-rfc2231-name-star",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; name*=UTF-8''evil\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .events = "F a=1\n" },
    { .name = "malformed-cd-rfc2231-continuation",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; filename*0=\"x.p\"; filename*1=\"hp\"\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .events = "F a=1\n" },
    { .name = "malformed-cd-duplicate-param",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; name=\"b\"\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .events = "F a=1\n" },
    { .name = "malformed-cd-space-around-equals",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; filename =\"f\"\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .events = "F a=1\n" },
    { .name = "malformed-cd-param-without-value",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; filename\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .events = "F a=1\n" },
    /* JAX-RS (Jersey's FormDataContentDisposition) sends RFC 2183 dates and a size: nobody
     * reads a name from them, so they are accepted (issue 17 item 2). */
    { .name = "cd-rfc2183-params-jaxrs",
      .ct = XCT,
      BODY(XPART(CD "filename=\"report.txt\"; creation-date=\"Wed, 12 Feb 1997 16:29:51 GMT\"; "
                    "modification-date=\"Wed, 12 Feb 1997 16:29:51 GMT\"; "
                    "read-date=\"Wed, 12 Feb 1997 16:29:51 GMT\"; size=5; name=\"file\"\r\n",
                 "hello") XEND),
      .events = "B file|report.txt|\nE 5:hello\n" },
    { .name = "cd-extension-param",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; x-custom=token; y=\"a;b\"\r\n", "1") XEND),
      .events = "F a=1\n" },
    /* RFC 2231 forms of name and filename: Go, Django and busboy read a name from them. */
    { .name = "malformed-cd-name-star",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; name*=utf-8''b\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .events = "F a=1\n" },
    { .name = "malformed-cd-filename-continuation",
      .ct = XCT,
      BODY(XPART(CD "name=\"f\"; filename*0=\"a.php\"\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .events = "F f=1\n" },
    /* PHP also quotes with ' inside an unquoted value: it reads x as "q'; filename=..." and
     * sees a field where the others see a file. */
    { .name = "malformed-cd-single-quote-hides-filename",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; x=q'; filename=\"a.txt\"\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .events = "B a|a.txt|\nE 1:1\n" },
    { .name = "malformed-cd-single-quote-in-name-hides-filename",
      .ct = XCT,
      BODY(XPART(CD "name=a'b; filename=\"a.txt\"\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .events = "B a'b|a.txt|\nE 1:1\n" },
    /* .NET writes a file name with an apostrophe unquoted, followed by filename*. */
    { .name = "dotnet-apostrophe-filename",
      .ct = XCT,
      BODY(XPART(CD "name=file; filename=O'Brien.txt; filename*=utf-8''O%27Brien.txt\r\n", "1")
           XEND),
      .flags = PP_MP_FILENAME_ENCODING,
      .events = "B file|O'Brien.txt|\nE 1:1\n" },
    { .name = "cd-single-quote-in-other-param-at-the-end",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; x=q'\r\n", "1") XEND),
      .events = "F a=1\n" },
    { .name = "malformed-cd-filename-star-differs",
      .ct = XCT,
      BODY(XPART(CD "name=\"f\"; filename=\"a.txt\"; filename*=UTF-8''b.php\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD | PP_MP_FILENAME_ENCODING,
      .events = "B f|a.txt|\nE 1:1\n" },
    { .name = "malformed-cd-filename-star-syntax",
      .ct = XCT,
      BODY(XPART(CD "name=\"f\"; filename*=b%zz\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD | PP_MP_FILENAME_ENCODING,
      .events = "B f|b%zz|\nE 1:1\nF f=1\n" },
    { .name = "malformed-cd-missing",
      .ct = XCT,
      BODY(XA XPART("Content-Type: text/plain\r\n", "1") XEND),
      .flags = PP_MP_MALFORMED_CD,
      .fatal = true,
      .events = "F a=1\n" },
    { .name = "nul-in-name",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\0b\"\r\n", "1") XEND),
      .flags = PP_MP_NUL_IN_NAME,
      .events = "F a\\x00b=1\n" },
    { .name = "nul-in-filename",
      .ct = XCT,
      BODY(XPART(CD "name=\"f\"; filename=\"x.php\0.jpg\"\r\n", "1") XEND),
      .flags = PP_MP_NUL_IN_NAME,
      .events = "B f|x.php\\x00.jpg|\nE 1:1\n" },
    { .name = "filename-path-dots",
      .ct = XCT,
      BODY(XPART(CD "name=\"f\"; filename=\"../../etc/passwd\"\r\n", "1") XEND),
      .flags = PP_MP_FILENAME_PATH,
      .events = "B f|../../etc/passwd|\nE 1:1\n" },
    { .name = "filename-path-windows",
      .ct = XCT,
      BODY(XPART(CD "name=\"f\"; filename=\"C:\\Users\\me\\a.txt\"\r\n", "1") XEND),
      .flags = PP_MP_FILENAME_PATH,
      .events = "B f|C:\\x5cUsers\\x5cme\\x5ca.txt|\nE 1:1\n" },
    { .name = "filename-encoding-latin1",
      .ct = XCT,
      BODY(XPART(CD "name=\"f\"; filename=\"r\xe9sum\xe9.txt\"\r\n", "1") XEND),
      .flags = PP_MP_FILENAME_ENCODING,
      .events = "B f|r\\xe9sum\\xe9.txt|\nE 1:1\n" },
    { .name = "filename-encoding-overlong",
      .ct = XCT,
      BODY(XPART(CD "name=\"f\"; filename=\"\xc0\xaf.txt\"\r\n", "1") XEND),
      .flags = PP_MP_FILENAME_ENCODING,
      .events = "B f|\\xc0\\xaf.txt|\nE 1:1\n" },
    /* PHP reads this part as a field, Go, Django and ASP.NET as a file (attack run D1): both. */
    { .name = "filename-star-only-is-file-and-field",
      .ct = XCT,
      BODY(XPART(CD "name=\"f\"; filename*=UTF-8''%C3%A9.txt\r\n", "1") XEND),
      .flags = PP_MP_FILENAME_ENCODING,
      .events = "B f|UTF-8''%C3%A9.txt|\nE 1:1\nF f=1\n" },
    { .name = "unmatched-boundary-junk",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "1\r\n--xyzzyX\r\n2") XEND),
      .flags = PP_MP_UNMATCHED_BOUNDARY,
      .events = "F a=1\\x0d\\x0a--xyzzyX\\x0d\\x0a2\n" },
    { .name = "unmatched-boundary-prefix",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "1\r\n--xyz\r\n2") XEND),
      .flags = PP_MP_UNMATCHED_BOUNDARY | PP_MP_BOUNDARY_LIKE_LINE,
      .events = "F a=1\\x0d\\x0a--xyz\\x0d\\x0a2\n" },
    { .name = "unmatched-boundary-dash",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "1\r\n--xyzzy-x") XEND),
      .flags = PP_MP_UNMATCHED_BOUNDARY,
      .events = "F a=1\\x0d\\x0a--xyzzy-x\n" },
    { .name = "unmatched-boundary-bare-cr",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "1\r\n--xyzzy\rx") XEND),
      .flags = PP_MP_UNMATCHED_BOUNDARY,
      .events = "F a=1\\x0d\\x0a--xyzzy\\x0dx\n" },
    { .name = "unmatched-boundary-long-padding",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "1\r\n--xyzzy                                  \r\n2")
           XEND),
      .flags = PP_MP_UNMATCHED_BOUNDARY,
      .events = "F a=1\\x0d\\x0a--xyzzy                                  \\x0d\\x0a2\n" },
    /* ModSecurity 2.9.7's MULTIPART_UNMATCHED_BOUNDARY (informational here): a line of 4+
     * bytes with its line end that starts with "--" and is not a delimiter, or "--boundary"
     * after a line's first byte; up to the close delimiter only. */
    { .name = "boundary-like-not",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "-x\r\n--\n--\0x\r\n--x\0\r\n-xyzzy") XEND),
      .events = "F a=-x\\x0d\\x0a--\\x0a--\\x00x\\x0d\\x0a--x\\x00\\x0d\\x0a-xyzzy\n" },
    { .name = "boundary-like-dash-line",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "select 1\r\n-- comment") XEND),
      .flags = PP_MP_BOUNDARY_LIKE_LINE,
      .events = "F a=select 1\\x0d\\x0a-- comment\n" },
    { .name = "boundary-like-mid-line",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "x--xyzzy") XEND),
      .flags = PP_MP_BOUNDARY_LIKE_LINE,
      .events = "F a=x--xyzzy\n" },
    { .name = "boundary-like-part-header",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n--X-Note: 1\r\n", "1") XEND),
      .flags = PP_MP_BOUNDARY_LIKE_LINE | PP_MP_UNKNOWN_PART_HEADER,
      .events = "F a=1\n" },
    { .name = "boundary-like-after-close",
      .ct = XCT,
      BODY(XA XEND "--x\r\n"),
      .flags = PP_MP_DATA_AFTER,
      .events = "F a=1\n" },
    { .name = "missing-final-boundary",
      .ct = XCT,
      BODY(XA),
      .flags = PP_MP_MISSING_FINAL_BOUNDARY,
      .fatal = true,
      .events = "" },
    { .name = "missing-final-boundary-empty-body",
      .ct = XCT,
      BODY(""),
      .flags = PP_MP_MISSING_FINAL_BOUNDARY,
      .fatal = true,
      .events = "" },
    { .name = "missing-final-boundary-cut-delimiter",
      .ct = XCT,
      BODY(XA "--xyzzy"),
      .flags = PP_MP_MISSING_FINAL_BOUNDARY,
      .fatal = true,
      .events = "" },
    { .name = "missing-final-boundary-in-headers",
      .ct = XCT,
      BODY(XA "--xyzzy\r\n" CD),
      .flags = PP_MP_MISSING_FINAL_BOUNDARY,
      .fatal = true,
      .events = "F a=1\n" },
    { .name = "oversized-header",
      .ct = XCT,
      BODY(XA XEND),
      .limits = { .max_header_bytes = 43 },
      .flags = PP_MP_OVERSIZED_HEADER,
      .fatal = true,
      .events = "" },
    { .name = "header-at-limit",
      .ct = XCT,
      BODY(XA XEND),
      .limits = { .max_header_bytes = 44 },
      .events = "F a=1\n" },
    { .name = "header-no-colon",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\nGarbage\r\n", "1") XEND),
      .flags = PP_MP_HEADER_NO_COLON,
      .events = "F a=1\n" },
    { .name = "encoded-part",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\nContent-Transfer-Encoding: quoted-printable\r\n", "=31") XEND),
      .flags = PP_MP_ENCODED_PART,
      .events = "F a==31\n" },
    { .name = "field-limit",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "12345") XEND),
      .limits = { .max_field_bytes = 4 },
      .flags = PP_MP_FIELD_LIMIT_EXCEEDED,
      .fatal = true,
      .events = "" },
    { .name = "field-at-limit",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "1234") XEND),
      .limits = { .max_field_bytes = 4 },
      .events = "F a=1234\n" },
    { .name = "file-not-limited-by-field-limit",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"; filename=\"f\"\r\n", "12345") XEND),
      .limits = { .max_field_bytes = 4 },
      .events = "B a|f|\nE 5:12345\n" },

    /* ---- found by fuzz/fuzz_multipart.c ---- */
    /* A field over its limit with a resembling line after the first byte that did not fit:
     * the flag used to depend on how far the chunk let the scanner look ahead. */
    { .name = "fuzz-field-limit-then-unmatched",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "12345\r\n--xyzzyX\r\n") XEND),
      .limits = { .max_field_bytes = 4 },
      .flags = PP_MP_FIELD_LIMIT_EXCEEDED,
      .fatal = true,
      .events = "" },
    { .name = "fuzz-unmatched-then-field-limit",
      .ct = XCT,
      BODY(XPART(CD "name=\"a\"\r\n", "1\r\n--xyzzyX\r\n2") XEND),
      .limits = { .max_field_bytes = 8 },
      .flags = PP_MP_FIELD_LIMIT_EXCEEDED | PP_MP_UNMATCHED_BOUNDARY,
      .fatal = true,
      .events = "" },
};

#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

/* ---- Running a vector ----------------------------------------------------------------------- */

typedef struct result_t {
    apr_status_t rv; /* first failure of feed/finish, else APR_SUCCESS */
    unsigned flags;
    bool has_error;
    const char *events;
} result_t;

static const pp_multipart_cb_t recording_cb = {
    .field = on_field,
    .file_begin = on_file_begin,
    .file_data = on_file_data,
    .file_end = on_file_end,
};

/* Feeds the body cut at cuts[0..n) (ascending offsets), scanning with vector instructions up
 * to simd (PP_MP_SIMD_*). */
static result_t run_cuts_simd(const mp_vec_t *v, apr_pool_t *p, const apr_size_t *cuts,
                              apr_size_t n, unsigned simd)
{
    rec_t rec = { .p = p };
    pp_multipart_cb_t cb = recording_cb;
    const char *err = NULL;
    result_t res = { APR_SUCCESS, 0, false, NULL };
    apr_size_t from = 0;

    cb.ctx = &rec;
    pp_multipart_t *mp = pp_multipart_create(p, cstr(v->ct), &v->limits, &cb, &err);
    if (mp == NULL) {
        fail_msg("%s: create failed: %s", v->name, err);
    }
    pp_multipart_set_simd(mp, simd);
    for (apr_size_t i = 0; i <= n && res.rv == APR_SUCCESS; i++) {
        apr_size_t to = i < n ? cuts[i] : v->body_len;
        res.rv = pp_multipart_feed(mp, v->body + from, to - from);
        from = to;
    }
    if (res.rv == APR_SUCCESS) {
        res.rv = pp_multipart_finish(mp);
    }
    res.flags = pp_multipart_flags(mp);
    res.has_error = pp_multipart_error(mp) != NULL;
    res.events = rec.log.data ? rec.log.data : "";
    return res;
}

static result_t run_cuts(const mp_vec_t *v, apr_pool_t *p, const apr_size_t *cuts, apr_size_t n)
{
    return run_cuts_simd(v, p, cuts, n, pp_multipart_simd_max());
}

static void expect_same(const mp_vec_t *v, const result_t *want, const result_t *got,
                        const char *how, apr_size_t at)
{
    if (want->rv != got->rv || want->flags != got->flags || want->has_error != got->has_error ||
        strcmp(want->events, got->events) != 0) {
        fail_msg("%s (%s %lu): rv %d/%d flags %#x/%#x events\n%s---\n%s", v->name, how,
                 (unsigned long)at, want->rv, got->rv, want->flags, got->flags, want->events,
                 got->events);
    }
}

static result_t run_whole(const mp_vec_t *v, apr_pool_t *p)
{
    return run_cuts(v, p, NULL, 0);
}

/* ---- Tests ---------------------------------------------------------------------------------- */

static void test_vectors(void **state)
{
    for (apr_size_t i = 0; i < N_VECTORS; i++) {
        const mp_vec_t *v = &vectors[i];
        apr_pool_t *p;
        apr_pool_create(&p, pool);
        result_t got = run_whole(v, p);
        result_t want = { v->fatal ? APR_EGENERAL : APR_SUCCESS, v->flags, v->fatal, v->events };
        expect_same(v, &want, &got, "whole", 0);
        /* Every fatal condition is also a strict flag, so checking the mask is enough. */
        assert_true(!v->fatal || (got.flags & PP_MP_STRICT_MASK) != 0);
        /* The same with narrower vector instructions, down to none (memchr alone). */
        for (unsigned simd = 0; simd < pp_multipart_simd_max(); simd++) {
            got = run_cuts_simd(v, p, NULL, 0, simd);
            expect_same(v, &want, &got, "whole at SIMD level", simd);
        }
        apr_pool_destroy(p);
    }
}

static void test_split_every_position(void **state)
{
    for (apr_size_t i = 0; i < N_VECTORS; i++) {
        const mp_vec_t *v = &vectors[i];
        apr_pool_t *p;
        apr_pool_create(&p, pool);
        result_t want = run_whole(v, p);
        for (apr_size_t at = 0; at <= v->body_len; at++) {
            apr_pool_t *sub;
            apr_pool_create(&sub, p);
            result_t got = run_cuts(v, sub, &at, 1);
            expect_same(v, &want, &got, "split at", at);
            apr_pool_destroy(sub);
        }
        apr_pool_destroy(p);
    }
}

static void test_one_byte_chunks(void **state)
{
    for (apr_size_t i = 0; i < N_VECTORS; i++) {
        const mp_vec_t *v = &vectors[i];
        apr_pool_t *p;
        apr_pool_create(&p, pool);
        apr_size_t n = v->body_len ? v->body_len - 1 : 0;
        apr_size_t *cuts = apr_palloc(p, (n + 1) * sizeof(*cuts));
        for (apr_size_t k = 0; k < n; k++) {
            cuts[k] = k + 1;
        }
        result_t want = run_whole(v, p);
        result_t got = run_cuts(v, p, cuts, n);
        expect_same(v, &want, &got, "1-byte chunks", 0);
        apr_pool_destroy(p);
    }
}

static uint32_t lcg(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

static void test_random_chunks(void **state)
{
    uint32_t seed = 7;
    for (apr_size_t i = 0; i < N_VECTORS; i++) {
        const mp_vec_t *v = &vectors[i];
        apr_pool_t *p;
        apr_pool_create(&p, pool);
        result_t want = run_whole(v, p);
        apr_size_t *cuts = apr_palloc(p, (v->body_len + 1) * sizeof(*cuts));
        for (int round = 0; round < 64; round++) {
            apr_size_t n = 0, at = 0, max = 1 + lcg(&seed) % 24;
            while ((at += 1 + lcg(&seed) % max) < v->body_len) {
                cuts[n++] = at;
            }
            apr_pool_t *sub;
            apr_pool_create(&sub, p);
            result_t got = run_cuts(v, sub, cuts, n);
            expect_same(v, &want, &got, "random round", (apr_size_t)round);
            apr_pool_destroy(sub);
        }
        apr_pool_destroy(p);
    }
}

typedef struct ct_vec_t {
    const char *ct;
    const char *boundary; /* NULL: create must fail */
    unsigned flags;
    const char *error; /* substring of the message */
} ct_vec_t;

static const ct_vec_t ct_vectors[] = {
    { "multipart/form-data; boundary=abc", "abc", 0, NULL },
    { "multipart/form-data;boundary=abc", "abc", 0, NULL },
    { "  multipart/form-data ; boundary=abc ; charset=UTF-8", "abc", 0, NULL },
    { "multipart/form-data; charset=\"a;b\"; boundary=abc", "abc", 0, NULL },
    { "multipart/form-data; boundary=abc;", "abc", 0, NULL },
    { "multipart/form-data; boundary=\"a'()+_,-./:=? b\"", "a'()+_,-./:=? b",
      PP_MP_BOUNDARY_QUOTED | PP_MP_BOUNDARY_WHITESPACE, NULL },
    { "multipart/form-data; boundary =abc", "abc", PP_MP_BOUNDARY_WHITESPACE, NULL },
    { "multipart/form-data; boundary=----WebKitFormBoundaryX", "----WebKitFormBoundaryX", 0,
      NULL },
    { "multipart/form-data; boundary="
      "1234567890123456789012345678901234567890123456789012345678901234567890",
      "1234567890123456789012345678901234567890123456789012345678901234567890", 0, NULL },
    { "", NULL, 0, "not multipart/form-data" },
    { "text/plain; boundary=abc", NULL, 0, "not multipart/form-data" },
    { "multipart/mixed; boundary=abc", NULL, 0, "not multipart/form-data" },
    { "multipart/form-data-x; boundary=abc", NULL, 0, "not multipart/form-data" },
    { "multipart/form-data", NULL, 0, "no boundary" },
    { "multipart/form-data; charset=UTF-8", NULL, 0, "no boundary" },
    { "multipart/form-data; boundary=", NULL, 0, "empty boundary" },
    { "multipart/form-data; boundary=\"\"", NULL, 0, "empty boundary" },
    { "multipart/form-data; boundary="
      "12345678901234567890123456789012345678901234567890123456789012345678901",
      NULL, 0, "longer than 70" },
    { "multipart/form-data; boundary=a/b", NULL, 0, "invalid character" },
    { "multipart/form-data; boundary=a,b", NULL, 0, "invalid character" },
    { "multipart/form-data; boundary=a\"b", NULL, 0, "invalid character" },
    { "multipart/form-data; boundary=\"a\\b\"", NULL, 0, "invalid character" },
    { "multipart/form-data; boundary=\"a\x01\"", NULL, 0, "invalid character" },
    { "multipart/form-data; boundary=\"a\xc3\xa9\"", NULL, 0, "invalid character" },
    { "multipart/form-data; boundary=\"abc \"", NULL, 0, "ends with a space" },
    { "multipart/form-data; boundary=\"abc", NULL, 0, "unterminated" },
    { "multipart/form-data; boundary=abc; boundary=def", NULL, 0, "more than one boundary" },
    { "multipart/form-data; BOUNDARY=abc; boundary=abc", NULL, 0, "more than one boundary" },
    { "multipart/form-data; x=\"boundary=evil\"; boundary=abc", NULL, 0, "before the boundary" },
    { "multipart/form-data; xboundary=evil; boundary=abc", NULL, 0, "before the boundary" },
    { "multipart/form-data boundary=abc", NULL, 0, "malformed parameter list" },
    { "multipart/form-data; boundary", NULL, 0, "malformed parameter" },
    { "multipart/form-data; =abc", NULL, 0, "malformed parameter" },
    { "multipart/form-data; x=\"abc; boundary=abc", NULL, 0, "unterminated quoted parameter" },
};

static void test_content_type(void **state)
{
    for (apr_size_t i = 0; i < sizeof(ct_vectors) / sizeof(ct_vectors[0]); i++) {
        const ct_vec_t *v = &ct_vectors[i];
        char out[PP_MP_MAX_BOUNDARY];
        apr_size_t len = 0;
        unsigned flags = 0;
        const char *err = pp_multipart_boundary_parse(cstr(v->ct), out, &len, &flags);
        const char *create_err = NULL;
        pp_multipart_t *mp = pp_multipart_create(pool, cstr(v->ct), NULL, NULL, &create_err);
        if (v->boundary == NULL) {
            if (err == NULL || strstr(err, v->error) == NULL) {
                fail_msg("%s: wanted error '%s', got '%s'", v->ct, v->error, err);
            }
            assert_null(mp);
            assert_string_equal(create_err, err);
            continue;
        }
        if (err != NULL) {
            fail_msg("%s: unexpected error '%s'", v->ct, err);
        }
        assert_int_equal(len, strlen(v->boundary));
        assert_memory_equal(out, v->boundary, len);
        assert_int_equal(flags, v->flags);
        assert_non_null(mp);
        assert_int_equal(pp_multipart_flags(mp), v->flags);
    }
}

static void test_flag_names(void **state)
{
    assert_int_equal(PP_MP_STRICT_MASK & PP_MP_INFO_MASK, 0);
    assert_int_equal(PP_MP_STRICT_MASK | PP_MP_INFO_MASK, (1u << PP_MP_FLAG_COUNT) - 1);
    for (unsigned i = 0; i < PP_MP_FLAG_COUNT; i++) {
        const char *name = pp_multipart_flag_name(1u << i);
        assert_non_null(name);
        assert_memory_equal(name, "MULTIPART_", 10);
        for (unsigned k = 0; k < i; k++) {
            assert_string_not_equal(name, pp_multipart_flag_name(1u << k));
        }
    }
    assert_string_equal(pp_multipart_flag_name(PP_MP_BOUNDARY_QUOTED), "MULTIPART_BOUNDARY_QUOTED");
    assert_string_equal(pp_multipart_flag_name(PP_MP_UNMATCHED_BOUNDARY),
                        "MULTIPART_UNMATCHED_BOUNDARY");
    assert_null(pp_multipart_flag_name(0));
    assert_null(pp_multipart_flag_name(PP_MP_LF_LINE | PP_MP_DATA_AFTER));
    assert_null(pp_multipart_flag_name(1u << PP_MP_FLAG_COUNT));
    /* Every flag some vector expects is covered; every flag is expected by some vector. */
    unsigned seen = 0;
    for (apr_size_t i = 0; i < N_VECTORS; i++) {
        seen |= vectors[i].flags;
    }
    assert_int_equal(seen, (1u << PP_MP_FLAG_COUNT) - 1);
}

static void test_callback_abort(void **state)
{
    static const char body[] = XA XB XEND;
    apr_pool_t *p;
    rec_t rec;
    pp_multipart_cb_t cb = recording_cb;

    apr_pool_create(&p, pool);
    memset(&rec, 0, sizeof(rec));
    rec.p = p;
    rec.fail_field = APR_ENOSPC;
    cb.ctx = &rec;
    pp_multipart_t *mp = pp_multipart_create(p, cstr(XCT), NULL, &cb, NULL);
    assert_non_null(mp);
    assert_int_equal(pp_multipart_feed(mp, body, sizeof(body) - 1), APR_ENOSPC);
    assert_string_equal(rec.log.data, "F a=1\n"); /* nothing after the abort */
    assert_null(pp_multipart_error(mp));
    assert_int_equal(pp_multipart_feed(mp, "x", 1), APR_ENOSPC);
    assert_int_equal(pp_multipart_finish(mp), APR_ENOSPC);
    apr_pool_destroy(p);
}

static void test_no_callbacks_and_misuse(void **state)
{
    static const char body[] = XA XB XEND;
    pp_multipart_t *mp = pp_multipart_create(pool, cstr(XCT), NULL, NULL, NULL);
    assert_non_null(mp);
    assert_int_equal(pp_multipart_feed(mp, body, sizeof(body) - 1), APR_SUCCESS);
    assert_int_equal(pp_multipart_feed(mp, body, 0), APR_SUCCESS);
    assert_int_equal(pp_multipart_finish(mp), APR_SUCCESS);
    assert_int_equal(pp_multipart_finish(mp), APR_SUCCESS);
    assert_int_equal(pp_multipart_feed(mp, "x", 1), APR_EGENERAL);
    assert_int_equal(pp_multipart_flags(mp), 0);

    /* A failed parser keeps failing with the first reason. */
    mp = pp_multipart_create(pool, cstr(XCT), NULL, NULL, NULL);
    assert_int_equal(pp_multipart_feed(mp, XA, sizeof(XA) - 1), APR_SUCCESS);
    assert_int_equal(pp_multipart_finish(mp), APR_EGENERAL);
    const char *why = pp_multipart_error(mp);
    assert_non_null(why);
    assert_int_equal(pp_multipart_feed(mp, XEND, sizeof(XEND) - 1), APR_EGENERAL);
    assert_ptr_equal(pp_multipart_error(mp), why);
}

/* FNV-1a over everything the file callbacks receive. */
typedef struct sum_t {
    uint64_t hash;
    apr_off_t bytes;
    apr_off_t size_at_end;
    int files;
} sum_t;

static apr_status_t sum_begin(void *ctx, pp_str_t f, pp_str_t n, pp_str_t t, void **handle)
{
    ((sum_t *)ctx)->files++;
    return APR_SUCCESS;
}

static apr_status_t sum_data(void *ctx, void *handle, const char *data, apr_size_t len)
{
    sum_t *s = ctx;
    for (apr_size_t i = 0; i < len; i++) {
        s->hash = (s->hash ^ (unsigned char)data[i]) * 1099511628211ull;
    }
    s->bytes += (apr_off_t)len;
    return APR_SUCCESS;
}

static apr_status_t sum_end(void *ctx, void *handle, apr_off_t size)
{
    ((sum_t *)ctx)->size_at_end = size;
    return APR_SUCCESS;
}

/* Content full of line breaks, dashes and pieces of "--xyzzy", then edited so that no line is
 * a delimiter or a long prefix of one (the byte after the content is the delimiter's CR). */
static apr_size_t make_tricky_content(char *buf, apr_size_t n, uint32_t seed)
{
    static const char *const pieces[] = { "\r\n", "\n", "\r", "-", "--", "\r\n--", "\r\n--xy",
                                          "\r\n--xyzz", "\n--xyzzy", "\r\n--xyzzy", "\0",
                                          "xyzzy" };
    apr_size_t len = 0;
    while (len < n) {
        uint32_t r = lcg(&seed);
        const char *piece = pieces[r % 12];
        apr_size_t plen = (r % 12 == 10) ? 1 : strlen(piece);
        if ((r >> 8) % 3 == 0) {
            buf[len++] = (char)(r >> 16);
        } else if (len + plen <= n) {
            memcpy(buf + len, piece, plen);
            len += plen;
        } else {
            buf[len++] = 'a';
        }
    }
    for (apr_size_t i = 0; i < n; i++) {
        if (buf[i] != '\n') {
            continue;
        }
        static const char dash[] = "--xyzzy";
        apr_size_t k = 0;
        while (k < 7 && i + 1 + k < n && buf[i + 1 + k] == dash[k]) {
            k++;
        }
        char next = i + 1 + k < n ? buf[i + 1 + k] : '\r';
        if (k == 7 || (k >= 5 && (next == '\r' || next == '\n'))) {
            buf[i + k] = 'Q'; /* breaks the match inside the prefix */
        }
    }
    return n;
}

/* A body of one part around len bytes of content: head, the content (left for the caller to
 * write at *content), tail; its length in *body_len. */
static char *part_body(apr_pool_t *p, const char *head, apr_size_t len, const char *tail,
                       char **content, apr_size_t *body_len)
{
    apr_size_t hl = strlen(head), tl = strlen(tail);
    char *body = apr_palloc(p, hl + len + tl);
    memcpy(body, head, hl);
    memcpy(body + hl + len, tail, tl);
    *content = body + hl;
    *body_len = hl + len + tl;
    return body;
}

/* Feeds body to mp in pieces of chunk bytes (the last one shorter), each accepted, then ends
 * it. */
static void feed_in_chunks(pp_multipart_t *mp, const char *body, apr_size_t len, apr_size_t chunk)
{
    for (apr_size_t at = 0; at < len; at += chunk) {
        apr_size_t n = len - at < chunk ? len - at : chunk;
        assert_int_equal(pp_multipart_feed(mp, body + at, n), APR_SUCCESS);
    }
    assert_int_equal(pp_multipart_finish(mp), APR_SUCCESS);
}

static void test_large_file(void **state)
{
    static const char head[] = "--xyzzy\r\n" CD "name=\"f\"; filename=\"big.bin\"\r\n\r\n";
    static const char tail[] = "\r\n--xyzzy--\r\n";
    static const apr_size_t chunk_sizes[] = { 1, 2, 3, 7, 64, 100, 255, 256, 4095, 65536, 1 << 20 };
    apr_size_t content_len = 3 * 1024 * 1024 + 17;
    apr_pool_t *p;
    apr_pool_create(&p, pool);
    char *content;
    apr_size_t body_len;
    const char *body = part_body(p, head, content_len, tail, &content, &body_len);
    make_tricky_content(content, content_len, 99);

    sum_t want = { 1469598103934665603ull, 0, 0, 0 };
    sum_data(&want, NULL, content, content_len);
    /* Every chunk size with the CPU's widest vector instructions; the narrower ones (down to
     * memchr alone) with the chunks long enough for the vector paths. */
    for (unsigned simd = 0; simd <= pp_multipart_simd_max(); simd++)
    for (apr_size_t c = 0; c < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); c++) {
        if (simd < pp_multipart_simd_max() && chunk_sizes[c] < 64) {
            continue;
        }
        sum_t got = { 1469598103934665603ull, 0, -1, 0 };
        pp_multipart_cb_t cb = { &got, NULL, sum_begin, sum_data, sum_end };
        pp_multipart_t *mp = pp_multipart_create(p, cstr(XCT), NULL, &cb, NULL);
        pp_multipart_set_simd(mp, simd);
        feed_in_chunks(mp, body, body_len, chunk_sizes[c]);
        /* The tricky content has lines like "--x": ModSecurity's informational flag only. */
        assert_int_equal(pp_multipart_flags(mp), PP_MP_BOUNDARY_LIKE_LINE);
        assert_int_equal(got.files, 1);
        assert_int_equal(got.bytes, (apr_off_t)content_len);
        assert_int_equal(got.size_at_end, (apr_off_t)content_len);
        assert_true(got.hash == want.hash);
    }
    apr_pool_destroy(p);
}

/* ModSecurity's unmatched-boundary test over a large part, whatever the chunking: one needle
 * planted at many offsets of clean content (no LF, no '-'), for a short and a 70-byte
 * boundary, so that every place a needle can straddle a chunk edge or the SIMD blocks is hit. */
static unsigned boundary_like_flags(apr_pool_t *p, const char *ct, const char *body,
                                    apr_size_t len, apr_size_t chunk, unsigned simd)
{
    pp_multipart_t *mp = pp_multipart_create(p, cstr(ct), NULL, NULL, NULL);
    pp_multipart_set_simd(mp, simd);
    feed_in_chunks(mp, body, len, chunk);
    return pp_multipart_flags(mp) & PP_MP_BOUNDARY_LIKE_LINE;
}

/* The parser's content search tells ModSecurity's line test where no "--" starts, and the test
 * skips those stretches (up to eight per chunk, the longest). Harmless "--" pairs inside lines
 * (0 to 40 of them, so stretches are cut and dropped) before and after one flagged line at a
 * random place: the flag whatever the chunking and vector width, and none without that line. */
static void test_boundary_like_among_dashes(void **state)
{
    static const char head[] = "--xyzzy\r\n" CD "name=\"f\"; filename=\"a\"\r\n\r\n";
    static const char tail[] = "\r\n--xyzzy--\r\n";
    static const apr_size_t chunks[] = { 64, 100, 1000, 4096, 65536, 1 << 20 };
    static const char *const needles[] = { "\n--x", "x--xyzzy", "\n--xyzz\r\n" };
    const apr_size_t cl = 20000;
    uint64_t seed = 15;
    apr_pool_t *p;
    apr_pool_create(&p, pool);
    for (unsigned round = 0; round < 60; round++) {
        apr_size_t len;
        char *content;
        apr_pool_clear(p);
        const char *body = part_body(p, head, cl, tail, &content, &len);
        for (apr_size_t i = 0; i < cl; i++) {
            content[i] = (char)('A' + pp_test_rnd(&seed) % 26);
        }
        unsigned pairs = round % 41;
        for (unsigned k = 0; k < pairs; k++) {
            memcpy(content + 1 + pp_test_rnd(&seed) % (cl - 4), "--", 2);
        }
        const char *needle = needles[round % 3];
        apr_size_t nl = strlen(needle), at = 1 + pp_test_rnd(&seed) % (cl - nl - 2);
        bool planted = round % 4 != 3;
        if (planted) {
            memcpy(content + at, needle, nl);
        }
        for (unsigned simd = 0; simd <= pp_multipart_simd_max(); simd++) {
            for (apr_size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
                unsigned got = boundary_like_flags(p, XCT, body, len, chunks[c], simd);
                if ((got != 0) != planted) {
                    fail_msg("round %u (%u pairs, needle at %zu) chunk %zu SIMD %u: flag %u",
                             round, pairs, at, chunks[c], simd, got);
                }
            }
        }
    }
    apr_pool_destroy(p);
}

static void test_boundary_like_chunks(void **state)
{
    static const char *const boundaries[] = {
        "xyzzy", "0123456789012345678901234567890123456789012345678901234567890123456789" };
    static const apr_size_t chunks[] = { 1, 2, 3, 7, 16, 31, 77, 256, 4096, 1 << 20 };
    /* A needle of len bytes; with_dash: "--boundary" follows it. */
    static const struct {
        const char *bytes;
        apr_size_t len;
        bool with_dash, flagged;
    } needles[] = {
        { "", 0, false, false },      { "\n-x", 3, false, false },   { "\n--\n", 4, false, false },
        { "\n--\0xy", 6, false, false }, { "\n--x", 4, false, true }, { "\n--\r\n", 5, false, true },
        { "x", 1, true, true },       { "\n-", 2, true, true },
    };
    const unsigned max = pp_multipart_simd_max();
    apr_pool_t *p, *it;
    apr_pool_create(&p, pool);
    /* Each body and its parses live in a pool cleared per position: kept in p, ~3,700 bodies
     * and their parsers made valgrind (make memcheck) run out of address-space segments. */
    apr_pool_create(&it, p);
    for (apr_size_t b = 0; b < 2; b++) {
        const char *dash = apr_pstrcat(p, "--", boundaries[b], NULL);
        const char *ct = apr_pstrcat(p, "multipart/form-data; boundary=", boundaries[b], NULL);
        const char *head = apr_pstrcat(p, dash, "\r\n" CD "name=\"f\"; filename=\"a\"\r\n\r\n",
                                       NULL);
        const char *tail = apr_pstrcat(p, "\r\n", dash, "--\r\n", NULL);
        apr_size_t cl = 3000, dl = strlen(dash);
        for (apr_size_t k = 0; k < sizeof(needles) / sizeof(needles[0]); k++) {
            char needle[128];
            apr_size_t nl = needles[k].len;
            memcpy(needle, needles[k].bytes, nl);
            if (needles[k].with_dash) {
                memcpy(needle + nl, dash, dl);
                nl += dl;
            }
            for (apr_size_t at = 0; at + nl <= cl; at += (at < 200 ? 1 : 97)) {
                apr_size_t len;
                char *content;
                apr_pool_clear(it);
                const char *body = part_body(it, head, cl, tail, &content, &len);
                for (apr_size_t i = 0; i < cl; i++) {
                    content[i] = (char)('A' + (i * 7) % 26);
                }
                memcpy(content + at, needle, nl);
                for (apr_size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
                    unsigned got = boundary_like_flags(it, ct, body, len, chunks[c], max);
                    if ((got != 0) != needles[k].flagged) {
                        fail_msg("boundary %zu needle %zu at %zu chunk %zu: flag %u", b, k, at,
                                 chunks[c], got);
                    }
                }
                /* The narrower vector paths (down to memchr alone), in chunks they scan. */
                for (unsigned simd = 0; simd < max; simd++) {
                    for (apr_size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
                        if (chunks[c] < 64) {
                            continue;
                        }
                        unsigned got = boundary_like_flags(it, ct, body, len, chunks[c], simd);
                        if ((got != 0) != needles[k].flagged) {
                            fail_msg("boundary %zu needle %zu at %zu chunk %zu SIMD %u: flag %u",
                                     b, k, at, chunks[c], simd, got);
                        }
                    }
                }
            }
        }
    }
    /* "--boundary" past a long line's first 4 KiB: ModSecurity does not see it there, we do. */
    char *body = apr_palloc(p, 10000);
    apr_size_t len = (apr_size_t)sprintf(body, "--xyzzy\r\n" CD "name=\"a\"\r\n\r\n");
    memset(body + len, 'a', 5000);
    len += 5000;
    len += (apr_size_t)sprintf(body + len, "--xyzzy\r\n--xyzzy--\r\n");
    for (unsigned simd = 0; simd <= max; simd++) {
        assert_int_equal(boundary_like_flags(p, XCT, body, len, 4096, simd),
                         PP_MP_BOUNDARY_LIKE_LINE);
    }
    apr_pool_destroy(p);
}

/* part_headers: each part's name, filename (none for a field) and raw header lines, before
 * its content; CRLF line ends are reported (MULTIPART_CRLF_LINE), bare LF ones are not. */
typedef struct hdr_rec_t {
    apr_pool_t *p;
    const char *events;
} hdr_rec_t;

static apr_status_t on_part_headers(void *ctx, pp_str_t name, pp_str_t filename, pp_str_t raw)
{
    hdr_rec_t *r = ctx;
    r->events = apr_psprintf(r->p, "%sH %.*s|%s|%.*s\n", r->events ? r->events : "",
                             (int)name.len, name.data,
                             filename.data ? apr_pstrmemdup(r->p, filename.data, filename.len)
                                           : "(none)",
                             (int)raw.len, raw.data);
    return APR_SUCCESS;
}

static void test_part_headers(void **state)
{
    apr_pool_t *p;
    apr_pool_create(&p, pool);
    static const char body[] = XPART(CD "name=\"a\"\r\nX-A: 1\r\n", "v")
        XPART(CD "name=\"f\"; filename=\"x.txt\"\r\n", "c") XEND;
    hdr_rec_t rec = { .p = p, .events = NULL };
    pp_multipart_cb_t cb = { .ctx = &rec, .part_headers = on_part_headers };
    pp_multipart_t *mp = pp_multipart_create(p, cstr(XCT), NULL, &cb, NULL);
    assert_int_equal(pp_multipart_feed(mp, body, sizeof(body) - 1), APR_SUCCESS);
    assert_int_equal(pp_multipart_finish(mp), APR_SUCCESS);
    assert_string_equal(rec.events, "H a|(none)|" CD "name=\"a\"\r\nX-A: 1\r\n\n"
                                    "H f|x.txt|" CD "name=\"f\"; filename=\"x.txt\"\r\n\n");
    assert_true(pp_multipart_crlf_line(mp));
    apr_pool_destroy(p);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_split_every_position),
        cmocka_unit_test(test_one_byte_chunks),
        cmocka_unit_test(test_random_chunks),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_flag_names),
        cmocka_unit_test(test_callback_abort),
        cmocka_unit_test(test_no_callbacks_and_misuse),
        cmocka_unit_test(test_large_file),
        cmocka_unit_test(test_part_headers),
        cmocka_unit_test(test_boundary_like_chunks),
        cmocka_unit_test(test_boundary_like_among_dashes),
    };
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
