/*
 * The Redis store (hiredis, synchronous with timeouts). A record is one hash,
 * "<prefix><NAME>:<key>", with exactly the fields the embedded store keeps (store.h), and a Redis
 * TTL of TIMEOUT + 1 s set at each write (relative, so the Redis host's clock does not matter):
 * Redis itself bounds the memory. A load is one pipelined HGETALL per collection (one round trip for all of a request's collections); the
 * write-back is one EVALSHA per dirty record, pipelined, running WRITE_LUA: the same merge as
 * store.c pp_store_merge, done on the server so concurrent writers from any number of servers
 * serialise there and =+1 loses nothing.
 *
 * Connections: a mutex-guarded free list; a thread takes one for the duration of a load or a
 * commit and gives it back (mpm_event threads never share a context). A connection that timed
 * out or failed is freed, never reused (its reply stream is out of step). Outage: the first
 * failure logs one line and starts a back-off (100 ms doubling to 5 s); until it passes, loads
 * and commits fail at once without touching the network; the first success after it logs one
 * line. Time is the caller's request time, so servers should agree on the clock (NTP).
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_sha1.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <hiredis/hiredis.h>

/* ARGV: now, timeout, the record's KEY, its __name, then per change (kind, field, value, delta):
 * 's' set, 'u' unset, 'a' add delta to the stored value (floor 0), or take value when none is
 * stored. Field names compare case-insensitively and take the request's spelling. */
static const char WRITE_LUA[] =
    "local now = tonumber(ARGV[1])\n"
    "local k = KEYS[1]\n"
    "local names, vals, idx = {}, {}, {}\n"
    "local function put(n, v) local l = string.lower(n); local i = idx[l]\n"
    "  if i then names[i] = n; vals[i] = v\n"
    "  else names[#names + 1] = n; vals[#names] = v; idx[l] = #names end end\n"
    "local function keep(n, v) local i = idx[string.lower(n)]\n"
    "  if i then vals[i] = v else put(n, v) end end\n"
    "local function get(n) local i = idx[string.lower(n)]; if i then return vals[i] end\n"
    "  return nil end\n"
    "local function del(n) local i = idx[string.lower(n)]; if not i then return end\n"
    "  table.remove(names, i); table.remove(vals, i); idx = {}\n"
    "  for j = 1, #names do idx[string.lower(names[j])] = j end end\n"
    "local function atoi(s) if not s then return 0 end\n"
    "  local m = string.match(s, '^%s*([+-]?%d+)'); if not m then return 0 end\n"
    "  local v = tonumber(m)\n"
    "  if v > 2147483647 then v = 2147483647 elseif v < -2147483648 then v = -2147483648 end\n"
    "  return v end\n"
    "local function clamp0(v) if v < 0 then return 0 elseif v > 2147483647 then return 2147483647 end\n"
    "  return v end\n"
    "local function num(v) return string.format('%d', v) end\n"
    "local flat = redis.call('HGETALL', k)\n"
    "for i = 1, #flat, 2 do put(flat[i], flat[i + 1]) end\n"
    "local gone = (#flat == 0)\n"
    "local again = not gone\n"
    "while again do\n"
    "  again = false\n"
    "  for j = 1, #names do\n"
    "    local n = names[j]\n"
    "    if string.lower(string.sub(n, 1, 9)) == '__expire_' and atoi(vals[j]) <= now then\n"
    "      local t = string.sub(n, 10)\n"
    "      if string.lower(t) == 'key' then gone = true; break end\n"
    "      del(t); del(n); again = true; break\n"
    "    end\n"
    "  end\n"
    "  if gone then break end\n"
    "end\n"
    "if gone then\n"
    "  names, vals, idx = {}, {}, {}\n"
    "  local to = tonumber(ARGV[2])\n"
    "  put('__expire_KEY', num(now + to)); put('KEY', ARGV[3]); put('TIMEOUT', num(to))\n"
    "  put('__key', ARGV[3]); put('__name', ARGV[4])\n"
    "  put('CREATE_TIME', num(now)); put('UPDATE_COUNTER', '0')\n"
    "end\n"
    "local i = 5\n"
    "while i + 3 <= #ARGV do\n"
    "  local kind, f, v, d = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]\n"
    "  if kind == 's' then put(f, v)\n"
    "  elseif kind == 'u' then del(f)\n"
    "  elseif kind == 'a' then local cur = get(f)\n"
    "    if cur then put(f, num(clamp0(atoi(cur) + tonumber(d)))) else put(f, v) end\n"
    "  end\n"
    "  i = i + 4\n"
    "end\n"
    "del('IS_NEW'); del('UPDATE_RATE')\n"
    "keep('UPDATE_COUNTER', num(clamp0(atoi(get('UPDATE_COUNTER')) + 1)))\n"
    "keep('LAST_UPDATE_TIME', num(now))\n"
    "local to = get('TIMEOUT')\n"
    "local tmo = tonumber(ARGV[2])\n"
    "if to then tmo = atoi(to) end\n"
    "keep('__expire_KEY', num(now + tmo))\n"
    "redis.call('DEL', k)\n"
    "local args = {}\n"
    "for j = 1, #names do args[#args + 1] = names[j]; args[#args + 1] = vals[j] end\n"
    "redis.call('HMSET', k, unpack(args))\n"
    "redis.call('EXPIRE', k, math.max(tmo, 0) + 1)\n"
    "return 1\n";

