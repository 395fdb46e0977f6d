/*
 * rlimit: RLIMIT_NOFILE, RLIMIT_AS, RLIMIT_STACK, RLIMIT_NPROC and
 * RLIMIT_FSIZE are enforced. A fork loop as an
 * unprivileged user stops with EAGAIN at the limit (root is exempt); a
 * process cannot get a descriptor at or above its RLIMIT_NOFILE.
 */
#define T_NAME "rlimit"
#include "t.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define NPROC 12

/* Uses about `kib` KiB of stack, 64 KiB a frame, touching every page. */
static int deep(int kib)
{
    volatile char frame[64 * 1024];
    for (unsigned i = 0; i < sizeof frame; i += 4096) frame[i] = (char)kib;
    return kib <= 64 ? frame[0] : deep(kib - 64) + frame[4096];
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "deepstack") == 0) {
        deep(12 << 10); /* 12 MiB: more than the default 8 MiB */
        _exit(0);
    }
    /* RLIMIT_NOFILE: new descriptors stay below the soft limit. */
    struct rlimit old, rl = {16, 4096};
    CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    int last = -1, fd;
    while ((fd = open(P("/etc/ferrite-test.txt"), O_RDONLY)) >= 0) last = fd;
    CHECK(errno == EMFILE && last == 15);
    CHECK_ERR(dup2(0, 16), EBADF);
    CHECK_ERR(fcntl(0, F_DUPFD, 16), EINVAL);
    for (int i = 3; i <= last; i++) close(i);
    CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
    CHECK(dup2(0, 100) == 100);
    close(100);
    SAY("RLIMIT_NOFILE: EMFILE at the limit, EBADF/EINVAL above it");

    /* RLIMIT_AS: mappings past the limit fail with ENOMEM (in a child). */
    pid_t a = fork();
    CHECK(a >= 0);
    if (a == 0) {
        struct rlimit as = {256L << 20, 256L << 20};
        if (setrlimit(RLIMIT_AS, &as) != 0) _exit(1);
        void *big = mmap(0, 512L << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (big != MAP_FAILED || errno != ENOMEM) _exit(2);
        void *ok = mmap(0, 16L << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (ok == MAP_FAILED) _exit(3);
        void *more = mremap(ok, 16L << 20, 400L << 20, MREMAP_MAYMOVE);
        if (more != MAP_FAILED || errno != ENOMEM) _exit(4);
        _exit(0);
    }
    int ast;
    CHECK(waitpid(a, &ast, 0) == a && WIFEXITED(ast));
    if (WEXITSTATUS(ast) != 0) fprintf(stderr, "rlimit: RLIMIT_AS child step %d failed\n", WEXITSTATUS(ast));
    CHECK(WEXITSTATUS(ast) == 0);
    SAY("RLIMIT_AS: mmap and mremap past the limit give ENOMEM");

    /* RLIMIT_STACK: an exec after raising it gets the bigger stack. */
    pid_t d = fork();
    CHECK(d >= 0);
    if (d == 0) {
        struct rlimit sl = {32L << 20, RLIM_INFINITY};
        if (setrlimit(RLIMIT_STACK, &sl) != 0) _exit(1);
        execl(argv[0], argv[0], "deepstack", (char *)0);
        _exit(2);
    }
    int dst;
    CHECK(waitpid(d, &dst, 0) == d);
    CHECK(WIFEXITED(dst) && WEXITSTATUS(dst) == 0);
    SAY("RLIMIT_STACK: a 32 MiB limit gives an exec'd program 12 MiB of stack");

    /* RLIMIT_NPROC: an unprivileged fork loop is capped. */
    int out[2];
    CHECK(pipe(out) == 0);
    pid_t bomber = fork();
    CHECK(bomber >= 0);
    if (bomber == 0) {
        if (setgid(1000) != 0 || setuid(1000) != 0) _exit(100);
        struct rlimit np = {NPROC, NPROC};
        if (setrlimit(RLIMIT_NPROC, &np) != 0) _exit(101);
        pid_t kids[64];
        int n = 0, err = 0;
        while (n < 64) {
            pid_t k = fork();
            if (k == 0) {
                for (;;) pause();
            }
            if (k < 0) {
                err = errno;
                break;
            }
            kids[n++] = k;
        }
        for (int i = 0; i < n; i++) kill(kids[i], SIGKILL);
        for (int i = 0; i < n; i++) waitpid(kids[i], 0, 0);
        int res[2] = {n, err};
        if (write(out[1], res, sizeof res) != sizeof res) _exit(102);
        _exit(0);
    }
    int st;
    CHECK(waitpid(bomber, &st, 0) == bomber && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int res[2];
    CHECK(read(out[0], res, sizeof res) == sizeof res);
    printf("rlimit: %d forks before errno %d with RLIMIT_NPROC %d\n", res[0], res[1], NPROC);
    CHECK(res[1] == EAGAIN && res[0] == NPROC - 1);
    SAY("RLIMIT_NPROC caps an unprivileged fork loop with EAGAIN");

    /* Root is exempt. */
    struct rlimit np = {2, 2}, saved;
    CHECK(getrlimit(RLIMIT_NPROC, &saved) == 0);
    CHECK(setrlimit(RLIMIT_NPROC, &np) == 0);
    pid_t c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = fork();
        CHECK(c[i] >= 0);
        if (c[i] == 0) _exit(0);
    }
    for (int i = 0; i < 4; i++) CHECK(waitpid(c[i], 0, 0) == c[i]);
    SAY("root forks past RLIMIT_NPROC");

    /* RLIMIT_FSIZE: a write is cut at the limit; one at or past it, and a
     * truncate or fallocate that grows the file past it, fail with EFBIG
     * and raise SIGXFSZ (here blocked, so it stays pending). */
    const char *fz = P("/tmp/rlimit-fsize");
    pid_t z = fork();
    CHECK(z >= 0);
    if (z == 0) {
        static char buf[8192];
        sigset_t xfsz, pend;
        sigemptyset(&xfsz);
        sigaddset(&xfsz, SIGXFSZ);
        struct rlimit fl = {10000, RLIM_INFINITY};
        if (sigprocmask(SIG_BLOCK, &xfsz, NULL) || setrlimit(RLIMIT_FSIZE, &fl)) _exit(1);
        int f = open(fz, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (f < 0 || write(f, buf, sizeof buf) != 8192) _exit(2);
        if (sigpending(&pend) || sigismember(&pend, SIGXFSZ)) _exit(3);
        if (write(f, buf, sizeof buf) != 10000 - 8192) _exit(4);
        if (write(f, buf, 1) != -1 || errno != EFBIG) _exit(5);
        if (sigpending(&pend) || !sigismember(&pend, SIGXFSZ)) _exit(6);
        if (pwrite(f, "ab", 2, 9999) != 1 || pwrite(f, "a", 1, 20000) != -1 || errno != EFBIG) _exit(7);
        if (ftruncate(f, 10001) != -1 || errno != EFBIG) _exit(8);
        if (ftruncate(f, 100) != 0 || ftruncate(f, 10000) != 0) _exit(9);
        if (truncate(fz, 20000) != -1 || errno != EFBIG || truncate(fz, 50) != 0) _exit(10);
        if (fallocate(f, 0, 0, 10001) != -1 || errno != EFBIG) _exit(11);
        struct stat zs;
        if (fstat(f, &zs) || zs.st_size != 50) _exit(12);
        _exit(0);
    }
    CHECK(waitpid(z, &st, 0) == z && WIFEXITED(st));
    if (WEXITSTATUS(st) != 0) fprintf(stderr, "rlimit: RLIMIT_FSIZE child step %d failed\n", WEXITSTATUS(st));
    CHECK(WEXITSTATUS(st) == 0);
    /* With SIGXFSZ at its default action the writer dies of it. */
    z = fork();
    CHECK(z >= 0);
    if (z == 0) {
        struct rlimit fl = {100, RLIM_INFINITY};
        int f = open(fz, O_WRONLY | O_TRUNC);
        if (f < 0 || setrlimit(RLIMIT_FSIZE, &fl)) _exit(1);
        char b[200] = {0};
        if (write(f, b, sizeof b) != 100) _exit(2);
        write(f, b, 1);
        _exit(3);
    }
    CHECK(waitpid(z, &st, 0) == z && WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ);
    CHECK(unlink(fz) == 0);
    SAY("RLIMIT_FSIZE: writes cut at the limit, EFBIG and SIGXFSZ past it");
    SAY("ok");
    return 0;
}
