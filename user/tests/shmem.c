/*
 * shmem: MAP_SHARED|MAP_ANONYMOUS memory is one memory for the parent and
 * its children: writes on either side after fork are seen by the other,
 * for pages touched before the fork and pages first touched after it,
 * while MAP_PRIVATE memory next to it stays private. Also through
 * mprotect, MADV_DONTNEED (shared data stays) and in a large process
 * (copy-on-write fork).
 */
#define T_NAME "shmem"
#include "t.h"

#include <sys/mman.h>

#define PG 4096

static void run(const char *what, long pad_bytes)
{
    /* A big private area makes fork take its copy-on-write path. */
    char *pad = 0;
    if (pad_bytes) {
        pad = mmap(0, pad_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(pad != MAP_FAILED);
        memset(pad, 1, pad_bytes);
    }
    volatile int *sh = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    volatile int *pr = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(sh != MAP_FAILED && pr != MAP_FAILED);
    sh[0] = 1; /* touched before the fork; pages 1..3 are not */
    *pr = 1;
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        if (sh[0] != 1) _exit(1);
        sh[0] = 2;                 /* seen by the parent */
        sh[PG / sizeof(int)] = 3;  /* first touch, after the fork */
        *pr = 9;                   /* private: not seen */
        while (sh[2 * PG / sizeof(int)] != 4) usleep(1000); /* parent's write */
        _exit(0);
    }
    for (int i = 0; i < 5000 && sh[PG / sizeof(int)] != 3; i++) usleep(1000);
    CHECK(sh[0] == 2 && sh[PG / sizeof(int)] == 3);
    sh[2 * PG / sizeof(int)] = 4;
    int st;
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(*pr == 1);
    /* mprotect round trip and MADV_DONTNEED keep the shared data. */
    CHECK(mprotect((void *)sh, 4 * PG, PROT_READ) == 0);
    CHECK(sh[0] == 2);
    CHECK(mprotect((void *)sh, 4 * PG, PROT_READ | PROT_WRITE) == 0);
    sh[0] = 5;
    CHECK(madvise((void *)sh, 4 * PG, MADV_DONTNEED) == 0);
    CHECK(sh[0] == 5 && sh[PG / sizeof(int)] == 3);
    CHECK(munmap((void *)sh, 4 * PG) == 0 && munmap((void *)pr, PG) == 0);
    if (pad) CHECK(munmap(pad, pad_bytes) == 0);
    SAY("%s: shared writes cross fork both ways, private ones do not", what);
}

int main(void)
{
    run("small process", 0);
    run("large process", 8L << 20);
    SAY("ok");
    return 0;
}