typedef struct conn_t {
    redisContext *c;
    unsigned epoch; /* the outage count when it was taken: older ones predate an outage */
    struct conn_t *next;
} conn_t;

typedef struct {
    apr_pool_t *pool;
    apr_thread_mutex_t *mu;
    conn_t *free_list;
    char *host, *unix_path, *password;
    int port, db;
    char sha[APR_SHA1_DIGESTSIZE * 2 + 1];
    /* outage state, under mu */
    bool down;
    unsigned epoch; /* outages so far */
    uint64_t down_since, retry_at, backoff_us;
} rds_t;

static apr_status_t rds_close(void *data)
{
    rds_t *r = data;
    while (r->free_list) {
        conn_t *c = r->free_list;
        r->free_list = c->next;
        redisFree(c->c);
        free(c);
    }
    return APR_SUCCESS;
}

static const char *parse(rds_t *r, apr_pool_t *p, const char *uri)
{
    if (strncmp(uri, "redis://", 8) == 0) {
        const char *h = uri + 8, *colon = strchr(h, ':'), *slash = strchr(h, '/');
        const char *hend = colon ? colon : slash ? slash : h + strlen(h);
        if (hend == h)
            return "no host";
        r->host = apr_pstrmemdup(p, h, (size_t)(hend - h));
        r->port = 6379;
        if (colon) {
            char *end;
            long port = strtol(colon + 1, &end, 10);
            if (port < 1 || port > 65535 || (*end && *end != '/'))
                return "bad port";
            r->port = (int)port;
        }
        if (slash && slash[1]) {
            char *end;
            long db = strtol(slash + 1, &end, 10);
            if (db < 0 || db > 1000000 || *end)
                return "bad database number";
            r->db = (int)db;
        }
        return NULL;
    }
    if (strncmp(uri, "redis+unix://", 13) == 0) {
        const char *path = uri + 13, *q = strchr(path, '?');
        if (*path != '/')
            return "the socket path must be absolute (redis+unix:///path)";
        r->unix_path = q ? apr_pstrmemdup(p, path, (size_t)(q - path)) : apr_pstrdup(p, path);
        if (q) {
            char *end;
            if (strncmp(q + 1, "db=", 3) != 0)
                return "expected ?db=N";
            long db = strtol(q + 4, &end, 10);
            if (db < 0 || db > 1000000 || *end)
                return "bad database number";
            r->db = (int)db;
        }
        return NULL;
    }
    return "expected redis://HOST:PORT/DB or redis+unix:///path?db=N";
}

const char *pp_store_redis_check(apr_pool_t *p, const char *uri)
{
    rds_t r = { 0 };
    const char *e = parse(&r, p, uri);
    return e ? apr_psprintf(p, "SecCollectionStore %s: %s", uri, e) : NULL;
}

