/*
 * /init of the test initramfs: runs every guest test and reports.
 *
 * Freestanding on purpose (no libc, no start-up code): the only system
 * calls it makes are fork, execve, wait4, write, getpid, reboot and
 * exit_group, so a kernel can run it as soon as those work.
 *
 * For each test in TESTS it forks; the child execs the test with
 *     argv = {path, "arg1"}, envp = {"FERRITE_TEST=1", "PATH=/bin"}
 * and inherits fds 0-2 (the console); the parent waits with wait4 and
 * prints exactly one line per test on stdout:
 *     utest: <name> ... ok
 *     utest: <name> ... FAILED: exit <status>        (expected another status)
 *     utest: <name> ... FAILED: signal <n>
 *     utest: <name> ... FAILED: cannot run (errno N) (fork/execve failed)
 * preceded by "utest: running N tests" and followed by
 *     utest: result: X passed, Y failed
 *
 * PENDING lists tests that pass on Linux but wait for a kernel feature.
 * They run after TESTS, are not counted (neither in N nor in the result),
 * and get one line each, with the outcome they would have had:
 *     utest: <name> ... pending: <reason>; ok
 *     utest: <name> ... pending: <reason>; FAILED: exit 1
 * A pending test that says "; ok" is ready to move to TESTS.
 * As pid 1 it then powers the machine off with reboot(RB_POWER_OFF);
 * otherwise (on a development host) it exits with the number of failures.
 *
 * Arguments after argv[0] select tests by name (default: all).
 *
 * Host runs: if FERRITE_ROOT=<dir> is in the environment, test paths are
 * <dir>/tests/<name> and FERRITE_ROOT is passed on to the tests, which use
 * it to prefix their own absolute paths (see t.h). `cargo xtask utest
 * --host` runs it this way against target/user/rootfs.
 *
 * When execve fails, the child itself prints the "cannot run" line and
 * exits with status 127, which therefore no test may use.
 */
#include <sys/reboot.h>
#include <sys/syscall.h>

typedef unsigned long size_t;

struct test {
    const char *name;
    int expected_exit;
};

/* A PENDING entry: the test and what the kernel still lacks. */
struct pending {
    struct test test;
    const char *reason;
};

/* In order, simplest first: a new kernel passes a prefix of this list. */
static const struct test TESTS[] = {
    {"hello", 0},     {"args", 0},      {"exit_code", 42}, {"brk", 0},
    {"mmap", 0},      {"fork_wait", 0}, {"execve", 0},     {"exec_thread", 0}, {"syslog", 0},     {"file_read", 0},
    {"getdents", 0},  {"errno", 0},     {"tls", 0},        {"time", 0},
    {"uname", 0},     {"pid", 0},       {"signals", 0},    {"threads", 0},    {"tgkill", 0},    {"tmpfile", 0},
    {"sigregs", 0},    {"mount", 0},       {"procfs", 0},
    {"thread_race", 0}, {"noleak", 0}, {"oom", 0},
    {"perm", 0},       {"dcache", 0},      {"pty", 0},         {"termios", 0},     {"cow", 0},
    {"mremap", 0},     {"waitid", 0},      {"rlimit", 0},      {"fpstate", 0},
    {"vdso", 0},       {"shmem", 0},       {"aslr", 0},        {"infoleak", 0},
    {"epoll", 0},      {"eventfd", 0},     {"timerfd", 0},     {"signalfd", 0},
    {"memfd", 0},      {"execveat", 0},    {"datasafe", 0},
    {"sendfile", 0},   {"fsmisc", 0},      {"fifo", 0},        {"flock", 0},
    {"cputime", 0},     {"bigio", 0},      {"zeropage", 0},   {"longio", 0},
    {"unix", 0},       {"unix_dgram", 0},   {"unix_gc", 0},     {"unix_opts", 0},
    {"sigthread", 0},  {"sigrace", 0},     {"setxid", 0},      {"futex", 0},       {"futex_shared", 0},       {"affinity", 0},
    {"sigorder", 0},
    {"growsdown", 0},   {"filemap", 0},     {"pipe_hup", 0},   {"kill_zombie", 0},
    {"posixtimer", 0}, {"sched", 0},       {"mlock", 0},       {"fadvise", 0},     {"caps", 0},
    /* Rust std programs (user/rust), static-pie glibc. */
    {"rstd-hello", 0}, {"rstd-fs", 0}, {"rstd-time", 0}, {"rstd-collections", 0},
    {"rstd-process", 0}, {"rstd-threads", 0}, {"rstd-panic", 101}, {"rstd-unix", 0},
    {"rstd-setuid", 0},
};
#define NTESTS (int)(sizeof TESTS / sizeof TESTS[0])

/* Run but not counted: see the comment at the top. Empty for now. */
static const struct pending PENDING[] = {
    {{0, 0}, 0},
};
#define NPENDING (int)(sizeof PENDING / sizeof PENDING[0])
#define EXEC_FAILED 127

/* ---- system calls ------------------------------------------------------ */

