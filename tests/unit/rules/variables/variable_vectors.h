/*
 * Vectors for the variable registry (rules/variables/table.c), one or more per row:
 * test_collect.c feeds the request (and response) of a vector through a transaction, runs the
 * row's collector with the selector and compares what it produced; test_registry.c fails when
 * a row has none (style §9).
 *
 * expect lists the values in order, joined by '|', each written "[name]value" when the value
 * carries a name and "value" otherwise, bytes outside printable ASCII as \xNN. A leading '~'
 * makes the rest a regular expression the whole list must match. ${script}, ${script_base},
 * ${uid}, ${gid}, ${user}, ${group} and ${updir} stand for the test's script file (mode 0640),
 * its owner and the upload directory. The connection is fixed by test_collect.c: client
 * 192.0.2.7 (client.test, user alice, ident id7, Basic), server 192.0.2.1:8080 example.test,
 * admin@example.test, Apache/2.4.99, DocumentRoot /var/www, PATH_INFO /extra; the environment
 * holds PARAPET_T=v1.
 */
#ifndef PP_VARIABLE_VECTORS_H
#define PP_VARIABLE_VECTORS_H

typedef struct var_vector_t {
    const char *name;     /* variable row */
    const char *selector; /* NULL: the whole variable */
    const char *request;  /* raw request */
    const char *response; /* raw response, or NULL */
    const char *expect;
} var_vector_t;

#define GET_REQ                                                                               \
    "GET /app/index.php/extra?a=1&b=x%20y&a=3 HTTP/1.1\r\n"                                   \
    "Host: example.test\r\n"                                                                  \
    "User-Agent: UA/1\r\n"                                                                    \
    "Cookie: s=abc; t=2\r\n"                                                                  \
    "\r\n"
#define POST_REQ                                                                              \
    "POST /form.php?q=1 HTTP/1.0\r\n"                                                         \
    "Content-Type: application/x-www-form-urlencoded\r\n"                                     \
    "Content-Length: 11\r\n"                                                                  \
    "\r\n"                                                                                    \
    "u=v&w=x%2By"
#define UPLOAD_REQ                                                                            \
    "POST /up HTTP/1.1\r\n"                                                                   \
    "Content-Type: multipart/form-data; boundary=XyZ\r\n"                                     \
    "\r\n"                                                                                    \
    "--XyZ\r\n"                                                                               \
    "Content-Disposition: form-data; name=\"t\"\r\n"                                          \
    "\r\n"                                                                                    \
    "hello\r\n"                                                                               \
    "--XyZ\r\n"                                                                               \
    "Content-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"                      \
    "Content-Type: text/plain\r\n"                                                            \
    "\r\n"                                                                                    \
    "abcde\r\n"                                                                               \
    "--XyZ\r\n"                                                                               \
    "Content-Disposition: form-data; name=\"g\"; filename=\"..\\\\b c.exe\"\r\n"              \
    "\r\n"                                                                                    \
    "\r\n"                                                                                    \
    "--XyZ--\r\n"
/* A quoted boundary: unambiguous, so Parapet takes it, but ModSecurity's strict error. */
#define QUOTED_REQ                                                                            \
    "POST /up HTTP/1.1\r\n"                                                                   \
    "Content-Type: multipart/form-data; boundary=\"XyZ\"\r\n"                                 \
    "\r\n"                                                                                    \
    "--XyZ\r\n"                                                                               \
    "Content-Disposition: form-data; name=\"t\"\r\n"                                          \
    "\r\n"                                                                                    \
    "hello\r\n"                                                                               \
    "--XyZ--\r\n"
#define NOTFOUND_RESP                                                                         \
    "HTTP/1.1 404 Not Found\r\n"                                                              \
    "Content-Type: text/html\r\n"                                                             \
    "\r\n"                                                                                    \
    "<p>gone</p>"

