/*
 * Regular-expression operators. Patterns compile once into the configuration pool with JIT;
 * matching uses the transaction's match data. A resource limit hit is returned as an error so
 * the evaluator can fail closed.
 */
#include "rules/operators/operators.h"

static const char *compile(apr_pool_t *cp, const char *arg, unsigned flags, void **compiled)
{
    const char *err;
    pp_regex_t *re = pp_regex_compile(cp, arg, flags, &err);
    if (!re)
        return err;
    *compiled = re;
    return NULL;
}

/* ModSecurity 2 compiles with PCRE_DOTALL | PCRE_DOLLAR_ENDONLY (reference §8.2): '.' matches
 * a newline, '$' only the very end. */
const char *pp_op_rx_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    return compile(cp, arg, PP_RX_DOTALL, compiled);
}

const char *pp_op_rx19_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    return compile(cp, arg, PP_RX_ICASE, compiled);
}

/* A pattern holding "%{" is expanded at run time, and then ModSecurity 2.9.7 escapes the whole
 * expansion (its log_escape_re, the template's own text included) before compiling it: a
 * backslash before : " + . ] [ ( ) ? / and \, the control bytes \b \n \r \t \v as those
 * two-character escapes (so a backspace becomes the word boundary \b), other bytes below 0x20
 * or from 0x7f as \xHH; | ^ $ * { } stay as they are. The expansion ends at its first NUL. */
const char *pp_op_rx_expand(apr_pool_t *p, pp_str_t x)
{
    static const char special[] = ":\"+.][()?/\\";
    apr_size_t n = strnlen(x.data, x.len);
    char *out = apr_palloc(p, n * 4 + 1), *w = out;
    for (apr_size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)x.data[i];
        const char *named = c == '\b' ? "b" : c == '\n' ? "n" : c == '\r' ? "r"
                          : c == '\t' ? "t" : c == '\v' ? "v" : NULL;
        if (named) {
            *w++ = '\\';
            *w++ = *named;
        } else if (c && strchr(special, c)) {
            *w++ = '\\';
            *w++ = (char)c;
        } else if (c <= 0x1f || c >= 0x7f) {
            static const char hex[] = "0123456789abcdef";
            *w++ = '\\';
            *w++ = 'x';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        } else {
            *w++ = (char)c;
        }
    }
    *w = '\0';
    return out;
}

const pp_rx_needs_t *pp_op_rx_needs(const void *compiled)
{
    return pp_regex_needs(compiled);
}

bool pp_op_rx_exact(const void *compiled)
{
    return pp_regex_exact(compiled);
}

apr_status_t pp_op_rx_exec(pp_tx_t *tx, const void *compiled, pp_str_t value, bool *match,
                           pp_op_out_t *out)
{
    /* The whole match is the matched data; the groups only when the rule keeps them. */
    apr_status_t rv = pp_regex_exec_captures(compiled, tx->rx, value, match, out->captures,
                                             out->want_captures ? PP_OP_CAPTURES : 1,
                                             &out->ncaptures);
    if (*match) {
        out->data = out->ncaptures ? out->captures[0] : value;
        if (!out->want_captures)
            out->ncaptures = 0;
    }
    return rv;
}
