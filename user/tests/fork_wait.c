/* fork_wait: fork copies memory (not shares it); the child's exit status
 * reaches wait4 in the parent; wait4(-1) reaps every child; ECHILD when
 * there is none. */
#define T_NAME "fork_wait"
#include "t.h"
#include <sys/resource.h>

static int global = 1;

int main(void)
{
    int local = 10;
    char *heap = malloc(64);
    CHECK(heap != NULL);
    strcpy(heap, "parent");
    pid_t parent = getpid();

    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CHECK(getpid() != parent);
        CHECK(getppid() == parent);
        CHECK(global == 1 && local == 10 && strcmp(heap, "parent") == 0);
        global = 2;
        local = 20;
        strcpy(heap, "child");
        CHECK(global == 2 && local == 20 && strcmp(heap, "child") == 0);
        _exit(7);
    }
    SAY("forked child %d", (int)pid);
    int status = -1;
    struct rusage ru;
    pid_t got = wait4(pid, &status, 0, &ru);
    CHECK(got == pid);
    SAY("wait4 -> %d, status %#x", (int)got, status);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 7);
    CHECK(global == 1 && local == 10 && strcmp(heap, "parent") == 0);
    SAY("child's writes did not reach the parent");

    /* Three children, reaped in any order with wait4(-1). */
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        fflush(stdout);
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) _exit(10 + i);
    }
    int seen = 0;
    for (int n = 0; n < 3; n++) {
        got = wait4(-1, &status, 0, NULL);
        CHECK(got > 0);
        CHECK(WIFEXITED(status));
        int i = WEXITSTATUS(status) - 10;
        CHECK(i >= 0 && i < 3 && kids[i] == got);
        CHECK(!(seen & (1 << i)));
        seen |= 1 << i;
    }
    CHECK(seen == 7);
    SAY("wait4(-1) reaped 3 children");

    CHECK_ERR(wait4(-1, &status, 0, NULL), ECHILD);
    CHECK_ERR(wait4(pid, &status, 0, NULL), ECHILD);
    /* WNOHANG with no children is still ECHILD. */
    CHECK_ERR(wait4(-1, &status, WNOHANG, NULL), ECHILD);
    SAY("ok");
    return 0;
}
