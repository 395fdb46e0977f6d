/* poll: select(2), poll(2) and epoll_wait(2) over 100 pipe read ends, the
 * last of which has a byte ready (LMbench lat_select). Timeout 0: never
 * blocks. */
#include "bench.h"
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#define NFDS 100

static int rfd[NFDS];
static int maxfd;

static void select_op(void *ctx, long n)
{
    (void)ctx;
    fd_set base;
    FD_ZERO(&base);
    for (int i = 0; i < NFDS; i++) FD_SET(rfd[i], &base);
    for (long i = 0; i < n; i++) {
        fd_set set = base;
        struct timeval tv = {0, 0};
        if (select(maxfd + 1, &set, NULL, NULL, &tv) != 1) B_FAIL();
    }
}

static void poll_op(void *ctx, long n)
{
    (void)ctx;
    struct pollfd fds[NFDS];
    for (int i = 0; i < NFDS; i++) fds[i] = (struct pollfd){.fd = rfd[i], .events = POLLIN};
    for (long i = 0; i < n; i++)
        if (poll(fds, NFDS, 0) != 1) B_FAIL();
}

static void epoll_op(void *ctx, long n)
{
    int ep = *(int *)ctx;
    struct epoll_event ev[NFDS];
    for (long i = 0; i < n; i++)
        if (epoll_wait(ep, ev, NFDS, 0) != 1) B_FAIL();
}

/* An epoll set watching every read end for EPOLLIN (level-triggered). */
static int epoll_set(void)
{
    int ep = epoll_create1(0);
    if (ep < 0) return -errno;
    for (int i = 0; i < NFDS; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = rfd[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, rfd[i], &ev)) return -errno;
    }
    return ep;
}

int main(int argc, char **argv)
{
    b_init(argc, argv);
    for (int i = 0; i < NFDS; i++) {
        int p[2];
        if (pipe(p)) {
            b_error("select_100", errno);
            b_error("poll_100", errno);
            b_error("epoll_100", errno);
            return 0;
        }
        rfd[i] = p[0];
        if (p[0] > maxfd) maxfd = p[0];
        if (i == NFDS - 1 && write(p[1], "x", 1) != 1) {
            b_error("select_100", errno);
            b_error("poll_100", errno);
            b_error("epoll_100", errno);
            return 0;
        }
    }
    if (maxfd >= FD_SETSIZE)
        b_error("select_100", EMFILE);
    else
        bench_ns("select_100", select_op, NULL, 1L << 30);
    bench_ns("poll_100", poll_op, NULL, 1L << 30);
    int ep = epoll_set();
    if (ep < 0)
        b_error("epoll_100", -ep);
    else
        bench_ns("epoll_100", epoll_op, &ep, 1L << 30);
    return 0;
}
