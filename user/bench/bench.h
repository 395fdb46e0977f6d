/*
 * bench.h: the harness shared by Ferrite's benchmark programs (user/bench).
 *
 * Each benchmark is a function `op(ctx, n)` that performs n operations.
 * measure() calibrates n so one repetition lasts about `target` ms of wall
 * time (CLOCK_MONOTONIC), runs REPS repetitions and prints the median and,
 * after `best`, the fastest repetition:
 *
 *     bench: <name> <value> ns best <value>     (time per operation)
 *     bench: <name> <value> MB/s best <value>   (bytes per operation / time)
 *     bench: <name> error <errno>               (setup or an operation failed)
 *
 * `--quick` (argv[1], passed through by /bench/run) shortens every
 * repetition and runs fewer of them: CI checks that every row runs, never
 * what it measures.
 */
#ifndef FERRITE_BENCH_H
#define FERRITE_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int b_quick;
/* Set by an op that failed: the errno to report. */
static int b_err;

static inline void b_init(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--quick") == 0) b_quick = 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline double b_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline void b_error(const char *name, int err)
{
    printf("bench: %s error %d\n", name, err ? err : EIO);
    fflush(stdout);
}

static inline int b_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef void (*b_op)(void *ctx, long n);

/* Nanoseconds per operation, median of the repetitions (the fastest in
 * *best); < 0 on error. */
static inline double b_run(b_op op, void *ctx, long max_n, double *best)
{
    double target = b_quick ? 40e6 : 300e6;
    int reps = b_quick ? 3 : 5;
    long n = 1;
    double t;
    /* Calibrate: double n until one call takes a tenth of the target. */
    for (;;) {
        b_err = 0;
        double t0 = b_now_ns();
        op(ctx, n);
        t = b_now_ns() - t0;
        if (b_err) return -1;
        if (t >= target / 10 || n >= max_n) break;
        n *= 2;
    }
    if (t < target && n < max_n) {
        double want = (double)n * target / (t > 1 ? t : 1);
        n = want > (double)max_n ? max_n : (long)want;
        if (n < 1) n = 1;
    }
    double per[9];
    for (int r = 0; r < reps; r++) {
        b_err = 0;
        double t0 = b_now_ns();
        op(ctx, n);
        t = b_now_ns() - t0;
        if (b_err) return -1;
        per[r] = t / (double)n;
    }
    qsort(per, reps, sizeof per[0], b_cmp);
    *best = per[0];
    return per[reps / 2];
}

/* Runs op and prints its time per operation. */
static inline void bench_ns(const char *name, b_op op, void *ctx, long max_n)
{
    double best;
    double ns = b_run(op, ctx, max_n, &best);
    if (ns < 0)
        b_error(name, b_err);
    else
        printf("bench: %s %.1f ns best %.1f\n", name, ns, best);
    fflush(stdout);
}

/* Runs op (each operation moves `bytes` bytes) and prints MB/s (10^6). */
static inline void bench_mbs(const char *name, b_op op, void *ctx, long max_n, double bytes)
{
    double best;
    double ns = b_run(op, ctx, max_n, &best);
    if (ns < 0)
        b_error(name, b_err);
    else
        printf("bench: %s %.1f MB/s best %.1f\n", name, bytes / ns * 1e3, bytes / best * 1e3);
    fflush(stdout);
}

#define B_FAIL()                      \
    do {                              \
        b_err = errno ? errno : EIO;  \
        return;                       \
    } while (0)

#endif
