/* syslog: klogctl(3), what dmesg uses: the size of the kernel log, the
 * log itself as "<level>[seconds] text" lines, clearing, the errors of
 * bad actions and buffers, and that an unprivileged user is refused
 * (dmesg_restrict, Debian's default). */
#define T_NAME "syslog"
#include "t.h"
#include <sys/klog.h>

static char buf[1 << 20];

int main(void)
{
    int size = klogctl(10, NULL, 0);
    CHECK(size > 0);
    int n = klogctl(3, buf, sizeof buf);
    CHECK(n > 0 && n <= size);
    CHECK(buf[0] == '<' && buf[2] == '>' && buf[3] == '[');
    CHECK(buf[n - 1] == '\n');
    int lines = 0;
    for (int i = 0; i < n; i++) lines += buf[i] == '\n';
    SAY("log size %d, %d bytes in %d lines", size, n, lines);
    /* A small buffer gets the newest whole lines. */
    int m = klogctl(3, buf, 200);
    CHECK(m >= 0 && m <= 200);
    if (m > 0) CHECK(buf[0] == '<' && buf[m - 1] == '\n');
    CHECK(klogctl(9, NULL, 0) >= 0);
    /* Errors. */
    CHECK_ERR(klogctl(11, buf, 10), EINVAL);
    CHECK_ERR(klogctl(-1, buf, 10), EINVAL);
    CHECK_ERR(klogctl(3, NULL, 10), EINVAL);
    CHECK_ERR(klogctl(3, buf, -1), EINVAL);
    CHECK(klogctl(3, buf, 0) == 0);
    CHECK_ERR(klogctl(8, NULL, 0), EINVAL);
    CHECK(klogctl(0, NULL, 0) == 0);
    CHECK(klogctl(1, NULL, 0) == 0);
    /* Clear: READ_ALL starts after what was there. */
    CHECK(klogctl(5, NULL, 0) == 0);
    int after = klogctl(3, buf, sizeof buf);
    CHECK(after >= 0 && after < n);
    SAY("after clear: %d bytes", after);
    /* Unprivileged: refused. */
    fflush(stdout);
    pid_t kid = fork();
    CHECK(kid >= 0);
    if (kid == 0) {
        if (setuid(1000) != 0) _exit(2);
        if (klogctl(3, buf, sizeof buf) != -1 || errno != EPERM) _exit(3);
        if (klogctl(10, NULL, 0) != -1 || errno != EPERM) _exit(4);
        if (klogctl(1, NULL, 0) != -1 || errno != EPERM) _exit(5);
        if (klogctl(11, NULL, 0) != -1 || errno != EPERM) _exit(6);
        _exit(0);
    }
    int st;
    CHECK(waitpid(kid, &st, 0) == kid && WIFEXITED(st));
    SAY("unprivileged: exit %d", WEXITSTATUS(st));
    CHECK(WEXITSTATUS(st) == 0);
    SAY("ok");
    return 0;
}
