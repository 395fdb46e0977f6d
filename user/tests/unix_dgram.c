/* unix_dgram: AF_UNIX datagram and seqpacket sockets, and what travels
 * with messages. Datagrams keep their boundaries, truncate (MSG_TRUNC in
 * msg_flags, or the real length with the MSG_TRUNC flag), report their
 * sender's name (none, a path, an autobound name), fill up (EAGAIN), and
 * refuse too much (EMSGSIZE), no address (ENOTCONN), no one (ENOENT,
 * ECONNREFUSED), a stream socket (EPROTOTYPE), a foreign peer (EPERM).
 * seqpacket: boundaries over a connection, EOF, EPIPE. SCM_RIGHTS passes
 * open files (MSG_CTRUNC when the control buffer is short,
 * MSG_CMSG_CLOEXEC, EBADF); SCM_CREDENTIALS with SO_PASSCRED, and EPERM
 * for a lie. */
#define T_NAME "unix_dgram"
#include "t.h"
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

static socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strncpy(a->sun_path, path, sizeof a->sun_path - 1);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static void datagrams(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
    CHECK(send(sv[0], "one", 3, 0) == 3);
    CHECK(send(sv[0], "", 0, 0) == 0);
    CHECK(send(sv[0], "three33", 7, 0) == 7);
    int n = -1;
    CHECK(ioctl(sv[1], FIONREAD, &n) == 0 && n == 3);
    char buf[16];
    CHECK(recv(sv[1], buf, sizeof buf, 0) == 3 && memcmp(buf, "one", 3) == 0);
    CHECK(recv(sv[1], buf, sizeof buf, 0) == 0);
    /* A short buffer: the rest is dropped; MSG_TRUNC flags it. */
    struct iovec iov = {buf, 5};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    CHECK(recvmsg(sv[1], &m, MSG_PEEK) == 5 && (m.msg_flags & MSG_TRUNC));
    CHECK(recv(sv[1], buf, 2, MSG_TRUNC) == 7);
    CHECK(memcmp(buf, "th", 2) == 0);
    CHECK_ERR(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &n, &(socklen_t){4}) == 0 && n == SOCK_DGRAM);
    static char huge[300000];
    CHECK_ERR(send(sv[0], huge, sizeof huge, 0), EMSGSIZE);
    /* SHUT_RD: reads return 0 at once. */
    CHECK(shutdown(sv[1], SHUT_RD) == 0);
    CHECK(recv(sv[1], buf, sizeof buf, 0) == 0);
    close(sv[1]);
    CHECK_ERR(send(sv[0], "x", 1, 0), ECONNREFUSED);
    close(sv[0]);

    /* A named receiver, senders with and without names. */
    const char *path = P("/tmp/unix-dgram.sock"), *cpath = P("/tmp/unix-dgram-c.sock");
    unlink(path);
    unlink(cpath);
    struct sockaddr_un a, ca, from;
    socklen_t alen = path_addr(&a, path), calen = path_addr(&ca, cpath), flen;
    int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(bind(srv, (struct sockaddr *)&a, alen) == 0);
    int cl = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_ERR(send(cl, "x", 1, 0), ENOTCONN);
    CHECK(sendto(cl, "anon", 4, 0, (struct sockaddr *)&a, alen) == 4);
    flen = sizeof from;
    CHECK(recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 4);
    CHECK(flen == 0);
    /* Autobound sender. */
    struct sockaddr_un fam = {.sun_family = AF_UNIX};
    CHECK(bind(cl, (struct sockaddr *)&fam, sizeof(sa_family_t)) == 0);
    CHECK(sendto(cl, "auto", 4, 0, (struct sockaddr *)&a, alen) == 4);
    flen = sizeof from;
    CHECK(recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 4);
    CHECK(flen == offsetof(struct sockaddr_un, sun_path) + 6 && from.sun_path[0] == 0);
    /* The server answers to that name. */
    CHECK(sendto(srv, "re", 2, 0, (struct sockaddr *)&from, flen) == 2);
    CHECK(recv(cl, buf, sizeof buf, 0) == 2);
    close(cl);
    /* A path-named sender. */
    cl = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(bind(cl, (struct sockaddr *)&ca, calen) == 0);
    CHECK(connect(cl, (struct sockaddr *)&a, alen) == 0);
    CHECK(send(cl, "named", 5, 0) == 5);
    flen = sizeof from;
    CHECK(recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 5);
    CHECK(flen == calen && strcmp(from.sun_path, cpath) == 0);
    socklen_t pl = sizeof from;
    CHECK(getpeername(cl, (struct sockaddr *)&from, &pl) == 0 && pl == alen);
    /* The receiver's queue fills up. */
    int sent = 0;
    for (; sent < 100000; sent++)
        if (send(cl, "fill", 4, MSG_DONTWAIT) < 0) break;
    CHECK(errno == EAGAIN && sent > 0);
    struct pollfd p = {srv, POLLIN, 0};
    CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLIN);
    for (int i = 0; i < sent; i++) CHECK(recv(srv, buf, sizeof buf, 0) == 4);
    /* Errors. */
    int other = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un none;
    socklen_t nlen = path_addr(&none, P("/tmp/unix-dgram-none.sock"));
    unlink(none.sun_path);
    CHECK_ERR(sendto(other, "x", 1, 0, (struct sockaddr *)&none, nlen), ENOENT);
    CHECK_ERR(sendto(other, "x", 1, 0, (struct sockaddr *)&a, 1), EINVAL);
    /* srv is connected to nobody; connect it to cl: then others are EPERM. */
    CHECK(connect(srv, (struct sockaddr *)&ca, calen) == 0);
    CHECK_ERR(sendto(other, "x", 1, 0, (struct sockaddr *)&a, alen), EPERM);
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    CHECK(connect(srv, &unspec, sizeof unspec) == 0);
    CHECK(sendto(other, "x", 1, 0, (struct sockaddr *)&a, alen) == 1);
    CHECK(recv(srv, buf, sizeof buf, 0) == 1);
    int st = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    socklen_t salen = path_addr(&sa, P("/tmp/unix-dgram-st.sock"));
    unlink(sa.sun_path);
    CHECK(bind(st, (struct sockaddr *)&sa, salen) == 0);
    CHECK_ERR(sendto(other, "x", 1, 0, (struct sockaddr *)&sa, salen), EPROTOTYPE);
    CHECK_ERR(listen(other, 1), EOPNOTSUPP);
    CHECK_ERR(accept(other, NULL, NULL), EOPNOTSUPP);
    close(st);
    unlink(sa.sun_path);
    /* A closed receiver: ECONNREFUSED for its connected sender. */
    close(srv);
    CHECK_ERR(send(cl, "x", 1, 0), ECONNREFUSED);
    close(cl);
    close(other);
    unlink(path);
    unlink(cpath);
    SAY("datagrams: boundaries, truncation, names, full queue, errors");
}

