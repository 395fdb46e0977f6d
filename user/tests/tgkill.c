/*
 * tgkill: thread-directed signals. raise(3) in a non-main thread (musl and
 * glibc call tgkill(getpid(), gettid(), sig)) runs the handler; tgkill,
 * tkill and kill find a non-main thread by its tid; a tid
 * outside the group, a gone thread or a bad tgid is ESRCH; tid/tgid <= 0
 * and a bad signal are EINVAL.
 */
#define T_NAME "tgkill"
#include "t.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

static volatile sig_atomic_t hits;
static volatile pid_t handler_tid;
static pid_t worker_tid;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int phase;

static void on_usr1(int sig)
{
    (void)sig;
    hits++;
    handler_tid = (pid_t)syscall(SYS_gettid);
}

static void wait_phase(int want)
{
    pthread_mutex_lock(&lock);
    while (phase < want) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
}

static void set_phase(int p)
{
    pthread_mutex_lock(&lock);
    phase = p;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

static void *worker(void *arg)
{
    (void)arg;
    worker_tid = (pid_t)syscall(SYS_gettid);
    /* raise() in this thread: the handler runs before raise returns. */
    CHECK(raise(SIGUSR1) == 0);
    CHECK(hits == 1);
    CHECK(handler_tid == worker_tid);
    set_phase(1);
    wait_phase(2); /* stay alive while main signals us by tid */
    return NULL;
}

int main(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    pid_t me = getpid();

    pthread_t th;
    CHECK(pthread_create(&th, NULL, worker, NULL) == 0);
    wait_phase(1);
    CHECK(worker_tid > 0 && worker_tid != me);
    /* Existence checks (signal 0) by the worker's tid. */
    CHECK(syscall(SYS_tgkill, me, worker_tid, 0) == 0);
    CHECK(syscall(SYS_tkill, worker_tid, 0) == 0);
    /* kill(tid) of a non-main thread names its thread group (Linux). */
    CHECK(kill(worker_tid, 0) == 0);
    /* A real signal by tid reaches the process's handler. */
    CHECK(syscall(SYS_tgkill, me, worker_tid, SIGUSR1) == 0);
    for (int i = 0; i < 1000 && hits < 2; i++) usleep(1000);
    CHECK(hits == 2);
    /* Wrong group: the tid is not a thread of pid 1. */
    CHECK_ERR(syscall(SYS_tgkill, 1, worker_tid, 0), ESRCH);
    CHECK_ERR(syscall(SYS_tgkill, me, 0, 0), EINVAL);
    CHECK_ERR(syscall(SYS_tgkill, 0, me, 0), EINVAL);
    CHECK_ERR(syscall(SYS_tgkill, me, me, 65), EINVAL);
    CHECK_ERR(syscall(SYS_tkill, -1, 0), EINVAL);
    set_phase(2);
    CHECK(pthread_join(th, NULL) == 0);
    /* The thread is gone: ESRCH (Linux reuses tids only much later). */
    for (int i = 0; i < 1000 && syscall(SYS_tgkill, me, worker_tid, 0) == 0; i++) usleep(1000);
    CHECK_ERR(syscall(SYS_tgkill, me, worker_tid, 0), ESRCH);
    CHECK_ERR(syscall(SYS_tkill, worker_tid, 0), ESRCH);
    /* The main thread by its tid (== pid) still works. */
    CHECK(syscall(SYS_tgkill, me, me, 0) == 0);
    SAY("raise in a thread, tgkill/tkill by tid, ESRCH and EINVAL paths");
    return 0;
}
