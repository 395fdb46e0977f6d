/* fsmisc: smaller file system calls. creat (mode, truncation, write-only),
 * fchdir (directories, O_PATH, ENOTDIR, EBADF, EACCES), close_range
 * (closing, CLOSE_RANGE_CLOEXEC, bad flags and ranges), preadv/pwritev and
 * preadv2/pwritev2 (offsets, -1 = file position, RWF_APPEND, unknown
 * flags, pipes), F_GETPIPE_SZ/F_SETPIPE_SZ (rounding, EBUSY, EPERM for an
 * unprivileged user above pipe-max-size), pipe2(O_DIRECT) packets, fallocate on
 * tmpfs (grow, KEEP_SIZE, PUNCH_HOLE, ENOSPC under size=), copy_file_range
 * (positions, offsets, overlap), O_TMPFILE with linkat(AT_EMPTY_PATH) and
 * chroot (walks, "..", symlinks and getcwd bounded by the new root) and
 * renameat2(RENAME_EXCHANGE), utime/utimes/futimesat, the old getdents,
 * readahead and sync_file_range. */
#define T_NAME "fsmisc"
#include "t.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/time.h>
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
    /* O_DIRECT: packet mode. One write, one read; a short read drops
     * the rest of its packet; big writes split at PIPE_BUF. */
    CHECK(pipe2(p, O_DIRECT | O_CLOEXEC) == 0);
    CHECK((fcntl(p[1], F_GETFL) & O_DIRECT) != 0 && (fcntl(p[0], F_GETFL) & O_DIRECT) == 0);
    CHECK(write(p[1], "abc", 3) == 3 && write(p[1], "de", 2) == 2 && write(p[1], "fghij", 5) == 5);
    CHECK(read(p[0], buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
    CHECK(read(p[0], buf, sizeof buf) == 2 && memcmp(buf, "de", 2) == 0);
    CHECK(read(p[0], buf, 2) == 2 && memcmp(buf, "fg", 2) == 0);
    CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
    CHECK_ERR(read(p[0], buf, sizeof buf), EAGAIN); /* "hij" went */
    memset(buf, 'z', 6000);
    CHECK(write(p[1], buf, 6000) == 6000);
    CHECK(read(p[0], buf, sizeof buf) == 4096);
    CHECK(read(p[0], buf, sizeof buf) == 6000 - 4096);
    close(p[0]);
    close(p[1]);
    /* A plain pipe merges writes. */
    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "ab", 2) == 2 && write(p[1], "cd", 2) == 2);
    CHECK(read(p[0], buf, sizeof buf) == 4 && (fcntl(p[0], F_GETFL) & O_DIRECT) == 0);
    /* and a short read leaves the rest. */
    CHECK(write(p[1], "abcdef", 6) == 6);
    CHECK(read(p[0], buf, 2) == 2 && memcmp(buf, "ab", 2) == 0);
    CHECK(read(p[0], buf, sizeof buf) == 4 && memcmp(buf, "cdef", 4) == 0);
    close(p[0]);
    close(p[1]);
    CHECK_ERR(pipe2(p, 0x1), EINVAL);
    SAY("pipe sizes ok");
}

static void test_fallocate(void)
{
    const char *f = P("/tmp/fsmisc-falloc");
    int fd = open(f, O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(fd >= 0);
    struct stat st;
    CHECK(fallocate(fd, 0, 0, 8192) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 8192);
    CHECK(fallocate(fd, 0, 100, 100) == 0); /* inside: no change */
    CHECK(fstat(fd, &st) == 0 && st.st_size == 8192);
    CHECK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 4096) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 8192);
    static char buf[8192];
    memset(buf, 'a', sizeof buf);
    CHECK(pwrite(fd, buf, sizeof buf, 0) == sizeof buf);
    CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 200) == 0);
    CHECK(pread(fd, buf, sizeof buf, 0) == sizeof buf);
    CHECK(buf[99] == 'a' && buf[100] == 0 && buf[299] == 0 && buf[300] == 'a');
    /* A hole past the end changes nothing. */
    CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8000, 10000) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 8192);
    CHECK(pread(fd, buf, 2, 7999) == 2 && buf[0] == 'a' && buf[1] == 0);
    CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, 0x40 /* INSERT_RANGE */, 0, 4096), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, 0, -1, 10), EINVAL);
    CHECK_ERR(fallocate(fd, 0, 0, 0), EINVAL);
    CHECK_ERR(fallocate(fd, 0, 0x7fffffffffffff00L, 0x1000), EFBIG);
    close(fd);
    fd = open(f, O_RDONLY);
    CHECK_ERR(fallocate(fd, 0, 0, 10), EBADF);
    close(fd);
    CHECK(unlink(f) == 0);
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK_ERR(fallocate(p[1], 0, 0, 10), ESPIPE);
    close(p[0]);
    close(p[1]);
    /* ENOSPC on a small tmpfs. */
    const char *m = P("/tmp/fsmisc-mnt");
    rmdir(m);
    CHECK(mkdir(m, 0755) == 0);
    CHECK(mount("tmpfs", m, "tmpfs", 0, "size=64k") == 0);
    char path[256];
    snprintf(path, sizeof path, "%s/f", m);
    fd = open(path, O_CREAT | O_RDWR, 0600);
    CHECK(fd >= 0);
    CHECK_ERR(fallocate(fd, 0, 0, 1 << 20), ENOSPC);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 0);
    CHECK(fallocate(fd, 0, 0, 16384) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 16384);
    close(fd);
    CHECK(umount(m) == 0 && rmdir(m) == 0);
    SAY("fallocate ok");
}

