/*
 * Sanitizer support for fuzz targets and the sanitizer unit-test build (not part of the
 * engine). APR pools hand out memory carved from large blocks, so AddressSanitizer only sees
 * an overflow when it leaves the whole block: reading one byte past a 10-byte string in a pool
 * goes unnoticed. Linking this file into a sanitized binary replaces apr_palloc (and so the
 * apr_pcalloc macro, and apr_pstrdup & co., which call apr_palloc through the PLT) with one
 * malloc per allocation, each with exact ASan bounds.
 *
 * Lifetime stays the pool's. The blocks of a pool are recorded in a list whose cleanup is the
 * first one registered on the pool (when the pool is created or cleared), so it runs after
 * every other cleanup; even then the blocks are freed only when the outermost
 * apr_pool_destroy / apr_pool_clear of the thread returns, because APR reaps the pool's
 * subprocesses (apr_pool_note_subprocess) after the cleanups, reading pool memory. Engine
 * cleanups thus read pool memory exactly as with real pools. A pool created where this file
 * cannot see it (inside libapr) registers its list at its first allocation. Pools are used by
 * one thread at a time (APR's rule); the list of all live lists is locked, since tests
 * allocate from several threads.
 *
 * A released block is free()d, so AddressSanitizer reports a read of it in instrumented code
 * (and in the libc functions it intercepts: strlen, printf, fopen, ...) as a use after free.
 * Two ways around that are closed here too:
 * - apr_pvsprintf (and apr_psprintf) write into the pool's own blocks, not through
 *   apr_palloc: their result is copied into a guarded block, so it dies with the pool as the
 *   rest does (apr_pvsprintf's own copy stays in the pool, unused).
 * - The path functions that AddressSanitizer does not intercept (unlink, rmdir, mkdir,
 *   rename, open, openat, stat, lstat, access, chmod, remove, truncate) pass their path to the
 *   kernel unread, so a freed path went unreported and the call just got the bytes the
 *   allocator left there (test_collect removed its temp files through paths in a destroyed
 *   pool, and quietly removed nothing). Their wrappers here read the path first.
 *
 * Set PP_POOL_GUARD=0 in the environment to fall back to real pools (e.g. to compare speed).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <apr_pools.h>
#include <apr_strings.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef void *(*palloc_fn)(apr_pool_t *, apr_size_t);
typedef apr_status_t (*create_fn)(apr_pool_t **, apr_pool_t *, apr_abortfunc_t,
                                  apr_allocator_t *);
typedef void (*teardown_fn)(apr_pool_t *);
typedef char *(*pvsprintf_fn)(apr_pool_t *, const char *, va_list);

typedef struct guard_t {
    void **blocks;
    size_t n, cap;
    apr_pool_t *pool;
    struct guard_t *prev, *next;
} guard_t;

static const char GUARD_KEY[] = "pp-fuzz-pool-guard";
static palloc_fn real_palloc;
static create_fn real_create;
static teardown_fn real_clear, real_destroy;
static pvsprintf_fn real_pvsprintf;
static int enabled = -1;
/* Live lists in a global, released ones in the releasing thread's list until its teardown
 * ends: both places LeakSanitizer scans (APR may take pool memory from mmap, which it does
 * not scan, so blocks known only to the pool would look leaked). */
static guard_t *live;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread guard_t *released;
static __thread int inside;    /* re-entry from the APR calls made here */
static __thread int tearing;   /* apr_pool_destroy / apr_pool_clear calls in progress */

static void resolve(void)
{
    if (enabled >= 0)
        return;
    real_palloc = (palloc_fn)dlsym(RTLD_NEXT, "apr_palloc");
    real_create = (create_fn)dlsym(RTLD_NEXT, "apr_pool_create_ex");
    real_clear = (teardown_fn)dlsym(RTLD_NEXT, "apr_pool_clear");
    real_destroy = (teardown_fn)dlsym(RTLD_NEXT, "apr_pool_destroy");
    real_pvsprintf = (pvsprintf_fn)dlsym(RTLD_NEXT, "apr_pvsprintf");
    if (!real_palloc || !real_create || !real_clear || !real_destroy || !real_pvsprintf) {
        fprintf(stderr, "pool_guard: cannot find the APR pool functions\n");
        abort();
    }
    const char *env = getenv("PP_POOL_GUARD");
    enabled = !(env && strcmp(env, "0") == 0);
}

static apr_status_t release(void *data)
{
    guard_t *g = data;
    /* Later cleanups of a lazily attached pool may still allocate: they get a new list. */
    inside++;
    apr_pool_userdata_setn(NULL, GUARD_KEY, NULL, g->pool);
    inside--;
    pthread_mutex_lock(&live_lock);
    if (g->prev)
        g->prev->next = g->next;
    else
        live = g->next;
    if (g->next)
        g->next->prev = g->prev;
    pthread_mutex_unlock(&live_lock);
    g->prev = NULL;
    g->next = released;
    released = g;
    return APR_SUCCESS;
}

