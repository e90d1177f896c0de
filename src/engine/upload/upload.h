/*
 * upload/upload.h: the upload side of the engine (reference §6.5–6.6). Intercepted files are
 * stored in SecUploadDir (store.c), approved by SecUploadApproveScript (approve.c) and/or scanned
 * by a clamd over its socket (clamd.c). Everything here is host-independent: APR only.
 * Every external resource (file, child process, socket) is released by a cleanup on a pool.
 * Rejections fail closed: a zeroed result means "not accepted".
 */
#ifndef PP_UPLOAD_H
#define PP_UPLOAD_H

#include <stdbool.h>

#include <apr_file_io.h>
#include <apr_pools.h>
#include <apr_time.h>
#include <apr_user.h>

/* clamd time limits per file (the approval script's is SecUploadApproveTimeout). */
#define PP_CLAMD_CONNECT_TIMEOUT_US apr_time_from_sec(5)
#define PP_CLAMD_SCAN_TIMEOUT_US apr_time_from_sec(60)

/* Mode of stored uploads: group-readable so a scanner daemon in the (setgid) directory's group
 * can read them; never world-readable (§6.5). */
#define PP_UPLOAD_FILE_MODE 0640

/* ---- Storage (store.c) ----------------------------------------------------------------------- */

typedef struct pp_upload_file_t pp_upload_file_t;

/*
 * Creates <dir>/<YYYYMMDD-HHMMSS>-<unique_id>-file-XXXXXX (local time; XXXXXX random, created
 * with O_EXCL) with mode PP_UPLOAD_FILE_MODE whatever the umask. The file gets its own subpool
 * of parent: destroying parent (or pp_upload_file_release) closes it and unlinks it unless
 * pp_upload_file_keep(f, true) was called. unique_id may be NULL; characters other than
 * [A-Za-z0-9@_.-] are replaced by '_' so it can never leave dir. On failure *out is NULL and
 * nothing is left on disk; returns the APR error (APR_ENOENT, APR_EACCES, APR_ENOSPC, ...).
 */
apr_status_t pp_upload_file_create(apr_pool_t *parent, const char *dir, const char *unique_id,
                                   pp_upload_file_t **out);
/* As pp_upload_file_create with mode (octal, SecUploadFileMode) instead of PP_UPLOAD_FILE_MODE. */
apr_status_t pp_upload_file_create_mode(apr_pool_t *parent, const char *dir,
                                        const char *unique_id, int mode, pp_upload_file_t **out);

/* Appends len bytes. Any failure, including a short write, is returned as it happened
 * (APR_ENOSPC, EFBIG, EIO...) and is sticky: later writes return the same status, so a file
 * with a hole in it is never mistaken for a complete one. On failure the file is also closed and
 * unlinked at once, whatever pp_upload_file_keep says (the path stays valid as a string).
 * APR_EBADF after close. */
apr_status_t pp_upload_file_write(pp_upload_file_t *f, const char *data, apr_size_t len);

/* Flushes and closes the descriptor; the name stays (for the approval script, the scanner and
 * the FILES variables). Idempotent. Returns the close error (a late ENOSPC on some filesystems),
 * which also becomes sticky and, like a write error, unlinks the file at once. */
apr_status_t pp_upload_file_close(pp_upload_file_t *f);

/* The open descriptor the file was written through (readable too), for a scanner that must see
 * exactly these bytes; NULL once closed (or discarded after a failure). Owned by the file. */
apr_file_t *pp_upload_file_handle(const pp_upload_file_t *f);

/* Flushes what was written without closing: the file stays open for pp_upload_file_handle.
 * A failure is sticky and discards the file, as a failed write does. */
apr_status_t pp_upload_file_flush(pp_upload_file_t *f);

/* Full path of the file; valid until the file is released. Never NULL. */
const char *pp_upload_file_path(const pp_upload_file_t *f);

