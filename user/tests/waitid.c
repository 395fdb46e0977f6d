/*
 * waitid, clone3, rt_sigtimedwait, rt_sigqueueinfo, sched_setaffinity and
 * the robust-list calls, with their error paths.
 */
#define T_NAME "waitid"
#include "t.h"

#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

/* struct clone_args of <linux/sched.h> (CLONE_ARGS_SIZE_VER2). */
struct clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

int main(void)
{
    /* waitid: exit code, WNOWAIT keeps the zombie, a signal death. */
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) _exit(5);
    siginfo_t si;
    memset(&si, 0xff, sizeof si);
    CHECK(waitid(P_PID, c, &si, WEXITED | WNOWAIT) == 0);
    CHECK(si.si_signo == SIGCHLD && si.si_code == CLD_EXITED && si.si_pid == c && si.si_status == 5);
    CHECK(waitid(P_PID, c, &si, WEXITED) == 0 && si.si_pid == c);
    CHECK_ERR(waitid(P_PID, c, &si, WEXITED), ECHILD);
    c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        for (;;) pause();
    }
    memset(&si, 0xff, sizeof si);
    CHECK(waitid(P_PID, c, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0);
    CHECK(kill(c, SIGKILL) == 0);
    CHECK(waitid(P_ALL, 0, &si, WEXITED) == 0);
    CHECK(si.si_code == CLD_KILLED && si.si_status == SIGKILL && si.si_pid == c);
    CHECK_ERR(waitid(P_ALL, 0, &si, 0), EINVAL);
    CHECK_ERR(waitid(7, 0, &si, WEXITED), EINVAL);
    SAY("waitid reports exits and kills, WNOWAIT and WNOHANG");

    /* clone3 as fork; bad sizes. */
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    long r = syscall(SYS_clone3, &ca, sizeof ca);
    CHECK(r >= 0);
    if (r == 0) _exit(9);
    int st;
    CHECK(waitpid((pid_t)r, &st, 0) == r && WIFEXITED(st) && WEXITSTATUS(st) == 9);
    CHECK_ERR(syscall(SYS_clone3, &ca, 8), EINVAL);
    CHECK_ERR(syscall(SYS_clone3, (void *)1, sizeof ca), EFAULT);
    SAY("clone3 forks; short args are EINVAL");

    /* rt_sigtimedwait: a blocked pending signal is taken; timeout EAGAIN. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &set, 0) == 0);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    struct timespec ts = {0, 50 * 1000 * 1000};
    memset(&si, 0, sizeof si);
    CHECK(sigtimedwait(&set, &si, &ts) == SIGUSR1 && si.si_signo == SIGUSR1);
    CHECK_ERR(sigtimedwait(&set, &si, &ts), EAGAIN);
    ts.tv_nsec = 2000000000L;
    CHECK_ERR(sigtimedwait(&set, &si, &ts), EINVAL);
    /* rt_sigqueueinfo to ourselves, then taken by sigwaitinfo. */
    siginfo_t q;
    memset(&q, 0, sizeof q);
    q.si_signo = SIGUSR1;
    q.si_code = SI_QUEUE;
    CHECK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &q) == 0);
    CHECK(sigwaitinfo(&set, &si) == SIGUSR1);
    CHECK_ERR(syscall(SYS_rt_sigqueueinfo, getpid(), 99, &q), EINVAL);
    CHECK_ERR(syscall(SYS_rt_sigqueueinfo, 0x7ffffff0, SIGUSR1, &q), ESRCH);
    SAY("sigtimedwait takes a pending signal, times out with EAGAIN");

    /* sched_setaffinity is recorded; an empty mask is EINVAL. */
    cpu_set_t cs;
    CPU_ZERO(&cs);
    CPU_SET(0, &cs);
    CHECK(sched_setaffinity(0, sizeof cs, &cs) == 0);
    cpu_set_t got;
    CHECK(sched_getaffinity(0, sizeof got, &got) == 0 && CPU_ISSET(0, &got) && CPU_COUNT(&got) == 1);
    CPU_ZERO(&cs);
    CHECK_ERR(sched_setaffinity(0, sizeof cs, &cs), EINVAL);
    CHECK_ERR(sched_setaffinity(0x7ffffff0, sizeof cs, &cs), ESRCH);
    SAY("sched_setaffinity is reported back by sched_getaffinity");

    /* A robust list head set comes back from get_robust_list. */
    static void *my_head[3] = {my_head, 0, 0}; /* an empty list points at itself */
    CHECK(syscall(SYS_set_robust_list, my_head, 24) == 0);
    void *head = 0;
    size_t len = 0;
    CHECK(syscall(SYS_get_robust_list, 0, &head, &len) == 0 && len == 24 && head == my_head);
    CHECK_ERR(syscall(SYS_set_robust_list, head, 7), EINVAL);
    CHECK_ERR(syscall(SYS_get_robust_list, 0x7ffffff0, &head, &len), ESRCH);
    SAY("robust list: get returns what set stored");
    SAY("ok");
    return 0;
}
