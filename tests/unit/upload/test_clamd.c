/*
 * Unit tests for upload/clamd.c. Without clamd: address syntax, unreachable sockets, a daemon
 * that never answers (timeout), and a forked fake clamd that checks the zINSTREAM framing byte
 * for byte and answers with canned replies (clean, found, errors, nonsense, early close on a
 * size limit). With the fixture (PARAPET_CLAMD_SOCKET=/path from tests/fixtures/clamav.sh start):
 * PING, the EICAR test file (FOUND), clean and empty files (CLEAN), a multi-chunk file, and a
 * file past the fixture's StreamMaxLength (ERROR).
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "upload/upload.h"

#define BIG_FILE_BYTES (200 * 1024 + 17) /* several 64 KiB chunks plus a ragged end */

static apr_pool_t *root;

#include "pp_test.h"
#include "pp_tmpdir.h"
static char dir[] = "/tmp/pp-test-clamd-XXXXXX";
static unsigned char big[BIG_FILE_BYTES];
static unsigned char received[BIG_FILE_BYTES + 1];



static const char *write_file(apr_pool_t *p, const char *name, const void *data, size_t len)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    return path;
}

/* Built from two halves so neither this source nor its binary carries the test string whole. */
static const char *eicar_file(apr_pool_t *p)
{
    const char *s = apr_pstrcat(p, "X5O!P%@AP[4\\PZX54(P^)7CC)7}$",
                                "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*", NULL);
    assert_int_equal(strlen(s), 68);
    return write_file(p, "eicar.com", s, 68);
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    return fd;
}

static bool read_exact(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

/* Fake clamd, in a child: accepts one connection, checks the command and (unless early) the
 * reassembled stream against expect, then writes reply. Exit 0 when everything was as expected.
 * early: answer after the first chunk and close, as clamd does past StreamMaxLength. */
static void fake_clamd(int ls, const char *command, const void *expect, size_t expect_len,
                       const char *reply, size_t reply_len, bool early)
{
    char cmd[16];
    unsigned char hdr[4];
    size_t total = 0, cmd_len = strlen(command) + 1;
    int c = accept(ls, NULL, NULL);
    if (c < 0 || !read_exact(c, cmd, cmd_len) || memcmp(cmd, command, cmd_len) != 0)
        _exit(2);
    while (strcmp(command, "zINSTREAM") == 0) {
        if (!read_exact(c, hdr, 4))
            _exit(3);
        size_t n = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
        if (n == 0)
            break;
        if (total + n > sizeof(received) || !read_exact(c, received + total, n))
            _exit(4);
        total += n;
        if (early)
            break;
    }
    if (!early && (total != expect_len || (total && memcmp(received, expect, total) != 0)))
        _exit(5);
    if (reply_len && write(c, reply, reply_len) != (ssize_t)reply_len)
        _exit(6);
    close(c);
    _exit(0);
}

typedef struct exchange_t {
    const char *reply;
    size_t reply_len;
    bool early;
} exchange_t;

static apr_status_t scan_fake(apr_pool_t *p, const char *file, const void *data, size_t len,
                              exchange_t ex, pp_clamd_result_t *res)
{
    const char *sock = apr_pstrcat(p, dir, "/fake.sock", NULL);
    int ls = listen_unix(sock);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        fake_clamd(ls, "zINSTREAM", data, len, ex.reply, ex.reply_len, ex.early);
    close(ls);
    apr_status_t rv = pp_clamd_scan(p, apr_pstrcat(p, "unix:", sock, NULL), file,
                                    apr_time_from_sec(2), apr_time_from_sec(5), res);
    int status = -1;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    unlink(sock);
    return rv;
}

#define REPLY(s) ((exchange_t){ (s), sizeof(s), false }) /* with clamd's NUL terminator */

static void test_address_check(void **state)
{
    apr_pool_t *p = *state;
    const char *good[] = { "unix:/run/clamav/clamd.ctl", "tcp:127.0.0.1:3310", "tcp:[::1]:3310",
                           "tcp:localhost:3310", "tcp:clamd.example:1" };
    const char *bad[] = { "",
                          "clamd.ctl",
                          "unix:",
                          "unix:relative/clamd.ctl",
                          "tcp:127.0.0.1",
                          "tcp:127.0.0.1:",
                          "tcp:127.0.0.1:0",
                          "tcp:127.0.0.1:65536",
                          "tcp::3310",
                          "tcp:[::1]",
                          "tcp:[fe80::1%eth0]:3310",
                          "udp:127.0.0.1:3310" };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_null(pp_clamd_address_check(p, good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *msg = pp_clamd_address_check(p, bad[i]);
        if (msg == NULL)
            fail_msg("accepted bad address \"%s\"", bad[i]);
    }
    assert_non_null(pp_clamd_address_check(p, NULL));
    char *long_path = apr_pstrcat(p, "unix:/", apr_psprintf(p, "%0200d", 0), NULL);
    assert_string_equal(pp_clamd_address_check(p, long_path),
                        apr_psprintf(p, "clamd address \"%s\": the socket path is too long",
                                     long_path));
    assert_string_equal(pp_clamd_address_check(p, "udp:x:1"),
                        "clamd address \"udp:x:1\" must start with unix: or tcp:");
}

static void test_status_names(void **state)
{
    pp_clamd_result_t zeroed;
    memset(&zeroed, 0, sizeof(zeroed));
    assert_int_equal(zeroed.status, PP_CLAMD_ERROR); /* unfilled never reads as clean */
    assert_string_equal(pp_clamd_status_name(PP_CLAMD_CLEAN), "CLEAN");
    assert_string_equal(pp_clamd_status_name(PP_CLAMD_FOUND), "FOUND");
    assert_string_equal(pp_clamd_status_name(PP_CLAMD_ERROR), "ERROR");
    assert_string_equal(pp_clamd_status_name(PP_CLAMD_UNREACHABLE), "UNREACHABLE");
}

static void test_unreachable_unix(void **state)
{
    pp_clamd_result_t res;
    const char *file = write_file(*state, "small.txt", "hello\n", 6);
    apr_status_t rv = pp_clamd_scan(*state, "unix:/nonexistent/pp/clamd.sock", file,
                                    apr_time_from_sec(2), apr_time_from_sec(5), &res);
    assert_int_not_equal(rv, APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_UNREACHABLE);
    assert_non_null(strstr(res.reason, "cannot connect to clamd at unix:/nonexistent/pp"));
    assert_true(res.elapsed < apr_time_from_msec(500));
    assert_null(res.virus);
}

static void test_unreachable_tcp(void **state)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd); /* the port is now (almost certainly) closed: connect is refused */

    pp_clamd_result_t res;
    const char *file = write_file(*state, "small.txt", "hello\n", 6);
    const char *addr = apr_psprintf(*state, "tcp:127.0.0.1:%d", ntohs(sa.sin_port));
    apr_status_t rv = pp_clamd_scan(*state, addr, file, apr_time_from_sec(2),
                                    apr_time_from_sec(5), &res);
    assert_true(APR_STATUS_IS_ECONNREFUSED(rv));
    assert_int_equal(res.status, PP_CLAMD_UNREACHABLE);
    assert_true(res.elapsed < apr_time_from_msec(500));

    const char *msg = NULL;
    assert_int_not_equal(pp_clamd_ping(*state, addr, apr_time_from_sec(1), &msg), APR_SUCCESS);
    assert_non_null(strstr(msg, addr));
}

