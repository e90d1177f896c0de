/*
 * Random identifiers: the engine-made unique id of a transaction (when the host has none) and
 * the boundaries of audit records. They come from the system's generator
 * (apr_generate_random_bytes). Should it fail (no /dev/urandom in a chroot, getrandom denied by
 * a seccomp policy), an id must still differ between transactions: all zeros (review L2) made
 * upload and concurrent-audit file names collide, and their O_EXCL creates fail. The fallback
 * mixes the real-time and monotonic clocks in nanoseconds, the process and thread ids and a
 * salt the caller chooses among live objects (the transaction pool): no two transactions alive
 * at once share the salt, and the clocks separate those that follow each other. It is not
 * unpredictable, so callers report the fallback. No state is kept (no mutable globals).
 */
#include "util/util.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts = { 0, 0 };
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fallback(unsigned char *buf, apr_size_t n, const void *salt)
{
    uint64_t seed = mix64(clock_ns(CLOCK_REALTIME)) ^ mix64(clock_ns(CLOCK_MONOTONIC) + 1) ^
                    mix64(((uint64_t)getpid() << 32) + 2) ^ mix64((uint64_t)pthread_self() + 3) ^
                    mix64((uint64_t)(uintptr_t)salt + 4);
    for (apr_size_t i = 0; i < n; i += 8) {
        seed += 0x9e3779b97f4a7c15ull;
        uint64_t z = mix64(seed);
        for (apr_size_t k = 0; k < 8 && i + k < n; k++)
            buf[i + k] = (unsigned char)(z >> (8 * k));
    }
}

bool pp_random_bytes_from(pp_random_source_fn source, unsigned char *buf, apr_size_t n,
                          const void *salt)
{
    if ((source ? source : apr_generate_random_bytes)(buf, n) == APR_SUCCESS)
        return true;
    fallback(buf, n, salt);
    return false;
}

bool pp_random_bytes(unsigned char *buf, apr_size_t n, const void *salt)
{
    return pp_random_bytes_from(NULL, buf, n, salt);
}

bool pp_random_hex_from(pp_random_source_fn source, char *out, apr_size_t nbytes,
                        const void *salt)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[64];
    if (nbytes > sizeof rnd)
        nbytes = sizeof rnd;
    bool ok = pp_random_bytes_from(source, rnd, nbytes, salt);
    for (apr_size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[rnd[i] >> 4];
        out[2 * i + 1] = hex[rnd[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return ok;
}
