/*
 * libFuzzer target for request/cookies.c (the Cookie header, reference §2.2 and §4.2). The
 * first byte picks the format (its low bit), the rest is the header value. Besides memory
 * safety it checks that fields are terminated copies, that a header reported well formed has
 * no empty names (and, in format 1, no "$" attributes among the cookies), and that writing
 * such a header's cookies back in the same format and parsing again gives the same cookies.
 */
#include <apr_general.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request/request.h"
#include "fuzz.h"

static apr_pool_t *root, *scratch;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_pools_init(&root, &scratch);
    return 0;
}

/* Format 0: "n=v; n=v". Format 1: n="v" with '"' and '\' escaped, separated by "; ". */
static pp_str_t write_cookies(const apr_array_header_t *fields, int format)
{
    apr_size_t cap = 1;
    for (int i = 0; i < fields->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(fields, i, pp_field_t);
        cap += f->name.len + 2 * f->value.len + 6;
    }
    char *buf = apr_palloc(scratch, cap), *o = buf;
    for (int i = 0; i < fields->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(fields, i, pp_field_t);
        memcpy(o, f->name.data, f->name.len);
        o += f->name.len;
        *o++ = '=';
        if (format == PP_COOKIE_FORMAT_RFC2109)
            *o++ = '"';
        for (apr_size_t j = 0; j < f->value.len; j++) {
            char c = f->value.data[j];
            if (format == PP_COOKIE_FORMAT_RFC2109 && (c == '"' || c == '\\'))
                *o++ = '\\';
            *o++ = c;
        }
        if (format == PP_COOKIE_FORMAT_RFC2109)
            *o++ = '"';
        *o++ = ';';
        *o++ = ' ';
    }
    return (pp_str_t){ buf, (apr_size_t)(o - buf) };
}

static bool same_fields(const apr_array_header_t *a, const apr_array_header_t *b)
{
    if (a->nelts != b->nelts)
        return false;
    for (int i = 0; i < a->nelts; i++) {
        const pp_field_t *x = &APR_ARRAY_IDX(a, i, pp_field_t);
        const pp_field_t *y = &APR_ARRAY_IDX(b, i, pp_field_t);
        if (x->name.len != y->name.len || memcmp(x->name.data, y->name.data, x->name.len) ||
            x->value.len != y->value.len || memcmp(x->value.data, y->value.data, x->value.len))
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int format = data[0] & 1;
    pp_str_t header = { (const char *)data + 1, size - 1 };
    apr_array_header_t *fields = apr_array_make(scratch, 4, sizeof(pp_field_t));
    bool malformed;
    CHECK(pp_cookies_parse(scratch, header, format, fields, &malformed) == APR_SUCCESS);
    for (int i = 0; i < fields->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(fields, i, pp_field_t);
        CHECK(f->name.data[f->name.len] == '\0' && f->value.data[f->value.len] == '\0');
        CHECK(f->name.len + f->value.len <= header.len);
        CHECK(malformed || f->name.len > 0);
        CHECK(format == 0 || !f->name.len || f->name.data[0] != '$');
    }
    if (!malformed) {
        apr_array_header_t *again = apr_array_make(scratch, 4, sizeof(pp_field_t));
        bool malformed2;
        pp_str_t text = write_cookies(fields, format);
        CHECK(pp_cookies_parse(scratch, text, format, again, &malformed2) == APR_SUCCESS);
        CHECK(!malformed2 && same_fields(fields, again));
    }
    apr_pool_clear(scratch);
    return 0;
}