static long cfr(int in, loff_t *oi, int out, loff_t *oo, size_t n, unsigned fl)
{
    return syscall(SYS_copy_file_range, in, oi, out, oo, n, fl);
}

static void test_copy_file_range(void)
{
    const char *a = P("/tmp/fsmisc-cfr-a"), *b = P("/tmp/fsmisc-cfr-b");
    int in = open(a, O_CREAT | O_RDWR | O_TRUNC, 0600);
    int out = open(b, O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(in >= 0 && out >= 0);
    CHECK(write(in, "0123456789", 10) == 10);
    /* File positions: in's moves from 2, out's from 0. */
    CHECK(lseek(in, 2, SEEK_SET) == 2);
    CHECK(cfr(in, NULL, out, NULL, 5, 0) == 5);
    CHECK(lseek(in, 0, SEEK_CUR) == 7 && lseek(out, 0, SEEK_CUR) == 5);
    char buf[32] = {0};
    CHECK(pread(out, buf, sizeof buf, 0) == 5 && memcmp(buf, "23456", 5) == 0);
    /* Explicit offsets move the offsets, not the positions; short at EOF. */
    loff_t oi = 8, oo = 20;
    CHECK(cfr(in, &oi, out, &oo, 100, 0) == 2);
    CHECK(oi == 10 && oo == 22);
    CHECK(lseek(in, 0, SEEK_CUR) == 7 && lseek(out, 0, SEEK_CUR) == 5);
    CHECK(pread(out, buf, sizeof buf, 0) == 22 && buf[5] == 0 && memcmp(buf + 20, "89", 2) == 0);
    CHECK(cfr(in, &oi, out, &oo, 100, 0) == 0); /* at EOF */
    /* Same file: fine apart, EINVAL when overlapping. */
    oi = 0;
    oo = 10;
    CHECK(cfr(in, &oi, in, &oo, 10, 0) == 10);
    CHECK(pread(in, buf, 20, 0) == 20 && memcmp(buf, "01234567890123456789", 20) == 0);
    oi = 0;
    oo = 5;
    CHECK_ERR(cfr(in, &oi, in, &oo, 10, 0), EINVAL);
    CHECK_ERR(cfr(in, NULL, out, NULL, 1, 1), EINVAL);
    oi = -1;
    CHECK_ERR(cfr(in, &oi, out, NULL, 1, 0), EOVERFLOW);
    int ro = open(b, O_RDONLY), ap = open(b, O_WRONLY | O_APPEND);
    CHECK_ERR(cfr(in, NULL, ro, NULL, 1, 0), EBADF);
    CHECK_ERR(cfr(in, NULL, ap, NULL, 1, 0), EBADF);
    CHECK_ERR(cfr(ap, NULL, out, NULL, 1, 0), EBADF);
    close(ro);
    close(ap);
    int d = open(P("/tmp"), O_RDONLY | O_DIRECTORY);
    CHECK_ERR(cfr(d, NULL, out, NULL, 1, 0), EISDIR);
    close(d);
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK_ERR(cfr(p[0], NULL, out, NULL, 1, 0), EINVAL);
    close(p[0]);
    close(p[1]);
    close(in);
    close(out);
    unlink(a);
    unlink(b);
    SAY("copy_file_range ok");
}

static void test_tmpfile(void)
{
    const char *dir = P("/tmp");
    int fd = open(dir, O_TMPFILE | O_RDWR, 0640);
    CHECK(fd >= 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0 && (st.st_mode & 0777) == 0640);
    CHECK(write(fd, "tmp", 3) == 3);
    /* Naming it with linkat(AT_EMPTY_PATH) (root: CAP_DAC_READ_SEARCH). */
    const char *name = P("/tmp/fsmisc-tmpfile");
    unlink(name);
    CHECK(linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_nlink == 1);
    char b[8] = {0};
    int g = open(name, O_RDONLY);
    CHECK(g >= 0 && read(g, b, sizeof b) == 3 && memcmp(b, "tmp", 3) == 0);
    close(g);
    CHECK_ERR(linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH), EEXIST);
    close(fd);
    CHECK(unlink(name) == 0);
    /* O_EXCL: never linkable. */
    fd = open(dir, O_TMPFILE | O_WRONLY | O_EXCL, 0600);
    CHECK(fd >= 0);
    CHECK_ERR(linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH), ENOENT);
    close(fd);
    CHECK_ERR(open(dir, O_TMPFILE | O_RDONLY, 0600), EINVAL);
    CHECK_ERR(open(dir, O_TMPFILE | O_RDWR | O_CREAT, 0600), EINVAL);
    CHECK_ERR(open(P("/tmp/fsmisc-none/x"), O_TMPFILE | O_RDWR, 0600), ENOENT);
    int f = open(P("/tmp/fsmisc-file"), O_CREAT | O_RDWR, 0600);
    close(f);
    CHECK_ERR(open(P("/tmp/fsmisc-file"), O_TMPFILE | O_RDWR, 0600), ENOTDIR);
    unlink(P("/tmp/fsmisc-file"));
    /* An ordinary unlinked file cannot be named again. */
    f = open(P("/tmp/fsmisc-gone"), O_CREAT | O_RDWR, 0600);
    CHECK(f >= 0 && unlink(P("/tmp/fsmisc-gone")) == 0);
    CHECK_ERR(linkat(f, "", AT_FDCWD, name, AT_EMPTY_PATH), ENOENT);
    close(f);
    SAY("O_TMPFILE ok");
}

