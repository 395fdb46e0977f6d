/* fsmisc: smaller file system calls. creat (mode, truncation, write-only),
 * fchdir (directories, O_PATH, ENOTDIR, EBADF, EACCES), close_range
 * (closing, CLOSE_RANGE_CLOEXEC, bad flags and ranges), preadv/pwritev and
 * preadv2/pwritev2 (offsets, -1 = file position, RWF_APPEND, unknown
 * flags, pipes), F_GETPIPE_SZ/F_SETPIPE_SZ (rounding, EBUSY, EPERM for an
 * unprivileged user above pipe-max-size) and pipe2(O_DIRECT). */
#define T_NAME "fsmisc"
#include "t.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#define RWF_HIPRI_ 1
#define RWF_APPEND_ 0x10
#define CLOSE_RANGE_UNSHARE_ 2
#define CLOSE_RANGE_CLOEXEC_ 4

static long close_range_(unsigned a, unsigned b, unsigned f) { return syscall(SYS_close_range, a, b, f); }
static long preadv2_(int fd, struct iovec *v, int n, long off, int fl)
{
    return syscall(SYS_preadv2, fd, v, n, off, 0, fl);
}
static long pwritev2_(int fd, struct iovec *v, int n, long off, int fl)
{
    return syscall(SYS_pwritev2, fd, v, n, off, 0, fl);
}

/* Runs fn as user 65534 in a child; returns its exit status. */
static int as_nobody(int (*fn)(void *), void *arg)
{
    pid_t p = fork();
    if (p == 0) {
        if (setgid(65534) || setuid(65534)) _exit(99);
        _exit(fn(arg));
    }
    int st;
    CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st));
    return WEXITSTATUS(st);
}

static int fchdir_denied(void *arg)
{
    errno = 0;
    return fchdir(*(int *)arg) == -1 && errno == EACCES ? 0 : 1;
}

static int pipe_too_big(void *arg)
{
    (void)arg;
    int p[2];
    if (pipe(p)) return 2;
    errno = 0;
    if (fcntl(p[1], F_SETPIPE_SZ, 2 << 20) != -1 || errno != EPERM) return 1;
    /* Up to pipe-max-size is fine for anyone. */
    return fcntl(p[1], F_SETPIPE_SZ, 1 << 20) == (1 << 20) ? 0 : 3;
}

static void test_creat(void)
{
    const char *f = P("/tmp/fsmisc-creat");
    unlink(f);
    umask(022);
    int fd = creat(f, 0666);
    CHECK(fd >= 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0644);
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY);
    char c;
    CHECK_ERR(read(fd, &c, 1), EBADF);
    CHECK(write(fd, "hello", 5) == 5);
    CHECK(close(fd) == 0);
    /* An existing file is truncated, its mode kept. */
    fd = creat(f, 0600);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0 && (st.st_mode & 0777) == 0644);
    close(fd);
    CHECK_ERR(creat(P("/tmp/fsmisc-nodir/x"), 0600), ENOENT);
    CHECK_ERR(creat(P("/tmp"), 0600), EISDIR);
    CHECK(unlink(f) == 0);
    SAY("creat ok");
}

static void test_fchdir(void)
{
    const char *d = P("/tmp/fsmisc-dir");
    rmdir(d);
    CHECK(mkdir(d, 0700) == 0);
    char old[512], now[512];
    CHECK(getcwd(old, sizeof old) != NULL);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK(fchdir(dfd) == 0);
    CHECK(getcwd(now, sizeof now) != NULL && strcmp(now, d) == 0);
    CHECK(chdir(old) == 0);
    int pfd = open(d, O_PATH);
    CHECK(pfd >= 0 && fchdir(pfd) == 0);
    CHECK(getcwd(now, sizeof now) != NULL && strcmp(now, d) == 0);
    CHECK(chdir(old) == 0);
    close(pfd);
    int ffd = open(P("/tmp/fsmisc-f"), O_CREAT | O_RDWR, 0600);
    CHECK(ffd >= 0);
    CHECK_ERR(fchdir(ffd), ENOTDIR);
    close(ffd);
    unlink(P("/tmp/fsmisc-f"));
    CHECK_ERR(fchdir(-1), EBADF);
    CHECK_ERR(fchdir(999), EBADF);
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK_ERR(fchdir(p[0]), ENOTDIR);
    close(p[0]);
    close(p[1]);
    /* 0700 root-owned: no search permission for nobody. */
    CHECK(as_nobody(fchdir_denied, &dfd) == 0);
    close(dfd);
    CHECK(rmdir(d) == 0);
    SAY("fchdir ok");
}