/* A daemon that accepts (the kernel does, through the backlog) but never answers. */
static void test_timeout(void **state)
{
    const char *sock = apr_pstrcat(*state, dir, "/silent.sock", NULL);
    int ls = listen_unix(sock);
    const char *file = write_file(*state, "small.txt", "hello\n", 6);
    pp_clamd_result_t res;

    apr_status_t rv = pp_clamd_scan(*state, apr_pstrcat(*state, "unix:", sock, NULL), file,
                                    apr_time_from_sec(1), apr_time_from_msec(300), &res);
    close(ls);
    unlink(sock);
    assert_true(APR_STATUS_IS_TIMEUP(rv));
    /* Connected, then no verdict in time: the file may be what hung the daemon, so this is
     * ERROR (SecUploadScanClamdFailOpen must not accept it), not UNREACHABLE. */
    assert_int_equal(res.status, PP_CLAMD_ERROR);
    assert_non_null(strstr(res.reason, "within 300 ms"));
    assert_true(res.elapsed >= apr_time_from_msec(300));
    assert_true(res.elapsed < apr_time_from_msec(1000));
}

static void test_fake_replies(void **state)
{
    apr_pool_t *p = *state;
    const char *file = write_file(p, "big.bin", big, sizeof(big));
    pp_clamd_result_t res;

    assert_int_equal(scan_fake(p, file, big, sizeof(big), REPLY("stream: OK"), &res), APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_CLEAN);
    assert_int_equal(res.bytes_sent, sizeof(big));
    assert_string_equal(res.reason, "stream: OK");

    assert_int_equal(scan_fake(p, file, big, sizeof(big), REPLY("stream: Foo.Bar-1 FOUND"), &res),
                     APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_FOUND);
    assert_string_equal(res.virus, "Foo.Bar-1");

    assert_int_equal(scan_fake(p, file, big, sizeof(big),
                               REPLY("stream: Can't allocate memory ERROR"), &res),
                     APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_ERROR);
    assert_string_equal(res.reason, "stream: Can't allocate memory ERROR");
    assert_null(res.virus);

    assert_int_equal(scan_fake(p, file, big, sizeof(big), REPLY("stream: \033]0;OK"), &res),
                     APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_ERROR);
    assert_string_equal(res.reason, "unexpected reply from clamd: stream: ?]0;OK");

    assert_int_equal(scan_fake(p, file, big, sizeof(big), REPLY("stream:  FOUND"), &res),
                     APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_ERROR);

    /* Without the NUL, end of stream ends the reply. */
    exchange_t bare = { "stream: OK\n", 11, false };
    assert_int_equal(scan_fake(p, file, big, sizeof(big), bare, &res), APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_CLEAN);

    exchange_t silent = { "", 0, false };
    assert_int_equal(scan_fake(p, file, big, sizeof(big), silent, &res), APR_EOF);
    assert_int_equal(res.status, PP_CLAMD_ERROR);
    assert_string_equal(res.reason, "clamd closed the connection without a reply");
}

