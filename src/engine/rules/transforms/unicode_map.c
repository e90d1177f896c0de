/*
 * SecUnicodeMapFile (reference secrule-2.9 §3, §7 urlDecodeUni): the code-point → byte table
 * that urlDecodeUni uses for %uHHHH escapes once a code page is configured, read from
 * ModSecurity's unicode.mapping format exactly as ModSecurity 2.9.7 reads it, so the same file
 * and code page give the same bytes (tests/e2e/test_ms2_unicode.py compares with the module):
 *
 *   - the file is a stream of words separated by spaces, tabs and line breaks;
 *   - a word whose leading decimal number (atol's reading: "(MAC" and "00a1:21" read as 0)
 *     equals the code page starts the section; from then on every word holding ':' is
 *     "HHHH:HH" (code point : byte, both hex), and the first word without ':' after the first
 *     mapping ends the reading;
 *   - before the file, U+3002, U+FF61, U+FF0E and U+002E map to '.' (RFC 3490's dots).
 *
 * Where ModSecurity goes wrong we do not follow: a code point above U+FFFF is ignored (2.9.7
 * writes past its table), and the table belongs to the configuration that loaded it (2.9.7 has
 * one table per process: the last SecUnicodeMapFile read wins everywhere). Built once at
 * start-up in the configuration pool (256 KiB), read-only afterwards.
 */
#include "rules/transforms/transforms.h"

#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <stdlib.h>

#define MAP_SIZE 65536
#define MAX_FILE_BYTES (16 * 1024 * 1024) /* the Debian file is 53 KB */

struct pp_unicode_map_t {
    /* -1: not mapped (the low-byte rule applies); else the byte, which is all that a mapped
     * value contributes (url.c keeps its low 8 bits): half the size of ModSecurity's ints. */
    int16_t byte_of[MAP_SIZE];
};

/* atol()'s reading of a word: optional sign, then decimal digits, stopping at anything else. */
static long word_number(const char *w)
{
    return atol(w);
}

/* sscanf("%x")'s reading: the value of the leading hex number, or false when there is none (the
 * caller then keeps its previous value, as ModSecurity's sscanf into a reused int does). */
static bool hex_number(const char *w, int *v)
{
    char *end;
    unsigned long n = strtoul(w, &end, 16);
    if (end == w)
        return false;
    *v = (int)n;
    return true;
}

static void read_words(pp_unicode_map_t *m, char *text, long codepage)
{
    bool found = false, processing = false;
    int code = 0, byte = 0;
    char *last = NULL;
    for (char *w = apr_strtok(text, " \t\n\r", &last); w; w = apr_strtok(NULL, " \t\n\r", &last)) {
        if (word_number(w) == codepage)
            found = true;
        char *colon = strchr(w, ':');
        if (found && colon) {
            processing = true;
            /* strtok(":") semantics: leading ':' are skipped, the code ends at the next ':'. */
            char *c = w;
            while (*c == ':')
                c++;
            char *sep = strchr(c, ':');
            if (*c) {
                if (sep)
                    *sep = '\0';
                hex_number(c, &code);
                if (sep)
                    hex_number(sep + 1, &byte);
            }
            if (code >= 0 && code < MAP_SIZE)
                m->byte_of[code] = byte == -1 ? -1 : (int16_t)(byte & 0xff);
        }
        if (processing && !colon)
            break;
    }
}

const char *pp_unicode_map_load(apr_pool_t *cp, apr_pool_t *tp, const char *path, long codepage,
                                const pp_unicode_map_t **out)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char buf[120];
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT,
                                    tp);
    if (rv == APR_SUCCESS)
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv != APR_SUCCESS)
        return apr_psprintf(tp, "cannot read unicode map file \"%s\": %s", path,
                            apr_strerror(rv, buf, sizeof buf));
    if (fi.size > MAX_FILE_BYTES)
        return apr_psprintf(tp, "unicode map file \"%s\" is larger than %d bytes", path,
                            MAX_FILE_BYTES);
    char *text = apr_palloc(tp, (apr_size_t)fi.size + 1);
    apr_size_t n = 0;
    rv = fi.size ? apr_file_read_full(f, text, (apr_size_t)fi.size, &n) : APR_SUCCESS;
    apr_file_close(f);
    if (rv != APR_SUCCESS)
        return apr_psprintf(tp, "cannot read unicode map file \"%s\": %s", path,
                            apr_strerror(rv, buf, sizeof buf));
    text[n] = '\0';
    pp_unicode_map_t *m = apr_palloc(cp, sizeof *m);
    for (int i = 0; i < MAP_SIZE; i++)
        m->byte_of[i] = -1;
    m->byte_of[0x3002] = m->byte_of[0xff61] = m->byte_of[0xff0e] = m->byte_of[0x002e] = 0x2e;
    read_words(m, text, codepage);
    *out = m;
    return NULL;
}

int pp_unicode_map_byte(const pp_unicode_map_t *m, unsigned code)
{
    return code < MAP_SIZE ? m->byte_of[code] : -1;
}
