/*
 * tmpfile: open(2) with O_TMPFILE makes an unnamed regular file in a
 * directory: readable and writable, st_nlink 0, the mode after umask, no
 * new directory entry. EINVAL without write access or with O_CREAT,
 * ENOTDIR on a regular file, ENOENT for a missing directory.
 */
#define T_NAME "tmpfile"
#include "t.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

static int entries(const char *path)
{
    DIR *d = opendir(path);
    CHECK(d != NULL);
    int n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

int main(void)
{
    const char *dir = P("/tmp/tmpfile.d");
    char file[256];
    snprintf(file, sizeof file, "%s/plain", dir);
    mkdir(dir, 0755);
    int pf = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(pf >= 0);
    close(pf);
    int before = entries(dir);

    umask(022);
    int fd = open(dir, O_TMPFILE | O_RDWR, 0666);
    CHECK(fd >= 0);
    CHECK(write(fd, "abcde", 5) == 5);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    char buf[8] = {0};
    CHECK(read(fd, buf, sizeof buf) == 5);
    CHECK(memcmp(buf, "abcde", 5) == 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK((st.st_mode & 07777) == 0644);
    CHECK(st.st_nlink == 0);
    CHECK(st.st_size == 5);
    CHECK(entries(dir) == before);
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    CHECK(close(fd) == 0);

    int cl = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    CHECK(cl >= 0);
    CHECK(fcntl(cl, F_GETFD) == FD_CLOEXEC);
    CHECK(close(cl) == 0);

    CHECK_ERR(open(dir, O_TMPFILE | O_RDONLY, 0600), EINVAL);
    CHECK_ERR(open(dir, O_TMPFILE | O_RDWR | O_CREAT, 0600), EINVAL);
    CHECK_ERR(open(file, O_TMPFILE | O_RDWR, 0600), ENOTDIR);
    CHECK_ERR(open(P("/tmp/tmpfile.missing"), O_TMPFILE | O_RDWR, 0600), ENOENT);
    CHECK(entries(dir) == before);
    CHECK(unlink(file) == 0);
    CHECK(rmdir(dir) == 0);
    SAY("unnamed file: read/write, nlink 0, mode 0644, no entry; EINVAL, ENOTDIR, ENOENT");
    return 0;
}
