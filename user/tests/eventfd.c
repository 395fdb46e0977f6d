/* eventfd: counter and semaphore reads, 8-byte buffers, EAGAIN, the
 * blocking read woken by another process, the overflow limit at
 * 0xfffffffffffffffe, poll readiness, flags and their errors. */
#define T_NAME "eventfd"
#include "t.h"
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>

int main(void)
{
    CHECK_ERR(eventfd(0, 0x4000), EINVAL);
    int fd = eventfd(3, 0);
    CHECK(fd >= 0);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    uint64_t v = 0;
    char small[4];
    CHECK_ERR(read(fd, small, 4), EINVAL);
    CHECK_ERR(write(fd, small, 4), EINVAL);
    CHECK(read(fd, &v, 8) == 8 && v == 3);
    v = 5;
    CHECK(write(fd, &v, 8) == 8);
    v = 2;
    CHECK(write(fd, &v, 8) == 8);
    char big[16] = {0};
    CHECK(read(fd, big, sizeof big) == 8); /* a larger buffer still reads 8 */
    CHECK(*(uint64_t *)big == 7);
    SAY("counter ok");

    /* Nonblocking: EAGAIN at 0; the limit; poll. */
    CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
    CHECK_ERR(read(fd, &v, 8), EAGAIN);
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLOUT);
    v = UINT64_MAX;
    CHECK_ERR(write(fd, &v, 8), EINVAL);
    v = UINT64_MAX - 1;
    CHECK(write(fd, &v, 8) == 8);
    CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLIN); /* full: not writable */
    v = 1;
    CHECK_ERR(write(fd, &v, 8), EAGAIN);
    v = 0;
    CHECK(write(fd, &v, 8) == 8); /* adding 0 always fits */
    CHECK(read(fd, &v, 8) == 8 && v == UINT64_MAX - 1);
    SAY("limits ok");
    close(fd);

    /* Semaphore mode, flags. */
    CHECK_ERR(eventfd(0, EFD_SEMAPHORE | 0x10), EINVAL);
    fd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    CHECK(read(fd, &v, 8) == 8 && v == 1);
    CHECK(read(fd, &v, 8) == 8 && v == 1);
    CHECK_ERR(read(fd, &v, 8), EAGAIN);
    close(fd);
    /* The old eventfd(2) call takes no flags. */
    fd = syscall(SYS_eventfd, 1);
    CHECK(fd >= 0);
    CHECK(read(fd, &v, 8) == 8 && v == 1);
    SAY("semaphore ok");

    /* A blocking read woken by a child; a blocking write woken by a read. */
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        usleep(30000);
        uint64_t w = 42;
        _exit(write(fd, &w, 8) == 8 ? 0 : 1);
    }
    CHECK(read(fd, &v, 8) == 8 && v == 42);
    int st;
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    v = UINT64_MAX - 1;
    CHECK(write(fd, &v, 8) == 8);
    c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        usleep(30000);
        uint64_t r;
        _exit(read(fd, &r, 8) == 8 && r == UINT64_MAX - 1 ? 0 : 1);
    }
    v = 5;
    CHECK(write(fd, &v, 8) == 8); /* blocks until the child drains it */
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(read(fd, &v, 8) == 8 && v == 5);
    SAY("blocking ok");
    close(fd);
    CHECK_ERR(read(fd, &v, 8), EBADF);
    SAY("all ok");
    return 0;
}
