/* infoleak: what the kernel writes to user memory carries no kernel data.
 * A signal frame is built on an alternate stack pre-filled with 0xAA; in
 * the handler the FXSAVE image's reserved bytes (416..512, never written
 * by the FXSAVE instruction, so they would carry stale kernel-stack bytes
 * if copied from a kernel buffer) must be zero or still 0xAA (Linux leaves
 * them as they were, or puts its fpx_sw_bytes with FP_XSTATE_MAGIC1 at
 * 464). No word of the siginfo, the ucontext or the FP state may look like
 * a kernel address. Then a few structs the kernel fills (stat, uname,
 * sysinfo, rusage, timespec) are checked for kernel-looking words too. */
#define T_NAME "infoleak"
#include "t.h"

#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <ucontext.h>

#define FP_XSTATE_MAGIC1 0x46505853u

static unsigned char fp_copy[512], info_copy[sizeof(siginfo_t)], uc_copy[sizeof(ucontext_t)];
static volatile int handled, had_fp;

static void handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    ucontext_t *uc = ctx;
    memcpy(info_copy, si, sizeof info_copy);
    memcpy(uc_copy, uc, sizeof uc_copy);
    if (uc->uc_mcontext.fpregs) {
        memcpy(fp_copy, uc->uc_mcontext.fpregs, sizeof fp_copy);
        had_fp = 1;
    }
    handled = 1;
}

/* The kernel half of x86_64: direct map, vmalloc, stacks (below the
 * 0xffffffff00000000 line, which small negative numbers exceed), and the
 * kernel image at 0xffffffff80000000. */
static int looks_kernel(uint64_t v)
{
    if (v >= 0xffff800000000000ull && v < 0xffffffff00000000ull) return 1;
    return v >= 0xffffffff80000000ull && v < 0xffffffffc0000000ull;
}

static void no_kernel_words(const char *what, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, b + i, 8);
        if (looks_kernel(v)) {
            printf("infoleak: %s: word at offset %zu is %#llx\n", what, i, (unsigned long long)v);
            CHECK(!looks_kernel(v));
        }
    }
}

int main(void)
{
    static unsigned char alt[65536];
    memset(alt, 0xaa, sizeof alt);
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);

    /* Deep kernel paths first, so the kernel stack holds old frames. */
    for (int round = 0; round < 3; round++) {
        struct stat st;
        CHECK(stat("/", &st) == 0);
        CHECK(raise(SIGUSR1) == 0);
        CHECK(handled);
        handled = 0;
        CHECK(had_fp);
        for (int i = 416; i < 464; i++) {
            if (fp_copy[i] != 0 && fp_copy[i] != 0xaa) {
                printf("infoleak: fpstate byte %d is %#x\n", i, fp_copy[i]);
                CHECK(fp_copy[i] == 0 || fp_copy[i] == 0xaa);
            }
        }
        uint32_t magic;
        memcpy(&magic, fp_copy + 464, 4);
        if (magic != FP_XSTATE_MAGIC1) {
            for (int i = 464; i < 512; i++) {
                if (fp_copy[i] != 0 && fp_copy[i] != 0xaa) {
                    printf("infoleak: fpstate sw_reserved byte %d is %#x\n", i, fp_copy[i]);
                    CHECK(fp_copy[i] == 0 || fp_copy[i] == 0xaa);
                }
            }
        }
        no_kernel_words("fpstate", fp_copy, sizeof fp_copy);
        no_kernel_words("siginfo", info_copy, sizeof info_copy);
        no_kernel_words("ucontext", uc_copy, sizeof uc_copy);
    }

    /* Structs filled by the kernel, over a buffer of 0xAA. */
    union {
        struct stat st;
        struct utsname u;
        struct sysinfo si;
        struct rusage ru;
        struct timespec ts;
        unsigned char raw[1024];
    } buf;
    memset(&buf, 0xaa, sizeof buf);
    CHECK(stat("/", &buf.st) == 0);
    no_kernel_words("stat", &buf.st, sizeof buf.st);
    memset(&buf, 0xaa, sizeof buf);
    CHECK(uname(&buf.u) == 0);
    no_kernel_words("utsname", &buf.u, sizeof buf.u);
    memset(&buf, 0xaa, sizeof buf);
    CHECK(sysinfo(&buf.si) == 0);
    no_kernel_words("sysinfo", &buf.si, sizeof buf.si);
    memset(&buf, 0xaa, sizeof buf);
    CHECK(getrusage(RUSAGE_SELF, &buf.ru) == 0);
    no_kernel_words("rusage", &buf.ru, sizeof buf.ru);
    memset(&buf, 0xaa, sizeof buf);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &buf.ts) == 0);
    no_kernel_words("timespec", &buf.ts, sizeof buf.ts);

    printf("infoleak: done\n");
    return 0;
}
