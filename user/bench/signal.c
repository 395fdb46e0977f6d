/* signal: installing a handler and delivering a signal to it (LMbench
 * lat_sig install / catch). */
#include "bench.h"
#include <signal.h>

static volatile long caught;

static void on_usr1(int sig)
{
    (void)sig;
    caught++;
}

static void install_op(void *ctx, long n)
{
    (void)ctx;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    for (long i = 0; i < n; i++)
        if (sigaction(SIGUSR1, &sa, NULL) != 0) B_FAIL();
}

/* kill(getpid()) with the handler installed: the signal is delivered on
 * the way out of kill, the handler runs, rt_sigreturn comes back. */
static void deliver_op(void *ctx, long n)
{
    (void)ctx;
    pid_t me = getpid();
    long before = caught;
    for (long i = 0; i < n; i++)
        if (kill(me, SIGUSR1) != 0) B_FAIL();
    if (caught - before != n) {
        errno = EIO;
        B_FAIL();
    }
}

int main(int argc, char **argv)
{
    b_init(argc, argv);
    bench_ns("signal_install", install_op, NULL, 1L << 30);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        b_error("signal_delivery", errno);
    else
        bench_ns("signal_delivery", deliver_op, NULL, 1L << 30);
    return 0;
}
