/* unix: AF_UNIX stream sockets (unix(7)). socket(2)'s argument errors;
 * socketpair with read/write, send/recv flags (MSG_PEEK, MSG_DONTWAIT,
 * MSG_WAITALL, MSG_NOSIGNAL), FIONREAD, readv/writev, shutdown and EOF,
 * EPIPE with SIGPIPE; fstat's S_IFSOCK and /proc/self/fd's socket:[ino];
 * path names (an S_IFSOCK node, EADDRINUSE, ENOENT, ECONNREFUSED,
 * EPROTOTYPE, ENXIO on open), abstract names, autobind; listen's backlog
 * (EAGAIN when full), accept4 flags, EISCONN; getsockname/getpeername;
 * SOL_SOCKET options; poll and epoll readiness. */
#define T_NAME "unix"
#include "t.h"
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strncpy(a->sun_path, path, sizeof a->sun_path - 1);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t n = strlen(name);
    memcpy(a->sun_path + 1, name, n);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static int getint(int fd, int opt)
{
    int v = -1;
    socklen_t l = sizeof v;
    CHECK(getsockopt(fd, SOL_SOCKET, opt, &v, &l) == 0);
    CHECK(l == sizeof v);
    return v;
}

static int sv[2];

static void write_after_shutdown(void *arg)
{
    (void)arg;
    signal(SIGPIPE, SIG_DFL);
    (void)write(sv[0], "x", 1);
}

static void socket_errors(void)
{
    CHECK_ERR(socket(AF_UNIX, 99, 0), EINVAL);
    CHECK_ERR(socket(AF_UNIX, SOCK_STREAM | 0x10, 0), EINVAL);
    CHECK_ERR(socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
    CHECK_ERR(socket(AF_UNIX, SOCK_STREAM, 7), EPROTONOSUPPORT);
    CHECK_ERR(socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
    CHECK_ERR(socket(46 /* AF_MAX */, SOCK_STREAM, 0), EAFNOSUPPORT);
    CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 0, NULL), EFAULT);
    /* Ferrite has no AF_INET yet: EAFNOSUPPORT; Linux makes one. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0 || errno == EAFNOSUPPORT);
    if (s >= 0) close(s);
    /* Socket calls on other files. */
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK_ERR(listen(p[0], 1), ENOTSOCK);
    CHECK_ERR(shutdown(p[0], SHUT_RD), ENOTSOCK);
    CHECK_ERR(send(p[1], "x", 1, 0), ENOTSOCK);
    close(p[0]);
    close(p[1]);
    CHECK_ERR(listen(999, 1), EBADF);
    CHECK_ERR(accept4(999, NULL, NULL, 0), EBADF);

    s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(s >= 0);
    CHECK(fcntl(s, F_GETFL) & O_NONBLOCK);
    CHECK(fcntl(s, F_GETFD) & FD_CLOEXEC);
    CHECK_ERR(accept(s, NULL, NULL), EINVAL);
    CHECK_ERR(accept4(s, NULL, NULL, 0x1234), EINVAL);
    CHECK_ERR(send(s, "x", 1, MSG_NOSIGNAL), ENOTCONN);
    char c;
    CHECK_ERR(recv(s, &c, 1, 0), EINVAL);
    struct sockaddr_un a;
    socklen_t al = sizeof a;
    CHECK_ERR(getpeername(s, (struct sockaddr *)&a, &al), ENOTCONN);
    CHECK_ERR(listen(s, 1), EINVAL); /* unbound */
    CHECK(shutdown(s, SHUT_RDWR) == 0);
    CHECK_ERR(shutdown(s, 3), EINVAL);
    close(s);
    SAY("socket(2) errors, flags, ENOTSOCK");
}

