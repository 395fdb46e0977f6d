/* errno: error paths return -1 with the right errno (the kernel returns
 * -errno in rax): bad descriptors, missing paths, bad user pointers
 * (including kernel addresses), unknown system calls. */
#define T_NAME "errno"
#include "t.h"
#include <fcntl.h>
#include <sys/syscall.h>

int main(void)
{
    char buf[16];
    CHECK_ERR(write(99, "x", 1), EBADF);
    CHECK_ERR(read(99, buf, 1), EBADF);
    CHECK_ERR(write(-1, "x", 1), EBADF);
    CHECK_ERR(close(99), EBADF);
    CHECK_ERR(close(-1), EBADF);
    SAY("bad descriptors: EBADF");

    CHECK_ERR(open("", O_RDONLY), ENOENT);
    CHECK_ERR(open(P("/nonexistent"), O_RDONLY), ENOENT);
    SAY("missing paths: ENOENT");

    int fd = open(P("/etc/ferrite-test.txt"), O_RDONLY);
    CHECK(fd >= 0);
    CHECK_ERR(read(fd, (void *)1, 10), EFAULT);
    /* A kernel address is never a valid user buffer. */
    CHECK_ERR(read(fd, (void *)0xffff800000000000ul, 10), EFAULT);
    CHECK_ERR(read(fd, (void *)0xffffffff80000000ul, 10), EFAULT);
    /* Non-canonical. */
    CHECK_ERR(read(fd, (void *)0x0000900000000000ul, 10), EFAULT);
    /* The failed reads consumed nothing. */
    CHECK(read(fd, buf, 7) == 7 && memcmp(buf, "ferrite", 7) == 0);
    CHECK(close(fd) == 0);
    CHECK_ERR(write(1, (void *)1, 10), EFAULT);
    CHECK_ERR(write(1, (void *)0xffffffff80000000ul, 10), EFAULT);
    CHECK_ERR(open((const char *)1, O_RDONLY), EFAULT);
    CHECK_ERR(open((const char *)0xffff800000000000ul, O_RDONLY), EFAULT);
    SAY("bad pointers: EFAULT");

    CHECK_ERR(syscall(1000), ENOSYS);
    CHECK_ERR(syscall(1000, 1, 2, 3, 4, 5, 6), ENOSYS);
    CHECK_ERR(syscall(-1L), ENOSYS);
    CHECK_ERR(syscall(0x40000000L + 1000), ENOSYS); /* x32 bit + bad number */
    SAY("unknown system calls: ENOSYS");

    /* errno is per call: a success after a failure leaves it alone, as
     * libc does not clear it. */
    errno = 0;
    CHECK(write(99, "x", 1) == -1 && errno == EBADF);
    CHECK(getpid() > 0 && errno == EBADF);
    SAY("ok");
    return 0;
}
