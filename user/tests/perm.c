/* perm: user and group credentials and the permission checks that use
 * them. As root it builds a tree under /tmp/permtest:
 *
 *   base     0755 root          secret   0600 root file
 *   rodir    0755 root dir      sticky   1777 dir with root's rootfile 0644
 *   private  0700 root dir      open     0666 root file
 *   script   0644 "#!" file     sgid     2777 dir, group 50
 *   suid     06755 file of uid 1000
 *
 * then checks the set*id rules for root (the saved uid lets it come back,
 * setfsuid), and in a child that drops to uid/gid 1000 every refusal
 * Linux makes: EACCES from mode bits and search permission, EPERM from
 * sticky directories, chmod/chown, kill, setuid, setrlimit, reboot and
 * mknod, sethostname and the clock. Finally access(2) with real versus
 * effective ids, and what execve does to the ids (and auxv). */
#define T_NAME "perm"
#include "t.h"
#include <fcntl.h>
#include <grp.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>

#define BASE "/tmp/permtest"

static void put(const char *path, int mode, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    CHECK(close(fd) == 0);
    CHECK(chmod(path, mode) == 0);
}

static void ids_are(uid_t r, uid_t e, uid_t s)
{
    uid_t a, b, c;
    CHECK(getresuid(&a, &b, &c) == 0);
    if (a != r || b != e || c != s) {
        fprintf(stderr, "perm: resuid %u %u %u, expected %u %u %u\n", a, b, c, r, e, s);
        _exit(1);
    }
}

