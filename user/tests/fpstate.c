/* fpstate: x87 and SSE state survive system calls, thread switches inside
 * them, fork, and signal delivery + sigreturn (the signal frame's fpstate
 * holds the interrupted values; the handler's changes are undone). */
#define T_NAME "fpstate"
#include "t.h"
#include <stdint.h>
#include <sys/syscall.h>
#include <ucontext.h>

static uint16_t get_fcw(void)
{
    uint16_t v;
    __asm__ volatile("fnstcw %0" : "=m"(v));
    return v;
}
static void set_fcw(uint16_t v) { __asm__ volatile("fldcw %0" ::"m"(v)); }
static uint32_t get_mxcsr(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}
static void set_mxcsr(uint32_t v) { __asm__ volatile("ldmxcsr %0" ::"m"(v)); }

/* Loads xmm0-15 from in[], makes system call nr (no arguments), stores
 * xmm0-15 into out[]; an x87 value pushed before the call is popped after. */
static long xmm_syscall(long nr, const uint64_t in[32], uint64_t out[32], double *st0)
{
    long ret;
    __asm__ volatile(
        "fld1\n fldpi\n"
        "movdqu 0(%[i]), %%xmm0\n movdqu 16(%[i]), %%xmm1\n movdqu 32(%[i]), %%xmm2\n"
        "movdqu 48(%[i]), %%xmm3\n movdqu 64(%[i]), %%xmm4\n movdqu 80(%[i]), %%xmm5\n"
        "movdqu 96(%[i]), %%xmm6\n movdqu 112(%[i]), %%xmm7\n movdqu 128(%[i]), %%xmm8\n"
        "movdqu 144(%[i]), %%xmm9\n movdqu 160(%[i]), %%xmm10\n movdqu 176(%[i]), %%xmm11\n"
        "movdqu 192(%[i]), %%xmm12\n movdqu 208(%[i]), %%xmm13\n movdqu 224(%[i]), %%xmm14\n"
        "movdqu 240(%[i]), %%xmm15\n"
        "syscall\n"
        "movdqu %%xmm0, 0(%[o])\n movdqu %%xmm1, 16(%[o])\n movdqu %%xmm2, 32(%[o])\n"
        "movdqu %%xmm3, 48(%[o])\n movdqu %%xmm4, 64(%[o])\n movdqu %%xmm5, 80(%[o])\n"
        "movdqu %%xmm6, 96(%[o])\n movdqu %%xmm7, 112(%[o])\n movdqu %%xmm8, 128(%[o])\n"
        "movdqu %%xmm9, 144(%[o])\n movdqu %%xmm10, 160(%[o])\n movdqu %%xmm11, 176(%[o])\n"
        "movdqu %%xmm12, 192(%[o])\n movdqu %%xmm13, 208(%[o])\n movdqu %%xmm14, 224(%[o])\n"
        "movdqu %%xmm15, 240(%[o])\n"
        "fstpl (%[s])\n fstp %%st(0)\n"
        : "=a"(ret)
        : "a"(nr), [i] "r"(in), [o] "r"(out), [s] "r"(st0)
        : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st", "st(1)");
    return ret;
}

static double pi_x87(void)
{
    double v;
    __asm__ volatile("fldpi\n fstpl %0" : "=m"(v));
    return v;
}

/* One round: the registers come back unchanged from system call nr. */
static int round_ok(long nr, uint64_t seed)
{
    uint64_t in[32], out[32];
    for (int i = 0; i < 32; i++) in[i] = seed * 0x9e3779b97f4a7c15ull + (uint64_t)i;
    double st0 = 0;
    xmm_syscall(nr, in, out, &st0);
    return memcmp(in, out, sizeof in) == 0 && st0 == pi_x87();
}

static volatile uint16_t seen_fcw;
static volatile uint32_t seen_mxcsr;
static volatile uint64_t seen_xmm0;

static void handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ctx;
    seen_fcw = uc->uc_mcontext.fpregs->cwd;
    seen_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
    memcpy((void *)&seen_xmm0, &uc->uc_mcontext.fpregs->_xmm[0], 8);
    /* Undone by sigreturn. */
    set_fcw(0x37f);
    set_mxcsr(0x1f80);
}

int main(void)
{
    const uint16_t fcw = 0x27f;     /* double precision, exceptions masked */
    const uint32_t mxcsr = 0x9fc0;  /* FTZ | DAZ, exceptions masked */
    set_fcw(fcw);
    set_mxcsr(mxcsr);

    for (int i = 0; i < 100; i++) CHECK(round_ok(SYS_getppid, (uint64_t)i));
    CHECK(get_fcw() == fcw);
    CHECK(get_mxcsr() == mxcsr);
    SAY("xmm0-15, st0, FCW and MXCSR survive getppid");

    /* Several processes with different control words switch inside
     * sched_yield (more of them than CPUs). */
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        fflush(stdout);
        kids[k] = fork();
        CHECK(kids[k] >= 0);
        if (kids[k] == 0) {
            if (get_fcw() != fcw || get_mxcsr() != mxcsr) _exit(2);
            uint16_t my_fcw = (uint16_t)(0x7f | ((k & 3) << 8) | ((k & 1) << 10));
            uint32_t my_mxcsr = 0x1f80 | ((uint32_t)k << 13);
            set_fcw(my_fcw);
            set_mxcsr(my_mxcsr);
            for (int i = 0; i < 300; i++) {
                if (!round_ok(SYS_sched_yield, (uint64_t)(k * 1000 + i))) _exit(3);
                if (get_fcw() != my_fcw || get_mxcsr() != my_mxcsr) _exit(4);
            }
            _exit(0);
        }
    }
    for (int i = 0; i < 300; i++) CHECK(round_ok(SYS_sched_yield, (uint64_t)i));
    for (int k = 0; k < 4; k++) {
        int st;
        CHECK(waitpid(kids[k], &st, 0) == kids[k]);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    CHECK(get_fcw() == fcw);
    CHECK(get_mxcsr() == mxcsr);
    SAY("fork inherits FCW/MXCSR; state survives switches in sched_yield");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    /* kill(getpid(), SIGUSR1) with xmm0 loaded: delivered on the way out
     * of the system call. */
    uint64_t pattern = 0x0123456789abcdefull;
    long r;
    pid_t me = getpid();
    __asm__ volatile("movq %[p], %%xmm0\n syscall"
                     : "=a"(r)
                     : "a"((long)SYS_kill), "D"((long)me), "S"((long)SIGUSR1), [p] "r"(pattern)
                     : "rcx", "r11", "memory", "xmm0");
    CHECK(r == 0);
    CHECK(seen_fcw == fcw);
    CHECK(seen_mxcsr == mxcsr);
    CHECK(seen_xmm0 == pattern);
    CHECK(get_fcw() == fcw);
    CHECK(get_mxcsr() == mxcsr);
    SAY("signal frame holds FCW %#x MXCSR %#x xmm0; sigreturn restores them", seen_fcw, seen_mxcsr);
    SAY("ok");
    return 0;
}
