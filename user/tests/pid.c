/* pid: getpid, getppid, gettid in a single-threaded process, and in a
 * forked child. */
#define T_NAME "pid"
#include "t.h"
#include <sys/syscall.h>

int main(void)
{
    pid_t pid = getpid(), ppid = getppid();
    pid_t tid = (pid_t)syscall(SYS_gettid);
    SAY("pid=%d ppid=%d tid=%d", (int)pid, (int)ppid, (int)tid);
    CHECK(pid > 0);
    CHECK(ppid > 0);
    CHECK(ppid != pid);
    CHECK(tid == pid);
    CHECK(getpid() == pid); /* stable */

    fflush(stdout);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        int ok = getpid() != pid && getppid() == pid && (pid_t)syscall(SYS_gettid) == getpid();
        _exit(ok ? 0 : 1);
    }
    CHECK(child != pid);
    int st;
    CHECK(waitpid(child, &st, 0) == child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("child %d saw ppid %d", (int)child, (int)pid);
    SAY("ok");
    return 0;
}