static void test_close_range(void)
{
    int base = dup(0);
    CHECK(base >= 0);
    for (int i = 1; i < 5; i++) CHECK(dup2(base, base + i) == base + i);
    CHECK_ERR(close_range_(5, 4, 0), EINVAL);
    CHECK_ERR(close_range_(base, base + 4, 8), EINVAL);
    CHECK_ERR(close_range_(base, base + 4, 1), EINVAL);
    /* CLOEXEC marks without closing. */
    CHECK(close_range_(base + 3, base + 4, CLOSE_RANGE_CLOEXEC_) == 0);
    CHECK(fcntl(base + 3, F_GETFD) == FD_CLOEXEC && fcntl(base + 4, F_GETFD) == FD_CLOEXEC);
    CHECK(fcntl(base + 2, F_GETFD) == 0);
    /* Closes what is open in the range; gaps and the end are fine. */
    CHECK(close(base + 1) == 0);
    CHECK(close_range_(base, base + 2, 0) == 0);
    CHECK_ERR(fcntl(base, F_GETFD), EBADF);
    CHECK_ERR(fcntl(base + 2, F_GETFD), EBADF);
    CHECK(fcntl(base + 3, F_GETFD) == FD_CLOEXEC);
    CHECK(close_range_(base + 3, ~0U, CLOSE_RANGE_UNSHARE_) == 0);
    CHECK_ERR(fcntl(base + 3, F_GETFD), EBADF);
    CHECK_ERR(fcntl(base + 4, F_GETFD), EBADF);
    CHECK(close_range_(900, 1000, 0) == 0);
    CHECK(fcntl(0, F_GETFD) >= 0);
    SAY("close_range ok");
}

static void test_rwv(void)
{
    const char *f = P("/tmp/fsmisc-rwv");
    int fd = open(f, O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(fd >= 0);
    struct iovec w[2] = {{"abc", 3}, {"defgh", 5}};
    CHECK(pwritev(fd, w, 2, 4) == 8);
    CHECK(lseek(fd, 0, SEEK_CUR) == 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 12);
    char a[4], b[16];
    memset(b, 'x', sizeof b);
    struct iovec r[2] = {{a, 4}, {b, 16}};
    CHECK(preadv(fd, r, 2, 0) == 12);
    CHECK(memcmp(a, "\0\0\0\0", 4) == 0 && memcmp(b, "abcdefgh", 8) == 0 && b[8] == 'x');
    CHECK(preadv(fd, r, 2, 100) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 0);
    CHECK_ERR(preadv(fd, r, 2, -1), EINVAL);
    CHECK_ERR(pwritev(fd, w, 2, -2), EINVAL);
    CHECK_ERR(preadv(fd, r, -1, 0), EINVAL);
    CHECK_ERR(preadv(fd, (struct iovec *)8, 1, 0), EFAULT);
    CHECK_ERR(preadv(-1, r, 2, 0), EBADF);
    /* preadv2 at -1: the file position, which moves. */
    CHECK(lseek(fd, 6, SEEK_SET) == 6);
    struct iovec r1 = {b, 3};
    CHECK(preadv2_(fd, &r1, 1, -1, 0) == 3 && memcmp(b, "cde", 3) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 9);
    CHECK(preadv2_(fd, &r1, 1, 4, RWF_HIPRI_) == 3 && memcmp(b, "abc", 3) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 9);
    CHECK_ERR(preadv2_(fd, &r1, 1, 0, 0x40000000), EOPNOTSUPP);
    CHECK_ERR(pwritev2_(fd, w, 2, 0, 0x40000000), EOPNOTSUPP);
    CHECK_ERR(preadv2_(fd, &r1, 1, -2, 0), EINVAL);
    /* RWF_APPEND writes at the end whatever the offset. */
    struct iovec z = {"Z", 1};
    CHECK(pwritev2_(fd, &z, 1, 0, RWF_APPEND_) == 1);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 13);
    CHECK(pread(fd, b, 1, 12) == 1 && b[0] == 'Z');
    CHECK(pread(fd, b, 1, 0) == 1 && b[0] == 0);
    /* pwritev2 at -1 writes at the position and moves it. */
    CHECK(lseek(fd, 1, SEEK_SET) == 1);
    CHECK(pwritev2_(fd, &z, 1, -1, 0) == 1);
    CHECK(lseek(fd, 0, SEEK_CUR) == 2);
    CHECK(pread(fd, b, 2, 0) == 2 && b[0] == 0 && b[1] == 'Z');
    close(fd);
    fd = open(f, O_RDONLY);
    CHECK_ERR(pwritev(fd, w, 2, 0), EBADF);
    close(fd);
    fd = open(f, O_WRONLY);
    CHECK_ERR(preadv(fd, r, 2, 0), EBADF);
    close(fd);
    unlink(f);
    /* Pipes have no offsets; preadv2/pwritev2 at -1 work on them. */
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK_ERR(preadv(p[0], r, 2, 0), ESPIPE);
    CHECK_ERR(pwritev(p[1], w, 2, 0), ESPIPE);
    CHECK(pwritev2_(p[1], w, 2, -1, 0) == 8);
    struct iovec r2 = {b, 16};
    CHECK(preadv2_(p[0], &r2, 1, -1, 0) == 8 && memcmp(b, "abcdefgh", 8) == 0);
    close(p[0]);
    close(p[1]);
    SAY("preadv/pwritev ok");
}