static int chroot_denied(void *arg)
{
    errno = 0;
    return chroot((const char *)arg) == -1 && errno == EPERM ? 0 : 1;
}

static int in_chroot(const char *root)
{
    char cwd[256];
    if (chdir(P("/tmp")) != 0) return 1;
    if (chroot(root) != 0) return 2;
    /* The cwd stays outside: getcwd says "(unreachable)". */
    long n = syscall(SYS_getcwd, cwd, sizeof cwd);
    if (n <= 0 || strncmp(cwd, "(unreachable)", 13) != 0) return 3;
    if (chdir("/") != 0) return 4;
    if (syscall(SYS_getcwd, cwd, sizeof cwd) != 2 || strcmp(cwd, "/") != 0) return 5;
    struct stat a, b;
    if (stat("/", &a) || stat("/..", &b) || a.st_ino != b.st_ino) return 6;
    if (access("/sub/f", F_OK) || access("../../sub/f", F_OK) || access("/../sub/./f", F_OK)) return 7;
    if (access("/ln/f", F_OK)) return 8; /* absolute symlink, inside the root */
    errno = 0;
    if (access("/tmp", F_OK) != -1 || errno != ENOENT) return 9;
    if (chdir("sub") || syscall(SYS_getcwd, cwd, sizeof cwd) <= 0 || strcmp(cwd, "/sub")) return 10;
    /* A child inherits the root. */
    pid_t p = fork();
    if (p == 0) _exit(access("/sub/f", F_OK) == 0 && access("/ln", F_OK) == 0 ? 0 : 1);
    int st;
    if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st)) return 11;
    return 0;
}

static void test_chroot(void)
{
    const char *root = P("/tmp/fsmisc-root");
    char path[256];
    mkdir(root, 0755);
    snprintf(path, sizeof path, "%s/sub", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/sub/f", root);
    close(open(path, O_CREAT | O_RDWR, 0644));
    snprintf(path, sizeof path, "%s/ln", root);
    unlink(path);
    CHECK(symlink("/sub", path) == 0);
    CHECK_ERR(chroot(P("/tmp/fsmisc-nothere")), ENOENT);
    snprintf(path, sizeof path, "%s/sub/f", root);
    CHECK_ERR(chroot(path), ENOTDIR);
    CHECK(as_nobody(chroot_denied, (void *)root) == 0);
    pid_t p = fork();
    if (p == 0) _exit(in_chroot(root));
    int st;
    CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st));
    if (WEXITSTATUS(st)) SAY("chroot child failed at step %d", WEXITSTATUS(st));
    CHECK(WEXITSTATUS(st) == 0);
    /* The parent's root did not change. */
    CHECK(access(path, F_OK) == 0);
    unlink(path);
    snprintf(path, sizeof path, "%s/ln", root);
    unlink(path);
    snprintf(path, sizeof path, "%s/sub", root);
    CHECK(rmdir(path) == 0 && rmdir(root) == 0);
    SAY("chroot ok");
}