static long sys(long n, long a, long b, long c, long d)
{
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

static __attribute__((noreturn)) void exit_group(int code)
{
    for (;;) sys(SYS_exit_group, code, 0, 0, 0);
}

/* ---- output ------------------------------------------------------------- */

static size_t len(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/* One line is assembled here and written with a single write(2), so lines
 * from init never interleave with a test's output. */
static char line[512];
static size_t line_len;

static void put(const char *s)
{
    while (*s && line_len < sizeof line - 1) line[line_len++] = *s++;
}

static void put_num(long v)
{
    char buf[24];
    int i = sizeof buf;
    unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
    buf[--i] = 0;
    do buf[--i] = (char)('0' + u % 10); while ((u /= 10) && i > 1);
    if (v < 0) buf[--i] = '-';
    put(buf + i);
}

static void flush_line(void)
{
    line[line_len++] = '\n';
    size_t off = 0;
    while (off < line_len) {
        long n = sys(SYS_write, 1, (long)(line + off), (long)(line_len - off), 0);
        if (n == -4) continue; /* EINTR */
        if (n <= 0) break;
        off += (size_t)n;
    }
    line_len = 0;
}

static int eq(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static int starts_with(const char *s, const char *prefix)
{
    while (*prefix && *s == *prefix) s++, prefix++;
    return *prefix == 0;
}

/* ---- the runner --------------------------------------------------------- */

static char path_buf[1024];
static char root_var[1024];

/* "pending: <reason>; " before the verdict of a PENDING test. */
static void put_pending(const char *reason)
{
    if (!reason) return;
    put("pending: ");
    put(reason);
    put("; ");
}

/* Returns 1 if the test passed. reason is NULL, or why it is PENDING. */
static int run(const struct test *t, const char *reason, const char *root)
{
    /* path = root + "/tests/" + name */
    size_t n = 0;
    for (const char *s = root; *s && n < 900; s++) path_buf[n++] = *s;
    for (const char *s = "/tests/"; *s; s++) path_buf[n++] = *s;
    for (const char *s = t->name; *s && n < sizeof path_buf - 1; s++) path_buf[n++] = *s;
    path_buf[n] = 0;

    char *argv[] = {path_buf, "arg1", 0};
    char *envp[] = {"FERRITE_TEST=1", "PATH=/bin", root_var[0] ? root_var : 0, 0};

    long pid = sys(SYS_fork, 0, 0, 0, 0);
    if (pid == 0) {
        long err = sys(SYS_execve, (long)path_buf, (long)argv, (long)envp, 0);
        put("utest: ");
        put(t->name);
        put(" ... ");
        put_pending(reason);
        put("FAILED: cannot run (errno ");
        put_num(-err);
        put(")");
        flush_line();
        exit_group(EXEC_FAILED);
    }
    put("utest: ");
    put(t->name);
    put(" ... ");
    put_pending(reason);
    if (pid < 0) {
        put("FAILED: cannot run (errno ");
        put_num(-pid);
        put(")");
        flush_line();
        return 0;
    }
    int status = 0;
    long got;
    do got = sys(SYS_wait4, pid, (long)&status, 0, 0);
    while (got == -4); /* EINTR */
    if (got != pid) {
        put("FAILED: wait4 returned ");
        put_num(got);
        flush_line();
        return 0;
    }
    int sig = status & 0x7f;
    int code = (status >> 8) & 0xff;
    if (sig == 0 && code == t->expected_exit) {
        put("ok");
        flush_line();
        return 1;
    }
    if (sig == 0 && code == EXEC_FAILED) {
        line_len = 0; /* the child already printed why */
        return 0;
    }
    if (sig != 0) {
        put("FAILED: signal ");
        put_num(sig);
    } else {
        put("FAILED: exit ");
        put_num(code);
        if (t->expected_exit != 0) {
            put(" (expected ");
            put_num(t->expected_exit);
            put(")");
        }
    }
    flush_line();
    return 0;
}

static int selected(const struct test *t, int argc, char **argv)
{
    if (!t->name) return 0; /* the end mark of an empty PENDING */
    if (argc <= 1) return 1;
    for (int i = 1; i < argc; i++)
        if (eq(argv[i], t->name)) return 1;
    return 0;
}

__attribute__((used)) static void start_c(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;

    const char *root = "";
    for (char **e = envp; *e; e++) {
        if (starts_with(*e, "FERRITE_ROOT=")) {
            root = *e + len("FERRITE_ROOT=");
            size_t n = 0;
            for (const char *s = *e; *s && n < sizeof root_var - 1; s++) root_var[n++] = *s;
            root_var[n] = 0;
        }
    }

    int count = 0;
    for (int i = 0; i < NTESTS; i++) count += selected(&TESTS[i], argc, argv);
    put("utest: running ");
    put_num(count);
    put(" tests");
    flush_line();

    int passed = 0, failed = 0;
    for (int i = 0; i < NTESTS; i++) {
        if (!selected(&TESTS[i], argc, argv)) continue;
        if (run(&TESTS[i], 0, root))
            passed++;
        else
            failed++;
    }
    for (int i = 0; i < NPENDING; i++)
        if (selected(&PENDING[i].test, argc, argv))
            run(&PENDING[i].test, PENDING[i].reason, root);
    put("utest: result: ");
    put_num(passed);
    put(" passed, ");
    put_num(failed);
    put(" failed");
    flush_line();

    if (sys(SYS_getpid, 0, 0, 0, 0) == 1) {
        long err = sys(SYS_reboot, 0xfee1dead, 672274793, RB_POWER_OFF, 0);
        put("init: reboot(RB_POWER_OFF) failed (errno ");
        put_num(-err);
        put(")");
        flush_line();
        /* pid 1 exiting makes Linux panic; with panic=-1 and -no-reboot
         * QEMU still ends. */
    }
    exit_group(failed > 125 ? 125 : failed);
}

/* Entry: the kernel leaves argc at (%rsp), then argv, NULL, envp, NULL,
 * auxv. Align the stack for the C ABI and call start_c(sp). */
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "    xor %ebp, %ebp\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call start_c\n"
        "    hlt\n");
