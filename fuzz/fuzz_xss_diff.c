/*
 * Differential libFuzzer target for @detectXSS (rules/operators/xss.c): every input must get
 * the same answer from our detector and from the reference, libinjection 3.9.2 inside Debian's
 * mod_security2.so (tests/oracle/; fuzz/run.sh links targets with -rdynamic so the module
 * loads). A disagreement aborts with both answers, and so does a value the reference calls
 * XSS that holds neither '<' nor '=' (the needs the rule index skips values by).
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
        fprintf(stderr, "fuzz_xss_diff: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    int o = oracle_xss(&oracle, s, size);
    bool p = pp_xss_detect((pp_str_t){ s, size });
    if ((o != 0) != p)
        fprintf(stderr, "reference %d, ours %d\n", o, p);
    CHECK((o != 0) == p);
    /* @detectXSS's needs (xss.c pp_op_xss_parse): an XSS value holds a '<' or a '='. */
    CHECK(!o || memchr(s, '<', size) || memchr(s, '=', size));
    return 0;
}