/* A clamd that dies while it reads our stream (crashed on the file, or SIGKILLed): it accepts,
 * takes the command and the first chunk, then goes away. how: 'c' closes a unix socket with our
 * data unread (we get EPIPE on the next send), 'r' resets a TCP connection (SO_LINGER 0: we get
 * ECONNRESET), 'e' reads the whole stream and closes without a reply (EOF). */
static void dying_clamd(int ls, char how)
{
    char cmd[10];
    unsigned char hdr[4];
    int c = accept(ls, NULL, NULL);
    if (c < 0 || !read_exact(c, cmd, sizeof(cmd)) || !read_exact(c, hdr, 4))
        _exit(2);
    if (how == 'r') {
        struct linger lg = { 1, 0 };
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    if (how == 'e') {
        for (;;) {
            size_t n = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) |
                       hdr[3];
            if (n == 0)
                break;
            if (n > sizeof(received) || !read_exact(c, received, n) || !read_exact(c, hdr, 4))
                _exit(3);
        }
    }
    close(c);
    _exit(0);
}

static int listen_tcp(int *port)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void test_connection_lost_mid_scan_is_error(void **state)
{
    static unsigned char large[4 * 1024 * 1024]; /* more than any socket buffer holds */
    apr_pool_t *p = *state;
    const char *file = write_file(p, "large.bin", large, sizeof(large));
    const char *usock = apr_pstrcat(p, dir, "/dying.sock", NULL);
    const char *cases = "cre";

    for (const char *how = cases; *how; how++) {
        int port = 0;
        int ls = *how == 'r' ? listen_tcp(&port) : listen_unix(usock);
        const char *addr = *how == 'r' ? apr_psprintf(p, "tcp:127.0.0.1:%d", port)
                                       : apr_pstrcat(p, "unix:", usock, NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            dying_clamd(ls, *how);
        close(ls);
        pp_clamd_result_t res;
        apr_status_t rv = pp_clamd_scan(p, addr, file, apr_time_from_sec(2),
                                        apr_time_from_sec(10), &res);
        int status = -1;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(status, 0);
        print_message("    %c: %s (%s)\n", *how, pp_clamd_status_name(res.status), res.reason);
        assert_int_not_equal(rv, APR_SUCCESS);
        /* Connected: whatever went wrong afterwards is never UNREACHABLE, which
         * SecUploadScanClamdFailOpen On would accept. */
        assert_int_equal(res.status, PP_CLAMD_ERROR);
        assert_true(res.elapsed < apr_time_from_sec(5));
        if (*how == 'e')
            assert_string_equal(res.reason, "clamd closed the connection without a reply");
        else
            assert_non_null(strstr(res.reason, "lost during the scan"));
        unlink(usock);
    }
}

/* clamd is fed from the descriptor it is given, from its start, whatever the name now holds and
 * wherever the descriptor's offset was: the store's descriptor sits at the end after writing. */
static void test_scan_file_reads_the_descriptor(void **state)
{
    apr_pool_t *p = *state;
    const char *path = write_file(p, "written.bin", big, sizeof(big));
    apr_file_t *fd;
    assert_int_equal(apr_file_open(&fd, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT,
                                   p),
                     APR_SUCCESS);
    apr_off_t end = 0;
    assert_int_equal(apr_file_seek(fd, APR_END, &end), APR_SUCCESS);
    write_file(p, "swap.txt", "swapped in\n", 11);
    assert_int_equal(rename(apr_pstrcat(p, dir, "/swap.txt", NULL), path), 0);

    const char *sock = apr_pstrcat(p, dir, "/fake.sock", NULL);
    int ls = listen_unix(sock);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        fake_clamd(ls, "zINSTREAM", big, sizeof(big), "stream: OK", 11, false);
    close(ls);
    pp_clamd_result_t res;
    apr_status_t rv = pp_clamd_scan_file(p, apr_pstrcat(p, "unix:", sock, NULL), fd, path,
                                         apr_time_from_sec(2), apr_time_from_sec(5), &res);
    int status = -1;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    unlink(sock);
    assert_int_equal(rv, APR_SUCCESS);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0); /* the fake saw exactly the written bytes */
    assert_int_equal(res.status, PP_CLAMD_CLEAN);
    assert_int_equal(res.bytes_sent, sizeof(big));
    assert_int_equal(pp_clamd_scan_file(p, "unix:/x", NULL, "n", 1, 1, &res), APR_EINVAL);
}

