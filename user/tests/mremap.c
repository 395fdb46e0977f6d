/*
 * mremap: shrink, grow in place, move with MREMAP_MAYMOVE (contents kept),
 * MREMAP_FIXED, and the errors; mincore reports resident pages.
 */
#define T_NAME "mremap"
#include "t.h"

#include <sys/mman.h>

#define PG 4096L

int main(void)
{
    /* 4 pages with 8 free ones after them (ours a moment ago). */
    char *a = mmap(0, 12 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(a != MAP_FAILED);
    CHECK(munmap(a + 4 * PG, 8 * PG) == 0);
    for (int i = 0; i < 4; i++) a[i * PG] = (char)('a' + i);

    /* mincore: touched pages are resident, and an unmapped range fails. */
    unsigned char vec[4];
    CHECK(mincore(a, 4 * PG, vec) == 0);
    for (int i = 0; i < 4; i++) CHECK(vec[i] & 1);
    CHECK_ERR(mincore(a + 1, PG, vec), EINVAL);
    SAY("mincore sees resident pages");

    /* Shrink in place. */
    CHECK(mremap(a, 4 * PG, 2 * PG, 0) == a);
    CHECK(a[PG] == 'b');
    CHECK_ERR(mincore(a + 2 * PG, PG, vec), ENOMEM);

    /* Grow: in place when free after it, else moved (MAYMOVE). */
    char *b = mremap(a, 2 * PG, 6 * PG, 0);
    CHECK(b == a);
    CHECK(b[0] == 'a' && b[PG] == 'b' && b[5 * PG] == 0);
    /* Block the space after it, then grow with and without MAYMOVE. */
    char *wall = mmap(b + 6 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(wall == b + 6 * PG);
    CHECK(mremap(b, 6 * PG, 64 * PG, 0) == MAP_FAILED && errno == ENOMEM);
    char *c = mremap(b, 6 * PG, 64 * PG, MREMAP_MAYMOVE);
    CHECK(c != MAP_FAILED && c != b);
    CHECK(c[0] == 'a' && c[PG] == 'b' && c[63 * PG] == 0);
    c[63 * PG] = 'z';
    SAY("shrink, grow in place, and move keep the contents");

    /* MREMAP_FIXED to a chosen address. */
    char *target = mmap(0, 64 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(target != MAP_FAILED);
    char *d = mremap(c, 64 * PG, 64 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    CHECK(d == target && d[0] == 'a' && d[63 * PG] == 'z');
    SAY("MREMAP_FIXED moves to the given address");

    /* Errors. */
    CHECK(mremap(d + 1, PG, 2 * PG, MREMAP_MAYMOVE) == MAP_FAILED && errno == EINVAL);
    CHECK(mremap(d, PG, 2 * PG, MREMAP_FIXED, target) == MAP_FAILED && errno == EINVAL);
    CHECK(mremap(d, PG, 0, MREMAP_MAYMOVE) == MAP_FAILED && errno == EINVAL);
    CHECK(mremap(d, PG, 2 * PG, 0x80) == MAP_FAILED && errno == EINVAL);
    CHECK(munmap(d, 64 * PG) == 0);
    CHECK(mremap(d, PG, 2 * PG, MREMAP_MAYMOVE) == MAP_FAILED && errno == EFAULT);
    SAY("errors: EINVAL for bad flags and addresses, EFAULT for an unmapped range");
    SAY("ok");
    return 0;
}
