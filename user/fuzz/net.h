/* Socket calls for the fuzzer (included by fuzz.c after its generators).
 *
 *   net_pick()        a socket call, chosen more often than the rest
 *   net_args(nr, a)   arguments that reach deep: AF_UNIX (all types, and
 *                     other families for EAFNOSUPPORT), abstract, path and
 *                     unnamed sockaddrs with right and wrong lengths,
 *                     msghdrs whose control messages carry SCM_RIGHTS
 *                     (random descriptors, the socket itself: in-flight
 *                     cycles for the kernel's collector) and
 *                     SCM_CREDENTIALS, mmsghdr vectors, socket options
 *   net_after(nr, a, ret)  remembers new sockets (socket, socketpair,
 *                     accept) and descriptors that arrived with SCM_RIGHTS
 */

#include <sys/socket.h>

static int net_fds[32];
static int n_net_fds;

static void net_add(long fd)
{
    if (fd < 0 || fd >= 900)
        return;
    add_fd(fd);
    if (n_net_fds < (int)(sizeof net_fds / sizeof net_fds[0]))
        net_fds[n_net_fds++] = (int)fd;
    else
        net_fds[below(n_net_fds)] = (int)fd;
}

static uint64_t net_fd(void)
{
    if (n_net_fds && chance(80))
        return (uint64_t)net_fds[below(n_net_fds)];
    return gen_fd();
}

static const short net_nrs[] = {
    SYS_socket, SYS_socketpair, SYS_bind, SYS_connect, SYS_listen, SYS_accept, SYS_accept4,
    SYS_sendmsg, SYS_recvmsg, SYS_sendmmsg, SYS_recvmmsg, SYS_sendto, SYS_recvfrom,
    SYS_setsockopt, SYS_getsockopt, SYS_shutdown, SYS_getsockname, SYS_getpeername,
};

static long net_pick(void)
{
    return net_nrs[below(sizeof net_nrs / sizeof net_nrs[0])];
}

static uint64_t net_family(void)
{
    static const uint64_t other[] = {AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNSPEC, 45, 46, 0xffff};
    if (chance(80))
        return AF_UNIX;
    return chance(80) ? other[below(sizeof other / sizeof other[0])] : gen_int();
}

static uint64_t net_type(void)
{
    static const uint64_t types_[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW, SOCK_RDM, 0, 11, 15};
    uint64_t t = chance(90) ? types_[below(4)] : types_[below(sizeof types_ / sizeof types_[0])];
    if (chance(70))
        t |= SOCK_NONBLOCK;
    if (chance(30))
        t |= SOCK_CLOEXEC;
    if (chance(3))
        t |= gen_flags();
    return t;
}

/* A sockaddr in buf at `p`; its length (sometimes wrong) in *len. */
static void net_sockaddr(char *p, uint64_t *len)
{
    memset(p, 0, 128);
    p[0] = AF_UNIX;
    int n;
    switch (below(5)) {
    case 0: /* abstract: a few names, so binds collide and connects find listeners */
        n = 1 + snprintf(p + 3, 100, "fz%d", (int)below(4));
        break;
    case 1: /* a path in the worker's directory */
        n = snprintf(p + 2, 100, "%s/s%d", dir, (int)below(4)) + 1;
        break;
    case 2: /* unnamed: autobind */
        n = 0;
        break;
    case 3: /* another family, or random bytes */
        for (int i = 0; i < 32; i++)
            p[i] = (char)rnd();
        if (chance(50))
            p[0] = (char)net_family(), p[1] = 0;
        n = (int)below(110);
        break;
    default: /* a full sun_path without a NUL */
        memset(p + 2, 'a' + (int)below(3), 108);
        n = 108;
        break;
    }
    static const int64_t bad[] = {0, 1, 2, 3, 109, 110, 111, 127, 128, 129, -1, 4096};
    *len = chance(85) ? (uint64_t)(2 + n) : (uint64_t)bad[below(sizeof bad / sizeof bad[0])];
}

/* A pointer to a fresh sockaddr (or a bad pointer); its length in *len. */
static uint64_t net_addr(uint64_t *len)
{
    if (chance(10)) {
        *len = gen_len();
        return gen_ptr();
    }
    char *p = buf + 20480 + below(8) * 128;
    net_sockaddr(p, len);
    return (uint64_t)p;
}

