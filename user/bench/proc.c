/* proc: process creation (LMbench lat_proc fork, exec, shell). */
#include "bench.h"
#include <sys/wait.h>

static char *const ENVP[] = {"PATH=/bin:/sbin", NULL};

static void spawn_op(void *ctx, long n)
{
    char *const *argv = ctx;
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) B_FAIL();
        if (pid == 0) {
            if (argv) execve(argv[0], argv, ENVP);
            _exit(argv ? 127 : 0);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid) B_FAIL();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            errno = WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ENOEXEC : ECHILD;
            B_FAIL();
        }
    }
}

int main(int argc, char **argv)
{
    b_init(argc, argv);
    static char *const nop[] = {"/bench/nop", NULL};
    static char *const sh[] = {"/bin/sh", "-c", "true", NULL};
    bench_ns("fork_exit", spawn_op, NULL, 1L << 20);
    bench_ns("fork_exec", spawn_op, (void *)nop, 1L << 20);
    bench_ns("sh_c_true", spawn_op, (void *)sh, 1L << 20);
    return 0;
}
