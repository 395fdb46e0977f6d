/* execve: a child replaces itself with a program; arguments and the
 * environment arrive intact, its output comes back through a pipe, its exit
 * status through wait4. A missing program fails with ENOENT and the caller
 * keeps running.
 *
 * The test execs itself with argv[1] == "child" for the argument check,
 * then /tests/hello and /tests/exit_code. */
#define T_NAME "execve"
#include "t.h"

/* Runs path with argv/envp in a child whose stdout is a pipe; returns the
 * wait status and puts the output in out. */
static int run(const char *path, char *const argv[], char *const envp[], char *out, size_t cap)
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
        execve(path, argv, envp);
        _exit(121);
    }
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fds[0], out + len, cap - 1 - len);
        CHECK(n >= 0);
        if (n == 0) break;
        len += (size_t)n;
        CHECK(len < cap - 1);
    }
    out[len] = '\0';
    close(fds[0]);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    return status;
}

int main(int argc, char **argv, char **envp)
{
    (void)envp;
    if (argc >= 2 && strcmp(argv[1], "child") == 0) {
        /* The exec'd copy: print what arrived. */
        printf("argc=%d", argc);
        for (int i = 1; i < argc; i++) printf(" [%s]", argv[i]);
        printf(" X=%s", getenv("X") ? getenv("X") : "(unset)");
        printf(" FERRITE_TEST=%s\n", getenv("FERRITE_TEST") ? getenv("FERRITE_TEST") : "(unset)");
        return 3;
    }

    static char out[4096];
    char *root_env = getenv("FERRITE_ROOT");
    char root_var[600];
    snprintf(root_var, sizeof root_var, "FERRITE_ROOT=%s", root_env ? root_env : "");

    char *cargv[] = {argv[0], "child", "two words", "", "last", NULL};
    char *cenv[] = {"X=42", root_var, NULL};
    int st = run(argv[0], cargv, cenv, out, sizeof out);
    SAY("self-exec printed: %s", strtok(strdup(out), "\n"));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    CHECK(strcmp(out, "argc=5 [child] [two words] [] [last] X=42 FERRITE_TEST=(unset)\n") == 0);

    char *hargv[] = {"hello", NULL};
    st = run(P("/tests/hello"), hargv, cenv, out, sizeof out);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(strcmp(out, "hello: hello from user space\n") == 0);
    SAY("/tests/hello ran, output via pipe ok");

    char *eargv[] = {"exit_code", NULL};
    st = run(P("/tests/exit_code"), eargv, cenv, out, sizeof out);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
    SAY("/tests/exit_code exited 42");

    /* Failing execve returns to the caller. */
    CHECK_ERR(execve(P("/tests/no-such-program"), hargv, cenv), ENOENT);
    CHECK_ERR(execve(P("/etc/ferrite-test.txt/x"), hargv, cenv), ENOTDIR);
    /* Not executable (no x bit, not an ELF). */
    CHECK_ERR(execve(P("/etc/ferrite-test.txt"), hargv, cenv), EACCES);
    SAY("failing execve returns ENOENT/ENOTDIR/EACCES");
    SAY("ok");
    return 0;
}
