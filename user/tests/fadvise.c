/* fadvise: posix_fadvise and the raw fadvise64 on a file, a pipe (ESPIPE),
 * a closed descriptor (EBADF), bad advice and a negative length (EINVAL). */
#define T_NAME "fadvise"
#include "t.h"

int main(void)
{
    int fd = open(P("/tmp/fadvise.txt"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, "hello", 5) == 5);
    for (int a = POSIX_FADV_NORMAL; a <= POSIX_FADV_NOREUSE; a++) {
        CHECK(posix_fadvise(fd, 0, 0, a) == 0);
        CHECK(syscall(SYS_fadvise64, fd, 0L, 100L, a) == 0);
    }
    CHECK(posix_fadvise(fd, 1 << 20, 1 << 20, POSIX_FADV_WILLNEED) == 0);
    CHECK(posix_fadvise(fd, 0, 0, 6) == EINVAL);
    CHECK(posix_fadvise(fd, 0, 0, -1) == EINVAL);
    CHECK_ERR(syscall(SYS_fadvise64, fd, 0L, -1L, POSIX_FADV_NORMAL), EINVAL);
    CHECK_ERR(syscall(SYS_fadvise64, fd, 0L, 0L, 99), EINVAL);
    /* The data is still there after DONTNEED. */
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    char b[8] = {0};
    CHECK(pread(fd, b, 5, 0) == 5 && memcmp(b, "hello", 5) == 0);
    /* A read-only descriptor takes advice too. */
    int ro = open(P("/tmp/fadvise.txt"), O_RDONLY);
    CHECK(ro >= 0);
    CHECK(posix_fadvise(ro, 0, 0, POSIX_FADV_SEQUENTIAL) == 0);
    close(ro);
    SAY("file ok");

    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL) == ESPIPE);
    CHECK(posix_fadvise(p[1], 0, 0, 99) == ESPIPE); /* ESPIPE first */
    close(p[0]);
    close(p[1]);
    CHECK(posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL) == EBADF);
    CHECK_ERR(syscall(SYS_fadvise64, -1, 0L, 0L, POSIX_FADV_NORMAL), EBADF);
    CHECK_ERR(syscall(SYS_fadvise64, 9999, 0L, 0L, 99), EBADF);
    SAY("errors ok");
    close(fd);
    CHECK(unlink(P("/tmp/fadvise.txt")) == 0);
    return 0;
}
