/*
 * fuzz: Ferrite's system-call fuzzer (issue 6). Static musl program, our own.
 *
 *   /sbin/fuzz [--seconds N] [--seed S] [--workers W] [--trace]
 *   (booted as rdinit=/sbin/fuzz -- --seconds N --seed S --workers W)
 *
 * Supervisor: measures free memory (sysinfo), forks W workers, each with a
 * report pipe, restarts killed workers, stops after N seconds, kills and
 * reaps everything, removes what the workers left behind (all of /tmp, SysV
 * IPC objects), measures free memory again and prints machine-readable
 * `fuzz: <key> <value>` lines, then `fuzz: done`. As pid 1 it powers off.
 *
 * Worker i: seed = S + i (restart g of slot i: S + i + g*W). Joins its own
 * process group, gives /tmp/fuzz<i> to uid 1000, tries setuid(1000), makes
 * its own fds (files, dirs, a symlink loop in /tmp/fuzz<i>, pipes,
 * /dev/null) as that user and memory (a buffer it
 * owns, read-write / read-only / unmapped victim ranges), then issues
 * random system calls 0..460 whose arguments come from typed generators.
 * Calls that would end the run uncontrollably are skipped or tamed (see
 * sanitize()). A 20 ms ITIMER_REAL breaks blocking calls with EINTR. Every
 * 1000 calls (or ~0.3 s) it writes a cumulative record to its pipe.
 *
 * Raw syscalls only in the fuzz loop (no errno, no libc state touched).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/reboot.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <dirent.h>
#include <unistd.h>

#define MAX_NR 461      /* random numbers are 0..460 */
#define MAX_WORKERS 64
#define NERR 134
#define CONSOLE_FD 980  /* the worker's log fd; never handed to a call */
#define REPORT_FD 981   /* the worker's report pipe; never handed to a call */
#define PAGE 4096UL
#define BUF_SIZE (64 * 1024)
#define MAGIC 0xf022f022u

struct rec {
    uint32_t magic, slot;
    uint64_t calls;
    uint64_t issued[8];  /* bitmap of numbers issued */
    uint64_t impl[8];    /* bitmap of numbers that once returned != -ENOSYS */
    uint32_t err[NERR];  /* errno histogram */
};

/* ---- raw system calls --------------------------------------------------- */

static inline long sc6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define sc0(n) sc6(n, 0, 0, 0, 0, 0, 0)
#define sc1(n, a) sc6(n, (long)(a), 0, 0, 0, 0, 0)
#define sc2(n, a, b) sc6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sc3(n, a, b, c) sc6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* Clone-family calls that share memory: the child exits at once, without
 * touching the stack it may share with the parent. */
long clone_stub(long nr, long a, long b, long c, long d, long e, long f);
__asm__(".text\n.globl clone_stub\nclone_stub:\n"
        "  mov %rdi, %rax\n  mov %rsi, %rdi\n  mov %rdx, %rsi\n  mov %rcx, %rdx\n"
        "  mov %r8, %r10\n  mov %r9, %r8\n  mov 8(%rsp), %r9\n"
        "  syscall\n  test %rax, %rax\n  jnz 1f\n"
        "  mov $60, %eax\n  xor %edi, %edi\n  syscall\n  ud2\n"
        "1: ret\n");
/* Signal return trampoline for handlers installed with raw rt_sigaction. */
void fuzz_restorer(void);
__asm__(".text\n.globl fuzz_restorer\nfuzz_restorer:\n  mov $15, %eax\n  syscall\n  ud2\n");

/* ---- output --------------------------------------------------------------- */

static int out_fd = 1;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof line - 1)
        n = sizeof line - 1;
    sc3(SYS_write, out_fd, line, n);
}

/* ---- random numbers ------------------------------------------------------- */

static uint64_t rng;
static uint64_t rnd(void)
{
    uint64_t x = rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng = x;
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }
static int chance(int pct) { return (int)below(100) < pct; }
static void seed_rng(uint64_t s)
{
    rng = s * 0x9e3779b97f4a7c15ULL + 0x2545f4914f6cdd1dULL;
    if (!rng)
        rng = 1;
    for (int i = 0; i < 8; i++)
        rnd();
}

/* ---- worker state --------------------------------------------------------- */

static int slot;
static unsigned long cur_seed;
static int trace;
static int child_mode;          /* a forked child of a worker: no reports */
static struct rec R;
static char *buf;               /* our own buffer: args are built here */
static char *victim_rw, *victim_ro, *victim_hole;
static size_t victim_len = 16 * PAGE;
static int fds[96];
static int nfds;
static int sib_pids[MAX_WORKERS];
static int nsib;
static int my_pid, super_pid;
static int children;            /* live forked children */
static int fork_budget;
static char dir[64];
static volatile unsigned long sig_count;
static long last_nr = -1;

struct range { uintptr_t lo, hi; };
static struct range crit[8];
static int ncrit;

static void add_crit(uintptr_t lo, uintptr_t hi)
{
    if (ncrit < 8) {
        crit[ncrit].lo = lo & ~(PAGE - 1);
        crit[ncrit].hi = (hi + PAGE - 1) & ~(PAGE - 1);
        ncrit++;
    }
}

/* Does [addr, addr+len) touch a range the worker needs to keep running? */
static int hits_crit(uintptr_t addr, uint64_t len)
{
    uintptr_t end = addr + len;
    if (len == 0 || end < addr)
        end = UINTPTR_MAX;
    for (int i = 0; i < ncrit; i++)
        if (addr < crit[i].hi && end > crit[i].lo)
            return 1;
    return 0;
}

static void handler(int sig, siginfo_t *si, void *uc)
{
    sig_count++;
    if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) {
        /* Returning would fault again. Say where, for the kernel's sake
         * (a fault with no wild call behind it is a kernel bug). */
        ucontext_t *u = uc;
        /* si_code <= 0: sent by kill/tkill/sigqueue (the fuzzer did it);
         * > 0: raised by the CPU/kernel for an instruction of ours. */
        say("fuzz: worker %d pid %d seed %lu: signal %d (%s) at rip %#llx addr %p (after %lu calls, last nr %ld)\n",
            slot, my_pid, cur_seed, sig, si->si_code <= 0 ? "sent" : "fault",
            (unsigned long long)u->uc_mcontext.gregs[REG_RIP], si->si_addr, (unsigned long)R.calls, last_nr);
        sc2(SYS_kill, sc0(SYS_getpid), SIGKILL);
    }
}

struct ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

static int no_alarm; /* --no-alarm: no ITIMER_REAL (to bisect signal bugs) */

static void arm_alarm(void)
{
    if (no_alarm)
        return;
    struct ksigaction sa = {(void *)handler, SA_SIGINFO | 0x04000000 /* SA_RESTORER */,
                            (void *)fuzz_restorer, 0};
    sc6(SYS_rt_sigaction, SIGALRM, (long)&sa, 0, 8, 0, 0);
    uint64_t unblock = 1ULL << (SIGALRM - 1);
    sc6(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&unblock, 0, 8, 0, 0);
    struct itimerval it = {{0, 20000}, {0, 20000}};
    sc3(SYS_setitimer, ITIMER_REAL, &it, 0);
}

/* ---- argument generators -------------------------------------------------- */

