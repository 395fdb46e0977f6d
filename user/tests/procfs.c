/*
 * procfs: /proc/self and the files ps, top, free and mount read, checked
 * against what the process knows about itself. Mounts /proc first if
 * nothing is there (the test initramfs boots without it).
 */
#define T_NAME "procfs"
#include "t.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

static char buf[65536];

/* The hex value of status line `key` (e.g. "SigIgn") in buf. */
static unsigned long long status_hex(const char *key)
{
    char want[64];
    snprintf(want, sizeof want, "\n%s:\t", key);
    char *at = strstr(buf, want);
    if (!at) return ~0ULL;
    return strtoull(at + strlen(want), NULL, 16);
}

static void on_usr2(int sig) { (void)sig; }

static int thread_pipe[2];
static volatile pid_t thread_tid;

/* A second thread: says its tid, then waits until the pipe closes. */
static void *idle_thread(void *arg)
{
    (void)arg;
    thread_tid = syscall(SYS_gettid);
    char c;
    while (read(thread_pipe[0], &c, 1) > 0) {
    }
    return NULL;
}

/* The whole file, NUL-terminated, in buf; its length. */
static long slurp(const char *path)
{
    return t_slurp(path, buf, sizeof buf);
}

int main(int argc, char **argv)
{
    (void)argc;
    int mounted = t_mount_proc();
    pid_t pid = getpid(), ppid = getppid();
    char want[128];

    /* /proc/self is a symlink to our pid. */
    char link[512];
    ssize_t n = readlink("/proc/self", link, sizeof link - 1);
    CHECK(n > 0);
    link[n] = 0;
    snprintf(want, sizeof want, "%d", pid);
    CHECK(strcmp(link, want) == 0);

    /* stat: pid (comm) state ppid ... */
    slurp("/proc/self/stat");
    int spid, sppid;
    char comm[64], state;
    CHECK(sscanf(buf, "%d (%63[^)]) %c %d", &spid, comm, &state, &sppid) == 4);
    CHECK(spid == pid && sppid == ppid);
    CHECK(strcmp(comm, "procfs") == 0);
    CHECK(state == 'R');
    int fields = 0;
    for (char *p = strrchr(buf, ')'); p && *p; p++)
        if (*p == ' ') fields++;
    CHECK(fields >= 50);
    SAY("stat: pid %d ppid %d state %c, %d fields", spid, sppid, state, fields + 2);

    /* status: Name, State, Pid, PPid, Uid lines. */
    slurp("/proc/self/status");
    CHECK(strncmp(buf, "Name:\tprocfs\n", 13) == 0);
    snprintf(want, sizeof want, "\nPid:\t%d\n", pid);
    CHECK(strstr(buf, want));
    snprintf(want, sizeof want, "\nPPid:\t%d\n", ppid);
    CHECK(strstr(buf, want));
    snprintf(want, sizeof want, "\nUid:\t%d\t%d\t%d\t%d\n", getuid(), geteuid(), geteuid(), geteuid());
    CHECK(strstr(buf, want));
    CHECK(strstr(buf, "\nState:\tR (running)\n"));
    /* The ids are the process's own, after a setuid too. */
    fflush(stdout);
    pid_t kid = fork();
    CHECK(kid >= 0);
    if (kid == 0) {
        if (setuid(1000) != 0) _exit(2);
        slurp("/proc/self/status");
        _exit(strstr(buf, "\nUid:\t1000\t1000\t1000\t1000\n") && strstr(buf, "\nGid:\t0\t0\t0\t0\n") ? 0 : 3);
    }
    int kst;
    CHECK(waitpid(kid, &kst, 0) == kid && WIFEXITED(kst) && WEXITSTATUS(kst) == 0);
    SAY("status lines");

    /* comm, cmdline, environ. */
    slurp("/proc/self/comm");
    CHECK(strcmp(buf, "procfs\n") == 0);
    int cfd = open("/proc/self/comm", O_WRONLY);
    CHECK(cfd >= 0 && write(cfd, "renamed-by-a-long-write", 23) == 23);
    close(cfd);
    slurp("/proc/self/comm");
    CHECK(strcmp(buf, "renamed-by-a-lo\n") == 0);
    CHECK(prctl(PR_SET_NAME, "procfs", 0, 0, 0) == 0);
    slurp("/proc/self/comm");
    CHECK(strcmp(buf, "procfs\n") == 0);
    long len = slurp("/proc/self/cmdline");
    CHECK(len > 0 && strcmp(buf, argv[0]) == 0);
    CHECK(buf[len - 1] == 0);
    len = slurp("/proc/self/environ");
    int found = 0;
    for (long i = 0; i < len; i += strlen(buf + i) + 1)
        if (strcmp(buf + i, "FERRITE_TEST=1") == 0) found = 1;
    CHECK(found);

    /* exe and cwd links. */
    n = readlink("/proc/self/exe", link, sizeof link - 1);
    CHECK(n > 0);
    link[n] = 0;
    CHECK(n >= 13 && strcmp(link + n - 13, "/tests/procfs") == 0);
    char cwd[512];
    CHECK(getcwd(cwd, sizeof cwd));
    n = readlink("/proc/self/cwd", link, sizeof link - 1);
    CHECK(n > 0);
    link[n] = 0;
    CHECK(strcmp(link, cwd) == 0);
    SAY("exe -> %s", argv[0]);

    /* fd/: our descriptors, as symlinks to what they name. */
    int fd = open(P("/etc/ferrite-test.txt"), O_RDONLY);
    CHECK(fd >= 3);
    DIR *d = opendir("/proc/self/fd");
    CHECK(d);
    int seen = 0, dots = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') {
            dots++;
            continue;
        }
        int n = atoi(e->d_name);
        if (n == 0 || n == 1 || n == 2 || n == fd) seen++;
        if (n == fd) CHECK(e->d_type == DT_LNK);
    }
    closedir(d);
    CHECK(dots == 2 && seen == 4);
    snprintf(want, sizeof want, "/proc/self/fd/%d", fd);
    n = readlink(want, link, sizeof link - 1);
    CHECK(n > 0);
    link[n] = 0;
    CHECK(strcmp(link, P("/etc/ferrite-test.txt")) == 0);
    close(fd);
    CHECK_ERR(readlink(want, link, sizeof link), ENOENT);
    SAY("fd listing and links");

    /* maps: well-formed lines, our executable and the stack among them. */
    len = slurp("/proc/self/maps");
    int lines = 0, exe = 0, stack = 0;
    for (char *l = buf; *l;) {
        char *end = strchr(l, '\n');
        CHECK(end);
        *end = 0;
        unsigned long lo, hi, off, ino;
        unsigned maj, min;
        char perms[8];
        CHECK(sscanf(l, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &off, &maj, &min, &ino) == 7);
        CHECK(lo < hi && strlen(perms) == 4 && (perms[3] == 'p' || perms[3] == 's'));
        if (strstr(l, "/tests/procfs")) exe++;
        if (strstr(l, "[stack]")) stack++;
        lines++;
        l = end + 1;
    }
    CHECK(lines >= 3 && exe >= 1 && stack == 1);
    SAY("maps: %d lines", lines);

    /* System-wide files. */
    slurp("/proc/meminfo");
    unsigned long total = 0;
    CHECK(sscanf(buf, "MemTotal: %lu kB", &total) == 1 && total > 1024);
    CHECK(strstr(buf, "\nMemFree:"));
    slurp("/proc/uptime");
    double up, idle;
    CHECK(sscanf(buf, "%lf %lf", &up, &idle) == 2 && up > 0);
    slurp("/proc/loadavg");
    double l1;
    CHECK(sscanf(buf, "%lf", &l1) == 1);
    slurp("/proc/stat");
    CHECK(strncmp(buf, "cpu ", 4) == 0 && strstr(buf, "\nbtime "));
    slurp("/proc/mounts");
    CHECK(strstr(buf, " /proc proc "));
    /* mountinfo: /proc's line names "/" (of its fs) and sits on the root mount. */
    slurp("/proc/self/mountinfo");
    int root_id = -1, proc_parent = -2, proc_lines = 0;
    for (char *l = buf; *l;) {
        char *end = strchr(l, '\n');
        CHECK(end);
        *end = 0;
        int id, parent;
        unsigned maj, min;
        char root[256], point[256];
        CHECK(sscanf(l, "%d %d %u:%u %255s %255s", &id, &parent, &maj, &min, root, point) == 6);
        CHECK(strstr(l, " - "));
        if (strcmp(point, "/") == 0) root_id = id;
        if (strcmp(point, "/proc") == 0 && strstr(l, " - proc ")) {
            proc_parent = parent;
            proc_lines++;
            CHECK(strcmp(root, "/") == 0);
        }
        l = end + 1;
    }
    CHECK(proc_lines == 1 && proc_parent == root_id);
    slurp("/proc/filesystems");
    CHECK(strstr(buf, "\tproc\n") && strstr(buf, "\ttmpfs\n"));
    slurp("/proc/sys/kernel/ostype");
    CHECK(strcmp(buf, "Linux\n") == 0);
    fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    CHECK(fd >= 0 && write(fd, "3\n", 2) == 2);
    close(fd);
    struct statfs fs;
    CHECK(statfs("/proc", &fs) == 0 && fs.f_type == 0x9fa0);

    /* The host name: /proc/sys/kernel/hostname is uname's nodename. */
    struct utsname u;
    CHECK(uname(&u) == 0);
    char old[65];
    snprintf(old, sizeof old, "%s", u.nodename);
    slurp("/proc/sys/kernel/hostname");
    snprintf(want, sizeof want, "%s\n", old);
    CHECK(strcmp(buf, want) == 0);
    fd = open("/proc/sys/kernel/hostname", O_WRONLY);
    CHECK(fd >= 0 && write(fd, "procfs-test\n", 12) == 12);
    close(fd);
    CHECK(uname(&u) == 0 && strcmp(u.nodename, "procfs-test") == 0);
    CHECK_ERR(sethostname(old, 65), EINVAL);
    CHECK(sethostname(old, strlen(old)) == 0);
    slurp("/proc/sys/kernel/hostname");
    CHECK(strcmp(buf, want) == 0);
    SAY("meminfo MemTotal %lu kB, uptime %.2f", total, up);

    /* Signal dispositions and pending sets in status, as bit masks of
     * signal numbers less one. */
    signal(SIGUSR1, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_usr2};
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
    CHECK(syscall(SYS_tgkill, pid, syscall(SYS_gettid), SIGTERM) == 0); /* this thread */
    CHECK(kill(pid, SIGHUP) == 0);                                     /* the process */
    slurp("/proc/self/status");
    CHECK(status_hex("SigIgn") & (1ULL << (SIGUSR1 - 1)));
    CHECK(!(status_hex("SigIgn") & (1ULL << (SIGUSR2 - 1))));
    CHECK(status_hex("SigCgt") & (1ULL << (SIGUSR2 - 1)));
    CHECK(!(status_hex("SigCgt") & (1ULL << (SIGUSR1 - 1))));
    CHECK(status_hex("SigBlk") == ((1ULL << (SIGTERM - 1)) | (1ULL << (SIGHUP - 1))));
    CHECK(status_hex("SigPnd") == 1ULL << (SIGTERM - 1));
    CHECK(status_hex("ShdPnd") == 1ULL << (SIGHUP - 1));
    signal(SIGTERM, SIG_IGN); /* discards the pending ones */
    signal(SIGHUP, SIG_IGN);
    CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0);
    slurp("/proc/self/status");
    CHECK(status_hex("SigPnd") == 0 && status_hex("ShdPnd") == 0);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    SAY("status signal masks");

    /* Cpus_allowed and Cpus_allowed_list follow sched_setaffinity. */
    {
        cpu_set_t all;
        CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
        int ncpu = CPU_COUNT(&all);
        char line[64];
        slurp("/proc/self/status");
        if (ncpu > 1)
            snprintf(line, sizeof line, "\nCpus_allowed_list:\t0-%d\n", ncpu - 1);
        else
            snprintf(line, sizeof line, "\nCpus_allowed_list:\t0\n");
        CHECK(strstr(buf, line));
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
        slurp("/proc/self/status");
        CHECK(strstr(buf, "\nCpus_allowed:\t1\n"));
        CHECK(strstr(buf, "\nCpus_allowed_list:\t0\n"));
        CHECK(sched_setaffinity(0, sizeof all, &all) == 0);
        SAY("Cpus_allowed with %d CPUs", ncpu);
    }

    /* thread-self, /proc/[pid]/task/[tid], and /proc/[tid] of a thread
     * that is not the leader (found by lookup, not listed). */
    n = readlink("/proc/thread-self", link, sizeof link - 1);
    CHECK(n > 0);
    link[n] = 0;
    snprintf(want, sizeof want, "%d/task/%d", pid, pid);
    CHECK(strcmp(link, want) == 0);
    CHECK(pipe(thread_pipe) == 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, idle_thread, NULL) == 0);
    while (!thread_tid) sched_yield();
    snprintf(want, sizeof want, "/proc/%d/task/%d/status", pid, thread_tid);
    slurp(want);
    char tline[64];
    snprintf(tline, sizeof tline, "\nPid:\t%d\n", thread_tid);
    CHECK(strstr(buf, tline));
    snprintf(want, sizeof want, "/proc/%d/status", thread_tid);
    CHECK(slurp(want) > 0);
    snprintf(tline, sizeof tline, "\nTgid:\t%d\n", pid);
    CHECK(strstr(buf, tline));
    snprintf(want, sizeof want, "/proc/%d/stat", thread_tid);
    CHECK(slurp(want) > 0);
    CHECK(atoi(buf) == thread_tid);
    DIR *pd = opendir("/proc");
    CHECK(pd);
    int listed = 0;
    for (struct dirent *de; (de = readdir(pd));)
        if (atoi(de->d_name) == thread_tid) listed = 1;
    closedir(pd);
    CHECK(!listed);
    close(thread_pipe[1]);
    CHECK(pthread_join(th, NULL) == 0);
    close(thread_pipe[0]);
    /* The thread is gone soon after the join (Linux wakes the joiner a
     * little before it releases the thread). */
    snprintf(want, sizeof want, "/proc/%d/status", thread_tid);
    int gone = 0;
    for (int i = 0; i < 200 && !gone; i++) {
        int fd = open(want, O_RDONLY);
        if (fd < 0 && errno == ENOENT) {
            gone = 1;
        } else {
            if (fd >= 0) close(fd);
            usleep(5000);
        }
    }
    CHECK(gone);
    SAY("thread-self and /proc/[tid]");

    /* Other processes, and ones that do not exist. */
    snprintf(want, sizeof want, "/proc/%d/stat", ppid);
    CHECK(access(want, R_OK) == 0);
    CHECK_ERR(open("/proc/999999/stat", O_RDONLY), ENOENT);
    CHECK_ERR(open("/proc/self/nonexistent", O_RDONLY), ENOENT);
    CHECK_ERR(open("/proc/newfile", O_CREAT | O_WRONLY, 0644), ENOENT);
    CHECK_ERR(mkdir("/proc/newdir", 0755), ENOENT);

    if (mounted) CHECK(umount2("/proc", 0) == 0);
    SAY("ok");
    return 0;
}
