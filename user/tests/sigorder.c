/*
 * sigorder: which pending signal goes first. Linux's next_signal takes
 * the lowest synchronous fault signal (SIGILL, SIGTRAP, SIGBUS, SIGFPE,
 * SIGSEGV, SIGSYS) before any other, then the lowest number; a thread's
 * own pending set before its process's. Checked through sigtimedwait
 * and through handler delivery on unblocking.
 */
#define T_NAME "sigorder"
#include "t.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

static int order[16];
static volatile int norder;

static void record(int sig)
{
    order[norder++] = sig;
}

static const int raised[] = {SIGHUP, SIGUSR1, SIGSYS, SIGSEGV, SIGINT, SIGTRAP, SIGBUS, 40};
static const int expect[] = {SIGTRAP, SIGBUS, SIGSEGV, SIGSYS, SIGHUP, SIGINT, SIGUSR1, 40};
#define N (int)(sizeof raised / sizeof raised[0])

static void raise_all(void)
{
    for (int i = 0; i < N; i++) CHECK(kill(getpid(), raised[i]) == 0);
}

int main(void)
{
    sigset_t all;
    sigemptyset(&all);
    for (int i = 0; i < N; i++) sigaddset(&all, raised[i]);
    CHECK(sigprocmask(SIG_BLOCK, &all, NULL) == 0);

    /* sigtimedwait dequeues in next_signal's order. */
    raise_all();
    struct timespec zero = {0, 0};
    for (int i = 0; i < N; i++) {
        int sig = sigtimedwait(&all, NULL, &zero);
        if (sig != expect[i]) fprintf(stderr, "sigtimedwait #%d: got %d, want %d\n", i, sig, expect[i]);
        CHECK(sig == expect[i]);
    }
    CHECK_ERR(sigtimedwait(&all, NULL, &zero), EAGAIN);
    SAY("sigtimedwait: fault signals first (TRAP, BUS, SEGV, SYS), then by number");

    /* Handlers run in the same order when the signals are unblocked. */
    struct sigaction sa = {0};
    sa.sa_handler = record;
    sa.sa_mask = all; /* no nesting: each handler runs to completion */
    for (int i = 0; i < N; i++) CHECK(sigaction(raised[i], &sa, NULL) == 0);
    raise_all();
    CHECK(sigprocmask(SIG_UNBLOCK, &all, NULL) == 0);
    CHECK(norder == N);
    for (int i = 0; i < N; i++) CHECK(order[i] == expect[i]);
    SAY("delivery on unblock: the same order");

    /* The thread's own set goes before the process's: a thread-directed
     * SIGUSR1 before a process-wide SIGSEGV. */
    CHECK(sigprocmask(SIG_BLOCK, &all, NULL) == 0);
    CHECK(kill(getpid(), SIGSEGV) == 0);
    CHECK(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1) == 0);
    CHECK(sigtimedwait(&all, NULL, &zero) == SIGUSR1);
    CHECK(sigtimedwait(&all, NULL, &zero) == SIGSEGV);
    SAY("the thread's pending set before the process's");
    return 0;
}
