/* unix_gc: AF_UNIX sockets that only in-flight SCM_RIGHTS messages reach
 * are collected (Linux's unix_gc). A pipe's write end travels inside each
 * cycle; once every descriptor is closed the pipe's read end must see EOF,
 * which happens only when the cycle's queues were purged and the sockets
 * and the pipe end freed. Cycles: a socket in its own queue, two sockets
 * in each other's, a listener in its unaccepted connection's queue; made
 * hundreds of times. Sockets in flight to a live socket still arrive (also
 * after a MSG_PEEK of the files), and so does a nest of sockets inside
 * sockets. Limits: SCM_MAX_FD (253 per message, EINVAL above), and
 * ETOOMANYREFS once an unprivileged user has more than RLIMIT_NOFILE
 * files in flight. */
#define T_NAME "unix_gc"
#include "t.h"
#include <poll.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

/* Sends one byte with `n` descriptors (SCM_RIGHTS); returns sendmsg's. */
static ssize_t pass(int s, const int *fds, int n)
{
    return t_send_fds(s, "x", 1, fds, n);
}

/* Receives one message; returns how many descriptors came (at most
 * `max`, stored in `fds`). */
static int take_n(int s, int flags, int *fds, int max)
{
    char b[8], ctl[CMSG_SPACE(8 * sizeof(int))];
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    CHECK(recvmsg(s, &m, flags) >= 0);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (!c || c->cmsg_type != SCM_RIGHTS) return 0;
    int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    CHECK(n <= max);
    memcpy(fds, CMSG_DATA(c), n * sizeof(int));
    return n;
}

/* Receives one message with one descriptor; returns it. */
static int take(int s, int flags)
{
    int fd = -1;
    CHECK(take_n(s, flags, &fd, 1) == 1);
    return fd;
}

/* The pipe's read end sees EOF within 2 s (every write end freed). */
static int hangs_up(int rd)
{
    struct pollfd p = {rd, POLLIN, 0};
    if (poll(&p, 1, 2000) != 1) return 0;
    char c;
    return read(rd, &c, 1) == 0;
}

/* A socket in its own queue: sendmsg(b, [a]) puts a into a's queue. */
static void self_cycle(int w)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int fds[2] = {sv[0], w};
    CHECK(pass(sv[1], fds, 2) == 1);
    close(sv[0]);
    close(sv[1]);
}

/* Two datagram pairs, each one's socket in the other's queue. */
static void pair_cycle(int w)
{
    int a[2], b[2];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, a) == 0);
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, b) == 0);
    int fa[2] = {a[0], w};
    CHECK(pass(b[1], fa, 2) == 1); /* a[0] into b[0]'s queue */
    CHECK(pass(a[1], &b[0], 1) == 1); /* b[0] into a[0]'s queue */
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

/* A listener inside its own unaccepted connection's queue. */
static void embryo_cycle(int w, int i)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int len = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "unix_gc.%d.%d", getpid(), i);
    socklen_t al = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
    int l = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(l >= 0 && c >= 0);
    CHECK(bind(l, (struct sockaddr *)&sa, al) == 0 && listen(l, 4) == 0);
    CHECK(connect(c, (struct sockaddr *)&sa, al) == 0);
    int fds[2] = {l, w};
    CHECK(pass(c, fds, 2) == 1);
    close(l);
    close(c);
}

static void cycles(void)
{
    for (int kind = 0; kind < 3; kind++) {
        int p[2];
        CHECK(pipe(p) == 0);
        for (int i = 0; i < 200; i++) {
            if (kind == 0) self_cycle(p[1]);
            else if (kind == 1) pair_cycle(p[1]);
            else embryo_cycle(p[1], i);
        }
        close(p[1]);
        CHECK(hangs_up(p[0]));
        close(p[0]);
    }
    SAY("cycles freed: self, pair, listener and embryo (200 each)");
}

/* A collection runs (and frees a cycle made for the purpose). */
static void collect(void)
{
    int q[2];
    CHECK(pipe(q) == 0);
    self_cycle(q[1]);
    close(q[1]);
    CHECK(hangs_up(q[0]));
    close(q[0]);
}

