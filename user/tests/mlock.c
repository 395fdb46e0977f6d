/* mlock: mlock, mlock2, munlock, mlockall, munlockall. Locked pages are
 * faulted in (mincore), unmapped ranges are ENOMEM, unknown flags EINVAL,
 * and without privilege RLIMIT_MEMLOCK applies (0: EPERM, too small:
 * ENOMEM). */
#define T_NAME "mlock"
#include "t.h"
#include <sys/mman.h>
#include <sys/resource.h>

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

static long mlock2_(void *a, size_t len, unsigned flags)
{
    return syscall(SYS_mlock2, a, len, flags);
}

static void unprivileged(void *arg)
{
    char *m = arg;
    CHECK(setresgid(1000, 1000, 1000) == 0 && setresuid(1000, 1000, 1000) == 0);
    /* The default limit (8 MiB on Linux and here) allows a page. */
    CHECK(mlock(m, 4096) == 0);
    CHECK(munlock(m, 4096) == 0);
    struct rlimit r = {4096, 4096};
    CHECK(setrlimit(RLIMIT_MEMLOCK, &r) == 0);
    CHECK(mlock(m, 4096) == 0);
    CHECK_ERR(mlock(m, 3 * 4096), ENOMEM);
    CHECK_ERR(mlockall(MCL_CURRENT), ENOMEM);
    CHECK(mlockall(MCL_FUTURE) == 0);
    CHECK(munlockall() == 0);
    r.rlim_cur = r.rlim_max = 0;
    CHECK(setrlimit(RLIMIT_MEMLOCK, &r) == 0);
    CHECK_ERR(mlock(m, 4096), EPERM);
    CHECK_ERR(mlock2_(m, 4096, 0), EPERM);
    CHECK_ERR(mlockall(MCL_CURRENT), EPERM);
    CHECK(munlock(m, 4096) == 0);
    CHECK(munlockall() == 0);
}

int main(void)
{
    long pg = 4096;
    char *m = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    unsigned char vec[8];
    CHECK(mincore(m, 8 * pg, vec) == 0);
    CHECK((vec[2] & 1) == 0); /* not touched yet */
    /* An unaligned start covers its page. */
    CHECK(mlock(m + 2 * pg + 100, 10) == 0);
    CHECK(mincore(m, 8 * pg, vec) == 0);
    CHECK((vec[2] & 1) == 1);
    CHECK((vec[3] & 1) == 0);
    CHECK(mlock(m, 0) == 0);
    CHECK(munlock(m + 2 * pg, pg) == 0);
    /* MLOCK_ONFAULT does not fault in. */
    CHECK(mlock2_(m + 5 * pg, pg, MLOCK_ONFAULT) == 0);
    CHECK(mincore(m, 8 * pg, vec) == 0);
    CHECK((vec[5] & 1) == 0);
    CHECK(mlock2_(m, pg, 0) == 0);
    CHECK_ERR(mlock2_(m, pg, 2), EINVAL);
    CHECK_ERR(mlock2_(m, pg, ~0u), EINVAL);
    SAY("mlock ok");

    /* Unmapped: all or part of the range. */
    CHECK(munmap(m + 6 * pg, pg) == 0);
    CHECK_ERR(mlock(m + 6 * pg, pg), ENOMEM);
    CHECK_ERR(mlock(m + 5 * pg, 2 * pg), ENOMEM);
    CHECK_ERR(munlock(m + 4 * pg, 3 * pg), ENOMEM);
    CHECK(mlock(m + 7 * pg, pg) == 0);
    CHECK_ERR(mlock((void *)0x1000, pg), ENOMEM);
    CHECK_ERR(munlock((void *)0x1000, pg), ENOMEM);
    /* PROT_NONE is mapped but cannot be faulted in: ENOMEM, except with
     * MLOCK_ONFAULT. */
    CHECK(mprotect(m + 4 * pg, pg, PROT_NONE) == 0);
    CHECK_ERR(mlock(m + 4 * pg, pg), ENOMEM);
    CHECK_ERR(mlock(m + 3 * pg, 2 * pg), ENOMEM);
    CHECK(mlock2_(m + 4 * pg, pg, MLOCK_ONFAULT) == 0);
    CHECK(munlock(m + 4 * pg, pg) == 0);
    SAY("unmapped ok");

    CHECK_ERR(mlockall(0), EINVAL);
    CHECK_ERR(mlockall(MCL_ONFAULT), EINVAL);
    CHECK_ERR(mlockall(8), EINVAL);
    CHECK(mlockall(MCL_CURRENT | MCL_FUTURE) == 0);
    CHECK(mlockall(MCL_CURRENT | MCL_ONFAULT) == 0);
    CHECK(munlockall() == 0);
    SAY("mlockall ok");

    int st = t_in_child(unprivileged, m);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("limits ok");
    return 0;
}
