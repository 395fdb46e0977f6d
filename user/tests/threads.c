/*
 * threads: pthread_create/join (clone with CLONE_THREAD, CLONE_SETTLS,
 * CLONE_CHILD_CLEARTID), mutexes and condition variables (futex), per-thread
 * TLS, gettid differing from getpid, exit_group from a thread ending all.
 */
#define T_NAME "threads"
#include "t.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>

#define NT 4
#define ITERS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int ready;
static __thread int tls_value;
static pid_t tids[NT];

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    tls_value = id * 10;
    tids[id] = (pid_t)syscall(SYS_gettid);
    pthread_mutex_lock(&lock);
    while (!ready) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return (void *)(intptr_t)(tls_value + 1);
}

static void *exiter(void *arg)
{
    (void)arg;
    exit(7); /* exit_group from a non-main thread */
}

int main(void)
{
    pthread_t th[NT];
    for (int i = 0; i < NT; i++) CHECK(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) == 0);
    pthread_mutex_lock(&lock);
    ready = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < NT; i++) {
        void *ret;
        CHECK(pthread_join(th[i], &ret) == 0);
        CHECK((intptr_t)ret == i * 10 + 1);
    }
    CHECK(counter == (long)NT * ITERS);
    SAY("%d threads, mutex-protected counter = %ld, TLS per thread", NT, counter);
    for (int i = 0; i < NT; i++) CHECK(tids[i] != getpid() && tids[i] > 0);
    CHECK(tls_value == 0);
    SAY("gettid differs from getpid in threads; main TLS untouched");

    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        pthread_t e;
        pthread_create(&e, NULL, exiter, NULL);
        for (;;) pause();
    }
    int st;
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 7);
    SAY("exit() in a thread ends the whole process with its status");
    SAY("ok");
    return 0;
}
