/* unix: AF_UNIX stream sockets between two processes: latency and
 * bandwidth (LMbench lat_unix, bw_unix), the socket twins of pipe.c. */
#include "bench.h"
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define CHUNK (64 * 1024)

struct pair {
    int sv[2]; /* sv[0]: ours, sv[1]: the child's */
    pid_t child;
};

/* Child: echo every byte back until EOF. */
static void echo_child(int s)
{
    char c;
    while (read(s, &c, 1) == 1)
        if (write(s, &c, 1) != 1) break;
    _exit(0);
}

/* Child: read a u64 byte count, then that many bytes, then ack one byte. */
static void sink_child(int s)
{
    static char buf[CHUNK];
    uint64_t want;
    for (;;) {
        size_t got = 0;
        while (got < sizeof want) {
            ssize_t r = read(s, (char *)&want + got, sizeof want - got);
            if (r <= 0) _exit(0);
            got += (size_t)r;
        }
        while (want > 0) {
            ssize_t r = read(s, buf, want < CHUNK ? want : CHUNK);
            if (r <= 0) _exit(1);
            want -= (uint64_t)r;
        }
        if (write(s, "k", 1) != 1) _exit(1);
    }
}

static int start(struct pair *p, void (*child)(int))
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, p->sv)) return -1;
    p->child = fork();
    if (p->child < 0) return -1;
    if (p->child == 0) {
        close(p->sv[0]);
        child(p->sv[1]);
    }
    close(p->sv[1]);
    return 0;
}

static void stop(struct pair *p)
{
    close(p->sv[0]);
    waitpid(p->child, NULL, 0);
}

static void round_trip_op(void *ctx, long n)
{
    struct pair *p = ctx;
    char c = 'x';
    for (long i = 0; i < n; i++) {
        if (write(p->sv[0], &c, 1) != 1) B_FAIL();
        if (read(p->sv[0], &c, 1) != 1) B_FAIL();
    }
}

static void bw_op(void *ctx, long n)
{
    static char buf[CHUNK];
    struct pair *p = ctx;
    uint64_t total = (uint64_t)n * CHUNK;
    if (write(p->sv[0], &total, sizeof total) != sizeof total) B_FAIL();
    for (long i = 0; i < n; i++) {
        size_t done = 0;
        while (done < CHUNK) {
            ssize_t w = write(p->sv[0], buf + done, CHUNK - done);
            if (w <= 0) B_FAIL();
            done += (size_t)w;
        }
    }
    char c;
    if (read(p->sv[0], &c, 1) != 1) B_FAIL();
}

int main(int argc, char **argv)
{
    b_init(argc, argv);
    struct pair p;

    if (start(&p, echo_child))
        b_error("af_unix_latency", errno);
    else {
        bench_ns("af_unix_latency", round_trip_op, &p, 1L << 30);
        stop(&p);
    }

    if (start(&p, sink_child))
        b_error("af_unix_bandwidth", errno);
    else {
        bench_mbs("af_unix_bandwidth", bw_op, &p, 1L << 20, CHUNK);
        stop(&p);
    }
    return 0;
}
