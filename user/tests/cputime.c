/*
 * cputime: CPU-time accounting. times(2), getrusage(2), wait4's rusage,
 * the CPU-time clocks (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
 * clock_getcpuclockid, pthread_getcpuclockid), ITIMER_VIRTUAL and
 * ITIMER_PROF, and the /proc fields built on them.
 *
 * The machine is slow and shared (TCG), so every bound is generous: a
 * 200 ms spin must show at least 40 ms, a 200 ms sleep less than 50 ms.
 * Exact relations are checked only where they hold by construction (a
 * thread's clock is part of its process's).
 */
#define T_NAME "cputime"
#include "t.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>

#define MS 1000000LL

/* include/linux/posix-timers_types.h (not in the UAPI headers). */
#define CPUCLOCK_SCHED 2
#define MAKE_PROCESS_CPUCLOCK(pid, clock) ((int)((~(unsigned)(pid) << 3) | (clock)))
#define MAKE_THREAD_CPUCLOCK(tid, clock) MAKE_PROCESS_CPUCLOCK(tid, (clock) | 4)

static long long ns_of(clockid_t c)
{
    struct timespec ts;
    CHECK(clock_gettime(c, &ts) == 0);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long tv_ns(struct timeval tv)
{
    return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
}

static volatile unsigned long sink;

/* Busy in user mode for `ms` of wall time. The clock is read only now
 * and then: under TCG Linux's clock_gettime is a system call reading the
 * HPET, which would make the spin mostly system time. */
static void spin_ms(long ms)
{
    long long end = ns_of(CLOCK_MONOTONIC) + ms * MS;
    while (ns_of(CLOCK_MONOTONIC) < end)
        for (int i = 0; i < 100000; i++) sink = sink * 31 + i;
}

/* Spins until the process has used `ms` of CPU time (or 20 s went by):
 * on a loaded host, wall time says little about CPU time received. */
static void spin_cpu_ms(long ms)
{
    long long end = ns_of(CLOCK_PROCESS_CPUTIME_ID) + ms * MS;
    long long give_up = ns_of(CLOCK_MONOTONIC) + 20000 * MS;
    while (ns_of(CLOCK_PROCESS_CPUTIME_ID) < end && ns_of(CLOCK_MONOTONIC) < give_up)
        for (int i = 0; i < 100000; i++) sink = sink * 31 + i;
}

static struct rusage usage(int who)
{
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    CHECK(getrusage(who, &ru) == 0);
    return ru;
}

static long long cpu_ns(int who)
{
    struct rusage ru = usage(who);
    return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

static void user_time_accrues(void)
{
    struct rusage a = usage(RUSAGE_SELF);
    long long c0 = ns_of(CLOCK_PROCESS_CPUTIME_ID), t0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
    long long w0 = ns_of(CLOCK_MONOTONIC);
    spin_ms(200);
    long long w1 = ns_of(CLOCK_MONOTONIC);
    long long c1 = ns_of(CLOCK_PROCESS_CPUTIME_ID), t1 = ns_of(CLOCK_THREAD_CPUTIME_ID);
    struct rusage b = usage(RUSAGE_SELF);
    long long du = tv_ns(b.ru_utime) - tv_ns(a.ru_utime);
    SAY("200 ms spin: process clock +%lld ms, thread clock +%lld ms, utime +%lld ms",
        (c1 - c0) / MS, (t1 - t0) / MS, du / MS);
    CHECK(c1 - c0 >= 40 * MS && t1 - t0 >= 40 * MS);
    /* One thread cannot run longer than the wall clock (plus a tick). */
    CHECK(t1 - t0 <= w1 - w0 + 20 * MS);
    CHECK(du >= 40 * MS);
    CHECK(tv_ns(b.ru_stime) >= tv_ns(a.ru_stime));
    /* times(2) agrees, in clock ticks. */
    struct tms tm;
    clock_t now = times(&tm);
    CHECK(now != (clock_t)-1);
    long hz = sysconf(_SC_CLK_TCK);
    CHECK(hz == 100);
    CHECK(tm.tms_utime >= 4);
    CHECK(tm.tms_utime + tm.tms_stime <= (now + 1) * 2);
}

static void sleeping_does_not_accrue(void)
{
    long long c0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
    long long r0 = cpu_ns(RUSAGE_SELF);
    struct timespec d = {0, 200 * MS};
    CHECK(nanosleep(&d, 0) == 0);
    long long c1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
    long long r1 = cpu_ns(RUSAGE_SELF);
    SAY("200 ms sleep: process clock +%lld ms, rusage +%lld ms", (c1 - c0) / MS, (r1 - r0) / MS);
    CHECK(c1 >= c0 && c1 - c0 < 50 * MS);
    CHECK(r1 >= r0 && r1 - r0 < 60 * MS);
}

static void system_time_accrues(void)
{
    /* 64 KiB writes into a memfd: the copy is kernel work. */
    static char block[65536];
    int fd = memfd_create("cputime", 0);
    CHECK(fd >= 0);
    struct rusage a = usage(RUSAGE_SELF);
    long long end = ns_of(CLOCK_MONOTONIC) + 300 * MS;
    long calls = 0;
    while (ns_of(CLOCK_MONOTONIC) < end) {
        CHECK(pwrite(fd, block, sizeof block, 0) == (ssize_t)sizeof block);
        CHECK(syscall(SYS_getppid) == getppid());
        calls++;
    }
    struct rusage b = usage(RUSAGE_SELF);
    long long ds = tv_ns(b.ru_stime) - tv_ns(a.ru_stime);
    long long du = tv_ns(b.ru_utime) - tv_ns(a.ru_utime);
    SAY("300 ms of system calls (%ld rounds): stime +%lld ms, utime +%lld ms", calls, ds / MS, du / MS);
    CHECK(ds >= 30 * MS);
    /* ru_nvcsw/ru_nivcsw and ru_minflt never go down. */
    CHECK(b.ru_nvcsw >= a.ru_nvcsw && b.ru_nivcsw >= a.ru_nivcsw && b.ru_minflt >= a.ru_minflt);
    close(fd);
}

static void faults_and_switches_count(void)
{
    struct rusage a = usage(RUSAGE_SELF);
    char *m = mmap(0, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    for (int i = 0; i < 64; i++) m[i * 4096] = 1;
    for (int i = 0; i < 5; i++) {
        struct timespec d = {0, 2 * MS};
        CHECK(nanosleep(&d, 0) == 0);
    }
    struct rusage b = usage(RUSAGE_SELF);
    SAY("64 pages touched: minflt +%ld; 5 sleeps: nvcsw +%ld", b.ru_minflt - a.ru_minflt, b.ru_nvcsw - a.ru_nvcsw);
    CHECK(b.ru_minflt - a.ru_minflt >= 32);
    CHECK(b.ru_nvcsw - a.ru_nvcsw >= 5);
    munmap(m, 64 * 4096);
}

/* ru_maxrss (KiB): the peak resident set, ours and a reaped child's. */
static void max_resident_set(void)
{
    const long pages = 2048; /* 8 MiB */
    char *m = mmap(0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    for (long i = 0; i < pages; i++) m[i * 4096] = 1;
    struct rusage self = usage(RUSAGE_SELF), thread = usage(RUSAGE_THREAD);
    CHECK(munmap(m, pages * 4096) == 0);
    /* The peak stays after the memory goes. */
    struct rusage later = usage(RUSAGE_SELF);
    struct rusage c0 = usage(RUSAGE_CHILDREN);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char *c = mmap(0, 2 * pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (c == MAP_FAILED) _exit(2);
        for (long i = 0; i < 2 * pages; i++) c[i * 4096] = 1;
        _exit(0);
    }
    struct rusage ru;
    int st;
    CHECK(wait4(pid, &st, 0, &ru) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    struct rusage c1 = usage(RUSAGE_CHILDREN);
    SAY("ru_maxrss: ours %ld KiB after 8 MiB (thread %ld, after munmap %ld); child after 16 MiB %ld KiB, RUSAGE_CHILDREN %ld -> %ld KiB",
        self.ru_maxrss, thread.ru_maxrss, later.ru_maxrss, ru.ru_maxrss, c0.ru_maxrss, c1.ru_maxrss);
    /* Linux's RSS counters lag (per-thread caches): 3/4 is enough. */
    const long kib = pages * 4 * 3 / 4;
    CHECK(self.ru_maxrss >= kib && thread.ru_maxrss >= kib);
    CHECK(later.ru_maxrss >= self.ru_maxrss);
    CHECK(ru.ru_maxrss >= 2 * kib);
    CHECK(c1.ru_maxrss >= 2 * kib && c1.ru_maxrss >= c0.ru_maxrss);
}

static void child_spins(long ms, int grandchild_ms)
{
    if (grandchild_ms) {
        pid_t g = fork();
        CHECK(g >= 0);
        if (g == 0) {
            spin_ms(grandchild_ms);
            _exit(0);
        }
        int st;
        CHECK(waitpid(g, &st, 0) == g && WIFEXITED(st));
    }
    spin_ms(ms);
    _exit(7);
}

static void children_after_wait(void)
{
    struct rusage c0 = usage(RUSAGE_CHILDREN);
    struct tms t0;
    CHECK(times(&t0) != (clock_t)-1);

    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) child_spins(200, 0);

    /* Its CPU clock, read from the parent while it runs. */
    clockid_t cc;
    CHECK(clock_getcpuclockid(pid, &cc) == 0);
    CHECK(cc == MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED));
    struct timespec ts;
    CHECK(clock_gettime(cc, &ts) == 0);

    /* Nothing ready: WNOHANG leaves the rusage alone. */
    struct rusage ru;
    memset(&ru, 0xaa, sizeof ru);
    int st;
    pid_t r = wait4(pid, &st, WNOHANG, &ru);
    if (r == 0) {
        unsigned char *p = (unsigned char *)&ru;
        for (size_t i = 0; i < sizeof ru; i++) CHECK(p[i] == 0xaa);
    }

    /* A zombie seen with WNOWAIT is not yet the parent's. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0 && si.si_pid == pid);
    CHECK(clock_gettime(cc, &ts) == 0);
    long long zombie_clock = ts.tv_sec * 1000000000LL + ts.tv_nsec;
    struct rusage c1 = usage(RUSAGE_CHILDREN);
    CHECK(tv_ns(c1.ru_utime) == tv_ns(c0.ru_utime) && tv_ns(c1.ru_stime) == tv_ns(c0.ru_stime));

    memset(&ru, 0, sizeof ru);
    CHECK(wait4(pid, &st, 0, &ru) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
    long long child = tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
    struct rusage c2 = usage(RUSAGE_CHILDREN);
    long long kids = tv_ns(c2.ru_utime) + tv_ns(c2.ru_stime) - tv_ns(c0.ru_utime) - tv_ns(c0.ru_stime);
    struct tms t1;
    CHECK(times(&t1) != (clock_t)-1);
    SAY("child spun 200 ms: its clock %lld ms, wait4 rusage %lld ms, RUSAGE_CHILDREN +%lld ms, tms_cutime +%ld",
        zombie_clock / MS, child / MS, kids / MS, (long)(t1.tms_cutime - t0.tms_cutime));
    CHECK(zombie_clock >= 40 * MS);
    CHECK(tv_ns(ru.ru_utime) >= 40 * MS);
    CHECK(kids >= 40 * MS);
    CHECK(t1.tms_cutime - t0.tms_cutime >= 4);
    CHECK(c2.ru_minflt >= c0.ru_minflt);
    /* Reaped: its clock is gone (clock_getres of it fails with EINVAL,
     * which newer musl and glibc turn into ESRCH). */
    CHECK_ERR(clock_gettime(cc, &ts), EINVAL);
    int gone = clock_getcpuclockid(pid, &cc);
    CHECK(gone == ESRCH || gone == EINVAL);

    /* A grandchild reaped by the child counts for us through the child. */
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) child_spins(50, 200);
    memset(&ru, 0, sizeof ru);
    CHECK(wait4(pid, &st, 0, &ru) == pid && WIFEXITED(st));
    struct rusage c3 = usage(RUSAGE_CHILDREN);
    long long both = tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
    long long more = tv_ns(c3.ru_utime) + tv_ns(c3.ru_stime) - tv_ns(c2.ru_utime) - tv_ns(c2.ru_stime);
    SAY("child 50 ms + grandchild 200 ms: wait4 rusage %lld ms, RUSAGE_CHILDREN +%lld ms", both / MS, more / MS);
    CHECK(both >= 80 * MS);
    CHECK(more >= 80 * MS);
}

static volatile long long thread_clock_at_end;
static volatile int thread_go;

static void *spinner(void *arg)
{
    (void)arg;
    while (!thread_go) sched_yield();
    spin_ms(150);
    thread_clock_at_end = ns_of(CLOCK_THREAD_CPUTIME_ID);
    return 0;
}

static void thread_vs_process_clock(void)
{
    pthread_t th;
    CHECK(pthread_create(&th, 0, spinner, 0) == 0);
    clockid_t tc;
    CHECK(pthread_getcpuclockid(th, &tc) == 0);
    spin_ms(100);
    thread_go = 1;
    /* Sleeping on the process clock: the other thread's spin ends it. */
    long long p0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
    struct timespec cd = {0, 30 * MS};
    CHECK(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &cd, 0) == 0);
    CHECK(ns_of(CLOCK_PROCESS_CPUTIME_ID) - p0 >= 30 * MS);
    long long seen = 0;
    struct timespec d = {0, 20 * MS};
    /* The other thread's clock moves while it runs. */
    for (int i = 0; i < 500 && !thread_clock_at_end; i++) {
        struct timespec ts;
        if (clock_gettime(tc, &ts) == 0) seen = ts.tv_sec * 1000000000LL + ts.tv_nsec;
        nanosleep(&d, 0);
    }
    CHECK(pthread_join(th, 0) == 0);
    long long mine = ns_of(CLOCK_THREAD_CPUTIME_ID);
    long long all = ns_of(CLOCK_PROCESS_CPUTIME_ID);
    long long thread_ru = cpu_ns(RUSAGE_THREAD);
    long long self_ru = cpu_ns(RUSAGE_SELF);
    SAY("main thread %lld ms, other thread %lld ms (seen %lld ms), process %lld ms; RUSAGE_THREAD %lld ms, RUSAGE_SELF %lld ms",
        mine / MS, thread_clock_at_end / MS, seen / MS, all / MS, thread_ru / MS, self_ru / MS);
    CHECK(thread_clock_at_end >= 40 * MS);
    CHECK(seen > 0);
    /* The process's clock holds both threads' (the dead one's too). */
    CHECK(all >= mine + thread_clock_at_end);
    CHECK(thread_ru <= self_ru);
    CHECK(self_ru - thread_ru >= 20 * MS);
    /* Its thread clock is gone with it (once the kernel let it go: join
     * returns when its tid word is cleared, a moment before). */
    struct timespec ts = {0, 50 * MS};
    nanosleep(&ts, 0);
    CHECK_ERR(clock_gettime(tc, &ts), EINVAL);
    /* This thread's own clock by its tid, and the process's by our tid. */
    pid_t tid = syscall(SYS_gettid);
    CHECK(clock_gettime(MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED), &ts) == 0);
    CHECK(clock_gettime(MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), &ts) == 0);
}