enum {
    A_ANY, A_INT, A_FD, A_PTR, A_BUF, A_LEN, A_FLAGS, A_PATH, A_PID, A_SIG,
    A_MODE, A_ADDR, A_UID, A_TIME, A_IOV, A_SIGSET, A_ZERO, A_SMALL,
};

static const uint64_t interesting[] = {
    0, 1, 2, 3, 4, 7, 8, 16, 31, 32, 63, 64, 127, 128, 255, 256, 511, 512,
    1023, 1024, 4095, 4096, 4097, 65535, 65536, 0x7fff, 0x8000, 0x7fffffff,
    0x80000000, 0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
    0x8000000000000000ULL, 0xffffffffffffffffULL, 0xfffffffffffff000ULL,
    (uint64_t)-2, (uint64_t)-4095, (uint64_t)-4096, 1ULL << 40,
};
#define NINTERESTING (sizeof interesting / sizeof interesting[0])

static uint64_t gen_int(void)
{
    switch (below(4)) {
    case 0: return interesting[below(NINTERESTING)];
    case 1: return below(64);
    case 2: return rnd();
    default: return rnd() & 0xffffffff;
    }
}

static uint64_t gen_fd(void)
{
    if (nfds && chance(80))
        return (uint64_t)fds[below(nfds)];
    static const int64_t bad[] = {-1, 1000, 0x7fffffff, -100 /* AT_FDCWD */, 0, 1, 2, 4095, -2};
    if (chance(70))
        return (uint64_t)bad[below(sizeof bad / sizeof bad[0])];
    return gen_int();
}

static uint64_t gen_ptr(void)
{
    switch (below(16)) {
    case 0: return 0;
    case 1: return 0xffff800000000000ULL;
    case 2: return 0xffffffff80000000ULL + below(0x200000);
    case 3: return (uint64_t)victim_ro + below(victim_len);
    case 4: return (uint64_t)victim_hole + below(victim_len);
    case 5: return (uint64_t)buf + 1 + below(7); /* misaligned */
    case 6: return (uint64_t)buf + BUF_SIZE - 1 - below(16); /* just below the end */
    case 7: return 0x0000800000000000ULL - below(64); /* end of user space */
    case 8: return (uint64_t)victim_rw + below(victim_len);
    case 9: return gen_int();
    case 10: return 0x1000 + below(0x1000);
    default: return (uint64_t)buf + (below(BUF_SIZE / 2) & ~7ULL);
    }
}

/* A pointer into buf with random bytes (or a bad pointer). */
static uint64_t gen_buf(void)
{
    if (chance(25))
        return gen_ptr();
    uint64_t off = below(BUF_SIZE / 2) & ~7ULL;
    uint64_t *p = (uint64_t *)(buf + off);
    size_t n = 1 + below(64);
    for (size_t i = 0; i < n && off + 8 * (i + 1) <= BUF_SIZE; i++)
        p[i] = chance(50) ? gen_int() : rnd();
    return (uint64_t)p;
}

static uint64_t gen_len(void)
{
    static const int64_t lens[] = {0, 1, 2, 8, 16, 64, 4096, 4095, 8192, 65536,
                                   0x7fffffff, 0xffffffff, -1, -4096, 1LL << 40, 100};
    if (chance(70))
        return (uint64_t)lens[below(sizeof lens / sizeof lens[0])];
    return below(2 * PAGE);
}

static uint64_t gen_flags(void)
{
    switch (below(4)) {
    case 0: return 0;
    case 1: return 1ULL << below(32);
    case 2: return (1ULL << below(32)) | (1ULL << below(32)) | (1ULL << below(32));
    default: return rnd() & 0xffffffff;
    }
}

static char *path_slot(void)
{
    /* Paths live in the upper half of buf. */
    return buf + BUF_SIZE / 2 + (below(4) * 8192);
}

static uint64_t gen_path(void)
{
    if (chance(8))
        return gen_ptr();
    char *p = path_slot();
    static const char *names[] = {"f0", "f1", "f2", "d0", "d0/f", "loop1", "loop1/x",
                                  "nope/xyz", "sym", "new", "d1", "p0", "x"};
    switch (below(10)) {
    case 0: {
        static const char *fixed[] = {"/", "/tmp", ".", "..", "", "/dev/null", "/etc/ferrite-test.txt",
                                      "/proc/self/maps", "/nonexistent", "/tmp/", "//tmp//./"};
        strcpy(p, fixed[below(sizeof fixed / sizeof fixed[0])]);
        break;
    }
    case 1: { /* long: 4096+ bytes */
        size_t n = 4000 + below(300);
        for (size_t i = 0; i < n; i++)
            p[i] = (i % 2) ? '/' : 'a';
        p[n] = 0;
        break;
    }
    case 2: { /* many .. */
        size_t n = 0, count = 1 + below(1200);
        for (size_t i = 0; i < count && n < 8000; i++) {
            memcpy(p + n, "../", 3);
            n += 3;
        }
        strcpy(p + n, "tmp");
        break;
    }
    case 3: { /* one component of 255+ bytes */
        size_t n = 250 + below(20);
        memcpy(p, dir, strlen(dir));
        size_t k = strlen(dir);
        p[k++] = '/';
        for (size_t i = 0; i < n; i++)
            p[k + i] = 'b';
        p[k + n] = 0;
        break;
    }
    case 4: /* relative to cwd (= our dir) */
        strcpy(p, names[below(sizeof names / sizeof names[0])]);
        break;
    case 5: { /* unterminated: the string runs to the end of buf */
        char *e = buf + BUF_SIZE - 1 - below(8);
        memset(e, 'z', buf + BUF_SIZE - e);
        return (uint64_t)e;
    }
    default:
        snprintf(p, 256, "%s/%s", dir, names[below(sizeof names / sizeof names[0])]);
        break;
    }
    return (uint64_t)p;
}

static uint64_t gen_pid(void)
{
    switch (below(8)) {
    case 0: return 0;
    case 1: return (uint64_t)-(int64_t)my_pid; /* our own group */
    case 2: if (nsib) return (uint64_t)sib_pids[below(nsib)]; /* fallthrough */
    case 3: return 99999;
    case 4: return 0x7fffffff;
    case 5: return (uint64_t)my_pid + 1 + below(3); /* likely our children */
    default: return (uint64_t)my_pid;
    }
}

static uint64_t gen_sig(void)
{
    if (chance(10))
        return gen_int();
    return below(66);
}

static uint64_t gen_time(void)
{
    if (chance(30))
        return gen_ptr();
    int64_t *t = (int64_t *)(buf + (below(BUF_SIZE / 2) & ~15ULL));
    if (t + 2 > (int64_t *)(buf + BUF_SIZE / 2))
        t = (int64_t *)buf;
    t[0] = chance(80) ? 0 : (int64_t)gen_int();
    t[1] = chance(80) ? (int64_t)below(2000000) : (int64_t)gen_int();
    return (uint64_t)t;
}

static uint64_t gen_iov(void)
{
    if (chance(20))
        return gen_ptr();
    uint64_t *v = (uint64_t *)(buf + 8192 + (below(64) * 64));
    for (int i = 0; i < 4; i++) {
        v[2 * i] = gen_ptr();
        v[2 * i + 1] = chance(70) ? below(512) : gen_len();
    }
    return (uint64_t)v;
}