static void test_fake_empty_file(void **state)
{
    const char *file = write_file(*state, "empty.txt", "", 0);
    pp_clamd_result_t res;
    assert_int_equal(scan_fake(*state, file, "", 0, REPLY("stream: OK"), &res), APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_CLEAN);
    assert_int_equal(res.bytes_sent, 0);
}

/* clamd past StreamMaxLength answers and closes while we still send: no SIGPIPE, and its
 * answer is the verdict. */
static void test_fake_size_limit(void **state)
{
    static unsigned char large[1024 * 1024];
    const char *file = write_file(*state, "large.bin", large, sizeof(large));
    exchange_t ex = REPLY("INSTREAM size limit exceeded. ERROR");
    ex.early = true;
    pp_clamd_result_t res;

    assert_int_equal(scan_fake(*state, file, NULL, 0, ex, &res), APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_ERROR);
    assert_string_equal(res.reason, "INSTREAM size limit exceeded. ERROR");
    assert_true(res.bytes_sent < (apr_off_t)sizeof(large));
}

static void test_fake_ping(void **state)
{
    apr_pool_t *p = *state;
    const char *sock = apr_pstrcat(p, dir, "/ping.sock", NULL);
    const char *addr = apr_pstrcat(p, "unix:", sock, NULL);
    const char *replies[] = { "PONG", "PANG" };

    for (int i = 0; i < 2; i++) {
        int ls = listen_unix(sock);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            fake_clamd(ls, "zPING", NULL, 0, replies[i], strlen(replies[i]) + 1, false);
        close(ls);
        const char *msg = NULL;
        apr_status_t rv = pp_clamd_ping(p, addr, apr_time_from_sec(2), &msg);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(status, 0);
        if (i == 0) {
            assert_int_equal(rv, APR_SUCCESS);
            assert_string_equal(msg, "PONG");
        } else {
            assert_int_not_equal(rv, APR_SUCCESS);
            assert_non_null(strstr(msg, "answered PING with \"PANG\""));
        }
    }
    unlink(sock);
}

static void test_missing_file(void **state)
{
    pp_clamd_result_t res;
    apr_status_t rv = pp_clamd_scan(*state, "unix:/nonexistent/clamd.sock", "/nonexistent/f",
                                    apr_time_from_sec(1), apr_time_from_sec(1), &res);
    assert_true(APR_STATUS_IS_ENOENT(rv));
    assert_int_equal(res.status, PP_CLAMD_ERROR);
    assert_non_null(strstr(res.reason, "cannot open /nonexistent/f"));
    assert_int_equal(pp_clamd_scan(*state, "bogus", "/nonexistent/f", 1, 1, &res), APR_EINVAL);
    assert_int_equal(res.status, PP_CLAMD_ERROR);
}

/* ---- against the fixture's clamd -------------------------------------------------------- */

static const char *fixture_address(apr_pool_t *p)
{
    const char *sock = getenv("PARAPET_CLAMD_SOCKET");
    if (sock == NULL || *sock == '\0') {
        print_message("skipped: PARAPET_CLAMD_SOCKET is not set "
                      "(export PARAPET_CLAMD_SOCKET=$(tests/fixtures/clamav.sh start DIR))\n");
        return NULL;
    }
    return apr_pstrcat(p, "unix:", sock, NULL);
}

