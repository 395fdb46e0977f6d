/* sched: getpriority/setpriority (PRIO_PROCESS per thread, PRIO_PGRP,
 * PRIO_USER; clamping; the raw "20 - nice" return; EACCES and EPERM
 * without privilege; inheritance by fork; libc's nice()), /proc/[pid]/stat
 * priority, nice, rt_priority and policy, and the sched_* policy calls
 * (SCHED_OTHER/BATCH/IDLE/FIFO/RR, priorities, SCHED_RESET_ON_FORK,
 * sched_rr_get_interval, the errors). The raw calls: musl's
 * sched_setscheduler and friends return ENOSYS without asking the kernel. */
#define T_NAME "sched"
#include "t.h"
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_WHO_PGRP 2
#define IOPRIO_WHO_USER 3
#define IOPRIO(class, data) (((class) << 13) | (data))
static long ioget(int which, int who)
{
    return syscall(SYS_ioprio_get, which, who);
}
static long ioset(int which, int who, int prio)
{
    return syscall(SYS_ioprio_set, which, who, prio);
}

static long raw_getprio(int which, int who)
{
    return syscall(SYS_getpriority, which, who);
}
static long getsched(int pid)
{
    return syscall(SYS_sched_getscheduler, pid);
}
static long setsched(int pid, int policy, int prio)
{
    struct sched_param p = {.sched_priority = prio};
    return syscall(SYS_sched_setscheduler, pid, policy, &p);
}
static long getparam(int pid)
{
    struct sched_param p = {.sched_priority = -5};
    if (syscall(SYS_sched_getparam, pid, &p) != 0) return -100;
    return p.sched_priority;
}
static long setparam(int pid, int prio)
{
    struct sched_param p = {.sched_priority = prio};
    return syscall(SYS_sched_setparam, pid, &p);
}

/* Field n (1-based) of /proc/self/stat or of a thread's. */
static long stat_field(const char *path, int n)
{
    static char buf[2048];
    t_slurp(path, buf, sizeof buf);
    char *p = strrchr(buf, ')');
    CHECK(p);
    p += 2; /* field 3 */
    for (int i = 3; i < n; i++) {
        p = strchr(p, ' ');
        CHECK(p);
        p++;
    }
    return strtol(p, NULL, 10);
}

static void become(uid_t uid)
{
    CHECK(setresgid(uid, uid, uid) == 0);
    CHECK(setresuid(uid, uid, uid) == 0);
}

static void unprivileged(void *arg)
{
    (void)arg;
    become(1000);
    CHECK(getpriority(PRIO_PROCESS, 0) == 0);
    CHECK(setpriority(PRIO_PROCESS, 0, 5) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == 5);
    CHECK_ERR(setpriority(PRIO_PROCESS, 0, 4), EACCES); /* lower: RLIMIT_NICE 0 */
    CHECK(setpriority(PRIO_PROCESS, 0, 5) == 0);        /* the same: fine */
    CHECK(setpriority(PRIO_PROCESS, 0, 8) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == 8);
    CHECK_ERR(setpriority(PRIO_PROCESS, 1, 10), EPERM); /* init is root's */
    errno = 0;
    CHECK(nice(1) == 9 && errno == 0);
    CHECK_ERR(nice(-1), EPERM); /* libc maps EACCES to EPERM */
    CHECK(getpriority(PRIO_PROCESS, 0) == 9);
    /* PRIO_USER names this process (real uid 1000). */
    CHECK(setpriority(PRIO_USER, 1000, 12) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == 12);
    CHECK(raw_getprio(PRIO_USER, 1000) == 20 - 12);
    CHECK(raw_getprio(PRIO_USER, 0) == 20 - 12);

    /* The policies: FIFO/RR need privilege, BATCH/IDLE do not, and
     * leaving IDLE needs RLIMIT_NICE. */
    CHECK_ERR(setsched(0, SCHED_FIFO, 10), EPERM);
    CHECK_ERR(setsched(0, SCHED_RR, 1), EPERM);
    CHECK(setsched(0, SCHED_BATCH, 0) == 0);
    CHECK(getsched(0) == SCHED_BATCH);
    CHECK(setsched(0, SCHED_OTHER, 0) == 0);
    CHECK(setsched(0, SCHED_IDLE, 0) == 0);
    CHECK(getsched(0) == SCHED_IDLE);
    CHECK_ERR(setsched(0, SCHED_OTHER, 0), EPERM);
    CHECK_ERR(setsched(1, SCHED_OTHER, 0), EPERM); /* another user's */
    CHECK_ERR(setsched(0, SCHED_FIFO, 0), EINVAL);  /* invalid before EPERM */

    /* I/O priorities: RT needs privilege, others are free for one's own. */
    CHECK_ERR(ioset(IOPRIO_WHO_PROCESS, 0, IOPRIO(1, 0)), EPERM);
    CHECK(ioset(IOPRIO_WHO_PROCESS, 0, IOPRIO(2, 7)) == 0);
    CHECK(ioget(IOPRIO_WHO_PROCESS, 0) == IOPRIO(2, 7));
    CHECK_ERR(ioset(IOPRIO_WHO_PROCESS, 1, IOPRIO(2, 7)), EPERM);
    CHECK(ioset(IOPRIO_WHO_USER, 1000, IOPRIO(3, 0)) == 0);
    CHECK(ioget(IOPRIO_WHO_USER, 1000) == IOPRIO(3, 0));
}

