/* epoll: epoll_create/create1/ctl/wait/pwait/pwait2 on pipes and eventfds:
 * level- vs edge-triggered, one-shot re-armed with MOD, EPOLLHUP when the
 * writer closes, timeouts, a wake-up from another process, nesting, and
 * a pty master and slave, and the error cases of epoll_ctl(2) and
 * epoll_wait(2). */
#define T_NAME "epoll"
#include "t.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static int wait1(int ep, struct epoll_event *ev, int timeout)
{
    return epoll_wait(ep, ev, 1, timeout);
}

static void on_usr1(int sig) { (void)sig; }

/* Linux's test initramfs has no /dev/ptmx or devpts mount: make them
 * there (as pty.c does). On Ferrite both exist and these calls may fail. */
static void setup_devpts(void)
{
    mkdir("/dev", 0755);
    mkdir("/dev/pts", 0755);
    mount("devpts", "/dev/pts", "devpts", 0, "ptmxmode=0666,mode=0620");
    mknod("/dev/ptmx", S_IFCHR | 0666, makedev(5, 2));
}

/* Waits up to 2 s for an event with data.u32 == tag; 1 if it came. */
static int wait_tag(int ep, unsigned tag)
{
    long long end = now_ms() + 2000;
    struct epoll_event ev[4];
    while (now_ms() < end) {
        int n = epoll_wait(ep, ev, 4, 100);
        for (int i = 0; i < n; i++)
            if (ev[i].data.u32 == tag) return 1;
    }
    return 0;
}

