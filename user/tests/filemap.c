/* filemap: tmpfs files live in pages, and mappings map those pages.
 * A 64 MiB file round trip; a sparse file near 1 GiB with few blocks;
 * MAP_SHARED stores seen by read(2), by a second mapping and after
 * munmap, and write(2) seen by the mapping; MAP_PRIVATE copy-on-write;
 * fallocate's pages (st_blocks);
 * memfd + MAP_SHARED across fork; ftruncate under a mapping (the tail
 * of the last page reads zero, pages past the end give SIGBUS); msync;
 * memfd write seals against shared mappings; the errors. */
#define T_NAME "filemap"
#include "t.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PG 4096L

static uint32_t pattern(uint64_t i)
{
    return (uint32_t)((i * 2654435761u) >> 7);
}

static void big_file(void)
{
    const char *path = P("/tmp/filemap_big");
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    enum { CH = 1 << 20, N = 64 };
    static uint32_t buf[CH / 4];
    uint64_t sum = 0;
    for (int c = 0; c < N; c++) {
        for (int i = 0; i < CH / 4; i++) buf[i] = pattern((uint64_t)c * (CH / 4) + i);
        for (int i = 0; i < CH / 4; i++) sum += buf[i];
        CHECK(write(fd, buf, CH) == CH);
    }
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == (off_t)N * CH);
    CHECK(st.st_blocks == (blkcnt_t)N * CH / 512);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    uint64_t back = 0;
    for (int c = 0; c < N; c++) {
        CHECK(read(fd, buf, CH) == CH);
        for (int i = 0; i < CH / 4; i++) back += buf[i];
        CHECK(buf[12345] == pattern((uint64_t)c * (CH / 4) + 12345));
    }
    CHECK(read(fd, buf, CH) == 0);
    CHECK(back == sum);
    /* Read through a mapping too, at the far end. */
    uint32_t *m = mmap(NULL, (size_t)N * CH, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK(m[(size_t)N * CH / 4 - 1] == pattern((uint64_t)N * CH / 4 - 1));
    CHECK(munmap(m, (size_t)N * CH) == 0);
    CHECK(ftruncate(fd, 0) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_blocks == 0);
    close(fd);
    CHECK(unlink(path) == 0);
    SAY("64 MiB file round trip ok (checksum %llx)", (unsigned long long)sum);
}

static void sparse_file(void)
{
    const char *path = P("/tmp/filemap_sparse");
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    const off_t last = (1L << 30) - 1;
    CHECK(pwrite(fd, "z", 1, last) == 1);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == last + 1);
    CHECK(st.st_blocks <= 8);
    char b[8192];
    memset(b, 0x55, sizeof b);
    CHECK(pread(fd, b, sizeof b, 1L << 29) == (ssize_t)sizeof b);
    for (size_t i = 0; i < sizeof b; i++) CHECK(b[i] == 0);
    CHECK(pread(fd, b, 2, last - 1) == 2 && b[0] == 0 && b[1] == 'z');
    /* ftruncate up makes a hole, not pages. */
    CHECK(ftruncate(fd, 0) == 0 && ftruncate(fd, 1L << 30) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 1L << 30 && st.st_blocks == 0);
    CHECK_ERR(pwrite(fd, "x", 1, -1), EINVAL);
    CHECK_ERR(ftruncate(fd, -1), EINVAL);
    /* fallocate gives the range pages; KEEP_SIZE past the end too, and a
     * shrinking ftruncate frees them. */
    CHECK(ftruncate(fd, 0) == 0 && fallocate(fd, 0, 0, 4 * PG) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 4 * PG && st.st_blocks == 4 * PG / 512);
    CHECK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 4 * PG, 2 * PG) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 4 * PG && st.st_blocks == 6 * PG / 512);
    CHECK(ftruncate(fd, PG) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_blocks == PG / 512);
    close(fd);
    CHECK(unlink(path) == 0);
    SAY("sparse file ok");
}