static void root_child(void *arg)
{
    (void)arg;
    /* Root may lower the nice value; values are clamped. */
    CHECK(setpriority(PRIO_PROCESS, 0, -100) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == -20);
    CHECK(raw_getprio(PRIO_PROCESS, 0) == 40);
    CHECK(setpriority(PRIO_PROCESS, 0, 100) == 0);
    CHECK(raw_getprio(PRIO_PROCESS, 0) == 1);
    CHECK(setpriority(PRIO_PROCESS, getpid(), 6) == 0);
    CHECK(getpriority(PRIO_PROCESS, getpid()) == 6);
    CHECK(stat_field("/proc/self/stat", 18) == 26);
    CHECK(stat_field("/proc/self/stat", 19) == 6);
    /* Inherited by fork. */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(getpriority(PRIO_PROCESS, 0) == 6 ? 0 : 1);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* SCHED_FIFO and SCHED_RR for root. */
    CHECK(setsched(0, SCHED_FIFO, 10) == 0);
    CHECK(getsched(0) == SCHED_FIFO);
    CHECK(getparam(0) == 10);
    CHECK(stat_field("/proc/self/stat", 18) == -11);
    CHECK(stat_field("/proc/self/stat", 19) == 6);
    CHECK(stat_field("/proc/self/stat", 40) == 10);
    CHECK(stat_field("/proc/self/stat", 41) == SCHED_FIFO);
    struct timespec ts = {1, 1};
    CHECK(sched_rr_get_interval(0, &ts) == 0);
    CHECK(ts.tv_sec == 0 && ts.tv_nsec == 0);
    CHECK(setparam(0, 20) == 0);
    CHECK(getparam(getpid()) == 20);
    CHECK_ERR(setparam(0, 0), EINVAL);
    CHECK_ERR(setparam(0, 100), EINVAL);
    CHECK(getpriority(PRIO_PROCESS, 0) == 6); /* the nice value stays */
    /* FIFO is inherited, unless SCHED_RESET_ON_FORK. */
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(getsched(0) == SCHED_FIFO && getparam(0) == 20 ? 0 : 1);
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(setsched(0, SCHED_RR | SCHED_RESET_ON_FORK, 5) == 0);
    CHECK(getsched(0) == (SCHED_RR | SCHED_RESET_ON_FORK));
    CHECK(sched_rr_get_interval(0, &ts) == 0);
    CHECK(ts.tv_sec == 0 && ts.tv_nsec == 100000000L);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(getsched(0) == SCHED_OTHER && getparam(0) == 0 ? 0 : 1);
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(setsched(0, SCHED_OTHER, 0) == 0);
    CHECK(getsched(0) == SCHED_OTHER);
    CHECK(stat_field("/proc/self/stat", 41) == SCHED_OTHER);
    CHECK(stat_field("/proc/self/stat", 40) == 0);

    /* I/O priority: none (0) until one is set, whatever the nice value. */
    CHECK(setpriority(PRIO_PROCESS, 0, 10) == 0);
    CHECK(ioget(IOPRIO_WHO_PROCESS, 0) == 0);
    CHECK(ioset(IOPRIO_WHO_PROCESS, 0, IOPRIO(1, 3)) == 0);
    CHECK(ioget(IOPRIO_WHO_PROCESS, getpid()) == IOPRIO(1, 3));
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(ioget(IOPRIO_WHO_PROCESS, 0) == IOPRIO(1, 3) ? 0 : 1);
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(ioset(IOPRIO_WHO_PROCESS, 0, IOPRIO(3, 5)) == 0);
    CHECK(ioget(IOPRIO_WHO_PROCESS, 0) == IOPRIO(3, 5));
    CHECK(ioset(IOPRIO_WHO_PGRP, 0, IOPRIO(2, 1)) == 0);
    CHECK(ioget(IOPRIO_WHO_PGRP, 0) == IOPRIO(2, 1));
    CHECK(ioset(IOPRIO_WHO_PROCESS, 0, IOPRIO(0, 0)) == 0);
    CHECK(ioget(IOPRIO_WHO_PROCESS, 0) == 0);
    CHECK(ioset(IOPRIO_WHO_PROCESS, 0, IOPRIO(8, 0)) == 0); /* the class is 3 bits: NONE */
    CHECK(ioget(IOPRIO_WHO_PROCESS, 0) == 0);
    CHECK_ERR(ioset(IOPRIO_WHO_PROCESS, 0, IOPRIO(4, 0)), EINVAL);
    /* Only the low 3 bits of the data are a level (the rest are hints in
     * Debian's 6.1): BE with 8 is level 0, NONE wants level 0. */
    CHECK(ioset(IOPRIO_WHO_PROCESS, 0, IOPRIO(2, 8)) == 0);
    CHECK(ioget(IOPRIO_WHO_PROCESS, 0) == IOPRIO(2, 8));
    CHECK_ERR(ioset(IOPRIO_WHO_PROCESS, 0, IOPRIO(0, 1)), EINVAL);
    CHECK_ERR(ioset(IOPRIO_WHO_PROCESS, 0, IOPRIO(0, 9)), EINVAL);
    CHECK_ERR(ioset(4, 0, IOPRIO(2, 0)), EINVAL);
    CHECK_ERR(ioset(0, 0, IOPRIO(2, 0)), EINVAL);
    CHECK_ERR(ioget(4, 0), EINVAL);
    CHECK_ERR(ioset(IOPRIO_WHO_PROCESS, 999999, IOPRIO(2, 0)), ESRCH);
    CHECK_ERR(ioget(IOPRIO_WHO_PROCESS, 999999), ESRCH);
    CHECK_ERR(ioget(IOPRIO_WHO_USER, 4242), ESRCH);
}

