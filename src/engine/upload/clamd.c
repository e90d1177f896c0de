/*
 * upload/clamd.c: a small clamd client that scans a stored upload by streaming its bytes over
 * clamd's socket (zINSTREAM: 4-byte big-endian length, chunk, ..., zero length), so the daemon
 * needs no access to SecUploadDir. body/files.c hands it the descriptor the store wrote, read
 * from its start, as soon as a file part is complete (before the rules; reference §6.5–6.6,
 * where 1.9 shelled out to a scanner): no name is opened, so nobody who can write SecUploadDir
 * can show clamd another file.
 *
 * Fail closed: only "stream: OK" is CLEAN. UNREACHABLE, the one status a fail-open directive may
 * choose to let through, means exactly "no connection was made" (refused, no socket, connect
 * timeout). Once connected, every failure is ERROR: a clamd error reply (size limit, read error),
 * anything we do not understand, a connection closed or reset before the reply (EOF, EPIPE,
 * ECONNRESET) and the scan timeout, because the file itself may have crashed or hung the daemon
 * (a decompression bomb, a scanner bug) and must not pass because of that. One deadline covers
 * streaming and the reply, so a slow or stuck daemon cannot hold a worker longer than
 * scan_timeout. Socket and file live in a subpool destroyed before returning. Not here: retries,
 * sessions (IDSESSION), choosing what to do with the verdict.
 */
#include "upload/upload.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <apr_file_io.h>
#include <apr_network_io.h>
#include <apr_poll.h>
#include <apr_portable.h>
#include <apr_strings.h>

#define CHUNK_BYTES (64 * 1024)
#define REPLY_MAX_BYTES 4096
#define REASON_MAX_BYTES 1024

/* clamd may close the socket while we are still streaming (size limit): that must be an error
 * return, not a SIGPIPE that kills the process. */
#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0
#endif

typedef struct clamd_addr_t {
    bool is_unix;
    const char *path; /* unix: socket path */
    char *host;       /* tcp: name or address, brackets removed */
    apr_port_t port;
} clamd_addr_t;

typedef struct conn_t {
    apr_pool_t *pool;
    apr_socket_t *sock;
    apr_os_sock_t fd;
    apr_time_t deadline; /* for everything after the connect */
} conn_t;

