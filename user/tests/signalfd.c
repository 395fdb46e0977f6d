/* signalfd: reading blocked pending signals as signalfd_siginfo records,
 * several in one read, EAGAIN, a blocking read woken by kill from another
 * process, changing the mask, poll and epoll readiness, flags and the
 * error cases; a signal read from the signalfd is not delivered. */
#define T_NAME "signalfd"
#include "t.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>

static volatile int handled;
static void on_sig(int sig) { handled = sig; }

int main(void)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigaddset(&m, SIGUSR2);
    CHECK(sigprocmask(SIG_BLOCK, &m, NULL) == 0);
    struct sigaction sa = {.sa_handler = on_sig};
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);

    CHECK_ERR(signalfd(-1, &m, 1), EINVAL); /* bad flags */
    CHECK_ERR(syscall(SYS_signalfd4, -1, &m, 4, 0), EINVAL); /* sigsetsize */
    CHECK_ERR(syscall(SYS_signalfd4, -1, (void *)8, 8, 0), EFAULT);
    CHECK_ERR(signalfd(999, &m, 0), EBADF);
    CHECK_ERR(signalfd(0, &m, 0), EINVAL); /* not a signalfd */

    int fd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    struct signalfd_siginfo si[4];
    CHECK_ERR(read(fd, si, sizeof si), EAGAIN);
    CHECK_ERR(read(fd, si, sizeof si[0] - 1), EINVAL);
    CHECK(sizeof si[0] == 128);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 0) == 0);

    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLIN);
    CHECK(read(fd, si, sizeof si) == sizeof si[0]);
    CHECK(si[0].ssi_signo == SIGUSR1);
    CHECK_ERR(read(fd, si, sizeof si), EAGAIN);
    SAY("one signal ok");

    /* Two at once, in one read. */
    CHECK(kill(getpid(), SIGUSR2) == 0);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(read(fd, si, sizeof si) == 2 * sizeof si[0]);
    CHECK(si[0].ssi_signo == SIGUSR1 && si[1].ssi_signo == SIGUSR2);
    /* A buffer for one takes one; the other stays pending. */
    CHECK(kill(getpid(), SIGUSR2) == 0);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(read(fd, si, sizeof si[0]) == sizeof si[0] && si[0].ssi_signo == SIGUSR1);
    sigset_t pend;
    CHECK(sigpending(&pend) == 0);
    CHECK(sigismember(&pend, SIGUSR2) && !sigismember(&pend, SIGUSR1));
    CHECK(read(fd, si, sizeof si[0]) == sizeof si[0] && si[0].ssi_signo == SIGUSR2);
    SAY("several signals ok");

    /* Changing the mask of the existing signalfd. */
    sigset_t only2;
    sigemptyset(&only2);
    sigaddset(&only2, SIGUSR2);
    CHECK(signalfd(fd, &only2, 0) == fd);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK_ERR(read(fd, si, sizeof si), EAGAIN); /* USR1 no longer selected */
    CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGUSR1));
    CHECK(signalfd(fd, &m, 0) == fd);
    CHECK(read(fd, si, sizeof si) == sizeof si[0] && si[0].ssi_signo == SIGUSR1);
    CHECK(handled == 0); /* read, never delivered */
    SAY("mask change ok");

    /* Blocking read, woken by a child's kill; then epoll. */
    int bfd = signalfd(-1, &m, 0);
    CHECK(bfd >= 0);
    pid_t parent = getpid();
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        usleep(30000);
        _exit(kill(parent, SIGUSR2) == 0 ? 0 : 1);
    }
    CHECK(read(bfd, si, sizeof si) == sizeof si[0]);
    CHECK(si[0].ssi_signo == SIGUSR2);
    int st;
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* SIGCHLD from that child was not blocked: it is not in the mask. */

    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 3};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
    struct epoll_event out;
    CHECK(epoll_wait(ep, &out, 1, 0) == 0);
    c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        usleep(30000);
        _exit(kill(parent, SIGUSR1) == 0 ? 0 : 1);
    }
    CHECK(epoll_wait(ep, &out, 1, 10000) == 1 && out.data.u32 == 3 && out.events == EPOLLIN);
    CHECK(read(fd, si, sizeof si) == sizeof si[0] && si[0].ssi_signo == SIGUSR1);
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(epoll_wait(ep, &out, 1, 0) == 0);
    SAY("blocking read and epoll ok");

    /* SIGCHLD, whose default is to ignore, is queued while blocked and
     * read through a signalfd. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    CHECK(sigprocmask(SIG_BLOCK, &chld, NULL) == 0);
    int cfd = signalfd(-1, &chld, 0);
    CHECK(cfd >= 0);
    c = fork();
    CHECK(c >= 0);
    if (c == 0) _exit(7);
    CHECK(read(cfd, si, sizeof si) == sizeof si[0] && si[0].ssi_signo == SIGCHLD);
    CHECK(waitpid(c, &st, 0) == c && WEXITSTATUS(st) == 7);
    SAY("SIGCHLD ok");

    CHECK(handled == 0);
    close(cfd);
    close(ep);
    close(bfd);
    close(fd);
    SAY("all ok");
    return 0;
}