/* Control messages at `c` (room for `max` bytes); returns their length. */
static size_t net_control(char *c, size_t max)
{
    size_t off = 0;
    int n = 1 + (int)below(2);
    for (int k = 0; k < n; k++) {
        struct cmsghdr *h = (struct cmsghdr *)(c + off);
        if (off + CMSG_SPACE(sizeof(struct ucred)) > max)
            break;
        h->cmsg_level = chance(95) ? SOL_SOCKET : (int)gen_int();
        switch (below(4)) {
        case 0: { /* credentials: ours, or someone else's */
            struct ucred u = {getpid(), getuid(), getgid()};
            if (chance(20))
                u.pid = (pid_t)gen_int(), u.uid = (uid_t)gen_int();
            h->cmsg_type = SCM_CREDENTIALS;
            h->cmsg_len = CMSG_LEN(sizeof u);
            memcpy(CMSG_DATA(h), &u, sizeof u);
            break;
        }
        case 3: /* garbage */
            h->cmsg_type = (int)below(4);
            h->cmsg_len = chance(50) ? (size_t)gen_len() : below(64);
            if (h->cmsg_len > max - off)
                return max;
            break;
        default: { /* files: sockets (cycles) and whatever else is open */
            int want = chance(95) ? 1 + (int)below(4) : 250 + (int)below(6);
            int room = (int)((max - off - CMSG_LEN(0)) / sizeof(int));
            if (want > room)
                want = room;
            int *fd = (int *)CMSG_DATA(h);
            for (int i = 0; i < want; i++)
                fd[i] = chance(60) ? (int)net_fd() : (int)gen_fd();
            for (int i = 0; i < want; i++)
                if (fd[i] == CONSOLE_FD || fd[i] == REPORT_FD)
                    fd[i] = -1;
            h->cmsg_type = SCM_RIGHTS;
            h->cmsg_len = CMSG_LEN(want * sizeof(int));
            break;
        }
        }
        off += CMSG_ALIGN(h->cmsg_len);
    }
    return off > max ? max : off;
}

/* A msghdr in buf for sendmsg (`is_send`) or recvmsg. */
static void net_msghdr(struct msghdr *m, int is_send)
{
    memset(m, 0, sizeof *m);
    uint64_t len = 0;
    if (chance(is_send ? 30 : 60)) {
        m->msg_name = (void *)net_addr(&len);
        m->msg_namelen = (socklen_t)len;
    }
    m->msg_iov = (struct iovec *)gen_iov();
    m->msg_iovlen = chance(85) ? below(4) + (chance(50) ? 1 : 0) : gen_int();
    if (chance(70)) {
        static const size_t sizes[] = {0, 1, 16, 24, 32, 64, 256, 1024, 1100};
        char *c = buf + 24576 + below(4) * 1280;
        size_t max = sizes[below(sizeof sizes / sizeof sizes[0])];
        m->msg_control = c;
        m->msg_controllen = is_send ? net_control(c, max) : max;
        if (chance(5))
            m->msg_controllen = gen_len();
    }
    m->msg_flags = chance(90) ? 0 : (int)gen_flags();
}

static uint64_t net_msg_flags(void)
{
    uint64_t f = chance(70) ? MSG_DONTWAIT : 0;
    static const uint64_t some[] = {MSG_PEEK, MSG_WAITALL, MSG_TRUNC, MSG_NOSIGNAL, MSG_CMSG_CLOEXEC,
                                    MSG_OOB, MSG_EOR, 0x10000 /* MSG_WAITFORONE */, MSG_CTRUNC};
    if (chance(40))
        f |= some[below(sizeof some / sizeof some[0])];
    if (chance(5))
        f |= gen_flags();
    return f;
}

/* sockopt values: timevals (valid or not), ints, credentials. */
static uint64_t net_optval(int name, uint64_t *len)
{
    static const int names_len[] = {0, 1, 4, 8, 12, 15, 16, 32};
    int64_t *v = (int64_t *)(buf + 30720 + below(8) * 32);
    if (name == SO_RCVTIMEO || name == SO_SNDTIMEO || name == 66 || name == 67) {
        v[0] = chance(80) ? 0 : (chance(50) ? -1 : (int64_t)gen_int());
        v[1] = chance(80) ? (int64_t)below(50000) : (int64_t)gen_int();
        *len = chance(80) ? 16 : (uint64_t)names_len[below(8)];
    } else {
        ((int *)v)[0] = chance(60) ? (int)below(2) : (int)gen_int();
        *len = chance(80) ? 4 : (uint64_t)names_len[below(8)];
    }
    return chance(95) ? (uint64_t)v : gen_ptr();
}

static int net_optname(void)
{
    static const int names[] = {SO_RCVTIMEO, SO_SNDTIMEO, 66, 67, SO_SNDBUF, SO_RCVBUF, SO_PASSCRED,
                                SO_REUSEADDR, SO_KEEPALIVE, SO_PEERCRED, SO_TYPE, SO_ERROR,
                                SO_ACCEPTCONN, SO_DOMAIN, SO_PROTOCOL, SO_LINGER, SO_SNDBUFFORCE,
                                SO_PRIORITY, SO_BROADCAST, SO_PASSSEC, SO_PEERSEC};
    return chance(90) ? names[below(sizeof names / sizeof names[0])] : (int)gen_int();
}