/* PRIO_PGRP: a new group with a second member. */
static void pgrp_child(void *arg)
{
    (void)arg;
    CHECK(setpgid(0, 0) == 0);
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t member = fork();
    CHECK(member >= 0);
    if (member == 0) {
        char c;
        close(p[1]);
        if (read(p[0], &c, 1) != 1) _exit(2);
        _exit(getpriority(PRIO_PROCESS, 0) == 7 ? 0 : 1);
    }
    close(p[0]);
    CHECK(setpriority(PRIO_PGRP, 0, 7) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == 7);
    CHECK(raw_getprio(PRIO_PGRP, getpgrp()) == 13);
    CHECK(setpriority(PRIO_PROCESS, member, 3) == 0);
    CHECK(raw_getprio(PRIO_PGRP, 0) == 17); /* the highest priority of the group */
    CHECK(setpriority(PRIO_PROCESS, member, 7) == 0);
    CHECK(write(p[1], "x", 1) == 1);
    int st;
    CHECK(waitpid(member, &st, 0) == member && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static volatile int thread_tid, thread_go, thread_nice = -100;
static void *other(void *arg)
{
    (void)arg;
    thread_tid = (int)syscall(SYS_gettid);
    while (!thread_go) sched_yield();
    thread_nice = getpriority(PRIO_PROCESS, 0);
    return NULL;
}

/* The nice value belongs to a thread. */
static void thread_child(void *arg)
{
    (void)arg;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, other, NULL) == 0);
    while (!thread_tid) sched_yield();
    CHECK(setpriority(PRIO_PROCESS, thread_tid, 11) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == 0);
    CHECK(getpriority(PRIO_PROCESS, thread_tid) == 11);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", thread_tid);
    CHECK(stat_field(path, 19) == 11);
    CHECK(stat_field("/proc/self/stat", 19) == 0);
    thread_go = 1;
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(thread_nice == 11);
}