/* Bytes written successfully so far. */
apr_off_t pp_upload_file_size(const pp_upload_file_t *f);

/* Decides whether the file survives its pool (SecUploadKeepFiles On / RelevantOnly). Can be
 * changed any time before release. */
void pp_upload_file_keep(pp_upload_file_t *f, bool keep);

/* Destroys the file's subpool now: closes, and unlinks unless kept. f is invalid afterwards. */
void pp_upload_file_release(pp_upload_file_t *f);

/* Config-time check of SecUploadDir for the current effective user: exists, is a directory,
 * and is writable and searchable. Returns NULL or a message in p:
 * "SecUploadDir: /x does not exist" / "... is not a directory" / "... is not writable by uid N". */
const char *pp_upload_dir_check(apr_pool_t *p, const char *dir);

/* As pp_upload_dir_check, but judges writability from the permission bits for the given user and
 * primary group (for a host that reads its configuration as root and serves as another user).
 * Supplementary groups and ACLs are not considered. */
const char *pp_upload_dir_check_as(apr_pool_t *p, const char *dir, apr_uid_t uid, apr_gid_t gid);

/* Whether a file in dir, handed on by path, is the file Parapet wrote: NULL when dir and each
 * directory above it (as written, and as resolved through symlinks) belong to root or the
 * effective user and are not writable by group or others unless sticky. Otherwise a message in
 * p naming the first directory that lets another user rename or replace entries:
 * "SecUploadDir /srv/up: /srv/up is writable by its group (mode 2770)". Cheap (a few lstat). */
const char *pp_upload_dir_private(apr_pool_t *p, const char *dir);

/* ---- Approval script (approve.c) ------------------------------------------------------------ */

/* The script's whole environment is PATH=PP_APPROVE_PATH. */
#define PP_APPROVE_PATH "/usr/local/bin:/usr/bin:/bin"
/* Stdout read from the script; the rest is drained and discarded. */
#define PP_APPROVE_MAX_OUTPUT_BYTES 4096
/* Longest reason kept from the script's first line. */
#define PP_APPROVE_REASON_MAX_BYTES 1024

typedef struct pp_approve_result_t {
    bool accepted;      /* the script printed '1' first, exited 0, and was not killed */
    const char *reason; /* the script's own text after the verdict character, first line, trimmed,
                           control characters replaced by '?', at most PP_APPROVE_REASON_MAX_BYTES;
                           "" when none; never NULL */
    const char *detail; /* why it was rejected when that was not the script's own verdict:
                           "timed out after 30 s", "exited with 2", "killed by signal 11",
                           "no output", "could not run ..."; NULL otherwise */
    bool timed_out;     /* the timeout passed and the script was killed */
    apr_interval_time_t elapsed;
} pp_approve_result_t;

/*
 * Runs script with exactly one argument, file_path (no shell), stdin /dev/null, the environment
 * PATH=PP_APPROVE_PATH and nothing else, under timeout (> 0), and judges its output (§6.6): accepted only if the first byte of stdout is '1' and the
 * script exited with status 0. Anything else rejects: another first byte, no output, a non-zero
 * exit, a signal, the timeout. Strings are allocated in p; the child is reaped before returning
 * (or by a cleanup on p).
 * Returns APR_SUCCESS when the script ran (accepted or not). When it could not be started,
 * returns the error and still fills *res as a rejection with a detail, so a caller that only
 * looks at res->accepted fails closed.
 */
apr_status_t pp_approve_run(apr_pool_t *p, const char *script, const char *file_path,
                            apr_interval_time_t timeout, pp_approve_result_t *res);

/* Text from a child or a daemon made fit for a log line: the first line of data[0..len), trimmed,
 * at most max bytes (never splitting a UTF-8 character), control bytes (NUL, ESC, CR...) replaced
 * by '?'. Result in p; never NULL. Shared by approve.c and clamd.c. */
