/*
 * JSON body processor: YAJL callbacks building ModSecurity 2.9.7's argument names (see json.h).
 * The prefix/key bookkeeping follows msc_json.c of 2.9.7 step for step, including its way of
 * finding the enclosing key again at the end of an object or array (the text after the
 * prefix's last '.'), so keys that contain dots give the names ModSecurity gives.
 */
#include "body/json.h"

#include <apr_strings.h>
#include <yajl/yajl_parse.h>

struct pp_json_t {
    apr_pool_t *pool;
    yajl_handle h;
    int depth, max_depth;
    bool depth_exceeded;
    const char *prefix; /* NULL: top level */
    const char *key;    /* NULL: no key yet */
    pp_json_arg_fn arg;
    void *ctx;
    apr_status_t cb_status; /* a callback's refusal */
    const char *error;
};

static int add(pp_json_t *j, const char *value, apr_size_t len)
{
    /* ModSecurity: a scalar with neither key nor prefix (a bare top-level value) is no
     * argument. */
    if (!j->key && !j->prefix)
        return 1;
    const char *name = j->prefix ? apr_pstrcat(j->pool, j->prefix, ".", j->key ? j->key : "",
                                               NULL)
                                 : j->key;
    pp_str_t v = { apr_pstrmemdup(j->pool, value, len), len };
    apr_status_t rv = j->arg(j->ctx, pp_str_from_cstr(name), v);
    if (rv != APR_SUCCESS) {
        j->cb_status = rv;
        return 0;
    }
    return 1;
}

static int on_null(void *ctx) { return add(ctx, "", 0); }
static int on_bool(void *ctx, int b) { return b ? add(ctx, "true", 4) : add(ctx, "false", 5); }
static int on_number(void *ctx, const char *s, size_t len) { return add(ctx, s, len); }
static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    return add(ctx, (const char *)s, len);
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
    pp_json_t *j = ctx;
    j->key = apr_pstrmemdup(j->pool, (const char *)s, len);
    return 1;
}

static int deeper(pp_json_t *j)
{
    if (++j->depth > j->max_depth) {
        j->depth_exceeded = true;
        return 0;
    }
    return 1;
}

static void enter(pp_json_t *j)
{
    j->prefix = j->prefix ? apr_pstrcat(j->pool, j->prefix, ".", j->key, NULL) : j->key;
}

static int on_start_map(void *ctx)
{
    pp_json_t *j = ctx;
    if (j->key)
        enter(j);
    return deeper(j);
}

static int on_start_array(void *ctx)
{
    pp_json_t *j = ctx;
    if (!j->key && !j->prefix)
        j->prefix = j->key = "array";
    else if (j->key)
        enter(j);
    return deeper(j);
}

/* Back to the enclosing level: its key is the prefix's last component. */
static void leave(pp_json_t *j)
{
    const char *dot = strrchr(j->prefix, '.');
    if (dot) {
        j->key = apr_pstrdup(j->pool, dot + 1);
        j->prefix = apr_pstrmemdup(j->pool, j->prefix, (apr_size_t)(dot - j->prefix));
    } else {
        j->key = j->prefix;
        j->prefix = NULL;
    }
}

static int on_end_map(void *ctx)
{
    pp_json_t *j = ctx;
    if (!j->prefix)
        return 1; /* 2.9.7 leaves the depth alone here */
    leave(j);
    j->depth--;
    return 1;
}

static int on_end_array(void *ctx)
{
    pp_json_t *j = ctx;
    if (j->prefix)
        leave(j);
    j->depth--;
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null, on_bool, NULL, NULL, on_number, on_string,
    on_start_map, on_key, on_end_map, on_start_array, on_end_array,
};

static apr_status_t free_handle(void *data)
{
    yajl_free(data);
    return APR_SUCCESS;
}

pp_json_t *pp_json_create(apr_pool_t *p, int depth, pp_json_arg_fn arg, void *ctx)
{
    pp_json_t *j = apr_pcalloc(p, sizeof *j);
    j->pool = p;
    j->max_depth = depth;
    j->arg = arg;
    j->ctx = ctx;
    j->h = yajl_alloc(&callbacks, NULL, j);
    if (!j->h)
        return NULL;
    apr_pool_cleanup_register(p, j->h, free_handle, apr_pool_cleanup_null);
    return j;
}

static apr_status_t failed(pp_json_t *j, const unsigned char *data, size_t len)
{
    if (j->cb_status != APR_SUCCESS)
        return j->cb_status;
    if (j->depth_exceeded) {
        j->error = "JSON depth limit exceeded";
    } else {
        unsigned char *e = yajl_get_error(j->h, 0, data, len);
        j->error = apr_pstrdup(j->pool, e ? (const char *)e : "parse error");
        yajl_free_error(j->h, e);
    }
    return APR_EGENERAL;
}

apr_status_t pp_json_feed(pp_json_t *j, const char *data, apr_size_t len)
{
    if (j->error || j->cb_status != APR_SUCCESS)
        return j->cb_status != APR_SUCCESS ? j->cb_status : APR_EGENERAL;
    if (yajl_parse(j->h, (const unsigned char *)data, len) != yajl_status_ok)
        return failed(j, (const unsigned char *)data, len);
    return APR_SUCCESS;
}

apr_status_t pp_json_finish(pp_json_t *j)
{
    if (j->error || j->cb_status != APR_SUCCESS)
        return j->cb_status != APR_SUCCESS ? j->cb_status : APR_EGENERAL;
    if (yajl_complete_parse(j->h) != yajl_status_ok)
        return failed(j, NULL, 0);
    return APR_SUCCESS;
}

const char *pp_json_error(const pp_json_t *j)
{
    return j->error;
}
