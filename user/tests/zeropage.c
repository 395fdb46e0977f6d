/* zeropage: reading untouched private anonymous memory costs no memory
 * (Linux maps its shared zero page), so more than RAM can be read; the
 * first write to such a page gives it its own copy, seen by nobody else
 * (neighbours, a forked child, a page made writable by mprotect). */
#define T_NAME "zeropage"
#include "t.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define MIB (1024UL * 1024)
/* More than the guest's RAM (1 GiB). */
#define HUGE_LEN (1280 * MIB)

static void poke(void *p) { *(volatile char *)p = 1; }

int main(void)
{
    char *big = mmap(NULL, HUGE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(big != MAP_FAILED);
    unsigned long sum = 0;
    for (size_t i = 0; i < HUGE_LEN; i += 4096)
        sum += (unsigned char)big[i];
    CHECK(sum == 0);
    /* The kernel reading it (a write(2) from it) maps the zero page too. */
    int fd = open(P("/tmp/zeropage"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    static char buf[4 * MIB];
    memset(buf, 1, sizeof buf);
    CHECK(pwrite(fd, big + 100 * MIB, 4 * MIB, 0) == (ssize_t)(4 * MIB));
    CHECK(pread(fd, buf, 4 * MIB, 0) == (ssize_t)(4 * MIB));
    for (size_t i = 0; i < 4 * MIB; i += 4093)
        CHECK(buf[i] == 0);
    SAY("read all of %lu MiB of untouched memory (more than RAM)", HUGE_LEN / MIB);

    /* A write after a read: a private page; neighbours stay zero. And the
     * kernel writing into a zero-page-backed buffer (read(2)) works too. */
    big[5 * 4096 + 7] = 42;
    CHECK(big[5 * 4096 + 7] == 42 && big[4 * 4096 + 7] == 0 && big[6 * 4096 + 7] == 0 && big[7] == 0);
    CHECK(pwrite(fd, "hello", 5, 0) == 5);
    CHECK(pread(fd, big + 200 * MIB, 5, 0) == 5 && memcmp(big + 200 * MIB, "hello", 5) == 0);
    CHECK(big[200 * MIB + 4096] == 0);
    /* fork: both sides share the zero page and get their own copies. */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        big[6 * 4096] = 1;
        _exit(big[5 * 4096 + 7] == 42 && big[6 * 4096] == 1 && big[8 * 4096] == 0 ? 0 : 1);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(big[6 * 4096] == 0);
    /* Read-only mapping: zeros, writes refused until mprotect allows them. */
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(ro != MAP_FAILED && ro[100] == 0);
    CHECK_KILLED_BY(poke, ro, SIGSEGV);
    CHECK(mprotect(ro, 4096, PROT_READ | PROT_WRITE) == 0);
    ro[100] = 3;
    CHECK(ro[100] == 3 && big[100] == 0);
    SAY("writes after reads get private pages (read(2), fork, mprotect)");
    CHECK(munmap(big, HUGE_LEN) == 0);
    unlink(P("/tmp/zeropage"));
    return 0;
}
