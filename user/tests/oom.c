/*
 * oom: a process that touches more memory than the machine has is killed
 * with SIGKILL by the out-of-memory killer; the kernel and the other
 * processes go on, and the memory comes back.
 */
#define T_NAME "oom"
#include "t.h"

#include <sys/mman.h>
#include <sys/sysinfo.h>

#define CHUNK (64L << 20)

static long free_mib(void)
{
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0);
    return (long)(si.freeram * si.mem_unit >> 20);
}

int main(void)
{
    long before = free_mib();
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0);
    long total_mib = (long)(si.totalram * si.mem_unit >> 20);

    pid_t hog = fork();
    CHECK(hog >= 0);
    if (hog == 0) {
        /* Twice the machine's memory, touched page by page. */
        for (long done = 0; done < 2 * total_mib; done += CHUNK >> 20) {
            char *p = mmap(0, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) _exit(3);
            for (long i = 0; i < CHUNK; i += 4096) p[i] = 1;
        }
        _exit(4); /* survived more than the machine has: no OOM kill */
    }
    int st;
    CHECK(waitpid(hog, &st, 0) == hog);
    if (!WIFSIGNALED(st)) fprintf(stderr, "oom: hog exited with %d\n", WEXITSTATUS(st));
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    SAY("a process touching twice the machine's memory got SIGKILL");

    /* Everything still works, and the hog's memory came back. */
    long after = 0;
    for (int i = 0; i < 50; i++) {
        after = free_mib();
        if (after > before - 64) break;
        usleep(20000);
    }
    CHECK(after > before - 64);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        char *p = mmap(0, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) _exit(1);
        memset(p, 7, 16 << 20);
        _exit(p[12345] == 7 ? 0 : 2);
    }
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    printf("oom: free memory %ld MiB before, %ld MiB after; a new 16 MiB process runs\n", before, after);
    SAY("ok");
    return 0;
}
