/* brk: the program break grows, is writable and zero-filled, shrinks, and
 * grows again with fresh zero pages. Uses the raw brk system call: musl's
 * brk() and sbrk(nonzero) refuse on purpose, so sbrk is built here the way
 * glibc does it. */
#define T_NAME "brk"
#include "t.h"
#include <stdint.h>
#include <sys/syscall.h>

#define GROW (64 * 1024)

static uintptr_t raw_brk(uintptr_t addr) { return (uintptr_t)syscall(SYS_brk, addr); }

/* Linux's brk returns the new break, or the old one when it refuses. */
static void *my_sbrk(intptr_t inc)
{
    uintptr_t cur = raw_brk(0);
    if (inc && raw_brk(cur + inc) != cur + inc) {
        errno = ENOMEM;
        return (void *)-1;
    }
    return (void *)cur;
}

int main(void)
{
    uintptr_t start = raw_brk(0);
    SAY("initial break %#lx", (unsigned long)start);
    CHECK(start != 0);
    CHECK(raw_brk(0) == start);

    /* Grow with sbrk: returns the old break. */
    char *p = my_sbrk(GROW);
    CHECK(p != (void *)-1);
    CHECK((uintptr_t)p == start);
    CHECK(raw_brk(0) == start + GROW);
    CHECK((uintptr_t)my_sbrk(0) == start + GROW);
    SAY("grew by %d bytes to %p", GROW, my_sbrk(0));
    for (int i = 0; i < GROW; i++) CHECK(p[i] == 0);
    for (int i = 0; i < GROW; i++) p[i] = (char)(i * 7);
    for (int i = 0; i < GROW; i++) CHECK(p[i] == (char)(i * 7));

    /* Shrink back with sbrk, then grow again: the pages past the first
     * page boundary were unmapped and must come back zeroed. */
    CHECK(my_sbrk(-GROW) != (void *)-1);
    CHECK(raw_brk(0) == start);
    SAY("shrank back to %#lx", (unsigned long)start);
    CHECK(raw_brk(start + GROW) == start + GROW);
    uintptr_t page_end = (start + 4095) & ~(uintptr_t)4095;
    for (uintptr_t a = page_end; a < start + GROW; a++) CHECK(*(char *)a == 0);
    SAY("regrown memory is zero");

    /* A request below the start of the heap fails: brk returns the
     * current break unchanged. */
    CHECK(raw_brk(start + GROW) == start + GROW);
    CHECK(raw_brk(4096) == start + GROW);
    CHECK(raw_brk(0) == start + GROW);
    CHECK(raw_brk(start) == start);
    SAY("ok");
    return 0;
}