static void test_pipe_size(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(fcntl(p[0], F_GETPIPE_SZ) == 65536 && fcntl(p[1], F_GETPIPE_SZ) == 65536);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 100) == 4096);
    CHECK(fcntl(p[0], F_GETPIPE_SZ) == 4096);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 0) == 4096);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 5000) == 8192);
    /* Full: a non-blocking write stops at the new capacity. */
    CHECK(fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
    static char buf[16384];
    CHECK(write(p[1], buf, sizeof buf) == 8192);
    CHECK_ERR(write(p[1], buf, 1), EAGAIN);
    CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, 4096), EBUSY);
    CHECK(fcntl(p[0], F_GETPIPE_SZ) == 8192);
    CHECK(read(p[0], buf, sizeof buf) == 8192);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) == 4096);
    CHECK(write(p[1], buf, sizeof buf) == 4096);
    CHECK(read(p[0], buf, sizeof buf) == 4096);
    /* Root may go above pipe-max-size. */
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 2 << 20) == (2 << 20));
    CHECK(write(p[1], buf, sizeof buf) == sizeof buf);
    close(p[0]);
    close(p[1]);
    CHECK(as_nobody(pipe_too_big, NULL) == 0);
    int fd = open(P("/tmp/fsmisc-p"), O_CREAT | O_RDWR, 0600);
    CHECK(fd >= 0);
    CHECK_ERR(fcntl(fd, F_GETPIPE_SZ), EBADF);
    CHECK_ERR(fcntl(fd, F_SETPIPE_SZ, 4096), EBADF);
    close(fd);
    unlink(P("/tmp/fsmisc-p"));
    /* O_DIRECT is accepted; bytes still flow. */
    CHECK(pipe2(p, O_DIRECT | O_CLOEXEC) == 0);
    CHECK(write(p[1], "xy", 2) == 2 && read(p[0], buf, 2) == 2 && buf[1] == 'y');
    close(p[0]);
    close(p[1]);
    CHECK_ERR(pipe2(p, 0x1), EINVAL);
    SAY("pipe sizes ok");
}

int main(void)
{
    test_creat();
    test_fchdir();
    test_close_range();
    test_rwv();
    test_pipe_size();
    SAY("ok");
    return 0;
}
