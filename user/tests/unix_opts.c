/* unix_opts: SO_RCVTIMEO / SO_SNDTIMEO on AF_UNIX sockets (recv, send,
 * accept and connect give up with EAGAIN after the timeout; a negative
 * tv_sec fails at once; EDOM for tv_usec outside 0..999999, EINVAL for a
 * short option; getsockopt gives the timeval back) and sendmmsg/recvmmsg
 * (counts and msg_len, MSG_WAITFORONE, the timeout looked at between
 * messages and its remainder written back, EINVAL for a bad timespec);
 * SO_ERROR after a peer closed with data unread. */
#define T_NAME "unix_opts"
#include "t.h"
#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void set_tv(int s, int opt, long sec, long usec)
{
    struct timeval tv = {sec, usec};
    CHECK(setsockopt(s, SOL_SOCKET, opt, &tv, sizeof tv) == 0);
}

/* `call` fails with EAGAIN after about 200 ms (the timeout set). */
#define CHECK_TIMES_OUT(call)                                  \
    do {                                                       \
        long t0_ = now_ms();                                   \
        CHECK_ERR(call, EAGAIN);                               \
        long dt_ = now_ms() - t0_;                             \
        CHECK(dt_ >= 150 && dt_ < 5000);                       \
    } while (0)

static void timeouts(void)
{
    int sv[2];
    char b[64];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct timeval tv;
    socklen_t l = sizeof tv;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, &l) == 0 && l == sizeof tv);
    CHECK(tv.tv_sec == 0 && tv.tv_usec == 0);
    set_tv(sv[0], SO_RCVTIMEO, 0, 200000);
    l = sizeof tv;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, &l) == 0);
    CHECK(tv.tv_sec == 0 && tv.tv_usec == 200000);
    CHECK_TIMES_OUT(recv(sv[0], b, sizeof b, 0));
    CHECK_TIMES_OUT(read(sv[0], b, sizeof b));
    /* Data that is there comes at once. */
    CHECK(write(sv[1], "a", 1) == 1);
    CHECK(recv(sv[0], b, sizeof b, 0) == 1);

    tv = (struct timeval){0, 1000000};
    CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
    tv = (struct timeval){0, -1};
    CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), EDOM);
    tv = (struct timeval){1, 0};
    CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv - 1), EINVAL);
    /* A negative tv_sec: never wait. */
    set_tv(sv[0], SO_RCVTIMEO, -1, 0);
    long t0 = now_ms();
    CHECK_ERR(recv(sv[0], b, sizeof b, 0), EAGAIN);
    CHECK(now_ms() - t0 < 150);
    l = sizeof tv;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, &l) == 0 && tv.tv_sec == 0 && tv.tv_usec == 0);

    /* Send: fill the peer's buffer, then wait for room that never comes. */
    int v = 4608;
    CHECK(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &v, sizeof v) == 0);
    set_tv(sv[1], SO_SNDTIMEO, 0, 200000);
    static char big[1 << 16];
    ssize_t n = send(sv[1], big, sizeof big, 0);
    CHECK(n > 0 && n < (ssize_t)sizeof big); /* partial: what fitted */
    CHECK_TIMES_OUT(send(sv[1], big, sizeof big, 0));
    close(sv[0]);
    close(sv[1]);
    SAY("SO_RCVTIMEO/SO_SNDTIMEO: recv, read and send time out; EDOM, EINVAL");

    /* Accept and connect. */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int len = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "unix_opts.%d", getpid());
    socklen_t al = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(ls >= 0 && bind(ls, (struct sockaddr *)&sa, al) == 0 && listen(ls, 0) == 0);
    set_tv(ls, SO_RCVTIMEO, 0, 200000);
    CHECK_TIMES_OUT(accept(ls, NULL, NULL));
    /* Backlog 0 lets one connection wait; the next blocks, then times out. */
    int c1 = socket(AF_UNIX, SOCK_STREAM, 0), c2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(c1, (struct sockaddr *)&sa, al) == 0);
    set_tv(c2, SO_SNDTIMEO, 0, 200000);
    CHECK_TIMES_OUT(connect(c2, (struct sockaddr *)&sa, al));
    close(c1);
    close(c2);
    close(ls);
    SAY("SO_RCVTIMEO on accept, SO_SNDTIMEO on connect");
}

