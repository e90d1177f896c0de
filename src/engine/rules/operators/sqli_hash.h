/*
 * The hash of the SQL word table (sqli_data.inc): FNV-1a over the upper-cased bytes. Shared by
 * the look-up in sqli.c and by tools/gen_sqli_data.c, which lays the table out with it.
 */
#ifndef PP_SQLI_HASH_H
#define PP_SQLI_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SQLI_WORD_HASH_SIZE 4096 /* slots; a power of two, about four per word */

static inline uint32_t sqli_hash_step(uint32_t h, unsigned char upper_byte)
{
    return (h ^ upper_byte) * 16777619u;
}

#define SQLI_HASH_INIT 2166136261u

#endif
