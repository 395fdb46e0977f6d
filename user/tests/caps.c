/* caps: capget/capset with the _LINUX_CAPABILITY_VERSION_3 protocol
 * (version negotiation, V1's single word), root's full sets, the sets
 * after set*id, /proc/self/status, and capset's rules: dropping
 * CAP_CHOWN from the effective set makes root's chown fail, raising it
 * again from the permitted set works, a dropped permitted capability
 * cannot come back, only one's own sets change. */
#define T_NAME "caps"
#include "t.h"

/* linux/capability.h (musl-gcc has no kernel headers). */
#define _LINUX_CAPABILITY_VERSION_1 0x19980330
#define _LINUX_CAPABILITY_VERSION_3 0x20080522
#define CAP_CHOWN 0
#define CAP_KILL 5
#define CAP_SETPCAP 8
typedef struct __user_cap_header_struct {
    unsigned version;
    int pid;
} *cap_user_header_t;
typedef struct __user_cap_data_struct {
    unsigned effective, permitted, inheritable;
} *cap_user_data_t;
#include <sys/mount.h>
#include <sys/stat.h>

static long capget_(cap_user_header_t h, cap_user_data_t d)
{
    return syscall(SYS_capget, h, d);
}
static long capset_(cap_user_header_t h, const cap_user_data_t d)
{
    return syscall(SYS_capset, h, d);
}

static void get3(int pid, struct __user_cap_data_struct d[2])
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, pid};
    memset(d, 0xa5, 2 * sizeof *d);
    CHECK(capget_(&h, d) == 0);
}

static unsigned long long status_field(const char *name)
{
    static char buf[4096];
    t_slurp("/proc/self/status", buf, sizeof buf);
    char *p = strstr(buf, name);
    CHECK(p);
    return strtoull(p + strlen(name) + 2, NULL, 16);
}

static void drop_chown(void *arg)
{
    const char *path = arg;
    struct __user_cap_data_struct d[2];
    get3(0, d);
    d[0].effective &= ~(1u << CAP_CHOWN);
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    CHECK(capset_(&h, d) == 0);
    get3(0, d);
    CHECK((d[0].effective & (1u << CAP_CHOWN)) == 0);
    CHECK((d[0].permitted & (1u << CAP_CHOWN)) != 0);
    CHECK(status_field("CapEff:") == 0x1ffffffffffULL - 1);
    CHECK_ERR(chown(path, 1234, -1), EPERM);
    /* Back from the permitted set. */
    d[0].effective |= 1u << CAP_CHOWN;
    CHECK(capset_(&h, d) == 0);
    CHECK(chown(path, 1234, -1) == 0);
    /* Drop CAP_CHOWN from both: gone for good. */
    d[0].effective &= ~(1u << CAP_CHOWN);
    d[0].permitted &= ~(1u << CAP_CHOWN);
    CHECK(capset_(&h, d) == 0);
    CHECK_ERR(chown(path, 0, -1), EPERM);
    d[0].permitted |= 1u << CAP_CHOWN;
    CHECK_ERR(capset_(&h, d), EPERM);
    d[0].permitted &= ~(1u << CAP_CHOWN);
    d[0].effective |= 1u << CAP_CHOWN; /* effective beyond permitted */
    CHECK_ERR(capset_(&h, d), EPERM);
    d[0].effective &= ~(1u << CAP_CHOWN);
    /* The inheritable set may take only permitted ones... except with
     * CAP_SETPCAP, which root has: any. */
    d[0].inheritable = 1u << CAP_CHOWN;
    CHECK(capset_(&h, d) == 0);
    get3(0, d);
    CHECK(d[0].inheritable == 1u << CAP_CHOWN);
    CHECK(status_field("CapInh:") == 1u << CAP_CHOWN);
    /* Without CAP_SETPCAP: no longer. */
    d[0].effective &= ~(1u << CAP_SETPCAP);
    CHECK(capset_(&h, d) == 0);
    d[0].inheritable |= 1u << CAP_CHOWN | 1u << CAP_KILL; /* KILL: permitted */
    CHECK(capset_(&h, d) == 0);
    d[0].inheritable = 0;
    CHECK(capset_(&h, d) == 0);
    d[0].inheritable = 1u << CAP_CHOWN; /* neither inheritable nor permitted now */
    CHECK_ERR(capset_(&h, d), EPERM);
}

