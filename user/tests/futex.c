/*
 * futex: the robust-list clean-up of a dying thread (set_robust_list):
 * at exit, at execve and when killed, each listed lock word that names
 * the dead thread gets FUTEX_OWNER_DIED (waiters bit kept) and a waiter
 * is woken; the list_op_pending entry too; words owned by others are
 * left alone; a cyclic list or one running into unmapped memory does not
 * hang the exit. Also FUTEX_WAKE_OP (each op and comparison), and errors:
 * misaligned words (EINVAL), unmapped ones (EFAULT), a changed value
 * (EAGAIN), a bad timeout (EINVAL), a bad op (ENOSYS), a robust-list
 * head of the wrong size (EINVAL).
 */
#define T_NAME "futex"
#include "t.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

/* <linux/futex.h> (musl-gcc has no kernel headers). */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_OP_SET 0
#define FUTEX_OP_ADD 1
#define FUTEX_OP_OR 2
#define FUTEX_OP_ANDN 3
#define FUTEX_OP_XOR 4
#define FUTEX_OP_OPARG_SHIFT 8
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_NE 1
#define FUTEX_OP_CMP_LT 2
#define FUTEX_OP_CMP_LE 3
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP_CMP_GE 5
#define FUTEX_OP(op, oparg, cmp, cmparg) \
    ((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))
struct robust_list {
    struct robust_list *next;
};
struct robust_list_head {
    struct robust_list list;
    long futex_offset;
    struct robust_list *list_op_pending;
};