static void pair_basics(void)
{
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct stat st;
    CHECK(fstat(sv[0], &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    struct stat st1;
    CHECK(fstat(sv[1], &st1) == 0);
    CHECK(st1.st_ino != st.st_ino);
    char link[64], want[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", sv[0]);
    snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st.st_ino);
    char got[64] = {0};
    CHECK(readlink(link, got, sizeof got - 1) > 0);
    CHECK(strcmp(got, want) == 0);

    CHECK(getint(sv[0], SO_TYPE) == SOCK_STREAM);
    CHECK(getint(sv[0], SO_DOMAIN) == AF_UNIX);
    CHECK(getint(sv[0], SO_PROTOCOL) == 0);
    CHECK(getint(sv[0], SO_ERROR) == 0);
    CHECK(getint(sv[0], SO_ACCEPTCONN) == 0);
    int v = 10000;
    CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v) == 0);
    CHECK(getint(sv[0], SO_SNDBUF) == 20000);
    v = 1;
    CHECK(setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, sizeof v) == 0);
    CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, 2), EINVAL);
    CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, 12345, &v, sizeof v), ENOPROTOOPT);
    socklen_t l = sizeof v;
    CHECK_ERR(getsockopt(sv[0], SOL_SOCKET, 12345, &v, &l), ENOPROTOOPT);
    CHECK_ERR(getsockopt(sv[0], 6 /* IPPROTO_TCP */, 1, &v, &l), EOPNOTSUPP);
    struct ucred cr;
    l = sizeof cr;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &l) == 0);
    CHECK(l == sizeof cr && cr.pid == getpid() && cr.uid == geteuid() && cr.gid == getegid());

    struct sockaddr_un a;
    socklen_t al = sizeof a;
    CHECK(getsockname(sv[0], (struct sockaddr *)&a, &al) == 0);
    CHECK(al == sizeof(sa_family_t) && a.sun_family == AF_UNIX);
    al = sizeof a;
    CHECK(getpeername(sv[0], (struct sockaddr *)&a, &al) == 0);
    CHECK(al == sizeof(sa_family_t));

    /* Bytes both ways, any mix of calls. */
    char buf[64];
    CHECK(write(sv[0], "hello", 5) == 5);
    CHECK(send(sv[0], " world", 6, 0) == 6);
    int n = -1;
    CHECK(ioctl(sv[1], FIONREAD, &n) == 0 && n == 11);
    CHECK(recv(sv[1], buf, 5, MSG_PEEK) == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(read(sv[1], buf, sizeof buf) == 11 && memcmp(buf, "hello world", 11) == 0);
    CHECK_ERR(recv(sv[1], buf, 1, MSG_DONTWAIT), EAGAIN);
    struct sockaddr_un from;
    socklen_t fl = sizeof from;
    CHECK(send(sv[1], "back", 4, 0) == 4);
    CHECK(recvfrom(sv[0], buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 4);
    CHECK(fl == 0); /* an unnamed peer */

    struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
    CHECK(writev(sv[0], iov, 2) == 5);
    char x[2], y[8];
    struct iovec rv[2] = {{x, 2}, {y, 8}};
    CHECK(readv(sv[1], rv, 2) == 5 && memcmp(x, "ab", 2) == 0 && memcmp(y, "cde", 3) == 0);

    /* MSG_WAITALL waits for the whole buffer across writes. */
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        (void)write(sv[1], "12", 2);
        sleep_ms(50);
        (void)write(sv[1], "345", 3);
        _exit(0);
    }
    CHECK(recv(sv[0], buf, 5, MSG_WAITALL) == 5 && memcmp(buf, "12345", 5) == 0);
    CHECK(waitpid(pid, NULL, 0) == pid);

    /* SHUT_WR: the peer reads EOF; our writes are EPIPE and SIGPIPE. */
    CHECK(write(sv[0], "z", 1) == 1);
    CHECK(shutdown(sv[0], SHUT_WR) == 0);
    CHECK(read(sv[1], buf, sizeof buf) == 1);
    CHECK(read(sv[1], buf, sizeof buf) == 0);
    CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_KILLED_BY(write_after_shutdown, NULL, SIGPIPE);
    /* The other way still works. */
    CHECK(write(sv[1], "ok", 2) == 2);
    CHECK(read(sv[0], buf, sizeof buf) == 2);
    /* SHUT_RD on our side: the peer's writes fail too. */
    CHECK(shutdown(sv[0], SHUT_RD) == 0);
    CHECK(read(sv[0], buf, sizeof buf) == 0);
    CHECK_ERR(send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
    close(sv[0]);
    close(sv[1]);

    /* Closing one end: EOF for the other, then EPIPE. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(write(sv[0], "last", 4) == 4);
    close(sv[0]);
    CHECK(read(sv[1], buf, sizeof buf) == 4);
    CHECK(read(sv[1], buf, sizeof buf) == 0);
    signal(SIGPIPE, SIG_IGN);
    CHECK_ERR(write(sv[1], "x", 1), EPIPE);
    signal(SIGPIPE, SIG_DFL);
    close(sv[1]);
    SAY("socketpair: data, flags, FIONREAD, shutdown, EOF, EPIPE/SIGPIPE");
}

static void pair_readiness(void)
{
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    struct pollfd p = {sv[1], POLLIN | POLLOUT, 0};
    CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLOUT);
    /* Fill until EAGAIN: then not writable, and a read makes room. */
    static char big[65536];
    long total = 0;
    for (;;) {
        ssize_t w = write(sv[0], big, sizeof big);
        if (w < 0) {
            CHECK(errno == EAGAIN);
            break;
        }
        total += w;
        CHECK(total < (64L << 20));
    }
    CHECK(total > 0);
    p.fd = sv[0];
    CHECK(poll(&p, 1, 0) == 0);
    p.fd = sv[1];
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLIN));
    while (total > 0) {
        ssize_t r = read(sv[1], big, sizeof big);
        CHECK(r > 0);
        total -= r;
    }
    p.fd = sv[0];
    CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLOUT);

    /* epoll: a write in a child wakes a waiter; the peer's close is HUP. */
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev) == 0);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        sleep_ms(50);
        (void)write(sv[0], "e", 1);
        sleep_ms(50);
        _exit(0);
    }
    CHECK(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.u32 == 7 && (ev.events & EPOLLIN));
    char c;
    CHECK(read(sv[1], &c, 1) == 1 && c == 'e');
    CHECK(waitpid(pid, NULL, 0) == pid);
    close(sv[0]);
    CHECK(epoll_wait(ep, &ev, 1, 5000) == 1 && (ev.events & EPOLLIN));
    p.fd = sv[1];
    p.events = POLLIN | POLLOUT | POLLRDHUP;
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP | POLLRDHUP)) == (POLLIN | POLLHUP | POLLRDHUP));
    close(sv[1]);
    close(ep);

    /* An unconnected stream socket polls as writable and hung up. */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    p.fd = s;
    p.events = POLLIN | POLLOUT;
    CHECK(poll(&p, 1, 0) == 1 && p.revents == (POLLOUT | POLLHUP));
    close(s);
    SAY("poll and epoll readiness");
}