static uint64_t gen_sigset(void)
{
    if (chance(20))
        return gen_ptr();
    uint64_t *s = (uint64_t *)(buf + 16384 + below(64) * 16);
    s[0] = rnd() & ~(1ULL << (SIGALRM - 1));
    s[1] = rnd();
    return (uint64_t)s;
}

static uint64_t gen_addr(void)
{
    switch (below(6)) {
    case 0: return (uint64_t)victim_rw + below(victim_len / PAGE) * PAGE;
    case 1: return (uint64_t)victim_ro;
    case 2: return (uint64_t)victim_hole;
    case 3: return crit[below(ncrit)].lo; /* sanitize() decides */
    case 4: return (uint64_t)victim_rw + below(victim_len); /* unaligned */
    default: return gen_ptr();
    }
}

static uint64_t gen(int t)
{
    switch (t) {
    case A_INT: return gen_int();
    case A_FD: return gen_fd();
    case A_PTR: return gen_ptr();
    case A_BUF: return gen_buf();
    case A_LEN: return gen_len();
    case A_FLAGS: return gen_flags();
    case A_PATH: return gen_path();
    case A_PID: return gen_pid();
    case A_SIG: return gen_sig();
    case A_MODE: return chance(80) ? (below(2) ? 0644 : 0755) : gen_int();
    case A_ADDR: return gen_addr();
    case A_UID: return chance(70) ? (below(2) ? 1000 : 0) : gen_int();
    case A_TIME: return gen_time();
    case A_IOV: return gen_iov();
    case A_SIGSET: return gen_sigset();
    case A_ZERO: return 0;
    case A_SMALL: return below(16);
    default:
        switch (below(6)) {
        case 0: return gen_fd();
        case 1: return gen_ptr();
        case 2: return gen_buf();
        case 3: return gen_len();
        default: return gen_int();
        }
    }
}

/* Argument types of the calls we know; others get A_ANY. */
struct sig_ { short nr; unsigned char t[6]; };
#define S(nr, ...) {nr, {__VA_ARGS__}}
static const struct sig_ sigs[] = {
    S(0, A_FD, A_BUF, A_LEN), S(1, A_FD, A_BUF, A_LEN), S(2, A_PATH, A_FLAGS, A_MODE),
    S(3, A_FD), S(4, A_PATH, A_BUF), S(5, A_FD, A_BUF), S(6, A_PATH, A_BUF),
    S(7, A_BUF, A_SMALL, A_INT), S(8, A_FD, A_INT, A_SMALL),
    S(9, A_ADDR, A_LEN, A_SMALL, A_FLAGS, A_FD, A_INT), S(10, A_ADDR, A_LEN, A_SMALL),
    S(11, A_ADDR, A_LEN), S(12, A_PTR), S(13, A_SIG, A_BUF, A_BUF, A_SMALL),
    S(14, A_SMALL, A_SIGSET, A_BUF, A_SMALL), S(16, A_FD, A_INT, A_BUF),
    S(17, A_FD, A_BUF, A_LEN, A_INT), S(18, A_FD, A_BUF, A_LEN, A_INT),
    S(19, A_FD, A_IOV, A_SMALL), S(20, A_FD, A_IOV, A_SMALL), S(21, A_PATH, A_SMALL),
    S(22, A_BUF), S(23, A_SMALL, A_BUF, A_BUF, A_BUF, A_TIME), S(24),
    S(25, A_ADDR, A_LEN, A_LEN, A_SMALL, A_ADDR), S(26, A_ADDR, A_LEN, A_SMALL),
    S(27, A_ADDR, A_LEN, A_BUF), S(28, A_ADDR, A_LEN, A_SMALL),
    S(32, A_FD), S(33, A_FD, A_FD), S(34), S(35, A_TIME, A_BUF), S(37, A_SMALL),
    S(38, A_SMALL, A_TIME, A_BUF), S(39), S(40, A_FD, A_FD, A_BUF, A_LEN),
    S(41, A_SMALL, A_SMALL, A_SMALL), S(42, A_FD, A_BUF, A_LEN), S(43, A_FD, A_BUF, A_BUF),
    S(44, A_FD, A_BUF, A_LEN, A_FLAGS, A_BUF, A_LEN), S(45, A_FD, A_BUF, A_LEN, A_FLAGS, A_BUF, A_BUF),
    S(46, A_FD, A_BUF, A_FLAGS), S(47, A_FD, A_BUF, A_FLAGS), S(48, A_FD, A_SMALL),
    S(49, A_FD, A_BUF, A_LEN), S(50, A_FD, A_SMALL), S(53, A_SMALL, A_SMALL, A_SMALL, A_BUF),
    S(56, A_FLAGS, A_ZERO, A_BUF, A_BUF, A_INT), S(57), S(58),
    S(59, A_PATH, A_BUF, A_BUF), S(61, A_PID, A_BUF, A_SMALL, A_BUF), S(62, A_PID, A_SIG),
    S(63, A_BUF), S(72, A_FD, A_SMALL, A_INT), S(73, A_FD, A_SMALL), S(74, A_FD), S(75, A_FD),
    S(76, A_PATH, A_LEN), S(77, A_FD, A_LEN), S(78, A_FD, A_BUF, A_LEN), S(79, A_BUF, A_LEN),
    S(80, A_PATH), S(81, A_FD), S(82, A_PATH, A_PATH), S(83, A_PATH, A_MODE), S(84, A_PATH),
    S(85, A_PATH, A_MODE), S(86, A_PATH, A_PATH), S(87, A_PATH), S(88, A_PATH, A_PATH),
    S(89, A_PATH, A_BUF, A_LEN), S(90, A_PATH, A_MODE), S(91, A_FD, A_MODE),
    S(92, A_PATH, A_UID, A_UID), S(93, A_FD, A_UID, A_UID), S(95, A_MODE),
    S(96, A_BUF, A_BUF), S(97, A_SMALL, A_BUF), S(98, A_SMALL, A_BUF), S(99, A_BUF),
    S(102), S(105, A_UID), S(106, A_UID), S(109, A_PID, A_PID), S(112),
    S(115, A_SMALL, A_BUF), S(116, A_SMALL, A_BUF), S(117, A_UID, A_UID, A_UID),
    S(127, A_BUF, A_SMALL), S(128, A_SIGSET, A_BUF, A_TIME, A_SMALL), S(129, A_PID, A_SIG, A_BUF),
    S(130, A_SIGSET, A_SMALL), S(131, A_BUF, A_BUF), S(132, A_PATH, A_BUF),
    S(133, A_PATH, A_MODE, A_INT), S(137, A_PATH, A_BUF), S(138, A_FD, A_BUF),
    S(140, A_SMALL, A_PID), S(141, A_SMALL, A_PID, A_INT), S(144, A_PID, A_SMALL, A_BUF),
    S(149, A_ADDR, A_LEN), S(150, A_ADDR, A_LEN), S(151, A_SMALL), S(157, A_SMALL, A_INT, A_INT, A_INT, A_INT),
    S(158, A_INT, A_BUF), S(160, A_SMALL, A_BUF), S(161, A_PATH),
    S(186), S(200, A_PID, A_SIG), S(202, A_BUF, A_SMALL, A_INT, A_TIME, A_BUF, A_INT),
    S(203, A_PID, A_LEN, A_BUF), S(204, A_PID, A_LEN, A_BUF), S(213, A_INT),
    S(217, A_FD, A_BUF, A_LEN), S(218, A_BUF), S(228, A_SMALL, A_BUF), S(230, A_SMALL, A_SMALL, A_TIME, A_BUF),
    S(232, A_FD, A_BUF, A_SMALL, A_INT), S(233, A_FD, A_SMALL, A_FD, A_BUF), S(234, A_PID, A_PID, A_SIG),
    S(235, A_PATH, A_BUF), S(247, A_SMALL, A_PID, A_BUF, A_FLAGS, A_BUF), S(253),
    S(257, A_FD, A_PATH, A_FLAGS, A_MODE), S(258, A_FD, A_PATH, A_MODE), S(259, A_FD, A_PATH, A_MODE, A_INT),
    S(260, A_FD, A_PATH, A_UID, A_UID, A_FLAGS), S(262, A_FD, A_PATH, A_BUF, A_FLAGS),
    S(263, A_FD, A_PATH, A_FLAGS), S(264, A_FD, A_PATH, A_FD, A_PATH),
    S(265, A_FD, A_PATH, A_FD, A_PATH, A_FLAGS), S(266, A_PATH, A_FD, A_PATH),
    S(267, A_FD, A_PATH, A_BUF, A_LEN), S(268, A_FD, A_PATH, A_MODE), S(269, A_FD, A_PATH, A_SMALL, A_FLAGS),
    S(270, A_SMALL, A_BUF, A_BUF, A_BUF, A_TIME, A_SIGSET), S(271, A_BUF, A_SMALL, A_TIME, A_SIGSET, A_SMALL),
    S(273, A_BUF, A_LEN), S(275, A_FD, A_BUF, A_FD, A_BUF, A_LEN, A_FLAGS), S(276, A_FD, A_FD, A_LEN, A_FLAGS),
    S(280, A_FD, A_PATH, A_TIME, A_FLAGS), S(281, A_FD, A_BUF, A_SMALL, A_INT, A_SIGSET, A_SMALL),
    S(282, A_FD, A_SIGSET, A_SMALL), S(283, A_SMALL, A_FLAGS), S(284, A_INT), S(285, A_FD, A_SMALL, A_INT, A_LEN),
    S(286, A_FD, A_SMALL, A_TIME, A_BUF), S(288, A_FD, A_BUF, A_BUF, A_FLAGS), S(289, A_FD, A_SIGSET, A_SMALL, A_FLAGS),
    S(290, A_INT, A_FLAGS), S(291, A_FLAGS), S(292, A_FD, A_FD, A_FLAGS), S(293, A_BUF, A_FLAGS),
    S(295, A_FD, A_IOV, A_SMALL, A_INT), S(296, A_FD, A_IOV, A_SMALL, A_INT), S(302, A_PID, A_SMALL, A_BUF, A_BUF),
    S(316, A_FD, A_PATH, A_FD, A_PATH, A_FLAGS), S(318, A_BUF, A_LEN, A_FLAGS), S(319, A_PATH, A_FLAGS),
    S(322, A_FD, A_PATH, A_BUF, A_BUF, A_FLAGS), S(324, A_SMALL, A_FLAGS), S(326, A_FD, A_BUF, A_FD, A_BUF, A_LEN, A_FLAGS),
    S(327, A_FD, A_IOV, A_SMALL, A_INT, A_FLAGS), S(328, A_FD, A_IOV, A_SMALL, A_INT, A_FLAGS),
    S(332, A_FD, A_PATH, A_FLAGS, A_INT, A_BUF), S(334, A_BUF, A_LEN, A_FLAGS, A_INT),
    S(435, A_BUF, A_LEN), S(436, A_FD, A_FD, A_FLAGS), S(437, A_FD, A_PATH, A_BUF, A_LEN),
    S(439, A_FD, A_PATH, A_MODE, A_FLAGS), S(441, A_BUF, A_SMALL, A_FLAGS, A_TIME, A_SMALL),
};
static const unsigned char *types[MAX_NR];
static unsigned char allowed[MAX_NR]; /* --only / --skip */
static int only_mode;

