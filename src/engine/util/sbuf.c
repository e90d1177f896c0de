/*
 * pp_sbuf_t: the one growable byte buffer of the engine (review 2.J: the request-body buffer,
 * the child-output sink, the multipart field value and the log record builder each had their
 * own copy of the same doubling code). Memory comes from a pool: capacity starts at the
 * caller's first size when the first byte arrives, doubles, and never passes max + 1 (the
 * spare byte keeps data NUL-terminated; a max of 0 holds nothing); an outgrown block stays in
 * the pool until it is destroyed, so the total is at most twice the final size. Nothing is
 * allocated for a buffer that stays empty: data is then "".
 */
#include "util/util.h"

#include <stdarg.h>

#define SBUF_MIN_FIRST 16

void pp_sbuf_init_bounded(pp_sbuf_t *b, apr_pool_t *p, apr_size_t first, apr_size_t max)
{
    b->p = p;
    b->data = (char *)""; /* never written: the first reserve allocates */
    b->len = 0;
    b->cap = 0;
    b->first = first > SBUF_MIN_FIRST ? first : SBUF_MIN_FIRST;
    b->max = max;
}

void pp_sbuf_init(pp_sbuf_t *b, apr_pool_t *p, apr_size_t hint)
{
    pp_sbuf_init_bounded(b, p, hint, PP_SBUF_UNBOUNDED);
}

apr_size_t pp_sbuf_room(const pp_sbuf_t *b)
{
    return b->len < b->max ? b->max - b->len : 0;
}

apr_size_t pp_sbuf_next_cap(const pp_sbuf_t *b, apr_size_t more)
{
    if (b->len + more < b->cap)
        return 0;
    apr_size_t need = b->len + more + 1;
    apr_size_t cap = b->cap ? b->cap : b->first;
    while (cap < need)
        cap = cap > APR_SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = need > b->max + 1 ? need : b->max + 1;
    return cap;
}

void pp_sbuf_reserve(pp_sbuf_t *b, apr_size_t more)
{
    apr_size_t cap = pp_sbuf_next_cap(b, more);
    if (!cap)
        return;
    char *d = apr_palloc(b->p, cap);
    memcpy(d, b->data, b->len + 1);
    b->data = d;
    b->cap = cap;
}

void pp_sbuf_add(pp_sbuf_t *b, const char *data, apr_size_t len)
{
    pp_sbuf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void pp_sbuf_str(pp_sbuf_t *b, const char *s)
{
    pp_sbuf_add(b, s, strlen(s));
}

void pp_sbuf_printf(pp_sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *s = apr_pvsprintf(b->p, fmt, ap);
    va_end(ap);
    pp_sbuf_str(b, s);
}

void pp_sbuf_add_safe(pp_sbuf_t *b, pp_str_t s)
{
    apr_size_t start = 0;
    for (apr_size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.data[i];
        if (c >= 0x20 && c != 0x7f)
            continue;
        pp_sbuf_add(b, s.data + start, i - start);
        pp_sbuf_printf(b, "\\x%02x", c);
        start = i + 1;
    }
    pp_sbuf_add(b, s.data + start, s.len - start);
}