static volatile sig_atomic_t vtalrm, prof;
static void on_vtalrm(int s) { (void)s; vtalrm++; }
static void on_prof(int s) { (void)s; prof++; }

static void cpu_itimers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_vtalrm;
    CHECK(sigaction(SIGVTALRM, &sa, 0) == 0);
    sa.sa_handler = on_prof;
    CHECK(sigaction(SIGPROF, &sa, 0) == 0);

    /* Sleeping uses no CPU time: ITIMER_VIRTUAL does not fire. */
    struct itimerval it = {{0, 0}, {0, 100000}}, old;
    CHECK(setitimer(ITIMER_VIRTUAL, &it, 0) == 0);
    struct timespec d = {0, 300 * MS};
    while (nanosleep(&d, &d) != 0) CHECK(errno == EINTR);
    CHECK(vtalrm == 0);
    CHECK(getitimer(ITIMER_VIRTUAL, &old) == 0);
    /* Linux adds a tick to a CPU timer's first expiry. */
    SAY("ITIMER_VIRTUAL 100 ms after a 300 ms sleep: %ld.%06ld s left", (long)old.it_value.tv_sec, (long)old.it_value.tv_usec);
    CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_usec > 0 && old.it_value.tv_usec <= 120000);
    /* Spinning does. */
    long long end = ns_of(CLOCK_MONOTONIC) + 5000 * MS;
    while (!vtalrm && ns_of(CLOCK_MONOTONIC) < end)
        for (int i = 0; i < 100000 && !vtalrm; i++) sink++;
    CHECK(vtalrm == 1);
    CHECK(getitimer(ITIMER_VIRTUAL, &old) == 0);
    CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_usec == 0);

    /* ITIMER_PROF every 20 ms: several signals over a 300 ms spin. */
    struct itimerval p = {{0, 20000}, {0, 20000}};
    CHECK(setitimer(ITIMER_PROF, &p, 0) == 0);
    spin_cpu_ms(300);
    memset(&it, 0, sizeof it);
    CHECK(setitimer(ITIMER_PROF, &it, &old) == 0);
    CHECK(old.it_interval.tv_sec == 0 && old.it_interval.tv_usec == 20000);
    int n = prof;
    SAY("ITIMER_VIRTUAL fired after a spin, not during a sleep; ITIMER_PROF (20 ms) fired %d times in 300 ms of CPU time", n);
    CHECK(n >= 3);
    spin_ms(60);
    CHECK(prof == n);
    /* A forked child does not inherit them. */
    CHECK(setitimer(ITIMER_PROF, &p, 0) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct itimerval c;
        CHECK(getitimer(ITIMER_PROF, &c) == 0);
        _exit(c.it_value.tv_usec == 0 && c.it_value.tv_sec == 0 ? 0 : 3);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(setitimer(ITIMER_PROF, &it, 0) == 0);
    CHECK_ERR(setitimer(3, &it, 0), EINVAL);
    CHECK_ERR(getitimer(3, &old), EINVAL);
}

