/*
 * affinity: sched_setaffinity is enforced. A thread pinned to one CPU
 * runs there (getcpu and sched_getcpu agree) however often it yields,
 * sleeps or is preempted; sched_getaffinity reports the mask; threads
 * and forked children inherit it; another thread's mask can be set by
 * tid and moves it. Errors: a mask of no online CPU, a short or unaligned
 * size for sched_getaffinity (EINVAL), bad pointers (EFAULT), unknown tid
 * (ESRCH).
 */
#define T_NAME "affinity"
#include "t.h"

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>

static int ncpu;

static int cpu_now(void)
{
    unsigned cpu = 99, node = 99;
    CHECK(syscall(SYS_getcpu, &cpu, &node, NULL) == 0);
    CHECK(node == 0);
    CHECK(sched_getcpu() == (int)cpu);
    return (int)cpu;
}

static void pin(pid_t tid, int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    CHECK(sched_setaffinity(tid, sizeof s, &s) == 0);
}

/* Stays on `cpu` through yields, sleeps and busy stretches. */
static void stays_on(int cpu)
{
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 200; i++) {
        CHECK(cpu_now() == cpu);
        if (i % 3 == 0) sched_yield();
        if (i % 7 == 0) nanosleep(&ms, NULL);
        for (volatile int k = 0; k < 20000; k++) {
        }
    }
}

static void *pinned_worker(void *arg)
{
    int cpu = (int)(long)arg;
    pin(0, cpu);
    stays_on(cpu);
    return NULL;
}

static void *inherits(void *arg)
{
    cpu_set_t s;
    CHECK(sched_getaffinity(0, sizeof s, &s) == 0);
    CHECK(CPU_COUNT(&s) == 1 && CPU_ISSET((int)(long)arg, &s));
    CHECK(cpu_now() == (int)(long)arg);
    return NULL;
}

static volatile pid_t spin_tid;
static volatile int spin_stop;
static volatile int spin_cpu = -1;

static void *spinner(void *arg)
{
    (void)arg;
    spin_tid = (pid_t)syscall(SYS_gettid);
    while (!spin_stop) spin_cpu = sched_getcpu();
    return NULL;
}

int main(void)
{
    cpu_set_t all;
    CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
    ncpu = CPU_COUNT(&all);
    CHECK(ncpu >= 1 && CPU_ISSET(0, &all));
    SAY("%d CPUs online", ncpu);

    pin(0, 0);
    cpu_set_t got;
    CHECK(sched_getaffinity(0, sizeof got, &got) == 0);
    CHECK(CPU_COUNT(&got) == 1 && CPU_ISSET(0, &got));
    stays_on(0);
    SAY("pinned to CPU 0: stays there");

    int last = ncpu - 1;
    pin(0, last);
    CHECK(cpu_now() == last); /* moved before the call returned */
    stays_on(last);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, inherits, (void *)(long)last) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        cpu_set_t s;
        CHECK(sched_getaffinity(0, sizeof s, &s) == 0);
        CHECK(CPU_COUNT(&s) == 1 && CPU_ISSET(last, &s));
        stays_on(last);
        _exit(0);
    }
    int st;
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("pinned to CPU %d: moved at once; a thread and a fork child inherit it", last);

    CHECK(sched_setaffinity(0, sizeof all, &all) == 0);
    if (ncpu > 1) {
        pthread_t a, b;
        CHECK(pthread_create(&a, NULL, pinned_worker, (void *)0L) == 0);
        CHECK(pthread_create(&b, NULL, pinned_worker, (void *)1L) == 0);
        CHECK(pthread_join(a, NULL) == 0 && pthread_join(b, NULL) == 0);
        SAY("two threads pinned to CPUs 0 and 1 run there side by side");

        /* Another thread's mask, set by tid, moves it while it spins. */
        pin(0, 0);
        CHECK(pthread_create(&t, NULL, spinner, NULL) == 0);
        while (!spin_tid) sched_yield();
        pin(spin_tid, 1);
        cpu_set_t s;
        CHECK(sched_getaffinity(spin_tid, sizeof s, &s) == 0 && CPU_COUNT(&s) == 1 && CPU_ISSET(1, &s));
        struct timespec ms = {0, 1000000};
        for (int i = 0; i < 2000 && spin_cpu != 1; i++) nanosleep(&ms, NULL);
        spin_cpu = -1;
        for (int i = 0; i < 2000 && spin_cpu == -1; i++) nanosleep(&ms, NULL);
        CHECK(spin_cpu == 1);
        spin_stop = 1;
        CHECK(pthread_join(t, NULL) == 0);
        SAY("sched_setaffinity(tid) moves a spinning thread to its new CPU");
        CHECK(sched_setaffinity(0, sizeof all, &all) == 0);
    }

    /* Errors. */
    cpu_set_t none;
    CPU_ZERO(&none);
    CHECK_ERR(sched_setaffinity(0, sizeof none, &none), EINVAL);
    cpu_set_t far;
    CPU_ZERO(&far);
    CPU_SET(63, &far); /* no such CPU here */
    CHECK_ERR(sched_setaffinity(0, sizeof far, &far), EINVAL);
    CHECK(sched_getaffinity(0, sizeof got, &got) == 0 && CPU_EQUAL(&got, &all)); /* unchanged */
    CHECK_ERR(syscall(SYS_sched_setaffinity, 0, sizeof all, (void *)8), EFAULT);
    CHECK_ERR(syscall(SYS_sched_getaffinity, 0, sizeof all, (void *)8), EFAULT);
    CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 4, &got), EINVAL);
    CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 12, &got), EINVAL);
    CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 0, &got), EINVAL);
    CHECK(syscall(SYS_sched_getaffinity, 0, 8, &got) == 8);
    CHECK_ERR(sched_setaffinity(999999, sizeof all, &all), ESRCH);
    CHECK_ERR(sched_getaffinity(999999, sizeof all, &all), ESRCH);
    SAY("errors: EINVAL, EFAULT, ESRCH");
    return 0;
}
