/*
 * mount: mount(2) and umount2(2) of tmpfs, proc, sysfs and devtmpfs on
 * directories under /tmp: crossing mount points both ways, per-mount
 * st_dev and statfs, size= and ENOSPC, MS_RDONLY and MS_REMOUNT, MS_BIND,
 * stacked mounts, and the errors (ENOENT, ENOTDIR, ENODEV, EINVAL,
 * EBUSY, EROFS, EXDEV).
 */
#define T_NAME "mount"
#include "t.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#define TMPFS_MAGIC 0x01021994
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572

static char D[256], F[256];

/* D/rel, in memory never freed (tests are short-lived). */
static const char *at(const char *rel)
{
    char *b = malloc(512);
    CHECK(b);
    snprintf(b, 512, "%s/%s", D, rel);
    return b;
}

static int file_has(const char *path, const char *needle)
{
    static char buf[16384];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n, len = 0;
    while ((n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) len += n;
    close(fd);
    buf[len] = 0;
    return strstr(buf, needle) != 0;
}

int main(void)
{
    snprintf(D, sizeof D, "%s", P("/tmp/mount-test"));
    mkdir(D, 0755);
    const char *m = at("m");
    CHECK(mkdir(m, 0755) == 0 || errno == EEXIST);
    snprintf(F, sizeof F, "%s", at("file"));
    int fd = open(F, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(fd >= 0);
    close(fd);

    /* Bad targets and types. */
    CHECK_ERR(mount("none", at("missing"), "tmpfs", 0, 0), ENOENT);
    CHECK_ERR(mount("none", at("file/x"), "tmpfs", 0, 0), ENOTDIR);
    CHECK_ERR(mount("none", F, "tmpfs", 0, 0), ENOTDIR);
    CHECK_ERR(mount("none", m, "no-such-fs", 0, 0), ENODEV);
    CHECK_ERR(umount2(m, 0), EINVAL);
    CHECK_ERR(umount2(at("missing"), 0), ENOENT);
    CHECK_ERR(umount2(m, 0x100), EINVAL);
    SAY("bad targets and types rejected");

    /* Only a privileged process may mount and unmount. */
    fflush(stdout);
    pid_t unpriv = fork();
    CHECK(unpriv >= 0);
    if (unpriv == 0) {
        if (setuid(1000) != 0) _exit(2);
        if (mount("none", m, "tmpfs", 0, 0) == 0 || errno != EPERM) _exit(3);
        if (umount2("/", 0) == 0 || errno != EPERM) _exit(4);
        _exit(0);
    }
    int ustatus;
    CHECK(waitpid(unpriv, &ustatus, 0) == unpriv);
    CHECK(WIFEXITED(ustatus) && WEXITSTATUS(ustatus) == 0);
    SAY("EPERM without CAP_SYS_ADMIN");

    /* A tmpfs with a size: its own device, statfs, crossing both ways. */
    struct stat sd, sm, up;
    CHECK(stat(D, &sd) == 0);
    CHECK(mount("tmpfs", m, "tmpfs", 0, "size=64k") == 0);
    CHECK(stat(m, &sm) == 0);
    CHECK(sm.st_dev != sd.st_dev);
    CHECK(S_ISDIR(sm.st_mode) && (sm.st_mode & 07777) == 01777);
    CHECK(stat(at("m/.."), &up) == 0);
    CHECK(up.st_ino == sd.st_ino && up.st_dev == sd.st_dev);
    struct statfs fs;
    CHECK(statfs(m, &fs) == 0);
    CHECK(fs.f_type == TMPFS_MAGIC);
    CHECK(fs.f_bsize == 4096 && fs.f_blocks == 16);
    CHECK(statfs(D, &fs) == 0);
    CHECK(fs.f_type == TMPFS_MAGIC || fs.f_type == 0x858458f6 /* ramfs */);
    CHECK(access(at("m/file"), F_OK) == -1);
    SAY("tmpfs mounted: st_dev %u:%u, 16 blocks", major(sm.st_dev), minor(sm.st_dev));

    /* Files inside, and the cwd across the mount point. */
    fd = open(at("m/f"), O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    struct stat sf;
    CHECK(fstat(fd, &sf) == 0 && sf.st_dev == sm.st_dev);
    CHECK(chdir(m) == 0);
    char cwd[512];
    CHECK(getcwd(cwd, sizeof cwd) && strcmp(cwd, m) == 0);
    CHECK(chdir("..") == 0);
    CHECK(getcwd(cwd, sizeof cwd) && strcmp(cwd, D) == 0);
    CHECK(chdir("/") == 0);

    /* size=64k: writing past it fails with ENOSPC. */
    static char block[4096];
    memset(block, 'x', sizeof block);
    long total = 0;
    ssize_t w = 0;
    for (int i = 0; i < 64; i++) {
        w = write(fd, block, sizeof block);
        if (w < 0) break;
        total += w;
    }
    CHECK(w == -1 && errno == ENOSPC);
    CHECK(total > 0 && total <= 65536);
    SAY("ENOSPC after %ld bytes", total);

    /* Busy while a file is open, and with a submount. */
    CHECK_ERR(umount2(m, 0), EBUSY);
    close(fd);
    CHECK(unlink(at("m/f")) == 0);
    CHECK(mkdir(at("m/sub"), 0755) == 0);
    CHECK(mount("none", at("m/sub"), "tmpfs", 0, 0) == 0);
    CHECK_ERR(umount2(m, 0), EBUSY);
    CHECK_ERR(rmdir(at("m/sub")), EBUSY);
    CHECK(chdir(at("m/sub")) == 0);
    CHECK_ERR(umount2(at("m/sub"), 0), EBUSY);
    CHECK(chdir("/") == 0);
    CHECK(umount2(at("m/sub"), 0) == 0);
    SAY("EBUSY for open files, cwd and submounts");

    /* Across mounts: EXDEV. */
    fd = open(at("m/g"), O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERR(rename(at("m/g"), at("g")), EXDEV);
    CHECK_ERR(link(at("m/g"), at("g")), EXDEV);
    CHECK_ERR(rename(m, at("m2")), EBUSY);

    /* MS_BIND: the same directory at a second place. */
    const char *b = at("b");
    CHECK(mkdir(b, 0755) == 0 || errno == EEXIST);
    CHECK(mount(m, b, 0, MS_BIND, 0) == 0);
    CHECK(access(at("b/g"), F_OK) == 0);
    struct stat sb;
    CHECK(stat(b, &sb) == 0 && sb.st_dev == sm.st_dev && sb.st_ino == sm.st_ino);
    CHECK(umount2(b, 0) == 0);
    CHECK(access(at("b/g"), F_OK) == -1);

    /* Stacking: a second mount on the same place hides the first. */
    CHECK(mount("none", m, "tmpfs", 0, 0) == 0);
    CHECK(access(at("m/g"), F_OK) == -1);
    CHECK(stat(at("m/.."), &up) == 0 && up.st_ino == sd.st_ino);
    CHECK(umount2(m, 0) == 0);
    CHECK(access(at("m/g"), F_OK) == 0);
    CHECK(umount2(m, 0) == 0);
    CHECK(access(at("m/g"), F_OK) == -1);
    SAY("bind and stacked mounts");

    /* MS_RDONLY and MS_REMOUNT. */
    CHECK(mount("none", m, "tmpfs", MS_RDONLY, 0) == 0);
    CHECK_ERR(open(at("m/x"), O_CREAT | O_WRONLY, 0644), EROFS);
    CHECK_ERR(mkdir(at("m/d"), 0755), EROFS);
    CHECK(statfs(m, &fs) == 0 && (fs.f_flags & ST_RDONLY));
    CHECK(mount(0, m, 0, MS_REMOUNT, 0) == 0);
    fd = open(at("m/x"), O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
    CHECK(mount(0, m, 0, MS_REMOUNT | MS_RDONLY, 0) == 0);
    CHECK_ERR(unlink(at("m/x")), EROFS);
    CHECK_ERR(open(at("m/x"), O_WRONLY), EROFS);
    fd = open(at("m/x"), O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERR(mount(0, D, 0, MS_REMOUNT, 0), EINVAL);
    CHECK(umount2(m, 0) == 0);
    SAY("MS_RDONLY gives EROFS, MS_REMOUNT switches");

    /* MNT_DETACH: gone from the tree at once, the open file still works. */
    CHECK(mount("none", m, "tmpfs", 0, 0) == 0);
    fd = open(at("m/y"), O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(umount2(m, MNT_DETACH) == 0);
    CHECK(access(at("m/y"), F_OK) == -1);
    CHECK(write(fd, "abc", 3) == 3);
    char rb[4] = {0};
    CHECK(pread(fd, rb, 3, 0) == 3 && memcmp(rb, "abc", 3) == 0);
    close(fd);
    SAY("MNT_DETACH");

    /* A zombie does not keep its cwd's mount busy. */
    CHECK(mount("none", m, "tmpfs", 0, 0) == 0);
    fflush(stdout);
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        close(pfd[0]);
        if (chdir(m) != 0) _exit(1);
        _exit(0);
    }
    close(pfd[1]);
    char c;
    CHECK(read(pfd[0], &c, 1) == 0); /* the child is exiting */
    close(pfd[0]);
    /* Not reaped yet: the umount must succeed once its exit is done. */
    int r = -1;
    for (int i = 0; i < 200 && r != 0; i++) {
        r = umount2(m, 0);
        if (r != 0) {
            CHECK(errno == EBUSY);
            usleep(10000);
        }
    }
    CHECK(r == 0);
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    SAY("a zombie's cwd is no user");

    /* proc, sysfs and devtmpfs. */
    CHECK(mount("proc", m, "proc", 0, 0) == 0);
    CHECK(statfs(m, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC);
    char line[600];
    snprintf(line, sizeof line, " %s proc ", m);
    CHECK(file_has(at("m/mounts"), line));
    CHECK(file_has(at("m/self/mounts"), line));
    CHECK(access(at("m/self/stat"), R_OK) == 0);
    CHECK(umount2(m, 0) == 0);
    CHECK(mount("sysfs", m, "sysfs", 0, 0) == 0);
    CHECK(statfs(m, &fs) == 0 && fs.f_type == SYSFS_MAGIC);
    CHECK(file_has(at("m/devices/system/cpu/online"), "0"));
    CHECK(file_has(at("m/devices/system/cpu/possible"), "0"));
    struct stat sk;
    CHECK(stat(at("m/kernel"), &sk) == 0 && S_ISDIR(sk.st_mode));
    CHECK(umount2(m, 0) == 0);
    CHECK(mount("devtmpfs", m, "devtmpfs", 0, 0) == 0);
    struct stat sn;
    CHECK(stat(at("m/null"), &sn) == 0);
    CHECK(S_ISCHR(sn.st_mode) && major(sn.st_rdev) == 1 && minor(sn.st_rdev) == 3);
    fd = open(at("m/null"), O_WRONLY);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1);
    close(fd);
    CHECK(umount2(m, 0) == 0);
    SAY("proc, sysfs and devtmpfs");

    CHECK(rmdir(m) == 0);
    CHECK(rmdir(b) == 0);
    CHECK(unlink(F) == 0);
    CHECK(rmdir(D) == 0);
    SAY("ok");
    return 0;
}
