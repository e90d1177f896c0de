/*
 * Path normalisation transformations: self-references "/./" and repeated slashes, the two
 * path steps of the 1.9 normaliser (reference §5.1), available on their own for rules that
 * ask for them. Applied by the rules' evaluation loop to a target value before the operator.
 * "/../" is deliberately left in place: 1.x rule sets match "../" themselves, and resolving
 * it would hide a traversal attempt (§5.1). No URL decoding happens here (url.c does it; its
 * pp_tfn_normalise19 runs these steps after decoding in the same pass).
 */
#include "rules/transforms/transforms.h"

#include <string.h>

static char path_byte(char c, bool win)
{
    return (win && c == '\\') ? '/' : c;
}

/* Whether normalising changes anything: a '\' on Windows, or a '/' that ends "//" or "/./"
 * in the (backslash-converted) input. */
static bool path_needs_work(pp_str_t in, bool win)
{
    for (apr_size_t i = 0; i < in.len; i++) {
        if (win && in.data[i] == '\\')
            return true;
        if (in.data[i] != '/' || i == 0)
            continue;
        char prev = path_byte(in.data[i - 1], win);
        if (prev == '/' || (prev == '.' && i > 1 && path_byte(in.data[i - 2], win) == '/'))
            return true;
    }
    return false;
}

/* Each '/' is checked against the output written so far, so removals that expose a new
 * "//" or "/./" ("/.//", "/././") are handled in the same pass. */
static apr_size_t path_write(char *buf, pp_str_t in, bool win)
{
    apr_size_t o = 0;
    for (apr_size_t i = 0; i < in.len; i++) {
        char c = path_byte(in.data[i], win);
        if (c == '/' && o > 0 && buf[o - 1] == '/')
            continue;
        if (c == '/' && o > 1 && buf[o - 1] == '.' && buf[o - 2] == '/') {
            o--;
            continue;
        }
        buf[o++] = c;
    }
    return o;
}

static apr_status_t normalise(apr_pool_t *scratch, pp_str_t in, bool win, pp_str_t *out)
{
    if (!path_needs_work(in, win)) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len);
    *out = (pp_str_t){ buf, path_write(buf, in, win) };
    return APR_SUCCESS;
}

apr_status_t pp_tfn_normalise_path(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return normalise(scratch, in, false, out);
}

apr_status_t pp_tfn_normalise_path_win(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    return normalise(scratch, in, true, out);
}
