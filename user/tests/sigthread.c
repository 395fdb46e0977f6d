/*
 * sigthread: per-thread pending signals. A tgkill'd signal is pending for
 * that thread only (rt_sigpending of another thread does not show it); a
 * kill'd one is pending for the process, seen by every thread, and taken
 * by a thread that does not block it; siginfo carries SI_TKILL / SI_USER
 * with the sender's pid and uid; real-time signals queue with their
 * values, standard ones do not; a fault is handled by the faulting thread;
 * signalfd reads the reader's own and the process's signals; a fatal
 * signal sent to one thread ends every thread; error paths.
 */
#define T_NAME "sigthread"
#include "t.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int phase;
static pid_t worker_tid;

static void wait_phase(int want)
{
    pthread_mutex_lock(&lock);
    while (phase < want) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
}

static void set_phase(int p)
{
    pthread_mutex_lock(&lock);
    phase = p;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

static int is_pending(int sig)
{
    sigset_t s;
    CHECK(sigpending(&s) == 0);
    return sigismember(&s, sig);
}

static const struct timespec zero = {0, 0};

/* Worker for the pending-set checks; SIGUSR1 and SIGUSR2 are blocked in
 * every thread (inherited from main). */
static void *worker(void *arg)
{
    (void)arg;
    worker_tid = gettid_();
    set_phase(1);
    wait_phase(2);
    /* main tgkill'd SIGUSR1 to us: ours, with the sender's details. */
    CHECK(is_pending(SIGUSR1));
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    siginfo_t si;
    CHECK(sigtimedwait(&s, &si, &zero) == SIGUSR1);
    CHECK(si.si_code == SI_TKILL && si.si_pid == getpid() && si.si_uid == getuid());
    CHECK(!is_pending(SIGUSR1));
    set_phase(3);
    wait_phase(4);
    /* main kill'd SIGUSR2 to the process: we see it pending too. */
    CHECK(is_pending(SIGUSR2));
    set_phase(5);
    wait_phase(6);
    /* main took it: gone for us as well. */
    CHECK(!is_pending(SIGUSR2));
    /* A signal tgkill'd to main is not ours. */
    CHECK(!is_pending(SIGUSR1));
    set_phase(7);
    wait_phase(8);
    /* signalfd: a SIGUSR1 tgkill'd to us reads here, not in main. */
    int fd = signalfd(-1, &s, SFD_NONBLOCK);
    CHECK(fd >= 0);
    struct signalfd_siginfo fi;
    CHECK(read(fd, &fi, sizeof fi) == sizeof fi);
    CHECK(fi.ssi_signo == SIGUSR1 && fi.ssi_code == SI_TKILL && (pid_t)fi.ssi_pid == getpid());
    CHECK(fi.ssi_uid == getuid());
    close(fd);
    set_phase(9);
    return NULL;
}

static volatile pid_t handler_tid;
static volatile int handled;

static void on_usr2(int sig)
{
    (void)sig;
    handler_tid = gettid_();
    handled++;
}

/* Blocks nothing: takes the process-directed SIGUSR2 main cannot. */
static void *taker(void *arg)
{
    (void)arg;
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    worker_tid = gettid_();
    set_phase(1);
    while (!handled) pause();
    return NULL;
}

static char *fault_page;
static volatile pid_t fault_tid;
static volatile int fault_code;
static void *volatile fault_addr;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    fault_tid = gettid_();
    fault_code = si->si_code;
    fault_addr = si->si_addr;
    mprotect(fault_page, 4096, PROT_READ | PROT_WRITE);
}

static void *faulter(void *arg)
{
    (void)arg;
    fault_page[5] = 1; /* read-only: SIGSEGV here, in this thread */
    return (void *)(long)gettid_();
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;) pause();
    return NULL;
}

/* A child with three threads; SIGTERM to one of them ends all. */
static void fatal_to_one_thread(void *arg)
{
    (void)arg;
    pthread_t t[3];
    for (int i = 0; i < 3; i++) CHECK(pthread_create(&t[i], NULL, sleeper, NULL) == 0);
    /* Find a non-main thread's tid: the next tids after ours, in order. */
    pid_t me = gettid_();
    for (pid_t tid = me + 1; tid < me + 64; tid++) {
        if (syscall(SYS_tgkill, getpid(), tid, 0) == 0) {
            syscall(SYS_tgkill, getpid(), tid, SIGTERM);
            break;
        }
    }
    for (;;) pause();
}