const char *pp_store_redis_open(pp_store_t *s, apr_pool_t *p)
{
    rds_t *r = apr_pcalloc(p, sizeof(*r));
    r->pool = p;
    const char *e = parse(r, p, s->conf.uri ? s->conf.uri : "");
    if (e)
        return apr_psprintf(p, "SecCollectionStore %s: %s", s->conf.uri, e);
    if (s->conf.password_file) {
        char *text;
        apr_file_t *f;
        apr_finfo_t fi;
        if (apr_file_open(&f, s->conf.password_file, APR_FOPEN_READ, 0, p) != APR_SUCCESS ||
            apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS || fi.size > 4096)
            return apr_psprintf(p, "SecCollectionStorePasswordFile %s: cannot read it",
                                s->conf.password_file);
        text = apr_pcalloc(p, (apr_size_t)fi.size + 1);
        apr_size_t n = (apr_size_t)fi.size;
        apr_file_read_full(f, text, n, &n);
        apr_file_close(f);
        text[strcspn(text, "\r\n")] = 0;
        r->password = text;
    }
    apr_sha1_ctx_t ctx;
    unsigned char d[APR_SHA1_DIGESTSIZE];
    apr_sha1_init(&ctx);
    apr_sha1_update(&ctx, WRITE_LUA, (unsigned int)strlen(WRITE_LUA));
    apr_sha1_final(d, &ctx);
    for (int i = 0; i < APR_SHA1_DIGESTSIZE; i++)
        snprintf(r->sha + 2 * i, 3, "%02x", d[i]);
    if (apr_thread_mutex_create(&r->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return "collection store: cannot create a mutex";
    apr_pool_cleanup_register(p, r, rds_close, apr_pool_cleanup_null);
    s->impl = r;
    return NULL;
}

/* A command or connect failed. The pooled connections go too: they lead to the same server,
 * and each would fail in turn after it came back (a restarted Redis drops them all), pushing
 * the retry further out every time. Only a failed retry doubles the back-off; failures of
 * requests that were already under way when the outage began do not move it, and their
 * successes do not end it (epoch). */
static void outage(pp_store_t *s, const char *why, unsigned epoch)
{
    rds_t *r = s->impl;
    bool first = false;
    uint64_t now = pp_store_usec_now();
    apr_thread_mutex_lock(r->mu);
    if (epoch != r->epoch) { /* taken before the outage began: already counted */
        apr_thread_mutex_unlock(r->mu);
        return;
    }
    conn_t *stale = r->free_list;
    r->free_list = NULL;
    if (!r->down) {
        r->epoch++;
        r->down = true;
        r->down_since = now;
        r->backoff_us = 100000;
        r->retry_at = now + r->backoff_us;
        first = true;
    } else if (now >= r->retry_at) {
        r->backoff_us = r->backoff_us * 2 > 5000000 ? 5000000 : r->backoff_us * 2;
        r->retry_at = now + r->backoff_us;
    }
    apr_thread_mutex_unlock(r->mu);
    while (stale) {
        conn_t *c = stale;
        stale = c->next;
        redisFree(c->c);
        free(c);
    }
    if (first)
        pp_store_outage_begin(s, "collection store", s->conf.uri, why);
}

static void recovered(pp_store_t *s, unsigned epoch)
{
    rds_t *r = s->impl;
    bool was = false;
    uint64_t since = 0;
    apr_thread_mutex_lock(r->mu);
    if (r->down && epoch == r->epoch) {
        was = true;
        since = r->down_since;
        r->down = false;
    }
    apr_thread_mutex_unlock(r->mu);
    if (was)
        pp_store_outage_end(s, "collection store", s->conf.uri, since);
}

static bool simple_ok(redisContext *c, int argc, const char **argv)
{
    redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
    bool ok = rep && rep->type != REDIS_REPLY_ERROR;
    if (rep)
        freeReplyObject(rep);
    return ok;
}

/* A connection for this thread, or NULL (down and within back-off, or connect failed). */
static conn_t *take(pp_store_t *s)
{
    rds_t *r = s->impl;
    conn_t *c = NULL;
    apr_thread_mutex_lock(r->mu);
    if (r->down && pp_store_usec_now() < r->retry_at) {
        apr_thread_mutex_unlock(r->mu);
        return NULL;
    }
    unsigned epoch = r->epoch;
    if (r->free_list) {
        c = r->free_list;
        r->free_list = c->next;
    }
    apr_thread_mutex_unlock(r->mu);
    if (c) {
        c->epoch = epoch;
        return c;
    }
    struct timeval tv = { s->conf.timeout_ms / 1000, (s->conf.timeout_ms % 1000) * 1000 };
    redisContext *rc = r->unix_path ? redisConnectUnixWithTimeout(r->unix_path, tv)
                                    : redisConnectWithTimeout(r->host, r->port, tv);
    if (!rc || rc->err) {
        char why[160];
        snprintf(why, sizeof(why), "connect: %s", rc ? rc->errstr : "out of memory");
        if (rc)
            redisFree(rc);
        outage(s, why, epoch);
        return NULL;
    }
    redisSetTimeout(rc, tv);
    if (r->password) {
        const char *argv[] = { "AUTH", r->password };
        if (!simple_ok(rc, 2, argv)) {
            redisFree(rc);
            outage(s, "AUTH refused or timed out", epoch);
            return NULL;
        }
    }
    if (r->db) {
        char db[16];
        snprintf(db, sizeof(db), "%d", r->db);
        const char *argv[] = { "SELECT", db };
        if (!simple_ok(rc, 2, argv)) {
            redisFree(rc);
            outage(s, "SELECT failed", epoch);
            return NULL;
        }
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        redisFree(rc);
        return NULL;
    }
    c->c = rc;
    c->epoch = epoch;
    return c;
}

static void give_back(pp_store_t *s, conn_t *c, bool ok, const char *why)
{
    rds_t *r = s->impl;
    unsigned epoch = c->epoch;
    if (!ok) {
        redisFree(c->c);
        free(c);
        outage(s, why, epoch);
        return;
    }
    apr_thread_mutex_lock(r->mu);
    bool stale = epoch != r->epoch; /* from before an outage: its server may be gone */
    if (!stale) {
        c->next = r->free_list;
        r->free_list = c;
    }
    apr_thread_mutex_unlock(r->mu);
    if (stale) {
        redisFree(c->c);
        free(c);
        return;
    }
    recovered(s, epoch);
}

static const char *hkey(apr_pool_t *p, const pp_store_t *s, const pp_store_rec_t *r)
{
    return apr_pstrcat(p, s->conf.prefix, r->name, ":", r->key, NULL);
}

static pp_store_status_t rds_load(pp_store_t *s, apr_pool_t *p, int n, pp_store_rec_t **recs,
                                  int64_t now)
{
    uint64_t t0 = pp_store_usec_now();
    conn_t *c = take(s);
    if (!c) {
        pp_store_account(s, false, pp_store_usec_now() - t0, 0);
        return PP_STORE_UNAVAILABLE;
    }
    for (int i = 0; i < n; i++) {
        const char *argv[] = { "HGETALL", hkey(p, s, recs[i]) };
        redisAppendCommandArgv(c->c, 2, argv, NULL);
    }
    bool ok = true;
    const char *why = NULL;
    for (int i = 0; i < n; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(c->c, (void **)&rep) != REDIS_OK || !rep) {
            why = apr_pstrdup(p, c->c->errstr[0] ? c->c->errstr : "no reply");
            ok = false;
            break;
        }
        if (rep->type != REDIS_REPLY_ARRAY) {
            why = apr_psprintf(p, "HGETALL: %s", rep->type == REDIS_REPLY_ERROR ? rep->str : "?");
            freeReplyObject(rep);
            ok = false;
            break;
        }
        apr_array_header_t *fields = apr_array_make(p, (int)rep->elements / 2 + 1, sizeof(pp_sfield_t));
        for (size_t j = 0; j + 1 < rep->elements; j += 2) {
            pp_sfield_t *f = apr_array_push(fields);
            f->name = apr_pstrmemdup(p, rep->element[j]->str, rep->element[j]->len);
            f->value = apr_pstrmemdup(p, rep->element[j + 1]->str, rep->element[j + 1]->len);
        }
        freeReplyObject(rep);
        pp_store_loaded(recs[i], fields, now);
    }
    give_back(s, c, ok, why);
    pp_store_account(s, ok, pp_store_usec_now() - t0, 1);
    return ok ? PP_STORE_OK : PP_STORE_UNAVAILABLE;
}

static void append_write(pp_store_t *s, apr_pool_t *p, redisContext *c, const pp_store_rec_t *r,
                         int64_t now, bool by_sha)
{
    rds_t *rd = s->impl;
    int nops = r->ops->nelts, a = 0;
    const char **full = apr_palloc(p, sizeof(char *) * (size_t)(8 + 4 * nops));
    full[a++] = by_sha ? "EVALSHA" : "EVAL";
    full[a++] = by_sha ? rd->sha : WRITE_LUA;
    full[a++] = "1";
    full[a++] = hkey(p, s, r);
    full[a++] = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)now);
    full[a++] = apr_psprintf(p, "%ld", r->timeout);
    full[a++] = r->key;
    full[a++] = r->dname;
    const pp_sop_t *op = (const pp_sop_t *)r->ops->elts;
    for (int i = 0; i < nops; i++) {
        static const char *const kinds[] = { [PP_SOP_SET] = "s", [PP_SOP_UNSET] = "u",
                                             [PP_SOP_DELTA] = "a" };
        full[a++] = kinds[op[i].kind];
        full[a++] = op[i].field;
        full[a++] = op[i].value ? op[i].value : "";
        full[a++] = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)op[i].a);
    }
    redisAppendCommandArgv(c, a, full, NULL);
}

