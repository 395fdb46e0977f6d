/* flock: advisory locks across fork'd processes. flock(2): shared and
 * exclusive, LOCK_NB (EWOULDBLOCK), per open file description (dup and
 * fork share it, a new open does not), released by the last close,
 * conversion, blocking. fcntl record locks: F_GETLK reports the
 * conflicting range and pid, F_SETLK EAGAIN, splitting on unlock, len 0
 * to EOF and negative lengths, release when the process closes any fd of
 * the file (close, dup2 over it) or exits, F_SETLKW blocking, EINTR, EDEADLK, bad arguments;
 * OFD locks (F_OFD_*) conflict between open files of one process. */
#define T_NAME "flock"
#include "t.h"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

static const char *F;

static void sleep_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void on_alarm(int sig) { (void)sig; }

static int setlk(int fd, int cmd, int type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &fl);
}

/* F_GETLK for a write lock over start/len: the conflicting lock. */
static struct flock getlk(int fd, int cmd, off_t start, off_t len)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    CHECK(fcntl(fd, cmd, &fl) == 0);
    return fl;
}

static int wait_child(pid_t p)
{
    int st;
    CHECK(waitpid(p, &st, 0) == p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static void test_flock(void)
{
    int a = open(F, O_RDWR), b = open(F, O_RDONLY);
    CHECK(a >= 0 && b >= 0);
    CHECK_ERR(flock(a, 0), EINVAL);
    CHECK_ERR(flock(a, LOCK_SH | LOCK_EX), EINVAL);
    CHECK_ERR(flock(-1, LOCK_SH), EBADF);
    CHECK(flock(a, LOCK_EX) == 0);
    CHECK(flock(a, LOCK_EX) == 0);
    CHECK_ERR(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    CHECK_ERR(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
    int d = dup(a);
    CHECK(flock(d, LOCK_EX | LOCK_NB) == 0); /* same description */
    /* A fork'd child shares the description, not a new open. */
    pid_t p = fork();
    if (p == 0) {
        int c = open(F, O_RDONLY);
        if (flock(c, LOCK_SH | LOCK_NB) != -1 || errno != EWOULDBLOCK) _exit(1);
        if (flock(a, LOCK_EX | LOCK_NB) != 0) _exit(2);
        _exit(0);
    }
    CHECK(wait_child(p) == 0);
    /* The lock lives until the description's last close. */
    CHECK(close(a) == 0);
    CHECK_ERR(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
    CHECK(close(d) == 0);
    CHECK(flock(b, LOCK_SH | LOCK_NB) == 0);
    /* Shared locks coexist; a conversion drops the old lock first. */
    a = open(F, O_RDWR);
    CHECK(flock(a, LOCK_SH | LOCK_NB) == 0);
    CHECK_ERR(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    CHECK(flock(a, LOCK_EX | LOCK_NB) == 0); /* b's shared lock went */
    CHECK(flock(a, LOCK_SH) == 0);
    CHECK(flock(b, LOCK_SH | LOCK_NB) == 0);
    CHECK(flock(a, LOCK_UN) == 0 && flock(b, LOCK_UN) == 0);
    CHECK(flock(b, LOCK_UN) == 0);
    /* Blocking: the child holds the lock for a while. */
    int sync[2];
    CHECK(pipe(sync) == 0);
    p = fork();
    if (p == 0) {
        int c = open(F, O_RDONLY);
        if (flock(c, LOCK_EX) != 0) _exit(1);
        write(sync[1], "x", 1);
        sleep_ms(100);
        _exit(0); /* exit closes c: the lock goes */
    }
    char x;
    CHECK(read(sync[0], &x, 1) == 1);
    CHECK_ERR(flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    CHECK(flock(a, LOCK_EX) == 0);
    CHECK(wait_child(p) == 0);
    close(sync[0]);
    close(sync[1]);
    /* A signal ends a blocked flock with EINTR. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    struct itimerval it = {{0, 0}, {0, 100000}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    CHECK_ERR(flock(b, LOCK_EX), EINTR);
    close(a);
    CHECK(flock(b, LOCK_EX | LOCK_NB) == 0);
    close(b);
    SAY("flock ok");
}

static void test_posix(void)
{
    int a = open(F, O_RDWR);
    CHECK(a >= 0);
    pid_t me = getpid();
    CHECK(setlk(a, F_SETLK, F_WRLCK, 0, 10) == 0);
    /* Own locks never conflict. */
    CHECK(getlk(a, F_GETLK, 0, 0).l_type == F_UNLCK);
    pid_t p = fork();
    if (p == 0) {
        int c = open(F, O_RDWR);
        struct flock fl = getlk(c, F_GETLK, 5, 1);
        if (fl.l_type != F_WRLCK || fl.l_start != 0 || fl.l_len != 10 || fl.l_pid != me || fl.l_whence != SEEK_SET) _exit(1);
        if (setlk(c, F_SETLK, F_RDLCK, 10, 10) != 0) _exit(2);
        errno = 0;
        if (setlk(c, F_SETLK, F_RDLCK, 9, 1) != -1 || (errno != EAGAIN && errno != EACCES)) _exit(3);
        _exit(0);
    }
    CHECK(wait_child(p) == 0);
    /* Unlocking the middle splits the range. */
    CHECK(setlk(a, F_SETLK, F_UNLCK, 3, 3) == 0);
    CHECK(setlk(a, F_SETLK, F_RDLCK, 20, 0) == 0); /* 20 to EOF */
    p = fork();
    if (p == 0) {
        int c = open(F, O_RDWR);
        if (setlk(c, F_SETLK, F_WRLCK, 3, 3) != 0) _exit(1);
        struct flock fl = getlk(c, F_GETLK, 0, 0);
        if (fl.l_type != F_WRLCK || fl.l_start != 0 || fl.l_len != 3) _exit(2);
        fl = getlk(c, F_GETLK, 6, 0);
        if (fl.l_type != F_WRLCK || fl.l_start != 6 || fl.l_len != 4) _exit(3);
        fl = getlk(c, F_GETLK, 10, 0);
        if (fl.l_type != F_RDLCK || fl.l_start != 20 || fl.l_len != 0) _exit(4);
        /* A negative length ends just before l_start. */
        fl = getlk(c, F_GETLK, 12, -2);
        if (fl.l_type != F_UNLCK) _exit(5);
        fl = getlk(c, F_GETLK, 12, -3);
        if (fl.l_type != F_WRLCK || fl.l_start != 6) _exit(6);
        /* A read lock beside another read lock is fine. */
        if (setlk(c, F_SETLK, F_RDLCK, 100, 5) != 0) _exit(7);
        _exit(0);
    }
    CHECK(wait_child(p) == 0);
    /* Closing any descriptor of the file drops the process's locks. */
    int other = open(F, O_RDONLY);
    CHECK(other >= 0 && close(other) == 0);
    p = fork();
    if (p == 0) {
        int c = open(F, O_RDWR);
        if (getlk(c, F_GETLK, 0, 0).l_type != F_UNLCK) _exit(1);
        _exit(0);
    }
    CHECK(wait_child(p) == 0);
    /* So does dup2 over one. */
    CHECK(setlk(a, F_SETLK, F_WRLCK, 0, 1) == 0);
    int o = open(F, O_RDONLY), pp[2];
    CHECK(o >= 0 && pipe(pp) == 0);
    CHECK(dup2(pp[0], o) == o);
    p = fork();
    if (p == 0) {
        int c = open(F, O_RDWR);
        _exit(getlk(c, F_GETLK, 0, 0).l_type == F_UNLCK ? 0 : 1);
    }
    CHECK(wait_child(p) == 0);
    close(o);
    close(pp[0]);
    close(pp[1]);
    /* Bad arguments. */
    struct flock bad = {.l_type = 7, .l_whence = SEEK_SET};
    CHECK_ERR(fcntl(a, F_SETLK, &bad), EINVAL);
    bad.l_type = F_RDLCK;
    bad.l_whence = 5;
    CHECK_ERR(fcntl(a, F_SETLK, &bad), EINVAL);
    bad.l_whence = SEEK_SET;
    bad.l_start = -1;
    CHECK_ERR(fcntl(a, F_SETLK, &bad), EINVAL);
    CHECK_ERR(fcntl(a, F_SETLK, (void *)8), EFAULT);
    int ro = open(F, O_RDONLY), wo = open(F, O_WRONLY);
    CHECK_ERR(setlk(ro, F_SETLK, F_WRLCK, 0, 1), EBADF);
    CHECK_ERR(setlk(wo, F_SETLK, F_RDLCK, 0, 1), EBADF);
    close(ro);
    close(wo);
    /* SEEK_CUR ranges start at the file position. */
    CHECK(lseek(a, 50, SEEK_SET) == 50);
    struct flock cur = {.l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 0, .l_len = 1};
    CHECK(fcntl(a, F_SETLK, &cur) == 0);
    p = fork();
    if (p == 0) {
        int c = open(F, O_RDWR);
        struct flock fl = getlk(c, F_GETLK, 0, 0);
        _exit(fl.l_type == F_WRLCK && fl.l_start == 50 && fl.l_len == 1 ? 0 : 1);
    }
    CHECK(wait_child(p) == 0);
    close(a);
    SAY("record locks ok");
}

static void test_posix_wait(void)
{
    int a = open(F, O_RDWR);
    int sync[2];
    CHECK(pipe(sync) == 0);
    /* A child's locks go when it exits; F_SETLKW waits for that. */
    pid_t p = fork();
    if (p == 0) {
        int c = open(F, O_RDWR);
        if (setlk(c, F_SETLK, F_WRLCK, 0, 0) != 0) _exit(1);
        write(sync[1], "x", 1);
        sleep_ms(150);
        _exit(0);
    }
    char x;
    CHECK(read(sync[0], &x, 1) == 1);
    errno = 0;
    CHECK(setlk(a, F_SETLK, F_WRLCK, 5, 1) == -1 && (errno == EAGAIN || errno == EACCES));
    /* EINTR while waiting. */
    struct itimerval it = {{0, 0}, {0, 30000}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    CHECK_ERR(setlk(a, F_SETLKW, F_WRLCK, 5, 1), EINTR);
    CHECK(setlk(a, F_SETLKW, F_WRLCK, 5, 1) == 0);
    CHECK(wait_child(p) == 0);
    CHECK(setlk(a, F_SETLK, F_UNLCK, 0, 0) == 0);

    /* Deadlock: parent holds 0, child holds 1 and waits for 0; the
     * parent waiting for 1 would close the cycle. */
    CHECK(setlk(a, F_SETLK, F_WRLCK, 0, 1) == 0);
    p = fork();
    if (p == 0) {
        int c = open(F, O_RDWR);
        if (setlk(c, F_SETLK, F_WRLCK, 1, 1) != 0) _exit(1);
        write(sync[1], "x", 1);
        if (setlk(c, F_SETLKW, F_WRLCK, 0, 1) != 0) _exit(2);
        _exit(0);
    }
    CHECK(read(sync[0], &x, 1) == 1);
    sleep_ms(100); /* the child is waiting now */
    CHECK_ERR(setlk(a, F_SETLKW, F_WRLCK, 1, 1), EDEADLK);
    CHECK(setlk(a, F_SETLK, F_UNLCK, 0, 1) == 0);
    CHECK(wait_child(p) == 0);
    close(a);
    close(sync[0]);
    close(sync[1]);
    SAY("F_SETLKW ok");
}

static void test_ofd(void)
{
    int a = open(F, O_RDWR), b = open(F, O_RDWR);
    CHECK(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 10) == 0);
    CHECK_ERR(setlk(b, F_OFD_SETLK, F_WRLCK, 5, 1), EAGAIN);
    /* OFD and POSIX locks of one process conflict too. */
    CHECK_ERR(setlk(b, F_SETLK, F_RDLCK, 5, 1), EAGAIN);
    struct flock fl = getlk(b, F_OFD_GETLK, 0, 0);
    CHECK(fl.l_type == F_WRLCK && fl.l_start == 0 && fl.l_len == 10 && fl.l_pid == -1);
    struct flock bad = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_pid = 1};
    CHECK_ERR(fcntl(b, F_OFD_SETLK, &bad), EINVAL);
    /* Closing another descriptor does not drop OFD locks. */
    int c = open(F, O_RDONLY);
    close(c);
    CHECK_ERR(setlk(b, F_OFD_SETLK, F_RDLCK, 0, 1), EAGAIN);
    CHECK(close(a) == 0);
    CHECK(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 0) == 0);
    close(b);
    SAY("OFD locks ok");
}

/* The last close releases a flock on any file, not only a regular one:
 * a /proc file (no inode of a disk or tmpfs behind it) and a pipe. */
static void test_flock_other_files(void)
{
    int mounted = t_mount_proc();
    int a = open("/proc/self/stat", O_RDONLY), b = open("/proc/self/stat", O_RDONLY);
    CHECK(a >= 0 && b >= 0);
    CHECK(flock(a, LOCK_EX | LOCK_NB) == 0);
    CHECK_ERR(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    CHECK(close(a) == 0);
    CHECK(flock(b, LOCK_EX | LOCK_NB) == 0);
    close(b);
    if (mounted)
        umount("/proc");
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(flock(p[0], LOCK_EX | LOCK_NB) == 0);
    close(p[0]);
    close(p[1]);
    SAY("flock on /proc files and pipes ok");
}

int main(void)
{
    F = P("/tmp/flock-test");
    int fd = open(F, O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "0123456789", 10) == 10);
    close(fd);
    test_flock();
    test_posix();
    test_posix_wait();
    test_ofd();
    test_flock_other_files();
    CHECK(unlink(F) == 0);
    SAY("ok");
    return 0;
}
