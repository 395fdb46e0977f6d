/*
 * setxid: set*id calls with threads running. Credentials are per thread
 * on Linux; musl (like glibc) makes every thread repeat the call, through
 * a signal sent to each thread with tkill. So the call returns, every
 * thread then has the new ids, and a thread blocked in read(2) meanwhile
 * is not disturbed (the signal's handler is SA_RESTART).
 */
#define T_NAME "setxid"
#include "t.h"

#include <pthread.h>
#include <sys/syscall.h>

static int pipefd[2];

/* Blocked in read until main writes, after the set*id calls. */
static void *reader(void *arg)
{
    (void)arg;
    char c;
    ssize_t n = read(pipefd[0], &c, 1);
    CHECK(n == 1 && c == 'x');
    /* Raw calls: this thread's own ids, not a libc cache. */
    CHECK(syscall(SYS_getuid) == 1000 && syscall(SYS_geteuid) == 1000);
    CHECK(syscall(SYS_getgid) == 100 && syscall(SYS_getegid) == 100);
    return NULL;
}

static volatile int stop;

static void *spinner(void *arg)
{
    (void)arg;
    while (!stop) sched_yield();
    CHECK(syscall(SYS_getuid) == 1000 && syscall(SYS_geteuid) == 1000);
    return NULL;
}

int main(void)
{
    if (getuid() != 0) {
        SAY("skipped: not root");
        return 0;
    }
    CHECK(pipe(pipefd) == 0);
    pthread_t t[4];
    CHECK(pthread_create(&t[0], NULL, reader, NULL) == 0);
    CHECK(pthread_create(&t[1], NULL, reader, NULL) == 0);
    CHECK(pthread_create(&t[2], NULL, spinner, NULL) == 0);
    CHECK(pthread_create(&t[3], NULL, spinner, NULL) == 0);
    usleep(20000); /* let the readers block */
    CHECK(setgid(100) == 0);
    CHECK(setuid(1000) == 0);
    CHECK(getuid() == 1000 && geteuid() == 1000 && getgid() == 100);
    SAY("setgid and setuid returned with four threads running");
    CHECK(write(pipefd[1], "xx", 2) == 2);
    stop = 1;
    for (int i = 0; i < 4; i++) CHECK(pthread_join(t[i], NULL) == 0);
    SAY("every thread has the new ids; blocked reads were not interrupted");
    /* Unprivileged now: back to root is refused, in every thread alike. */
    CHECK_ERR(setuid(0), EPERM);
    CHECK(getuid() == 1000);
    SAY("setuid(0) as uid 1000: EPERM");
    return 0;
}