/* ---- sanitizing ----------------------------------------------------------- */

static int is_protected_fd(uint64_t v) { return v == CONSOLE_FD || v == REPORT_FD; }

/* A pid another process might be: never pid 1, the supervisor, -1 or a
 * group other than ours. */
static uint64_t safe_pid(uint64_t p)
{
    int64_t v = (int64_t)p;
    if (v == 1 || v == -1 || v == super_pid || v == -super_pid || v == -1LL * 1 ||
        (v < 0 && v != -my_pid && v > -0x7fffffff) || (int32_t)p == -1 || (int32_t)p == 1 ||
        (int32_t)p == super_pid)
        return (uint64_t)my_pid;
    return p;
}

/* Returns 0 to skip the call. May rewrite arguments. */
static int sanitize(long nr, uint64_t *a)
{
    for (int i = 0; i < 6; i++)
        if (is_protected_fd(a[i]))
            a[i] = (uint64_t)-1;
    switch (nr) {
    case SYS_exit: case SYS_exit_group: case SYS_reboot: case SYS_kexec_load:
    case SYS_kexec_file_load: case SYS_vhangup: case SYS_delete_module:
    case SYS_userfaultfd: case SYS_ptrace:
        return 0;
    case SYS_close_range:
        return a[1] < CONSOLE_FD && a[0] <= a[1];
    case SYS_arch_prctl:
        return a[0] != 0x1002; /* ARCH_SET_FS: musl's TLS */
    case SYS_kill: case SYS_tkill: case SYS_rt_sigqueueinfo: case SYS_prlimit64:
    case SYS_process_vm_writev: case SYS_sched_setparam: case SYS_sched_setaffinity:
    case SYS_sched_setattr: case SYS_migrate_pages: case SYS_move_pages: case SYS_pidfd_open:
    case SYS_setpgid:
        a[0] = safe_pid(a[0]);
        if (nr == SYS_kill && (int64_t)a[0] == 0 && sc0(SYS_getpgid) != my_pid)
            a[0] = (uint64_t)my_pid;
        if (nr == SYS_sched_setattr && a[1] && (uintptr_t)a[1] >= (uintptr_t)buf &&
            (uintptr_t)a[1] + 16 <= (uintptr_t)buf + BUF_SIZE)
            ((uint32_t *)a[1])[1] = 0; /* sched_policy: no realtime */
        return 1;
    case SYS_tgkill: case SYS_rt_tgsigqueueinfo:
        a[0] = safe_pid(a[0]);
        a[1] = safe_pid(a[1]);
        return 1;
    case SYS_sched_setscheduler:
        a[0] = safe_pid(a[0]);
        if (a[1] == 1 || a[1] == 2 || a[1] == 6) /* FIFO, RR, DEADLINE starve the supervisor */
            a[1] = 0;
        return 1;
    case SYS_setpriority: case SYS_ioprio_set:
        a[1] = safe_pid(a[1]);
        return 1;
    case SYS_wait4: case SYS_waitid:
        a[2] |= WNOHANG;
        return 1;
    case SYS_rt_sigaction: {
        if (a[0] == SIGALRM)
            return 0;
        /* Mostly real handlers (with a restorer) or SIG_DFL/SIG_IGN. */
        if (a[1] >= (uint64_t)buf && a[1] + 32 <= (uint64_t)buf + BUF_SIZE && chance(80)) {
            struct ksigaction *sa = (struct ksigaction *)a[1];
            static const uint64_t h[] = {0, 1};
            sa->handler = below(3) == 0 ? (void *)h[below(2)] : (void *)handler;
            sa->flags = (gen_flags() & ~0x04000000UL) | SA_SIGINFO | 0x04000000UL;
            sa->restorer = (void *)fuzz_restorer;
            sa->mask &= ~(1ULL << (SIGALRM - 1));
        }
        return 1;
    }
    case SYS_execve:
        strcpy((char *)(a[0] = (uint64_t)path_slot()), "/tmp/does/not/exist");
        return 1;
    case SYS_execveat:
        strcpy((char *)(a[1] = (uint64_t)path_slot()), "/tmp/does/not/exist");
        a[4] &= ~0x1000ULL; /* AT_EMPTY_PATH */
        return 1;
    case SYS_mmap:
        if (a[3] & (MAP_FIXED | 0x100000 /* FIXED_NOREPLACE */))
            return !hits_crit(a[0], a[1]);
        return 1;
    case SYS_munmap: case SYS_mprotect: case SYS_madvise: case SYS_pkey_mprotect:
    case SYS_remap_file_pages: case SYS_mbind: case SYS_munlock:
        return !hits_crit(a[0], a[1]);
    case SYS_mremap:
        if (hits_crit(a[0], a[1]))
            return 0;
        if ((a[3] & 2 /* MREMAP_FIXED */) && hits_crit(a[4], a[2]))
            return 0;
        return 1;
    case SYS_shmat:
        return a[1] == 0 || !hits_crit(a[1], 1ULL << 30);
    case SYS_shmget: case SYS_msgget: case SYS_semget:
        a[0] = chance(50) ? IPC_PRIVATE : 0xf022 + below(4);
        if (nr == SYS_shmget && a[1] > (1 << 20))
            a[1] = below(1 << 20);
        return 1;
    case SYS_mq_open: case SYS_mq_unlink:
        a[0] = (uint64_t)path_slot();
        snprintf((char *)a[0], 32, "/fuzzmq%d", (int)below(3));
        return 1;
    case SYS_seccomp:
        return 0; /* a filter would make the worker report nothing */
    case SYS_prctl:
        return a[0] != 22; /* PR_SET_SECCOMP: same */
    case SYS_setitimer: case SYS_alarm:
        return 1; /* re-armed after the call */
    case SYS_rt_sigprocmask: case SYS_rt_sigsuspend: case SYS_rt_sigtimedwait:
        return 1; /* sets come from gen_sigset without SIGALRM */
    case SYS_fork: case SYS_vfork: case SYS_clone: case SYS_clone3:
        return children < 4 && fork_budget > 0;
    default:
        return 1;
    }
}

