/*
 * pty: pseudo-terminals and the line discipline on their slave side:
 * posix_openpt/grantpt/unlockpt/ptsname (musl: TIOCSPTLCK, TIOCGPTN),
 * canonical reads with erase/kill/EOF and their echo on the master,
 * output processing (ONLCR), raw mode with VMIN/VTIME, FIONREAD, TCFLSH,
 * window size, ^C as SIGINT to the foreground group of a session that made
 * the slave its controlling terminal (setsid + TIOCSCTTY), EIO on the
 * master once the slave is closed, and ENOTTY on a pipe.
 */
#define T_NAME "pty"
#include "t.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <dirent.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>

/* Linux's test initramfs has no /dev/ptmx, /dev/tty or devpts mount: make
 * them there. On Ferrite both exist and these calls may fail. */
static void setup_devpts(void)
{
    mkdir("/dev", 0755);
    mkdir("/dev/pts", 0755);
    mount("devpts", "/dev/pts", "devpts", 0, "ptmxmode=0666,mode=0620");
    mknod("/dev/ptmx", S_IFCHR | 0666, makedev(5, 2));
    mknod("/dev/tty", S_IFCHR | 0666, makedev(5, 0));
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads from fd until `want` bytes arrived or 2 s pass without data. */
static int read_n(int fd, char *buf, int want)
{
    int got = 0;
    while (got < want) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0) break;
        int n = read(fd, buf + got, want - got);
        if (n <= 0) break;
        got += n;
    }
    return got;
}

/* Linux hands master writes to the slave from a work queue: wait until
 * the slave has input before looking at FIONREAD. */
static void wait_readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    CHECK(poll(&p, 1, 2000) == 1);
}

static void drain(int fd)
{
    char junk[256];
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, 100) > 0 && (p.revents & POLLIN) && read(fd, junk, sizeof junk) > 0) {
    }
}

static void set_raw(int s, int vmin, int vtime)
{
    struct termios t;
    CHECK(tcgetattr(s, &t) == 0);
    t.c_lflag &= ~(ICANON | ECHO);
    t.c_cc[VMIN] = vmin;
    t.c_cc[VTIME] = vtime;
    CHECK(tcsetattr(s, TCSANOW, &t) == 0);
}