/* Not cycles: sockets and files in flight to a live socket arrive. */
static void live(void)
{
    int sv[2], c[2], p[2], got[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, c) == 0);
    CHECK(pipe(p) == 0);
    int fds[2] = {c[0], p[1]};
    CHECK(pass(sv[1], fds, 2) == 1);
    close(c[0]);
    close(p[1]);
    collect();
    /* A peek's copies are ordinary descriptors; closing them changes
     * nothing for the message. */
    CHECK(take_n(sv[0], MSG_PEEK, got, 2) == 2);
    close(got[0]);
    close(got[1]);
    collect();
    struct pollfd pf = {p[0], POLLIN, 0};
    CHECK(poll(&pf, 1, 0) == 0); /* the write end is still alive */
    CHECK(take_n(sv[0], 0, got, 2) == 2);
    CHECK(write(c[1], "hi", 2) == 2);
    char b[4];
    CHECK(read(got[0], b, sizeof b) == 2 && memcmp(b, "hi", 2) == 0);
    CHECK(write(got[1], "p", 1) == 1);
    CHECK(read(p[0], b, 1) == 1 && b[0] == 'p');
    close(got[0]);
    close(got[1]);
    close(c[1]);
    CHECK(hangs_up(p[0]));
    close(p[0]);
    close(sv[0]);
    close(sv[1]);
    SAY("in flight to a live socket: kept across collections and a peek");
}

/* Sockets nested in sockets' queues, then unpacked again. */
static void nesting(void)
{
    enum { DEPTH = 8 };
    int s[DEPTH][2];
    for (int i = 0; i < DEPTH; i++) CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, s[i]) == 0);
    /* s[i][0] goes into s[i+1][0]'s queue. */
    for (int i = 0; i + 1 < DEPTH; i++) {
        CHECK(pass(s[i + 1][1], &s[i][0], 1) == 1);
        close(s[i][0]);
        close(s[i][1]);
    }
    int cur = s[DEPTH - 1][0];
    close(s[DEPTH - 1][1]);
    for (int i = DEPTH - 2; i >= 0; i--) {
        int next = take(cur, 0);
        CHECK(next >= 0);
        close(cur);
        cur = next;
    }
    close(cur);
    SAY("%d sockets nested in queues and unpacked", DEPTH);
}

static void max_fds(void)
{
    int sv[2], fds[254];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
    for (int i = 0; i < 254; i++) fds[i] = 0;
    CHECK_ERR(pass(sv[0], fds, 254), EINVAL);
    CHECK(pass(sv[0], fds, 253) == 1);
    close(sv[0]);
    close(sv[1]);
    SAY("SCM_MAX_FD: 253 descriptors a message, EINVAL for 254");
}

static void unprivileged_limit(void *arg)
{
    (void)arg;
    CHECK(setgid(65534) == 0 && setuid(65534) == 0);
    struct rlimit r = {1024, 1024};
    CHECK(setrlimit(RLIMIT_NOFILE, &r) == 0);
    int sv[2], fds[253];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    for (int i = 0; i < 253; i++) fds[i] = 0;
    /* The check comes before a send adds its files: 4 * 253 = 1012 are
     * in flight before the fifth, 1265 before the sixth. */
    for (int i = 0; i < 5; i++) CHECK(pass(sv[0], fds, 253) == 1);
    CHECK_ERR(pass(sv[0], fds, 253), ETOOMANYREFS);
    /* Received files no longer count. */
    char b;
    for (int i = 0; i < 5; i++) CHECK(recv(sv[1], &b, 1, 0) == 1); /* the files close */
    CHECK(pass(sv[0], fds, 253) == 1);
}

int main(void)
{
    cycles();
    live();
    nesting();
    max_fds();
    CHECK(t_in_child(unprivileged_limit, NULL) == 0);
    SAY("ETOOMANYREFS past RLIMIT_NOFILE files in flight (unprivileged)");
    SAY("ok");
    return 0;
}
