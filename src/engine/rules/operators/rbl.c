/*
 * @rbl ZONE: a DNS blocklist lookup as ModSecurity 2.9.7 builds the name (an IPv4 value is
 * reversed, 1.2.3.4 -> 4.3.2.1.ZONE, with the SecHttpBlKey in front for dnsbl.httpbl.org; any
 * other value is VALUE.ZONE) and matches when the name has an address. Unlike ModSecurity
 * (the system resolver, with its own 5 s x attempts timeouts, on the request path) the query
 * is one UDP A question to one resolver with a bounded wait: SecRblResolver, else the first
 * nameserver of /etc/resolv.conf read at start-up. A resolver that does not answer in time,
 * or answers with an error other than "no such name", fails open: no match and one error-log
 * line naming the rule's zone, the name and why.
 */
#include "rules/operators/operators.h"
#include "config/config.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define RBL_NAME_MAX 253
#define RBL_PACKET_MAX 512 /* plain DNS over UDP */

typedef struct rbl_arg_t {
    const char *zone;
    const char *system_resolver; /* first nameserver of /etc/resolv.conf, or NULL */
    bool httpbl;
} rbl_arg_t;

static const char *first_nameserver(apr_pool_t *cp)
{
    FILE *f = fopen("/etc/resolv.conf", "r");
    if (!f)
        return NULL;
    char line[512], addr[128];
    const char *found = NULL;
    while (!found && fgets(line, sizeof line, f))
        if (sscanf(line, " nameserver %127s", addr) == 1)
            found = apr_pstrdup(cp, addr);
    fclose(f);
    return found;
}

const char *pp_op_rbl_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    if (!*arg)
        return "@rbl needs a zone (for example sbl-xbl.spamhaus.org)";
    if (strlen(arg) > RBL_NAME_MAX)
        return "the zone is longer than a DNS name can be";
    rbl_arg_t *a = apr_pcalloc(cp, sizeof *a);
    a->zone = apr_pstrdup(cp, arg);
    a->httpbl = strstr(arg, "httpbl.org") != NULL;
    a->system_resolver = first_nameserver(cp);
    *compiled = a;
    return NULL;
}

/* A port: 1-65535 in decimal digits only; 0 for anything else. */
static unsigned port_of(const char *s)
{
    char *end;
    if (!apr_isdigit(*s))
        return 0;
    unsigned long v = strtoul(s, &end, 10);
    return *end || v > 65535 ? 0 : (unsigned)v;
}

/* "IP", "IP:PORT" or "[IPv6]:PORT" into a socket address (port 53 by default). */
bool pp_rbl_resolver_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[128];
    unsigned port = 53;
    const char *colon = strrchr(text, ':');
    memset(ss, 0, sizeof *ss);
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || (apr_size_t)(close - text - 1) >= sizeof host)
            return false;
        memcpy(host, text + 1, (apr_size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        if (close[1] == ':')
            port = port_of(close + 2);
        else if (close[1])
            return false;
    } else if (colon && strchr(text, ':') == colon) { /* IPv4:port */
        if ((apr_size_t)(colon - text) >= sizeof host)
            return false;
        memcpy(host, text, (apr_size_t)(colon - text));
        host[colon - text] = '\0';
        port = port_of(colon + 1);
    } else {
        if (strlen(text) >= sizeof host)
            return false;
        strcpy(host, text);
    }
    if (port == 0 || port > 65535)
        return false;
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return true;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return true;
    }
    return false;
}

/* The question for name (A, IN, recursion desired) into buf; its length, 0 if the name is
 * not a DNS name (empty label, a label over 63 bytes). */
static apr_size_t build_query(unsigned char *buf, uint16_t id, const char *name)
{
    apr_size_t n = 0;
    buf[n++] = (unsigned char)(id >> 8);
    buf[n++] = (unsigned char)id;
    static const unsigned char rest[] = { 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
    memcpy(buf + n, rest, sizeof rest);
    n += sizeof rest;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        apr_size_t len = dot ? (apr_size_t)(dot - p) : strlen(p);
        if (len == 0 || len > 63)
            return 0;
        buf[n++] = (unsigned char)len;
        memcpy(buf + n, p, len);
        n += len;
        p += len + (dot ? 1 : 0);
        if (dot && !*p)
            return 0; /* a trailing dot: ModSecurity's name never has one */
    }
    buf[n++] = 0;
    static const unsigned char tail[] = { 0, 1, 0, 1 };
    memcpy(buf + n, tail, sizeof tail);
    return n + sizeof tail;
}

/* Skips a (possibly compressed) name at *at; false when it runs past the packet. */
static bool skip_name(const unsigned char *b, apr_size_t n, apr_size_t *at)
{
    while (*at < n) {
        unsigned char c = b[*at];
        if (c == 0) {
            (*at)++;
            return true;
        }
        if ((c & 0xc0) == 0xc0) {
            *at += 2;
            return *at <= n;
        }
        *at += 1 + c;
    }
    return false;
}

typedef enum { RBL_LISTED, RBL_NOT_LISTED, RBL_FAILED } rbl_answer_t;

/* The answer for id: listed (an A record, its address in addr), not listed (NXDOMAIN, or no A
 * record), or failed (why in *why). */
