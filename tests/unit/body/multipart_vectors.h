/* Vectors of tests/unit/body/test_multipart.c: multipart bodies as real clients send them
 * (browsers, curl, Python, Java, OkHttp, Go, .NET) and the hostile ones, each with the exact
 * flags and callback log the parser must give. Data only; included once, by test_multipart.c. */
#ifndef PP_TEST_MULTIPART_VECTORS_H
#define PP_TEST_MULTIPART_VECTORS_H

#include <stdbool.h>

#include <apr_general.h>

#include "body/multipart.h"

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

#endif
