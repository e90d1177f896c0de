/*
 * libFuzzer target for request/urlencoded.c (query strings and urlencoded bodies, reference
 * §4.2). Besides memory safety it checks what the parser promises: the bad-escape count equals
 * the number of '%' that validation rejects, decoded strings are terminated and never longer
 * than their source, pp_url_decode copies only when there is something to decode, and
 * re-encoding the fields and parsing again gives the same fields.
 */
#include <apr_general.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request/request.h"
#include "rules/operators/validate.h"
#include "fuzz.h"

static apr_pool_t *root, *scratch;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_pools_init(&root, &scratch);
    return 0;
}

/* Number of '%' not followed by two hex digits, found with the validator. */
static unsigned count_bad(pp_str_t in)
{
    unsigned n = 0;
    apr_size_t off;
    while (!pp_validate_url_encoding(in, &off)) {
        n++;
        in.data += off + 1;
        in.len -= off + 1;
    }
    return n;
}

/* "name=value&..." with every byte escaped except letters and digits. */
static pp_str_t encode_fields(const apr_array_header_t *fields)
{
    apr_size_t cap = 1;
    for (int i = 0; i < fields->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(fields, i, pp_field_t);
        cap += 3 * (f->name.len + f->value.len) + 2;
    }
    char *buf = apr_palloc(scratch, cap), *o = buf;
    for (int i = 0; i < fields->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(fields, i, pp_field_t);
        const pp_str_t parts[2] = { f->name, f->value };
        for (int k = 0; k < 2; k++) {
            for (apr_size_t j = 0; j < parts[k].len; j++) {
                unsigned char c = (unsigned char)parts[k].data[j];
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                    *o++ = (char)c;
                else
                    o += sprintf(o, "%%%02X", c);
            }
            *o++ = k == 0 ? '=' : '&';
        }
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

static void check_decode(pp_str_t in, bool plus, unsigned expect_bad)
{
    pp_str_t out;
    unsigned bad = 0;
    CHECK(pp_url_decode(scratch, in, plus, &out, &bad) == APR_SUCCESS);
    CHECK(bad == expect_bad && out.len <= in.len);
    bool needed =
        in.len && (memchr(in.data, '%', in.len) || (plus && memchr(in.data, '+', in.len)));
    CHECK(needed == (out.data != in.data));
    CHECK(!needed || out.data[out.len] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pp_str_t in = { (const char *)data, size };
    unsigned expect_bad = count_bad(in), bad = 0;
    apr_array_header_t *fields = apr_array_make(scratch, 4, sizeof(pp_field_t));
    CHECK(pp_urlencoded_parse(scratch, in, fields, &bad) == APR_SUCCESS);
    CHECK(bad == expect_bad);
    apr_size_t total = 0;
    for (int i = 0; i < fields->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(fields, i, pp_field_t);
        CHECK(f->name.data[f->name.len] == '\0' && f->value.data[f->value.len] == '\0');
        total += f->name.len + f->value.len;
    }
    CHECK(total <= size);

    apr_array_header_t *again = apr_array_make(scratch, 4, sizeof(pp_field_t));
    bad = 0;
    CHECK(pp_urlencoded_parse(scratch, encode_fields(fields), again, &bad) == APR_SUCCESS);
    CHECK(bad == 0 && same_fields(fields, again));

    check_decode(in, false, expect_bad);
    check_decode(in, true, expect_bad);
    apr_pool_clear(scratch);
    return 0;
}