static pp_store_status_t rds_commit(pp_store_t *s, int n, pp_store_rec_t **recs, int64_t now)
{
    uint64_t t0 = pp_store_usec_now();
    apr_pool_t *p = recs[0]->pool;
    conn_t *c = take(s);
    if (!c) {
        pp_store_account(s, false, pp_store_usec_now() - t0, 0);
        return PP_STORE_UNAVAILABLE;
    }
    int trips = 1;
    for (int i = 0; i < n; i++)
        if (pp_store_dirty(recs[i])) {
            append_write(s, p, c->c, recs[i], now, true);
        }
    bool ok = true;
    const char *why = NULL;
    int *noscript = apr_pcalloc(p, sizeof(int) * (size_t)n), nns = 0;
    for (int i = 0; i < n && ok; i++) {
        if (!pp_store_dirty(recs[i]))
            continue;
        redisReply *rep = NULL;
        if (redisGetReply(c->c, (void **)&rep) != REDIS_OK || !rep) {
            why = apr_pstrdup(p, c->c->errstr[0] ? c->c->errstr : "no reply");
            ok = false;
            break;
        }
        if (rep->type == REDIS_REPLY_ERROR) {
            if (strncmp(rep->str, "NOSCRIPT", 8) == 0)
                noscript[nns++] = i;
            else {
                why = apr_psprintf(p, "write: %s", rep->str);
                ok = false;
            }
        }
        freeReplyObject(rep);
    }
    if (ok && nns) { /* a restarted Redis forgot the script: send it once, in full */
        trips++;
        for (int j = 0; j < nns; j++)
            append_write(s, p, c->c, recs[noscript[j]], now, false);
        for (int j = 0; j < nns && ok; j++) {
            redisReply *rep = NULL;
            if (redisGetReply(c->c, (void **)&rep) != REDIS_OK || !rep) {
                why = apr_pstrdup(p, c->c->errstr[0] ? c->c->errstr : "no reply");
                ok = false;
                break;
            }
            if (rep->type == REDIS_REPLY_ERROR) {
                why = apr_psprintf(p, "write: %s", rep->str);
                ok = false;
            }
            freeReplyObject(rep);
        }
    }
    give_back(s, c, ok, why);
    pp_store_account(s, ok, pp_store_usec_now() - t0, trips);
    return ok ? PP_STORE_OK : PP_STORE_UNAVAILABLE;
}

static long rds_sweep(pp_store_t *s, int64_t now, long max)
{
    return 0; /* Redis expires the records itself (EXPIREAT) */
}

static long rds_count(pp_store_t *s)
{
    return -1;
}

const pp_store_backend_t pp_store_redis_backend = {
    .load = rds_load, .commit = rds_commit, .sweep = rds_sweep, .count = rds_count,
};