/* ---- worker ----------------------------------------------------------------- */

static unsigned long last_tsc;
static inline unsigned long rdtsc(void)
{
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((unsigned long)hi << 32) | lo;
}

static void report(void)
{
    if (child_mode)
        return;
    R.magic = MAGIC;
    R.slot = (uint32_t)slot;
    sc3(SYS_write, REPORT_FD, &R, sizeof R);
    last_tsc = rdtsc();
}

static void add_fd(long fd)
{
    if (fd < 0 || fd >= 900)
        return;
    for (int i = 0; i < nfds; i++)
        if (fds[i] == fd)
            return;
    if (nfds < (int)(sizeof fds / sizeof fds[0]))
        fds[nfds++] = (int)fd;
    else
        fds[below(nfds)] = (int)fd;
}

static void reap(void)
{
    while (children > 0) {
        long r = sc6(SYS_wait4, -1, 0, WNOHANG | __WALL, 0, 0, 0);
        if (r <= 0)
            break;
        children--;
    }
}

static void one_call(void);

#include "net.h"

static void child_run(void)
{
    /* A forked child of a worker: a few calls, then exit. */
    child_mode = 1;
    sc1(SYS_close, REPORT_FD);
    struct ksigaction dfl = {0, 0, 0, 0};
    sc6(SYS_rt_sigaction, SIGALRM, (long)&dfl, 0, 8, 0, 0);
    sc1(SYS_alarm, 1);
    my_pid = (int)sc0(SYS_getpid);
    nsib = 0;
    children = 0;
    fork_budget = 0;
    for (int i = 0; i < 30; i++)
        one_call();
    sc1(SYS_exit_group, 0);
}

static void one_call(void)
{
    long nr;
    /* Mostly calls with typed arguments; the rest fully random. */
    do {
        if (chance(12) && !only_mode) {
            nr = net_pick();
        } else if (chance(75) && !only_mode) {
            const struct sig_ *s = &sigs[below(sizeof sigs / sizeof sigs[0])];
            nr = s->nr;
        } else {
            nr = (long)below(MAX_NR);
        }
    } while (!allowed[nr]);
    uint64_t a[6];
    const unsigned char *t = types[nr];
    for (int i = 0; i < 6; i++)
        a[i] = t ? gen(t[i]) : gen(A_ANY);
    net_args(nr, a);
    if (!sanitize(nr, a))
        return;
    if (trace)
        say("fuzz[%d] %lu: %ld(%#lx, %#lx, %#lx, %#lx, %#lx, %#lx)\n", slot, (unsigned long)R.calls + 1,
            nr, (unsigned long)a[0], (unsigned long)a[1], (unsigned long)a[2], (unsigned long)a[3],
            (unsigned long)a[4], (unsigned long)a[5]);
    long ret;
    last_nr = nr;
    int forkish = nr == SYS_fork || nr == SYS_vfork || nr == SYS_clone || nr == SYS_clone3;
    if (forkish) {
        fork_budget--;
        int vm = nr == SYS_vfork || (nr == SYS_clone && (a[0] & CLONE_VM));
        if (nr == SYS_clone3) {
            if (a[0] >= (uint64_t)buf && a[0] + 88 <= (uint64_t)buf + BUF_SIZE) {
                uint64_t *ca = (uint64_t *)a[0];
                vm = (ca[0] & CLONE_VM) != 0;
                if (!vm)
                    ca[5] = ca[6] = 0; /* no new stack for a copy of us */
            } else {
                vm = 1; /* unknown: the safe way */
            }
        }
        if (nr == SYS_clone && !vm)
            a[1] = 0;
        ret = vm ? clone_stub(nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5])
                 : sc6(nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
        if (ret == 0)
            child_run();
        if (ret > 0)
            children++;
        reap();
    } else {
        ret = sc6(nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
    }
    R.calls++;
    R.issued[nr / 64] |= 1ULL << (nr % 64);
    if (ret != -ENOSYS)
        R.impl[nr / 64] |= 1ULL << (nr % 64);
    if (ret < 0 && ret > -NERR)
        R.err[-ret]++;
    switch (nr) {
    case SYS_open: case SYS_openat: case SYS_creat: case SYS_dup: case SYS_dup2: case SYS_dup3:
    case SYS_socket: case SYS_eventfd: case SYS_eventfd2: case SYS_epoll_create: case SYS_epoll_create1:
    case SYS_memfd_create: case SYS_timerfd_create: case SYS_signalfd4: case SYS_inotify_init1:
    case SYS_pidfd_open: case SYS_openat2: case SYS_fcntl:
        add_fd(ret);
        break;
    case SYS_pipe: case SYS_pipe2: case SYS_socketpair:
        if (ret == 0) {
            uint64_t p = nr == SYS_socketpair ? a[3] : a[0];
            if (p >= (uint64_t)buf && p + 8 <= (uint64_t)buf + BUF_SIZE) {
                add_fd(((int *)p)[0]);
                add_fd(((int *)p)[1]);
            }
        }
        break;
    case SYS_setitimer: case SYS_alarm:
        if (!child_mode)
            arm_alarm();
        break;
    }
    net_after(nr, a, ret);
}

/* Drops clean caches where the kernel has them (dentries, inodes, page
 * cache, empty slabs), through a /proc mounted just for this, so that
 * cached objects are not counted as lost. Called before the workers start
 * and after they are gone; /proc is never mounted while they run. */
static void drop_caches(void)
{
    if (mount("proc", "/proc", "proc", 0, 0) != 0)
        return;
    int dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (dc >= 0) {
        sync();
        printf("fuzz: drop_caches %s\n", write(dc, "3\n", 2) == 2 ? "ok" : "failed");
        close(dc);
    }
    umount("/proc");
}

/* As root, before setuid(1000): /tmp/fuzz<i> belongs to uid 1000, so the
 * worker can create and remove entries there once permissions apply. A
 * restarted worker finds its predecessor's directory and gets it back in
 * a usable state (that worker may have chmod'ed it). */
static void prepare_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/fuzz%d", slot);
    mkdir("/tmp", 01777);
    mkdir(dir, 0755);
    chown(dir, 1000, 1000);
    chmod(dir, 0755);
}

