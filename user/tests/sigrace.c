/*
 * sigrace: signals and exits that race with thread creation. A thread
 * exists from the moment clone returns its tid: tgkill to it right away
 * succeeds and the signal acts on that thread (a fatal one ends the
 * process, even before the thread first ran; a handled one runs in that
 * thread); an exit_group or a fatal signal right after clone ends
 * threads that have not run yet. Each case runs many times in a fresh
 * child (the sigthread hang: tgkill found no thread yet, and the child
 * paused forever).
 */
#define T_NAME "sigrace"
#include "t.h"

#include <sched.h>
#include <sys/syscall.h>
#include <time.h>

#define ROUNDS 100
#define NTHREADS 3

static char stacks[NTHREADS][16384] __attribute__((aligned(16)));
static pid_t tids[NTHREADS];

/* The thread body: no libc (it has no TLS of its own), pause forever. */
static int sleeper(void *arg)
{
    (void)arg;
    for (;;) {
        long r;
        __asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_pause) : "rcx", "r11", "memory");
    }
    return 0;
}

static void start_threads(void)
{
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                CLONE_PARENT_SETTID;
    for (int i = 0; i < NTHREADS; i++) {
        if (clone(sleeper, stacks[i] + sizeof stacks[i], flags, NULL, &tids[i]) <= 0) _exit(90);
    }
}

static void pause_forever(void)
{
    for (;;) pause();
}

/* SIGTERM tgkill'd to thread n%3 as soon as it exists. */
static void tgkill_new(void *arg)
{
    int n = (int)(long)arg;
    start_threads();
    if (syscall(SYS_tgkill, getpid(), tids[n % NTHREADS], SIGTERM) != 0) _exit(91);
    pause_forever();
}

/* As sigthread does: probe with signal 0, then SIGTERM. */
static void probe_then_kill(void *arg)
{
    int n = (int)(long)arg;
    start_threads();
    pid_t tid = tids[n % NTHREADS];
    if (syscall(SYS_tgkill, getpid(), tid, 0) != 0) _exit(92);
    if (syscall(SYS_tgkill, getpid(), tid, SIGTERM) != 0) _exit(93);
    pause_forever();
}

static volatile long handled_tid;

static void on_usr1(int sig)
{
    (void)sig;
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_gettid) : "rcx", "r11", "memory");
    handled_tid = r;
}

/* A handled signal tgkill'd at once runs its handler in that thread
 * (before the thread's own first instruction, if it had not run yet). */
static void handler_in_new(void *arg)
{
    int n = (int)(long)arg;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    start_threads();
    pid_t tid = tids[n % NTHREADS];
    if (syscall(SYS_tgkill, getpid(), tid, SIGUSR1) != 0) _exit(95);
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 5000 && handled_tid == 0; i++) nanosleep(&ms, NULL);
    _exit(handled_tid == tid ? 0 : 96);
}

/* exit_group before the threads ran. */
static void exit_at_once(void *arg)
{
    (void)arg;
    start_threads();
    syscall(SYS_exit_group, 7);
}

/* kill(2) of the process, main blocking the signal: a new thread takes it. */
static void kill_process(void *arg)
{
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    start_threads();
    CHECK(sigprocmask(SIG_BLOCK, &s, NULL) == 0);
    kill(getpid(), SIGTERM);
    pause_forever();
}

/* SIGKILL'd by the parent right after the threads were made. */
static void wait_for_kill(void *arg)
{
    int fd = (int)(long)arg;
    start_threads();
    if (write(fd, "x", 1) != 1) _exit(94);
    pause_forever();
}

static int run(void (*fn)(void *), void *arg)
{
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    return st;
}

static void expect_signal(const char *what, int n, int st, int sig)
{
    if (!(WIFSIGNALED(st) && WTERMSIG(st) == sig)) {
        fprintf(stderr, "sigrace: %s round %d: wait status %#x (%s %d), want signal %d\n", what, n, st,
                WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), sig);
        exit(1);
    }
}

int main(void)
{
    for (int n = 0; n < ROUNDS; n++) expect_signal("tgkill at once", n, run(tgkill_new, (void *)(long)n), SIGTERM);
    SAY("tgkill to a thread right after clone: it exists, SIGTERM ends the process");

    for (int n = 0; n < ROUNDS; n++) expect_signal("probe", n, run(probe_then_kill, (void *)(long)n), SIGTERM);
    SAY("tgkill signal 0 finds a thread right after clone");

    for (int n = 0; n < ROUNDS; n++) {
        int st = run(handler_in_new, (void *)(long)n);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            fprintf(stderr, "sigrace: handler round %d: wait status %#x\n", n, st);
            exit(1);
        }
    }
    SAY("a handled signal tgkill'd right after clone runs in that thread");

    for (int n = 0; n < ROUNDS; n++) {
        int st = run(exit_at_once, NULL);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 7)) {
            fprintf(stderr, "sigrace: exit_group round %d: wait status %#x\n", n, st);
            exit(1);
        }
    }
    SAY("exit_group right after clone ends threads that never ran");

    for (int n = 0; n < ROUNDS; n++) expect_signal("kill", n, run(kill_process, NULL), SIGTERM);
    SAY("a kill'd signal blocked by main is taken by a new thread");

    for (int n = 0; n < ROUNDS / 3; n++) {
        int p[2];
        CHECK(pipe(p) == 0);
        fflush(stdout);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            wait_for_kill((void *)(long)p[1]);
        }
        close(p[1]);
        char c;
        CHECK(read(p[0], &c, 1) == 1);
        close(p[0]);
        CHECK(kill(pid, SIGKILL) == 0);
        int st;
        CHECK(waitpid(pid, &st, 0) == pid);
        expect_signal("SIGKILL", n, st, SIGKILL);
    }
    SAY("SIGKILL from the parent ends a process whose threads just started");
    return 0;
}