static const char *parse_address(apr_pool_t *p, const char *address, clamd_addr_t *a)
{
    memset(a, 0, sizeof(*a));
    if (address == NULL || *address == '\0')
        return "empty clamd address (expected unix:/path or tcp:HOST:PORT)";
    if (strncmp(address, "unix:", 5) == 0) {
        a->is_unix = true;
        a->path = address + 5;
        if (a->path[0] != '/')
            return apr_psprintf(p, "clamd address \"%s\": the socket path must be absolute",
                                address);
        if (strlen(a->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            return apr_psprintf(p, "clamd address \"%s\": the socket path is too long", address);
        return NULL;
    }
    if (strncmp(address, "tcp:", 4) == 0) {
        char *scope = NULL;
        apr_status_t rv = apr_parse_addr_port(&a->host, &scope, &a->port, address + 4, p);
        if (rv != APR_SUCCESS || a->host == NULL || a->port == 0 || scope != NULL)
            return apr_psprintf(p,
                                "clamd address \"%s\": expected tcp:HOST:PORT or tcp:[IPv6]:PORT "
                                "with a port from 1 to 65535",
                                address);
        return NULL;
    }
    return apr_psprintf(p, "clamd address \"%s\" must start with unix: or tcp:", address);
}

const char *pp_clamd_address_check(apr_pool_t *p, const char *address)
{
    clamd_addr_t a;
    return parse_address(p, address, &a);
}

static apr_status_t connect_one(apr_pool_t *sp, apr_sockaddr_t *sa, apr_interval_time_t timeout,
                                conn_t *c)
{
    apr_socket_t *s;
    int protocol = sa->family == APR_UNIX ? 0 : APR_PROTO_TCP;
    apr_status_t rv = apr_socket_create(&s, sa->family, SOCK_STREAM, protocol, sp);

    if (rv != APR_SUCCESS)
        return rv;
    apr_socket_timeout_set(s, timeout);
    rv = apr_socket_connect(s, sa);
    if (rv != APR_SUCCESS) {
        apr_socket_close(s);
        return rv;
    }
    /* Non-blocking from here on: we poll ourselves against one deadline for the exchange. */
    apr_socket_timeout_set(s, 0);
    c->sock = s;
    c->pool = sp;
    return apr_os_sock_get(&c->fd, s);
}

/* Tries each address the name resolves to (localhost: ::1 then 127.0.0.1), within timeout. */
static apr_status_t conn_open(apr_pool_t *sp, const clamd_addr_t *a, apr_interval_time_t timeout,
                              conn_t *c)
{
    apr_sockaddr_t *sa;
    apr_status_t rv;
    apr_time_t deadline = apr_time_now() + timeout;

    memset(c, 0, sizeof(*c));
    if (a->is_unix)
        rv = apr_sockaddr_info_get(&sa, a->path, APR_UNIX, 0, 0, sp);
    else
        rv = apr_sockaddr_info_get(&sa, a->host, APR_UNSPEC, a->port, 0, sp);
    if (rv != APR_SUCCESS)
        return rv;
    for (; sa != NULL; sa = sa->next) {
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0)
            return APR_TIMEUP;
        rv = connect_one(sp, sa, left, c);
        if (rv == APR_SUCCESS)
            break;
    }
    return rv;
}

static apr_status_t wait_io(conn_t *c, apr_int16_t events)
{
    apr_pollfd_t pfd;
    apr_int32_t n = 0;
    apr_interval_time_t left = c->deadline - apr_time_now();

    if (left <= 0)
        return APR_TIMEUP;
    /* poll(2) counts whole milliseconds; round up so we never wake before the deadline. */
    left = (left + 999) / 1000 * 1000;
    memset(&pfd, 0, sizeof(pfd));
    pfd.p = c->pool;
    pfd.desc_type = APR_POLL_SOCKET;
    pfd.reqevents = events;
    pfd.desc.s = c->sock;
    apr_status_t rv = apr_poll(&pfd, 1, &n, left);
    return APR_STATUS_IS_EINTR(rv) ? APR_SUCCESS : rv;
}

static apr_status_t send_all(conn_t *c, const char *data, apr_size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, SEND_FLAGS);
        if (n >= 0) {
            data += n;
            len -= (apr_size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return APR_FROM_OS_ERROR(errno);
        apr_status_t rv = wait_io(c, APR_POLLOUT);
        if (rv != APR_SUCCESS)
            return rv;
    }
    return APR_SUCCESS;
}

/* Reads up to clamd's NUL terminator (z-commands), end of stream, or buf's size. buf is always
 * NUL-terminated and *len counts what arrived, also when an error is returned. */
static apr_status_t read_reply(conn_t *c, char *buf, apr_size_t cap, apr_size_t *len)
{
    apr_status_t rv = APR_SUCCESS;

    *len = 0;
    while (*len < cap - 1) {
        apr_size_t n = cap - 1 - *len;
        rv = apr_socket_recv(c->sock, buf + *len, &n);
        bool terminated = n > 0 && memchr(buf + *len, '\0', n) != NULL;
        *len += n;
        if (terminated || rv == APR_EOF) {
            rv = APR_SUCCESS;
            break;
        }
        if (APR_STATUS_IS_EAGAIN(rv))
            rv = wait_io(c, APR_POLLIN);
        if (rv != APR_SUCCESS)
            break;
    }
    buf[*len] = '\0';
    return rv;
}

static void put_be32(unsigned char *out, apr_uint32_t v)
{
    out[0] = (unsigned char)(v >> 24);
    out[1] = (unsigned char)(v >> 16);
    out[2] = (unsigned char)(v >> 8);
    out[3] = (unsigned char)v;
}

/* Sends the whole file as INSTREAM chunks and the terminator. A local read failure is reported
 * through *file_rv so the caller can tell it apart from a connection problem. */
static apr_status_t stream_file(conn_t *c, apr_file_t *file, apr_off_t *sent,
                                apr_status_t *file_rv)
{
    static const char command[] = "zINSTREAM"; /* sent with its NUL: the z-form terminator */
    static const char end[4] = { 0, 0, 0, 0 };
    char *buf = apr_palloc(c->pool, CHUNK_BYTES + 4);
    apr_status_t rv = send_all(c, command, sizeof(command));

    while (rv == APR_SUCCESS) {
        apr_size_t n = CHUNK_BYTES;
        apr_status_t frv = apr_file_read(file, buf + 4, &n);
        if (frv == APR_EOF || (frv == APR_SUCCESS && n == 0))
            return send_all(c, end, sizeof(end));
        if (frv != APR_SUCCESS) {
            *file_rv = frv;
            return frv;
        }
        put_be32((unsigned char *)buf, (apr_uint32_t)n);
        rv = send_all(c, buf, n + 4);
        if (rv == APR_SUCCESS)
            *sent += (apr_off_t)n;
    }
    return rv;
}

static void judge_reply(apr_pool_t *p, const char *reply, apr_size_t len, pp_clamd_result_t *res)
{
    static const char prefix[] = "stream: ";
    const char *text = pp_upload_clean_line(p, reply, strnlen(reply, len), REASON_MAX_BYTES);
    apr_size_t n = strlen(text);

    res->reason = text;
    res->status = PP_CLAMD_ERROR;
    if (strncmp(text, prefix, sizeof(prefix) - 1) == 0) {
        const char *body = text + sizeof(prefix) - 1;
        apr_size_t body_len = n - (sizeof(prefix) - 1);
        if (strcmp(body, "OK") == 0) {
            res->status = PP_CLAMD_CLEAN;
            return;
        }
        if (body_len > 6 && strcmp(body + body_len - 6, " FOUND") == 0) {
            res->status = PP_CLAMD_FOUND;
            res->virus = apr_pstrmemdup(p, body, body_len - 6);
            return;
        }
    }
    if (n == 0)
        res->reason = "clamd closed the connection without a reply";
    else if (n < 6 || strcmp(text + n - 6, " ERROR") != 0)
        res->reason = apr_pstrcat(p, "unexpected reply from clamd: ", text, NULL);
}

/* Connection-level outcome when clamd gave no reply at all. We were connected, so whatever
 * happened (clamd closed or reset the connection, died, or hung past the deadline) may have been
 * caused by the file: ERROR, never UNREACHABLE, so SecUploadScanClamdFailOpen cannot accept it. */
static apr_status_t no_reply(apr_pool_t *p, const char *address, apr_status_t why,
                             apr_interval_time_t scan_timeout, pp_clamd_result_t *res)
{
    char err[256];

    res->status = PP_CLAMD_ERROR;
    if (why == APR_SUCCESS) {
        res->reason = "clamd closed the connection without a reply";
        return APR_EOF;
    }
    if (APR_STATUS_IS_TIMEUP(why))
        res->reason = apr_psprintf(p, "no reply from clamd at %s within %" APR_TIME_T_FMT " ms",
                                   address, apr_time_as_msec(scan_timeout));
    else
        res->reason = apr_psprintf(p, "connection to clamd at %s lost during the scan: %s",
                                   address, apr_strerror(why, err, sizeof(err)));
    return why;
}

/* Streams file from its start: the descriptor is the caller's (the one the store wrote), so the
 * bytes clamd judges are the bytes Parapet stored, whatever happens to the name meanwhile. */
static apr_status_t scan_with(apr_pool_t *sp, apr_pool_t *p, const char *address,
                              const clamd_addr_t *a, apr_file_t *file, const char *name,
                              apr_interval_time_t connect_timeout,
                              apr_interval_time_t scan_timeout, pp_clamd_result_t *res)
{
    char err[256];
    conn_t c;
    apr_status_t file_rv = APR_SUCCESS;
    apr_off_t zero = 0;

    apr_status_t rv = apr_file_seek(file, APR_SET, &zero);
    if (rv != APR_SUCCESS) {
        res->reason = apr_psprintf(p, "cannot rewind %s: %s", name,
                                   apr_strerror(rv, err, sizeof(err)));
        return rv;
    }
    apr_time_t start = apr_time_now();
    if (connect_timeout > scan_timeout)
        connect_timeout = scan_timeout;
    if ((rv = conn_open(sp, a, connect_timeout, &c)) != APR_SUCCESS) {
        res->status = PP_CLAMD_UNREACHABLE;
        res->reason = apr_psprintf(p, "cannot connect to clamd at %s: %s", address,
                                   apr_strerror(rv, err, sizeof(err)));
        return rv;
    }
    c.deadline = start + scan_timeout;
    apr_status_t send_rv = stream_file(&c, file, &res->bytes_sent, &file_rv);
    if (file_rv != APR_SUCCESS) {
        res->reason = apr_psprintf(p, "cannot read %s: %s", name,
                                   apr_strerror(file_rv, err, sizeof(err)));
        return file_rv;
    }
    /* Even when streaming failed, clamd may have said why before closing (size limit). */
    char *reply = apr_palloc(sp, REPLY_MAX_BYTES);
    apr_size_t len = 0;
    apr_status_t recv_rv = read_reply(&c, reply, REPLY_MAX_BYTES, &len);
    if (len > 0) {
        judge_reply(p, reply, len, res);
        return APR_SUCCESS;
    }
    return no_reply(p, address, send_rv != APR_SUCCESS ? send_rv : recv_rv, scan_timeout, res);
}

/* Common set-up of both entry points: result defaults, address, scratch pool. Opens file_path
 * in the scratch pool when file is NULL. */
static apr_status_t scan_common(apr_pool_t *p, const char *address, apr_file_t *file,
                                const char *name, apr_interval_time_t connect_timeout,
                                apr_interval_time_t scan_timeout, pp_clamd_result_t *res)
{
    char err[256];
    clamd_addr_t a;
    apr_pool_t *sp;
    apr_time_t start = apr_time_now();

    memset(res, 0, sizeof(*res));
    res->status = PP_CLAMD_ERROR;
    res->reason = "";
    const char *msg = parse_address(p, address, &a);
    if (msg != NULL || name == NULL) {
        res->reason = msg ? msg : "no file to scan";
        return APR_EINVAL;
    }
    apr_status_t rv = apr_pool_create(&sp, p);
    if (rv != APR_SUCCESS)
        return rv;
    apr_pool_tag(sp, "pp_clamd");
    if (file == NULL) {
        rv = apr_file_open(&file, name, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, sp);
        if (rv != APR_SUCCESS)
            res->reason = apr_psprintf(p, "cannot open %s: %s", name,
                                       apr_strerror(rv, err, sizeof(err)));
    }
    if (rv == APR_SUCCESS)
        rv = scan_with(sp, p, address, &a, file, name, connect_timeout, scan_timeout, res);
    apr_pool_destroy(sp); /* closes the socket, and the file when we opened it */
    res->elapsed = apr_time_now() - start;
    return rv;
}

apr_status_t pp_clamd_scan(apr_pool_t *p, const char *address, const char *file_path,
                           apr_interval_time_t connect_timeout, apr_interval_time_t scan_timeout,
                           pp_clamd_result_t *res)
{
    return scan_common(p, address, NULL, file_path, connect_timeout, scan_timeout, res);
}

apr_status_t pp_clamd_scan_file(apr_pool_t *p, const char *address, apr_file_t *file,
                                const char *name, apr_interval_time_t connect_timeout,
                                apr_interval_time_t scan_timeout, pp_clamd_result_t *res)
{
    if (file == NULL) {
        memset(res, 0, sizeof(*res));
        res->reason = "no file to scan";
        return APR_EINVAL;
    }
    return scan_common(p, address, file, name, connect_timeout, scan_timeout, res);
}

apr_status_t pp_clamd_ping(apr_pool_t *p, const char *address, apr_interval_time_t timeout,
                           const char **message)
{
    static const char command[] = "zPING";
    char err[256], reply[64];
    clamd_addr_t a;
    conn_t c;
    apr_pool_t *sp;
    apr_size_t len = 0;

    const char *msg = parse_address(p, address, &a);
    if (msg != NULL) {
        *message = msg;
        return APR_EINVAL;
    }
    apr_status_t rv = apr_pool_create(&sp, p);
    if (rv != APR_SUCCESS)
        return rv;
    apr_time_t deadline = apr_time_now() + timeout;
    rv = conn_open(sp, &a, timeout, &c);
    if (rv == APR_SUCCESS) {
        c.deadline = deadline;
        rv = send_all(&c, command, sizeof(command));
    }
    if (rv == APR_SUCCESS)
        rv = read_reply(&c, reply, sizeof(reply), &len);
    apr_pool_destroy(sp);
    if (rv != APR_SUCCESS) {
        *message = apr_psprintf(p, "clamd at %s: %s", address, apr_strerror(rv, err, sizeof(err)));
        return rv;
    }
    if (strcmp(reply, "PONG") != 0) {
        *message = apr_pstrcat(p, "clamd at ", address, " answered PING with \"",
                               pp_upload_clean_line(p, reply, strlen(reply), 60), "\"", NULL);
        return APR_EGENERAL;
    }
    *message = "PONG";
    return APR_SUCCESS;
}

const char *pp_clamd_status_name(pp_clamd_status_t status)
{
    static const char *const names[] = { "ERROR", "UNREACHABLE", "CLEAN", "FOUND" };

    if ((unsigned)status < sizeof(names) / sizeof(names[0]))
        return names[status];
    return "ERROR";
}