/* As uid 1000 (if setuid worked): the worker's own objects. */
static void setup_files(void)
{
    chdir(dir);
    for (int i = 0; i < 3; i++) {
        char p[96];
        snprintf(p, sizeof p, "%s/f%d", dir, i);
        int fd = open(p, O_RDWR | O_CREAT, 0644);
        if (fd >= 0) {
            write(fd, "ferrite fuzz file\n", 18);
            add_fd(fd);
        }
    }
    char p[96], q[96];
    snprintf(p, sizeof p, "%s/d0", dir);
    mkdir(p, 0755);
    add_fd(open(p, O_RDONLY | O_DIRECTORY));
    add_fd(open(dir, O_RDONLY | O_DIRECTORY));
    add_fd(open("/", O_RDONLY | O_DIRECTORY));
    snprintf(p, sizeof p, "%s/loop1", dir);
    snprintf(q, sizeof q, "%s/loop2", dir);
    symlink(q, p);
    symlink(p, q);
    snprintf(p, sizeof p, "%s/sym", dir);
    symlink("f0", p);
    add_fd(open("/dev/null", O_RDWR));
    int pp[2];
    for (int i = 0; i < 2; i++)
        if (pipe(pp) == 0) {
            add_fd(pp[0]);
            add_fd(pp[1]);
        }
}

static void setup_memory(void)
{
    extern char __executable_start[], _end[];
    buf = mmap(0, BUF_SIZE + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        say("fuzz: worker %d: mmap failed\n", slot);
        _exit(2);
    }
    munmap(buf + BUF_SIZE, PAGE); /* a hole just after the buffer */
    add_crit((uintptr_t)buf, (uintptr_t)buf + BUF_SIZE);
    add_crit((uintptr_t)__executable_start, (uintptr_t)_end);
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    add_crit(sp - (8 << 20), sp + (1 << 20));
    unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
    if (vdso)
        add_crit(vdso - 64 * PAGE, vdso + 64 * PAGE);
    victim_rw = mmap(0, victim_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    victim_ro = mmap(0, victim_len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    victim_hole = mmap(0, victim_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (victim_rw == MAP_FAILED || victim_ro == MAP_FAILED || victim_hole == MAP_FAILED) {
        say("fuzz: worker %d: mmap failed\n", slot);
        _exit(2);
    }
    munmap(victim_hole, victim_len);
}

static void worker(int s, unsigned long seed, int pipe_w, int console)
{
    slot = s;
    cur_seed = seed;
    seed_rng(seed);
    dup2(console, CONSOLE_FD);
    dup2(pipe_w, REPORT_FD);
    out_fd = CONSOLE_FD;
    /* Close everything else the supervisor had. */
    for (int fd = 3; fd < 900; fd++)
        close(fd);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2)
            close(null);
    } else {
        close(0);
        close(1);
        close(2);
    }
    setpgid(0, 0);
    my_pid = getpid();
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        types[sigs[i].nr] = sigs[i].t;
    setup_memory();
    prepare_dir();
    int uid_ok = setuid(1000) == 0;
    setup_files();
    fork_budget = 64;
    say("fuzz: worker %d pid %d seed %lu%s\n", slot, my_pid, seed, uid_ok ? " uid 1000" : " (setuid failed: root)");
    arm_alarm();
    {
        static const int faults[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
        for (int i = 0; i < 4; i++) {
            struct ksigaction sa = {(void *)handler, SA_SIGINFO | 0x04000000, (void *)fuzz_restorer, 0};
            sc6(SYS_rt_sigaction, faults[i], (long)&sa, 0, 8, 0, 0);
        }
    }
    last_tsc = rdtsc();
    uint64_t reported = 0, logged = 0;
    for (;;) {
        one_call();
        if (R.calls - reported >= 1000 || rdtsc() - last_tsc > 600000000UL) {
            report();
            reap();
            reported = R.calls;
        }
        if (R.calls - logged >= 25000) {
            say("fuzz: worker %d seed %lu calls %lu\n", slot, seed, (unsigned long)R.calls);
            logged = R.calls;
        }
    }
}

/* ---- supervisor ------------------------------------------------------------- */

struct slotstate {
    int pid, rd;
    unsigned gen;
    struct rec cur;
    unsigned char part[sizeof(struct rec)];
    size_t have;
    struct timespec last;
};

static struct slotstate S_[MAX_WORKERS];
static uint64_t tot_calls, tot_issued[8], tot_impl[8];
static uint64_t tot_err[NERR];
static unsigned long restarts, stalls, unknown_reaped;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void fold(struct slotstate *w)
{
    tot_calls += w->cur.calls;
    for (int i = 0; i < 8; i++) {
        tot_issued[i] |= w->cur.issued[i];
        tot_impl[i] |= w->cur.impl[i];
    }
    for (int i = 0; i < NERR; i++)
        tot_err[i] += w->cur.err[i];
    memset(&w->cur, 0, sizeof w->cur);
}

static void drain(struct slotstate *w)
{
    if (w->rd < 0)
        return;
    for (;;) {
        ssize_t n = read(w->rd, w->part + w->have, sizeof w->part - w->have);
        if (n <= 0)
            return;
        w->have += n;
        if (w->have == sizeof w->part) {
            struct rec *r = (struct rec *)w->part;
            if (r->magic == MAGIC)
                memcpy(&w->cur, r, sizeof *r);
            w->have = 0;
            clock_gettime(CLOCK_MONOTONIC, &w->last);
        }
    }
}

static unsigned long base_seed;
static int nworkers, console_fd;

static void start(int i)
{
    struct slotstate *w = &S_[i];
    int p[2];
    if (pipe(p) != 0) {
        printf("fuzz: pipe failed: %s\n", strerror(errno));
        w->pid = -1;
        return;
    }
    unsigned long seed = base_seed + i + (unsigned long)w->gen * nworkers;
    int sibs[MAX_WORKERS], ns = 0;
    for (int j = 0; j < nworkers; j++)
        if (j != i && S_[j].pid > 0)
            sibs[ns++] = S_[j].pid;
    fflush(stdout);
    int pid = fork();
    if (pid == 0) {
        close(p[0]);
        memcpy(sib_pids, sibs, sizeof sibs);
        nsib = ns;
        worker(i, seed, p[1], console_fd);
    }
    close(p[1]);
    if (pid < 0) {
        printf("fuzz: fork failed: %s\n", strerror(errno));
        close(p[0]);
        w->pid = -1;
        return;
    }
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    w->pid = pid;
    w->rd = p[0];
    w->have = 0;
    clock_gettime(CLOCK_MONOTONIC, &w->last);
}

static long free_kib(void)
{
    struct sysinfo si;
    if (sysinfo(&si) != 0)
        return -1;
    return (long)((unsigned long long)si.freeram * si.mem_unit / 1024);
}

static int rm_reports;

/* Removes `name` in `dfd` and everything under it; `path` names it in the
 * report of what could not be removed (a worker's leftovers hold kernel
 * memory the heap check would count as leaked). */
static void rm_tree(int dfd, const char *name, const char *path)
{
    if (unlinkat(dfd, name, 0) == 0)
        return;
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) {
        if (rm_reports++ < 20)
            printf("fuzz: clean-up: cannot remove %s: %s\n", path, strerror(errno));
        return;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    char sub[512];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(sub, sizeof sub, "%.250s/%.255s", path, e->d_name);
            rm_tree(dirfd(d), e->d_name, sub);
        }
    closedir(d);
    if (unlinkat(dfd, name, AT_REMOVEDIR) != 0 && rm_reports++ < 20)
        printf("fuzz: clean-up: cannot remove directory %s: %s\n", path, strerror(errno));
}

/* KiB of file data under the directory fd (tmpfs memory the workers'
 * files hold), so that file growth is not mistaken for a leak. */
static long fs_kib(int dfd, int depth)
{
    long kib = 0;
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return 0;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (depth == 0 && (!strcmp(e->d_name, "proc") || !strcmp(e->d_name, "sys") || !strcmp(e->d_name, "dev")))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISREG(st.st_mode))
            kib += st.st_blocks ? st.st_blocks / 2 : (st.st_size + 1023) / 1024;
        else if (S_ISDIR(st.st_mode) && depth < 64) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            if (sub >= 0) {
                kib += fs_kib(sub, depth + 1);
                close(sub);
            }
        }
    }
    closedir(d);
    return kib;
}

