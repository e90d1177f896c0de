/*
 * upload/store.c: where intercepted files live while the request is inspected (reference §6.5).
 * body/files.c streams multipart file parts and PUT bodies (body/dispatch.c) into a
 * pp_upload_file_t; the clamd client then reads it through the descriptor it was written with,
 * the approval script by path (only from a directory no other user can write, see
 * pp_upload_dir_private); the keep policy (SecUploadKeepFiles) decides at the end of the
 * transaction whether it survives.
 *
 * Each file gets its own subpool, so destroying the transaction pool closes and unlinks every
 * file on every exit path (deny, abort, error) without per-path clean-up code. Names follow
 * 2.x (`<dir>/<YYYYMMDD-HHMMSS>-<unique id>-file-XXXXXX`, §6.5 [impl]) with a random suffix and
 * O_EXCL, so they cannot be guessed or pre-created. Mode is set with fchmod to 0640, so neither a
 * permissive umask nor a restrictive one changes it; the group comes from the directory (setgid).
 *
 * A file whose write or close failed is removed at once and can no longer be kept: a truncated
 * file is never mistaken for an upload, and a full directory recovers as soon as the failing
 * requests end (attack run D10).
 *
 * Deliberately not here: which files to keep (the transaction decides, §1.3 relevance), size
 * limits (the body layer), and any buffering (writes go straight to the descriptor so an error is
 * reported by the write that caused it).
 */
#include "upload/upload.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_portable.h>
#include <apr_strings.h>

/* Longest part of a unique id that goes into a file name (NAME_MAX is 255 on Linux). */
#define UNIQUE_ID_MAX_CHARS 128

struct pp_upload_file_t {
    apr_pool_t *pool;   /* own subpool: destroying it closes and (unless kept) unlinks */
    apr_file_t *fd;     /* NULL once closed */
    char *path;
    apr_off_t size;     /* bytes written successfully */
    apr_status_t error; /* first write/close failure, returned again by later writes */
    bool created;       /* the name exists on disk and is ours to remove */
    bool keep;
};

/* Registered before the file is created, so it runs after APR's close cleanup (LIFO order). */
static apr_status_t file_cleanup(void *data)
{
    pp_upload_file_t *f = data;

    if (f->created && !f->keep)
        apr_file_remove(f->path, f->pool);
    return APR_SUCCESS;
}

/* The unique id normally comes from mod_unique_id or the engine, but it ends up in a path, so
 * anything that could form a separator or a control sequence is replaced. */
static const char *safe_unique_id(apr_pool_t *p, const char *unique_id)
{
    if (unique_id == NULL || *unique_id == '\0')
        return "noid";
    apr_size_t len = strlen(unique_id);
    if (len > UNIQUE_ID_MAX_CHARS)
        len = UNIQUE_ID_MAX_CHARS;
    char *safe = apr_pstrmemdup(p, unique_id, len);
    for (char *c = safe; *c; c++) {
        if (!apr_isalnum(*c) && *c != '@' && *c != '_' && *c != '-' && *c != '.')
            *c = '_';
    }
    return safe;
}

