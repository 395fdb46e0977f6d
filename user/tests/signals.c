/*
 * signals: handlers and their frames, rt_sigreturn, masks, SA_RESTART and
 * EINTR, SA_RESETHAND, sigaltstack, SIGCHLD, alarm/pause, SIGPIPE, a
 * SIGSEGV handler with si_addr, and default actions seen by wait4.
 */
#define T_NAME "signals"
#include "t.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

static volatile sig_atomic_t got;
static volatile int got_info_sig;
static void *volatile fault_addr;
static sigjmp_buf jump;

static void on_usr1(int sig) { got = sig; }

static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_info_sig = si->si_signo == sig ? sig : -1;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    fault_addr = si->si_addr;
    siglongjmp(jump, 1);
}

static volatile uintptr_t alt_sp;

static void on_alt(int sig)
{
    char here;
    got = sig;
    alt_sp = (uintptr_t)&here;
}

int main(void)
{
    /* 1. A handler runs and the interrupted code resumes with its
     * registers (the loop counter) intact. */
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    volatile long counter = 0;
    for (int i = 0; i < 1000; i++) counter += i;
    CHECK(kill(getpid(), SIGUSR1) == 0);
    for (int i = 0; i < 1000; i++) counter += i;
    CHECK(got == SIGUSR1 && counter == 999000);
    SAY("handler ran; registers preserved across it");

    /* 2. SA_SIGINFO gets a siginfo with the signal number. */
    struct sigaction si = {0};
    si.sa_sigaction = on_info;
    si.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGUSR2, &si, NULL) == 0);
    CHECK(raise(SIGUSR2) == 0);
    CHECK(got_info_sig == SIGUSR2);
    SAY("SA_SIGINFO delivers siginfo");

    /* 3. A blocked signal stays pending until unblocked. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    got = 0;
    CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(got == 0);
    sigset_t pend;
    CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGUSR1));
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
    CHECK(got == SIGUSR1);
    SAY("blocked signal pends, then arrives on unblock");

    /* 4. SIG_IGN drops the signal; SA_RESETHAND restores the default. */
    CHECK(signal(SIGUSR1, SIG_IGN) != SIG_ERR);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    sa.sa_flags = SA_RESETHAND;
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
    got = 0;
    CHECK(raise(SIGUSR2) == 0 && got == SIGUSR2);
    struct sigaction now;
    CHECK(sigaction(SIGUSR2, NULL, &now) == 0 && now.sa_handler == SIG_DFL);
    SAY("SIG_IGN and SA_RESETHAND");

    /* 5. A fault handler sees si_addr and can longjmp out. */
    struct sigaction sv = {0};
    sv.sa_sigaction = on_segv;
    sv.sa_flags = SA_SIGINFO | SA_NODEFER;
    CHECK(sigaction(SIGSEGV, &sv, NULL) == 0);
    volatile int *bad = (int *)0x1000;
    if (sigsetjmp(jump, 1) == 0) {
        *bad = 1;
        T_FAIL("write to 0x1000 did not fault");
    }
    CHECK(fault_addr == (void *)0x1000);
    SAY("SIGSEGV handler got si_addr 0x1000");

    /* 6. sigaltstack: SA_ONSTACK handlers run on the alternate stack. */
    static char alt[65536];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0);
    struct sigaction sa2 = {0};
    sa2.sa_handler = on_alt;
    sa2.sa_flags = SA_ONSTACK;
    CHECK(sigaction(SIGUSR1, &sa2, NULL) == 0);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(alt_sp >= (uintptr_t)alt && alt_sp < (uintptr_t)alt + sizeof alt);
    SAY("SA_ONSTACK handler ran on the alternate stack");

    /* 7. EINTR without SA_RESTART; a restarted read with it. */
    int p[2];
    CHECK(pipe(p) == 0);
    sa.sa_flags = 0;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    got = 0;
    alarm(1);
    char c;
    CHECK_ERR(read(p[0], &c, 1), EINTR);
    CHECK(got == SIGALRM);
    SAY("alarm interrupts a blocking read: EINTR");
    sa.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    pid_t w = fork();
    CHECK(w >= 0);
    if (w == 0) {
        struct timespec ts = {1, 500000000};
        nanosleep(&ts, NULL);
        write(p[1], "x", 1);
        _exit(0);
    }
    alarm(1);
    CHECK(read(p[0], &c, 1) == 1 && c == 'x');
    CHECK(waitpid(w, NULL, 0) == w);
    SAY("SA_RESTART restarts the read");

    /* 8. pause returns after a handled signal. */
    sa.sa_flags = 0;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    alarm(1);
    CHECK_ERR(pause(), EINTR);
    SAY("pause returns EINTR after SIGALRM");

    /* 9. SIGCHLD reaches a handler when a child exits. */
    sa.sa_handler = on_usr1;
    CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
    got = 0;
    pid_t c1 = fork();
    CHECK(c1 >= 0);
    if (c1 == 0) _exit(3);
    int st;
    while (waitpid(c1, &st, 0) < 0 && errno == EINTR) {}
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    for (int i = 0; i < 100 && got != SIGCHLD; i++) usleep(1000);
    CHECK(got == SIGCHLD);
    SAY("SIGCHLD handler ran");
    signal(SIGCHLD, SIG_DFL);

    /* 10. Default actions as wait4 reports them. */
    pid_t k = fork();
    CHECK(k >= 0);
    if (k == 0) {
        for (;;) pause();
    }
    CHECK(kill(k, SIGTERM) == 0);
    CHECK(waitpid(k, &st, 0) == k && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    pid_t k2 = fork();
    CHECK(k2 >= 0);
    if (k2 == 0) {
        close(p[0]);
        signal(SIGPIPE, SIG_DFL);
        int q[2];
        pipe(q);
        close(q[0]);
        write(q[1], "x", 1);
        _exit(0);
    }
    CHECK(waitpid(k2, &st, 0) == k2 && WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
    SAY("SIGTERM and SIGPIPE default actions kill; wait4 reports the signal");

    /* Setting SIG_IGN, or SIG_DFL where the default is to ignore, drops
     * the pending instances even while blocked (POSIX; Linux's
     * do_sigaction); a caught or default-fatal one stays pending. */
    {
        sigset_t blk, pend;
        sigemptyset(&blk);
        sigaddset(&blk, SIGUSR2);
        sigaddset(&blk, SIGCHLD);
        sigaddset(&blk, SIGHUP);
        CHECK(sigprocmask(SIG_BLOCK, &blk, NULL) == 0);
        struct sigaction catch_chld = {.sa_handler = on_usr1};
        CHECK(sigaction(SIGCHLD, &catch_chld, NULL) == 0);
        CHECK(kill(getpid(), SIGUSR2) == 0);
        CHECK(raise(SIGCHLD) == 0);
        CHECK(kill(getpid(), SIGHUP) == 0);
        CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGUSR2) && sigismember(&pend, SIGCHLD) && sigismember(&pend, SIGHUP));
        signal(SIGUSR2, SIG_IGN);
        signal(SIGCHLD, SIG_DFL); /* default: ignore */
        signal(SIGHUP, SIG_DFL);  /* default: terminate; stays */
        CHECK(sigpending(&pend) == 0);
        CHECK(!sigismember(&pend, SIGUSR2) && !sigismember(&pend, SIGCHLD));
        CHECK(sigismember(&pend, SIGHUP));
        signal(SIGHUP, SIG_IGN);
        CHECK(sigpending(&pend) == 0 && !sigismember(&pend, SIGHUP));
        CHECK(sigprocmask(SIG_UNBLOCK, &blk, NULL) == 0);
        signal(SIGUSR2, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
    }
    SAY("SIG_IGN and default-ignore drop pending signals");

    CHECK_ERR(kill(getpid(), 65), EINVAL);
    CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL);
    SAY("ok");
    return 0;
}
