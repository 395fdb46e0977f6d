/*
 * growsdown: MAP_GROWSDOWN mappings and the main stack grow on demand.
 * A fault below a MAP_GROWSDOWN mapping moves its start down (seen in
 * /proc/self/maps); not to within the stack guard gap (256 pages) of the
 * mapping below, nor past RLIMIT_STACK (SIGSEGV); mmap does not place a
 * hinted mapping in that gap; MAP_GROWSDOWN|MAP_SHARED anonymous is
 * EINVAL. The main stack starts small and grows to several MiB, up to
 * RLIMIT_STACK. mprotect with PROT_GROWSDOWN extends the range down to
 * the start of a MAP_GROWSDOWN mapping (EINVAL on others); PROT_GROWSUP
 * is EINVAL.
 */
#define T_NAME "growsdown"
#include "t.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define PG 4096UL
#define GAP (256 * PG)

/* Start and end of the mapping of /proc/self/maps that contains `addr`,
 * and whether it is the [stack]. */
static int mapping_of(uintptr_t addr, uintptr_t *start, uintptr_t *end, int *is_stack)
{
    FILE *f = fopen(P("/proc/self/maps"), "r");
    CHECK(f != NULL);
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s <= addr && addr < e) {
            *start = s;
            *end = e;
            if (is_stack) *is_stack = strstr(line, "[stack]") != NULL;
            found = 1;
        }
    }
    fclose(f);
    return found;
}

static char *region; /* 64 MiB reserved, then unmapped: ours to place in */
static char *g;      /* the MAP_GROWSDOWN mapping: 4 pages at region + 32 MiB */

static void touch(void *arg) { *(volatile char *)arg = 1; }

static void beyond_limit(void *arg)
{
    (void)arg;
    struct rlimit rl = {256 << 10, RLIM_INFINITY};
    CHECK(setrlimit(RLIMIT_STACK, &rl) == 0);
    /* The mapping would be 512 KiB: over the 256 KiB limit. */
    *(volatile char *)(g + 4 * PG - (512 << 10)) = 1;
}

/* Uses about `kib` KiB of stack, touching every page. */
static int deep(int kib)
{
    volatile char buf[16 << 10];
    for (size_t i = 0; i < sizeof buf; i += PG) buf[i] = (char)kib;
    if (kib <= 16) return buf[0];
    return deep(kib - 16) + buf[100];
}

static void deep_over_limit(void *arg)
{
    (void)arg;
    struct rlimit rl = {1 << 20, RLIM_INFINITY};
    CHECK(setrlimit(RLIMIT_STACK, &rl) == 0);
    deep(2 << 10); /* 2 MiB: SIGSEGV past 1 MiB */
}

