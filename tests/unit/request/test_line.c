/*
 * Unit tests for request/line.c: splitting the request line (reference §4.1), as a table of
 * accepted and rejected lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <apr_general.h>
#include <stdlib.h>
#include <string.h>

#include "request/request.h"

#define IN(s) s, sizeof(s) - 1
#define BAD(s) { IN(s), false, NULL, NULL, NULL, NULL, NULL }

typedef struct line_vec_t {
    const char *in;
    apr_size_t in_len;
    bool ok;
    const char *method, *uri, *path;
    const char *query;    /* NULL: no '?' */
    const char *protocol; /* NULL: HTTP/0.9 */
} line_vec_t;

static const line_vec_t vectors[] = {
    { IN("GET / HTTP/1.1"), true, "GET", "/", "/", NULL, "HTTP/1.1" },
    { IN("GET /a?b=c HTTP/1.0"), true, "GET", "/a?b=c", "/a", "b=c", "HTTP/1.0" },
    { IN("GET /a? HTTP/1.1"), true, "GET", "/a?", "/a", "", "HTTP/1.1" },
    { IN("GET /a?b?c=/d HTTP/1.1"), true, "GET", "/a?b?c=/d", "/a", "b?c=/d", "HTTP/1.1" },
    { IN("GET ?a=b HTTP/1.1"), true, "GET", "?a=b", "", "a=b", "HTTP/1.1" },
    { IN("GET /"), true, "GET", "/", "/", NULL, NULL },
    { IN("POST /x?y"), true, "POST", "/x?y", "/x", "y", NULL },
    { IN("OPTIONS * HTTP/1.1"), true, "OPTIONS", "*", "*", NULL, "HTTP/1.1" },
    { IN("GET http://h/p?q HTTP/1.1"), true, "GET", "http://h/p?q", "http://h/p", "q",
      "HTTP/1.1" },
    { IN("GET /caf\xc3\xa9 HTTP/1.1"), true, "GET", "/caf\xc3\xa9", "/caf\xc3\xa9", NULL,
      "HTTP/1.1" },
    { IN("GET /%00 FOO"), true, "GET", "/%00", "/%00", NULL, "FOO" }, /* protocol unchecked */
    BAD(""),
    BAD("GET"),
    BAD("GET "),
    BAD(" / HTTP/1.1"),
    BAD("GET  / HTTP/1.1"),
    BAD("GET /  HTTP/1.1"),
    BAD("GET / "),
    BAD("GET / HTTP/1.1 "),
    BAD("GET / HTTP/1.1 extra"),
    BAD("GET / HTTP/1.1\r"),
    BAD("GET / HTTP/1.1\r\n"),
    BAD("GET\t/ HTTP/1.1"),
    BAD("GET /a\tb HTTP/1.1"),
    BAD("GET /\0 HTTP/1.1"),
    BAD("GET /\x7f HTTP/1.1"),
    BAD("GET /\x1b[0m HTTP/1.1"),
};

static void check_part(size_t idx, const char *what, pp_str_t got, const char *want,
                       pp_str_t line)
{
    if (!want) {
        if (got.data || got.len)
            fail_msg("vector %zu: %s should be absent", idx, what);
        return;
    }
    if (got.len != strlen(want) || !got.data || memcmp(got.data, want, got.len))
        fail_msg("vector %zu: %s is [%.*s], want [%s]", idx, what, (int)got.len,
                 got.data ? got.data : "", want);
    if (got.data < line.data || got.data + got.len > line.data + line.len)
        fail_msg("vector %zu: %s does not point into the line", idx, what);
}

static void test_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const line_vec_t *v = &vectors[i];
        pp_str_t line = { v->in, v->in_len };
        pp_request_line_t rl;
        memset(&rl, 0xa5, sizeof(rl));
        apr_status_t rv = pp_request_line_parse(line, &rl);
        if ((rv == APR_SUCCESS) != v->ok)
            fail_msg("vector %zu [%s]: status %d", i, v->in, rv);
        check_part(i, "method", rl.method, v->method, line);
        check_part(i, "uri", rl.uri, v->uri, line);
        check_part(i, "path", rl.path, v->path, line);
        check_part(i, "query", rl.query, v->query, line);
        check_part(i, "protocol", rl.protocol, v->protocol, line);
    }
}

/* Every byte value at every position after the method of a line with 8-byte blocks and a
 * tail: refused exactly when it is a control byte (below 0x20, or 0x7f), spaces aside. */
static void test_every_byte(void **state)
{
    static const char base[] = "GET /abcdefghijklmnopqrstuvwxyz0123?q=xy HTTP/1.1";
    char line[sizeof(base)];
    for (size_t pos = 5; pos < sizeof(base) - 1; pos++)
        for (unsigned c = 0; c < 256; c++) {
            if (c == ' ' || base[pos] == ' ')
                continue;
            memcpy(line, base, sizeof(base));
            line[pos] = (char)c;
            pp_request_line_t rl;
            bool bad = c < 0x20 || c == 0x7f;
            apr_status_t rv = pp_request_line_parse((pp_str_t){ line, sizeof(base) - 1 }, &rl);
            if ((rv != APR_SUCCESS) != bad)
                fail_msg("byte 0x%02x at %zu: status %d", c, pos, rv);
        }
}

static void test_null_line(void **state)
{
    pp_request_line_t rl;
    assert_int_equal(pp_request_line_parse(PP_STR_NULL, &rl), APR_EGENERAL);
}

int main(void)
{
    apr_initialize();
    atexit(apr_terminate);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_every_byte),
        cmocka_unit_test(test_null_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