static void shared_mapping(void)
{
    const char *path = P("/tmp/filemap_shared");
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 3 * PG) == 0);
    char *a = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(a != MAP_FAILED && b != MAP_FAILED && a != b);
    CHECK(a[0] == 0 && a[3 * PG - 1] == 0);
    memcpy(a + PG + 10, "shared!", 7);
    char r[16] = {0};
    CHECK(pread(fd, r, 7, PG + 10) == 7 && memcmp(r, "shared!", 7) == 0);
    CHECK(memcmp(b + PG + 10, "shared!", 7) == 0);
    CHECK(pwrite(fd, "from write", 10, 2 * PG) == 10);
    CHECK(memcmp(a + 2 * PG, "from write", 10) == 0 && memcmp(b + 2 * PG, "from write", 10) == 0);
    CHECK(msync(a, 3 * PG, MS_SYNC) == 0);
    CHECK(msync(a, PG, MS_ASYNC | MS_INVALIDATE) == 0);
    CHECK(munmap(a, 3 * PG) == 0);
    CHECK(pread(fd, r, 7, PG + 10) == 7 && memcmp(r, "shared!", 7) == 0);
    b[5] = 'B';
    CHECK(pread(fd, r, 1, 5) == 1 && r[0] == 'B');
    /* msync's errors. */
    CHECK_ERR(msync(b + 1, PG, MS_SYNC), EINVAL);
    CHECK_ERR(msync(b, PG, MS_SYNC | MS_ASYNC), EINVAL);
    CHECK_ERR(msync(b, PG, 0x100), EINVAL);
    CHECK_ERR(msync(a, PG, MS_SYNC), ENOMEM);
    CHECK(munmap(b, 3 * PG) == 0);
    /* The file outlives its name and descriptor while it is mapped. */
    char *c = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(c != MAP_FAILED);
    close(fd);
    CHECK(unlink(path) == 0);
    CHECK(c[5] == 'B');
    c[6] = 'C';
    CHECK(c[6] == 'C');
    CHECK(munmap(c, PG) == 0);
    SAY("MAP_SHARED ok");
}

static void private_mapping(void)
{
    const char *path = P("/tmp/filemap_private");
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 2 * PG) == 0);
    CHECK(pwrite(fd, "file", 4, 0) == 4);
    char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK(memcmp(m, "file", 4) == 0);
    /* Before its own write, the private page shows the file's. */
    CHECK(m[PG] == 0);
    CHECK(pwrite(fd, "late", 4, PG) == 4);
    CHECK(memcmp(m + PG, "late", 4) == 0);
    m[0] = 'P';
    char r[4];
    CHECK(pread(fd, r, 4, 0) == 4 && memcmp(r, "file", 4) == 0);
    /* After it, the file's changes no longer show. */
    CHECK(pwrite(fd, "FILE", 4, 0) == 4);
    CHECK(memcmp(m, "Pile", 4) == 0);
    CHECK(munmap(m, 2 * PG) == 0);
    close(fd);
    CHECK(unlink(path) == 0);
    SAY("MAP_PRIVATE copy-on-write ok");
}

static void memfd_fork(void)
{
    int fd = memfd_create("filemap", 0);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 2 * PG) == 0);
    volatile char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    m[0] = 'p';
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (m[0] != 'p') _exit(2);
        m[1] = 'c';
        if (pwrite(fd, "W", 1, PG) != 1) _exit(3);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(m[1] == 'c' && m[PG] == 'W');
    char r[2];
    CHECK(pread(fd, r, 2, 0) == 2 && r[0] == 'p' && r[1] == 'c');
    CHECK(munmap((void *)m, 2 * PG) == 0);
    close(fd);
    SAY("memfd MAP_SHARED across fork ok");
}

static char *bus_at;
static void touch(void *arg)
{
    (void)arg;
    *(volatile char *)bus_at = 1;
}

