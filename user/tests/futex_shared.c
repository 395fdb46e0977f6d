/* futex_shared: futexes in MAP_SHARED memory work between processes, as
 * on Linux (shared keys name the memory object, not the address space):
 * a FUTEX_WAIT/FUTEX_WAKE ping-pong across fork, musl's process-shared
 * semaphores, barriers and robust mutexes (EOWNERDEAD when the owner
 * dies while the other process waits), and EFAULT for a shared wake on
 * an unmapped address. */
#define T_NAME "futex_shared"
#include "t.h"
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128
#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static long fx(volatile int *addr, int op, int val)
{
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

struct shared {
    volatile int turn;
    sem_t sem;
    pthread_barrier_t barrier;
    pthread_mutex_t mutex;
};

#define ROUNDS 200

/* Waits until *w == want (shared futex, no private flag). */
static void wait_for(volatile int *w, int want)
{
    int v;
    while ((v = *w) != want)
        fx(w, FUTEX_WAIT, v);
}

int main(void)
{
    struct shared *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED);

    /* Ping-pong: the parent owns even turns, the child odd ones. */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < ROUNDS; i++) {
            wait_for(&s->turn, 2 * i + 1);
            s->turn = 2 * i + 2;
            fx(&s->turn, FUTEX_WAKE, 1);
        }
        _exit(0);
    }
    for (int i = 0; i < ROUNDS; i++) {
        s->turn = 2 * i + 1;
        fx(&s->turn, FUTEX_WAKE, 1);
        wait_for(&s->turn, 2 * i + 2);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("%d shared FUTEX_WAIT/WAKE round trips between two processes", ROUNDS);

    /* A waiter blocked before the wake: the wake must find it (not only a
     * changed word). The child reports how many it woke. */
    s->turn = 0;
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        long woken = 0;
        while (woken == 0) {
            woken = fx(&s->turn, FUTEX_WAKE, 1);
            if (woken == 0)
                usleep(1000);
        }
        s->turn = 1;
        fx(&s->turn, FUTEX_WAKE, 1);
        _exit(woken == 1 ? 0 : 1);
    }
    while (s->turn == 0)
        fx(&s->turn, FUTEX_WAIT, 0);
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("a FUTEX_WAKE from another process counts the waiter it woke");

    /* Process-shared semaphore and barrier. */
    CHECK(sem_init(&s->sem, 1, 0) == 0);
    pthread_barrierattr_t ba;
    CHECK(pthread_barrierattr_init(&ba) == 0);
    CHECK(pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED) == 0);
    CHECK(pthread_barrier_init(&s->barrier, &ba, 2) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < 50; i++) {
            usleep(i % 5 == 0 ? 2000 : 0);
            if (sem_post(&s->sem) != 0)
                _exit(2);
        }
        int r = pthread_barrier_wait(&s->barrier);
        _exit(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD ? 0 : 3);
    }
    for (int i = 0; i < 50; i++)
        CHECK(sem_wait(&s->sem) == 0);
    int r = pthread_barrier_wait(&s->barrier);
    CHECK(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("process-shared sem_t (50 posts) and pthread_barrier_t");

    /* A robust process-shared mutex whose owner dies while we wait. */
    pthread_mutexattr_t ma;
    CHECK(pthread_mutexattr_init(&ma) == 0);
    CHECK(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) == 0);
    CHECK(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) == 0);
    CHECK(pthread_mutex_init(&s->mutex, &ma) == 0);
    s->turn = 0;
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (pthread_mutex_lock(&s->mutex) != 0)
            _exit(2);
        s->turn = 1;
        fx(&s->turn, FUTEX_WAKE, 1);
        usleep(50000); /* the parent is blocked in pthread_mutex_lock by now */
        _exit(0);      /* dies holding it */
    }
    wait_for(&s->turn, 1);
    CHECK(pthread_mutex_lock(&s->mutex) == EOWNERDEAD);
    CHECK(pthread_mutex_consistent(&s->mutex) == 0);
    CHECK(pthread_mutex_unlock(&s->mutex) == 0);
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(pthread_mutex_lock(&s->mutex) == 0 && pthread_mutex_unlock(&s->mutex) == 0);
    SAY("robust shared mutex: EOWNERDEAD after its owner died");

    /* A shared wake needs a mapping; a private one does not look. */
    void *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(hole != MAP_FAILED && munmap(hole, 4096) == 0);
    CHECK_ERR(fx(hole, FUTEX_WAKE, 1), EFAULT);
    CHECK(fx(hole, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1) == 0);
    CHECK_ERR(fx((int *)((char *)s + 2), FUTEX_WAKE, 1), EINVAL);
    SAY("shared FUTEX_WAKE on an unmapped address: EFAULT; private: 0");
    return 0;
}