int main(void)
{
    int mounted = t_mount_proc();
    /* Errors. */
    CHECK_ERR(getpriority(3, 0), EINVAL);
    CHECK_ERR(getpriority(-1, 0), EINVAL);
    CHECK_ERR(setpriority(3, 0, 0), EINVAL);
    CHECK_ERR(getpriority(PRIO_PROCESS, 999999), ESRCH);
    CHECK_ERR(setpriority(PRIO_PROCESS, 999999, 0), ESRCH);
    CHECK_ERR(getpriority(PRIO_PGRP, 999999), ESRCH);
    CHECK_ERR(getpriority(PRIO_USER, 4242), ESRCH);
    CHECK(raw_getprio(PRIO_PROCESS, 0) == 20);
    SAY("priority errors ok");

    CHECK(sched_get_priority_max(SCHED_FIFO) == 99);
    CHECK(sched_get_priority_min(SCHED_FIFO) == 1);
    CHECK(sched_get_priority_max(SCHED_RR) == 99);
    CHECK(sched_get_priority_min(SCHED_RR) == 1);
    CHECK(sched_get_priority_max(SCHED_OTHER) == 0);
    CHECK(sched_get_priority_min(SCHED_BATCH) == 0);
    CHECK(sched_get_priority_max(SCHED_IDLE) == 0);
    CHECK(sched_get_priority_max(SCHED_DEADLINE) == 0);
    CHECK_ERR(sched_get_priority_max(-1), EINVAL);
    CHECK_ERR(sched_get_priority_max(4), EINVAL);
    CHECK_ERR(sched_get_priority_min(7), EINVAL);
    CHECK(getsched(0) == SCHED_OTHER);
    CHECK(getparam(0) == 0);
    CHECK_ERR(getsched(-1), EINVAL);
    CHECK_ERR(getsched(999999), ESRCH);
    CHECK_ERR(syscall(SYS_sched_getparam, 0, NULL), EINVAL);
    CHECK_ERR(syscall(SYS_sched_getparam, 999999, &(struct sched_param){0}), ESRCH);
    CHECK_ERR(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL), EINVAL);
    CHECK_ERR(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8), EFAULT);
    CHECK_ERR(setsched(-1, SCHED_OTHER, 0), EINVAL);
    CHECK_ERR(setsched(999999, SCHED_OTHER, 0), ESRCH);
    CHECK_ERR(setsched(0, -1, 0), EINVAL);
    CHECK_ERR(setsched(0, 99, 0), EINVAL);
    CHECK_ERR(setsched(0, SCHED_OTHER, 1), EINVAL);
    CHECK_ERR(setsched(0, SCHED_FIFO, 0), EINVAL);
    CHECK_ERR(setsched(0, SCHED_FIFO, 100), EINVAL);
    CHECK_ERR(setsched(0, SCHED_RR, -1), EINVAL);
    CHECK_ERR(setsched(0, SCHED_DEADLINE, 0), EINVAL);
    CHECK_ERR(setparam(0, 1), EINVAL); /* SCHED_OTHER takes 0 only */
    CHECK(setparam(0, 0) == 0);
    struct timespec ts;
    CHECK_ERR(sched_rr_get_interval(-1, &ts), EINVAL);
    CHECK_ERR(sched_rr_get_interval(999999, &ts), ESRCH);
    CHECK(sched_rr_get_interval(0, &ts) == 0);
    CHECK(ts.tv_sec == 0 && ts.tv_nsec > 0);
    SAY("sched errors ok");

    int st = t_in_child(root_child, NULL);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("root ok");
    st = t_in_child(unprivileged, NULL);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("unprivileged ok");
    st = t_in_child(pgrp_child, NULL);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("pgrp ok");
    st = t_in_child(thread_child, NULL);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("threads ok");
    CHECK(getpriority(PRIO_PROCESS, 0) == 0);
    if (mounted) CHECK(umount2("/proc", 0) == 0);
    return 0;
}
