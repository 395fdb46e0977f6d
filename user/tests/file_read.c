/* file_read: open/read/lseek/fstat/stat/close on a file from the
 * initramfs, and the errors around them. */
#define T_NAME "file_read"
#include "t.h"
#include <fcntl.h>
#include <sys/stat.h>

/* Must match FERRITE_TEST_TXT in xtask/src/initramfs.rs. */
static const char want[] = "ferrite test file\nline 2: 0123456789\n";
#define SIZE ((off_t)(sizeof want - 1))

int main(void)
{
    const char *path = P("/etc/ferrite-test.txt");
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 3);
    SAY("opened %s as fd %d", "/etc/ferrite-test.txt", fd);

    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    SAY("fstat: size %lld mode %o", (long long)st.st_size, (unsigned)st.st_mode);
    CHECK(S_ISREG(st.st_mode));
    CHECK(st.st_size == SIZE);
    CHECK((st.st_mode & 0777) == 0644);

    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    CHECK(n == SIZE);
    CHECK(memcmp(buf, want, (size_t)SIZE) == 0);
    CHECK(read(fd, buf, sizeof buf) == 0); /* EOF */
    SAY("read %zd bytes, content ok, then EOF", n);

    /* lseek: SET, CUR, END, and reads at the new offset. */
    CHECK(lseek(fd, 18, SEEK_SET) == 18);
    CHECK(read(fd, buf, 6) == 6 && memcmp(buf, "line 2", 6) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 24);
    CHECK(lseek(fd, -3, SEEK_CUR) == 21);
    CHECK(read(fd, buf, 3) == 3 && memcmp(buf, "e 2", 3) == 0);
    CHECK(lseek(fd, 0, SEEK_END) == SIZE);
    CHECK(read(fd, buf, 1) == 0);
    CHECK(lseek(fd, 100, SEEK_SET) == 100); /* past the end is allowed */
    CHECK(read(fd, buf, 1) == 0);
    CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(read(fd, buf, 7) == 7 && memcmp(buf, "ferrite", 7) == 0);
    SAY("lseek SET/CUR/END ok");

    /* Small reads in sequence. */
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    for (off_t i = 0; i < SIZE; i++) CHECK(read(fd, buf, 1) == 1 && buf[0] == want[i]);

    /* Two descriptors have independent offsets. */
    int fd2 = open(path, O_RDONLY);
    CHECK(fd2 >= 0 && fd2 != fd);
    CHECK(read(fd2, buf, 4) == 4 && memcmp(buf, "ferr", 4) == 0);
    CHECK(close(fd2) == 0);

    struct stat st2;
    CHECK(stat(path, &st2) == 0);
    CHECK(st2.st_size == SIZE && st2.st_ino == st.st_ino && st2.st_dev == st.st_dev);

    CHECK(close(fd) == 0);
    CHECK_ERR(close(fd), EBADF);
    CHECK_ERR(read(fd, buf, 1), EBADF);
    CHECK_ERR(fstat(fd, &st), EBADF);
    CHECK_ERR(lseek(fd, 0, SEEK_SET), EBADF);
    SAY("closed fd gives EBADF");

    CHECK_ERR(open(P("/etc/no-such-file"), O_RDONLY), ENOENT);
    CHECK_ERR(open(P("/no-such-dir/file"), O_RDONLY), ENOENT);
    CHECK_ERR(stat(P("/etc/no-such-file"), &st), ENOENT);
    CHECK_ERR(open(P("/etc/ferrite-test.txt/x"), O_RDONLY), ENOTDIR);
    CHECK_ERR(open(path, O_RDONLY | O_DIRECTORY), ENOTDIR);
    SAY("missing file: ENOENT; file as directory: ENOTDIR");

    /* A directory opens read-only, but read() on it is EISDIR. */
    int dfd = open(P("/etc"), O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK(fstat(dfd, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_ERR(read(dfd, buf, sizeof buf), EISDIR);
    CHECK(close(dfd) == 0);

    /* The lowest free descriptor is reused. */
    int a = open(path, O_RDONLY);
    CHECK(a >= 0);
    CHECK(close(a) == 0);
    int b = open(path, O_RDONLY);
    CHECK(b == a);
    CHECK(close(b) == 0);
    SAY("ok");
    return 0;
}
