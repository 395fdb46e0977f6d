/*
 * thread_race: races that only show with several threads of one process on
 * several CPUs, repeated many times.
 *
 * - Threads that touch the same fresh anonymous pages at once: the loser
 *   of each page-fault race must find the page mapped, not get SIGSEGV.
 * - Many short-lived threads, each checking its own TLS and tid right
 *   after it starts: a new thread must run with its own state even when the
 *   scheduler moves it between CPUs while it starts.
 * - mmap/munmap of a region other threads keep reading: after munmap and a
 *   new mmap at the same address, every CPU sees the new contents.
 */
#define T_NAME "thread_race"
#include "t.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define NT 4
#define ROUNDS 60
#define PAGES 64
#define PAGE 4096

static pthread_barrier_t barrier;
static volatile unsigned char *region;
static __thread long tls_id = -1;

static void *toucher(void *arg)
{
    long id = (long)(intptr_t)arg;
    tls_id = id;
    pthread_barrier_wait(&barrier);
    long sum = 0;
    for (int p = 0; p < PAGES; p++) {
        region[p * PAGE + id] = (unsigned char)(id + 1);
        sum += region[p * PAGE];
    }
    if (tls_id != id) return (void *)1;
    return (void *)(intptr_t)(sum >= 0 ? 0 : 1);
}

static void *starter(void *arg)
{
    long id = (long)(intptr_t)arg;
    if (tls_id != -1) return (void *)1; /* fresh TLS block: initial value */
    tls_id = id;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (tid == getpid()) return (void *)2;
    sched_yield();
    if (tls_id != id || (pid_t)syscall(SYS_gettid) != tid) return (void *)3;
    return 0;
}

static volatile unsigned *shared_word;
static volatile unsigned expected = 1;

static volatile int stale_reads;

static void *reader(void *arg)
{
    (void)arg;
    /* One read per round, plus the last value: ROUNDS + 1 barrier pairs,
     * exactly as many as the main thread makes. */
    for (int i = 0; i < ROUNDS + 1; i++) {
        /* Between the two barriers the main thread changes nothing: the
         * word must hold this round's value. A failure is counted, never
         * a reason to leave early (the others would wait at the barrier). */
        pthread_barrier_wait(&barrier);
        if (*shared_word != expected) __sync_fetch_and_add(&stale_reads, 1);
        pthread_barrier_wait(&barrier);
    }
    return 0;
}

int main(void)
{
    pthread_t th[NT];

    /* 1. page-fault races */
    CHECK(pthread_barrier_init(&barrier, 0, NT) == 0);
    for (int r = 0; r < ROUNDS; r++) {
        region = mmap(0, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(region != MAP_FAILED);
        for (long i = 0; i < NT; i++) CHECK(pthread_create(&th[i], 0, toucher, (void *)(intptr_t)i) == 0);
        for (int i = 0; i < NT; i++) {
            void *ret;
            CHECK(pthread_join(th[i], &ret) == 0);
            CHECK(ret == 0);
        }
        for (int p = 0; p < PAGES; p++)
            for (int i = 0; i < NT; i++) CHECK(region[p * PAGE + i] == i + 1);
        CHECK(munmap((void *)region, PAGES * PAGE) == 0);
    }
    pthread_barrier_destroy(&barrier);
    printf("thread_race: %d rounds of %d threads faulting the same %d pages ok\n", ROUNDS, NT, PAGES);

    /* 2. many short-lived threads */
    for (int r = 0; r < ROUNDS * 2; r++) {
        for (long i = 0; i < NT; i++) CHECK(pthread_create(&th[i], 0, starter, (void *)(intptr_t)i) == 0);
        for (int i = 0; i < NT; i++) {
            void *ret;
            CHECK(pthread_join(th[i], &ret) == 0);
            CHECK(ret == 0);
        }
    }
    printf("thread_race: %d short-lived threads saw their own TLS and tid\n", ROUNDS * 2 * NT);

    /* 3. munmap + mmap at the same address while other threads read */
    CHECK(pthread_barrier_init(&barrier, 0, NT) == 0);
    unsigned *w = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(w != MAP_FAILED);
    *w = 1;
    shared_word = w;
    for (long i = 1; i < NT; i++) CHECK(pthread_create(&th[i], 0, reader, 0) == 0);
    for (unsigned r = 2; r < ROUNDS + 2; r++) {
        pthread_barrier_wait(&barrier); /* readers read the old word */
        pthread_barrier_wait(&barrier);
        CHECK(munmap(w, PAGE) == 0);
        unsigned *n = mmap(w, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        CHECK(n == w);
        CHECK(*n == 0); /* a new zero page, never the old frame */
        *n = r;
        expected = r;
    }
    pthread_barrier_wait(&barrier);
    pthread_barrier_wait(&barrier);
    for (int i = 1; i < NT; i++) {
        void *ret;
        CHECK(pthread_join(th[i], &ret) == 0);
        CHECK(ret == 0);
    }
    CHECK(stale_reads == 0);
    printf("thread_race: munmap/mmap under %d reading threads ok\n", NT - 1);
    printf("thread_race: ok\n");
    return 0;
}
