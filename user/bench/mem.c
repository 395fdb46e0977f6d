/* mem: anonymous page faults and mmap/munmap (LMbench lat_pagefault,
 * lat_mmap). */
#include "bench.h"
#include <sys/mman.h>

#define PAGE 4096L
/* Pages mapped at a time by the page-fault benchmark (4 MiB). */
#define FAULT_CHUNK 1024L
#define MAP_SIZE (1L << 20)

/* n faults: map chunks, write one byte per page, unmap. */
static void fault_op(void *ctx, long n)
{
    (void)ctx;
    while (n > 0) {
        long pages = n < FAULT_CHUNK ? n : FAULT_CHUNK;
        char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) B_FAIL();
        for (long i = 0; i < pages; i++) ((volatile char *)p)[i * PAGE] = 1;
        if (munmap(p, pages * PAGE)) B_FAIL();
        n -= pages;
    }
}

static void mmap_op(void *ctx, long n)
{
    (void)ctx;
    for (long i = 0; i < n; i++) {
        void *p = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) B_FAIL();
        if (munmap(p, MAP_SIZE)) B_FAIL();
    }
}

int main(int argc, char **argv)
{
    b_init(argc, argv);
    bench_ns("page_fault", fault_op, NULL, 1L << 30);
    bench_ns("mmap_munmap_1m", mmap_op, NULL, 1L << 30);
    return 0;
}
