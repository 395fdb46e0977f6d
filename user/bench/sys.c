/* sys: the cheapest system calls (LMbench lat_syscall). */
#include "bench.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static const char *FILE_PATH = "/tmp/bench_sys_file";

static void null_op(void *ctx, long n)
{
    (void)ctx;
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
}

static void read_op(void *ctx, long n)
{
    int fd = *(int *)ctx;
    char c;
    for (long i = 0; i < n; i++)
        if (read(fd, &c, 1) != 1) B_FAIL();
}

static void write_op(void *ctx, long n)
{
    int fd = *(int *)ctx;
    char c = 0;
    for (long i = 0; i < n; i++)
        if (write(fd, &c, 1) != 1) B_FAIL();
}

static void open_close_op(void *ctx, long n)
{
    (void)ctx;
    for (long i = 0; i < n; i++) {
        int fd = open(FILE_PATH, O_RDONLY);
        if (fd < 0) B_FAIL();
        close(fd);
    }
}

static void stat_op(void *ctx, long n)
{
    (void)ctx;
    struct stat st;
    for (long i = 0; i < n; i++)
        if (stat(FILE_PATH, &st) != 0) B_FAIL();
}

static void fstat_op(void *ctx, long n)
{
    int fd = *(int *)ctx;
    struct stat st;
    for (long i = 0; i < n; i++)
        if (fstat(fd, &st) != 0) B_FAIL();
}

int main(int argc, char **argv)
{
    b_init(argc, argv);
    bench_ns("null_syscall", null_op, NULL, 1L << 30);

    int fd = open("/dev/zero", O_RDONLY);
    if (fd < 0)
        b_error("read_dev_zero", errno);
    else
        bench_ns("read_dev_zero", read_op, &fd, 1L << 30);
    close(fd);

    fd = open("/dev/null", O_WRONLY);
    if (fd < 0)
        b_error("write_dev_null", errno);
    else
        bench_ns("write_dev_null", write_op, &fd, 1L << 30);
    close(fd);

    fd = open(FILE_PATH, O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "0123456789\n", 11) != 11) {
        int e = errno;
        b_error("open_close", e);
        b_error("stat", e);
        b_error("fstat", e);
        return 0;
    }
    bench_ns("open_close", open_close_op, NULL, 1L << 30);
    bench_ns("stat", stat_op, NULL, 1L << 30);
    bench_ns("fstat", fstat_op, &fd, 1L << 30);
    close(fd);
    unlink(FILE_PATH);
    return 0;
}
