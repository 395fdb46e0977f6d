/* thread: futex wake/wait ping-pong between two threads, and pthread
 * create + join. */
#include "bench.h"
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

/* <linux/futex.h> is not among musl-gcc's headers. */
#define FUTEX_WAIT_PRIVATE (0 | 128)
#define FUTEX_WAKE_PRIVATE (1 | 128)

static long futex(atomic_int *addr, int op, int val)
{
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

/* The token: 0 = main's turn, 1 = the partner's turn, 2 = stop. */
static atomic_int turn;

/* Waits until *addr holds want (or 2); returns what it holds. */
static int wait_for(atomic_int *addr, int want)
{
    for (;;) {
        int v = atomic_load(addr);
        if (v == want || v == 2) return v;
        if (futex(addr, FUTEX_WAIT_PRIVATE, v) != 0 && errno != EAGAIN && errno != EINTR) return -1;
    }
}

static void *partner(void *arg)
{
    (void)arg;
    for (;;) {
        int v = wait_for(&turn, 1);
        if (v != 1) return NULL;
        atomic_store(&turn, 0);
        futex(&turn, FUTEX_WAKE_PRIVATE, 1);
    }
}

/* One operation: hand the token over and get it back (two wake-ups). */
static void pingpong_op(void *ctx, long n)
{
    (void)ctx;
    for (long i = 0; i < n; i++) {
        atomic_store(&turn, 1);
        if (futex(&turn, FUTEX_WAKE_PRIVATE, 1) < 0) B_FAIL();
        if (wait_for(&turn, 0) != 0) {
            errno = errno ? errno : EIO;
            B_FAIL();
        }
    }
}

static void *nothing(void *arg) { return arg; }

static void create_join_op(void *ctx, long n)
{
    (void)ctx;
    for (long i = 0; i < n; i++) {
        pthread_t t;
        int e = pthread_create(&t, NULL, nothing, NULL);
        if (e != 0) {
            errno = e;
            B_FAIL();
        }
        if ((e = pthread_join(t, NULL)) != 0) {
            errno = e;
            B_FAIL();
        }
    }
}

int main(int argc, char **argv)
{
    b_init(argc, argv);
    pthread_t t;
    int e = pthread_create(&t, NULL, partner, NULL);
    if (e != 0) {
        b_error("futex_pingpong", e);
    } else {
        bench_ns("futex_pingpong", pingpong_op, NULL, 1L << 24);
        atomic_store(&turn, 2);
        futex(&turn, FUTEX_WAKE_PRIVATE, 1);
        pthread_join(t, NULL);
    }
    bench_ns("thread_create_join", create_join_op, NULL, 1L << 20);
    return 0;
}