static void test_clamd_ping(void **state)
{
    const char *addr = fixture_address(*state);
    if (addr == NULL)
        skip();
    const char *msg = NULL;
    assert_int_equal(pp_clamd_ping(*state, addr, apr_time_from_sec(5), &msg), APR_SUCCESS);
    assert_string_equal(msg, "PONG");
}

static void test_clamd_eicar(void **state)
{
    const char *addr = fixture_address(*state);
    if (addr == NULL)
        skip();
    pp_clamd_result_t res;
    assert_int_equal(pp_clamd_scan(*state, addr, eicar_file(*state), apr_time_from_sec(2),
                                   apr_time_from_sec(30), &res),
                     APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_FOUND);
    assert_non_null(res.virus);
    assert_non_null(strstr(res.virus, "EICAR"));
    assert_int_equal(res.bytes_sent, 68);
}

static void test_clamd_clean(void **state)
{
    apr_pool_t *p = *state;
    const char *addr = fixture_address(p);
    if (addr == NULL)
        skip();
    pp_clamd_result_t res;
    const char *files[] = { write_file(p, "clean.txt", "just some text\n", 15),
                            write_file(p, "empty.txt", "", 0),
                            write_file(p, "big.bin", big, sizeof(big)) };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pp_clamd_scan(p, addr, files[i], apr_time_from_sec(2),
                                       apr_time_from_sec(30), &res),
                         APR_SUCCESS);
        assert_int_equal(res.status, PP_CLAMD_CLEAN);
        assert_string_equal(res.reason, "stream: OK");
        assert_null(res.virus);
    }
    assert_int_equal(res.bytes_sent, sizeof(big));
}

/* The real daemon judges the descriptor's bytes: EICAR written, a clean file renamed over the
 * name afterwards, and the scan through the descriptor still finds EICAR (by name it would not). */
static void test_clamd_scan_file_after_swap(void **state)
{
    apr_pool_t *p = *state;
    const char *addr = fixture_address(p);
    if (addr == NULL)
        skip();
    const char *path = eicar_file(p);
    apr_file_t *fd;
    assert_int_equal(apr_file_open(&fd, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT,
                                   p),
                     APR_SUCCESS);
    write_file(p, "clean-swap.txt", "nothing to see\n", 15);
    assert_int_equal(rename(apr_pstrcat(p, dir, "/clean-swap.txt", NULL), path), 0);
    pp_clamd_result_t res;
    assert_int_equal(pp_clamd_scan(p, addr, path, apr_time_from_sec(2), apr_time_from_sec(30),
                                   &res),
                     APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_CLEAN); /* what a reader by name sees */
    assert_int_equal(pp_clamd_scan_file(p, addr, fd, path, apr_time_from_sec(2),
                                        apr_time_from_sec(30), &res),
                     APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_FOUND);
    assert_non_null(strstr(res.virus, "EICAR"));
}

/* The fixture sets StreamMaxLength 10M: a larger upload is an ERROR, never CLEAN. */
static void test_clamd_size_limit(void **state)
{
    const char *addr = fixture_address(*state);
    if (addr == NULL)
        skip();
    const char *path = apr_pstrcat(*state, dir, "/eleven-mb.bin", NULL);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 11 * 16; i++)
        assert_int_equal(fwrite(received, 1, 65536, fp), 65536);
    assert_int_equal(fclose(fp), 0);
    pp_clamd_result_t res;
    assert_int_equal(pp_clamd_scan(*state, addr, path, apr_time_from_sec(2),
                                   apr_time_from_sec(30), &res),
                     APR_SUCCESS);
    assert_int_equal(res.status, PP_CLAMD_ERROR);
    assert_non_null(strstr(res.reason, "size limit"));
    unlink(path);
}

int main(void)
{
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root, NULL) != APR_SUCCESS)
        return 1;
    if (mkdtemp(dir) == NULL)
        return 1;
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (unsigned char)((i * 7) % 251);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_address_check, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_status_names, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_unix, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_tcp, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_timeout, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_fake_replies, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_connection_lost_mid_scan_is_error, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_scan_file_reads_the_descriptor, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_fake_empty_file, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_fake_size_limit, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_fake_ping, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_clamd_ping, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_clamd_eicar, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_clamd_clean, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_clamd_scan_file_after_swap, pp_test_pool_setup, pp_test_pool_teardown),
        cmocka_unit_test_setup_teardown(test_clamd_size_limit, pp_test_pool_setup, pp_test_pool_teardown),
    };
    int failed = cmocka_run_group_tests_name("upload/clamd", tests, NULL, NULL);
    if (pp_test_remove_tree(dir) != 0)
        failed++;
    apr_pool_destroy(root);
    apr_terminate();
    return failed;
}