static void path_names(void)
{
    const char *path = P("/tmp/unix-test.sock");
    unlink(path);
    struct sockaddr_un a, b;
    socklen_t alen = path_addr(&a, path);

    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(l >= 0);
    CHECK_ERR(bind(l, (struct sockaddr *)&a, 1), EINVAL);
    CHECK_ERR(bind(l, (struct sockaddr *)&a, 200), EINVAL);
    struct sockaddr_un bad = a;
    bad.sun_family = AF_INET;
    CHECK_ERR(bind(l, (struct sockaddr *)&bad, alen), EINVAL);
    /* Connecting to nothing, to a file, to a bound socket that does not listen. */
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, alen), ENOENT);
    int f = open(path, O_CREAT | O_WRONLY, 0600);
    CHECK(f >= 0);
    close(f);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, alen), ECONNREFUSED);
    CHECK_ERR(bind(l, (struct sockaddr *)&a, alen), EADDRINUSE);
    CHECK(unlink(path) == 0);

    mode_t old = umask(022);
    CHECK(bind(l, (struct sockaddr *)&a, alen) == 0);
    umask(old);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0755);
    CHECK_ERR(open(path, O_RDWR), ENXIO);
    CHECK_ERR(bind(l, (struct sockaddr *)&a, alen), EADDRINUSE);
    struct sockaddr_un other;
    socklen_t olen = path_addr(&other, P("/tmp/unix-test-other.sock"));
    unlink(other.sun_path);
    CHECK_ERR(bind(l, (struct sockaddr *)&other, olen), EINVAL); /* already bound */
    CHECK_ERR(access(other.sun_path, F_OK), ENOENT);
    int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(bind(l2, (struct sockaddr *)&a, alen), EADDRINUSE);
    close(l2);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, alen), ECONNREFUSED);

    CHECK(listen(l, 0) == 0);
    CHECK(getint(l, SO_ACCEPTCONN) == 1);
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_ERR(connect(d, (struct sockaddr *)&a, alen), EPROTOTYPE);
    close(d);

    /* Backlog 0 lets one connection wait; a second is EAGAIN. */
    CHECK(connect(c, (struct sockaddr *)&a, alen) == 0);
    int c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK_ERR(connect(c2, (struct sockaddr *)&a, alen), EAGAIN);
    struct pollfd p = {l, POLLIN, 0};
    CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLIN);
    /* Data sent before accept waits in the new socket. */
    CHECK(write(c, "early", 5) == 5);
    socklen_t blen = sizeof b;
    int s = accept4(l, (struct sockaddr *)&b, &blen, SOCK_CLOEXEC);
    CHECK(s >= 0);
    CHECK(blen == sizeof(sa_family_t) && b.sun_family == AF_UNIX);
    CHECK(fcntl(s, F_GETFD) & FD_CLOEXEC);
    CHECK(!(fcntl(s, F_GETFL) & O_NONBLOCK));
    char buf[16];
    CHECK(read(s, buf, sizeof buf) == 5 && memcmp(buf, "early", 5) == 0);
    /* Names: the accepted socket has the listener's, the client sees it too. */
    blen = sizeof b;
    CHECK(getsockname(s, (struct sockaddr *)&b, &blen) == 0);
    CHECK(blen == alen && strcmp(b.sun_path, path) == 0);
    blen = sizeof b;
    CHECK(getpeername(c, (struct sockaddr *)&b, &blen) == 0);
    CHECK(blen == alen && strcmp(b.sun_path, path) == 0);
    /* A short buffer gets a prefix and the full length. */
    blen = 4;
    memset(&b, 0, sizeof b);
    CHECK(getsockname(l, (struct sockaddr *)&b, &blen) == 0);
    CHECK(blen == alen && b.sun_family == AF_UNIX && b.sun_path[0] == path[0] && b.sun_path[2] == 0);
    struct ucred cr;
    socklen_t crl = sizeof cr;
    CHECK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0 && cr.pid == getpid());
    CHECK(getint(s, SO_ACCEPTCONN) == 0);
    CHECK(getint(c, SO_TYPE) == SOCK_STREAM);
    /* Now the backlog has room (Linux checks it before EISCONN). */
    CHECK_ERR(connect(c, (struct sockaddr *)&a, alen), EISCONN);
    CHECK(connect(c2, (struct sockaddr *)&a, alen) == 0);
    int s2 = accept(l, NULL, NULL);
    CHECK(s2 >= 0);
    CHECK(fcntl(l, F_SETFL, O_NONBLOCK) == 0);
    CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
    CHECK(fcntl(l, F_SETFL, 0) == 0);
    close(s2);
    close(c2);

    /* Blocking accept, woken by a child's connect. */
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        sleep_ms(50);
        int k = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(k, (struct sockaddr *)&a, alen) != 0) _exit(2);
        if (write(k, "kid", 3) != 3) _exit(3);
        char r;
        if (read(k, &r, 1) != 1 || r != '!') _exit(4);
        _exit(0);
    }
    int k = accept(l, NULL, NULL);
    CHECK(k >= 0);
    CHECK(read(k, buf, 3) == 3 && memcmp(buf, "kid", 3) == 0);
    CHECK(write(k, "!", 1) == 1);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(k);

    /* A closed listener refuses; unlinking frees the name. */
    close(s);
    close(c);
    close(l);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, alen), ECONNREFUSED);
    close(c);
    CHECK(unlink(path) == 0);
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(l, (struct sockaddr *)&a, alen) == 0);
    close(l);
    CHECK(unlink(path) == 0);
    SAY("path names: bind, listen, backlog, connect, accept4, names, errors");
}

