/*
 * util/proc.c: argv-only process runner with a timeout and bounded capture of stdout and stderr.
 * It sits under upload/approve.c (SecUploadApproveScript, reference §6.6), which runs once per
 * intercepted file after the body is parsed; the exec action will use it too.
 *
 * What it deliberately does not do: no shell (APR_PROGRAM, so "; rm -rf" in an argument is just
 * bytes), no PATH search, no stdin (the child reads /dev/null). The child leads its own process
 * group; the timeout signals the whole group, and so does the child's own exit (before it is
 * reaped), so a script's own children (a hung scanner, a `cmd &` left running) end with it; it starts with an empty signal mask, default dispositions and no descriptor above
 * stderr, whatever the calling (Apache worker) thread had. Memory for pipes and buffers lives in a scratch subpool destroyed before
 * returning; only the results are copied into the caller's pool. The child is reaped here, or by a
 * cleanup on the caller's pool when it outlives SIGKILL (uninterruptible sleep).
 */
/* gnu11 defines _GNU_SOURCE: posix_spawn_file_actions_addclosefrom_np */
#include "util/proc.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_portable.h>

#include <apr_file_io.h>
#include <apr_poll.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

extern char **environ;

/* One read from a pipe; also the most we pull from one pipe before looking at the clock again. */
#define READ_CHUNK_BYTES 8192
#define READS_PER_WAKEUP 8
/* While the child runs we wake at least this often to notice that it has exited even when a
 * grandchild keeps the pipes open. */
#define MAX_SLICE_US (apr_time_from_msec(50))
/* After the child is reaped, what is left in the pipes is read without waiting, up to this much:
 * a grandchild that keeps writing must not keep us here. */
#define FINAL_DRAIN_BYTES (1024 * 1024)
/* First wait for the exit once both pipes are closed; doubles up to MAX_SLICE_US. */
#define FIRST_IDLE_US 100

typedef struct sink_t {
    apr_file_t *pipe; /* parent's read end; NULL after EOF or a read error */
    pp_sbuf_t buf;    /* in the scratch pool, at most the stream's limit */
    bool truncated;
} sink_t;

typedef struct child_t {
    apr_proc_t proc;
    bool reaped;
    int code;
    apr_exit_why_e why;
} child_t;

/* Pool cleanup: the last line of defence against zombies when the run gave up waiting. */
static apr_status_t child_cleanup(void *data)
{
    child_t *c = data;

    if (!c->reaped) {
        kill(-c->proc.pid, SIGKILL);
        apr_proc_wait(&c->proc, &c->code, &c->why, APR_WAIT);
        c->reaped = true;
    }
    return APR_SUCCESS;
}

static void sink_init(sink_t *s, apr_file_t *pipe, apr_pool_t *sp, apr_size_t limit)
{
    s->pipe = pipe;
    s->truncated = false;
    pp_sbuf_init_bounded(&s->buf, sp, 1024, limit);
}

static void sink_append(sink_t *s, const char *data, apr_size_t n)
{
    apr_size_t room = pp_sbuf_room(&s->buf);

    if (n > room) {
        s->truncated = true;
        n = room;
    }
    if (n > 0)
        pp_sbuf_add(&s->buf, data, n);
}

/* Reads what the pipe has right now (our end is non-blocking), at most *budget bytes, so that a
 * child that writes without pause still lets the caller look at the clock. */
static void sink_read(sink_t *s, apr_size_t *budget)
{
    char chunk[READ_CHUNK_BYTES];

    while (s->pipe != NULL && *budget > 0) {
        apr_size_t n = sizeof(chunk);
        apr_status_t rv = apr_file_read(s->pipe, chunk, &n);
        if (n > 0)
            sink_append(s, chunk, n);
        if (APR_STATUS_IS_EAGAIN(rv))
            return;
        if (rv != APR_SUCCESS) {
            s->pipe = NULL; /* EOF, or an error that leaves nothing more to read here */
            return;
        }
        *budget = *budget > n ? *budget - n : 0;
    }
}