static char *make_template(apr_pool_t *p, const char *dir, const char *unique_id)
{
    apr_time_exp_t tm;
    char stamp[32];
    apr_size_t stamp_len = 0;

    apr_time_exp_lt(&tm, apr_time_now());
    apr_strftime(stamp, &stamp_len, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    stamp[stamp_len] = '\0';
    apr_size_t dir_len = strlen(dir);
    const char *sep = (dir_len > 0 && dir[dir_len - 1] == '/') ? "" : "/";
    return apr_pstrcat(p, dir, sep, stamp, "-", safe_unique_id(p, unique_id), "-file-XXXXXX",
                       NULL);
}

/* fchmod on the descriptor we hold, not chmod on the name: nobody can swap the name under us. */
static apr_status_t restrict_mode(apr_file_t *file, int mode)
{
    apr_os_file_t fd;
    apr_status_t rv = apr_os_file_get(&fd, file);

    if (rv != APR_SUCCESS)
        return rv;
    if (fchmod(fd, (mode_t)mode) != 0)
        return APR_FROM_OS_ERROR(errno);
    return APR_SUCCESS;
}

apr_status_t pp_upload_file_create(apr_pool_t *parent, const char *dir, const char *unique_id,
                                   pp_upload_file_t **out)
{
    return pp_upload_file_create_mode(parent, dir, unique_id, PP_UPLOAD_FILE_MODE, out);
}

apr_status_t pp_upload_file_create_mode(apr_pool_t *parent, const char *dir,
                                        const char *unique_id, int mode, pp_upload_file_t **out)
{
    apr_pool_t *sp;
    apr_status_t rv;

    if (out == NULL)
        return APR_EINVAL;
    *out = NULL;
    if (parent == NULL || dir == NULL || *dir == '\0')
        return APR_EINVAL;
    if ((rv = apr_pool_create(&sp, parent)) != APR_SUCCESS)
        return rv;
    apr_pool_tag(sp, "pp_upload_file");
    pp_upload_file_t *f = apr_pcalloc(sp, sizeof(*f));
    f->pool = sp;
    apr_pool_cleanup_register(sp, f, file_cleanup, apr_pool_cleanup_null);
    f->path = make_template(sp, dir, unique_id);
    rv = apr_file_mktemp(&f->fd, f->path,
                         APR_FOPEN_CREATE | APR_FOPEN_EXCL | APR_FOPEN_READ | APR_FOPEN_WRITE |
                             APR_FOPEN_BINARY,
                         sp);
    if (rv == APR_SUCCESS) {
        f->created = true;
        rv = restrict_mode(f->fd, mode);
    }
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(sp); /* closes and unlinks a half-made file */
        return rv;
    }
    *out = f;
    return APR_SUCCESS;
}

/* A file the store failed to write (ENOSPC, EIO, EFBIG, a short write, a failed close) has a hole
 * in it: it is closed and unlinked at once, so it frees its space while the request is still
 * being answered and no keep policy can preserve it. The path stays for messages. */
static void discard(pp_upload_file_t *f)
{
    if (f->fd != NULL) {
        apr_file_close(f->fd);
        f->fd = NULL;
    }
    if (f->created)
        apr_file_remove(f->path, f->pool);
    f->created = false;
}

apr_status_t pp_upload_file_write(pp_upload_file_t *f, const char *data, apr_size_t len)
{
    apr_size_t written = 0;

    if (f->error != APR_SUCCESS)
        return f->error;
    if (f->fd == NULL)
        return APR_EBADF;
    if (len == 0)
        return APR_SUCCESS;
    apr_status_t rv = apr_file_write_full(f->fd, data, len, &written);
    f->size += (apr_off_t)written;
    if (rv == APR_SUCCESS && written != len)
        rv = APR_EGENERAL; /* cannot happen with write_full, but a short write is never success */
    if (rv != APR_SUCCESS) {
        f->error = rv;
        discard(f);
    }
    return rv;
}

apr_status_t pp_upload_file_close(pp_upload_file_t *f)
{
    if (f->fd == NULL)
        return APR_SUCCESS;
    apr_status_t rv = apr_file_flush(f->fd);
    apr_status_t crv = apr_file_close(f->fd);
    f->fd = NULL;
    if (rv == APR_SUCCESS)
        rv = crv;
    if (rv != APR_SUCCESS) {
        if (f->error == APR_SUCCESS)
            f->error = rv;
        discard(f);
    }
    return rv;
}

apr_file_t *pp_upload_file_handle(const pp_upload_file_t *f)
{
    return f->fd;
}

apr_status_t pp_upload_file_flush(pp_upload_file_t *f)
{
    if (f->error != APR_SUCCESS)
        return f->error;
    if (f->fd == NULL)
        return APR_EBADF;
    apr_status_t rv = apr_file_flush(f->fd);
    if (rv != APR_SUCCESS) {
        f->error = rv;
        discard(f);
    }
    return rv;
}

const char *pp_upload_file_path(const pp_upload_file_t *f)
{
    return f->path;
}

apr_off_t pp_upload_file_size(const pp_upload_file_t *f)
{
    return f->size;
}

void pp_upload_file_keep(pp_upload_file_t *f, bool keep)
{
    f->keep = keep;
}

void pp_upload_file_release(pp_upload_file_t *f)
{
    apr_pool_destroy(f->pool);
}