int main(void)
{
    sigset_t both;
    sigemptyset(&both);
    sigaddset(&both, SIGUSR1);
    sigaddset(&both, SIGUSR2);
    CHECK(sigprocmask(SIG_BLOCK, &both, NULL) == 0);

    pthread_t w;
    CHECK(pthread_create(&w, NULL, worker, NULL) == 0);
    wait_phase(1);
    CHECK(syscall(SYS_tgkill, getpid(), worker_tid, SIGUSR1) == 0);
    CHECK(!is_pending(SIGUSR1)); /* the worker's, not ours */
    set_phase(2);
    wait_phase(3);
    SAY("tgkill: pending for the target thread only, siginfo SI_TKILL from us");

    CHECK(kill(getpid(), SIGUSR2) == 0);
    CHECK(is_pending(SIGUSR2));
    set_phase(4);
    wait_phase(5);
    sigset_t s2;
    sigemptyset(&s2);
    sigaddset(&s2, SIGUSR2);
    siginfo_t si;
    CHECK(sigtimedwait(&s2, &si, &zero) == SIGUSR2);
    CHECK(si.si_code == SI_USER && si.si_pid == getpid() && si.si_uid == getuid());
    /* Standard signals do not queue: two kills, one pending. */
    CHECK(kill(getpid(), SIGUSR2) == 0 && kill(getpid(), SIGUSR2) == 0);
    CHECK(sigtimedwait(&s2, &si, &zero) == SIGUSR2);
    CHECK_ERR(sigtimedwait(&s2, &si, &zero), EAGAIN);
    set_phase(6);
    wait_phase(7);
    SAY("kill: pending for the process, seen by every thread, taken once");

    /* A SIGUSR1 tgkill'd to main stays ours while the worker looks. */
    CHECK(syscall(SYS_tgkill, getpid(), getpid(), SIGUSR1) == 0);
    int fd = signalfd(-1, &both, SFD_NONBLOCK);
    CHECK(fd >= 0);
    struct signalfd_siginfo fi;
    CHECK(read(fd, &fi, sizeof fi) == sizeof fi && fi.ssi_signo == SIGUSR1); /* ours */
    CHECK_ERR(read(fd, &fi, sizeof fi), EAGAIN);
    CHECK(syscall(SYS_tgkill, getpid(), worker_tid, SIGUSR1) == 0);
    CHECK_ERR(read(fd, &fi, sizeof fi), EAGAIN); /* the worker's */
    close(fd);
    set_phase(8);
    wait_phase(9);
    CHECK(pthread_join(w, NULL) == 0);
    SAY("signalfd: the reader's own signals and the process's");

    /* Real-time signals queue, each with its value, in order. */
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN + 1);
    CHECK(sigprocmask(SIG_BLOCK, &rt, NULL) == 0);
    for (int i = 1; i <= 3; i++) CHECK(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = i * 10}) == 0);
    for (int i = 1; i <= 3; i++) {
        CHECK(sigtimedwait(&rt, &si, &zero) == SIGRTMIN + 1);
        CHECK(si.si_code == SI_QUEUE && si.si_value.sival_int == i * 10 && si.si_pid == getpid());
    }
    CHECK_ERR(sigtimedwait(&rt, &si, &zero), EAGAIN);
    /* rt_tgsigqueueinfo: to one thread, with our own siginfo. */
    siginfo_t q = {0};
    q.si_signo = SIGRTMIN + 1;
    q.si_code = SI_QUEUE;
    q.si_pid = getpid();
    q.si_uid = getuid();
    q.si_value.sival_int = 77;
    CHECK(syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid_(), SIGRTMIN + 1, &q) == 0);
    CHECK(sigtimedwait(&rt, &si, &zero) == SIGRTMIN + 1 && si.si_value.sival_int == 77);
    SAY("real-time signals queue with their values (sigqueue, rt_tgsigqueueinfo)");

    /* A process-directed signal goes to the thread that does not block it. */
    struct sigaction sa = {0};
    sa.sa_handler = on_usr2;
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
    phase = 0;
    pthread_t tk;
    CHECK(pthread_create(&tk, NULL, taker, NULL) == 0);
    wait_phase(1);
    CHECK(kill(getpid(), SIGUSR2) == 0);
    CHECK(pthread_join(tk, NULL) == 0);
    CHECK(handled == 1 && handler_tid == worker_tid);
    SAY("kill: handled by the one thread that does not block it");

    /* A fault is handled by the faulting thread. */
    fault_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(fault_page != MAP_FAILED);
    struct sigaction sv = {0};
    sv.sa_sigaction = on_segv;
    sv.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGSEGV, &sv, NULL) == 0);
    pthread_t ft;
    void *ftid;
    CHECK(pthread_create(&ft, NULL, faulter, NULL) == 0);
    CHECK(pthread_join(ft, &ftid) == 0);
    CHECK(fault_tid == (pid_t)(long)ftid && fault_tid != gettid_());
    CHECK(fault_code == SEGV_ACCERR && fault_addr == fault_page + 5 && fault_page[5] == 1);
    SAY("a fault goes to the faulting thread (SEGV_ACCERR, si_addr)");

    CHECK_KILLED_BY(fatal_to_one_thread, NULL, SIGTERM);
    SAY("a fatal signal tgkill'd to one thread ends the whole process");

    /* Error paths. */
    CHECK_ERR(syscall(SYS_tgkill, getpid(), gettid_(), 65), EINVAL);
    CHECK_ERR(syscall(SYS_tgkill, 0, gettid_(), SIGUSR1), EINVAL);
    CHECK_ERR(syscall(SYS_tgkill, getpid(), 0, SIGUSR1), EINVAL);
    CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, getpid(), 0, SIGUSR1, &q), EINVAL);
    CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid_(), SIGUSR1, (void *)8), EFAULT);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        for (;;) pause();
    }
    q.si_code = SI_USER; /* pretending to be kill(2) towards another process */
    CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, child, child, SIGUSR1, &q), EPERM);
    q.si_code = SI_QUEUE;
    CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, getpid(), child, SIGUSR1, &q), ESRCH);
    CHECK_ERR(syscall(SYS_tgkill, getpid(), child, SIGUSR1), ESRCH);
    kill(child, SIGKILL);
    int st;
    CHECK(waitpid(child, &st, 0) == child && WIFSIGNALED(st));
    SAY("errors: EINVAL, EFAULT, EPERM, ESRCH");
    return 0;
}