/* Waits up to slice for output on the open pipes and reads it; sleeps when both are closed. */
static void wait_for_output(sink_t *sinks, int count, apr_pool_t *sp, apr_interval_time_t slice)
{
    apr_pollfd_t pfd[2];
    apr_int32_t n = 0, ready = 0;

    for (int i = 0; i < count; i++) {
        if (sinks[i].pipe == NULL)
            continue;
        memset(&pfd[n], 0, sizeof(pfd[n]));
        pfd[n].p = sp;
        pfd[n].desc_type = APR_POLL_FILE;
        pfd[n].reqevents = APR_POLLIN;
        pfd[n].desc.f = sinks[i].pipe;
        pfd[n].client_data = &sinks[i];
        n++;
    }
    if (n == 0) {
        apr_sleep(slice);
        return;
    }
    /* poll(2) counts whole milliseconds: round up rather than spin through a 0 ms poll. */
    slice = (slice + 999) / 1000 * 1000;
    if (apr_poll(pfd, n, &ready, slice) != APR_SUCCESS)
        return; /* timeout or EINTR: the caller looks at the clock and the child */
    for (apr_int32_t i = 0; i < n; i++) {
        if (pfd[i].rtnevents != 0) {
            apr_size_t budget = (apr_size_t)READ_CHUNK_BYTES * READS_PER_WAKEUP;
            sink_read(pfd[i].client_data, &budget);
        }
    }
}

/* Ends what the child left behind in its process group (`sleep 100 &` keeping our pipe, a
 * daemon it forked) once the child itself has exited. The child is looked at with WNOWAIT, so it
 * is still an unreaped zombie when the group is signalled: its PID, which is the group's id,
 * cannot have been reused by anyone else, and a group of strangers can never be hit. Only then is
 * it reaped. Processes that left the group (setsid) are beyond reach, as documented. */
