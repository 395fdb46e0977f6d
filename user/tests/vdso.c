/*
 * vdso: the kernel maps a vDSO (AT_SYSINFO_EHDR) whose versioned
 * __vdso_clock_gettime / __vdso_gettimeofday / __vdso_time (LINUX_2.6)
 * agree with the system calls; libc's clock_gettime goes through it.
 */
#define T_NAME "vdso"
#include "t.h"

#include <elf.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

typedef int (*cgt_fn)(clockid_t, struct timespec *);
typedef int (*gtod_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);

/* Finds a dynamic symbol of the vDSO by name (the way libc does). */
static void *vdso_sym(const char *want)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
    if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) return 0;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
    uintptr_t base = (uintptr_t)-1;
    const Elf64_Dyn *dyn = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && base == (uintptr_t)-1) base = (uintptr_t)eh + ph[i].p_offset - ph[i].p_vaddr;
        if (ph[i].p_type == PT_DYNAMIC) dyn = (const Elf64_Dyn *)((const char *)eh + ph[i].p_offset);
    }
    if (!dyn || base == (uintptr_t)-1) return 0;
    const Elf64_Sym *syms = 0;
    const char *strs = 0;
    const uint32_t *hash = 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_SYMTAB) syms = (const Elf64_Sym *)(base + dyn->d_un.d_ptr);
        if (dyn->d_tag == DT_STRTAB) strs = (const char *)(base + dyn->d_un.d_ptr);
        if (dyn->d_tag == DT_HASH) hash = (const uint32_t *)(base + dyn->d_un.d_ptr);
    }
    if (!syms || !strs || !hash) return 0;
    for (uint32_t i = 0; i < hash[1]; i++) {
        if (syms[i].st_shndx != SHN_UNDEF && strcmp(strs + syms[i].st_name, want) == 0) return (void *)(base + syms[i].st_value);
    }
    return 0;
}

static long long ns_of(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(void)
{
    CHECK(getauxval(AT_SYSINFO_EHDR) != 0);
    cgt_fn cgt = (cgt_fn)vdso_sym("__vdso_clock_gettime");
    gtod_fn gtod = (gtod_fn)vdso_sym("__vdso_gettimeofday");
    time_fn tm = (time_fn)vdso_sym("__vdso_time");
    CHECK(cgt && gtod && tm);
    SAY("AT_SYSINFO_EHDR names an ELF with __vdso_clock_gettime, gettimeofday and time");

    /* The vDSO's clocks lie between two system-call readings. */
    int clocks[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW};
    for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        struct timespec a, v, b;
        CHECK(syscall(SYS_clock_gettime, clocks[i], &a) == 0);
        CHECK(cgt(clocks[i], &v) == 0);
        CHECK(syscall(SYS_clock_gettime, clocks[i], &b) == 0);
        CHECK(v.tv_nsec >= 0 && v.tv_nsec < 1000000000);
        /* CLOCK_REALTIME may be stepped by 1 ms rounding of the offset. */
        long long slack = clocks[i] == CLOCK_REALTIME ? 1000000 : 0;
        CHECK(ns_of(&a) - slack <= ns_of(&v) && ns_of(&v) <= ns_of(&b) + slack);
    }
    /* An unknown clock goes to the kernel and fails there. */
    struct timespec x;
    CHECK(cgt(12345, &x) == -EINVAL);
    SAY("vDSO clocks agree with clock_gettime(2)");

    struct timeval tv;
    CHECK(gtod(&tv, 0) == 0 && tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    time_t t1 = tm(0), t2 = time(0);
    CHECK(t1 > 1500000000 && t2 >= t1 && t2 - t1 < 5 && tv.tv_sec <= t2 && t2 - tv.tv_sec < 5);
    /* libc's clock_gettime (through the vDSO) is monotonic too. */
    struct timespec p, q;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &p) == 0);
    for (int i = 0; i < 1000; i++) {
        CHECK(clock_gettime(CLOCK_MONOTONIC, &q) == 0);
        CHECK(ns_of(&q) >= ns_of(&p));
        p = q;
    }
    SAY("gettimeofday, time and libc's clock_gettime agree");
    SAY("ok");
    return 0;
}
