/*
 * kill_zombie: kill(2) reaches a child that has exited but is not reaped
 * yet (a zombie), as on Linux: by pid, by process group and with signal
 * 0 it succeeds, and the signal changes nothing (the wait status is the
 * exit code). Once reaped the pid is gone: ESRCH. A bad signal number is
 * EINVAL. (tokio's process_kill_after_wait kills a child that may have
 * exited already.)
 */
#define T_NAME "kill_zombie"
#include "t.h"

int main(void)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        _exit(3);
    }
    /* Wait until it is a zombie, without reaping it. */
    siginfo_t si = {0};
    CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0);
    CHECK(si.si_pid == pid && si.si_code == CLD_EXITED && si.si_status == 3);

    CHECK(kill(pid, 0) == 0);
    CHECK(kill(pid, SIGKILL) == 0);
    CHECK(kill(pid, SIGTERM) == 0);
    CHECK(kill(-pid, 0) == 0); /* its own process group: only the zombie */
    CHECK(kill(-pid, SIGKILL) == 0);
    CHECK_ERR(kill(pid, 1000), EINVAL);
    SAY("kill of a zombie succeeds");

    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    CHECK_ERR(kill(pid, 0), ESRCH);
    CHECK_ERR(kill(pid, SIGKILL), ESRCH);
    CHECK_ERR(kill(-pid, 0), ESRCH);
    SAY("reaped: ESRCH");
    return 0;
}
