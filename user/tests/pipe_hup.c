/*
 * pipe_hup: what poll and epoll say of a pipe whose other end is gone, as
 * Linux's pipe_poll: the read end is POLLHUP once the last writer closed,
 * with POLLIN too while data is left; the write end is POLLERR once the
 * last reader closed, with POLLOUT while there is room. An edge-triggered
 * reader gets IN and HUP in one event and no further edge, so after a
 * short read it still knows EOF is next (tokio's process_issue_8042).
 * A FIFO reader is hung up only once a writer has come and gone since it
 * opened (Linux's f_version): not when it opens with no writer.
 */
#define T_NAME "pipe_hup"
#include "t.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/stat.h>

static short revents(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    CHECK(poll(&p, 1, 0) >= 0);
    return p.revents;
}

int main(void)
{
    int p[2];
    char buf[8];

    /* Data left, writer gone: IN and HUP. */
    CHECK(pipe(p) == 0);
    CHECK(revents(p[0]) == 0);
    CHECK(revents(p[1]) == POLLOUT);
    CHECK(write(p[1], "abc", 3) == 3);
    CHECK(revents(p[0]) == POLLIN);
    close(p[1]);
    CHECK(revents(p[0]) == (POLLIN | POLLHUP));
    CHECK(read(p[0], buf, sizeof buf) == 3);
    CHECK(revents(p[0]) == POLLHUP);
    CHECK(read(p[0], buf, sizeof buf) == 0);
    close(p[0]);
    SAY("read end: POLLIN|POLLHUP with data left, then POLLHUP");

    /* Reader gone: the write end is OUT and ERR; a write is EPIPE. */
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    close(p[0]);
    CHECK(revents(p[1]) == (POLLOUT | POLLERR));
    signal(SIGPIPE, SIG_IGN);
    CHECK_ERR(write(p[1], "x", 1), EPIPE);
    close(p[1]);
    SAY("write end: POLLOUT|POLLERR without a reader");

    /* Edge-triggered, as mio registers a child's stdout. */
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.u64 = 5};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
    struct epoll_event got[2];
    CHECK(epoll_wait(ep, got, 2, 0) == 0);
    CHECK(write(p[1], "abc", 3) == 3);
    close(p[1]);
    CHECK(epoll_wait(ep, got, 2, 1000) == 1);
    CHECK(got[0].data.u64 == 5);
    CHECK(got[0].events == (EPOLLIN | EPOLLHUP));
    CHECK(read(p[0], buf, 2) == 2);
    CHECK(epoll_wait(ep, got, 2, 0) == 0); /* no new edge */
    CHECK(read(p[0], buf, sizeof buf) == 1);
    CHECK(read(p[0], buf, sizeof buf) == 0);
    close(p[0]);
    close(ep);
    SAY("epoll ET: one EPOLLIN|EPOLLHUP event");

    const char *f = P("/tmp/pipe_hup-fifo");
    unlink(f);
    CHECK(mkfifo(f, 0600) == 0);
    int r = open(f, O_RDONLY | O_NONBLOCK);
    CHECK(r >= 0);
    CHECK(revents(r) == 0); /* no writer yet: not a hang-up */
    int w = open(f, O_WRONLY | O_NONBLOCK);
    CHECK(w >= 0);
    CHECK(write(w, "ab", 2) == 2);
    CHECK(revents(r) == POLLIN);
    close(w);
    CHECK(revents(r) == (POLLIN | POLLHUP));
    CHECK(read(r, buf, sizeof buf) == 2);
    CHECK(revents(r) == POLLHUP);
    int r2 = open(f, O_RDONLY | O_NONBLOCK); /* after the writer left */
    CHECK(r2 >= 0);
    CHECK(revents(r2) == 0);
    CHECK(read(r2, buf, sizeof buf) == 0);
    close(r2);
    close(r);
    CHECK(unlink(f) == 0);
    SAY("FIFO: POLLHUP only after a writer came and went");
    return 0;
}
