/* uname: programs check these fields (glibc and busybox read the release,
 * configure scripts read sysname and machine). */
#define T_NAME "uname"
#include "t.h"
#include <ctype.h>
#include <sys/utsname.h>

int main(void)
{
    struct utsname u;
    memset(&u, 0xff, sizeof u);
    CHECK(uname(&u) == 0);
    SAY("sysname=%s nodename=%s release=%s version=%s machine=%s", u.sysname, u.nodename,
        u.release, u.version, u.machine);
    /* Every field is NUL-terminated within its array. */
    CHECK(memchr(u.sysname, 0, sizeof u.sysname));
    CHECK(memchr(u.nodename, 0, sizeof u.nodename));
    CHECK(memchr(u.release, 0, sizeof u.release));
    CHECK(memchr(u.version, 0, sizeof u.version));
    CHECK(memchr(u.machine, 0, sizeof u.machine));
    CHECK(memchr(u.domainname, 0, sizeof u.domainname));
    CHECK(strcmp(u.sysname, "Linux") == 0);
    CHECK(strcmp(u.machine, "x86_64") == 0);
    /* "X.Y..." with X >= 3: glibc refuses older kernels. */
    CHECK(isdigit((unsigned char)u.release[0]));
    CHECK(atoi(u.release) >= 3);
    CHECK(strchr(u.release, '.') != NULL);
    CHECK(u.version[0] != '\0');
    CHECK_ERR(uname((struct utsname *)1), EFAULT);
    SAY("ok");
    return 0;
}
