/*
 * noleak: creating and ending processes and threads gives every byte back.
 *
 * Free memory (sysinfo freeram) is sampled after a warm-up round, then
 * again after many rounds of each workload; the difference must stay
 * within a slack that covers allocator caches (per-CPU page and slab
 * magazines), not grow with the number of rounds. Each workload runs in
 * two batches so that a leak shows as growth between them.
 */
#define T_NAME "noleak"
#include "t.h"

#include <pthread.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>

#define SLACK_KIB 1024

static long free_kib(void)
{
    /* Freed kernel objects may land a moment later (a dead task's stack
     * is dropped by the next switch on its CPU): take the best of a few. */
    long best = 0;
    for (int i = 0; i < 5; i++) {
        struct sysinfo si;
        CHECK(sysinfo(&si) == 0);
        long kib = (long)(si.freeram * si.mem_unit / 1024);
        if (kib > best) best = kib;
        usleep(20000);
    }
    return best;
}

static void fork_exit(int n)
{
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        CHECK(p >= 0);
        if (p == 0) _exit(7);
        int st;
        CHECK(waitpid(p, &st, 0) == p);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
    }
}

static void fork_exec(int n)
{
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        CHECK(p >= 0);
        if (p == 0) {
            char *argv[] = {"true", 0};
            execv("/bin/true", argv);
            _exit(127);
        }
        int st;
        CHECK(waitpid(p, &st, 0) == p);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
}

static void *thread_fn(void *arg)
{
    /* Touch some stack and heap so the thread owns pages. */
    volatile char buf[8192];
    buf[0] = 1;
    buf[8191] = (char)(long)arg;
    if (buf[0] != 1) return 0;
    void *m = malloc(20000);
    free(m);
    return arg;
}

static void threads(int n)
{
    for (int i = 0; i < n; i++) {
        pthread_t t[3];
        for (long k = 0; k < 3; k++) CHECK(pthread_create(&t[k], 0, thread_fn, (void *)k) == 0);
        for (long k = 0; k < 3; k++) {
            void *r;
            CHECK(pthread_join(t[k], &r) == 0);
            CHECK(r == (void *)k);
        }
    }
}

static void *pause_fn(void *arg)
{
    (void)arg;
    for (;;) pause();
    return 0;
}

/* A child process with a thread blocked forever, killed by a signal. */
static void killed_threaded(int n)
{
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        CHECK(p >= 0);
        if (p == 0) {
            pthread_t t;
            if (pthread_create(&t, 0, pause_fn, 0) != 0) _exit(1);
            void *m = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) _exit(1);
            memset(m, 1, 1 << 20);
            for (;;) pause();
        }
        usleep(2000);
        CHECK(kill(p, SIGKILL) == 0);
        int st;
        CHECK(waitpid(p, &st, 0) == p);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    }
}

/* An advisory lock on a file that has no inode hook (a pipe), dropped by
 * closing it: the kernel's lock table must not keep an entry per file. */
static void flock_pipe(int n)
{
    for (int i = 0; i < n; i++) {
        int p[2];
        CHECK(pipe(p) == 0);
        CHECK(flock(p[0], LOCK_EX | LOCK_NB) == 0);
        close(p[0]);
        close(p[1]);
    }
}

static void check(const char *what, void (*fn)(int), int n)
{
    fn(4); /* warm-up: caches reach their working size */
    long before = free_kib();
    fn(n);
    long mid = free_kib();
    fn(n);
    long after = free_kib();
    printf("noleak: %s x%d: free KiB %ld -> %ld -> %ld\n", what, n, before, mid, after);
    CHECK(before - after <= SLACK_KIB);
    CHECK(mid - after <= SLACK_KIB / 2 + 256);
}

int main(void)
{
    check("fork+exit+wait", fork_exit, 150);
    check("fork+exec+wait", fork_exec, 500); /* 1000 cycles in all */
    check("3 threads create+join", threads, 100);
    check("threaded child killed", killed_threaded, 40);
    check("flock on a pipe, closed", flock_pipe, 8000);
    printf("noleak: ok\n");
    return 0;
}