/* clang-format off */
static const var_vector_t var_vectors[] = {
    { "API_VERSION", NULL, GET_REQ, NULL, "20120211" },
    { "ARGS", NULL, GET_REQ, NULL, "[a]1|[b]x y|[a]3" },
    { "ARGS", "a", GET_REQ, NULL, "[a]1|[a]3" },
    { "ARGS", "A", GET_REQ, NULL, "" }, /* argument names are case-sensitive */
    { "ARGS", NULL, POST_REQ, NULL, "[q]1|[u]v|[w]x+y" },
    { "ARGS", NULL, UPLOAD_REQ, NULL, "[t]hello" },
    { "ARGS_COMBINED", NULL, GET_REQ, NULL, "a=1&b=x%20y&a=3" },
    { "ARGS_COMBINED", NULL, POST_REQ, NULL, "q=1&u=v&w=x%2By" },
    { "ARGS_COUNT", NULL, GET_REQ, NULL, "3" },
    { "ARGS_COUNT", NULL, "GET / HTTP/1.1\r\n\r\n", NULL, "0" },
    { "ARGS_NAMES", NULL, POST_REQ, NULL, "[q]q|[u]u|[w]w" },
    { "ARGS_PAIRS", NULL, GET_REQ, NULL, "[a]a=1|[b]b=x y|[a]a=3" },
    { "AUTH_TYPE", NULL, GET_REQ, NULL, "Basic" },
    { "COOKIES_COUNT", NULL, GET_REQ, NULL, "2" },
    { "DOCUMENT_ROOT", NULL, GET_REQ, NULL, "/var/www" },
    { "ENV", "PARAPET_T", GET_REQ, NULL, "[PARAPET_T]v1" },
    { "ENV", "PARAPET_NONE", GET_REQ, NULL, "" },
    { "FILES", NULL, UPLOAD_REQ, NULL, "[f]a.txt|[g]..\\x5cb c.exe" },
    { "FILES", "g", UPLOAD_REQ, NULL, "[g]..\\x5cb c.exe" },
    { "FILES", NULL, GET_REQ, NULL, "" },
    { "FILES_COUNT", NULL, UPLOAD_REQ, NULL, "2" },
    { "FILES_SIZES", NULL, UPLOAD_REQ, NULL, "[f]5|[g]0" },
    { "FILES_TMPNAMES", "f", UPLOAD_REQ, NULL, "~\\[f\\]${updir}/[^|]+" },
    { "GEO", NULL, GET_REQ, NULL, "" },                    /* no @geoLookup succeeded: no values */
    { "GLOBAL", "x", GET_REQ, NULL, "" },                 /* not initialised: no values */
    { "HEADERS_COUNT", NULL, GET_REQ, NULL, "3" },
    { "IP", "KEY", GET_REQ, NULL, "" },
    { "IS_SUBREQ", NULL, GET_REQ, NULL, "false" },
    /* Set by the phase loop on a match and by setvar: a request alone has none
     * (tests/unit/rules/test_eval.c and test_collection.c cover them with values). */
    { "MATCHED_VAR", NULL, GET_REQ, NULL, "" },
    { "MATCHED_VAR_NAME", NULL, GET_REQ, NULL, "" },
    { "MATCHED_VARS", NULL, GET_REQ, NULL, "" },
    { "MATCHED_VARS_NAMES", NULL, GET_REQ, NULL, "" },
    { "RULE", "id", GET_REQ, NULL, "" }, /* only while a 2.x rule runs */
    /* tests/e2e/test_ms2_variables.py covers these four with values, against ModSecurity */
    { "HIGHEST_SEVERITY", NULL, GET_REQ, NULL, "255" },
    { "MODSEC_BUILD", NULL, GET_REQ, NULL, "020907900" },
    { "SDBM_DELETE_ERROR", NULL, GET_REQ, NULL, "0" },
    { "INBOUND_DATA_ERROR", NULL, POST_REQ, NULL, "0" },
    { "USERAGENT_IP", NULL, GET_REQ, NULL, "192.0.2.7" },
    { "MULTIPART_CRLF_LINE", NULL, UPLOAD_REQ, NULL, "1" },
    { "MULTIPART_CRLF_LINE", NULL, POST_REQ, NULL, "0" },
    { "MULTIPART_NAME", NULL, UPLOAD_REQ, NULL, "g" },
    { "MULTIPART_NAME", NULL, GET_REQ, NULL, "" },
    { "MULTIPART_FILENAME", NULL, UPLOAD_REQ, NULL, "..\\x5cb c.exe" }, /* unquoted: one '\\' */
    { "MULTIPART_PART_HEADERS", "t", UPLOAD_REQ, NULL, "[t]Content-Disposition: form-data; name=\"t\"" },
    { "MULTIPART_PART_HEADERS", NULL, UPLOAD_REQ, NULL,
      "[t]Content-Disposition: form-data; name=\"t\"|"
      "[f]Content-Disposition: form-data; name=\"f\"; filename=\"a.txt\"|[f]Content-Type: text/plain|"
      "[g]Content-Disposition: form-data; name=\"g\"; filename=\"..\\x5c\\x5cb c.exe\"" },
    { "PATH_INFO", NULL, GET_REQ, NULL, "/extra" },
    { "QUERY_STRING", NULL, GET_REQ, NULL, "a=1&b=x%20y&a=3" },
    { "QUERY_STRING", NULL, "GET /x HTTP/1.1\r\n\r\n", NULL, "" },
    { "REMOTE_ADDR", NULL, GET_REQ, NULL, "192.0.2.7" },
    { "REMOTE_HOST", NULL, GET_REQ, NULL, "client.test" },
    { "REMOTE_IDENT", NULL, GET_REQ, NULL, "id7" },
    { "REMOTE_USER", NULL, GET_REQ, NULL, "alice" },
    { "REQUEST_BASENAME", NULL, GET_REQ, NULL, "extra" },
    { "REQUEST_BASENAME", NULL, "GET /a\\b.php?x=/y HTTP/1.1\r\n\r\n", NULL, "b.php" },
    { "REQUEST_BASENAME", NULL, "GET /dir/ HTTP/1.1\r\n\r\n", NULL, "" },
    { "REQUEST_BODY", NULL, POST_REQ, NULL, "u=v&w=x%2By" },
    { "REQUEST_BODY", NULL, GET_REQ, NULL, "" },
    { "REQUEST_COOKIES", NULL, GET_REQ, NULL, "[s]abc|[t]2" },
    { "REQUEST_COOKIES", "t", GET_REQ, NULL, "[t]2" },
    { "REQUEST_COOKIES_NAMES", NULL, GET_REQ, NULL, "[s]s|[t]t" },
    { "REQUEST_HEADERS", "user-agent", GET_REQ, NULL, "[User-Agent]UA/1" },
    { "REQUEST_HEADERS", NULL, GET_REQ, NULL, "[Host]example.test|[User-Agent]UA/1|[Cookie]s=abc; t=2" },
    { "REQUEST_HEADERS_LINES", NULL, GET_REQ, NULL, "[Host]Host: example.test|[User-Agent]User-Agent: UA/1|[Cookie]Cookie: s=abc; t=2" },
    { "REQUEST_HEADERS_NAMES", NULL, GET_REQ, NULL, "[Host]Host|[User-Agent]User-Agent|[Cookie]Cookie" },
    { "REQUEST_HEADERS_NAMES", "host", GET_REQ, NULL, "[Host]Host" }, /* 2.x takes a selector */
    { "ARGS_NAMES", "a", GET_REQ, NULL, "[a]a|[a]a" },
    { "ARGS_NAMES", "A", GET_REQ, NULL, "" }, /* a 1.9 target: exact (2.x ignores case) */
    { "REQUEST_LINE", NULL, GET_REQ, NULL, "GET /app/index.php/extra?a=1&b=x%20y&a=3 HTTP/1.1" },
    { "REQUEST_METHOD", NULL, POST_REQ, NULL, "POST" },
    { "REQUEST_PROTOCOL", NULL, POST_REQ, NULL, "HTTP/1.0" },
    { "REQUEST_URI", NULL, GET_REQ, NULL, "/app/index.php/extra?a=1&b=x%20y&a=3" },
    { "RESOURCE", "x", GET_REQ, NULL, "" },
    { "RESPONSE_BODY", NULL, GET_REQ, NOTFOUND_RESP, "<p>gone</p>" },
    { "RESPONSE_BODY", NULL, GET_REQ, NULL, "" },
    { "RESPONSE_STATUS", NULL, GET_REQ, NOTFOUND_RESP, "404" },
    { "RESPONSE_PROTOCOL", NULL, GET_REQ, NOTFOUND_RESP, "HTTP/1.1" },
    { "RESPONSE_PROTOCOL", NULL, GET_REQ, NULL, "" },
    { "RESPONSE_STATUS", NULL, GET_REQ, NULL, "0" }, /* before the response: ModSecurity 2 */
    { "URLENCODED_ERROR", NULL, GET_REQ, NULL, "0" },
    { "URLENCODED_ERROR", NULL, "GET /?a=%zz HTTP/1.1\r\n\r\n", NULL, "1" },
    { "URLENCODED_ERROR", NULL,
      "POST / HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Content-Length: 5\r\n\r\na=%4", NULL, "1" },
    { "SCRIPT_BASENAME", NULL, GET_REQ, NULL, "${script_base}" },
    { "SCRIPT_FILENAME", NULL, GET_REQ, NULL, "${script}" },
    { "SCRIPT_GID", NULL, GET_REQ, NULL, "${gid}" },
    { "SCRIPT_GROUPNAME", NULL, GET_REQ, NULL, "${group}" },
    { "SCRIPT_MODE", NULL, GET_REQ, NULL, "0640" },
    { "SCRIPT_UID", NULL, GET_REQ, NULL, "${uid}" },
    { "SCRIPT_USERNAME", NULL, GET_REQ, NULL, "${user}" },
    { "SERVER_ADDR", NULL, GET_REQ, NULL, "192.0.2.1" },
    { "SERVER_ADMIN", NULL, GET_REQ, NULL, "admin@example.test" },
    { "SERVER_NAME", NULL, GET_REQ, NULL, "example.test" },
    { "SERVER_PORT", NULL, GET_REQ, NULL, "8080" },
    { "SERVER_SOFTWARE", NULL, GET_REQ, NULL, "Apache/2.4.99" },
    { "SESSION", "x", GET_REQ, NULL, "" },
    { "SESSIONID", NULL, GET_REQ, NULL, "" },
    { "TIME", NULL, GET_REQ, NULL, "~20[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])([01][0-9]|2[0-3])[0-5][0-9][0-6][0-9]" },
    { "TIME_DAY", NULL, GET_REQ, NULL, "~0[1-9]|[12][0-9]|3[01]" },
    { "TIME_HOUR", NULL, GET_REQ, NULL, "~[01][0-9]|2[0-3]" },
    { "TIME_MIN", NULL, GET_REQ, NULL, "~[0-5][0-9]" },
    { "TIME_MON", NULL, GET_REQ, NULL, "~0[1-9]|1[0-2]" },
    { "TIME_SEC", NULL, GET_REQ, NULL, "~[0-5][0-9]|60" },
    { "TIME_WDAY", NULL, GET_REQ, NULL, "~[0-6]" },
    { "TIME_YEAR", NULL, GET_REQ, NULL, "~20[0-9]{2}" },
    { "TX", NULL, GET_REQ, NULL, "" },
    { "TX", "anomaly_score", GET_REQ, NULL, "" },
    { "ARGS_COMBINED_SIZE", NULL, GET_REQ, NULL, "8" },
    { "ARGS_COMBINED_SIZE", NULL, POST_REQ, NULL, "8" },
    { "ARGS_COMBINED_SIZE", NULL, "GET /?y=1&z&&=v&nA=%zz HTTP/1.1\r\n\r\n", NULL, "9" },
    { "ARGS_GET", NULL, GET_REQ, NULL, "[a]1|[b]x y|[a]3" },
    { "ARGS_GET", "A", GET_REQ, NULL, "[a]1|[a]3" }, /* 2.x selectors ignore case */
    { "ARGS_GET", NULL, POST_REQ, NULL, "[q]1" },
    { "ARGS_GET_NAMES", NULL, POST_REQ, NULL, "[q]q" },
    { "ARGS_POST", NULL, POST_REQ, NULL, "[u]v|[w]x+y" },
    { "ARGS_POST", "W", POST_REQ, NULL, "[w]x+y" },
    { "ARGS_POST", NULL, UPLOAD_REQ, NULL, "[t]hello" },
    { "ARGS_POST", NULL, GET_REQ, NULL, "" },
    { "ARGS_POST_NAMES", NULL, POST_REQ, NULL, "[u]u|[w]w" },
    { "DURATION", NULL, GET_REQ, NULL, "~[0-9]+" },
    { "FILES_COMBINED_SIZE", NULL, UPLOAD_REQ, NULL, "5" },
    { "FILES_COMBINED_SIZE", NULL, GET_REQ, NULL, "0" },
    { "FILES_NAMES", NULL, UPLOAD_REQ, NULL, "[f]f|[g]g" },
    { "FULL_REQUEST", NULL, POST_REQ, NULL, "POST /form.php?q=1 HTTP/1.0\\x0a\\x0aContent-Type: application/x-www-form-urlencoded\\x0aContent-Length: 11\\x0a\\x0au=v&w=x%2By" },
    { "FULL_REQUEST_LENGTH", NULL, POST_REQ, NULL, "109" },
    { "MULTIPART_BOUNDARY_QUOTED", NULL, QUOTED_REQ, NULL, "1" },
    { "MULTIPART_BOUNDARY_QUOTED", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_BOUNDARY_QUOTED", NULL, GET_REQ, NULL, "0" },
    { "MULTIPART_BOUNDARY_WHITESPACE", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_CRLF_LF_LINES", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_DATA_AFTER", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_DATA_BEFORE", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_FILE_LIMIT_EXCEEDED", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_HEADER_FOLDING", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_INVALID_HEADER_FOLDING", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_INVALID_PART", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_INVALID_QUOTING", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_LF_LINE", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_MISSING_SEMICOLON", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_STRICT_ERROR", NULL, QUOTED_REQ, NULL, "1" },
    { "MULTIPART_STRICT_ERROR", NULL, UPLOAD_REQ, NULL, "0" },
    { "MULTIPART_UNMATCHED_BOUNDARY", NULL, UPLOAD_REQ, NULL, "0" },
    { "OUTBOUND_DATA_ERROR", NULL, GET_REQ, NOTFOUND_RESP, "0" },
    { "REMOTE_PORT", NULL, GET_REQ, NULL, "40000" },
    { "REQBODY_ERROR", NULL, POST_REQ, NULL, "0" },
    { "REQBODY_ERROR_MSG", NULL, POST_REQ, NULL, "" },
    { "REQBODY_PROCESSOR", NULL, POST_REQ, NULL, "URLENCODED" },
    { "REQBODY_PROCESSOR", NULL, UPLOAD_REQ, NULL, "MULTIPART" },
    { "REQBODY_PROCESSOR", NULL, GET_REQ, NULL, "" },
    { "REQBODY_PROCESSOR_ERROR", NULL, UPLOAD_REQ, NULL, "0" },
    { "REQBODY_PROCESSOR_ERROR_MSG", NULL, UPLOAD_REQ, NULL, "" },
    { "REQUEST_BODY_LENGTH", NULL, POST_REQ, NULL, "11" },
    { "REQUEST_BODY_LENGTH", NULL, GET_REQ, NULL, "0" },
    { "REQUEST_FILENAME", NULL, GET_REQ, NULL, "/app/index.php/extra" },
    { "REQUEST_URI_RAW", NULL, GET_REQ, NULL, "/app/index.php/extra?a=1&b=x%20y&a=3" },
    { "RESPONSE_CONTENT_LENGTH", NULL, GET_REQ, NOTFOUND_RESP, "" },
    { "RESPONSE_CONTENT_TYPE", NULL, GET_REQ, NOTFOUND_RESP, "text/html" },
    { "RESPONSE_HEADERS", NULL, GET_REQ, NOTFOUND_RESP, "[Content-Type]text/html" },
    { "RESPONSE_HEADERS", "content-type", GET_REQ, NOTFOUND_RESP, "[Content-Type]text/html" },
    { "RESPONSE_HEADERS_NAMES", NULL, GET_REQ, NOTFOUND_RESP, "[Content-Type]Content-Type" },
    { "STATUS_LINE", NULL, GET_REQ, NOTFOUND_RESP, "404 Not Found" },
    { "TIME_EPOCH", NULL, GET_REQ, NULL, "~1[0-9]{9}" },
    { "UNIQUE_ID", NULL, GET_REQ, NULL, "t" },
    { "USER", "x", GET_REQ, NULL, "" },
    { "USERID", NULL, GET_REQ, NULL, "" },
    { "WEBAPPID", NULL, GET_REQ, NULL, "default" },
    { "GEO", "COUNTRY_CODE", GET_REQ, NULL, "" },
    { "XML", "/*", POST_REQ, NULL, "" }, /* not selected: no document (tests/unit/body/test_xml.c) */
    { "XML", NULL, POST_REQ, NULL, "" },
};
/* clang-format on */

#endif
