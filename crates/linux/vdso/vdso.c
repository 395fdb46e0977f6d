/*
 * Ferrite's vDSO: clock_gettime, gettimeofday, time and getcpu without a
 * system call where the answer is in the vvar page, which the kernel maps
 * read-only in the page just below this image (crates/linux/src/vdso.rs
 * writes it; its layout is `struct vvar` here and `VVAR_*` there).
 *
 * Built by crates/linux/build.rs with vdso.lds: one read+execute segment,
 * no relocations (everything is PC-relative), symbols versioned LINUX_2.6
 * as Linux's, so musl and glibc find them the way they do on Linux.
 */
#include <stdint.h>

struct vvar {
    uint64_t version;        /* VVAR_VERSION, or 0: always use the syscall */
    uint64_t tsc_boot;       /* TSC at the kernel's time zero */
    uint64_t ns_mult;        /* ns = (tsc - tsc_boot) * ns_mult >> 32 */
    volatile int64_t realtime_base_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
};

#define VVAR_VERSION 1

struct timespec_k { int64_t tv_sec; int64_t tv_nsec; };
struct timeval_k { int64_t tv_sec; int64_t tv_usec; };

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static inline const struct vvar *vvar(void)
{
    return (const struct vvar *)(__ehdr_start - 4096);
}

static inline long sys2(long n, long a, long b)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return ret;
}

static inline long sys3(long n, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

static inline uint64_t mono_ns(const struct vvar *v)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    uint64_t tsc = ((uint64_t)hi << 32) | lo;
    uint64_t d = tsc > v->tsc_boot ? tsc - v->tsc_boot : 0;
    return (uint64_t)(((unsigned __int128)d * v->ns_mult) >> 32);
}

/* The clocks the kernel's clock_gettime computes from the same numbers
 * (crates/linux/src/syscall/time.rs): 0 REALTIME, 5 REALTIME_COARSE,
 * 1 MONOTONIC, 4 MONOTONIC_RAW, 6 MONOTONIC_COARSE, 7 BOOTTIME. */
static int fast_ns(int clk, uint64_t *ns)
{
    const struct vvar *v = vvar();
    if (v->version != VVAR_VERSION) return 0;
    switch (clk) {
    case 0:
    case 5:
        *ns = mono_ns(v) + (uint64_t)v->realtime_base_ns;
        return 1;
    case 1:
    case 4:
    case 6:
    case 7:
        *ns = mono_ns(v);
        return 1;
    default:
        return 0;
    }
}

__attribute__((visibility("default"))) int __vdso_clock_gettime(int clk, struct timespec_k *ts)
{
    uint64_t ns;
    if (!fast_ns(clk, &ns)) return (int)sys2(228, clk, (long)ts);
    ts->tv_sec = (int64_t)(ns / 1000000000u);
    ts->tv_nsec = (int64_t)(ns % 1000000000u);
    return 0;
}

__attribute__((visibility("default"))) int __vdso_gettimeofday(struct timeval_k *tv, void *tz)
{
    uint64_t ns;
    if (tz || !fast_ns(0, &ns)) return (int)sys2(96, (long)tv, (long)tz);
    if (tv) {
        tv->tv_sec = (int64_t)(ns / 1000000000u);
        tv->tv_usec = (int64_t)(ns % 1000000000u / 1000u);
    }
    return 0;
}

__attribute__((visibility("default"))) int64_t __vdso_time(int64_t *t)
{
    uint64_t ns;
    if (!fast_ns(0, &ns)) return sys2(201, (long)t, 0);
    int64_t s = (int64_t)(ns / 1000000000u);
    if (t) *t = s;
    return s;
}

__attribute__((visibility("default"))) long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
    return sys3(309, (long)cpu, (long)node, (long)cache);
}

/* The unprefixed names Linux's vDSO exports as well. */
int clock_gettime(int, struct timespec_k *) __attribute__((weak, alias("__vdso_clock_gettime"), visibility("default")));
int gettimeofday(struct timeval_k *, void *) __attribute__((weak, alias("__vdso_gettimeofday"), visibility("default")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time"), visibility("default")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu"), visibility("default")));