/* Existence and type; NULL when dir is a directory. */
static const char *dir_stat_check(apr_pool_t *p, const char *dir, apr_finfo_t *fi)
{
    char err[256];

    if (dir == NULL || *dir == '\0')
        return "SecUploadDir: no directory given";
    apr_status_t rv = apr_stat(fi, dir, APR_FINFO_TYPE | APR_FINFO_OWNER | APR_FINFO_PROT, p);
    if (APR_STATUS_IS_ENOENT(rv) || APR_STATUS_IS_ENOTDIR(rv))
        return apr_psprintf(p, "SecUploadDir: %s does not exist", dir);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE)
        return apr_psprintf(p, "SecUploadDir: cannot examine %s: %s", dir,
                            apr_strerror(rv, err, sizeof(err)));
    if (fi->filetype != APR_DIR)
        return apr_psprintf(p, "SecUploadDir: %s is not a directory", dir);
    return NULL;
}

const char *pp_upload_dir_check(apr_pool_t *p, const char *dir)
{
    apr_finfo_t fi;
    const char *msg = dir_stat_check(p, dir, &fi);

    if (msg != NULL)
        return msg;
    /* The effective ids decide what the server can do, and access(2) would use the real ones.
     * This also catches ACLs and read-only mounts. */
    if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
        return apr_psprintf(p, "SecUploadDir: %s is not writable by uid %ld", dir,
                            (long)geteuid());
    return NULL;
}

const char *pp_upload_dir_check_as(apr_pool_t *p, const char *dir, apr_uid_t uid, apr_gid_t gid)
{
    apr_finfo_t fi;
    const char *msg = dir_stat_check(p, dir, &fi);
    apr_fileperms_t need;

    if (msg != NULL)
        return msg;
    if (uid == 0)
        return NULL;
    if (fi.user == uid)
        need = APR_UWRITE | APR_UEXECUTE;
    else if (fi.group == gid)
        need = APR_GWRITE | APR_GEXECUTE;
    else
        need = APR_WWRITE | APR_WEXECUTE;
    if ((fi.protection & need) != need)
        return apr_psprintf(p, "SecUploadDir: %s is not writable by uid %ld", dir, (long)uid);
    return NULL;
}

/* One directory on the way to SecUploadDir: NULL when only root or we can change what it holds
 * (owned by one of us, and not writable by group or others unless the sticky bit stops them
 * from renaming or replacing entries they do not own). */
static const char *component_private(apr_pool_t *p, const char *dir, const char *path,
                                     uid_t euid)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return apr_psprintf(p, "SecUploadDir %s: cannot examine %s: %s", dir, path,
                            strerror(errno));
    if (S_ISLNK(st.st_mode))
        return NULL; /* replacing it takes write access to its parent, checked on its own */
    if (st.st_uid != 0 && st.st_uid != euid)
        return apr_psprintf(p, "SecUploadDir %s: %s belongs to uid %ld", dir, path,
                            (long)st.st_uid);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
        return apr_psprintf(p, "SecUploadDir %s: %s is writable by %s (mode %04o)", dir, path,
                            (st.st_mode & S_IWOTH) ? "others" : "its group",
                            (unsigned)(st.st_mode & 07777));
    return NULL;
}

/* Every ancestor of path and path itself, from the top. */
static const char *path_private(apr_pool_t *p, const char *dir, const char *path, uid_t euid)
{
    char *walk = apr_pstrdup(p, path);
    const char *msg = component_private(p, dir, "/", euid);

    for (char *slash = strchr(walk + 1, '/'); msg == NULL; slash = strchr(slash + 1, '/')) {
        if (slash != NULL)
            *slash = '\0';
        if (*walk != '\0' && strcmp(walk, "/") != 0)
            msg = component_private(p, dir, walk, euid);
        if (slash == NULL)
            break;
        *slash = '/';
    }
    return msg;
}

const char *pp_upload_dir_private(apr_pool_t *p, const char *dir)
{
    char real[PATH_MAX];

    if (dir == NULL || dir[0] != '/')
        return apr_psprintf(p, "SecUploadDir %s is not an absolute path", dir ? dir : "(none)");
    uid_t euid = geteuid();
    /* The path as written, then the path it resolves to: a symlink on the way is safe when the
     * directory holding it is, and its target must be as private. */
    const char *msg = path_private(p, dir, dir, euid);
    if (msg == NULL) {
        if (realpath(dir, real) == NULL)
            return apr_psprintf(p, "SecUploadDir %s: cannot resolve: %s", dir, strerror(errno));
        msg = path_private(p, dir, real, euid);
    }
    return msg;
}