static char top_names[128][256];
static int ntop;

static void snapshot_top(void)
{
    DIR *d = opendir("/");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && ntop < 128)
        snprintf(top_names[ntop++], sizeof top_names[0], "%s", e->d_name);
    closedir(d);
}

/* Removes what workers leave behind on purpose: /tmp contents, SysV IPC
 * objects and the POSIX message queues they may create. */
static void cleanup(void)
{
    /* New entries at the top level (paths like /nonexistent, or /tmp
     * renamed away): remove them, then make sure /tmp exists. */
    int r = open("/", O_RDONLY | O_DIRECTORY);
    if (r >= 0) {
        DIR *d = fdopendir(r);
        if (d) {
            struct dirent *e;
            static char names[256][256];
            int n = 0;
            while ((e = readdir(d)) && n < 256) {
                int known = 0;
                for (int i = 0; i < ntop && !known; i++)
                    known = !strcmp(top_names[i], e->d_name);
                if (!known && strcmp(e->d_name, "tmp"))
                    snprintf(names[n++], sizeof names[0], "%s", e->d_name);
            }
            for (int i = 0; i < n; i++) {
                printf("fuzz: removing /%s left by a worker\n", names[i]);
                char path[300];
                snprintf(path, sizeof path, "/%.255s", names[i]);
                rm_tree(dirfd(d), names[i], path);
            }
            closedir(d);
        }
    }
    mkdir("/tmp", 01777);
    chmod("/tmp", 01777);
    int t = open("/tmp", O_RDONLY | O_DIRECTORY);
    if (t >= 0) {
        DIR *d = fdopendir(t);
        if (d) {
            /* Every entry, whatever its name (random bytes from the
             * workers' buffers name files too), pass after pass: removing
             * entries while reading the directory may skip some. */
            struct dirent *e;
            int left = 0;
            for (int pass = 0; pass < 8; pass++) {
                rewinddir(d);
                left = 0;
                while ((e = readdir(d))) {
                    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                        continue;
                    char path[300];
                    snprintf(path, sizeof path, "/tmp/%.255s", e->d_name);
                    rm_tree(dirfd(d), e->d_name, path);
                    left++;
                }
                if (!left)
                    break;
            }
            rewinddir(d);
            left = 0;
            while ((e = readdir(d)))
                left += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
            printf("fuzz: clean-up: %d entries left in /tmp\n", left);
            closedir(d);
        }
    }
    struct shmid_ds sd;
    int max = shmctl(0, SHM_INFO, &sd);
    for (int i = 0; i <= max && i < 65536; i++) {
        int id = shmctl(i, SHM_STAT, &sd);
        if (id >= 0)
            shmctl(id, IPC_RMID, 0);
    }
    struct msqid_ds md;
    max = msgctl(0, MSG_INFO, &md);
    for (int i = 0; i <= max && i < 65536; i++) {
        int id = msgctl(i, MSG_STAT, &md);
        if (id >= 0)
            msgctl(id, IPC_RMID, 0);
    }
    struct seminfo si;
    max = semctl(0, 0, SEM_INFO, &si);
    for (int i = 0; i <= max && i < 65536; i++) {
        struct semid_ds sm;
        int id = semctl(i, 0, SEM_STAT, &sm);
        if (id >= 0)
            semctl(id, 0, IPC_RMID);
    }
    for (int i = 0; i < 3; i++) {
        char q[16];
        snprintf(q, sizeof q, "/fuzzmq%d", i);
        syscall(SYS_mq_unlink, q);
    }
}

static int popcount8(const uint64_t *b)
{
    int n = 0;
    for (int i = 0; i < 8; i++)
        n += __builtin_popcountll(b[i]);
    return n;
}

