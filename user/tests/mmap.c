/* mmap: anonymous private memory: zero-filled and writable; munmap makes a
 * page fault with SIGSEGV; MAP_FIXED places (and replaces) a mapping;
 * mprotect(PROT_READ) makes writes fault. Faults are provoked in forked
 * children, which must die of SIGSEGV. */
#define T_NAME "mmap"
#include "t.h"
#include <stdint.h>
#include <sys/mman.h>

#define PG 4096

static void touch_read(void *p) { (void)*(volatile char *)p; }
static void touch_write(void *p) { *(volatile char *)p = 1; }

int main(void)
{
    char *p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    CHECK(((uintptr_t)p & (PG - 1)) == 0);
    SAY("mapped 3 pages at %p", (void *)p);
    for (int i = 0; i < 3 * PG; i++) CHECK(p[i] == 0);
    for (int i = 0; i < 3 * PG; i++) p[i] = (char)(i ^ 0x5a);
    for (int i = 0; i < 3 * PG; i++) CHECK(p[i] == (char)(i ^ 0x5a));
    SAY("zero-filled, writable");

    /* Unmap the middle page: it faults, its neighbours stay intact. */
    CHECK(munmap(p + PG, PG) == 0);
    CHECK_KILLED_BY(touch_read, p + PG, SIGSEGV);
    CHECK_KILLED_BY(touch_write, p + PG + 100, SIGSEGV);
    CHECK(p[0] == (char)(0 ^ 0x5a));
    CHECK(p[2 * PG + 1] == (char)((2 * PG + 1) ^ 0x5a));
    SAY("unmapped page faults (SIGSEGV), neighbours intact");

    /* MAP_FIXED into the hole, then over an existing page (replaces it). */
    char *q = mmap(p + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(q == p + PG);
    CHECK(q[0] == 0 && q[PG - 1] == 0);
    q[5] = 9;
    char *r = mmap(p, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(r == p);
    CHECK(p[0] == 0 && p[1] == 0);
    CHECK(q[5] == 9);
    SAY("MAP_FIXED places and replaces mappings");

    /* mprotect read-only: reads work, writes fault. */
    CHECK(mprotect(p, 3 * PG, PROT_READ) == 0);
    CHECK(q[5] == 9);
    CHECK_KILLED_BY(touch_write, p + 2 * PG, SIGSEGV);
    CHECK(mprotect(p, 3 * PG, PROT_READ | PROT_WRITE) == 0);
    p[2 * PG] = 3;
    CHECK(p[2 * PG] == 3);
    SAY("mprotect(PROT_READ): writes fault (SIGSEGV); RW again works");

    /* Bad arguments. */
    CHECK(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL);
    CHECK_ERR(munmap(p + 1, PG), EINVAL);
    CHECK(munmap(p, 3 * PG) == 0);
    CHECK_KILLED_BY(touch_read, p, SIGSEGV);

    /* Anonymous memory of a larger size, touched sparsely. */
    size_t big = 64u << 20;
    char *b = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(b != MAP_FAILED);
    for (size_t off = 0; off < big; off += 1u << 20) b[off] = 1;
    for (size_t off = 0; off < big; off += 1u << 20) CHECK(b[off] == 1 && b[off + 1] == 0);
    CHECK(munmap(b, big) == 0);
    SAY("64 MiB mapping touched sparsely");

    /* MAP_POPULATE: every page resident at once (mincore), writable
     * private ones as well as read-only ones, which read as zeros; a
     * PROT_NONE one is left alone and still faults. */
    {
        size_t n = 64;
        unsigned char vec[64];
        int prots[2] = {PROT_READ | PROT_WRITE, PROT_READ};
        for (int k = 0; k < 2; k++) {
            char *q = mmap(NULL, n * PG, prots[k], MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
            CHECK(q != MAP_FAILED);
            CHECK(mincore(q, n * PG, vec) == 0);
            for (size_t i = 0; i < n; i++) CHECK(vec[i] & 1);
            for (size_t i = 0; i < n; i++) CHECK(q[i * PG] == 0);
            CHECK(munmap(q, n * PG) == 0);
        }
        char *s = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        CHECK(s != MAP_FAILED);
        CHECK(mincore(s, n * PG, vec) == 0);
        for (size_t i = 0; i < n; i++) CHECK(vec[i] & 1);
        s[5 * PG] = 9;
        CHECK(s[5 * PG] == 9);
        CHECK(munmap(s, n * PG) == 0);
        char *none = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        CHECK(none != MAP_FAILED);
        CHECK_KILLED_BY(touch_read, none, SIGSEGV);
        CHECK(munmap(none, 4 * PG) == 0);
    }
    SAY("MAP_POPULATE: private, read-only, shared, PROT_NONE");
    SAY("ok");
    return 0;
}