static void free_released(void)
{
    while (released) {
        guard_t *g = released;
        released = g->next;
        for (size_t i = 0; i < g->n; i++)
            free(g->blocks[i]);
        free(g->blocks);
        free(g);
    }
}

/* Registers an empty block list on p; called with `inside` set. */
static guard_t *attach(apr_pool_t *p)
{
    guard_t *g = calloc(1, sizeof *g);
    if (!g)
        abort();
    g->pool = p;
    apr_pool_cleanup_register(p, g, release, apr_pool_cleanup_null);
    apr_pool_userdata_setn(g, GUARD_KEY, NULL, p);
    pthread_mutex_lock(&live_lock);
    g->next = live;
    if (live)
        live->prev = g;
    live = g;
    pthread_mutex_unlock(&live_lock);
    return g;
}

void *apr_palloc(apr_pool_t *p, apr_size_t size)
{
    resolve();
    if (!enabled || inside)
        return real_palloc(p, size);
    inside++;
    void *found = NULL;
    apr_pool_userdata_get(&found, GUARD_KEY, p);
    guard_t *g = found ? found : attach(p);
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 16;
        void **b = realloc(g->blocks, cap * sizeof *b);
        if (!b)
            abort();
        g->blocks = b;
        g->cap = cap;
    }
    void *block = malloc(size);
    if (!block)
        abort();
    g->blocks[g->n++] = block;
    inside--;
    return block;
}

apr_status_t apr_pool_create_ex(apr_pool_t **newpool, apr_pool_t *parent, apr_abortfunc_t abort_fn,
                                apr_allocator_t *allocator)
{
    resolve();
    apr_status_t rv = real_create(newpool, parent, abort_fn, allocator);
    if (rv == APR_SUCCESS && enabled && !inside) {
        inside++;
        attach(*newpool);
        inside--;
    }
    return rv;
}

void apr_pool_clear(apr_pool_t *p)
{
    resolve();
    tearing++;
    real_clear(p);
    if (--tearing == 0)
        free_released();
    if (enabled && !inside) {
        inside++;
        attach(p);
        inside--;
    }
}

void apr_pool_destroy(apr_pool_t *p)
{
    resolve();
    tearing++;
    real_destroy(p);
    if (--tearing == 0)
        free_released();
}

char *apr_pvsprintf(apr_pool_t *p, const char *fmt, va_list ap)
{
    resolve();
    char *s = real_pvsprintf(p, fmt, ap);
    if (!enabled || inside || !s)
        return s;
    size_t n = strlen(s) + 1;
    return memcpy(apr_palloc(p, n), s, n);
}

char *apr_psprintf(apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- Paths the kernel reads ------------------------------------------------------------ */

/* Reads path in instrumented code, so a freed (or overrun) one is reported here. */
static void read_path(const char *path)
{
    if (path)
        for (const volatile char *c = path; *c; c++)
            ;
}

/* The next definition of name (libc's), looked up once; a racing first call stores the same
 * pointer. */
#define REAL(name)                                                                             \
    static __typeof__(name) *real_##name;                                                      \
    __typeof__(name) *fn_##name = __atomic_load_n(&real_##name, __ATOMIC_RELAXED);            \
    if (!fn_##name) {                                                                          \
        fn_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);                               \
        if (!fn_##name)                                                                        \
            abort();                                                                           \
        __atomic_store_n(&real_##name, fn_##name, __ATOMIC_RELAXED);                           \
    }

/* name(params), which passes path to the kernel: path read first. */
#define PATH_WRAPPER(name, params, path, args)                                                 \
    int name params                                                                            \
    {                                                                                          \
        REAL(name);                                                                            \
        read_path(path);                                                                       \
        return fn_##name args;                                                                 \
    }

PATH_WRAPPER(unlink, (const char *path), path, (path))
PATH_WRAPPER(rmdir, (const char *path), path, (path))
PATH_WRAPPER(remove, (const char *path), path, (path))
PATH_WRAPPER(mkdir, (const char *path, mode_t mode), path, (path, mode))
PATH_WRAPPER(chmod, (const char *path, mode_t mode), path, (path, mode))
PATH_WRAPPER(access, (const char *path, int mode), path, (path, mode))
PATH_WRAPPER(truncate, (const char *path, off_t len), path, (path, len))
PATH_WRAPPER(stat, (const char *restrict path, struct stat *restrict st), path, (path, st))
PATH_WRAPPER(lstat, (const char *restrict path, struct stat *restrict st), path, (path, st))

int rename(const char *from, const char *to)
{
    REAL(rename);
    read_path(from);
    read_path(to);
    return fn_rename(from, to);
}

/* The mode is read only with O_CREAT or O_TMPFILE (open(2)). */
static mode_t open_mode(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    REAL(open);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = open_mode(flags, ap);
    va_end(ap);
    read_path(path);
    return fn_open(path, flags, mode);
}

int openat(int dir, const char *path, int flags, ...)
{
    REAL(openat);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = open_mode(flags, ap);
    va_end(ap);
    read_path(path);
    return fn_openat(dir, path, flags, mode);
}
