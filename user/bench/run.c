/*
 * run: the benchmark runner, booted as pid 1 with `rdinit=/bench/run`.
 *
 * Prints `bench: start` as its first output (the host times the boot up to
 * that line), runs every benchmark program in PROGRAMS with fork + execve +
 * wait (passing `--quick` on when it is among its own arguments, i.e. after
 * `--` on the kernel command line; other arguments name the only programs
 * to run, e.g. `-- --quick sys pipe`; `--boot` runs none, for the host's
 * extra boot-time samples), prints `bench: done`, then powers off when it
 * is pid 1. A program that fails is reported as
 *     bench-run: <program> exit <status> | signal <n> | cannot run (errno N)
 * and the runner goes on with the next one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const PROGRAMS[] = {
    "meminfo", /* first: memory in use right after boot */
    "sys", "pipe", "unix", "proc", "mem", "file", "poll", "signal", "thread",
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("bench: start\n");
    int quick = 0, only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--boot") == 0 || argv[i][0] != '-')
            only = 1;
    }

    /* Linux does not mount devtmpfs on an initramfs: /dev/zero and
     * /dev/null come from it. Ferrite has them built in. */
    struct stat st;
    if (stat("/dev/zero", &st) != 0) {
        mkdir("/dev", 0755);
        if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) != 0)
            printf("bench-run: mount devtmpfs on /dev failed (errno %d)\n", errno);
    }
    mkdir("/tmp", 01777);

    char *envp[] = {"PATH=/bin:/sbin", NULL};
    for (size_t i = 0; i < sizeof PROGRAMS / sizeof PROGRAMS[0]; i++) {
        if (only) {
            int wanted = 0;
            for (int a = 1; a < argc; a++)
                if (strcmp(argv[a], PROGRAMS[i]) == 0) wanted = 1;
            if (!wanted) continue;
        }
        char path[64];
        snprintf(path, sizeof path, "/bench/%s", PROGRAMS[i]);
        char *args[] = {path, quick ? "--quick" : NULL, NULL};
        printf("bench-run: %s%s\n", path, quick ? " --quick" : "");
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            printf("bench-run: %s cannot fork (errno %d)\n", PROGRAMS[i], errno);
            continue;
        }
        if (pid == 0) {
            execve(path, args, envp);
            printf("bench-run: %s cannot run (errno %d)\n", PROGRAMS[i], errno);
            fflush(stdout);
            _exit(127);
        }
        int status = 0;
        /* As pid 1 we also reap orphans: wait for this child specifically. */
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (WIFSIGNALED(status))
            printf("bench-run: %s signal %d\n", PROGRAMS[i], WTERMSIG(status));
        else if (WEXITSTATUS(status) != 0)
            printf("bench-run: %s exit %d\n", PROGRAMS[i], WEXITSTATUS(status));
    }
    printf("bench: done\n");
    fflush(stdout);
    if (getpid() == 1) {
        sync();
        reboot(RB_POWER_OFF);
        printf("bench-run: reboot(RB_POWER_OFF) failed (errno %d)\n", errno);
    }
    return 0;
}