static void reap_nowait(child_t *c)
{
    siginfo_t info;

    memset(&info, 0, sizeof(info));
    if (waitid(P_PID, (id_t)c->proc.pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
        if (info.si_pid != c->proc.pid)
            return; /* still running */
        kill(-c->proc.pid, SIGKILL);
    } else if (errno == EINTR) {
        return;
    }
    apr_status_t rv = apr_proc_wait(&c->proc, &c->code, &c->why, APR_NOWAIT);

    if (rv == APR_CHILD_DONE)
        c->reaped = true;
    else if (rv != APR_CHILD_NOTDONE && !APR_STATUS_IS_EINTR(rv))
        c->reaped = true; /* ECHILD: someone else reaped it; nothing is left to wait for */
}

typedef struct watch_t {
    apr_time_t deadline; /* when SIGTERM is due */
    apr_time_t term_at;  /* when SIGTERM was sent, 0 = not yet */
    apr_time_t kill_at;  /* when SIGKILL was sent, 0 = not yet */
} watch_t;

/* Sends SIGTERM, then SIGKILL, as their times come. Returns when the next step is due, or 0 when
 * even SIGKILL did not end the child in time (it is stuck in the kernel): stop waiting then, and
 * let child_cleanup on the caller's pool reap it. */
static apr_time_t escalate(child_t *c, watch_t *w, apr_time_t now, pp_proc_result_t *res)
{
    if (w->term_at == 0 && now >= w->deadline) {
        res->timed_out = true;
        kill(-c->proc.pid, SIGTERM);
        w->term_at = now;
    } else if (w->term_at != 0 && w->kill_at == 0 && now >= w->term_at + PP_PROC_KILL_GRACE_US) {
        kill(-c->proc.pid, SIGKILL);
        w->kill_at = now;
    } else if (w->kill_at != 0 && now >= w->kill_at + PP_PROC_KILL_GRACE_US) {
        return 0;
    }
    if (w->term_at == 0)
        return w->deadline;
    if (w->kill_at == 0)
        return w->term_at + PP_PROC_KILL_GRACE_US;
    return w->kill_at + PP_PROC_KILL_GRACE_US;
}

/* Reads output until the child is reaped (or given up on), then takes what is left in the pipes. */
static void supervise(child_t *c, sink_t *sinks, apr_pool_t *sp, apr_time_t deadline,
                      pp_proc_result_t *res)
{
    watch_t w = { .deadline = deadline };
    /* Once both pipes are closed the child is normally exiting: look for it quickly at first. */
    apr_interval_time_t idle = FIRST_IDLE_US;

    for (;;) {
        reap_nowait(c);
        if (c->reaped)
            break;
        apr_time_t now = apr_time_now();
        apr_time_t next_event = escalate(c, &w, now, res);
        if (next_event == 0)
            break;
        apr_interval_time_t slice = next_event > now ? next_event - now : 0;
        if (slice > MAX_SLICE_US)
            slice = MAX_SLICE_US;
        if (sinks[0].pipe == NULL && sinks[1].pipe == NULL) {
            if (slice > idle)
                slice = idle;
            if (idle < MAX_SLICE_US)
                idle *= 2;
        }
        wait_for_output(sinks, 2, sp, slice);
    }
    for (int i = 0; i < 2; i++) {
        /* The child has exited, so everything it wrote is already in the pipe. */
        apr_size_t budget = FINAL_DRAIN_BYTES;
        sink_read(&sinks[i], &budget);
    }
}

/* posix_spawn rather than apr_proc_create: the child must not inherit the calling thread's
 * signal mask (Apache's worker threads block everything, so SIGTERM would do nothing) or ignored
 * signals (SIGPIPE), it gets a process group of its own so a timeout ends its children too, and
 * no descriptor above stderr crosses over (listening sockets, logs). */
static apr_status_t spawn(apr_pool_t *sp, const char *const *argv, const char *const *envp,
                          apr_proc_t *proc)
{
    apr_file_t *out_r, *out_w, *err_r, *err_w;
    apr_os_file_t out_fd, err_fd;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dfl;
    pid_t pid;
    apr_status_t rv;

    if (access(argv[0], X_OK) != 0)
        return APR_FROM_OS_ERROR(errno);
    if ((rv = apr_file_pipe_create_ex(&out_r, &out_w, APR_WRITE_BLOCK, sp)))
        return rv;
    if ((rv = apr_file_pipe_create_ex(&err_r, &err_w, APR_WRITE_BLOCK, sp)))
        return rv;
    if ((rv = apr_os_file_get(&out_fd, out_w)) || (rv = apr_os_file_get(&err_fd, err_w)))
        return rv;
    sigemptyset(&none);
    sigfillset(&dfl);
    sigdelset(&dfl, SIGKILL);
    sigdelset(&dfl, SIGSTOP);
    int err = posix_spawn_file_actions_init(&fa);
    if (err != 0)
        return APR_FROM_OS_ERROR(err);
    if ((err = posix_spawnattr_init(&at)) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return APR_FROM_OS_ERROR(err);
    }
    /* These fail only on ENOMEM or a bad argument, but a child set up without any one of them
     * (its own group, an empty mask, no inherited descriptors) is not started at all. */
    if (!err)
        err = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (!err)
        err = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    if (!err)
        err = posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
    if (!err)
        err = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
    if (!err)
        err = posix_spawnattr_setsigmask(&at, &none);
    if (!err)
        err = posix_spawnattr_setsigdefault(&at, &dfl);
    if (!err)
        err = posix_spawnattr_setpgroup(&at, 0);
    if (!err)
        err = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                POSIX_SPAWN_SETPGROUP);
    if (envp == NULL)
        envp = (const char *const *)environ;
    if (!err)
        err = posix_spawn(&pid, argv[0], &fa, &at, (char *const *)argv, (char *const *)envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    apr_file_close(out_w);
    apr_file_close(err_w);
    if (err != 0)
        return APR_FROM_OS_ERROR(err);
    memset(proc, 0, sizeof(*proc));
    proc->pid = pid;
    proc->out = out_r;
    proc->err = err_r;
    return APR_SUCCESS;
}

static pp_str_t sink_copy(apr_pool_t *p, const sink_t *s)
{
    return pp_str_dup(p, (pp_str_t){ s->buf.data, s->buf.len });
}

static void record_outcome(const child_t *c, pp_proc_result_t *res)
{
    res->reaped = c->reaped;
    if (!c->reaped)
        return;
    if (APR_PROC_CHECK_EXIT(c->why)) {
        res->exited = true;
        res->exit_code = c->code;
    } else if (APR_PROC_CHECK_SIGNALED(c->why)) {
        res->signalled = true;
        res->signal = c->code;
        res->core_dumped = APR_PROC_CHECK_CORE_DUMP(c->why);
    }
}

apr_status_t pp_proc_run_env(apr_pool_t *p, const char *const *argv, const char *const *envp,
                             apr_interval_time_t timeout, apr_size_t max_output,
                             pp_proc_result_t *res)
{
    apr_pool_t *sp;
    apr_status_t rv;

    if (res == NULL)
        return APR_EINVAL;
    memset(res, 0, sizeof(*res));
    res->output = res->errout = (pp_str_t){ "", 0 };
    if (p == NULL || argv == NULL || argv[0] == NULL || timeout <= 0)
        return APR_EINVAL;
    if ((rv = apr_pool_create(&sp, p)))
        return rv;
    apr_pool_tag(sp, "pp_proc");
    /* In p, not sp: the cleanup may have to outlive this call. */
    child_t *c = apr_pcalloc(p, sizeof(*c));
    apr_time_t start = apr_time_now();
    if ((rv = spawn(sp, argv, envp, &c->proc))) {
        apr_pool_destroy(sp);
        return rv;
    }
    apr_pool_cleanup_register(p, c, child_cleanup, apr_pool_cleanup_null);

    sink_t sinks[2];
    sink_init(&sinks[0], c->proc.out, sp, max_output);
    sink_init(&sinks[1], c->proc.err, sp, PP_PROC_STDERR_MAX_BYTES);
    supervise(c, sinks, sp, start + timeout, res);
    res->elapsed = apr_time_now() - start;
    record_outcome(c, res);
    res->truncated = sinks[0].truncated;
    res->output = sink_copy(p, &sinks[0]);
    res->errout = sink_copy(p, &sinks[1]);
    apr_pool_destroy(sp); /* closes our pipe ends */
    if (c->reaped)
        apr_pool_cleanup_kill(p, c, child_cleanup);
    return APR_SUCCESS;
}

apr_status_t pp_proc_run(apr_pool_t *p, const char *const *argv, apr_interval_time_t timeout,
                         apr_size_t max_output, pp_proc_result_t *res)
{
    return pp_proc_run_env(p, argv, NULL, timeout, max_output, res);
}

/* ---- pp_proc_start: run without waiting ---------------------------------------------------- */

typedef struct bg_t {
    child_t child;
    apr_pool_t *sp;  /* pipes and output; a subpool of the caller's pool */
    apr_time_t start;
    apr_interval_time_t timeout;
    apr_size_t max_output;
    pp_proc_done_fn done;
    void *ctx;
} bg_t;

/* A pre-cleanup of the caller's pool, so it runs while the pool's subpools (the pipes) and
 * everything else in it still exist: supervises the child exactly as pp_proc_run_env does,
 * from the time left until its deadline, then hands the result over. */
static apr_status_t bg_cleanup(void *data)
{
    bg_t *b = data;
    pp_proc_result_t res;

    memset(&res, 0, sizeof(res));
    sink_t sinks[2];
    sink_init(&sinks[0], b->child.proc.out, b->sp, b->max_output);
    sink_init(&sinks[1], b->child.proc.err, b->sp, PP_PROC_STDERR_MAX_BYTES);
    supervise(&b->child, sinks, b->sp, b->start + b->timeout, &res);
    res.elapsed = apr_time_now() - b->start;
    record_outcome(&b->child, &res);
    res.truncated = sinks[0].truncated;
    res.output = sink_copy(b->sp, &sinks[0]);
    res.errout = sink_copy(b->sp, &sinks[1]);
    if (b->done)
        b->done(b->ctx, &res);
    child_cleanup(&b->child); /* only when it outlived SIGKILL: waits for it */
    apr_pool_destroy(b->sp);
    return APR_SUCCESS;
}

apr_status_t pp_proc_start(apr_pool_t *p, const char *const *argv, const char *const *envp,
                           apr_interval_time_t timeout, apr_size_t max_output,
                           pp_proc_done_fn done, void *ctx)
{
    apr_status_t rv;

    if (p == NULL || argv == NULL || argv[0] == NULL || timeout <= 0)
        return APR_EINVAL;
    bg_t *b = apr_pcalloc(p, sizeof(*b));
    if ((rv = apr_pool_create(&b->sp, p)))
        return rv;
    apr_pool_tag(b->sp, "pp_proc_start");
    b->start = apr_time_now();
    b->timeout = timeout;
    b->max_output = max_output;
    b->done = done;
    b->ctx = ctx;
    if ((rv = spawn(b->sp, argv, envp, &b->child.proc))) {
        apr_pool_destroy(b->sp);
        return rv;
    }
    apr_pool_pre_cleanup_register(p, b, bg_cleanup);
    return APR_SUCCESS;
}
