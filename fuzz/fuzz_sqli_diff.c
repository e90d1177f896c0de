/*
 * Differential libFuzzer target for @detectSQLi (rules/operators/sqli.c, sqli_fold.c): every
 * input must get the same answer and the same fingerprint from our detector and from the
 * reference, libinjection 3.9.2 inside Debian's mod_security2.so (tests/oracle/; fuzz/run.sh
 * links targets with -rdynamic so the module loads). A disagreement aborts with both answers.
 */
#include <stdint.h>
#include <string.h>

#include "rules/operators/operators.h"
#include "../tests/oracle/libinjection_oracle.h"
#include "fuzz.h"

static oracle_t oracle;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *err = oracle_open(&oracle);
    if (err) {
        fprintf(stderr, "fuzz_sqli_diff: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char ofp[8], pfp[PP_SQLI_FINGERPRINT_SIZE];
    int o = oracle_sqli(&oracle, s, size, ofp);
    bool p = pp_sqli_detect((pp_str_t){ s, size }, pfp);
    if ((o != 0) != p || (o && strcmp(ofp, pfp) != 0))
        fprintf(stderr, "reference %d '%s', ours %d '%s'\n", o, o ? ofp : "", p, pfp);
    CHECK((o != 0) == p);
    CHECK(!p || strcmp(ofp, pfp) == 0);
    CHECK(p || pfp[0] == '\0');
    return 0;
}