int main(int argc, char **argv)
{
    long seconds = 60;
    memset(allowed, 1, sizeof allowed);
    base_seed = 1;
    nworkers = 4;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atol(argv[++i]);
        else if (!strcmp(argv[i], "--minutes") && i + 1 < argc)
            seconds = 60 * atol(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            base_seed = strtoul(argv[++i], 0, 0);
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
            nworkers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--trace"))
            trace = 1;
        else if (!strcmp(argv[i], "--no-alarm"))
            no_alarm = 1;
        else if ((!strcmp(argv[i], "--only") || !strcmp(argv[i], "--skip")) && i + 1 < argc) {
            /* Comma list of numbers: for bisecting a failure by syscall. */
            int only = !strcmp(argv[i], "--only");
            if (only && !only_mode)
                memset(allowed, 0, sizeof allowed);
            only_mode |= only;
            for (char *p = argv[++i]; *p;) {
                long n = strtol(p, &p, 0);
                if (n >= 0 && n < MAX_NR)
                    allowed[n] = only;
                if (*p == ',')
                    p++;
                else if (*p)
                    break;
            }
        }
        else
            printf("fuzz: ignoring argument `%s`\n", argv[i]);
    }
    if (nworkers < 1)
        nworkers = 1;
    if (nworkers > MAX_WORKERS)
        nworkers = MAX_WORKERS;
    setvbuf(stdout, 0, _IOLBF, 0);
    int pid1 = getpid() == 1;
    super_pid = getpid();
    /* Nothing a worker does may stop us. */
    for (int s = 1; s < 65; s++)
        if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD)
            signal(s, SIG_IGN);
    mkdir("/tmp", 01777);
    mkdir("/dev", 0755);
    if (access("/dev/null", F_OK) != 0)
        mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3));
    console_fd = dup(1);
    if (console_fd < 0)
        console_fd = 1;
    out_fd = console_fd;

    printf("fuzz: seed %lu workers %d seconds %ld%s\n", base_seed, nworkers, seconds, pid1 ? " (pid 1)" : "");
    mkdir("/proc", 0555);
    snapshot_top();
    int rootfd = open("/", O_RDONLY | O_DIRECTORY);
    long fs_before = fs_kib(rootfd, 0);
    /* The same state at both measurements: caches dropped, /proc not
     * mounted (Ferrite then prints its object census for the verdict). */
    drop_caches();
    long before = free_kib();
    printf("fuzz: mem_before_kib %ld\n", before);

    double t0 = now_s(), next_progress = t0 + 5, next_cont = t0 + 1;
    for (int i = 0; i < nworkers; i++) {
        S_[i].rd = -1;
        start(i);
    }
    int restart_lines = 0;
    while (now_s() - t0 < seconds) {
        struct pollfd pf[MAX_WORKERS];
        for (int i = 0; i < nworkers; i++) {
            pf[i].fd = S_[i].rd;
            pf[i].events = POLLIN;
            pf[i].revents = 0;
        }
        poll(pf, nworkers, 200);
        for (int i = 0; i < nworkers; i++)
            drain(&S_[i]);
        int st;
        int pid;
        while ((pid = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
            int i;
            for (i = 0; i < nworkers && S_[i].pid != pid; i++)
                ;
            if (i == nworkers) {
                unknown_reaped++;
                continue;
            }
            struct slotstate *w = &S_[i];
            drain(w);
            close(w->rd);
            w->rd = -1;
            if (restart_lines++ < 40)
                printf("fuzz: worker %d (pid %d, seed %lu) %s %d after %lu calls; restarting\n", i, pid,
                       base_seed + i + (unsigned long)w->gen * nworkers,
                       WIFSIGNALED(st) ? "killed by signal" : "exited with", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
                       (unsigned long)w->cur.calls);
            fold(w);
            w->gen++;
            restarts++;
            w->pid = 0;
            start(i);
        }
        double t = now_s();
        for (int i = 0; i < nworkers; i++) {
            if (S_[i].pid <= 0) {
                if (S_[i].pid < 0)
                    start(i);
                continue;
            }
            double idle = t - (S_[i].last.tv_sec + S_[i].last.tv_nsec / 1e9);
            if (idle > 10) {
                printf("fuzz: worker %d (pid %d) silent for %.0f s; killing it\n", i, S_[i].pid, idle);
                stalls++;
                kill(S_[i].pid, SIGKILL);
                clock_gettime(CLOCK_MONOTONIC, &S_[i].last);
            }
        }
        if (t >= next_cont) {
            /* Workers may stop themselves or each other. */
            for (int i = 0; i < nworkers; i++)
                if (S_[i].pid > 0)
                    kill(-S_[i].pid, SIGCONT), kill(S_[i].pid, SIGCONT);
            next_cont = t + 1;
        }
        if (t >= next_progress) {
            uint64_t c = tot_calls;
            for (int i = 0; i < nworkers; i++)
                c += S_[i].cur.calls;
            printf("fuzz: progress %.0f s calls %lu restarts %lu free_kib %ld\n", t - t0, (unsigned long)c, restarts,
                   free_kib());
            next_progress = t + 5;
        }
    }
    double ran = now_s() - t0;
    printf("fuzz: stopping after %.1f s\n", ran);
    for (int i = 0; i < nworkers; i++)
        if (S_[i].pid > 0) {
            kill(-S_[i].pid, SIGKILL);
            kill(S_[i].pid, SIGKILL);
        }
    /* Reap workers and everything they left (orphans come to us as pid 1). */
    double deadline = now_s() + 20;
    int left = 0;
    for (;;) {
        if (pid1)
            kill(-1, SIGKILL);
        int st, pid = waitpid(-1, &st, WNOHANG | __WALL);
        if (pid > 0) {
            int i;
            for (i = 0; i < nworkers && S_[i].pid != pid; i++)
                ;
            if (i < nworkers) {
                drain(&S_[i]);
                close(S_[i].rd);
                S_[i].rd = -1;
                fold(&S_[i]);
                S_[i].pid = 0;
            }
            continue;
        }
        if (pid < 0 && errno == ECHILD)
            break;
        if (now_s() > deadline) {
            left = 1;
            break;
        }
        usleep(20000);
    }
    if (left)
        printf("fuzz: WARNING: children still alive 20 s after SIGKILL\n");
    long fs_left = fs_kib(rootfd, 0);
    cleanup();
    long fs_after = fs_kib(rootfd, 0);
    drop_caches();
    sync();
    /* Let deferred frees settle; take the best of a few samples. */
    long after = -1;
    for (int i = 0; i < 6; i++) {
        usleep(250000);
        long f = free_kib();
        if (f > after)
            after = f;
    }
    printf("fuzz: seconds %.1f\n", ran);
    printf("fuzz: calls %lu\n", (unsigned long)tot_calls);
    printf("fuzz: distinct_syscalls %d\n", popcount8(tot_issued));
    printf("fuzz: distinct_implemented %d\n", popcount8(tot_impl));
    printf("fuzz: restarts %lu\n", restarts);
    printf("fuzz: stalls %lu\n", stalls);
    printf("fuzz: unreaped %d\n", left);
    char line[2048];
    size_t n = 0;
    n += snprintf(line + n, sizeof line - n, "fuzz: errors_by_errno");
    for (int i = 1; i < NERR && n < sizeof line - 32; i++)
        if (tot_err[i])
            n += snprintf(line + n, sizeof line - n, " %d:%lu", i, (unsigned long)tot_err[i]);
    printf("%s\n", line);
    printf("fuzz: fs_kib before %ld, left by workers %ld, after clean-up %ld\n", fs_before, fs_left, fs_after);
    printf("fuzz: mem_before_kib %ld\n", before);
    printf("fuzz: mem_after_kib %ld\n", after);
    printf("fuzz: done\n");
    fflush(stdout);
    if (pid1) {
        sync();
        reboot(RB_POWER_OFF);
        for (;;)
            pause();
    }
    return 0;
}
