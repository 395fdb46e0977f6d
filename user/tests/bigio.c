/* bigio: writes and reads larger than the kernel's copy chunk (64 KiB) go
 * through whole on a regular file, as on Linux; a bad buffer after some
 * bytes ends the call short, a bad first buffer is EFAULT. */
#define T_NAME "bigio"
#include "t.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>

#define BIG (200 * 1024 + 123)

static char src[BIG], dst[BIG];

static void fill(char *b, size_t n, int seed)
{
    for (size_t i = 0; i < n; i++) b[i] = (char)(i * 31 + seed);
}

int main(void)
{
    const char *path = P("/tmp/bigio");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);

    fill(src, BIG, 1);
    CHECK(pwrite(fd, src, BIG, 0) == BIG);
    CHECK(pread(fd, dst, BIG, 0) == BIG);
    CHECK(memcmp(src, dst, BIG) == 0);
    SAY("pwrite/pread of %d bytes: whole", BIG);

    /* pwritev: two large buffers, then a gathered small one. */
    fill(src, BIG, 2);
    struct iovec iov[2] = {{src, 100000}, {src + 100000, BIG - 100000}};
    CHECK(pwritev(fd, iov, 2, 4096) == BIG);
    memset(dst, 0, BIG);
    CHECK(pread(fd, dst, BIG, 4096) == BIG);
    CHECK(memcmp(src, dst, BIG) == 0);
    struct iovec small[2] = {{"ab", 2}, {"cd", 2}};
    CHECK(pwritev(fd, small, 2, 0) == 4);
    CHECK(pread(fd, dst, 4, 0) == 4 && memcmp(dst, "abcd", 4) == 0);
    SAY("pwritev of 2 buffers (%d bytes) and of 4 bytes: whole", BIG);

    /* A second buffer that is not mapped: the first is written, the call
     * returns its length. */
    char *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(hole != MAP_FAILED);
    struct iovec bad[2] = {{src, 100000}, {hole, 100000}};
    CHECK(pwritev(fd, bad, 2, 0) == 100000);
    struct iovec bad_first[2] = {{hole, 100000}, {src, 100000}};
    CHECK_ERR(pwritev(fd, bad_first, 2, 0), EFAULT);
    CHECK_ERR(pwrite(fd, hole, 100000, 0), EFAULT);
    CHECK_ERR(pwrite(fd, src, 10, -1), EINVAL);
    SAY("a bad later buffer ends pwritev short; a bad first one is EFAULT");

    /* write(2) of a large buffer whose tail runs into an unmapped page
     * after a chunk boundary: short, not EFAULT. */
    char *two = mmap(NULL, 3 * 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(two != MAP_FAILED);
    CHECK(munmap(two + 2 * 65536, 65536) == 0);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(write(fd, two, 3 * 65536) == 2 * 65536);
    CHECK(pwrite(fd, two, 3 * 65536, 0) == 2 * 65536);
    SAY("write/pwrite running into an unmapped page: short (%d bytes)", 2 * 65536);

    close(fd);
    CHECK(unlink(path) == 0);
    SAY("ok");
    return 0;
}
