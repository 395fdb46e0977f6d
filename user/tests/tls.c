/* tls: thread-local storage of the main thread: an initialised __thread
 * variable (.tdata), a zeroed one (.tbss), an aligned one, and %fs:0
 * pointing to itself (the x86_64 TLS ABI; musl relies on it). The kernel's
 * part is arch_prctl(ARCH_SET_FS) and keeping FS across switches. */
#define T_NAME "tls"
#include "t.h"
#include <stdint.h>
#include <sched.h>
#include <pthread.h>

static __thread int five = 5;
static __thread long zero;
static __thread char aligned[100] __attribute__((aligned(64))) = "tdata";

int main(void)
{
    SAY("five=%d at %p", five, (void *)&five);
    CHECK(five == 5);
    CHECK(zero == 0);
    CHECK(((uintptr_t)aligned & 63) == 0);
    CHECK(strcmp(aligned, "tdata") == 0);

    uintptr_t tp;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tp));
    SAY("thread pointer %#lx", (unsigned long)tp);
    CHECK(tp != 0);
    CHECK(tp == (uintptr_t)pthread_self());
    /* Variant II: TLS blocks sit just below the thread pointer. */
    CHECK((uintptr_t)&five < tp && tp - (uintptr_t)&five < 4096);

    five = 6;
    zero = 7;
    /* Survives a trip through the kernel and a reschedule. */
    for (int i = 0; i < 100; i++) sched_yield();
    CHECK(five == 6 && zero == 7);
    uintptr_t tp2;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tp2));
    CHECK(tp2 == tp);

    /* A forked child inherits FS and its own copy of the values. */
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (five != 6 || zero != 7) _exit(1);
        five = 100;
        _exit(five == 100 ? 0 : 2);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(five == 6);
    SAY("ok");
    return 0;
}
