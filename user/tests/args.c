/* args: the initial stack: argc, argv, envp and the auxiliary vector.
 * The runner starts every test with argv {path, "arg1"} and envp
 * {"FERRITE_TEST=1", "PATH=/bin"}. */
#define T_NAME "args"
#include "t.h"
#include <elf.h>
#include <stdint.h>
#include <sys/auxv.h>

extern char _start[];

int main(int argc, char **argv, char **envp)
{
    SAY("argc=%d argv[0]=%s", argc, argv[0]);
    CHECK(argc == 2);
    CHECK(argv[0] != NULL && argv[0][0] != '\0');
    CHECK(strcmp(argv[1], "arg1") == 0);
    CHECK(argv[argc] == NULL);
    /* envp starts right after argv's NULL. */
    CHECK(envp == argv + argc + 1);

    int found = 0, n = 0;
    for (char **e = envp; *e; e++, n++) {
        SAY("env[%d]=%s", n, *e);
        if (strcmp(*e, "FERRITE_TEST=1") == 0) found = 1;
    }
    CHECK(found);
    CHECK(getenv("FERRITE_TEST") && strcmp(getenv("FERRITE_TEST"), "1") == 0);

    /* The auxiliary vector follows envp's NULL. */
    unsigned long pagesz = getauxval(AT_PAGESZ);
    SAY("AT_PAGESZ=%lu", pagesz);
    CHECK(pagesz == 4096);
    CHECK(sysconf(_SC_PAGESIZE) == 4096);

    unsigned char *rnd = (unsigned char *)getauxval(AT_RANDOM);
    SAY("AT_RANDOM=%p", (void *)rnd);
    CHECK(rnd != NULL);
    int nonzero = 0;
    for (int i = 0; i < 16; i++) nonzero |= rnd[i];
    CHECK(nonzero); /* 16 random bytes, all zero: 1 chance in 2^128 */

    unsigned long entry = getauxval(AT_ENTRY);
    SAY("AT_ENTRY=%#lx _start=%p", entry, (void *)_start);
    CHECK(entry == (unsigned long)_start);

    Elf64_Phdr *phdr = (Elf64_Phdr *)getauxval(AT_PHDR);
    unsigned long phent = getauxval(AT_PHENT), phnum = getauxval(AT_PHNUM);
    SAY("AT_PHDR=%p AT_PHENT=%lu AT_PHNUM=%lu", (void *)phdr, phent, phnum);
    CHECK(phdr != NULL);
    CHECK(phent == sizeof(Elf64_Phdr));
    CHECK(phnum > 0 && phnum < 64);
    /* The program headers must be this program's: one executable PT_LOAD
     * covers _start. */
    int covers = 0;
    for (unsigned long i = 0; i < phnum; i++) {
        if (phdr[i].p_type == PT_LOAD && (phdr[i].p_flags & PF_X) &&
            phdr[i].p_vaddr <= (uintptr_t)_start &&
            (uintptr_t)_start < phdr[i].p_vaddr + phdr[i].p_memsz)
            covers = 1;
    }
    CHECK(covers);

    CHECK(getauxval(AT_UID) == (unsigned long)getuid());
    CHECK(getauxval(AT_GID) == (unsigned long)getgid());
    SAY("ok");
    return 0;
}
