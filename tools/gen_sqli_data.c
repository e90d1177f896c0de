/*
 * tools/gen_sqli_data.c: derives the data tables of the SQL injection detector
 * (src/engine/rules/operators/sqli_data.inc) from the reference implementation, the
 * libinjection 3.9.2 copy inside Debian's mod_security2.so, by asking its table look-up
 * (libinjection_sqli_lookup_word) about candidates. No table is copied from anywhere:
 *
 *  - words: every candidate is looked up and kept when the reference gives it a token type.
 *    Candidates are all 1- and 2-byte strings (this covers the two-character operators) and
 *    every NUL-terminated string, and every suffix of one (string tails may be shared), found
 *    in the module's .rodata section, up to 31 bytes (the longest word the tokenizer looks up).
 *  - fingerprints: every string of 1 to 5 token-type characters is looked up as "0" +
 *    upper-cased fingerprint and kept when the reference answers 'F'. As a check, every
 *    .rodata string that the reference classifies as 'F' must have been found by the
 *    enumeration (the tool fails otherwise).
 *
 * Build and run (docs/detectors.md): make sqli-data
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/oracle/libinjection_oracle.h"
#include "../src/engine/rules/operators/sqli_hash.h"

/* Every token type the tokenizer can produce, upper-cased as the fingerprint look-up does. */
static const char fp_alphabet[] = "&(),.1:;?ABCEFKNOSTUVX\\{}";

typedef struct word_t {
    char s[32];
    char type;
} word_t;

static word_t *words;
static size_t n_words, cap_words;

static int cmp_word(const void *a, const void *b)
{
    return strcmp(((const word_t *)a)->s, ((const word_t *)b)->s);
}

static void add_word(const char *s, size_t len, char type)
{
    if (n_words == cap_words) {
        cap_words = cap_words ? 2 * cap_words : 1024;
        words = realloc(words, cap_words * sizeof *words);
        if (!words)
            abort();
    }
    memset(&words[n_words], 0, sizeof words[n_words]);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        words[n_words].s[i] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    words[n_words].type = type;
    n_words++;
}

/* The .rodata section of the module, read from the file. */
static char *read_rodata(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *img = malloc((size_t)size);
    if (!img || fread(img, 1, (size_t)size, f) != (size_t)size)
        abort();
    fclose(f);
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
    const char *names = img + sh[eh->e_shstrndx].sh_offset;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (strcmp(names + sh[i].sh_name, ".rodata") == 0) {
            char *out = malloc(sh[i].sh_size);
            memcpy(out, img + sh[i].sh_offset, sh[i].sh_size);
            *len = sh[i].sh_size;
            free(img);
            return out;
        }
    }
    free(img);
    return NULL;
}

static int in_table(const char *key, size_t len)
{
    for (size_t i = 0; i < n_words; i++)
        if (strlen(words[i].s) == len && memcmp(words[i].s, key, len) == 0)
            return 1;
    return 0;
}

