/*
 * sendfile: file to pipe and file to file, with and without an offset
 * (the file position moves only without one), and the errors: a pipe as
 * input is EINVAL, a write-only input or read-only output EBADF.
 */
#define T_NAME "sendfile"
#include "t.h"

#include <fcntl.h>
#include <sys/sendfile.h>

int main(void)
{
    const char *src = P("/tmp/sendfile-src"), *dst = P("/tmp/sendfile-dst");
    int in = open(src, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(in >= 0);
    static char data[100000];
    for (unsigned i = 0; i < sizeof data; i++) data[i] = (char)(i % 251);
    CHECK(write(in, data, sizeof data) == sizeof data);
    CHECK(lseek(in, 0, SEEK_SET) == 0);

    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(out >= 0);
    CHECK(sendfile(out, in, 0, sizeof data) == sizeof data);
    CHECK(lseek(in, 0, SEEK_CUR) == sizeof data);
    off_t off = 1000;
    CHECK(sendfile(out, in, &off, 500) == 500 && off == 1500);
    CHECK(lseek(in, 0, SEEK_CUR) == sizeof data);
    CHECK(sendfile(out, in, 0, 10) == 0); /* at EOF */
    close(out);
    int chk = open(dst, O_RDONLY);
    static char back[sizeof data + 500];
    CHECK(chk >= 0 && read(chk, back, sizeof back) == sizeof back);
    CHECK(memcmp(back, data, sizeof data) == 0 && memcmp(back + sizeof data, data + 1000, 500) == 0);
    close(chk);
    SAY("file to file with and without an offset");

    int p[2];
    CHECK(pipe(p) == 0);
    off = 0;
    CHECK(sendfile(p[1], in, &off, 4096) == 4096);
    char got[4096];
    CHECK(read(p[0], got, sizeof got) == sizeof got && memcmp(got, data, sizeof got) == 0);
    SAY("file to pipe");

    CHECK(write(p[1], "abc", 3) == 3);
    CHECK_ERR(sendfile(in, p[0], 0, 3), EINVAL);
    int wo = open(src, O_WRONLY);
    CHECK(wo >= 0);
    CHECK_ERR(sendfile(p[1], wo, 0, 10), EBADF);
    int ro = open(dst, O_RDONLY);
    CHECK(ro >= 0);
    CHECK_ERR(sendfile(ro, in, 0, 10), EBADF);
    CHECK_ERR(sendfile(p[1], 999, 0, 10), EBADF);
    SAY("errors: EINVAL for a pipe as input, EBADF for the wrong access modes");
    unlink(src);
    unlink(dst);
    SAY("ok");
    return 0;
}
