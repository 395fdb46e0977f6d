/* longio: the long-syscall rule's Linux semantics. A write to /dev/null
 * takes the whole count (up to MAX_RW_COUNT) without reading the buffer,
 * even an unmapped one, but a range outside user space is EFAULT; a read
 * from /dev/zero fills all it is asked; one write and one pwrite of
 * several MiB to a tmpfs file write everything, as on Linux. (Ferrite's
 * tmpfs keeps a file in one heap block of at most 4 MiB: docs/reliability.md
 * finding 11; the sizes here stay below that.) */
#define T_NAME "longio"
#include "t.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

#define MAX_RW_COUNT 0x7ffff000L

int main(void)
{
    /* The device nodes, made here (the Linux runs have no /dev). */
    const char *nullp = P("/tmp/longio-null"), *zerop = P("/tmp/longio-zero");
    unlink(nullp);
    unlink(zerop);
    CHECK(mknod(nullp, S_IFCHR | 0666, makedev(1, 3)) == 0);
    CHECK(mknod(zerop, S_IFCHR | 0666, makedev(1, 5)) == 0);
    int null = open(nullp, O_WRONLY);
    CHECK(null >= 0);
    /* An address range with nothing mapped. */
    char *hole = mmap(0, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(hole != MAP_FAILED && munmap(hole, 1 << 20) == 0);
    CHECK(write(null, hole, 1 << 20) == 1 << 20);
    CHECK(write(null, hole, 2UL << 30) == MAX_RW_COUNT);
    CHECK(pwrite(null, hole, 2UL << 30, 0) == MAX_RW_COUNT);
    struct iovec iov[2] = {{hole, 100}, {hole + 4096, 200}};
    CHECK(writev(null, iov, 2) == 300);
    CHECK_ERR(write(null, (void *)0xffff888000000000UL, 10), EFAULT);
    CHECK_ERR(write(null, "x", SIZE_MAX), EFAULT);
    SAY("/dev/null: 2 GiB from unmapped memory gives %ld, no read", MAX_RW_COUNT);

    int zero = open(zerop, O_RDWR);
    CHECK(zero >= 0);
    size_t zn = 3 << 20;
    unsigned char *z = malloc(zn);
    CHECK(z != NULL);
    memset(z, 0xaa, zn);
    CHECK(read(zero, z, zn) == (ssize_t)zn);
    size_t nonzero = 0;
    for (size_t i = 0; i < zn; i++) nonzero += z[i] != 0;
    CHECK(nonzero == 0);
    CHECK(write(zero, hole, 1 << 20) == 1 << 20);
    free(z);
    SAY("/dev/zero: a read of %zu bytes fills all of it", zn);

    const char *path = P("/tmp/longio");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    size_t big = (3 << 20) + 5;
    unsigned char *b = malloc(big);
    CHECK(b != NULL);
    for (size_t i = 0; i < big; i++) b[i] = (unsigned char)(i >> 12);
    CHECK(write(fd, b, big) == (ssize_t)big);
    CHECK(lseek(fd, 0, SEEK_END) == (off_t)big);
    unsigned char c;
    CHECK(pread(fd, &c, 1, big - 1) == 1 && c == (unsigned char)((big - 1) >> 12));
    CHECK(ftruncate(fd, 0) == 0);
    size_t mid = (2 << 20) + 4097;
    CHECK(pwrite(fd, b, mid, 0) == (ssize_t)mid);
    CHECK(lseek(fd, 0, SEEK_END) == (off_t)mid);
    free(b);
    close(fd);
    CHECK(unlink(path) == 0 && unlink(nullp) == 0 && unlink(zerop) == 0);
    SAY("tmpfs: write of %zu and pwrite of %zu bytes are whole", big, mid);
    return 0;
}
