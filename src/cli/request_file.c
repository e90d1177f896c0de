/*
 * Raw HTTP message files for parapet eval: start line, headers up to the blank line, then the
 * body (de-chunked when Transfer-Encoding: chunked, cut at Content-Length when present).
 * Accepts LF as well as CRLF line ends so test cases can be written by hand.
 */
#include "cli.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <stdlib.h>

static bool next_line(const char **s, const char *end, pp_str_t *line)
{
    if (*s >= end)
        return false;
    const char *nl = memchr(*s, '\n', (apr_size_t)(end - *s));
    const char *stop = nl ? nl : end;
    apr_size_t n = (apr_size_t)(stop - *s);
    if (n && (*s)[n - 1] == '\r')
        n--;
    *line = (pp_str_t){ *s, n };
    *s = nl ? nl + 1 : end;
    return true;
}

static const char *dechunk(apr_pool_t *p, pp_str_t in, pp_str_t *out)
{
    char *o = apr_palloc(p, in.len + 1);
    apr_size_t olen = 0;
    const char *s = in.data, *end = in.data + in.len;
    pp_str_t line;
    while (next_line(&s, end, &line)) {
        char *e;
        unsigned long n = strtoul(apr_pstrmemdup(p, line.data, line.len), &e, 16);
        if (n == 0)
            break;
        if ((apr_size_t)(end - s) < n)
            return "chunk longer than the file";
        memcpy(o + olen, s, n);
        olen += n;
        s += n;
        next_line(&s, end, &line);
    }
    o[olen] = '\0';
    *out = (pp_str_t){ o, olen };
    return NULL;
}

const char *pp_cli_read_message(apr_pool_t *p, const char *path, pp_http_msg_t *msg)
{
    char *text;
    apr_file_t *f;
    apr_finfo_t fi;
    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p) != APR_SUCCESS ||
        apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS)
        return apr_psprintf(p, "%s: cannot read", path);
    apr_size_t len = (apr_size_t)fi.size;
    text = apr_palloc(p, len + 1);
    apr_status_t rv = apr_file_read_full(f, text, len, &len);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !(rv == APR_EOF && len == 0 && fi.size == 0)) {
        char buf[120];
        return apr_psprintf(p, "%s: cannot read: %s", path, apr_strerror(rv, buf, sizeof buf));
    }
    text[len] = '\0';
    const char *s = text, *end = text + len;
    msg->headers = apr_array_make(p, 8, sizeof(pp_field_t));
    if (!next_line(&s, end, &msg->start_line) || !msg->start_line.len)
        return apr_psprintf(p, "%s: no start line", path);
    bool chunked = false;
    apr_int64_t clen = -1;
    pp_str_t line;
    while (next_line(&s, end, &line) && line.len) {
        const char *colon = memchr(line.data, ':', line.len);
        if (!colon)
            return apr_psprintf(p, "%s: header line without ':'", path);
        pp_field_t *h = apr_array_push(msg->headers);
        h->name = (pp_str_t){ line.data, (apr_size_t)(colon - line.data) };
        const char *v = colon + 1;
        while (v < line.data + line.len && (*v == ' ' || *v == '\t'))
            v++;
        h->value = (pp_str_t){ apr_pstrmemdup(p, v, (apr_size_t)(line.data + line.len - v)),
                               (apr_size_t)(line.data + line.len - v) };
        h->name.data = apr_pstrmemdup(p, h->name.data, h->name.len);
        if (h->name.len == 17 && strncasecmp(h->name.data, "Transfer-Encoding", 17) == 0)
            chunked = strcasestr(h->value.data, "chunked") != NULL;
        if (h->name.len == 14 && strncasecmp(h->name.data, "Content-Length", 14) == 0)
            clen = apr_atoi64(h->value.data);
    }
    msg->body = (pp_str_t){ s, (apr_size_t)(end - s) };
    if (chunked)
        return dechunk(p, msg->body, &msg->body);
    if (clen >= 0 && (apr_size_t)clen < msg->body.len)
        msg->body.len = (apr_size_t)clen;
    return NULL;
}
