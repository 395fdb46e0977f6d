/* posixtimer: timer_create/settime/gettime/getoverrun/delete. Errors
 * (EINVAL, EOPNOTSUPP, EFAULT), the SI_TIMER siginfo (si_timerid,
 * si_overrun, si_value) of SIGEV_SIGNAL and the default sigevent,
 * SIGEV_NONE read with gettime, TIMER_ABSTIME on CLOCK_REALTIME and
 * CLOCK_MONOTONIC, old values, periodic timers and overruns while the
 * signal is blocked, SIGEV_THREAD_ID to another thread, musl's SIGEV_THREAD
 * (a thread on SIGEV_THREAD_ID), no timers after fork and after execve.
 * Time bounds are lenient: TCG is slow. */
#define T_NAME "posixtimer"
#include "t.h"
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define MS 1000000L

static long long ns(const struct timespec *t)
{
    return t->tv_sec * 1000000000LL + t->tv_nsec;
}

static struct itimerspec its(long value_ns, long interval_ns)
{
    struct itimerspec t = {
        .it_interval = {interval_ns / 1000000000L, interval_ns % 1000000000L},
        .it_value = {value_ns / 1000000000L, value_ns % 1000000000L},
    };
    return t;
}

/* The raw calls: the kernel's timer id is an int. */
static long tcreate(clockid_t c, struct sigevent *sev, int *id)
{
    return syscall(SYS_timer_create, c, sev, id);
}
static long tset(int id, int flags, const struct itimerspec *v, struct itimerspec *old)
{
    return syscall(SYS_timer_settime, id, flags, v, old);
}
static long tget(int id, struct itimerspec *v)
{
    return syscall(SYS_timer_gettime, id, v);
}
static long tover(int id)
{
    return syscall(SYS_timer_getoverrun, id);
}
static long tdel(int id)
{
    return syscall(SYS_timer_delete, id);
}

static int wait_sig(int sig, siginfo_t *si, long timeout_ms)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    struct timespec to = {timeout_ms / 1000, (timeout_ms % 1000) * MS};
    return sigtimedwait(&s, si, &to);
}

static int is_pending(int sig)
{
    sigset_t s;
    CHECK(sigpending(&s) == 0);
    return sigismember(&s, sig);
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * MS};
    while (nanosleep(&t, &t) != 0) CHECK(errno == EINTR);
}

static int g_forked_id;
static void child_has_no_timers(void *arg)
{
    (void)arg;
    struct itimerspec v;
    CHECK_ERR(tget(g_forked_id, &v), EINVAL);
    CHECK_ERR(tdel(g_forked_id), EINVAL);
}

static volatile int other_tid;
static volatile int other_go;
static volatile int other_result;
static void *other_thread(void *arg)
{
    (void)arg;
    other_tid = (int)syscall(SYS_gettid);
    while (!other_go) sched_yield();
    /* The signal was sent to this thread: pending here... */
    siginfo_t si;
    int r = wait_sig(SIGUSR2, &si, 5000);
    other_result = (r == SIGUSR2 && si.si_code == SI_TIMER && si.si_value.sival_int == 77) ? 1 : -1;
    return NULL;
}