static long renameat2_(const char *a, const char *b, unsigned fl)
{
    return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, fl);
}

static void put(const char *path, const char *text)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

static void test_exchange(void)
{
    char d[128], a[160], b[160], sub[160], sd[192], sdf[224];
    snprintf(d, sizeof d, "%s", P("/tmp/fsmisc-x"));
    snprintf(a, sizeof a, "%s/a", d);
    snprintf(b, sizeof b, "%s/b", d);
    snprintf(sub, sizeof sub, "%s/sub", d);
    snprintf(sd, sizeof sd, "%s/sub/dir", d);
    snprintf(sdf, sizeof sdf, "%s/sub/dir/f", d);
    CHECK(mkdir(d, 0755) == 0 && mkdir(sub, 0755) == 0 && mkdir(sd, 0755) == 0);
    put(a, "A");
    put(b, "B");
    put(sdf, "F");
    struct stat sa, sb;
    CHECK(stat(a, &sa) == 0 && stat(b, &sb) == 0);
    CHECK(renameat2_(a, b, 2 /* RENAME_EXCHANGE */) == 0);
    struct stat na, nb;
    CHECK(stat(a, &na) == 0 && stat(b, &nb) == 0);
    CHECK(na.st_ino == sb.st_ino && nb.st_ino == sa.st_ino);
    char t[4] = {0};
    int fd = open(a, O_RDONLY);
    CHECK(fd >= 0 && read(fd, t, 3) == 1 && t[0] == 'B');
    close(fd);
    /* A directory and a file in different parents: `..` follows. */
    struct stat s1, s2;
    CHECK(stat(d, &s1) == 0 && stat(sub, &s2) == 0);
    CHECK(renameat2_(a, sd, 2) == 0);
    CHECK(stat(sd, &na) == 0 && S_ISREG(na.st_mode));
    char moved[192];
    snprintf(moved, sizeof moved, "%s/f", a);
    CHECK(access(moved, F_OK) == 0);
    snprintf(moved, sizeof moved, "%s/..", a);
    CHECK(stat(moved, &nb) == 0 && nb.st_ino == s1.st_ino);
    CHECK(stat(d, &na) == 0 && na.st_nlink == s1.st_nlink + 1);
    CHECK(stat(sub, &nb) == 0 && nb.st_nlink == s2.st_nlink - 1);
    CHECK(renameat2_(a, sd, 2) == 0); /* and back */
    /* Errors. */
    CHECK_ERR(renameat2_(a, P("/tmp/fsmisc-x/none"), 2), ENOENT);
    CHECK_ERR(renameat2_(P("/tmp/fsmisc-x/none"), a, 2), ENOENT);
    CHECK_ERR(renameat2_(a, b, 3), EINVAL);
    CHECK_ERR(renameat2_(a, b, 0x10), EINVAL);
    CHECK_ERR(renameat2_(sub, sd, 2), EINVAL); /* into itself */
    CHECK_ERR(renameat2_(sd, sub, 2), EINVAL);
    CHECK(renameat2_(a, a, 2) == 0);
    CHECK(unlink(sdf) == 0 && rmdir(sd) == 0 && rmdir(sub) == 0);
    CHECK(unlink(a) == 0 && unlink(b) == 0 && rmdir(d) == 0);
    SAY("RENAME_EXCHANGE ok");
}

