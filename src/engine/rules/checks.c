/*
 * Implicit validation (reference §5.2), run before the inbound rules: URL encoding, UTF-8,
 * byte range and cookie format. A failed check runs the context's default action, like a rule
 * with no actions of its own. The raw multipart body is exempt from the byte range (binary
 * files would fail), the fields extracted from it are not.
 */
#include "rules/operators/validate.h"
#include "tx.h"

#include <apr_lib.h>

static void fail(pp_tx_t *tx, const char *what)
{
    pp_tx_raise(tx, pp_cfg_default_action(tx->cfg), PP_PHASE_REQUEST_BODY, NULL, what);
}

static bool check_url_encoding(pp_tx_t *tx)
{
    apr_size_t off;
    if (!pp_validate_url_encoding(tx->uri, &off) ||
        !pp_validate_url_encoding(tx->urlencoded_body, &off)) {
        fail(tx, "Invalid URL encoding detected.");
        return false;
    }
    return true;
}

typedef bool (*value_check_fn)(pp_tx_t *tx, pp_str_t v, const char *where);

static bool utf8_ok(pp_tx_t *tx, pp_str_t v, const char *where)
{
    const char *why;
    apr_size_t off;
    if (pp_validate_utf8(v, &why, &off))
        return true;
    fail(tx, apr_psprintf(tx->pool, "Invalid Unicode encoding: %s at %s.", why, where));
    return false;
}

static bool range_ok(pp_tx_t *tx, pp_str_t v, const char *where)
{
    int bad;
    int min = pp_cfg_int(tx->cfg->byte_min, 0), max = pp_cfg_int(tx->cfg->byte_max, 255);
    if (pp_validate_byte_range(v, min, max, &bad))
        return true;
    fail(tx, apr_psprintf(tx->pool, "Invalid character detected [%d] at %s.", bad, where));
    return false;
}

static bool fields_ok(pp_tx_t *tx, const apr_array_header_t *a, const char *where,
                      value_check_fn check)
{
    for (int i = 0; i < a->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(a, i, pp_field_t);
        if (!check(tx, f->name, where) || !check(tx, f->value, where))
            return false;
    }
    return true;
}

/* The decoded data the application will see: the path, the arguments and the cookies, plus
 * headers and a non-form body for the byte range. */
static bool decoded_ok(pp_tx_t *tx, value_check_fn check, bool raw_too)
{
    if (!check(tx, tx->path, "REQUEST_URI") || !fields_ok(tx, tx->args, "ARGS", check) ||
        !fields_ok(tx, tx->cookies, "COOKIES", check))
        return false;
    if (!raw_too)
        return true;
    if (!fields_ok(tx, tx->headers, "HEADERS", check))
        return false;
    /* A raw PUT body is an uploaded file, exempt like multipart files. */
    if ((tx->body_kind == PP_BODY_RAW && !tx->put_file) || tx->body_kind == PP_BODY_URLENCODED)
        return check(tx, tx->request_body, "POST_PAYLOAD");
    return true;
}

/* More arguments than SecArgumentsLimit: refused before any rule runs on them, as ModSecurity 2
 * does, so the rules' work per request is bounded by the limit times the rules (attack run D8:
 * 42,117 values cost 47 s of regex). A body processor may refuse earlier (dispatch.c). */
bool pp_args_over_limit(pp_tx_t *tx, pp_phase_t phase)
{
    int limit = pp_cfg_int(tx->cfg->arguments_limit, PP_DEFAULT_ARGUMENTS_LIMIT);
    if (tx->args->nelts <= limit)
        return false;
    pp_tx_fail(tx, 400, phase,
               apr_psprintf(tx->pool, "Request has %d arguments, more than SecArgumentsLimit %d.",
                            tx->args->nelts, limit));
    return true;
}

apr_status_t pp_eval_implicit_checks(pp_tx_t *tx)
{
    const pp_cfg_t *c = tx->cfg;
    if (pp_args_over_limit(tx, PP_PHASE_REQUEST_BODY))
        return APR_SUCCESS;
    if (pp_cfg_int(c->check_url_encoding, 0) == 1 && !check_url_encoding(tx))
        return APR_SUCCESS;
    if (pp_cfg_int(c->check_unicode, 0) == 1 && !decoded_ok(tx, utf8_ok, false))
        return APR_SUCCESS;
    bool range_set = c->byte_min != PP_UNSET && (c->byte_min > 0 || c->byte_max < 255);
    if (range_set && !decoded_ok(tx, range_ok, true))
        return APR_SUCCESS;
    if (pp_cfg_int(c->check_cookie_format, 0) == 1 && tx->cookies_malformed)
        fail(tx, "Invalid cookie format.");
    return APR_SUCCESS;
}