int main(void)
{
    /* ---- creation ---- */
    /* (musl's epoll_create() ignores the size: call the kernel's.) */
    CHECK_ERR(syscall(SYS_epoll_create, 0), EINVAL);
    CHECK_ERR(syscall(SYS_epoll_create, -1), EINVAL);
    CHECK_ERR(epoll_create1(1), EINVAL);
    int ep = epoll_create(1);
    CHECK(ep >= 0);
    CHECK((fcntl(ep, F_GETFD) & FD_CLOEXEC) == 0);
    int ep2 = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep2 >= 0);
    CHECK((fcntl(ep2, F_GETFD) & FD_CLOEXEC) != 0);
    char c;
    CHECK_ERR(read(ep, &c, 1), EINVAL);
    SAY("create ok");

    /* ---- epoll_ctl errors ---- */
    int p[2];
    CHECK(pipe(p) == 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ULL};
    CHECK_ERR(epoll_ctl(999, EPOLL_CTL_ADD, p[0], &ev), EBADF);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev), EBADF);
    CHECK_ERR(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev), EINVAL); /* not an epoll fd */
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);     /* itself */
    CHECK_ERR(epoll_ctl(ep, 99, p[0], &ev), EINVAL);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], (struct epoll_event *)8), EFAULT);
    int reg = open("/init", O_RDONLY);
    CHECK(reg >= 0);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev), EPERM); /* regular file */
    close(reg);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
    /* EPOLLEXCLUSIVE: only on ADD, only with in/out-style bits. */
    struct epoll_event exv = {.events = EPOLLIN | EPOLLEXCLUSIVE};
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &exv), EINVAL);
    struct epoll_event exbad = {.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT};
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &exbad), EINVAL);
    CHECK(epoll_ctl(ep2, EPOLL_CTL_ADD, p[0], &exv) == 0);
    CHECK_ERR(epoll_ctl(ep2, EPOLL_CTL_MOD, p[0], &ev), EINVAL); /* added exclusive */
    CHECK(epoll_ctl(ep2, EPOLL_CTL_DEL, p[0], NULL) == 0);
    SAY("ctl errors ok");

    /* ---- epoll_wait errors and timeout ---- */
    struct epoll_event out[4];
    CHECK_ERR(epoll_wait(ep, out, 0, 0), EINVAL);
    CHECK_ERR(epoll_wait(ep, out, -1, 0), EINVAL);
    CHECK_ERR(epoll_wait(999, out, 1, 0), EBADF);
    CHECK_ERR(epoll_wait(p[0], out, 1, 0), EINVAL);
    CHECK(epoll_wait(ep, out, 4, 0) == 0);
    long long t0 = now_ms();
    CHECK(epoll_wait(ep, out, 4, 50) == 0);
    long long dt = now_ms() - t0;
    SAY("epoll_wait(50 ms) with nothing ready took %lld ms", dt);
    CHECK(dt >= 40 && dt < 10000);

    /* ---- level-triggered: reported while data is there ---- */
    CHECK(write(p[1], "ab", 2) == 2);
    CHECK(wait1(ep, out, 0) == 1);
    CHECK(out[0].events == EPOLLIN && out[0].data.u64 == 0x1122334455667788ULL);
    CHECK(wait1(ep, out, 0) == 1); /* still there */
    char buf[16];
    CHECK(read(p[0], buf, sizeof buf) == 2);
    CHECK(wait1(ep, out, 0) == 0);
    SAY("level-triggered ok");

    /* ---- edge-triggered: once per new write ---- */
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u32 = 7;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0);
    CHECK(wait1(ep, out, 0) == 0);
    CHECK(write(p[1], "x", 1) == 1);
    CHECK(wait1(ep, out, 0) == 1 && out[0].data.u32 == 7 && out[0].events == EPOLLIN);
    CHECK(wait1(ep, out, 0) == 0); /* data still unread, but no new edge */
    CHECK(write(p[1], "y", 1) == 1);
    CHECK(wait1(ep, out, 0) == 1);
    CHECK(read(p[0], buf, sizeof buf) == 2);
    CHECK(wait1(ep, out, 0) == 0);
    SAY("edge-triggered ok");

    /* ---- one-shot: silent after one report until MOD re-arms ---- */
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u32 = 9;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0);
    CHECK(write(p[1], "z", 1) == 1);
    CHECK(wait1(ep, out, 0) == 1 && out[0].data.u32 == 9);
    CHECK(wait1(ep, out, 0) == 0);
    CHECK(write(p[1], "w", 1) == 1);
    CHECK(wait1(ep, out, 0) == 0);
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0);
    CHECK(wait1(ep, out, 0) == 1 && out[0].data.u32 == 9);
    CHECK(read(p[0], buf, sizeof buf) == 2);
    SAY("one-shot ok");

    /* ---- write end: EPOLLOUT; several fds in one wait ---- */
    ev.events = EPOLLIN;
    ev.data.u32 = 1;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0);
    struct epoll_event wev = {.events = EPOLLOUT, .data.u32 = 2};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &wev) == 0);
    CHECK(write(p[1], "q", 1) == 1);
    int n = epoll_wait(ep, out, 4, 0);
    CHECK(n == 2);
    int seen = 0;
    for (int i = 0; i < n; i++) {
        if (out[i].data.u32 == 1) {
            CHECK(out[i].events == EPOLLIN);
            seen |= 1;
        }
        if (out[i].data.u32 == 2) {
            CHECK(out[i].events == EPOLLOUT);
            seen |= 2;
        }
    }
    CHECK(seen == 3);
    CHECK(epoll_wait(ep, out, 1, 0) == 1); /* maxevents limits */
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL) == 0);
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL) == -1 && errno == ENOENT);
    CHECK(read(p[0], buf, sizeof buf) == 1);
    SAY("EPOLLOUT and several fds ok");

    /* ---- blocking wait woken by another process ---- */
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        struct timespec d = {0, 30 * 1000 * 1000};
        nanosleep(&d, NULL);
        if (write(p[1], "c", 1) != 1) _exit(1);
        _exit(0);
    }
    t0 = now_ms();
    CHECK(epoll_wait(ep, out, 4, 20000) == 1);
    CHECK(out[0].events == EPOLLIN && out[0].data.u32 == 1);
    SAY("woken by a write from another process after %lld ms", now_ms() - t0);
    CHECK(now_ms() - t0 < 10000);
    int st;
    CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(read(p[0], buf, sizeof buf) == 1);

    /* ---- EPOLLHUP when the last writer closes ---- */
    close(p[1]);
    CHECK(wait1(ep, out, 1000) == 1);
    CHECK(out[0].events == EPOLLHUP);
    close(p[0]);
    CHECK(epoll_wait(ep, out, 4, 0) == 0); /* closed fds leave the set */
    SAY("EPOLLHUP ok");

    /* ---- a watched write end that is closed leaves the set, so the
     *      reader sees the hang-up ---- */
    CHECK(pipe(p) == 0);
    wev.events = EPOLLOUT;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &wev) == 0);
    close(p[1]);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    CHECK(poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLHUP));
    CHECK(epoll_wait(ep, out, 4, 0) == 0);
    close(p[0]);

    /* ---- eventfd in epoll; nested epoll; poll on an epoll fd ---- */
    int efd = eventfd(0, EFD_NONBLOCK);
    CHECK(efd >= 0);
    struct epoll_event eev = {.events = EPOLLIN | EPOLLET, .data.u32 = 5};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &eev) == 0);
    struct epoll_event nev = {.events = EPOLLIN, .data.u32 = 6};
    CHECK(epoll_ctl(ep2, EPOLL_CTL_ADD, ep, &nev) == 0);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &nev), ELOOP);
    CHECK(epoll_wait(ep2, out, 4, 0) == 0);
    pfd.fd = ep;
    pfd.events = POLLIN;
    CHECK(poll(&pfd, 1, 0) == 0);
    uint64_t one = 1;
    CHECK(write(efd, &one, 8) == 8);
    CHECK(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN);
    CHECK(epoll_wait(ep2, out, 4, 1000) == 1 && out[0].data.u32 == 6);
    CHECK(epoll_wait(ep, out, 4, 0) == 1 && out[0].data.u32 == 5 && out[0].events == EPOLLIN);
    CHECK(epoll_wait(ep, out, 4, 0) == 0);
    SAY("eventfd, nesting and poll on epoll ok");

    /* ---- EINTR, and epoll_pwait's mask ---- */
    struct sigaction sa = {.sa_handler = on_usr1};
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &block, &old) == 0);
    CHECK(kill(getpid(), SIGUSR1) == 0); /* pending, blocked */
    CHECK(epoll_wait(ep, out, 4, 0) == 0);
    sigset_t none;
    sigemptyset(&none);
    CHECK_ERR(epoll_pwait(ep, out, 4, 5000, &none), EINTR); /* unblocked while waiting */
    sigset_t cur;
    CHECK(sigprocmask(SIG_BLOCK, NULL, &cur) == 0);
    CHECK(sigismember(&cur, SIGUSR1)); /* mask restored */
    CHECK_ERR(syscall(SYS_epoll_pwait, ep, out, 4, 0, &none, 4), EINVAL); /* sigsetsize */
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);

    /* ---- epoll_pwait2: timespec timeout ---- */
    struct timespec ts = {0, 20 * 1000 * 1000};
    t0 = now_ms();
    CHECK(syscall(SYS_epoll_pwait2, ep, out, 4, &ts, NULL, 8) == 0);
    CHECK(now_ms() - t0 >= 15);
    struct timespec bad = {0, 1000000000};
    CHECK_ERR(syscall(SYS_epoll_pwait2, ep, out, 4, &bad, NULL, 8), EINVAL);
    CHECK(write(efd, &one, 8) == 8);
    CHECK(syscall(SYS_epoll_pwait2, ep, out, 4, NULL, NULL, 8) == 1);
    SAY("EINTR, epoll_pwait and epoll_pwait2 ok");

    /* ---- many ready fds: all in one wait, or in turns when maxevents
     *      is smaller (the ones not reported come first next time) ---- */
    {
        enum { NP = 40 };
        int rp[NP][2];
        int many = epoll_create1(0);
        CHECK(many >= 0);
        for (int i = 0; i < NP; i++) {
            CHECK(pipe(rp[i]) == 0);
            CHECK(write(rp[i][1], "x", 1) == 1);
            struct epoll_event e = {.events = EPOLLIN, .data.u64 = 1000 + i};
            CHECK(epoll_ctl(many, EPOLL_CTL_ADD, rp[i][0], &e) == 0);
        }
        struct epoll_event big[NP + 8];
        CHECK(epoll_wait(many, big, NP + 8, 0) == NP);
        unsigned char hit[NP] = {0};
        for (int i = 0; i < NP; i++) {
            CHECK(big[i].events == EPOLLIN);
            CHECK(big[i].data.u64 >= 1000 && big[i].data.u64 < 1000 + NP);
            hit[big[i].data.u64 - 1000]++;
        }
        for (int i = 0; i < NP; i++) CHECK(hit[i] == 1);
        /* Seven at a time: five waits see 35 different fds, the sixth
         * the last five and then the first ones again. */
        memset(hit, 0, sizeof hit);
        for (int round = 0; round < 5; round++) {
            CHECK(epoll_wait(many, big, 7, 0) == 7);
            for (int i = 0; i < 7; i++) hit[big[i].data.u64 - 1000]++;
        }
        int distinct = 0;
        for (int i = 0; i < NP; i++) distinct += hit[i] == 1;
        CHECK(distinct == 35);
        CHECK(epoll_wait(many, big, 7, 0) == 7);
        for (int i = 0; i < 7; i++) hit[big[i].data.u64 - 1000]++;
        for (int i = 0; i < NP; i++) CHECK(hit[i] >= 1);
        /* Drain half: only the other half is reported. */
        for (int i = 0; i < NP; i += 2) CHECK(read(rp[i][0], buf, 1) == 1);
        CHECK(epoll_wait(many, big, NP, 0) == NP / 2);
        for (int i = 0; i < NP / 2; i++) CHECK(big[i].data.u64 % 2 == 1);
        /* Remove one, add another fd: the freed entry reports nothing of
         * the old one. */
        CHECK(epoll_ctl(many, EPOLL_CTL_DEL, rp[1][0], NULL) == 0);
        struct epoll_event e = {.events = EPOLLOUT, .data.u64 = 7777};
        CHECK(epoll_ctl(many, EPOLL_CTL_ADD, rp[1][1], &e) == 0);
        CHECK(epoll_wait(many, big, NP, 0) == NP / 2);
        int saw_new = 0;
        for (int i = 0; i < NP / 2; i++) {
            CHECK(big[i].data.u64 != 1001);
            if (big[i].data.u64 == 7777) {
                CHECK(big[i].events == EPOLLOUT);
                saw_new = 1;
            }
        }
        CHECK(saw_new);
        /* An events array that ends in unmapped memory: EFAULT up front
         * (its whole size is checked), nothing consumed. */
        CHECK_ERR(epoll_wait(many, (struct epoll_event *)8, 4, 0), EFAULT);
        CHECK(epoll_wait(many, big, NP, 0) == NP / 2);
        for (int i = 0; i < NP; i++) {
            close(rp[i][0]);
            close(rp[i][1]);
        }
        CHECK(epoll_wait(many, big, NP, 0) == 0);
        close(many);
    }
    SAY("40 fds, maxevents turns, DEL then ADD ok");

    /* ---- terminals: a pty's master and slave ---- */
    setup_devpts();
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(m >= 0);
    CHECK(grantpt(m) == 0 && unlockpt(m) == 0);
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    CHECK(s >= 0);
    int tep = epoll_create1(0);
    CHECK(tep >= 0);
    struct epoll_event mev = {.events = EPOLLIN, .data.u32 = 10};
    struct epoll_event sev = {.events = EPOLLIN, .data.u32 = 11};
    CHECK(epoll_ctl(tep, EPOLL_CTL_ADD, m, &mev) == 0);
    CHECK(epoll_ctl(tep, EPOLL_CTL_ADD, s, &sev) == 0);
    CHECK(epoll_wait(tep, out, 4, 0) == 0);
    CHECK(write(s, "hi\n", 3) == 3); /* slave output: the master can read */
    CHECK(wait_tag(tep, 10));
    CHECK(read(m, buf, sizeof buf) > 0);
    CHECK(write(m, "yo\n", 3) == 3); /* a line of input: the slave can read */
    CHECK(wait_tag(tep, 11));
    CHECK(read(s, buf, sizeof buf) == 3 && memcmp(buf, "yo\n", 3) == 0);
    close(s);
    close(m);
    close(tep);
    SAY("pty master and slave ok");

    close(efd);
    close(ep);
    close(ep2);
    SAY("all ok");
    return 0;
}