static void test_utimes(void)
{
    const char *f = P("/tmp/fsmisc-utime");
    put(f, "x");
    long ub[2] = {1000, 2000}; /* struct utimbuf */
    CHECK(syscall(SYS_utime, f, ub) == 0);
    struct stat st;
    CHECK(stat(f, &st) == 0 && st.st_atime == 1000 && st.st_mtime == 2000);
    CHECK(st.st_atim.tv_nsec == 0 && st.st_mtim.tv_nsec == 0);
    struct timeval tv[2] = {{3000, 5}, {4000, 999999}};
    CHECK(syscall(SYS_utimes, f, tv) == 0);
    CHECK(stat(f, &st) == 0 && st.st_atime == 3000 && st.st_atim.tv_nsec == 5000);
    CHECK(st.st_mtime == 4000 && st.st_mtim.tv_nsec == 999999000);
    tv[1].tv_usec = 1000000;
    CHECK_ERR(syscall(SYS_utimes, f, tv), EINVAL);
    tv[1].tv_usec = -1;
    CHECK_ERR(syscall(SYS_futimesat, AT_FDCWD, f, tv), EINVAL);
    int d = open(P("/tmp"), O_RDONLY | O_DIRECTORY);
    tv[1].tv_usec = 0;
    CHECK(syscall(SYS_futimesat, d, "fsmisc-utime", tv) == 0);
    CHECK(stat(f, &st) == 0 && st.st_mtime == 4000 && st.st_mtim.tv_nsec == 0);
    close(d);
    int fd = open(f, O_RDONLY);
    CHECK(syscall(SYS_futimesat, fd, NULL, NULL) == 0); /* the fd itself, now */
    CHECK(fstat(fd, &st) == 0 && st.st_mtime > 4000);
    close(fd);
    CHECK(syscall(SYS_utime, f, NULL) == 0);
    CHECK_ERR(syscall(SYS_utime, NULL, ub), EFAULT);
    CHECK_ERR(syscall(SYS_utimes, NULL, NULL), EFAULT);
    CHECK_ERR(syscall(SYS_utime, P("/tmp/fsmisc-none"), ub), ENOENT);
    CHECK_ERR(syscall(SYS_utime, f, (void *)8), EFAULT);
    CHECK(unlink(f) == 0);
    SAY("utime/utimes/futimesat ok");
}

static void test_old_calls(void)
{
    /* getdents(2): the old record, d_type in its last byte. */
    const char *d = P("/tmp/fsmisc-gd");
    char path[256];
    CHECK(mkdir(d, 0755) == 0);
    snprintf(path, sizeof path, "%s/file", d);
    put(path, "x");
    snprintf(path, sizeof path, "%s/subdir", d);
    CHECK(mkdir(path, 0755) == 0);
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    char buf[1024];
    long n = syscall(SYS_getdents, fd, buf, sizeof buf);
    CHECK(n > 0);
    int seen = 0;
    for (long at = 0; at < n;) {
        unsigned short reclen;
        memcpy(&reclen, buf + at + 16, 2);
        CHECK(reclen >= 20 && at + reclen <= n && reclen % 8 == 0);
        const char *name = buf + at + 18;
        char type = buf[at + reclen - 1];
        int bit = !strcmp(name, ".") ? 1 : !strcmp(name, "..") ? 2 : !strcmp(name, "file") ? 4 : !strcmp(name, "subdir") ? 8 : 0;
        CHECK(bit != 0);
        CHECK(type == (bit == 4 ? DT_REG : DT_DIR));
        seen |= bit;
        at += reclen;
    }
    CHECK(seen == 15);
    CHECK(syscall(SYS_getdents, fd, buf, sizeof buf) == 0);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK_ERR(syscall(SYS_getdents, fd, (void *)8, sizeof buf), EFAULT);
    CHECK_ERR(syscall(SYS_getdents, fd, buf, 10), EINVAL);
    close(fd);
    snprintf(path, sizeof path, "%s/file", d);
    fd = open(path, O_RDONLY);
    CHECK_ERR(syscall(SYS_getdents, fd, buf, sizeof buf), ENOTDIR);
    /* readahead and sync_file_range: checks only. */
    CHECK(readahead(fd, 0, 4096) == 0);
    CHECK(sync_file_range(fd, 0, 0, 7) == 0);
    CHECK_ERR(sync_file_range(fd, 0, 0, 8), EINVAL);
    CHECK_ERR(sync_file_range(fd, -1, 0, 0), EINVAL);
    CHECK_ERR(sync_file_range(fd, 0, -1, 0), EINVAL);
    CHECK_ERR(sync_file_range(-1, 0, 0, 0), EBADF);
    close(fd);
    fd = open(path, O_WRONLY);
    CHECK_ERR(readahead(fd, 0, 4096), EBADF);
    close(fd);
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK_ERR(readahead(p[0], 0, 4096), EINVAL);
    CHECK_ERR(sync_file_range(p[1], 0, 0, 0), ESPIPE);
    close(p[0]);
    close(p[1]);
    CHECK(unlink(path) == 0);
    snprintf(path, sizeof path, "%s/subdir", d);
    CHECK(rmdir(path) == 0 && rmdir(d) == 0);
    SAY("getdents, readahead, sync_file_range ok");
}

int main(void)
{
    test_creat();
    test_fchdir();
    test_close_range();
    test_rwv();
    test_pipe_size();
    test_fallocate();
    test_copy_file_range();
    test_tmpfile();
    test_chroot();
    test_exchange();
    test_utimes();
    test_old_calls();
    SAY("ok");
    return 0;
}