static void truncate_mapped(void)
{
    int fd = memfd_create("trunc", 0);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 2 * PG) == 0);
    char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    memset(m, 'x', 2 * PG);
    /* A page past the end of the file: SIGBUS. */
    bus_at = m + 2 * PG;
    CHECK_KILLED_BY(touch, NULL, SIGBUS);
    /* Shrinking inside a page: its tail reads zero in the mapping; the
     * page past the new end goes although it was mapped. */
    CHECK(ftruncate(fd, 100) == 0);
    CHECK(m[99] == 'x' && m[100] == 0 && m[PG - 1] == 0);
    /* The page past the new end: SIGBUS; growing again: zeros. */
    bus_at = m + PG;
    CHECK_KILLED_BY(touch, NULL, SIGBUS);
    CHECK(ftruncate(fd, 2 * PG) == 0);
    CHECK(m[PG] == 0 && m[100] == 0);
    m[PG] = 'y';
    char r;
    CHECK(pread(fd, &r, 1, PG) == 1 && r == 'y');
    /* read(2) into a page past the end fails with EFAULT. */
    CHECK(ftruncate(fd, PG) == 0);
    int p[2];
    CHECK(pipe(p) == 0 && write(p[1], "q", 1) == 1);
    CHECK_ERR(read(p[0], m + 2 * PG, 1), EFAULT);
    close(p[0]);
    close(p[1]);
    CHECK(munmap(m, 3 * PG) == 0);
    close(fd);
    SAY("ftruncate under a mapping ok");
}

static void seals(void)
{
    int fd = memfd_create("seals", MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, PG) == 0);
    char *w = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(w != MAP_FAILED);
    CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
    CHECK(munmap(w, PG) == 0);
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
    CHECK(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EPERM);
    char *r = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(r != MAP_FAILED);
    CHECK_ERR(mprotect(r, PG, PROT_READ | PROT_WRITE), EACCES);
    char *pv = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(pv != MAP_FAILED);
    pv[0] = 1;
    CHECK(r[0] == 0);
    CHECK(munmap(r, PG) == 0 && munmap(pv, PG) == 0);
    close(fd);

    /* F_SEAL_FUTURE_WRITE: existing writable mappings keep writing, new
     * ones and write(2) are refused. */
    fd = memfd_create("future", MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, PG) == 0);
    w = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(w != MAP_FAILED);
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0);
    w[0] = 'w';
    char c;
    CHECK(pread(fd, &c, 1, 0) == 1 && c == 'w');
    CHECK(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EPERM);
    CHECK_ERR(write(fd, "x", 1), EPERM);
    CHECK(munmap(w, PG) == 0);
    close(fd);
    SAY("memfd seals and mappings ok");
}

static void errors(void)
{
    const char *path = P("/tmp/filemap_ro");
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0 && ftruncate(fd, PG) == 0);
    close(fd);
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EACCES);
    char *m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK_ERR(mprotect(m, PG, PROT_READ | PROT_WRITE), EACCES);
    CHECK(munmap(m, PG) == 0);
    /* A private writable mapping of a read-only file is fine. */
    m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    m[0] = 1;
    CHECK(munmap(m, PG) == 0);
    close(fd);
    CHECK(unlink(path) == 0);
    fd = open(path, O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, (off_t)0x7ffffffffffff000L) == MAP_FAILED && errno == EOVERFLOW);
    close(fd);
    CHECK(unlink(path) == 0);
    int d = open(P("/tmp"), O_RDONLY | O_DIRECTORY);
    CHECK(d >= 0);
    CHECK(mmap(NULL, PG, PROT_READ, MAP_SHARED, d, 0) == MAP_FAILED && errno == ENODEV);
    close(d);
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(mmap(NULL, PG, PROT_READ, MAP_SHARED, p[0], 0) == MAP_FAILED && errno == ENODEV);
    close(p[0]);
    close(p[1]);
    SAY("errors ok");
}

int main(void)
{
    big_file();
    sparse_file();
    shared_mapping();
    private_mapping();
    memfd_fork();
    truncate_mapped();
    seals();
    errors();
    SAY("ok");
    return 0;
}