int main(void)
{
    setup_devpts();

    /* Not a terminal. */
    int p[2];
    CHECK(pipe(p) == 0);
    struct termios t;
    CHECK_ERR(tcgetattr(p[0], &t), ENOTTY);
    CHECK(!isatty(p[0]));
    int n;
    CHECK_ERR(ioctl(p[0], TIOCGPTN, &n), ENOTTY);
    struct winsize ws;
    CHECK_ERR(ioctl(p[1], TIOCGWINSZ, &ws), ENOTTY);
    SAY("a pipe is not a tty: ENOTTY");

    int m = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(m >= 0);
    CHECK(grantpt(m) == 0);
    char *name = ptsname(m);
    CHECK(name && strncmp(name, "/dev/pts/", 9) == 0);
    CHECK(ioctl(m, TIOCGPTN, &n) == 0 && atoi(name + 9) == n);
    char path[64];
    snprintf(path, sizeof path, "%s", name);
    CHECK_ERR(open(path, O_RDWR | O_NOCTTY), EIO); /* still locked */
    CHECK_ERR(ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY), EIO);
    CHECK(unlockpt(m) == 0);
    /* TIOCGPTPEER: the slave as a new descriptor, without a path. */
    int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    CHECK(peer >= 0 && isatty(peer) && fcntl(peer, F_GETFD) == FD_CLOEXEC);
    close(peer);
    int s = open(path, O_RDWR | O_NOCTTY);
    CHECK(s >= 0);
    CHECK(isatty(s) && isatty(m));
    struct stat st;
    CHECK(fstat(s, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 136 && minor(st.st_rdev) == (unsigned)n);
    SAY("opened %s", path);

    /* devpts: the node is a character device owned by the opener, listed
     * in /dev/pts beside ptmx, on a filesystem of its own. */
    CHECK(stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(136, n) && st.st_uid == geteuid());
    struct statfs sfs;
    CHECK(statfs("/dev/pts", &sfs) == 0 && sfs.f_type == 0x1cd1 /* DEVPTS_SUPER_MAGIC */);
    CHECK(stat("/dev/pts/ptmx", &st) == 0 && st.st_rdev == makedev(5, 2));
    DIR *dir = opendir("/dev/pts");
    CHECK(dir);
    int listed = 0, listed_ptmx = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        listed += strcmp(e->d_name, path + 9) == 0;
        listed_ptmx += strcmp(e->d_name, "ptmx") == 0;
    }
    closedir(dir);
    CHECK(listed == 1 && listed_ptmx == 1);
    CHECK_ERR(stat("/dev/pts/999999", &st), ENOENT);
    SAY("devpts lists %s and ptmx", path);

    /* Default settings: a cooked, echoing terminal. */
    CHECK(tcgetattr(s, &t) == 0);
    CHECK((t.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG));
    CHECK((t.c_oflag & (OPOST | ONLCR)) == (OPOST | ONLCR));
    CHECK(t.c_cc[VERASE] == 0177 && t.c_cc[VINTR] == 3 && t.c_cc[VEOF] == 4);

    /* Canonical mode: nothing to read until the line ends. */
    struct pollfd ps = {s, POLLIN, 0};
    CHECK(write(m, "hex\177llo", 7) == 7);
    CHECK(poll(&ps, 1, 100) == 0);
    CHECK(ioctl(s, FIONREAD, &n) == 0 && n == 0);
    CHECK(write(m, "\n", 1) == 1);
    CHECK(poll(&ps, 1, 2000) == 1 && (ps.revents & POLLIN));
    char buf[256];
    memset(buf, 0, sizeof buf);
    CHECK(read(s, buf, sizeof buf) == 6 && memcmp(buf, "hello\n", 6) == 0);
    /* Echo on the master: erase is backspace-space-backspace, NL is CR NL. */
    n = read_n(m, buf, 11);
    if (n != 11 || memcmp(buf, "hex\b \bllo\r\n", 11) != 0) {
        printf("pty: echo was %d bytes:", n);
        for (int i = 0; i < n; i++) printf(" %02x", (unsigned char)buf[i]);
        printf("\n");
    }
    CHECK(n == 11 && memcmp(buf, "hex\b \bllo\r\n", 11) == 0);
    SAY("canonical read with erase; echo seen on the master");

    CHECK(write(m, "bad\025ok\n", 7) == 7);
    CHECK(read(s, buf, sizeof buf) == 3 && memcmp(buf, "ok\n", 3) == 0);
    CHECK(write(m, "one two\027three\n", 14) == 14);
    CHECK(read(s, buf, sizeof buf) == 10 && memcmp(buf, "one three\n", 10) == 0);
    CHECK(write(m, "abc\004", 4) == 4);
    CHECK(read(s, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
    CHECK(write(m, "\004", 1) == 1);
    CHECK(read(s, buf, sizeof buf) == 0);
    drain(m);
    SAY("kill, word erase and EOF");

    /* Output processing: NL becomes CR NL on the way to the master. */
    CHECK(write(s, "out\n", 4) == 4);
    CHECK(read_n(m, buf, 5) == 5 && memcmp(buf, "out\r\n", 5) == 0);

    /* TCFLSH drops unread input. */
    CHECK(write(m, "zzz\n", 4) == 4);
    wait_readable(s);
    CHECK(ioctl(s, FIONREAD, &n) == 0 && n == 4);
    CHECK(tcflush(s, TCIFLUSH) == 0);
    CHECK(ioctl(s, FIONREAD, &n) == 0 && n == 0);
    CHECK_ERR(ioctl(s, TCFLSH, 7), EINVAL);
    drain(m);

    /* O_NONBLOCK: no complete line yet is EAGAIN. */
    int fl = fcntl(s, F_GETFL);
    CHECK(fcntl(s, F_SETFL, fl | O_NONBLOCK) == 0);
    CHECK_ERR(read(s, buf, sizeof buf), EAGAIN);
    CHECK(fcntl(s, F_SETFL, fl) == 0);

    /* Raw mode, VMIN=0 VTIME=0: a read never waits. */
    set_raw(s, 0, 0);
    CHECK(read(s, buf, sizeof buf) == 0);
    CHECK(write(m, "x\177y", 3) == 3);
    wait_readable(s);
    usleep(50000);
    CHECK(ioctl(s, FIONREAD, &n) == 0 && n == 3);
    CHECK(read(s, buf, sizeof buf) == 3 && memcmp(buf, "x\177y", 3) == 0);
    /* VMIN=0 VTIME=3: wait up to 0.3 s for a byte. */
    set_raw(s, 0, 3);
    long t0 = now_ms();
    CHECK(read(s, buf, sizeof buf) == 0);
    long waited = now_ms() - t0;
    CHECK(waited >= 250 && waited < 3000);
    CHECK(write(m, "q", 1) == 1);
    CHECK(read(s, buf, sizeof buf) == 1 && buf[0] == 'q');
    /* VMIN=2 VTIME=0: poll says readable only once two bytes are there. */
    set_raw(s, 2, 0);
    CHECK(write(m, "a", 1) == 1);
    CHECK(poll(&ps, 1, 100) == 0);
    CHECK(write(m, "b", 1) == 1);
    CHECK(poll(&ps, 1, 2000) == 1);
    CHECK(read(s, buf, sizeof buf) == 2 && memcmp(buf, "ab", 2) == 0);
    CHECK(tcgetattr(s, &t) == 0 && !(t.c_lflag & ICANON));
    drain(m); /* raw mode has no echo, but be sure */
    SAY("raw mode: VMIN/VTIME");

    /* Window size, set through the master and seen on the slave. */
    struct winsize w = {.ws_row = 30, .ws_col = 100};
    CHECK(ioctl(m, TIOCSWINSZ, &w) == 0);
    memset(&ws, 0, sizeof ws);
    CHECK(ioctl(s, TIOCGWINSZ, &ws) == 0 && ws.ws_row == 30 && ws.ws_col == 100);
    SAY("window size %dx%d", ws.ws_row, ws.ws_col);

    /* Not our controlling terminal: no foreground group for us. */
    pid_t pg;
    CHECK_ERR(ioctl(s, TIOCGPGRP, &pg), ENOTTY);
    pg = getpgrp();
    CHECK_ERR(ioctl(s, TIOCSPGRP, &pg), ENOTTY);
    CHECK_ERR(ioctl(s, TIOCNOTTY), ENOTTY);
    /* Not a session leader: cannot take a controlling terminal. */
    if (getsid(0) != getpid()) CHECK_ERR(ioctl(s, TIOCSCTTY, 0), EPERM);

    /* Back to cooked mode for the child. */
    CHECK(tcgetattr(s, &t) == 0);
    t.c_lflag |= ICANON | ECHO | ISIG;
    CHECK(tcsetattr(s, TCSANOW, &t) == 0);

    /* ^C on the master: SIGINT to the slave's foreground group, which is
     * a child that made the slave its controlling terminal. */
    int ready[2];
    CHECK(pipe(ready) == 0);
    fflush(stdout);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        close(ready[0]);
        close(m);
        close(s);
        if (setsid() < 0) _exit(10);
        int fd = open(path, O_RDWR | O_NOCTTY);
        if (fd < 0) _exit(11);
        if (ioctl(fd, TIOCSCTTY, 0) != 0) _exit(12);
        if (tcgetpgrp(fd) != getpid()) _exit(13);
        if (tcgetsid(fd) != getpid()) _exit(14);
        int tfd = open("/dev/tty", O_RDWR); /* the controlling terminal */
        if (tfd < 0) _exit(15);
        if (write(ready[1], "r", 1) != 1) _exit(16);
        for (;;) pause();
    }
    close(ready[1]);
    if (read(ready[0], buf, 1) != 1) {
        int st2 = 0;
        waitpid(child, &st2, 0);
        SAY("child gave up with wait status %#x", st2);
        CHECK(!"the child got its controlling terminal");
    }
    CHECK(ioctl(m, TIOCGPGRP, &pg) == 0 && pg == child);
    CHECK(write(m, "\003", 1) == 1);
    int status;
    CHECK(waitpid(child, &status, 0) == child);
    if (!WIFSIGNALED(status)) SAY("child exited with %d", WEXITSTATUS(status));
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
    /* ECHOCTL: the ^C is echoed as two characters. */
    CHECK(read_n(m, buf, 2) == 2 && memcmp(buf, "^C", 2) == 0);
    SAY("^C on the master killed the foreground group with SIGINT");

    /* Without a controlling terminal, /dev/tty is ENXIO. */
    if (getsid(0) != getpid()) {
        pid_t c2 = fork();
        if (c2 == 0) {
            setsid();
            _exit(open("/dev/tty", O_RDWR) < 0 && errno == ENXIO ? 0 : 1);
        }
        CHECK(waitpid(c2, &status, 0) == c2 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    /* Every slave descriptor closed: master reads fail with EIO. */
    drain(m);
    close(s);
    CHECK_ERR(read(m, buf, sizeof buf), EIO);
    struct pollfd pm = {m, POLLIN, 0};
    CHECK(poll(&pm, 1, 100) == 1 && (pm.revents & POLLHUP));
    SAY("master read after the slave closed: EIO");

    /* The master closed: the slave is hung up. */
    int m2 = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(m2 >= 0 && unlockpt(m2) == 0);
    snprintf(path, sizeof path, "%s", ptsname(m2));
    int s2 = open(path, O_RDWR | O_NOCTTY);
    CHECK(s2 >= 0);
    close(m2);
    CHECK(read(s2, buf, sizeof buf) == 0);
    CHECK_ERR(write(s2, "x", 1), EIO);
    close(s2);
    CHECK_ERR(stat(path, &st), ENOENT);
    close(m);
    SAY("slave after the master closed: EOF and EIO; its node is gone");
    return 0;
}