int main(void)
{
    int mounted = 0;
    if (access(P("/proc/self/maps"), F_OK) != 0) {
        mkdir("/proc", 0555);
        CHECK(mount("proc", "/proc", "proc", 0, 0) == 0);
        mounted = 1;
    }
    region = mmap(NULL, 64 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(region != MAP_FAILED);
    CHECK(munmap(region, 64 << 20) == 0);
    g = mmap(region + (32 << 20), 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
    CHECK(g == region + (32 << 20));
    uintptr_t s, e;
    CHECK(mapping_of((uintptr_t)g, &s, &e, NULL) && s == (uintptr_t)g && e == (uintptr_t)g + 4 * PG);

    /* Just below, then well below: it grows. */
    g[-1] = 1;
    CHECK(mapping_of((uintptr_t)g, &s, &e, NULL) && s == (uintptr_t)g - PG && e == (uintptr_t)g + 4 * PG);
    g[-(long)(20 * PG)] = 2;
    CHECK(mapping_of((uintptr_t)g - 20 * PG, &s, &e, NULL) && s == (uintptr_t)g - 20 * PG && e == (uintptr_t)g + 4 * PG);
    CHECK(g[-1] == 1 && g[-(long)(20 * PG)] == 2 && g[-(long)(10 * PG)] == 0);
    SAY("a fault below a MAP_GROWSDOWN mapping grows it");

    /* A hint in the guard gap below it is not taken. */
    char *low = (char *)s; /* the grown mapping's start */
    char *h = mmap(low - 2 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(h != MAP_FAILED && (h + PG <= low - GAP || h >= low + 24 * PG));
    CHECK(munmap(h, PG) == 0);
    /* A mapping below, leaving exactly the gap plus two pages. */
    char *m = mmap(low - GAP - 3 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(m == low - GAP - 3 * PG);
    touch(low - PG);      /* gap + 1 page left: fine */
    touch(low - 2 * PG);  /* exactly the gap left: fine */
    CHECK_KILLED_BY(touch, low - 3 * PG, SIGSEGV); /* into the gap */
    CHECK(mapping_of((uintptr_t)low - 2 * PG, &s, &e, NULL) && s == (uintptr_t)low - 2 * PG);
    SAY("it stops a guard gap (256 pages) above the mapping below");
    /* A PROT_NONE mapping below does not count (Linux's guard gap rule is
     * for accessible mappings). */
    CHECK(mprotect(m, PG, PROT_NONE) == 0);
    touch(low - 3 * PG);
    CHECK(munmap(m, PG) == 0);

    /* RLIMIT_STACK bounds its size. */
    CHECK_KILLED_BY(beyond_limit, NULL, SIGSEGV);
    SAY("RLIMIT_STACK bounds it (SIGSEGV past the limit)");

    CHECK_ERR(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0), EINVAL);

    /* The main stack: small at first, grows to 4 MiB on demand. */
    int on_stack;
    uintptr_t ss0, se0, ss1, se1;
    int is_stack = 0;
    CHECK(mapping_of((uintptr_t)&on_stack, &ss0, &se0, &is_stack) && is_stack);
    CHECK(se0 - ss0 < (1 << 20));
    /* (In a child, before this stack has grown past that limit.) */
    CHECK_KILLED_BY(deep_over_limit, NULL, SIGSEGV);
    deep(4 << 10);
    CHECK(mapping_of((uintptr_t)&on_stack, &ss1, &se1, &is_stack) && is_stack);
    CHECK(se1 == se0 && se1 - ss1 >= (4 << 20));
    SAY("the main stack grows on demand (%lu KiB to %lu KiB)", (unsigned long)(se0 - ss0) >> 10,
        (unsigned long)(se1 - ss1) >> 10);
    SAY("and stops at RLIMIT_STACK (a 1 MiB limit: SIGSEGV at 2 MiB)");

    /* mprotect with PROT_GROWSDOWN reaches down to the start of the
     * MAP_GROWSDOWN mapping; on any other mapping it is EINVAL, and so
     * is PROT_GROWSUP (nothing grows up on x86_64), and both together. */
    char *gd = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
    CHECK(gd != MAP_FAILED);
    CHECK(mprotect(gd + 2 * PG, PG, PROT_READ | PROT_GROWSDOWN) == 0);
    CHECK_KILLED_BY(touch, gd, SIGSEGV);
    CHECK_KILLED_BY(touch, gd + 2 * PG, SIGSEGV);
    touch(gd + 3 * PG); /* above the range: still writable */
    uintptr_t ps, pe;
    CHECK(mapping_of((uintptr_t)gd, &ps, &pe, NULL) && ps == (uintptr_t)gd && pe == (uintptr_t)gd + 3 * PG);
    char *plain = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(plain != MAP_FAILED);
    CHECK_ERR(mprotect(plain + PG, PG, PROT_READ | PROT_GROWSDOWN), EINVAL);
    CHECK_ERR(mprotect(plain, PG, PROT_READ | PROT_GROWSUP), EINVAL);
    CHECK_ERR(mprotect(plain, 0, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP), EINVAL);
    CHECK(mprotect(plain, 0, PROT_READ | PROT_GROWSUP) == 0);
    touch(plain); /* the failed calls changed nothing */
    touch(plain + PG);
    CHECK(munmap(plain, 2 * PG) == 0 && munmap(gd, 4 * PG) == 0);
    SAY("mprotect PROT_GROWSDOWN extends to the mapping start; PROT_GROWSUP EINVAL");
    if (mounted) CHECK(umount("/proc") == 0);
    return 0;
}
