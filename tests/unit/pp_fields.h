/*
 * Expected name=value fields for the request parsers' vector tables (cookies, urlencoded), and
 * the check of a parse's fields against them. Include after <cmocka.h>.
 */
#ifndef PP_FIELDS_H
#define PP_FIELDS_H

#include <string.h>

#include <apr_tables.h>

#include "parapet.h"

typedef struct field_vec_t {
    const char *name;
    apr_size_t name_len;
    const char *value;
    apr_size_t value_len;
} field_vec_t;

/* Literals may hold NUL bytes, so lengths come from sizeof. */
#define IN(s) s, sizeof(s) - 1
#define F(n, v) { n, sizeof(n) - 1, v, sizeof(v) - 1 }

/* Vector idx (input in): each field of out (pp_field_t) is want[i], byte for byte, with a NUL
 * after its name and value. The caller has checked the count. */
static inline void pp_test_check_fields(size_t idx, const char *in, const apr_array_header_t *out,
                                        const field_vec_t *want)
{
    for (int i = 0; i < out->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(out, i, pp_field_t);
        const field_vec_t *e = &want[i];
        if (f->name.len != e->name_len || memcmp(f->name.data, e->name, e->name_len) ||
            f->value.len != e->value_len || memcmp(f->value.data, e->value, e->value_len))
            fail_msg("vector %zu [%s]: field %d is [%.*s]=[%.*s]", idx, in, i,
                     (int)f->name.len, f->name.data, (int)f->value.len, f->value.data);
        assert_int_equal(f->name.data[f->name.len], '\0');
        assert_int_equal(f->value.data[f->value.len], '\0');
    }
}

#endif