static void abstract_names(void)
{
    struct sockaddr_un a, b;
    socklen_t alen = abstract_addr(&a, "ferrite-unix-test");
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(l, (struct sockaddr *)&a, alen) == 0);
    int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(bind(l2, (struct sockaddr *)&a, alen), EADDRINUSE);
    CHECK(listen(l, 5) == 0);
    socklen_t blen = sizeof b;
    CHECK(getsockname(l, (struct sockaddr *)&b, &blen) == 0);
    CHECK(blen == alen && memcmp(&a, &b, alen) == 0);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(c, (struct sockaddr *)&a, alen) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    CHECK(write(s, "abs", 3) == 3);
    char buf[4];
    CHECK(read(c, buf, 3) == 3);
    /* A longer name with the same prefix is another name. */
    struct sockaddr_un o;
    socklen_t olen = abstract_addr(&o, "ferrite-unix-test2");
    int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(connect(c2, (struct sockaddr *)&o, olen), ECONNREFUSED);
    close(c2);
    close(s);
    close(c);
    close(l);
    /* Closing frees an abstract name at once. */
    CHECK(bind(l2, (struct sockaddr *)&a, alen) == 0);
    close(l2);

    /* Autobind: addrlen == sizeof(sa_family_t) picks "\0" + 5 hex digits. */
    int u = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un fam = {.sun_family = AF_UNIX};
    CHECK(bind(u, (struct sockaddr *)&fam, sizeof(sa_family_t)) == 0);
    blen = sizeof b;
    CHECK(getsockname(u, (struct sockaddr *)&b, &blen) == 0);
    CHECK(blen == offsetof(struct sockaddr_un, sun_path) + 6);
    CHECK(b.sun_path[0] == 0);
    for (int i = 1; i <= 5; i++) CHECK(strchr("0123456789abcdef", b.sun_path[i]) && b.sun_path[i]);
    CHECK(listen(u, 1) == 0);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(c, (struct sockaddr *)&b, blen) == 0);
    close(c);
    close(u);
    SAY("abstract names and autobind");
}

int main(void)
{
    if (access("/proc/self/stat", F_OK) != 0) {
        mkdir("/proc", 0555);
        CHECK(mount("proc", "/proc", "proc", 0, 0) == 0);
    }
    mkdir(P("/tmp"), 01777);
    socket_errors();
    pair_basics();
    pair_readiness();
    path_names();
    abstract_names();
    SAY("ok");
    return 0;
}