static void seqpackets(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
    CHECK(write(sv[0], "abc", 3) == 3);
    CHECK(write(sv[0], "defgh", 5) == 5);
    char buf[16];
    CHECK(read(sv[1], buf, sizeof buf) == 3);
    struct iovec iov = {buf, 2};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    CHECK(recvmsg(sv[1], &m, 0) == 2 && (m.msg_flags & MSG_TRUNC));
    CHECK_ERR(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    close(sv[0]);
    CHECK(recv(sv[1], buf, sizeof buf, 0) == 0);
    CHECK_ERR(send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
    close(sv[1]);

    const char *path = P("/tmp/unix-seq.sock");
    unlink(path);
    struct sockaddr_un a;
    socklen_t alen = path_addr(&a, path);
    int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    CHECK(bind(l, (struct sockaddr *)&a, alen) == 0);
    CHECK(listen(l, 4) == 0);
    int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    CHECK_ERR(recv(c, buf, 1, 0), ENOTCONN);
    CHECK_ERR(send(c, "x", 1, 0), ENOTCONN);
    CHECK(connect(c, (struct sockaddr *)&a, alen) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    CHECK(send(c, "pkt1", 4, 0) == 4);
    CHECK(send(c, "pkt2", 4, 0) == 4);
    CHECK(recv(s, buf, sizeof buf, 0) == 4 && memcmp(buf, "pkt1", 4) == 0);
    CHECK(recv(s, buf, sizeof buf, 0) == 4 && memcmp(buf, "pkt2", 4) == 0);
    int t = -1;
    CHECK(getsockopt(s, SOL_SOCKET, SO_TYPE, &t, &(socklen_t){4}) == 0 && t == SOCK_SEQPACKET);
    close(s);
    close(c);
    close(l);
    unlink(path);
    SAY("seqpacket: boundaries, truncation, EOF, EPIPE, listen/accept");
}

/* Sends `data` with the descriptors fds[0..n). */
/* Receives into buf and returns the descriptors that came (up to max). */
static int recv_fds(int s, char *buf, size_t len, int *fds, int max, size_t ctl_len, int flags, int *msg_flags, ssize_t *got)
{
    char ctl[512];
    memset(ctl, 0, sizeof ctl);
    struct iovec iov = {buf, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl_len ? ctl : NULL, .msg_controllen = ctl_len};
    *got = recvmsg(s, &m, flags);
    CHECK(*got >= 0);
    *msg_flags = m.msg_flags;
    int n = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k && n < max; i++) memcpy(&fds[n++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
    return n;
}

static void passing_files(void)
{
    int sv[2], p[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(pipe(p) == 0);
    CHECK(t_send_fds(sv[0], "F", 1, &p[0], 1) == 1);
    close(p[0]);
    CHECK(write(sv[0], "after", 5) == 5);
    char buf[16];
    int fds[8], fl;
    ssize_t got;
    /* The files end that read: "after" comes next. */
    CHECK(recv_fds(sv[1], buf, sizeof buf, fds, 8, 512, 0, &fl, &got) == 1);
    CHECK(got == 1 && buf[0] == 'F' && fl == 0);
    CHECK(!(fcntl(fds[0], F_GETFD) & FD_CLOEXEC));
    CHECK(write(p[1], "via", 3) == 3);
    CHECK(read(fds[0], buf, 3) == 3 && memcmp(buf, "via", 3) == 0);
    close(fds[0]);
    CHECK(read(sv[1], buf, sizeof buf) == 5);

    /* Two files, room for one: MSG_CTRUNC and the other is closed. */
    int two[2] = {p[1], p[1]};
    CHECK(t_send_fds(sv[0], "2", 1, two, 2) == 1);
    CHECK(recv_fds(sv[1], buf, sizeof buf, fds, 8, CMSG_LEN(sizeof(int)), 0, &fl, &got) == 1);
    CHECK(fl & MSG_CTRUNC);
    close(fds[0]);
    /* No control buffer at all. */
    CHECK(t_send_fds(sv[0], "0", 1, &p[1], 1) == 1);
    CHECK(recv_fds(sv[1], buf, sizeof buf, fds, 8, 0, 0, &fl, &got) == 0);
    CHECK(got == 1 && (fl & MSG_CTRUNC));
    /* MSG_CMSG_CLOEXEC. */
    CHECK(t_send_fds(sv[0], "c", 1, &p[1], 1) == 1);
    CHECK(recv_fds(sv[1], buf, sizeof buf, fds, 8, 512, MSG_CMSG_CLOEXEC, &fl, &got) == 1);
    CHECK(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
    close(fds[0]);
    /* A bad descriptor sends nothing. */
    int bad = 999;
    CHECK_ERR(t_send_fds(sv[0], "b", 1, &bad, 1), EBADF);
    CHECK_ERR(recv(sv[1], buf, 1, MSG_DONTWAIT), EAGAIN);
    /* Files in a queue that closes are closed with it. */
    CHECK(t_send_fds(sv[0], "q", 1, &p[1], 1) == 1);
    close(sv[0]);
    close(sv[1]);
    close(p[1]);

    /* Over datagrams, to another process. */
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
    CHECK(pipe(p) == 0);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int f[2], mf;
        ssize_t g;
        char b[8];
        if (recv_fds(sv[1], b, sizeof b, f, 2, 512, 0, &mf, &g) != 1) _exit(2);
        if (write(f[0], "child", 5) != 5) _exit(3);
        _exit(0);
    }
    CHECK(t_send_fds(sv[0], "w", 1, &p[1], 1) == 1);
    close(p[1]);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(read(p[0], buf, sizeof buf) == 5 && memcmp(buf, "child", 5) == 0);
    CHECK(read(p[0], buf, sizeof buf) == 0); /* every write end is closed */
    close(p[0]);
    close(sv[0]);
    close(sv[1]);
    SAY("SCM_RIGHTS: stream and datagram, MSG_CTRUNC, MSG_CMSG_CLOEXEC, EBADF");
}

static ssize_t send_creds(int s, pid_t pid, uid_t uid, gid_t gid)
{
    char ctl[CMSG_SPACE(sizeof(struct ucred))];
    memset(ctl, 0, sizeof ctl);
    struct iovec iov = {"c", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
    struct ucred u = {pid, uid, gid};
    memcpy(CMSG_DATA(c), &u, sizeof u);
    return sendmsg(s, &m, 0);
}

static int sv2[2];

static void lie_about_pid(void *arg)
{
    (void)arg;
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    errno = 0;
    if (send_creds(sv2[0], 1, 65534, 65534) != -1 || errno != EPERM) _exit(3);
    if (send_creds(sv2[0], getpid(), 0, 65534) != -1 || errno != EPERM) _exit(4);
    if (send_creds(sv2[0], getpid(), 65534, 65534) != 1) _exit(5);
    _exit(0);
}

static void credentials(void)
{
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv2) == 0);
    int on = 1;
    CHECK(setsockopt(sv2[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0);
    int v = 0;
    CHECK(getsockopt(sv2[1], SOL_SOCKET, SO_PASSCRED, &v, &(socklen_t){4}) == 0 && v == 1);
    CHECK(send(sv2[0], "x", 1, 0) == 1);
    char buf[8], ctl[64];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    CHECK(recvmsg(sv2[1], &m, 0) == 1);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    CHECK(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS);
    CHECK(c->cmsg_len == CMSG_LEN(sizeof(struct ucred)));
    struct ucred u;
    memcpy(&u, CMSG_DATA(c), sizeof u);
    CHECK(u.pid == getpid() && u.uid == getuid() && u.gid == getgid());
    /* Claimed credentials are checked: a non-root child may not lie. */
    int st = t_in_child(lie_about_pid, NULL);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    m.msg_controllen = sizeof ctl;
    CHECK(recvmsg(sv2[1], &m, 0) == 1);
    c = CMSG_FIRSTHDR(&m);
    CHECK(c && c->cmsg_type == SCM_CREDENTIALS);
    memcpy(&u, CMSG_DATA(c), sizeof u);
    CHECK(u.uid == 65534 && u.gid == 65534);
    close(sv2[0]);
    close(sv2[1]);
    SAY("SCM_CREDENTIALS with SO_PASSCRED, EPERM for false ones");
}

int main(void)
{
    mkdir(P("/tmp"), 01777);
    datagrams();
    seqpackets();
    passing_files();
    credentials();
    SAY("ok");
    return 0;
}
