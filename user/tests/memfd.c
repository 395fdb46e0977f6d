/* memfd: memfd_create flags and name errors; the file works like a
 * regular file (write, read, lseek, pread/pwrite, ftruncate, fstat, mmap,
 * fork sharing); seals with MFD_ALLOW_SEALING (F_ADD_SEALS/F_GET_SEALS:
 * write, grow, shrink, seal) and without it. */
#define T_NAME "memfd"
#include "t.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

int main(void)
{
    CHECK_ERR(memfd_create("x", 0x100), EINVAL);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK_ERR(memfd_create(longname, 0), EINVAL);
    CHECK_ERR(memfd_create((const char *)8, 0), EFAULT);

    int fd = memfd_create("test", MFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    CHECK(S_ISREG(st.st_mode) && st.st_size == 0);
    CHECK(write(fd, "hello world", 11) == 11);
    CHECK(lseek(fd, 0, SEEK_CUR) == 11);
    CHECK(lseek(fd, 6, SEEK_SET) == 6);
    char b[32] = {0};
    CHECK(read(fd, b, sizeof b) == 5 && memcmp(b, "world", 5) == 0);
    CHECK(pwrite(fd, "W", 1, 6) == 1);
    CHECK(pread(fd, b, 11, 0) == 11 && memcmp(b, "hello World", 11) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 11);
    CHECK(ftruncate(fd, 8192) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 8192);
    CHECK(pread(fd, b, 4, 8000) == 4 && b[0] == 0 && b[3] == 0);
    CHECK_ERR(ftruncate(fd, -1), EINVAL);
    SAY("file operations ok");

    /* mmap: private mappings see the contents; a shared read-only one too. */
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK(memcmp(m, "hello World", 11) == 0 && m[8191] == 0);
    m[0] = 'J'; /* private: the file is unchanged */
    CHECK(pread(fd, b, 1, 0) == 1 && b[0] == 'h');
    CHECK(munmap(m, 8192) == 0);
    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED && memcmp(m, "hello", 5) == 0);
    CHECK(munmap(m, 4096) == 0);
    SAY("mmap ok");

    /* A forked child shares the open file and its offset. */
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) _exit(write(fd, "HELLO", 5) == 5 ? 0 : 1);
    int ws;
    CHECK(waitpid(c, &ws, 0) == c && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 5);
    CHECK(pread(fd, b, 11, 0) == 11 && memcmp(b, "HELLO World", 11) == 0);

    /* Without MFD_ALLOW_SEALING the file is sealed against seals. */
    CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL);
    CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
    close(fd);

    /* Seals. */
    fd = memfd_create("sealed", MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0);
    CHECK(fcntl(fd, F_GET_SEALS) == 0);
    CHECK_ERR(fcntl(fd, F_ADD_SEALS, 0x1000), EINVAL);
    CHECK(write(fd, "abcdef", 6) == 6);
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
    CHECK_ERR(ftruncate(fd, 3), EPERM);
    CHECK(ftruncate(fd, 100) == 0);
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) == 0);
    CHECK_ERR(ftruncate(fd, 200), EPERM);
    CHECK(ftruncate(fd, 100) == 0);
    CHECK(pwrite(fd, "XY", 2, 98) == 2);       /* within the size */
    CHECK_ERR(pwrite(fd, "XYZ", 3, 98), EPERM); /* would grow */
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
    CHECK_ERR(write(fd, "z", 1), EPERM);
    CHECK_ERR(pwrite(fd, "z", 1, 0), EPERM);
    CHECK(pread(fd, b, 6, 0) == 6 && memcmp(b, "abcdef", 6) == 0);
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) == 0);
    CHECK(fcntl(fd, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL));
    CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), EPERM);
    close(fd);
    SAY("seals ok");

    /* Seals need a memfd (here a pipe: EINVAL) opened for writing (EPERM
     * comes first). */
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK_ERR(fcntl(p[0], F_GET_SEALS), EINVAL);
    CHECK_ERR(fcntl(p[1], F_ADD_SEALS, F_SEAL_SEAL), EINVAL);
    CHECK_ERR(fcntl(p[0], F_ADD_SEALS, F_SEAL_SEAL), EPERM);
    close(p[0]);
    close(p[1]);

    /* Many memfds come and go without leaking. */
    for (int i = 0; i < 200; i++) {
        int f = memfd_create("loop", 0);
        CHECK(f >= 0);
        CHECK(ftruncate(f, 65536) == 0);
        CHECK(close(f) == 0);
    }
    SAY("all ok");
    return 0;
}
