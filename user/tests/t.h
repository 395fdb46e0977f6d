/*
 * t.h: the tiny harness shared by Ferrite's guest test programs.
 *
 * Each test is one static program (musl-gcc -static -O2) that prints what it
 * checks and exits 0 when every check passed. CHECK(cond) prints
 *     <file>:<line>: CHECK failed: <expression> (errno N: <text>)
 * on stderr and exits 1 at the first failure. Tests must also pass on real
 * Linux; `cargo xtask utest --host` and `--linux` confirm that.
 *
 * Paths: tests name files by their absolute guest path ("/etc/...") through
 * P("/etc/..."), which prefixes $FERRITE_ROOT when it is set, so the same
 * binaries run on a development host against target/user/rootfs.
 */
#ifndef FERRITE_T_H
#define FERRITE_T_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* The test's name, used as the prefix of every line it prints. */
#ifndef T_NAME
#define T_NAME "test"
#endif

#define T_FAIL(expr_text)                                                     \
    do {                                                                      \
        int t_errno_ = errno;                                                 \
        fflush(stdout);                                                       \
        fprintf(stderr, "%s:%d: CHECK failed: %s (errno %d: %s)\n", __FILE__, \
                __LINE__, expr_text, t_errno_, strerror(t_errno_));           \
        fflush(stderr);                                                       \
        _exit(1);                                                             \
    } while (0)

/* Fails the test unless cond holds. The errno shown is whatever errno
 * holds at that point (the last failing call's, if any). */
#define CHECK(cond)                    \
    do {                               \
        if (!(cond)) T_FAIL(#cond);    \
    } while (0)

/* call must fail with -1 and set errno to e. */
#define CHECK_ERR(call, e)                                                    \
    do {                                                                      \
        errno = 0;                                                            \
        long t_r_ = (long)(call);                                             \
        if (t_r_ != -1 || errno != (e)) {                                     \
            int t_errno_ = errno;                                             \
            fflush(stdout);                                                   \
            fprintf(stderr,                                                   \
                    "%s:%d: CHECK failed: %s == -1 with errno %s "            \
                    "(got %ld, errno %d: %s)\n",                              \
                    __FILE__, __LINE__, #call, #e, t_r_, t_errno_,            \
                    strerror(t_errno_));                                      \
            fflush(stderr);                                                   \
            _exit(1);                                                         \
        }                                                                     \
    } while (0)

/* Prints one progress line: "<name>: <what>". */
#define SAY(...)                              \
    do {                                      \
        printf("%s: ", T_NAME);               \
        printf(__VA_ARGS__);                  \
        printf("\n");                         \
        fflush(stdout);                       \
    } while (0)

/* The host path of a guest path: $FERRITE_ROOT + path. */
static inline const char *P(const char *path)
{
    const char *root = getenv("FERRITE_ROOT");
    if (!root || !*root) return path;
    size_t n = strlen(root) + strlen(path) + 1;
    char *b = malloc(n); /* never freed: tests are short-lived */
    if (!b) return path;
    snprintf(b, n, "%s%s", root, path);
    return b;
}

/* Runs fn(arg) in a forked child and returns the child's wait status. */
static inline int t_in_child(void (*fn)(void *), void *arg)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    return status;
}

/* fn(arg) must die of signal sig in a child. */
#define CHECK_KILLED_BY(fn, arg, sig)                                         \
    do {                                                                      \
        int t_st_ = t_in_child((fn), (arg));                                  \
        if (!(WIFSIGNALED(t_st_) && WTERMSIG(t_st_) == (sig))) {              \
            fflush(stdout);                                                   \
            fprintf(stderr,                                                   \
                    "%s:%d: CHECK failed: %s(%s) killed by %s "               \
                    "(wait status %#x: %s %d)\n",                             \
                    __FILE__, __LINE__, #fn, #arg, #sig, t_st_,               \
                    WIFSIGNALED(t_st_) ? "signal" : "exit",                   \
                    WIFSIGNALED(t_st_) ? WTERMSIG(t_st_) : WEXITSTATUS(t_st_)); \
            fflush(stderr);                                                   \
            _exit(1);                                                         \
        }                                                                     \
    } while (0)

/* The whole file at `path`, NUL-terminated, in `buf` (`size` bytes, the
 * last kept for the NUL); its length. CHECK fails on open/read errors. */
/* Mounts proc on /proc unless it is there (Linux's test initramfs boots
 * without it); 1 if it mounted it, for a umount at the end. */
static inline int t_mount_proc(void)
{
    if (access("/proc/self/stat", F_OK) == 0) return 0;
    mkdir("/proc", 0555);
    CHECK(mount("proc", "/proc", "proc", 0, 0) == 0);
    return 1;
}

static inline long t_slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    long len = 0;
    ssize_t n;
    while ((n = read(fd, buf + len, size - 1 - len)) > 0) len += n;
    CHECK(n == 0);
    close(fd);
    buf[len] = 0;
    return len;
}

/* sendmsg(s) of `len` bytes at `data` with `n` (at most 300) descriptors
 * as SCM_RIGHTS; returns sendmsg's result. The raw call: musl's sendmsg
 * refuses more than 1024 control bytes (ENOMEM). */
static inline ssize_t t_send_fds(int s, const void *data, size_t len, const int *fds, int n)
{
    static char ctl[CMSG_SPACE(300 * sizeof(int))];
    memset(ctl, 0, sizeof ctl);
    struct iovec iov = {(void *)data, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                       .msg_controllen = CMSG_SPACE(n * sizeof(int))};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(n * sizeof(int));
    memcpy(CMSG_DATA(c), fds, n * sizeof(int));
    return syscall(SYS_sendmsg, s, &m, 0);
}

#endif