static rbl_answer_t parse_answer(const unsigned char *b, apr_size_t n, uint16_t id,
                                 char addr[INET_ADDRSTRLEN], const char **why)
{
    if (n < 12 || ((b[0] << 8) | b[1]) != id || !(b[2] & 0x80)) {
        *why = "not an answer to the question";
        return RBL_FAILED;
    }
    int rcode = b[3] & 0x0f;
    if (rcode == 3)
        return RBL_NOT_LISTED;
    if (rcode != 0) {
        *why = rcode == 2 ? "the resolver failed (SERVFAIL)" : "the resolver refused the question";
        return RBL_FAILED;
    }
    unsigned qd = (unsigned)((b[4] << 8) | b[5]), an = (unsigned)((b[6] << 8) | b[7]);
    apr_size_t at = 12;
    for (unsigned i = 0; i < qd; i++)
        if (!skip_name(b, n, &at) || (at += 4) > n) {
            *why = "a malformed answer";
            return RBL_FAILED;
        }
    for (unsigned i = 0; i < an; i++) {
        if (!skip_name(b, n, &at) || at + 10 > n) {
            *why = "a malformed answer";
            return RBL_FAILED;
        }
        unsigned type = (unsigned)((b[at] << 8) | b[at + 1]);
        apr_size_t rdlen = (apr_size_t)((b[at + 8] << 8) | b[at + 9]);
        at += 10;
        if (at + rdlen > n) {
            *why = "a malformed answer";
            return RBL_FAILED;
        }
        if (type == 1 && rdlen == 4) {
            inet_ntop(AF_INET, b + at, addr, INET_ADDRSTRLEN);
            return RBL_LISTED;
        }
        at += rdlen;
    }
    return RBL_NOT_LISTED;
}

static rbl_answer_t ask(const struct sockaddr_storage *ss, socklen_t sslen, int timeout_ms,
                        const char *name, char addr[INET_ADDRSTRLEN], const char **why)
{
    unsigned char q[RBL_PACKET_MAX], r[RBL_PACKET_MAX];
    unsigned char idb[2];
    if (!pp_random_bytes(idb, sizeof idb, name)) {
        *why = "no random bytes for the query id";
        return RBL_FAILED;
    }
    uint16_t id = (uint16_t)((idb[0] << 8) | idb[1]);
    apr_size_t qn = build_query(q, id, name);
    if (!qn)
        return RBL_NOT_LISTED; /* not a DNS name: nothing can list it */
    int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = strerror(errno);
        return RBL_FAILED;
    }
    rbl_answer_t res = RBL_FAILED;
    *why = "no answer in time";
    if (connect(fd, (const struct sockaddr *)ss, sslen) != 0 || send(fd, q, qn, 0) != (ssize_t)qn) {
        *why = strerror(errno);
        close(fd);
        return RBL_FAILED;
    }
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(timeout_ms);
    for (;;) {
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0)
            break;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int pr = poll(&pfd, 1, (int)apr_time_as_msec(left) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            break;
        ssize_t got = recv(fd, r, sizeof r, 0);
        if (got < 0) {
            *why = strerror(errno); /* ECONNREFUSED: nothing listens there */
            break;
        }
        if (got >= 2 && ((r[0] << 8) | r[1]) != id)
            continue; /* a stray or late datagram: keep waiting for ours */
        res = parse_answer(r, (apr_size_t)got, id, addr, why);
        break;
    }
    close(fd);
    return res;
}

PP_OP_EXEC(pp_op_rbl_exec)
{
    const rbl_arg_t *a = compiled;
    *match = false;
    char *target = apr_pstrmemdup(tx->pool, value.data, value.len);
    unsigned h0, h1, h2, h3;
    const char *name;
    if (sscanf(target, "%u.%u.%u.%u", &h0, &h1, &h2, &h3) == 4) {
        if (a->httpbl) {
            const char *key = tx->cfg->httpbl_key;
            if (!key) {
                pp_debug(tx, 1, "@rbl %s: httpBl called but no key defined: set SecHttpBlKey",
                         a->zone);
                return APR_SUCCESS;
            }
            name = apr_psprintf(tx->pool, "%s.%u.%u.%u.%u.%s", key, h3, h2, h1, h0, a->zone);
        } else {
            name = apr_psprintf(tx->pool, "%u.%u.%u.%u.%s", h3, h2, h1, h0, a->zone);
        }
    } else {
        name = apr_psprintf(tx->pool, "%s.%s", target, a->zone);
    }
    if (strlen(name) > RBL_NAME_MAX)
        return APR_SUCCESS;
    const char *resolver = tx->cfg->rbl_resolver ? tx->cfg->rbl_resolver : a->system_resolver;
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (!resolver || !pp_rbl_resolver_parse(resolver, &ss, &sslen)) {
        pp_debug(tx, 1, "@rbl %s: lookup of %s not made: no usable resolver (set "
                 "SecRblResolver); not listed (fail open)", a->zone,
                 pp_str_log_escape(tx->pool, pp_str_from_cstr(name), 256));
        return APR_SUCCESS;
    }
    int timeout_ms = pp_cfg_int(tx->cfg->rbl_timeout_ms, PP_RBL_DEFAULT_TIMEOUT_MS);
    char addr[INET_ADDRSTRLEN] = "";
    const char *why = NULL;
    rbl_answer_t ans = ask(&ss, sslen, timeout_ms, name, addr, &why);
    if (ans == RBL_FAILED) {
        pp_debug(tx, 1, "@rbl %s: lookup of %s at %s failed (%s); not listed (fail open)",
                 a->zone, pp_str_log_escape(tx->pool, pp_str_from_cstr(name), 256), resolver,
                 why);
        return APR_SUCCESS;
    }
    if (ans == RBL_LISTED) {
        *match = true;
        out->data = value;
        pp_debug(tx, 4, "RBL lookup of %s succeeded (%s).", name, addr);
    }
    return APR_SUCCESS;
}
