/*
 * libFuzzer target for the literal prefilter (util/rx_literals.c). Input: first byte = length
 * of the pattern, then the pattern, then the subject. For every pattern PCRE2 accepts, the
 * derivation must never claim a literal a match can lack: whenever the regex matches the
 * subject, the derived needs are met, with and without the subject's sketch, and a union of
 * the needs reports the member as possible. A crash or abort is a finding.
 */
#include <apr_general.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "fuzz.h"

static apr_pool_t *root, *scratch;
static pp_rx_state_t *rx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_pools_init(&root, &scratch);
    rx = pp_rx_state_create(root);
    return 0;
}

static void check(const char *pattern, unsigned flags, pp_str_t subject)
{
    const char *err = NULL;
    pp_regex_t *re = pp_regex_compile(scratch, pattern, flags, &err);
    if (!re)
        return;
    const pp_rx_needs_t *needs = pp_regex_needs(re);
    bool m = false;
    if (!needs || pp_regex_exec(re, rx, subject, &m) != APR_SUCCESS || !m)
        return;
    pp_sketch_t *sk = pp_sketch_build(scratch, subject);
    CHECK(pp_rx_needs_met(needs, subject, sk));
    CHECK(pp_rx_needs_met(needs, subject, NULL));
    const pp_rx_needs_t *parts[2] = { needs, needs };
    const pp_rx_needs_t *u = pp_rx_needs_union(scratch, parts, 2);
    CHECK(u && (pp_rx_needs_members(u, subject, sk) & 3) == 3);
    CHECK((pp_rx_needs_members(u, subject, NULL) & 3) == 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t plen = data[0];
    if (plen > size - 1)
        plen = size - 1;
    if (memchr(data + 1, '\0', plen))
        return 0;
    char *pattern = apr_pstrmemdup(scratch, (const char *)data + 1, plen);
    pp_str_t subject = { (const char *)data + 1 + plen, size - 1 - plen };
    check(pattern, PP_RX_ICASE, subject);
    check(pattern, 0, subject);
    apr_pool_clear(scratch);
    return 0;
}