static void setuid_drops(void *arg)
{
    (void)arg;
    struct __user_cap_data_struct d[2];
    CHECK(setresuid(-1, 1000, -1) == 0);
    get3(0, d);
    CHECK(d[0].effective == 0 && d[1].effective == 0);
    CHECK(d[0].permitted == 0xffffffffu && d[1].permitted == 0x1ff);
    CHECK(status_field("CapEff:") == 0);
    CHECK(status_field("CapPrm:") == 0x1ffffffffffULL);
    CHECK(setresuid(-1, 0, -1) == 0);
    get3(0, d);
    CHECK(d[0].effective == 0xffffffffu && d[1].effective == 0x1ff);
    CHECK(setresuid(1000, 1000, 1000) == 0);
    get3(0, d);
    CHECK(d[0].effective == 0 && d[0].permitted == 0 && d[1].permitted == 0);
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    d[0].permitted = 1;
    CHECK_ERR(capset_(&h, d), EPERM);
}

int main(void)
{
    int mounted = t_mount_proc();
    struct __user_cap_data_struct d[2];
    get3(0, d);
    CHECK(d[0].effective == 0xffffffffu && d[1].effective == 0x1ff);
    CHECK(d[0].permitted == 0xffffffffu && d[1].permitted == 0x1ff);
    CHECK(d[0].inheritable == 0 && d[1].inheritable == 0);
    get3(getpid(), d);
    CHECK(d[1].permitted == 0x1ff);
    get3(1, d); /* init */
    CHECK(d[0].effective == 0xffffffffu);
    CHECK(status_field("CapEff:") == 0x1ffffffffffULL);

    /* Version negotiation. */
    struct __user_cap_header_struct h = {0x12345678, 0};
    CHECK_ERR(capget_(&h, d), EINVAL);
    CHECK(h.version == _LINUX_CAPABILITY_VERSION_3);
    h.version = 0x12345678;
    CHECK(capget_(&h, NULL) == 0);
    CHECK(h.version == _LINUX_CAPABILITY_VERSION_3);
    h.version = _LINUX_CAPABILITY_VERSION_3;
    CHECK(capget_(&h, NULL) == 0);
    h.version = 0x12345678;
    CHECK_ERR(capset_(&h, d), EINVAL);
    CHECK(h.version == _LINUX_CAPABILITY_VERSION_3);
    /* V1: one word per set. */
    struct __user_cap_data_struct one[2];
    memset(one, 0x5a, sizeof one);
    h.version = _LINUX_CAPABILITY_VERSION_1;
    CHECK(capget_(&h, one) == 0);
    CHECK(one[0].effective == 0xffffffffu);
    CHECK(one[1].effective == 0x5a5a5a5au); /* untouched */
    /* Errors. */
    h.version = _LINUX_CAPABILITY_VERSION_3;
    h.pid = -1;
    CHECK_ERR(capget_(&h, d), EINVAL);
    h.pid = 999999;
    CHECK_ERR(capget_(&h, d), ESRCH);
    h.pid = 0;
    CHECK_ERR(capget_((cap_user_header_t)8, d), EFAULT);
    CHECK_ERR(capget_(&h, (cap_user_data_t)8), EFAULT);
    get3(0, d);
    h.pid = 1;
    CHECK_ERR(capset_(&h, d), EPERM);
    h.pid = 0;
    CHECK_ERR(capset_(&h, (cap_user_data_t)8), EFAULT);
    CHECK(capset_(&h, d) == 0); /* no change */
    h.pid = getpid();
    CHECK(capset_(&h, d) == 0);
    SAY("capget ok");

    const char *path = P("/tmp/caps.txt");
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(fd >= 0);
    close(fd);
    int st = t_in_child(drop_chown, (void *)path);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("capset ok");
    st = t_in_child(setuid_drops, NULL);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    SAY("set*id ok");
    CHECK(unlink(path) == 0);
    if (mounted) CHECK(umount2("/proc", 0) == 0);
    return 0;
}