const char *pp_upload_clean_line(apr_pool_t *p, const char *data, apr_size_t len,
                                 apr_size_t max);

/* Config-time check of SecUploadApproveScript: absolute path, exists, regular file, executable
 * by the current effective user. NULL or a message in p naming the directive and the path. */
const char *pp_approve_script_check(apr_pool_t *p, const char *path);

/* ---- clamd client (clamd.c) ----------------------------------------------------------------- */

/* Zero is ERROR on purpose: a result nobody filled in never reads as clean. */
typedef enum {
    PP_CLAMD_ERROR = 0,   /* connected, but no usable verdict: an error reply (size limit, read
                             error), nonsense, the connection closed or reset before the reply,
                             or the scan timeout */
    PP_CLAMD_UNREACHABLE, /* no connection was made (refused, no socket, connect timeout) */
    PP_CLAMD_CLEAN,       /* "stream: OK" */
    PP_CLAMD_FOUND        /* "stream: <name> FOUND" */
} pp_clamd_status_t;

typedef struct pp_clamd_result_t {
    pp_clamd_status_t status;
    const char *virus;     /* FOUND: the signature name as clamd reported it; else NULL */
    const char *reason;    /* never NULL: clamd's reply (CLEAN/FOUND/ERROR) or why clamd could not
                              be used (UNREACHABLE, local errors); control bytes replaced by '?' */
    apr_off_t bytes_sent;  /* file bytes streamed */
    apr_interval_time_t elapsed;
} pp_clamd_result_t;

/*
 * Streams file_path to clamd at address ("unix:/abs/path", "tcp:HOST:PORT", "tcp:[v6]:PORT")
 * with zINSTREAM and reads the verdict. connect_timeout bounds the connection; scan_timeout
 * bounds the whole scan from this call on (connecting, streaming and waiting for the reply), so
 * a caller with a deadline of its own passes what is left of it. A host name is resolved on
 * every call without a timeout of ours: configure a numeric address. Files above clamd's
 * StreamMaxLength come back as ERROR. The socket and file live in a subpool of p destroyed
 * before returning; strings in *res are in p.
 * Returns APR_SUCCESS when clamd gave a verdict (CLEAN, FOUND, or ERROR from clamd). Otherwise
 * returns the APR error with res->status UNREACHABLE only when the connection could not be made,
 * and ERROR for everything else (bad address, file could not be read, and, once connected, the
 * connection closed without a reply: APR_EOF, lost: EPIPE/ECONNRESET, or the scan timeout:
 * APR_TIMEUP), with the reason in res->reason.
 */
apr_status_t pp_clamd_scan(apr_pool_t *p, const char *address, const char *file_path,
                           apr_interval_time_t connect_timeout, apr_interval_time_t scan_timeout,
                           pp_clamd_result_t *res);

/* As pp_clamd_scan, but streams file, an open readable descriptor (the one the store wrote),
 * from offset 0 instead of opening a path; name is only used in messages. The descriptor is
 * left open, positioned wherever the stream stopped. */
apr_status_t pp_clamd_scan_file(apr_pool_t *p, const char *address, apr_file_t *file,
                                const char *name, apr_interval_time_t connect_timeout,
                                apr_interval_time_t scan_timeout, pp_clamd_result_t *res);

/* Sends PING and expects PONG, within timeout overall. APR_SUCCESS with *message "PONG", or an
 * error with *message saying what happened (in p). For start-up diagnostics. */
apr_status_t pp_clamd_ping(apr_pool_t *p, const char *address, apr_interval_time_t timeout,
                           const char **message);

/* Config-time syntax check of a clamd address; does not connect. NULL or a message in p (without
 * a directive name: the caller's setter adds its own). */
const char *pp_clamd_address_check(apr_pool_t *p, const char *address);

/* "CLEAN", "FOUND", "ERROR", "UNREACHABLE". */
const char *pp_clamd_status_name(pp_clamd_status_t status);

#endif
