/* pipe: latency, bandwidth and context switch between two processes
 * (LMbench lat_pipe, bw_pipe, lat_ctx). */
#include "bench.h"
#include <sched.h>
#include <stdint.h>
#include <sys/wait.h>

#define CHUNK (64 * 1024)

struct pair {
    int to_child[2];
    int to_parent[2];
    pid_t child;
};

/* Child: echo every byte back until EOF. */
static void echo_child(struct pair *p)
{
    char c;
    while (read(p->to_child[0], &c, 1) == 1)
        if (write(p->to_parent[1], &c, 1) != 1) break;
    _exit(0);
}

/* Child: read a u64 byte count, then that many bytes, then ack one byte. */
static void sink_child(struct pair *p)
{
    static char buf[CHUNK];
    uint64_t want;
    for (;;) {
        size_t got = 0;
        while (got < sizeof want) {
            ssize_t r = read(p->to_child[0], (char *)&want + got, sizeof want - got);
            if (r <= 0) _exit(0);
            got += (size_t)r;
        }
        while (want > 0) {
            ssize_t r = read(p->to_child[0], buf, want < CHUNK ? want : CHUNK);
            if (r <= 0) _exit(1);
            want -= (uint64_t)r;
        }
        if (write(p->to_parent[1], "k", 1) != 1) _exit(1);
    }
}

static int start(struct pair *p, void (*child)(struct pair *), int pin)
{
    if (pipe(p->to_child) || pipe(p->to_parent)) return -1;
    if (pin) {
        /* Both processes on CPU 0: every round trip is two switches. */
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(0, &set);
        sched_setaffinity(0, sizeof set, &set);
    }
    p->child = fork();
    if (p->child < 0) return -1;
    if (p->child == 0) {
        close(p->to_child[1]);
        close(p->to_parent[0]);
        child(p);
    }
    close(p->to_child[0]);
    close(p->to_parent[1]);
    return 0;
}

static void stop(struct pair *p)
{
    close(p->to_child[1]);
    close(p->to_parent[0]);
    waitpid(p->child, NULL, 0);
}

static void round_trip_op(void *ctx, long n)
{
    struct pair *p = ctx;
    char c = 'x';
    for (long i = 0; i < n; i++) {
        if (write(p->to_child[1], &c, 1) != 1) B_FAIL();
        if (read(p->to_parent[0], &c, 1) != 1) B_FAIL();
    }
}

/* n round trips = 2n switches: report per switch. */
static void ctx_op(void *ctx, long n)
{
    round_trip_op(ctx, (n + 1) / 2);
}

static void bw_op(void *ctx, long n)
{
    static char buf[CHUNK];
    struct pair *p = ctx;
    uint64_t total = (uint64_t)n * CHUNK;
    if (write(p->to_child[1], &total, sizeof total) != sizeof total) B_FAIL();
    for (long i = 0; i < n; i++) {
        size_t done = 0;
        while (done < CHUNK) {
            ssize_t w = write(p->to_child[1], buf + done, CHUNK - done);
            if (w <= 0) B_FAIL();
            done += (size_t)w;
        }
    }
    char c;
    if (read(p->to_parent[0], &c, 1) != 1) B_FAIL();
}

int main(int argc, char **argv)
{
    b_init(argc, argv);
    struct pair p;

    if (start(&p, echo_child, 0))
        b_error("pipe_latency", errno);
    else {
        bench_ns("pipe_latency", round_trip_op, &p, 1L << 30);
        stop(&p);
    }

    if (start(&p, sink_child, 0))
        b_error("pipe_bandwidth", errno);
    else {
        bench_mbs("pipe_bandwidth", bw_op, &p, 1L << 20, CHUNK);
        stop(&p);
    }

    if (start(&p, echo_child, 1))
        b_error("context_switch", errno);
    else {
        bench_ns("context_switch", ctx_op, &p, 1L << 30);
        stop(&p);
    }
    return 0;
}
