/* file: tmpfs write and read bandwidth in 64 KiB calls (LMbench
 * bw_file_rd, and its write counterpart). */
#include "bench.h"
#include <fcntl.h>

#define CHUNK (64 * 1024)
/* The file wraps around at this size (tmpfs lives in RAM). */
#define FILE_CHUNKS 64
static const char *PATH = "/tmp/bench_file";
static char buf[CHUNK];

/* Writes n chunks; every 4 MiB the file is truncated to 0 and rewritten,
 * so every write allocates its pages. */
static void write_op(void *ctx, long n)
{
    int fd = *(int *)ctx;
    for (long i = 0; i < n; i++) {
        if (i % FILE_CHUNKS == 0) {
            if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET) != 0) B_FAIL();
        }
        if (write(fd, buf, CHUNK) != CHUNK) B_FAIL();
    }
}

/* Reads n chunks of the 4 MiB file, from the start again at its end. */
static void read_op(void *ctx, long n)
{
    int fd = *(int *)ctx;
    for (long i = 0; i < n; i++) {
        if (i % FILE_CHUNKS == 0 && lseek(fd, 0, SEEK_SET) != 0) B_FAIL();
        if (read(fd, buf, CHUNK) != CHUNK) B_FAIL();
    }
}

int main(int argc, char **argv)
{
    b_init(argc, argv);
    memset(buf, 'f', sizeof buf);
    int fd = open(PATH, O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fd < 0) {
        b_error("tmpfs_write", errno);
        b_error("tmpfs_read", errno);
        return 0;
    }
    bench_mbs("tmpfs_write", write_op, &fd, 1L << 30, CHUNK);
    /* Fill the whole file for the read side. */
    if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET) != 0) {
        b_error("tmpfs_read", errno);
    } else {
        int ok = 1;
        for (int i = 0; i < FILE_CHUNKS && ok; i++) ok = write(fd, buf, CHUNK) == CHUNK;
        if (!ok)
            b_error("tmpfs_read", errno);
        else
            bench_mbs("tmpfs_read", read_op, &fd, 1L << 30, CHUNK);
    }
    close(fd);
    unlink(PATH);
    return 0;
}
