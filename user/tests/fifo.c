/* fifo: named pipes. mkfifo/mknod(S_IFIFO) make the node; every open of
 * it joins one pipe. O_RDONLY|O_NONBLOCK returns at once, O_WRONLY|
 * O_NONBLOCK without a reader is ENXIO, blocking opens wait for the other
 * side (across fork), O_RDWR never waits, a signal ends a wait with EINTR;
 * EOF after the last writer, EPIPE/SIGPIPE after the last reader; data
 * goes away with the last open; fstat shows the FIFO inode; a writer that
 * comes and goes while the reader is still in open(2) is not missed. */
#define T_NAME "fifo"
#include "t.h"
#include <fcntl.h>
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

static void write_to_fifo(void *arg)
{
    (void)arg;
    signal(SIGPIPE, SIG_DFL);
    int r = open(F, O_RDONLY | O_NONBLOCK);
    int w = open(F, O_WRONLY);
    close(r);
    write(w, "x", 1);
    _exit(0);
}

int main(void)
{
    F = P("/tmp/fifo-test");
    unlink(F);
    CHECK(mkfifo(F, 0600) == 0);
    CHECK_ERR(mkfifo(F, 0600), EEXIST);
    struct stat st, fst;
    CHECK(stat(F, &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 0777) == 0600);
    const char *g = P("/tmp/fifo-test2");
    unlink(g);
    CHECK(mknod(g, S_IFIFO | 0644, 0) == 0);
    CHECK(stat(g, &fst) == 0 && S_ISFIFO(fst.st_mode));
    CHECK(unlink(g) == 0);
    SAY("mkfifo ok");

    /* Non-blocking opens. */
    CHECK_ERR(open(F, O_WRONLY | O_NONBLOCK), ENXIO);
    int r = open(F, O_RDONLY | O_NONBLOCK);
    CHECK(r >= 0);
    char b[16];
    CHECK(read(r, b, sizeof b) == 0); /* no writer: EOF */
    int w = open(F, O_WRONLY | O_NONBLOCK);
    CHECK(w >= 0);
    CHECK(fstat(w, &fst) == 0 && S_ISFIFO(fst.st_mode) && fst.st_ino == st.st_ino && fst.st_dev == st.st_dev);
    CHECK_ERR(read(r, b, sizeof b), EAGAIN);
    CHECK(write(w, "hello", 5) == 5);
    /* A second writer shares the same pipe. */
    int w2 = open(F, O_WRONLY);
    CHECK(w2 >= 0 && write(w2, "!", 1) == 1);
    CHECK(read(r, b, sizeof b) == 6 && memcmp(b, "hello!", 6) == 0);
    CHECK(fcntl(r, F_GETPIPE_SZ) == 65536);
    CHECK_ERR(ftruncate(w, 0), EINVAL);
    CHECK_ERR(lseek(r, 0, SEEK_SET), ESPIPE);
    CHECK(close(w) == 0 && close(w2) == 0);
    CHECK(read(r, b, sizeof b) == 0);
    CHECK(close(r) == 0);
    CHECK_ERR(open(F, O_WRONLY | O_NONBLOCK), ENXIO);
    SAY("non-blocking opens ok");

    /* Blocking O_RDONLY waits for a writer (a child, later). */
    pid_t p = fork();
    if (p == 0) {
        sleep_ms(100);
        int fd = open(F, O_WRONLY);
        if (fd < 0 || write(fd, "abc", 3) != 3) _exit(1);
        _exit(0);
    }
    r = open(F, O_RDONLY);
    CHECK(r >= 0);
    int n = 0, k;
    while ((k = read(r, b + n, sizeof b - n)) > 0) n += k;
    CHECK(k == 0 && n == 3 && memcmp(b, "abc", 3) == 0);
    int ws;
    CHECK(waitpid(p, &ws, 0) == p && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    close(r);

    /* Blocking O_WRONLY waits for a reader. */
    p = fork();
    if (p == 0) {
        sleep_ms(100);
        int fd = open(F, O_RDONLY);
        char c[8];
        if (fd < 0 || read(fd, c, sizeof c) != 2 || memcmp(c, "yz", 2)) _exit(1);
        _exit(0);
    }
    w = open(F, O_WRONLY);
    CHECK(w >= 0 && write(w, "yz", 2) == 2);
    CHECK(waitpid(p, &ws, 0) == p && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    /* Reader gone: EPIPE, and SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    CHECK_ERR(write(w, "q", 1), EPIPE);
    close(w);
    CHECK_KILLED_BY(write_to_fifo, NULL, SIGPIPE);
    SAY("blocking opens ok");

    /* O_RDWR never waits; its data is gone with the last open. */
    int rw = open(F, O_RDWR);
    CHECK(rw >= 0);
    CHECK(write(rw, "me", 2) == 2 && read(rw, b, 2) == 2 && memcmp(b, "me", 2) == 0);
    CHECK(write(rw, "left", 4) == 4);
    close(rw);
    rw = open(F, O_RDWR | O_NONBLOCK);
    CHECK(rw >= 0);
    CHECK_ERR(read(rw, b, sizeof b), EAGAIN);
    close(rw);
    /* O_PATH does not open the pipe. */
    int pf = open(F, O_PATH);
    CHECK(pf >= 0);
    CHECK_ERR(read(pf, b, 1), EBADF);
    close(pf);
    SAY("O_RDWR ok");

    /* A signal interrupts a waiting open (no SA_RESTART). */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    struct itimerval it = {{0, 0}, {0, 100000}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    CHECK_ERR(open(F, O_RDONLY), EINTR);
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    CHECK_ERR(open(F, O_WRONLY), EINTR);
    /* Neither interrupted open left an end behind. */
    CHECK_ERR(open(F, O_WRONLY | O_NONBLOCK), ENXIO);
    SAY("EINTR ok");

    /* A writer that opens, writes and closes while the reader is still
     * inside its open: the reader's open returns and reads the data. A
     * reader that looked for the writer only after its own arrival woke
     * it waited for another writer forever (the alarm ends that wait with
     * EINTR). Odd rounds let the writer wait in its open first. */
    for (int round = 0; round < 100; round++) {
        p = fork();
        if (p > 0 && round % 2) sleep_ms(1);
        if (p == 0) {
            int fd = open(F, O_WRONLY);
            if (fd < 0 || write(fd, "r", 1) != 1) _exit(1);
            _exit(0);
        }
        struct itimerval two = {{0, 0}, {2, 0}};
        CHECK(setitimer(ITIMER_REAL, &two, NULL) == 0);
        r = open(F, O_RDONLY);
        if (r < 0) {
            printf("fifo: round %d: open: %s\n", round, strerror(errno));
            kill(p, SIGKILL);
        }
        CHECK(r >= 0);
        struct itimerval off = {{0, 0}, {0, 0}};
        CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0);
        CHECK(read(r, b, sizeof b) == 1 && b[0] == 'r');
        CHECK(read(r, b, sizeof b) == 0);
        close(r);
        CHECK(waitpid(p, &ws, 0) == p && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
    SAY("open race ok");

    CHECK(unlink(F) == 0);
    SAY("ok");
    return 0;
}
