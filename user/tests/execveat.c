/*
 * execveat: a path from a directory descriptor, an open file
 * (AT_EMPTY_PATH, what fexecve uses), AT_SYMLINK_NOFOLLOW, and the errors.
 */
#define T_NAME "execveat"
#include "t.h"

#include <fcntl.h>
#include <sys/syscall.h>

static char *const ARGV[] = {"true", 0};
static char *const ENVP[] = {0};

/* Runs execveat in a child; returns its exit status, or 1000 + errno when
 * execveat itself failed. */
static int run(int dirfd, const char *path, int flags)
{
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        close(p[0]);
        syscall(SYS_execveat, dirfd, path, ARGV, ENVP, flags);
        int e = errno;
        if (write(p[1], &e, sizeof e) != sizeof e) _exit(126);
        _exit(127);
    }
    close(p[1]);
    int e = 0, st;
    long n = read(p[0], &e, sizeof e);
    close(p[0]);
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st));
    return n == sizeof e ? 1000 + e : WEXITSTATUS(st);
}

int main(void)
{
    int bin = open(P("/bin"), O_RDONLY | O_DIRECTORY);
    CHECK(bin >= 0);
    CHECK(run(bin, "busybox", 0) == 0);
    CHECK(run(AT_FDCWD, P("/bin/busybox"), 0) == 0);
    SAY("a path from a directory descriptor and from AT_FDCWD");

    int exe = open(P("/bin/busybox"), O_RDONLY | O_CLOEXEC);
    CHECK(exe >= 0);
    CHECK(run(exe, "", AT_EMPTY_PATH) == 0);
    SAY("AT_EMPTY_PATH runs the open file itself");

    unlink(P("/tmp/bb-link"));
    CHECK(symlink(P("/bin/busybox"), P("/tmp/bb-link")) == 0);
    CHECK(run(AT_FDCWD, P("/tmp/bb-link"), 0) == 0);
    CHECK(run(AT_FDCWD, P("/tmp/bb-link"), AT_SYMLINK_NOFOLLOW) == 1000 + ELOOP);
    unlink(P("/tmp/bb-link"));
    SAY("AT_SYMLINK_NOFOLLOW refuses a symlink with ELOOP");

    CHECK(run(bin, "busybox", 0x1) == 1000 + EINVAL);
    CHECK(run(12345, "busybox", 0) == 1000 + EBADF);
    CHECK(run(bin, "", 0) == 1000 + ENOENT);
    CHECK(run(exe, "x", 0) == 1000 + ENOTDIR);
    SAY("errors: EINVAL, EBADF, ENOENT, ENOTDIR");
    SAY("ok");
    return 0;
}
