/*
 * termios: job control on a controlling terminal (a pty slave): the
 * foreground group and TIOCSPGRP's errors, SIGTTIN for a background read
 * (EIO when SIGTTIN is ignored), SIGTTOU for a background write under
 * TOSTOP (allowed when ignored), ^Z as SIGTSTP, stop and continue seen by
 * waitpid (WUNTRACED, WCONTINUED), a stopped reader that is continued in
 * the foreground finishing its read, and TIOCNOTTY.
 */
#define T_NAME "termios"
#include "t.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

static int m, s;
static volatile sig_atomic_t winch;

static void on_winch(int sig)
{
    (void)sig;
    winch++;
}

/* Forks a child into a background process group of its own and runs fn. */
static pid_t background(void (*fn)(void))
{
    fflush(stdout);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        setpgid(0, 0);
        fn();
        _exit(0);
    }
    setpgid(c, c); /* both sides, as shells do */
    return c;
}

static void bg_read(void)
{
    char b[16];
    int n = read(s, b, sizeof b); /* stops with SIGTTIN until foreground */
    _exit(n == 3 && memcmp(b, "hi\n", 3) == 0 ? 0 : 20);
}

static void bg_read_ignoring(void)
{
    char b[16];
    signal(SIGTTIN, SIG_IGN);
    _exit(read(s, b, sizeof b) < 0 && errno == EIO ? 0 : 21);
}

static void bg_write(void)
{
    _exit(write(s, "x", 1) == 1 ? 0 : 22);
}

static void bg_write_ignoring(void)
{
    signal(SIGTTOU, SIG_IGN);
    _exit(write(s, "y", 1) == 1 ? 0 : 23);
}

static void fg_pause(void)
{
    for (;;) pause();
}

static int wait_for(pid_t c, int options)
{
    int st = 0;
    CHECK(waitpid(c, &st, options) == c);
    return st;
}

/* The session leader: everything is checked here. */
static void leader(const char *path)
{
    CHECK(setsid() == getpid());
    s = open(path, O_RDWR); /* a session leader's open acquires it */
    CHECK(s >= 0);
    CHECK(tcgetpgrp(s) == getpid());
    CHECK(tcgetsid(s) == getpid());
    pid_t bad = 0x7ffffff0;
    CHECK_ERR(ioctl(s, TIOCSPGRP, &bad), ESRCH);
    bad = -1;
    CHECK_ERR(ioctl(s, TIOCSPGRP, &bad), EINVAL);
    SAY("the slave is the controlling terminal; TIOCSPGRP errors");

    /* A new window size: SIGWINCH to the foreground group (us); the
     * same size again sends nothing. */
    signal(SIGWINCH, on_winch);
    struct winsize w = {.ws_row = 40, .ws_col = 120};
    CHECK(ioctl(m, TIOCSWINSZ, &w) == 0);
    for (int i = 0; i < 100 && !winch; i++) usleep(10000);
    CHECK(winch == 1);
    CHECK(ioctl(s, TIOCSWINSZ, &w) == 0);
    usleep(50000);
    CHECK(winch == 1);
    SAY("SIGWINCH on a window size change");

    /* Background read: SIGTTIN stops the reader; continued in the
     * foreground, its read finishes. */
    pid_t c = background(bg_read);
    int st = wait_for(c, WUNTRACED);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN);
    CHECK(tcsetpgrp(s, c) == 0 && tcgetpgrp(s) == c);
    CHECK(kill(c, SIGCONT) == 0);
    st = wait_for(c, WCONTINUED);
    CHECK(WIFCONTINUED(st));
    CHECK(write(m, "hi\n", 3) == 3);
    st = wait_for(c, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* Our own group again; as the leader's group is not in the
     * foreground now, SIGTTOU must not stop us: ignore it meanwhile. */
    signal(SIGTTOU, SIG_IGN);
    CHECK(tcsetpgrp(s, getpgrp()) == 0);
    signal(SIGTTOU, SIG_DFL);
    SAY("background read: SIGTTIN, stop, continue in the foreground");

    c = background(bg_read_ignoring);
    st = wait_for(c, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("background read with SIGTTIN ignored: EIO");

    /* Background writes go through without TOSTOP, stop with it. */
    c = background(bg_write);
    st = wait_for(c, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    struct termios t;
    CHECK(tcgetattr(s, &t) == 0);
    t.c_lflag |= TOSTOP;
    CHECK(tcsetattr(s, TCSANOW, &t) == 0);
    c = background(bg_write);
    st = wait_for(c, WUNTRACED);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTOU);
    CHECK(kill(c, SIGKILL) == 0);
    st = wait_for(c, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    c = background(bg_write_ignoring);
    st = wait_for(c, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("TOSTOP: SIGTTOU for a background write, unless ignored");

    /* ^Z: SIGTSTP to the foreground group. */
    c = background(fg_pause);
    signal(SIGTTOU, SIG_IGN);
    CHECK(tcsetpgrp(s, c) == 0);
    CHECK(write(m, "\032", 1) == 1);
    st = wait_for(c, WUNTRACED);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP);
    CHECK(tcsetpgrp(s, getpgrp()) == 0);
    CHECK(kill(c, SIGKILL) == 0);
    wait_for(c, 0);
    SAY("^Z stops the foreground group with SIGTSTP");

    /* The session leader gives the terminal up; the foreground group (its
     * own) gets SIGHUP and SIGCONT, as on Linux. */
    signal(SIGHUP, SIG_IGN);
    CHECK(ioctl(s, TIOCNOTTY) == 0);
    CHECK_ERR(tcgetpgrp(s), ENOTTY);
    SAY("TIOCNOTTY");
    _exit(0);
}

int main(void)
{
    mkdir("/dev", 0755);
    mkdir("/dev/pts", 0755);
    mount("devpts", "/dev/pts", "devpts", 0, "ptmxmode=0666");
    mknod("/dev/ptmx", S_IFCHR | 0666, makedev(5, 2));

    m = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
    char path[64];
    snprintf(path, sizeof path, "%s", ptsname(m));
    fflush(stdout);
    pid_t l = fork();
    CHECK(l >= 0);
    if (l == 0) leader(path);
    int st = wait_for(l, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(m);
    return 0;
}
