/*
 * datasafe: a full tmpfs says ENOSPC and keeps every file it had intact;
 * a process killed while writing leaves a prefix of what it wrote, never
 * garbage.
 */
#define T_NAME "datasafe"
#include "t.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define DIR_ P("/tmp/datasafe")
#define CHUNK 65536

static char pattern(long i)
{
    return (char)('a' + (i * 7 + i / 4096) % 26);
}

static void fill(char *buf, long start, long n)
{
    for (long i = 0; i < n; i++) buf[i] = pattern(start + i);
}

/* The file at `path` holds pattern(0..size): returns its size. */
static long check_prefix(const char *path)
{
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    static char buf[CHUNK];
    long off = 0, n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (long i = 0; i < n; i++) CHECK(buf[i] == pattern(off + i));
        off += n;
    }
    CHECK(n == 0);
    close(fd);
    return off;
}

static char path_buf[256];

static const char *in_dir(const char *name)
{
    snprintf(path_buf, sizeof path_buf, "%s/%s", DIR_, name);
    return path_buf;
}

int main(void)
{
    mkdir(DIR_, 0755);
    CHECK(mount("tmpfs", DIR_, "tmpfs", 0, "size=1m") == 0);
    static char buf[CHUNK];

    /* Two files, then a third until the filesystem is full. */
    for (int k = 0; k < 2; k++) {
        int fd = open(in_dir(k ? "b" : "a"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        CHECK(fd >= 0);
        for (long off = 0; off < 4 * CHUNK; off += CHUNK) {
            fill(buf, off, CHUNK);
            CHECK(write(fd, buf, CHUNK) == CHUNK);
        }
        CHECK(close(fd) == 0);
    }
    int fd = open(in_dir("c"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    long written = 0;
    for (;;) {
        fill(buf, written, CHUNK);
        long n = write(fd, buf, CHUNK);
        if (n < 0) {
            CHECK(errno == ENOSPC);
            break;
        }
        written += n;
        CHECK(written < (2L << 20));
    }
    CHECK(close(fd) == 0);
    CHECK(written < (1L << 20));
    CHECK(check_prefix(in_dir("a")) == 4 * CHUNK);
    CHECK(check_prefix(in_dir("b")) == 4 * CHUNK);
    CHECK(check_prefix(in_dir("c")) == written);
    CHECK(unlink(in_dir("c")) == 0);
    fd = open(in_dir("d"), O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0 && write(fd, buf, 100) == 100 && close(fd) == 0);
    SAY("a full tmpfs gives ENOSPC, keeps its files, and has room again after unlink");

    /* Killed mid-write: the file holds a prefix of the stream. */
    for (int round = 0; round < 5; round++) {
        unlink(in_dir("k"));
        pid_t c = fork();
        CHECK(c >= 0);
        if (c == 0) {
            int w = open(in_dir("k"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (w < 0) _exit(1);
            for (long off = 0;; off += 4096) {
                char chunk[4096];
                fill(chunk, off, sizeof chunk);
                if (write(w, chunk, sizeof chunk) != sizeof chunk) {
                    /* Full: start over, keeping the prefix property. */
                    if (ftruncate(w, 0) != 0 || lseek(w, 0, SEEK_SET) != 0) _exit(2);
                    off = -4096;
                }
            }
        }
        usleep(2000 + round * 3000);
        CHECK(kill(c, SIGKILL) == 0);
        int st;
        CHECK(waitpid(c, &st, 0) == c && WIFSIGNALED(st));
        check_prefix(in_dir("k")); /* every byte is the stream's, in order */
    }
    SAY("a writer killed mid-stream leaves a prefix of its data");

    CHECK(umount(DIR_) == 0);
    rmdir(DIR_);
    SAY("ok");
    return 0;
}