/* Rewrites the arguments of socket calls; leaves other calls alone. */
static void net_args(long nr, uint64_t *a)
{
    uint64_t len;
    switch (nr) {
    case SYS_socket:
        a[0] = net_family();
        a[1] = net_type();
        a[2] = chance(90) ? 0 : (chance(50) ? (uint64_t)a[0] : gen_int());
        break;
    case SYS_socketpair:
        a[0] = net_family();
        a[1] = net_type();
        a[2] = chance(95) ? 0 : gen_int();
        a[3] = chance(95) ? (uint64_t)(buf + 32768 + below(16) * 8) : gen_ptr();
        break;
    case SYS_bind: case SYS_connect:
        a[0] = net_fd();
        a[1] = net_addr(&len);
        a[2] = len;
        break;
    case SYS_listen:
        a[0] = net_fd();
        a[1] = chance(80) ? below(8) : gen_int();
        break;
    case SYS_accept: case SYS_accept4: case SYS_getsockname: case SYS_getpeername:
    case SYS_recvfrom: {
        int *lp = (int *)(buf + 33024 + below(8) * 8);
        static const int lens[] = {0, 1, 2, 16, 110, 128, -1};
        *lp = lens[below(sizeof lens / sizeof lens[0])];
        int r = nr == SYS_recvfrom;
        a[0] = net_fd();
        a[r ? 4 : 1] = chance(80) ? (uint64_t)(buf + 33280 + below(4) * 128) : (chance(50) ? 0 : gen_ptr());
        a[r ? 5 : 2] = chance(90) ? (uint64_t)lp : gen_ptr();
        if (nr == SYS_accept4)
            a[3] = chance(80) ? SOCK_NONBLOCK | (chance(30) ? SOCK_CLOEXEC : 0) : gen_flags();
        if (r) {
            a[1] = gen_buf();
            a[2] = chance(80) ? below(256) : gen_len();
            a[3] = net_msg_flags();
        }
        break;
    }
    case SYS_sendto:
        a[0] = net_fd();
        a[1] = gen_buf();
        a[2] = chance(80) ? below(256) : gen_len();
        a[3] = net_msg_flags();
        if (chance(50)) {
            a[4] = net_addr(&len);
            a[5] = len;
        } else {
            a[4] = 0;
            a[5] = 0;
        }
        break;
    case SYS_sendmsg: case SYS_recvmsg: {
        struct msghdr *m = (struct msghdr *)(buf + 34816 + below(4) * 64);
        net_msghdr(m, nr == SYS_sendmsg);
        a[0] = net_fd();
        a[1] = chance(95) ? (uint64_t)m : gen_ptr();
        a[2] = net_msg_flags();
        break;
    }
    case SYS_sendmmsg: case SYS_recvmmsg: {
        struct mmsghdr *v = (struct mmsghdr *)(buf + 35840);
        int n = 1 + (int)below(4);
        for (int i = 0; i < n; i++) {
            net_msghdr(&v[i].msg_hdr, nr == SYS_sendmmsg);
            v[i].msg_len = (unsigned)rnd();
        }
        a[0] = net_fd();
        a[1] = chance(95) ? (uint64_t)v : gen_ptr();
        a[2] = chance(90) ? (uint64_t)n : gen_int();
        a[3] = net_msg_flags();
        if (nr == SYS_recvmmsg) {
            int64_t *ts = (int64_t *)(buf + 36352);
            ts[0] = chance(90) ? 0 : (int64_t)gen_int();
            ts[1] = chance(90) ? (int64_t)below(20000000) : (int64_t)gen_int();
            a[4] = chance(50) ? 0 : (chance(90) ? (uint64_t)ts : gen_ptr());
        }
        break;
    }
    case SYS_setsockopt: case SYS_getsockopt: {
        int name = net_optname();
        a[0] = net_fd();
        a[1] = chance(90) ? SOL_SOCKET : (chance(50) ? 0 : gen_int());
        a[2] = (uint64_t)(unsigned)name;
        a[3] = net_optval(name, &len);
        if (nr == SYS_setsockopt) {
            a[4] = len;
        } else {
            int *lp = (int *)(buf + 36400 + below(4) * 8);
            *lp = (int)len;
            a[4] = chance(95) ? (uint64_t)lp : gen_ptr();
        }
        break;
    }
    case SYS_shutdown:
        a[0] = net_fd();
        a[1] = chance(90) ? below(3) : gen_int();
        break;
    }
}

/* Remembers the descriptors a socket call made. */
static void net_after(long nr, const uint64_t *a, long ret)
{
    if (ret < 0)
        return;
    switch (nr) {
    case SYS_socket: case SYS_accept: case SYS_accept4:
        net_add(ret);
        break;
    case SYS_socketpair:
        if (a[3] >= (uint64_t)buf && a[3] + 8 <= (uint64_t)buf + BUF_SIZE) {
            net_add(((int *)a[3])[0]);
            net_add(((int *)a[3])[1]);
        }
        break;
    case SYS_recvmsg: {
        struct msghdr *m = (struct msghdr *)a[1];
        if (a[1] < (uint64_t)buf || a[1] + sizeof *m > (uint64_t)buf + BUF_SIZE || !m->msg_control)
            break;
        char *c = m->msg_control;
        if ((uint64_t)c < (uint64_t)buf || (uint64_t)c + m->msg_controllen > (uint64_t)buf + BUF_SIZE)
            break;
        for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h)) {
            if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
                continue;
            int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < k && i < 8; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
                net_add(fd);
            }
        }
        break;
    }
    }
}