static void error_paths(void)
{
    struct rusage ru;
    CHECK_ERR(getrusage(2, &ru), EINVAL);
    CHECK_ERR(getrusage(-2, &ru), EINVAL); /* RUSAGE_BOTH is kernel-only */
    CHECK_ERR(getrusage(42, &ru), EINVAL);
    CHECK_ERR(syscall(SYS_getrusage, RUSAGE_SELF, (void *)8), EFAULT);
    CHECK_ERR(syscall(SYS_times, (void *)8), EFAULT);
    CHECK(syscall(SYS_times, 0) > 0);
    struct timespec ts;
    CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, (void *)8), EFAULT);
    /* No such process; a thread clock of another process's thread. */
    CHECK_ERR(clock_gettime(MAKE_PROCESS_CPUCLOCK(0x3ffffff, CPUCLOCK_SCHED), &ts), EINVAL);
    CHECK_ERR(clock_gettime(MAKE_THREAD_CPUCLOCK(getppid(), CPUCLOCK_SCHED), &ts), EINVAL);
    CHECK_ERR(clock_getres(MAKE_PROCESS_CPUCLOCK(0x3ffffff, CPUCLOCK_SCHED), &ts), EINVAL);
    clockid_t c;
    int none = clock_getcpuclockid(0x3ffffff, &c);
    CHECK(none == ESRCH || none == EINVAL);
    /* Another process's clock can be read. */
    CHECK(clock_getcpuclockid(getppid(), &c) == 0);
    CHECK(clock_gettime(c, &ts) == 0);
    /* CPU clocks are 1 ns clocks and cannot be set. */
    CHECK(clock_getres(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0 && ts.tv_sec == 0 && ts.tv_nsec == 1);
    CHECK(clock_getres(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 && ts.tv_sec == 0 && ts.tv_nsec == 1);
    CHECK_ERR(clock_settime(CLOCK_PROCESS_CPUTIME_ID, &ts), EINVAL);
    CHECK_ERR(clock_settime(CLOCK_THREAD_CPUTIME_ID, &ts), EINVAL);
    CHECK_ERR(syscall(SYS_clock_settime, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), &ts), EPERM);
    /* clock_nanosleep on the caller's own thread clock. */
    struct timespec d = {0, 1000};
    CHECK_ERR(syscall(SYS_clock_nanosleep, MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED), 0, &d, 0), EINVAL);
}

