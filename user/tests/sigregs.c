/*
 * Standalone reproducer found with the fuzzer (docs/reliability.md):
 * after a signal handler runs for a signal that interrupted user code
 * asynchronously (a timer interrupt, not a system call), rt_sigreturn must
 * give back every register. Ferrite returns with rcx = the interrupted rip
 * and r11 = rflags (the sysret convention), so rcx and r11 are lost.
 *
 * Not built into the initramfs (only fuzz.c is). To run it:
 *   (a guest test: /tests/sigregs; found by the syscall fuzzer)
 * and boot it as init, or copy it into user/tests/ (it follows that
 * protocol: prints `sigregs: ...` and exits 0 on success, 1 on failure).
 * Linux 6.1: 0 bad registers; Ferrite (2026-11-24): rcx and r11 wrong after
 * every signal.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <sys/reboot.h>
static volatile unsigned long hits;
static void h(int s) { (void)s; hits++; }
int main(void) {
    struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = h; sigaction(SIGALRM, &sa, 0);
    struct itimerval it = {{0, 2000}, {0, 2000}}; setitimer(ITIMER_REAL, &it, 0);
    unsigned long bad = 0;
    static const char *nm[14] = {"rax","rbx","rcx","rdx","rdi","rbp","r8","r9","r10","r11","r12","r13","r14","r15"};
    for (unsigned long i = 0; i < 4000 && bad < 8; i++) {
        unsigned long out[14];
        __asm__ volatile(
            "push %%rbp\n push %%rsi\n"
            "mov $0x1000, %%rax\n mov $0x1001, %%rbx\n mov $0x1002, %%rcx\n mov $0x1003, %%rdx\n"
            "mov $0x1004, %%rdi\n mov $0x1005, %%rbp\n mov $0x1006, %%r8\n mov $0x1007, %%r9\n"
            "mov $0x1008, %%r10\n mov $0x1009, %%r11\n mov $0x100a, %%r12\n mov $0x100b, %%r13\n"
            "mov $0x100c, %%r14\n mov $0x100d, %%r15\n"
            "mov $20000, %%esi\n 1: dec %%esi\n jnz 1b\n"
            "pop %%rsi\n"
            "mov %%rax, 0(%%rsi)\n mov %%rbx, 8(%%rsi)\n mov %%rcx, 16(%%rsi)\n mov %%rdx, 24(%%rsi)\n"
            "mov %%rdi, 32(%%rsi)\n mov %%rbp, 40(%%rsi)\n mov %%r8, 48(%%rsi)\n mov %%r9, 56(%%rsi)\n"
            "mov %%r10, 64(%%rsi)\n mov %%r11, 72(%%rsi)\n mov %%r12, 80(%%rsi)\n mov %%r13, 88(%%rsi)\n"
            "mov %%r14, 96(%%rsi)\n mov %%r15, 104(%%rsi)\n"
            "pop %%rbp\n"
            : : "S"(out) : "rax", "rbx", "rcx", "rdx", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "memory", "cc");
        for (int r = 0; r < 14; r++)
            if (out[r] != 0x1000UL + r) { printf("sigregs: loop %lu: %s = %#lx (want %#lx), signals so far %lu\n", i, nm[r], out[r], 0x1000UL + r, hits); bad++; }
    }
    printf("sigregs: done, %lu bad, %lu signals\n", bad, hits);
    fflush(stdout);
    if (getpid() == 1) reboot(RB_POWER_OFF);
    return bad ? 1 : 0;
}
