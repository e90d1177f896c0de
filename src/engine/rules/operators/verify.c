/*
 * @verifyCC, @verifyCPF, @verifySSN as ModSecurity 2.9.7 runs them (re_operators.c): the
 * argument is a regex (compiled with DOTALL and MULTILINE); each candidate match is checked
 * (Luhn, the Brazilian CPF check digits, the US SSN rules) and, when it fails, the search
 * starts again one byte after the candidate's start. The first candidate that passes is the
 * match; with capture every TX:n the regex set (the match and its groups) holds the whole
 * candidate, as ModSecurity keeps it.
 */
#include "rules/operators/operators.h"

#include <apr_lib.h>

const char *pp_op_verify_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    const char *err;
    pp_regex_t *re = pp_regex_compile(cp, arg, PP_RX_DOTALL | PP_RX_MULTILINE, &err);
    if (!re)
        return err;
    *compiled = re;
    return NULL;
}

/* Luhn over the digits of s, whatever separates them; no digit: not a number. */
static bool luhn_ok(pp_str_t s)
{
    static const int doubled[10] = { 0, 2, 4, 6, 8, 1, 3, 5, 7, 9 };
    int sum[2] = { 0, 0 }, odd = 0, digits = 0;
    for (apr_size_t i = 0; i < s.len; i++) {
        if (!apr_isdigit(s.data[i]))
            continue;
        int d = s.data[i] - '0';
        sum[0] += odd ? d : doubled[d];
        sum[1] += odd ? doubled[d] : d;
        odd = 1 - odd;
        digits++;
    }
    return digits > 0 && sum[odd] % 10 == 0;
}

/* The first 11 digits (up to a NUL) are a CPF: not all alike nor 01234567890, and both check
 * digits right. */
static bool cpf_ok(pp_str_t s)
{
    int d[11];
    unsigned n = 0;
    for (apr_size_t i = 0; i < s.len && s.data[i] != '\0'; i++)
        if (n < 11 && apr_isdigit(s.data[i]))
            d[n++] = s.data[i] - '0';
    if (n != 11)
        return false;
    bool alike = true;
    for (unsigned i = 1; i < 11; i++)
        alike = alike && d[i] == d[0];
    static const int seq[11] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0 };
    bool sequence = memcmp(d, seq, sizeof d) == 0;
    if (alike || sequence)
        return false;
    int check[11];
    memcpy(check, d, sizeof check);
    unsigned sum = 0;
    for (unsigned i = 0; i < 9; i++)
        sum += (unsigned)check[i] * (10 - i);
    int f = (int)(sum % 11);
    check[9] = f < 2 ? 0 : 11 - f;
    sum = 0;
    for (unsigned i = 0; i < 10; i++)
        sum += (unsigned)check[i] * (11 - i);
    f = (int)(sum % 11);
    check[10] = f < 2 ? 0 : 11 - f;
    return d[9] == check[9] && d[10] == check[10];
}

/* Exactly nine digits, not all alike nor all ascending by one, no zero area (3), group (2) or
 * serial (4), area below 740 and not 666. */
static bool ssn_ok(pp_str_t s)
{
    int d[9];
    unsigned n = 0;
    for (apr_size_t i = 0; i < s.len; i++)
        if (apr_isdigit(s.data[i])) {
            if (n < 9)
                d[n] = s.data[i] - '0';
            n++;
        }
    if (n != 9)
        return false;
    int ascending = 0, repeated = 0;
    for (unsigned i = 0; i < 8; i++) {
        ascending += d[i] == d[i + 1] - 1;
        repeated += d[i] == d[i + 1];
    }
    if (ascending == 8 || repeated == 8)
        return false;
    int area = d[0] * 100 + d[1] * 10 + d[2], group = d[3] * 10 + d[4];
    int serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8];
    return area != 0 && group != 0 && serial != 0 && area < 740 && area != 666;
}

static apr_status_t verify(pp_tx_t *tx, const void *compiled, pp_str_t value, bool *match,
                           pp_op_out_t *out, bool (*ok)(pp_str_t))
{
    *match = false;
    for (apr_size_t at = 0; at < value.len; at++) {
        pp_str_t cand;
        unsigned groups;
        bool hit;
        apr_status_t rv = pp_regex_exec_from(compiled, tx->rx, value, at, &hit, &cand, &groups);
        if (rv != APR_SUCCESS)
            return rv; /* a resource limit: undecided, the loop fails closed */
        if (!hit)
            return APR_SUCCESS;
        at = (apr_size_t)(cand.data - value.data);
        if (!ok(cand))
            continue;
        *match = true;
        out->data = cand;
        if (out->want_captures) {
            out->ncaptures = groups > PP_OP_CAPTURES ? PP_OP_CAPTURES : groups;
            for (unsigned i = 0; i < out->ncaptures; i++)
                out->captures[i] = cand;
        }
        return APR_SUCCESS;
    }
    return APR_SUCCESS;
}

PP_OP_EXEC(pp_op_verifycc_exec)
{
    return verify(tx, compiled, value, match, out, luhn_ok);
}

PP_OP_EXEC(pp_op_verifycpf_exec)
{
    return verify(tx, compiled, value, match, out, cpf_ok);
}

PP_OP_EXEC(pp_op_verifyssn_exec)
{
    return verify(tx, compiled, value, match, out, ssn_ok);
}

/* "CC# match "PATTERN" at VAR. [offset "N"]" with N where the candidate starts. */
static const char *verify_words(apr_pool_t *p, const char *kind, const void *compiled,
                                pp_str_t value, const pp_op_out_t *out, const char *var)
{
    long offset = out->data.data >= value.data && out->data.data <= value.data + value.len
                      ? (long)(out->data.data - value.data) : 0;
    return apr_psprintf(p, "%s# match \"%s\" at %s. [offset \"%ld\"]", kind,
                        pp_regex_pattern(compiled), var, offset);
}

PP_OP_WORDS(pp_op_verifycc_words)
{
    return verify_words(p, "CC", compiled, value, out, var);
}

PP_OP_WORDS(pp_op_verifycpf_words)
{
    return verify_words(p, "CPF", compiled, value, out, var);
}

PP_OP_WORDS(pp_op_verifyssn_words)
{
    return verify_words(p, "SSN", compiled, value, out, var);
}
