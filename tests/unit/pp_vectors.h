/*
 * The check behind style §9's promise that "a registry test fails when a row has no vectors":
 * given a family table and a family's vector table (both arrays of structs whose rows carry a
 * name), the first table row no vector names. test_registry.c runs it over every family, and
 * over a synthetic table to show that it does fail.
 */
#ifndef PP_VECTORS_H
#define PP_VECTORS_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

typedef struct pp_rows_t {
    const void *rows;
    size_t n, size, name_offset; /* n rows of size bytes; the name is a const char * at offset */
} pp_rows_t;

#define PP_ROWS(arr, n, type, field) \
    ((pp_rows_t){ (arr), (n), sizeof(type), offsetof(type, field) })

static inline const char *pp_rows_name(pp_rows_t r, size_t i)
{
    return *(const char *const *)((const char *)r.rows + i * r.size + r.name_offset);
}

/* The first row of table that no vector names (names compare case-insensitively, as directive
 * and action look-ups do), or NULL when every row has at least one. */
static inline const char *pp_rows_without_vectors(pp_rows_t table, pp_rows_t vectors)
{
    for (size_t i = 0; i < table.n; i++) {
        const char *name = pp_rows_name(table, i);
        size_t k = 0;
        while (k < vectors.n && strcasecmp(pp_rows_name(vectors, k), name) != 0)
            k++;
        if (k == vectors.n)
            return name;
    }
    return NULL;
}

/* The first vector naming no row of table (a vector left behind by a removed row), or NULL. */
static inline const char *pp_vectors_without_row(pp_rows_t table, pp_rows_t vectors)
{
    return pp_rows_without_vectors(vectors, table);
}

#define PP_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