/* Root's own transitions: a saved uid of 0 lets it come back. */
static void root_transitions(void *arg)
{
    (void)arg;
    ids_are(0, 0, 0);
    CHECK(setresuid(-1, 1000, -1) == 0);
    ids_are(0, 1000, 0);
    CHECK(geteuid() == 1000 && getuid() == 0);
    /* fsuid followed euid: the root-only file is closed now. */
    CHECK_ERR(open(BASE "/secret", O_RDONLY), EACCES);
    CHECK(setfsuid(-1) == 1000);
    /* 0 is the real and saved uid, so setfsuid(0) is allowed. */
    CHECK(setfsuid(0) == 1000);
    CHECK(setfsuid(-1) == 0);
    int fd = open(BASE "/secret", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    CHECK(setfsuid(4242) == 0); /* not held: refused silently */
    CHECK(setfsuid(-1) == 0);
    CHECK_ERR(setuid(4242), EPERM);
    CHECK(setresuid(-1, 0, -1) == 0);
    ids_are(0, 0, 0);
    CHECK(setfsuid(4242) == 0); /* root may pick any */
    CHECK(setfsuid(-1) == 4242);
    CHECK_ERR(open(BASE "/secret", O_RDONLY), EACCES);
    CHECK(setfsuid(0) == 4242);
    /* setreuid(-1, e) with e != ruid moves the saved uid too. */
    CHECK(setreuid(-1, 1000) == 0);
    ids_are(0, 1000, 1000);
    CHECK(setreuid(-1, 0) == 0); /* 0 is still the real uid */
    ids_are(0, 0, 1000);
    CHECK(setuid(2000) == 0); /* privileged: all of them */
    ids_are(2000, 2000, 2000);
    CHECK_ERR(setuid(0), EPERM);
    CHECK_ERR(setreuid(-1, 0), EPERM);
    CHECK_ERR(setresuid(-1, -1, 0), EPERM);
    CHECK(setresuid(-1, -1, -1) == 0);
    CHECK_ERR(setuid(-1), EINVAL);
}

struct rlimit nofile;

static void as_user(void *arg)
{
    (void)arg;
    pid_t parent = getppid();
    CHECK(setgroups(0, NULL) == 0);
    CHECK(setgid(1000) == 0);
    CHECK(setuid(1000) == 0);
    ids_are(1000, 1000, 1000);
    struct stat st;
    gid_t g1, g2, g3;
    CHECK(getresgid(&g1, &g2, &g3) == 0);
    CHECK(g1 == 1000 && g2 == 1000 && g3 == 1000);
    CHECK(getgroups(0, NULL) == 0);
    CHECK(getuid() == 1000 && geteuid() == 1000 && getgid() == 1000 && getegid() == 1000);
    CHECK_ERR(setgroups(0, NULL), EPERM);
    CHECK_ERR(setuid(0), EPERM);
    CHECK_ERR(seteuid(0), EPERM);
    CHECK_ERR(setresuid(0, -1, -1), EPERM);
    CHECK_ERR(setgid(0), EPERM);
    SAY("uid 1000: ids ok");

    /* Mode bits. */
    CHECK_ERR(open(BASE "/secret", O_RDONLY), EACCES);
    CHECK_ERR(open(BASE "/secret", O_WRONLY), EACCES);
    CHECK_ERR(truncate(BASE "/secret", 0), EACCES);
    int fd = open(BASE "/open", O_RDWR);
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERR(open(BASE "/open", O_RDONLY | O_NOATIME), EPERM);
    /* Writing drops set-user-ID and set-group-ID (group-executable). */
    fd = open(BASE "/suid", O_WRONLY);
    CHECK(fd >= 0);
    CHECK(write(fd, "x", 1) == 1);
    close(fd);
    CHECK(stat(BASE "/suid", &st) == 0);
    CHECK((st.st_mode & 07777) == 0755);
    /* Search permission on every directory walked. */
    CHECK_ERR(open(BASE "/private/x", O_RDONLY), EACCES);
    CHECK_ERR(stat(BASE "/private/x", &st), EACCES);
    CHECK(stat(BASE "/private", &st) == 0);
    CHECK_ERR(chdir(BASE "/private"), EACCES);
    /* Creating needs write permission on the directory. */
    CHECK_ERR(open(BASE "/rodir/new", O_WRONLY | O_CREAT, 0644), EACCES);
    CHECK_ERR(mkdir(BASE "/rodir/d", 0755), EACCES);
    CHECK_ERR(symlink("x", BASE "/rodir/l"), EACCES);
    CHECK_ERR(mkdir(BASE "/rodir", 0755), EEXIST); /* EEXIST comes first */
    CHECK_ERR(rmdir(BASE "/rodir"), EACCES);
    CHECK_ERR(unlink(BASE "/secret"), EACCES);
    SAY("uid 1000: mode bits and search permission ok");

    /* Sticky directory: root's file stays, our own may go. */
    CHECK_ERR(unlink(BASE "/sticky/rootfile"), EPERM);
    CHECK_ERR(rename(BASE "/sticky/rootfile", BASE "/sticky/moved"), EPERM);
    fd = open(BASE "/sticky/mine", O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    CHECK(fstat(fd, &st) == 0);
    CHECK(st.st_uid == 1000 && st.st_gid == 1000);
    close(fd);
    CHECK_ERR(rename(BASE "/sticky/mine", BASE "/sticky/rootfile"), EPERM);
    CHECK(rename(BASE "/sticky/mine", BASE "/sticky/mine2") == 0);
    CHECK(unlink(BASE "/sticky/mine2") == 0);
    CHECK(mkdir(BASE "/sticky/mydir", 0755) == 0);
    CHECK(rmdir(BASE "/sticky/mydir") == 0);
    /* A set-group-ID directory gives new files its group. */
    fd = open(BASE "/sgid/f", O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK(fstat(fd, &st) == 0);
    CHECK(st.st_uid == 1000 && st.st_gid == 50);
    close(fd);
    CHECK(unlink(BASE "/sgid/f") == 0);
    SAY("uid 1000: sticky and set-group-ID directories ok");

    /* chmod, chown, utimensat. */
    CHECK_ERR(chmod(BASE "/secret", 0777), EPERM);
    CHECK_ERR(chmod(BASE "/sticky/rootfile", 0666), EPERM);
    CHECK_ERR(chown(BASE "/open", 1000, 1000), EPERM);
    fd = open(BASE "/sticky/own", O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERR(chown(BASE "/sticky/own", 0, -1), EPERM);
    CHECK_ERR(chown(BASE "/sticky/own", -1, 0), EPERM);
    CHECK(chown(BASE "/sticky/own", 1000, 1000) == 0);
    CHECK(chmod(BASE "/sticky/own", 02755) == 0);
    CHECK(stat(BASE "/sticky/own", &st) == 0);
    CHECK((st.st_mode & 07777) == 02755);
    struct timespec ts[2] = {{1, 0}, {2, 0}};
    CHECK_ERR(utimensat(AT_FDCWD, BASE "/open", ts, 0), EPERM);
    CHECK(utimensat(AT_FDCWD, BASE "/open", NULL, 0) == 0);
    CHECK_ERR(utimensat(AT_FDCWD, BASE "/secret", NULL, 0), EACCES);
    CHECK(utimensat(AT_FDCWD, BASE "/sticky/own", ts, 0) == 0);
    CHECK(unlink(BASE "/sticky/own") == 0);
    SAY("uid 1000: chmod, chown, utimensat ok");

    /* access(2) answers for the real ids. */
    CHECK_ERR(access(BASE "/secret", R_OK), EACCES);
    CHECK(access(BASE "/secret", F_OK) == 0);
    CHECK(access(BASE "/open", R_OK | W_OK) == 0);
    CHECK_ERR(access(BASE "/open", X_OK), EACCES);
    CHECK_ERR(access(BASE "/rodir", W_OK), EACCES);
    CHECK(access(BASE "/rodir", R_OK | X_OK) == 0);
    CHECK(access("/bin/busybox", X_OK) == 0);
    CHECK_ERR(access(BASE "/private/x", F_OK), EACCES);

    /* execve needs an execute bit. */
    char *argv[] = {"script", NULL}, *envp[] = {NULL};
    CHECK_ERR(execve(BASE "/script", argv, envp), EACCES);
    CHECK_ERR(execve(BASE "/rodir", argv, envp), EACCES);
    fflush(stdout);
    pid_t p = fork();
    CHECK(p >= 0);
    if (p == 0) {
        char *targv[] = {"true", NULL};
        execve("/bin/busybox", targv, envp);
        _exit(99);
    }
    int status;
    CHECK(waitpid(p, &status, 0) == p);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    SAY("uid 1000: access and execve ok");

    /* Privileged operations. */
    CHECK_ERR(kill(parent, SIGTERM), EPERM);
    CHECK_ERR(kill(parent, 0), EPERM);
    CHECK_ERR(kill(1, 0), EPERM);
    CHECK(kill(parent, SIGCONT) == 0); /* same session */
    CHECK(kill(getpid(), 0) == 0);
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK(rl.rlim_max == nofile.rlim_max);
    rl.rlim_max += 1;
    CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
    rl.rlim_max -= 2;
    if (rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    rl.rlim_max += 1; /* lowered once: cannot go back up */
    CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
    /* LINUX_REBOOT_CMD_CAD_OFF: harmless even if it were allowed. */
    CHECK_ERR(syscall(SYS_reboot, 0xfee1dead, 672274793, 0, 0), EPERM);
    CHECK_ERR(mknod(BASE "/sticky/null", S_IFCHR | 0666, makedev(1, 3)), EPERM);
    CHECK(mknod(BASE "/sticky/fifo", S_IFIFO | 0600, 0) == 0);
    CHECK(unlink(BASE "/sticky/fifo") == 0);
    struct utsname un;
    CHECK(uname(&un) == 0);
    CHECK_ERR(sethostname(un.nodename, strlen(un.nodename)), EPERM);
    CHECK_ERR(setdomainname(un.domainname, strlen(un.domainname)), EPERM);
    struct timespec now;
    CHECK(clock_gettime(CLOCK_REALTIME, &now) == 0);
    CHECK_ERR(clock_settime(CLOCK_REALTIME, &now), EPERM);
    CHECK_ERR(clock_settime(CLOCK_MONOTONIC, &now), EINVAL);
    struct timeval tv = {now.tv_sec, 0};
    CHECK_ERR(settimeofday(&tv, NULL), EPERM);
    SAY("uid 1000: kill, setrlimit, reboot, mknod, hostname, clock refused ok");
}

static const char *self_path;

/* Run as "perm execed" by exec_keeps_ids: what execve did to the ids. */
static int execed(void)
{
    ids_are(1000, 0, 0); /* saved = effective */
    CHECK(setfsuid(-1) == 0); /* fsuid = effective */
    CHECK(getauxval(AT_SECURE) == 1);
    CHECK(getauxval(AT_UID) == 1000 && getauxval(AT_EUID) == 0);
    CHECK(getauxval(AT_GID) == 0 && getauxval(AT_EGID) == 0);
    return 0;
}

/* execve keeps the real and effective ids (no set-user-ID bit), and the
 * saved and filesystem ids become the effective ones. */
static void exec_keeps_ids(void *arg)
{
    (void)arg;
    CHECK(setresuid(1000, 0, 2000) == 0);
    CHECK(setfsuid(1000) == 0);
    char *argv[] = {(char *)self_path, "execed", NULL}, *envp[] = {NULL};
    execve(self_path, argv, envp);
    CHECK(!"execve failed");
}

/* Real uid 1000, effective 0: access(2) checks the real one. */
static void real_vs_effective(void *arg)
{
    (void)arg;
    CHECK(setresuid(1000, 0, 0) == 0);
    int fd = open(BASE "/secret", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERR(access(BASE "/secret", R_OK), EACCES);
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, BASE "/secret", R_OK, AT_EACCESS) == 0);
    CHECK_ERR(syscall(SYS_faccessat2, AT_FDCWD, BASE "/secret", R_OK, 0), EACCES);
    CHECK_ERR(syscall(SYS_faccessat2, AT_FDCWD, BASE "/secret", R_OK, 0x8000), EINVAL);
}

static void run(void (*fn)(void *), const char *what)
{
    int st = t_in_child(fn, NULL);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "perm: %s failed (wait status %#x)\n", what, st);
        exit(1);
    }
    SAY("%s ok", what);
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc > 1 && strcmp(argv[1], "execed") == 0) return execed();
    CHECK(getuid() == 0 && geteuid() == 0);
    CHECK(getauxval(AT_SECURE) == 0 && getauxval(AT_UID) == 0);
    umask(0);
    CHECK(getrlimit(RLIMIT_NOFILE, &nofile) == 0);
    CHECK(mkdir(BASE, 0755) == 0 || errno == EEXIST);
    CHECK(chmod(BASE, 0755) == 0);
    put(BASE "/secret", 0600, "secret\n");
    put(BASE "/open", 0666, "open\n");
    put(BASE "/script", 0644, "#!/bin/sh\nexit 0\n");
    put(BASE "/suid", 0755, "suid\n");
    CHECK(chown(BASE "/suid", 1000, 1000) == 0);
    CHECK(chmod(BASE "/suid", 06755) == 0);
    CHECK(mkdir(BASE "/rodir", 0755) == 0);
    CHECK(mkdir(BASE "/private", 0700) == 0);
    put(BASE "/private/x", 0644, "x\n");
    CHECK(mkdir(BASE "/sticky", 01777) == 0);
    put(BASE "/sticky/rootfile", 0644, "root\n");
    CHECK(mkdir(BASE "/sgid", 0777) == 0);
    CHECK(chown(BASE "/sgid", 0, 50) == 0);
    CHECK(chmod(BASE "/sgid", 02777) == 0);
    struct stat st;
    CHECK(stat(BASE "/sticky", &st) == 0 && (st.st_mode & 07777) == 01777);

    /* Root: reads and writes anything, executes only with an x bit. */
    char *sargv[] = {"script", NULL}, *envp[] = {NULL};
    CHECK_ERR(execve(BASE "/script", sargv, envp), EACCES);
    CHECK(chown(BASE "/open", 1000, 1000) == 0);
    CHECK(chmod(BASE "/open", 0600) == 0);
    int fd = open(BASE "/open", O_RDWR);
    CHECK(fd >= 0);
    close(fd);
    CHECK(access(BASE "/open", R_OK | W_OK) == 0);
    CHECK_ERR(access(BASE "/open", X_OK), EACCES);
    CHECK(access(BASE "/rodir", X_OK) == 0);
    /* chown by root clears set-user-ID. */
    CHECK(chmod(BASE "/open", 04755) == 0);
    CHECK(chown(BASE "/open", 0, 0) == 0);
    CHECK(stat(BASE "/open", &st) == 0);
    CHECK((st.st_mode & 07777) == 0755);
    CHECK(chmod(BASE "/open", 0666) == 0);
    /* Root may set the names and the clock (to what they already are). */
    struct utsname un;
    CHECK(uname(&un) == 0);
    CHECK(sethostname(un.nodename, strlen(un.nodename)) == 0);
    CHECK_ERR(sethostname(un.nodename, 65), EINVAL);
    struct timespec now;
    CHECK(clock_gettime(CLOCK_REALTIME, &now) == 0);
    CHECK(clock_settime(CLOCK_REALTIME, &now) == 0);
    SAY("root: override rules ok");

    run(root_transitions, "root set*id transitions");
    run(as_user, "uid 1000 refusals");
    run(real_vs_effective, "access with real ids");
    run(exec_keeps_ids, "ids across execve");

    /* Nothing the child did changed our ids. */
    CHECK(getuid() == 0 && geteuid() == 0);
    unlink(BASE "/sticky/rootfile");
    rmdir(BASE "/sticky");
    unlink(BASE "/private/x");
    rmdir(BASE "/private");
    rmdir(BASE "/rodir");
    rmdir(BASE "/sgid");
    unlink(BASE "/secret");
    unlink(BASE "/open");
    unlink(BASE "/script");
    unlink(BASE "/suid");
    CHECK(rmdir(BASE) == 0);
    SAY("ok");
    return 0;
}
