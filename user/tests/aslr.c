/* aslr: address-space layout randomisation. The test execs itself with
 * argv[1] == "report"; the copy prints the address of a stack variable, of
 * a fresh anonymous mmap and the program break. Two ordinary runs must put
 * the stack and the mmap at different addresses (Linux randomises both by
 * default, as does Ferrite unless booted with `norandmaps`); two runs under
 * personality(ADDR_NO_RANDOMIZE) (what `setarch -R` does) must agree on
 * all three. personality(0xffffffff) reads the value back, and it survives
 * fork and exec. */
#define T_NAME "aslr"
#include "t.h"

#include <sys/mman.h>
#include <sys/personality.h>

struct layout {
    unsigned long stack, map, brk, persona;
};

static void report(void)
{
    volatile int local = 0;
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) _exit(122);
    printf("%lx %lx %lx %lx\n", (unsigned long)&local, (unsigned long)m, (unsigned long)sbrk(0),
           (unsigned long)personality(0xffffffff));
}

/* Runs a copy of this program (after personality(persona) in the child if
 * persona is not -1) and reads its layout. */
static struct layout run(const char *self, long persona)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (dup2(fds[1], 1) != 1) _exit(120);
        close(fds[1]);
        if (persona != -1 && personality((unsigned long)persona) == -1) _exit(123);
        char *argv[] = {(char *)self, "report", NULL};
        char *envp[] = {"A=1", NULL};
        execve(self, argv, envp);
        _exit(121);
    }
    close(fds[1]);
    char out[256];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fds[0], out + len, sizeof out - 1 - len);
        CHECK(n >= 0);
        if (n == 0) break;
        len += (size_t)n;
        CHECK(len < sizeof out - 1);
    }
    out[len] = '\0';
    close(fds[0]);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct layout l;
    CHECK(sscanf(out, "%lx %lx %lx %lx", &l.stack, &l.map, &l.brk, &l.persona) == 4);
    printf("aslr: persona %#lx: stack %#lx mmap %#lx brk %#lx\n", l.persona, l.stack, l.map, l.brk);
    return l;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "report") == 0) {
        report();
        return 0;
    }
    const char *self = argv[0];

    /* Randomised: the stack and the mmap area move between runs. */
    struct layout a = run(self, -1), b = run(self, -1);
    CHECK(a.stack != b.stack);
    CHECK(a.map != b.map);
    CHECK(a.stack % 4 == 0);
    CHECK(a.map % 4096 == 0 && b.map % 4096 == 0);
    CHECK(a.map < a.stack && b.map < b.stack);

    /* ADDR_NO_RANDOMIZE: the same layout every time, and it is inherited
     * across exec. */
    struct layout c = run(self, ADDR_NO_RANDOMIZE), d = run(self, ADDR_NO_RANDOMIZE);
    CHECK(c.persona & ADDR_NO_RANDOMIZE);
    CHECK(c.stack == d.stack);
    CHECK(c.map == d.map);
    CHECK(c.brk == d.brk);

    /* personality(2) returns the old value; 0xffffffff only queries. */
    int old = personality(0xffffffff);
    CHECK(old != -1 && (old & ADDR_NO_RANDOMIZE) == 0);
    CHECK(personality(ADDR_NO_RANDOMIZE) == old);
    CHECK(personality(0xffffffff) == (old | ADDR_NO_RANDOMIZE));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(personality(0xffffffff) & ADDR_NO_RANDOMIZE ? 0 : 1);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(personality((unsigned long)old) == (old | ADDR_NO_RANDOMIZE));
    CHECK(personality(0xffffffff) == old);

    printf("aslr: done\n");
    return 0;
}