static uint32_t pack(const char *fp, size_t len)
{
    uint32_t v = 0;
    for (size_t i = 0; i < 5; i++) {
        uint32_t code = 0;
        if (i < len)
            code = (uint32_t)(strchr(fp_alphabet, fp[i]) - fp_alphabet) + 1;
        v = (v << 5) | code;
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *out_path = argc > 1 ? argv[1] : "src/engine/rules/operators/sqli_data.inc";
    oracle_t o;
    const char *err = oracle_open(&o);
    if (err) {
        fprintf(stderr, "gen_sqli_data: %s\n", err);
        return 1;
    }

    /* ---- words ---- */
    char buf[40];
    for (int a = 1; a < 256; a++) {
        buf[0] = (char)a;
        char t = oracle_lookup(&o, buf, 1);
        if (t && t != 'F')
            add_word(buf, 1, t);
        for (int b = 1; b < 256; b++) {
            buf[1] = (char)b;
            if (b >= 'a' && b <= 'z')
                continue; /* the look-up upper-cases; keep the upper-case spelling only */
            if (a >= 'a' && a <= 'z')
                break;
            t = oracle_lookup(&o, buf, 2);
            if (t && t != 'F')
                add_word(buf, 2, t);
        }
    }
    size_t ro_len = 0;
    char *ro = read_rodata(PP_ORACLE_MODULE, &ro_len);
    if (!ro) {
        fprintf(stderr, "gen_sqli_data: no .rodata in %s\n", PP_ORACLE_MODULE);
        return 1;
    }
    size_t rodata_fp = 0;
    char **fp_strings = calloc(ro_len, sizeof(char *));
    for (size_t i = 0; i < ro_len;) {
        size_t n = strnlen(ro + i, ro_len - i);
        for (size_t k = 0; k < n; k++) {
            size_t l = n - k;
            const char *s = ro + i + k;
            if (l < 3 || l > 31)
                continue;
            char t = oracle_lookup(&o, s, l);
            if (!t)
                continue;
            int upper = 1;
            for (size_t j = 0; j < l; j++)
                if (s[j] >= 'a' && s[j] <= 'z')
                    upper = 0;
            if (t == 'F') {
                fp_strings[rodata_fp++] = strndup(s, l);
            } else if (upper && !in_table(s, l)) {
                add_word(s, l, t);
            }
        }
        i += n + 1;
    }
    qsort(words, n_words, sizeof *words, cmp_word);
    size_t w = 0;
    for (size_t i = 0; i < n_words; i++)
        if (w == 0 || strcmp(words[w - 1].s, words[i].s) != 0)
            words[w++] = words[i];
    n_words = w;

    /* ---- fingerprints ---- */
    size_t alpha = strlen(fp_alphabet), n_fp = 0, cap_fp = 16384;
    uint32_t *fps = malloc(cap_fp * sizeof *fps);
    char **fp_text = malloc(cap_fp * sizeof *fp_text);
    char key[8];
    for (size_t len = 1; len <= 5; len++) {
        size_t total = 1;
        for (size_t i = 0; i < len; i++)
            total *= alpha;
        for (size_t v = 0; v < total; v++) {
            size_t x = v;
            key[0] = '0';
            for (size_t i = 0; i < len; i++) {
                key[len - i] = fp_alphabet[x % alpha];
                x /= alpha;
            }
            key[len + 1] = '\0';
            if (oracle_lookup(&o, key, len + 1) == 'F') {
                if (n_fp == cap_fp) {
                    cap_fp *= 2;
                    fps = realloc(fps, cap_fp * sizeof *fps);
                    fp_text = realloc(fp_text, cap_fp * sizeof *fp_text);
                }
                fps[n_fp] = pack(key + 1, len);
                fp_text[n_fp] = strdup(key + 1);
                n_fp++;
            }
        }
    }
    /* The enumeration must have found every fingerprint string the module holds. */
    for (size_t i = 0; i < rodata_fp; i++) {
        const char *s = fp_strings[i];
        size_t l = strlen(s);
        int found = 0;
        for (size_t j = 0; j < n_fp && !found; j++)
            found = strlen(fp_text[j]) == l - 1 && memcmp(fp_text[j], s + 1, l - 1) == 0;
        if (!found) {
            fprintf(stderr, "gen_sqli_data: fingerprint %s in .rodata missed by the "
                    "enumeration (extend fp_alphabet)\n", s);
            return 1;
        }
    }
    /* Sort packed values (insertion into order by value). */
    for (size_t i = 1; i < n_fp; i++) {
        uint32_t v = fps[i];
        char *t = fp_text[i];
        size_t j = i;
        for (; j > 0 && fps[j - 1] > v; j--) {
            fps[j] = fps[j - 1];
            fp_text[j] = fp_text[j - 1];
        }
        fps[j] = v;
        fp_text[j] = t;
    }

    FILE *out = fopen(out_path, "w");
    if (!out) {
        perror(out_path);
        return 1;
    }
    fprintf(out, "/*\n * Generated by tools/gen_sqli_data.c (make sqli-data) from the reference "
                 "libinjection %s\n * in mod_security2.so: %zu words, %zu fingerprints. "
                 "Do not edit.\n */\n\n", o.version(), n_words, n_fp);
    fprintf(out, "/* Token types, upper-cased; a fingerprint character's code is its index + 1. */\n"
                 "static const char sqli_fp_alphabet[] = \"");
    for (const char *p = fp_alphabet; *p; p++)
        fprintf(out, *p == '\\' ? "\\\\" : "%c", *p);
    fprintf(out, "\";\n\n/* Words (upper case, sorted by bytes) and their token type. */\n"
                 "static const sqli_word_t sqli_words[] = {\n");
    for (size_t i = 0; i < n_words; i++) {
        fprintf(out, "    { \"");
        for (const char *p = words[i].s; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '"' || c == '\\')
                fprintf(out, "\\%c", c);
            else if (c < 32 || c >= 127)
                fprintf(out, "\\%03o", c);
            else
                fputc(c, out);
        }
        fprintf(out, "\", %zu, '%s%c' },\n", strlen(words[i].s),
                words[i].type == '\\' ? "\\" : "", words[i].type);
    }
    fprintf(out, "};\n\n/* Open addressing over sqli_words (sqli_hash.h): index + 1, 0 = empty; linear "
                 "probing. */\nstatic const uint16_t sqli_word_slots[SQLI_WORD_HASH_SIZE] = {\n");
    uint16_t *slots = calloc(SQLI_WORD_HASH_SIZE, sizeof *slots);
    for (size_t i = 0; i < n_words; i++) {
        uint32_t h = SQLI_HASH_INIT;
        for (const char *p = words[i].s; *p; p++)
            h = sqli_hash_step(h, (unsigned char)*p);
        size_t at = h & (SQLI_WORD_HASH_SIZE - 1);
        while (slots[at])
            at = (at + 1) & (SQLI_WORD_HASH_SIZE - 1);
        slots[at] = (uint16_t)(i + 1);
    }
    for (size_t i = 0; i < SQLI_WORD_HASH_SIZE; i++)
        fprintf(out, "%s%u,%s", i % 16 ? " " : "    ", slots[i], i % 16 == 15 ? "\n" : "");
    fprintf(out, "};\n\n/* Code of each fingerprint character (index in sqli_fp_alphabet + 1), 0 = none. */\n"
                 "static const unsigned char sqli_fp_code[256] = {\n");
    for (const char *p = fp_alphabet; *p; p++)
        fprintf(out, "    ['%s%c'] = %d,\n", *p == '\\' || *p == '\'' ? "\\" : "", *p,
                (int)(p - fp_alphabet) + 1);
    fprintf(out, "};\n\n/* Fingerprints, five 5-bit codes per value (first character in the top "
                 "bits), sorted. */\nstatic const uint32_t sqli_fingerprints[] = {\n");
    for (size_t i = 0; i < n_fp; i++)
        fprintf(out, "    0x%07x, /* %s */\n", (unsigned)fps[i], fp_text[i]);
    fprintf(out, "};\n");
    fclose(out);
    fprintf(stderr, "gen_sqli_data: %zu words, %zu fingerprints -> %s\n", n_words, n_fp, out_path);
    oracle_close(&o);
    return 0;
}