static volatile int thread_cb_value;
static void on_expiry(union sigval v)
{
    thread_cb_value = v.sival_int;
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "after-exec") == 0) {
        /* The timers of the old image are gone. */
        int id = atoi(argv[2]);
        struct itimerspec v;
        CHECK_ERR(tget(id, &v), EINVAL);
        CHECK_ERR(tover(id), EINVAL);
        SAY("exec ok");
        return 0;
    }
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGALRM);
    CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0);

    /* Errors of timer_create. */
    int id = -1, id2 = -1;
    CHECK_ERR(tcreate(100, NULL, &id), EINVAL);
    CHECK_ERR(tcreate(CLOCK_MONOTONIC_RAW, NULL, &id), EOPNOTSUPP);
    CHECK_ERR(tcreate(CLOCK_MONOTONIC_COARSE, NULL, &id), EOPNOTSUPP);
    struct sigevent sev = {0};
    sev.sigev_notify = 99;
    sev.sigev_signo = SIGUSR1;
    CHECK_ERR(tcreate(CLOCK_MONOTONIC, &sev, &id), EINVAL);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = 0;
    CHECK_ERR(tcreate(CLOCK_MONOTONIC, &sev, &id), EINVAL);
    sev.sigev_signo = 65;
    CHECK_ERR(tcreate(CLOCK_MONOTONIC, &sev, &id), EINVAL);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGUSR1;
    sev.sigev_notify_thread_id = 999999;
    CHECK_ERR(tcreate(CLOCK_MONOTONIC, &sev, &id), EINVAL);
    CHECK_ERR(tcreate(CLOCK_MONOTONIC, (struct sigevent *)8, &id), EFAULT);
    sev.sigev_notify = SIGEV_SIGNAL;
    CHECK_ERR(tcreate(CLOCK_MONOTONIC, &sev, (int *)8), EFAULT);
    SAY("create errors ok");

    /* SIGEV_SIGNAL: a one-shot timer and its siginfo. */
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGUSR1;
    sev.sigev_value.sival_int = 1234;
    CHECK(tcreate(CLOCK_MONOTONIC, &sev, &id) == 0);
    CHECK(tcreate(CLOCK_BOOTTIME, &sev, &id2) == 0);
    CHECK(id != id2);
    CHECK(tdel(id2) == 0);
    CHECK_ERR(tdel(id2), EINVAL);
    struct itimerspec v = its(20 * MS, 0), old, cur;
    CHECK(tget(id, &cur) == 0);
    CHECK(ns(&cur.it_value) == 0 && ns(&cur.it_interval) == 0);
    /* Errors of settime/gettime. */
    CHECK_ERR(tset(id, 0, NULL, NULL), EINVAL);
    CHECK_ERR(tset(id, 0, (struct itimerspec *)8, NULL), EFAULT);
    struct itimerspec bad = its(0, 0);
    bad.it_value.tv_nsec = 1000000000L;
    CHECK_ERR(tset(id, 0, &bad, NULL), EINVAL);
    bad = its(MS, 0);
    bad.it_interval.tv_sec = -1;
    CHECK_ERR(tset(id, 0, &bad, NULL), EINVAL);
    CHECK_ERR(tset(id + 1000, 0, &v, NULL), EINVAL);
    CHECK_ERR(tget(id + 1000, &cur), EINVAL);
    CHECK_ERR(tget(id, (struct itimerspec *)8), EFAULT);
    CHECK_ERR(tover(id + 1000), EINVAL);
    CHECK_ERR(tdel(id + 1000), EINVAL);
    SAY("settime errors ok");

    CHECK(tset(id, 0, &v, &old) == 0);
    CHECK(ns(&old.it_value) == 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK(wait_sig(SIGUSR1, &si, 5000) == SIGUSR1);
    CHECK(si.si_signo == SIGUSR1);
    CHECK(si.si_code == SI_TIMER);
    CHECK(si.si_timerid == id);
    CHECK(si.si_overrun == 0);
    CHECK(si.si_value.sival_int == 1234);
    CHECK(tover(id) == 0);
    /* Expired one-shot: disarmed. */
    CHECK(tget(id, &cur) == 0);
    CHECK(ns(&cur.it_value) == 0 && ns(&cur.it_interval) == 0);
    CHECK(wait_sig(SIGUSR1, &si, 100) == -1 && errno == EAGAIN);
    SAY("one-shot ok");

    /* gettime of an armed periodic timer, then the old value of a disarm. */
    v = its(2000 * MS, 500 * MS);
    CHECK(tset(id, 0, &v, NULL) == 0);
    CHECK(tget(id, &cur) == 0);
    CHECK(ns(&cur.it_value) > 1000 * MS && ns(&cur.it_value) <= 2000 * MS);
    CHECK(ns(&cur.it_interval) == 500 * MS);
    v = its(0, 0);
    CHECK(tset(id, 0, &v, &old) == 0);
    CHECK(ns(&old.it_value) > 1000 * MS && ns(&old.it_value) <= 2000 * MS);
    CHECK(ns(&old.it_interval) == 500 * MS);
    CHECK(tget(id, &cur) == 0);
    CHECK(ns(&cur.it_value) == 0);
    SAY("gettime ok");

    /* Periodic, the signal blocked: one signal, the rest are overruns. */
    v = its(10 * MS, 10 * MS);
    CHECK(tset(id, 0, &v, NULL) == 0);
    sleep_ms(300);
    CHECK(wait_sig(SIGUSR1, &si, 5000) == SIGUSR1);
    CHECK(si.si_code == SI_TIMER && si.si_timerid == id);
    SAY("overrun after 300 ms of 10 ms periods: %d", si.si_overrun);
    CHECK(si.si_overrun >= 5 && si.si_overrun <= 40);
    long ov = tover(id);
    CHECK(ov == si.si_overrun);
    /* It goes on: another signal comes. */
    CHECK(wait_sig(SIGUSR1, &si, 5000) == SIGUSR1);
    CHECK(si.si_overrun < 20);
    CHECK(tdel(id) == 0);
    /* Deleted: at most one signal that was already queued, then none. */
    wait_sig(SIGUSR1, &si, 50);
    CHECK(wait_sig(SIGUSR1, &si, 100) == -1 && errno == EAGAIN);
    SAY("periodic and overrun ok");

    /* The default sigevent: SIGALRM with the timer id as its value. */
    CHECK(tcreate(CLOCK_REALTIME, NULL, &id) == 0);
    v = its(10 * MS, 0);
    CHECK(tset(id, 0, &v, NULL) == 0);
    CHECK(wait_sig(SIGALRM, &si, 5000) == SIGALRM);
    CHECK(si.si_code == SI_TIMER && si.si_timerid == id && si.si_value.sival_int == id);
    SAY("default sigevent ok");

    /* TIMER_ABSTIME on CLOCK_REALTIME: soon, and in the past (at once). */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long at = ns(&now) + 300 * MS;
    v = its(0, 0);
    v.it_value.tv_sec = at / 1000000000LL;
    v.it_value.tv_nsec = at % 1000000000LL;
    CHECK(tset(id, TIMER_ABSTIME, &v, NULL) == 0);
    CHECK(tget(id, &cur) == 0);
    CHECK(ns(&cur.it_value) > 0 && ns(&cur.it_value) <= 300 * MS);
    CHECK(wait_sig(SIGALRM, &si, 5000) == SIGALRM);
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK(ns(&now) >= at);
    v = its(0, 0);
    v.it_value.tv_sec = 1; /* 1970 */
    CHECK(tset(id, TIMER_ABSTIME, &v, NULL) == 0);
    CHECK(wait_sig(SIGALRM, &si, 1000) == SIGALRM);
    CHECK(tdel(id) == 0);
    /* On CLOCK_MONOTONIC. */
    sev.sigev_signo = SIGUSR1;
    CHECK(tcreate(CLOCK_MONOTONIC, &sev, &id) == 0);
    clock_gettime(CLOCK_MONOTONIC, &now);
    at = ns(&now) + 50 * MS;
    v = its(0, 0);
    v.it_value.tv_sec = at / 1000000000LL;
    v.it_value.tv_nsec = at % 1000000000LL;
    CHECK(tset(id, TIMER_ABSTIME, &v, NULL) == 0);
    CHECK(wait_sig(SIGUSR1, &si, 5000) == SIGUSR1);
    clock_gettime(CLOCK_MONOTONIC, &now);
    CHECK(ns(&now) >= at);
    SAY("abstime ok");

    /* No timers in a fork child. */
    g_forked_id = id;
    int st = t_in_child(child_has_no_timers, NULL);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(tget(id, &cur) == 0);
    CHECK(tdel(id) == 0);
    SAY("fork ok");

    /* SIGEV_NONE: nothing is sent, gettime shows the progress. */
    sev.sigev_notify = SIGEV_NONE;
    CHECK(tcreate(CLOCK_MONOTONIC, &sev, &id) == 0);
    v = its(100 * MS, 0);
    CHECK(tset(id, 0, &v, NULL) == 0);
    CHECK(tget(id, &cur) == 0);
    CHECK(ns(&cur.it_value) > 0 && ns(&cur.it_value) <= 100 * MS);
    sleep_ms(200);
    CHECK(tget(id, &cur) == 0);
    CHECK(ns(&cur.it_value) == 0);
    CHECK(!is_pending(SIGUSR1));
    v = its(50 * MS, 50 * MS);
    CHECK(tset(id, 0, &v, NULL) == 0);
    sleep_ms(120);
    CHECK(tget(id, &cur) == 0);
    CHECK(ns(&cur.it_value) > 0 && ns(&cur.it_value) <= 50 * MS);
    CHECK(ns(&cur.it_interval) == 50 * MS);
    CHECK(tdel(id) == 0);
    SAY("SIGEV_NONE ok");

    /* SIGEV_THREAD_ID: pending in that thread, not in the process. */
    pthread_t th;
    CHECK(pthread_create(&th, NULL, other_thread, NULL) == 0);
    while (!other_tid) sched_yield();
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGUSR2;
    sev.sigev_value.sival_int = 77;
    sev.sigev_notify_thread_id = other_tid;
    CHECK(tcreate(CLOCK_MONOTONIC, &sev, &id) == 0);
    v = its(10 * MS, 0);
    CHECK(tset(id, 0, &v, NULL) == 0);
    sleep_ms(100);
    CHECK(!is_pending(SIGUSR2)); /* the main thread's view: not its signal */
    other_go = 1;
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(other_result == 1);
    CHECK(tdel(id) == 0);
    SAY("SIGEV_THREAD_ID ok");

    /* libc's SIGEV_THREAD: the callback runs in a thread. */
    timer_t lt;
    struct sigevent tev = {0};
    tev.sigev_notify = SIGEV_THREAD;
    tev.sigev_notify_function = on_expiry;
    tev.sigev_value.sival_int = 4321;
    CHECK(timer_create(CLOCK_MONOTONIC, &tev, &lt) == 0);
    v = its(10 * MS, 0);
    CHECK(timer_settime(lt, 0, &v, NULL) == 0);
    for (int i = 0; i < 500 && thread_cb_value == 0; i++) sleep_ms(10);
    CHECK(thread_cb_value == 4321);
    CHECK(timer_delete(lt) == 0);
    SAY("SIGEV_THREAD ok");

    /* execve deletes the timers. */
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGUSR1;
    CHECK(tcreate(CLOCK_MONOTONIC, &sev, &id) == 0);
    v = its(10000 * MS, 0);
    CHECK(tset(id, 0, &v, NULL) == 0);
    char idbuf[16];
    snprintf(idbuf, sizeof idbuf, "%d", id);
    char *args[] = {argv[0], "after-exec", idbuf, NULL};
    fflush(stdout);
    execv(argv[0], args);
    CHECK(!"execv failed");
    return 1;
}
