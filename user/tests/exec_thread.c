/* exec_thread: execve from a thread that is not the process's leader.
 * Linux's de_thread: the other threads end, the caller takes over the
 * leader's identity (its tid becomes the pid), the pid and parent do not
 * change, and the new image starts with one thread. */
#define T_NAME "exec_thread"
#include "t.h"
#include <dirent.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/stat.h>

static char self_path[256];
static char pid_arg[32], ppid_arg[32], tid_arg[32];

static void *exec_from_thread(void *arg)
{
    (void)arg;
    snprintf(tid_arg, sizeof tid_arg, "%ld", (long)syscall(SYS_gettid));
    char *argv[] = {self_path, "--after", pid_arg, ppid_arg, tid_arg, NULL};
    execv(self_path, argv);
    T_FAIL("execv returned");
    return NULL;
}

/* A thread that sleeps until the exec ends it. */
static void *sleeper(void *arg)
{
    (void)arg;
    for (;;) pause();
    return NULL;
}

static int count_tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    if (access("/proc/self/stat", F_OK) != 0) {
        mkdir("/proc", 0555);
        mount("proc", "/proc", "proc", 0, 0);
    }
    if (argc == 5 && strcmp(argv[1], "--after") == 0) {
        pid_t pid = atoi(argv[2]), ppid = atoi(argv[3]), old_tid = atoi(argv[4]);
        CHECK(old_tid != pid);
        CHECK(getpid() == pid);
        CHECK(getppid() == ppid);
        CHECK(syscall(SYS_gettid) == pid);
        CHECK(count_tasks() == 1);
        char want[64];
        snprintf(want, sizeof want, "/proc/self/task/%d", pid);
        CHECK(access(want, F_OK) == 0);
        snprintf(want, sizeof want, "/proc/self/task/%d", old_tid);
        CHECK_ERR(access(want, F_OK), ENOENT);
        /* Signals to the new image's only thread by its (new) tid. */
        CHECK(syscall(SYS_tgkill, pid, pid, 0) == 0);
        CHECK_ERR(syscall(SYS_tgkill, pid, old_tid, 0), ESRCH);
        SAY("after exec from thread %d: tid %d = pid, 1 thread", old_tid, pid);
        SAY("ok");
        return 0;
    }
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    CHECK(n > 0);
    self_path[n] = 0;
    snprintf(pid_arg, sizeof pid_arg, "%d", getpid());
    snprintf(ppid_arg, sizeof ppid_arg, "%d", getppid());
    pthread_t s, t;
    CHECK(pthread_create(&s, NULL, sleeper, NULL) == 0);
    CHECK(pthread_create(&t, NULL, exec_from_thread, NULL) == 0);
    /* The exec ends this thread; it never returns from the join. */
    pthread_join(t, NULL);
    T_FAIL("main thread outlived the exec");
    return 1;
}
