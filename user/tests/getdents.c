/* getdents: list /tests with the raw getdents64 system call and find this
 * program, "." and ".."; then the same through readdir(3). */
#define T_NAME "getdents"
#include "t.h"
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

int main(int argc, char **argv)
{
    (void)argc;
    const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    int fd = open(P("/tests"), O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);

    /* A small buffer forces several calls. */
    char buf[256] __attribute__((aligned(8)));
    int found_self = 0, found_dot = 0, found_dotdot = 0, found_hello = 0, entries = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        CHECK(n >= 0);
        if (n == 0) break;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            CHECK(d->d_reclen >= offsetof(struct linux_dirent64, d_name) + 2);
            CHECK(d->d_reclen % 8 == 0);
            CHECK(off + d->d_reclen <= n);
            CHECK(memchr(d->d_name, '\0', d->d_reclen - offsetof(struct linux_dirent64, d_name)) != NULL);
            CHECK(d->d_ino != 0);
            entries++;
            if (strcmp(d->d_name, ".") == 0) {
                found_dot = 1;
                CHECK(d->d_type == DT_DIR);
            } else if (strcmp(d->d_name, "..") == 0) {
                found_dotdot = 1;
                CHECK(d->d_type == DT_DIR);
            } else if (strcmp(d->d_name, self) == 0) {
                found_self = 1;
                CHECK(d->d_type == DT_REG);
            } else if (strcmp(d->d_name, "hello") == 0) {
                found_hello = 1;
                CHECK(d->d_type == DT_REG);
            }
            off += d->d_reclen;
        }
    }
    SAY("getdents64: %d entries in /tests", entries);
    CHECK(found_self);
    CHECK(found_hello);
    CHECK(found_dot && found_dotdot);
    SAY("found \"%s\", \"hello\", \".\" and \"..\"", self);

    /* At the end it keeps returning 0; after a rewind it lists again. */
    CHECK(syscall(SYS_getdents64, fd, buf, sizeof buf) == 0);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(syscall(SYS_getdents64, fd, buf, sizeof buf) > 0);
    /* A buffer too small for one entry: EINVAL. */
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK_ERR(syscall(SYS_getdents64, fd, buf, 8), EINVAL);
    CHECK(close(fd) == 0);

    /* getdents64 on a regular file: ENOTDIR. */
    int ffd = open(P("/etc/ferrite-test.txt"), O_RDONLY);
    CHECK(ffd >= 0);
    CHECK_ERR(syscall(SYS_getdents64, ffd, buf, sizeof buf), ENOTDIR);
    CHECK(close(ffd) == 0);

    /* The libc way. */
    DIR *dir = opendir(P("/tests"));
    CHECK(dir != NULL);
    int n = 0;
    found_self = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        n++;
        if (strcmp(e->d_name, self) == 0) found_self = 1;
    }
    CHECK(closedir(dir) == 0);
    CHECK(found_self);
    CHECK(n == entries);
    SAY("readdir agrees (%d entries)", n);
    SAY("ok");
    return 0;
}
