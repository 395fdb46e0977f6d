/*
 * cow: fork shares memory copy-on-write. Each side sees only its own
 * writes; a large address space forks without doubling the memory in use;
 * pages are copied on the first write only, also when the write comes
 * from the kernel (read(2) into a shared page).
 */
#define T_NAME "cow"
#include "t.h"

#include <sys/mman.h>
#include <sys/sysinfo.h>

#define BIG (128L << 20)

static long free_mib(void)
{
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0);
    return (long)(si.freeram * si.mem_unit >> 20);
}

static int global = 1;

int main(void)
{
    /* 1. Private writes after fork. */
    char *page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED);
    strcpy(page, "parent");
    int p2c[2], c2p[2];
    CHECK(pipe(p2c) == 0 && pipe(c2p) == 0);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        char go;
        if (strcmp(page, "parent") != 0 || global != 1) _exit(1);
        strcpy(page, "child");
        global = 2;
        if (write(c2p[1], "w", 1) != 1) _exit(2);
        if (read(p2c[0], &go, 1) != 1) _exit(3);
        /* The parent wrote its copy meanwhile: ours is unchanged. */
        _exit(strcmp(page, "child") == 0 && global == 2 ? 0 : 4);
    }
    char w;
    CHECK(read(c2p[0], &w, 1) == 1);
    CHECK(strcmp(page, "parent") == 0 && global == 1);
    strcpy(page, "parent2");
    CHECK(write(p2c[1], "g", 1) == 1);
    int st;
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(strcmp(page, "parent2") == 0);
    SAY("each side of a fork sees only its own writes");

    /* 2. A big address space forks without a copy of it. */
    char *big = mmap(0, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(big != MAP_FAILED);
    for (long i = 0; i < BIG; i += 4096) big[i] = (char)(i >> 12);
    long before = free_mib();
    c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        long during = free_mib();
        /* Reading every page copies nothing. */
        long sum = 0;
        for (long i = 0; i < BIG; i += 4096) sum += big[i];
        long after_read = free_mib();
        /* Page tables only: far less than the 128 MiB a copy would take. */
        if (before - during > 16 || during - after_read > 4) _exit(10);
        /* Writing one page copies one page. */
        big[4096 * 7] = 99;
        _exit(big[4096 * 7] == 99 && sum != 0 ? 0 : 11);
    }
    CHECK(waitpid(c, &st, 0) == c);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) fprintf(stderr, "cow: child status %#x\n", st);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(big[4096 * 7] == 7);
    /* The child is gone: the parent's writes take the pages back. */
    for (long i = 0; i < BIG; i += 4096) big[i] = 1;
    long after = free_mib();
    CHECK(before - after < 16);
    SAY("a 128 MiB process forks and writes without copying it (free %ld -> %ld MiB)", before, after);

    /* 3. The kernel writing into a shared page (read(2)) copies it too. */
    strcpy(page, "old");
    c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        int q[2];
        if (pipe(q) != 0 || write(q[1], "new", 4) != 4) _exit(1);
        if (read(q[0], page, 4) != 4) _exit(2);
        _exit(strcmp(page, "new") == 0 ? 0 : 3);
    }
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(strcmp(page, "old") == 0);
    SAY("read(2) into a shared page writes the child's own copy");
    SAY("ok");
    return 0;
}
