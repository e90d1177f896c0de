/*
 * The libinjection copy inside Debian's ModSecurity 2.9.7 (mod_security2.so), loaded with
 * dlopen as the reference for @detectSQLi and @detectXSS. Tests, fuzz targets, the bench and
 * tools/gen_sqli_data.c use it; the product never does.
 *
 * mod_security2.so binds two httpd data symbols when it is loaded (core_module,
 * ap_server_config_defines); this header defines them, so every program that includes it must
 * be linked with -rdynamic (the Makefile's unit-test rules and fuzz/run.sh do). Functions are
 * bound lazily and none of the httpd ones is ever called. Include this header in one file only.
 *
 * The oracle reads one byte past a value in places (ModSecurity's values are NUL-terminated),
 * so oracle_sqli and oracle_xss copy the value into a NUL-terminated buffer first, exactly as
 * ModSecurity hands it over.
 */
#ifndef PP_LIBINJECTION_ORACLE_H
#define PP_LIBINJECTION_ORACLE_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PP_ORACLE_MODULE
#define PP_ORACLE_MODULE "/usr/lib/apache2/modules/mod_security2.so"
#endif

/* Stand-ins for the two httpd data symbols; never read by the functions we call. */
__attribute__((visibility("default"))) char core_module[1024];
__attribute__((visibility("default"))) void *ap_server_config_defines;

typedef struct oracle_t {
    void *handle;
    int (*sqli)(const char *s, size_t len, char fingerprint[]);
    int (*xss)(const char *s, size_t len);
    char (*lookup_word)(void *state, int lookup_type, const char *s, size_t len);
    const char *(*version)(void);
    char *buf;      /* NUL-terminated copy of the value */
    size_t buf_cap;
} oracle_t;

/* Loads the module. Returns NULL on success, else a message (the test fails with it). */
static const char *oracle_open(oracle_t *o)
{
    static char err[512];
    memset(o, 0, sizeof *o);
    o->handle = dlopen(PP_ORACLE_MODULE, RTLD_LAZY | RTLD_LOCAL);
    if (!o->handle) {
        snprintf(err, sizeof err, "dlopen %s: %s (apt-get install libapache2-mod-security2; "
                 "link with -rdynamic)", PP_ORACLE_MODULE, dlerror());
        return err;
    }
    *(void **)&o->sqli = dlsym(o->handle, "libinjection_sqli");
    *(void **)&o->xss = dlsym(o->handle, "libinjection_xss");
    *(void **)&o->lookup_word = dlsym(o->handle, "libinjection_sqli_lookup_word");
    *(void **)&o->version = dlsym(o->handle, "libinjection_version");
    if (!o->sqli || !o->xss || !o->lookup_word || !o->version)
        return "mod_security2.so does not export the libinjection functions";
    if (strcmp(o->version(), "3.9.2") != 0) {
        snprintf(err, sizeof err, "oracle is libinjection %s, expected 3.9.2", o->version());
        return err;
    }
    return NULL;
}

static const char *oracle_copy(oracle_t *o, const char *s, size_t len)
{
    if (len + 1 > o->buf_cap) {
        free(o->buf);
        o->buf_cap = len + 64;
        o->buf = malloc(o->buf_cap);
        if (!o->buf)
            abort();
    }
    memcpy(o->buf, s, len);
    o->buf[len] = '\0';
    return o->buf;
}

/* libinjection_sqli as ModSecurity calls it; fingerprint gets at least 8 bytes. */
__attribute__((unused)) static int oracle_sqli(oracle_t *o, const char *s, size_t len, char fingerprint[8])
{
    memset(fingerprint, 0, 8);
    return o->sqli(oracle_copy(o, s, len), len, fingerprint);
}

__attribute__((unused)) static int oracle_xss(oracle_t *o, const char *s, size_t len)
{
    return o->xss(oracle_copy(o, s, len), len);
}

/* The keyword/fingerprint table look-up (LOOKUP_WORD = 1); '\0' when absent. */
__attribute__((unused)) static char oracle_lookup(oracle_t *o, const char *s, size_t len)
{
    static char state[4096]; /* unused by this look-up type; large enough for the struct */
    return o->lookup_word(state, 1, s, len);
}

static void oracle_close(oracle_t *o)
{
    free(o->buf);
    if (o->handle)
        dlclose(o->handle);
    memset(o, 0, sizeof *o);
}

#endif