static char buf[65536];

static long slurp(const char *path)
{
    return t_slurp(path, buf, sizeof buf);
}

/* Fields 14-17 and 22 of a /proc stat line (utime stime cutime cstime, starttime). */
static void stat_fields(const char *path, long long *f)
{
    slurp(path);
    char *p = strrchr(buf, ')');
    CHECK(p);
    /* After ") ": field 3 (state) onwards. */
    char *s = p + 2;
    long long v[64];
    int n = 0;
    char state;
    CHECK(sscanf(s, "%c", &state) == 1);
    s += 2;
    while (n < 50 && *s) {
        char *e;
        v[n++] = strtoll(s, &e, 10);
        if (e == s) break;
        s = e;
    }
    CHECK(n >= 20);
    /* v[0] is field 4. */
    for (int i = 0; i < 4; i++) f[i] = v[14 - 4 + i];
    f[4] = v[22 - 4];
}

static void procfs(void)
{
    int mounted = t_mount_proc();
    long long f[5];
    stat_fields("/proc/self/stat", f);
    struct tms tm;
    clock_t now = times(&tm);
    SAY("/proc/self/stat: utime %lld stime %lld cutime %lld cstime %lld starttime %lld (times: %ld %ld %ld %ld, now %ld)",
        f[0], f[1], f[2], f[3], f[4], (long)tm.tms_utime, (long)tm.tms_stime, (long)tm.tms_cutime,
        (long)tm.tms_cstime, (long)now);
    CHECK(f[0] + f[1] >= 20);
    CHECK(f[0] + f[1] <= tm.tms_utime + tm.tms_stime + 2);
    CHECK(f[2] + f[3] >= 20);
    CHECK(f[2] == tm.tms_cutime && f[3] == tm.tms_cstime);
    /* starttime: clock ticks after boot, before now. */
    double up;
    slurp("/proc/uptime");
    CHECK(sscanf(buf, "%lf", &up) == 1);
    CHECK(f[4] >= 0 && f[4] <= (long long)(up * 100) + 1);

    /* /proc/self/task: one entry per thread, each with stat, status, comm. */
    char path[128];
    pid_t tid = syscall(SYS_gettid);
    DIR *d = opendir("/proc/self/task");
    CHECK(d);
    int found = 0, count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        count++;
        if (atoi(e->d_name) == tid) found = 1;
    }
    closedir(d);
    CHECK(found && count == 1);
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    stat_fields(path, f);
    CHECK(f[0] + f[1] >= 20);
    int spid;
    CHECK(sscanf(buf, "%d", &spid) == 1 && spid == tid);
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
    slurp(path);
    CHECK(strcmp(buf, "cputime\n") == 0);
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
    slurp(path);
    char want[64];
    snprintf(want, sizeof want, "\nPid:\t%d\n", tid);
    CHECK(strstr(buf, want));
    CHECK(strstr(buf, "voluntary_ctxt_switches:"));
    snprintf(path, sizeof path, "/proc/self/task/%d/nosuch", tid);
    CHECK_ERR(open(path, O_RDONLY), ENOENT);
    CHECK_ERR(open("/proc/self/task/999999/stat", O_RDONLY), ENOENT);

    /* /proc/status: the voluntary switch count is there and non-zero;
     * the peak resident set is at least the current one and our 8 MiB. */
    slurp("/proc/self/status");
    char *hwm = strstr(buf, "\nVmHWM:"), *rss = strstr(buf, "\nVmRSS:");
    CHECK(hwm && rss);
    long hwm_kb = atol(hwm + 7), rss_kb = atol(rss + 7);
    CHECK(rss_kb > 0 && hwm_kb >= rss_kb && hwm_kb >= 6144);
    char *v = strstr(buf, "\nvoluntary_ctxt_switches:");
    CHECK(v && atol(v + 26) > 0);

    /* /proc/stat: the cpu line's user time grows while we spin. */
    long long u0, n0, s0, i0, u1, n1, s1, i1;
    struct tms m0, m1;
    slurp("/proc/stat");
    CHECK(times(&m0) != (clock_t)-1);
    CHECK(sscanf(buf, "cpu %lld %lld %lld %lld", &u0, &n0, &s0, &i0) == 4);
    spin_ms(200);
    CHECK(times(&m1) != (clock_t)-1);
    slurp("/proc/stat");
    CHECK(sscanf(buf, "cpu %lld %lld %lld %lld", &u1, &n1, &s1, &i1) == 4);
    long mine = (long)(m1.tms_utime - m0.tms_utime);
    SAY("/proc/stat cpu: user +%lld system +%lld idle +%lld over a 200 ms spin (ours: utime +%ld)", u1 - u0, s1 - s0,
        i1 - i0, mine);
    /* Every CPU's ticks include ours (unless the host stalled our CPU). */
    CHECK(u1 - u0 >= 4 || mine < 10);
    CHECK(s1 >= s0 && i1 >= i0);
    CHECK(strstr(buf, "\ncpu0 "));
    if (mounted) CHECK(umount("/proc") == 0);
}

int main(void)
{
    user_time_accrues();
    sleeping_does_not_accrue();
    system_time_accrues();
    faults_and_switches_count();
    max_resident_set();
    children_after_wait();
    thread_vs_process_clock();
    cpu_itimers();
    error_paths();
    procfs();
    SAY("done");
    return 0;
}
