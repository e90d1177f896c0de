/*
 * pp_str_t helpers and configuration number parsing. Request data may contain NUL bytes, so
 * everything here works on (pointer, length) pairs.
 */
#include "util/util.h"

#include <apr_lib.h>
#include <errno.h>
#include <stdlib.h>

pp_str_t pp_str_dup(apr_pool_t *p, pp_str_t s)
{
    char *d = apr_palloc(p, s.len + 1);
    if (s.len)
        memcpy(d, s.data, s.len);
    d[s.len] = '\0';
    return (pp_str_t){ d, s.len };
}

pp_str_t pp_str_from_cstr(const char *s)
{
    return s ? (pp_str_t){ s, strlen(s) } : (pp_str_t){ "", 0 };
}

bool pp_str_eq_ci(pp_str_t a, const char *b)
{
    apr_size_t n = strlen(b);
    return a.len == n && strncasecmp(a.data, b, n) == 0;
}

const char *pp_str_log_escape(apr_pool_t *p, pp_str_t s, apr_size_t max)
{
    apr_size_t n = s.len < max ? s.len : max;
    char *out = apr_palloc(p, n * 4 + 4), *o = out;
    for (apr_size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.data[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            o += sprintf(o, "\\x%02x", c);
        } else {
            *o++ = (char)c;
        }
    }
    if (n < s.len) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = '\0';
    return out;
}

bool pp_parse_int64(const char *s, apr_int64_t *out)
{
    if (!s || !*s)
        return false;
    for (const char *c = s; *c; c++)
        if (!apr_isdigit(*c))
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}