static long futex(void *uaddr, int op, uint32_t val, void *ts, void *uaddr2, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* A robust list in shared memory: head, entries each followed by its
 * lock word (futex_offset = 8). */
struct entry {
    struct robust_list list;
    uint32_t word;
    uint32_t pad;
};

struct area {
    struct robust_list_head head;
    struct entry e[4];
    struct entry pending;
    volatile int ready;
    volatile pid_t tid;
};

static struct area *shm;

/* Builds the list for the calling thread: e[0] and e[1] owned by us
 * (e[1] with waiters), e[2] owned by someone else, e[3] ours and
 * PI-flagged; the pending entry ours, not on the list. */
static void build_list(struct area *a, pid_t tid)
{
    a->head.list.next = &a->e[0].list;
    a->e[0].list.next = &a->e[1].list;
    a->e[1].list.next = &a->e[2].list;
    a->e[2].list.next = (struct robust_list *)((uintptr_t)&a->e[3].list | 1);
    a->e[3].list.next = &a->head.list;
    a->head.futex_offset = 8;
    a->head.list_op_pending = &a->pending.list;
    a->e[0].word = (uint32_t)tid;
    a->e[1].word = (uint32_t)tid | FUTEX_WAITERS;
    a->e[2].word = 12345;
    a->e[3].word = (uint32_t)tid;
    a->pending.word = (uint32_t)tid;
    CHECK(syscall(SYS_set_robust_list, &a->head, sizeof a->head) == 0);
}

static void check_cleaned(struct area *a, pid_t tid)
{
    CHECK(a->e[0].word == FUTEX_OWNER_DIED);
    CHECK(a->e[1].word == (FUTEX_OWNER_DIED | FUTEX_WAITERS));
    CHECK(a->e[2].word == 12345);
    CHECK(a->e[3].word == FUTEX_OWNER_DIED); /* PI entries are marked too */
    CHECK(a->pending.word == FUTEX_OWNER_DIED);
    (void)tid;
}

/* Raw threads (clone, no libc thread state): they end with exit(2), so
 * only the kernel cleans up after them. The tid word is cleared by the
 * kernel at exit (CLONE_CHILD_CLEARTID). */
static char stacks[2][65536] __attribute__((aligned(16)));
static volatile pid_t raw_tid;

static void raw_thread(int (*fn)(void *), void *arg)
{
    static int n;
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    CHECK(clone(fn, stacks[n++ % 2] + sizeof stacks[0], flags, arg, &raw_tid, NULL, &raw_tid) > 0);
}

static void raw_join(void)
{
    pid_t t;
    while ((t = raw_tid) != 0) futex((void *)&raw_tid, FUTEX_WAIT, (uint32_t)t, NULL, NULL, 0);
}

/* Takes "locks" and dies. */
static int dier(void *arg)
{
    struct area *a = arg;
    a->tid = gettid_();
    build_list(a, a->tid);
    a->ready = 1;
    /* Give main time to wait on e[1], then die. */
    struct timespec d = {0, 20000000};
    syscall(SYS_nanosleep, &d, NULL);
    return 0;
}

static int cyclic(void *arg)
{
    struct area *a = arg;
    a->tid = gettid_();
    a->head.list.next = &a->e[0].list;
    a->e[0].list.next = &a->e[0].list; /* a cycle */
    a->head.futex_offset = 8;
    a->head.list_op_pending = NULL;
    a->e[0].word = (uint32_t)a->tid;
    CHECK(syscall(SYS_set_robust_list, &a->head, sizeof a->head) == 0);
    return 0;
}

static int wild(void *arg)
{
    struct area *a = arg;
    a->tid = gettid_();
    a->head.list.next = &a->e[0].list;
    a->e[0].list.next = (struct robust_list *)0x1000; /* unmapped */
    a->head.futex_offset = 8;
    a->head.list_op_pending = NULL;
    a->e[0].word = (uint32_t)a->tid;
    CHECK(syscall(SYS_set_robust_list, &a->head, sizeof a->head) == 0);
    return 0;
}

static uint32_t w1, w2;
static volatile int waiting;

static void *waiter2(void *arg)
{
    (void)arg;
    waiting = 1;
    long r = futex(&w2, FUTEX_WAIT_PRIVATE, (uint32_t)(uintptr_t)arg, NULL, NULL, 0);
    return (void *)r;
}

#define OP(op, oparg, cmp, cmparg) FUTEX_OP(op, oparg, cmp, cmparg)

int main(void)
{
    shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shm != MAP_FAILED);

    /* get/set_robust_list: our own head comes back. */
    struct robust_list_head *head;
    size_t len;
    struct robust_list_head mine = {{&mine.list}, 0, NULL};
    CHECK(syscall(SYS_set_robust_list, &mine, sizeof mine) == 0);
    CHECK(syscall(SYS_get_robust_list, 0, &head, &len) == 0 && head == &mine && len == sizeof mine);
    CHECK_ERR(syscall(SYS_set_robust_list, &mine, sizeof mine + 1), EINVAL);
    CHECK_ERR(syscall(SYS_get_robust_list, 0, (void *)8, &len), EFAULT);
    CHECK_ERR(syscall(SYS_get_robust_list, 999999, &head, &len), ESRCH);
    SAY("set_robust_list / get_robust_list");

    /* Thread exit: main waits on e[1]; the dying thread's clean-up wakes it. */
    struct area *a = &shm[0];
    memset(a, 0, sizeof *a);
    raw_thread(dier, a);
    while (!a->ready) sched_yield();
    uint32_t seen = a->e[1].word;
    struct timespec limit = {10, 0}; /* fail rather than hang without the wake */
    long r = futex(&a->e[1].word, FUTEX_WAIT, seen, &limit, NULL, 0);
    CHECK(r == 0 || (r == -1 && errno == EAGAIN)); /* woken, or it was already done */
    raw_join();
    check_cleaned(a, a->tid);
    SAY("exit: owned words get FUTEX_OWNER_DIED, a waiter is woken");

    /* A cycle and a wild pointer end the walk; the first entry is done. */
    memset(a, 0, sizeof *a);
    raw_thread(cyclic, a);
    raw_join();
    CHECK(a->e[0].word == FUTEX_OWNER_DIED);
    memset(a, 0, sizeof *a);
    raw_thread(wild, a);
    raw_join();
    CHECK(a->e[0].word == FUTEX_OWNER_DIED);
    SAY("a cyclic list and an unmapped next pointer end the walk");

    /* Killed: a child process whose list lives in shared memory. */
    memset(a, 0, sizeof *a);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        build_list(a, getpid());
        a->ready = 1;
        for (;;) pause();
    }
    while (!a->ready) sched_yield();
    CHECK(kill(c, SIGKILL) == 0);
    int st;
    CHECK(waitpid(c, &st, 0) == c && WIFSIGNALED(st));
    check_cleaned(a, c);
    SAY("SIGKILL: the killed process's robust futexes are released");

    /* execve: the old image's list is released. */
    memset(a, 0, sizeof *a);
    c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        build_list(a, getpid());
        execl("/bin/busybox", "true", (char *)0);
        _exit(126);
    }
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    check_cleaned(a, c);
    SAY("execve: the old image's robust futexes are released");

    /* FUTEX_WAKE_OP. */
    w2 = 5;
    CHECK(futex(&w1, FUTEX_WAKE_OP, 1, (void *)1, &w2, OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 5)) == 0);
    CHECK(w2 == 8);
    CHECK(futex(&w1, FUTEX_WAKE_OP, 1, (void *)1, &w2, OP(FUTEX_OP_OR, 0x30, FUTEX_OP_CMP_GT, 100)) == 0 && w2 == 0x38);
    CHECK(futex(&w1, FUTEX_WAKE_OP, 1, (void *)1, &w2, OP(FUTEX_OP_ANDN, 0x8, FUTEX_OP_CMP_NE, 0)) == 0 && w2 == 0x30);
    CHECK(futex(&w1, FUTEX_WAKE_OP, 1, (void *)1, &w2, OP(FUTEX_OP_XOR, 0x1, FUTEX_OP_CMP_LT, 0)) == 0 && w2 == 0x31);
    CHECK(futex(&w1, FUTEX_WAKE_OP, 1, (void *)1, &w2, OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 4, FUTEX_OP_CMP_GE, 0)) == 0);
    CHECK(w2 == 16);
    CHECK(futex(&w1, FUTEX_WAKE_OP, 1, (void *)1, &w2, OP(FUTEX_OP_SET, -1, FUTEX_OP_CMP_LE, 16)) == 0);
    CHECK(w2 == 0xffffffff); /* oparg is a signed 12-bit field */
    /* A waiter on w2 is woken only when the comparison holds. */
    w2 = 7;
    waiting = 0;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter2, (void *)(uintptr_t)7) == 0);
    while (!waiting) sched_yield();
    usleep(20000);
    /* (Private, like the wait: on Linux a shared key of private memory
     * differs from its private key.) */
    int wop = FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG;
    CHECK(futex(&w1, wop, 1, (void *)1, &w2, OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 99)) == 0);
    CHECK(futex(&w1, wop, 1, (void *)1, &w2, OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 7)) == 1);
    void *ret;
    CHECK(pthread_join(t, &ret) == 0 && ret == 0);
    w2 = 1;
    CHECK_ERR(futex(&w1, FUTEX_WAKE_OP, 1, (void *)1, &w2, (7u << 28)), ENOSYS); /* no such op */
    CHECK(w2 == 1);
    CHECK_ERR(futex(&w1, FUTEX_WAKE_OP, 1, (void *)1, &w2, OP(FUTEX_OP_SET, 2, 9, 0)), ENOSYS); /* no such cmp */
    CHECK_ERR(futex(&w1, FUTEX_WAKE_OP, 1, (void *)1, (char *)&w2 + 1, 0), EINVAL);
    CHECK_ERR(futex(&w1, FUTEX_WAKE_OP, 1, (void *)1, (void *)0x1000, 0), EFAULT);
    SAY("FUTEX_WAKE_OP: SET, ADD, OR, ANDN, XOR, OPARG_SHIFT; each comparison; errors");

    /* Errors of the waits. */
    uint32_t w = 3;
    CHECK_ERR(futex((char *)&w + 1, FUTEX_WAIT, 3, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex((char *)&w + 2, FUTEX_WAKE, 1, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex((void *)0x1000, FUTEX_WAIT, 3, NULL, NULL, 0), EFAULT);
    CHECK_ERR(futex(&w, FUTEX_WAIT, 4, NULL, NULL, 0), EAGAIN);
    struct timespec bad = {0, 1000000000};
    CHECK_ERR(futex(&w, FUTEX_WAIT, 3, &bad, NULL, 0), EINVAL);
    struct timespec shortts = {0, 1000000};
    CHECK_ERR(futex(&w, FUTEX_WAIT, 3, &shortts, NULL, 0), ETIMEDOUT);
    CHECK_ERR(futex(&w, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 3, &shortts, NULL, 0), ENOSYS); /* only for WAIT_BITSET */
    CHECK_ERR(futex(&w, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), ENOSYS);
    CHECK_ERR(futex(&w, FUTEX_WAIT_BITSET, 3, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex(&w, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex(&w, 99, 0, NULL, NULL, 0), ENOSYS);
    CHECK_ERR(futex(&w, FUTEX_CMP_REQUEUE, 1, (void *)1, &w1, 4), EAGAIN);
    CHECK_ERR(futex(&w, FUTEX_CMP_REQUEUE, (uint32_t)-1, (void *)1, &w1, 3), EINVAL);
    SAY("errors: EINVAL, EFAULT, EAGAIN, ETIMEDOUT, ENOSYS");
    return 0;
}