static void mmsg(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
    char *words[3] = {"one", "three", "seven"};
    struct iovec iov[5];
    struct mmsghdr mm[5];
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 3; i++) {
        iov[i] = (struct iovec){words[i], strlen(words[i])};
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    CHECK(sendmmsg(sv[0], mm, 3, 0) == 3);
    CHECK(mm[0].msg_len == 3 && mm[1].msg_len == 5 && mm[2].msg_len == 5);
    CHECK(sendmmsg(sv[0], mm, 0, 0) == 0);

    char bufs[5][16];
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 5; i++) {
        iov[i] = (struct iovec){bufs[i], sizeof bufs[i]};
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    /* MSG_WAITFORONE: blocks for the first only, then takes what is there. */
    CHECK(recvmmsg(sv[1], mm, 5, MSG_WAITFORONE, NULL) == 3);
    CHECK(mm[0].msg_len == 3 && mm[1].msg_len == 5 && mm[2].msg_len == 5);
    CHECK(memcmp(bufs[1], "three", 5) == 0 && memcmp(bufs[2], "seven", 5) == 0);
    CHECK_ERR(recvmmsg(sv[1], mm, 5, MSG_DONTWAIT, NULL), EAGAIN);

    /* The timeout is looked at after each message: one that has passed
     * ends the batch after the first; the remainder is written back. */
    for (int i = 0; i < 3; i++) CHECK(send(sv[0], words[i], strlen(words[i]), 0) > 0);
    struct timespec ts = {0, 1};
    CHECK(recvmmsg(sv[1], mm, 5, 0, &ts) == 1);
    CHECK(ts.tv_sec == 0 && ts.tv_nsec == 0);
    ts = (struct timespec){10, 0};
    CHECK(recvmmsg(sv[1], mm, 5, MSG_DONTWAIT, &ts) == 2);
    CHECK(ts.tv_sec >= 8 && ts.tv_sec <= 10);
    ts = (struct timespec){0, 1000000000};
    CHECK_ERR(recvmmsg(sv[1], mm, 5, 0, &ts), EINVAL);
    ts = (struct timespec){-1, 0};
    CHECK_ERR(recvmmsg(sv[1], mm, 5, 0, &ts), EINVAL);
    CHECK_ERR(recvmmsg(-1, mm, 5, 0, NULL), EBADF);
    close(sv[0]);
    close(sv[1]);
    SAY("sendmmsg/recvmmsg: counts, msg_len, MSG_WAITFORONE, timeout, EINVAL");
}

static int getint(int s, int opt)
{
    int v = -1;
    socklen_t l = sizeof v;
    CHECK(getsockopt(s, SOL_SOCKET, opt, &v, &l) == 0 && l == sizeof v);
    return v;
}

/* SO_ERROR: a peer that closes with data unread leaves ECONNRESET, read
 * once; the default buffer sizes are net.core.[wr]mem_default. */
static void errors(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(getint(sv[0], SO_SNDBUF) == 212992 && getint(sv[0], SO_RCVBUF) == 212992);
    CHECK(write(sv[0], "x", 1) == 1);
    close(sv[1]);
    CHECK(getint(sv[0], SO_ERROR) == ECONNRESET);
    CHECK(getint(sv[0], SO_ERROR) == 0);
    char b;
    CHECK(read(sv[0], &b, 1) == 0);
    close(sv[0]);
    /* Closed with everything read: no error. */
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
    close(sv[1]);
    CHECK(getint(sv[0], SO_ERROR) == 0);
    close(sv[0]);
    SAY("SO_ERROR: ECONNRESET when the peer closed with data unread; default buffers");
}

int main(void)
{
    errors();
    timeouts();
    mmsg();
    SAY("ok");
    return 0;
}
