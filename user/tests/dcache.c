/* dcache: path walks stay right while names change under them, whatever a
 * dentry cache remembers. Every name is looked up before it changes (so it
 * is cached, positively or negatively) and after: create over a missing
 * name, unlink of an open file, rename across directories (and over an
 * empty directory), rmdir and mkdir of the same name, RENAME_EXCHANGE,
 * a mount over a directory whose names were looked up, `..` across it,
 * umount bringing them back, symlink loops, and many missing names. */
#define T_NAME "dcache"
#include "t.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static char base[PATH_MAX / 2];

/* base/rel, in one of four buffers (a call may take two paths). */
static const char *at(const char *rel)
{
    static char bufs[4][PATH_MAX];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, PATH_MAX, "%s/%s", base, rel);
    return b;
}

static ino_t ino_of(const char *rel)
{
    struct stat st;
    CHECK(stat(at(rel), &st) == 0);
    return st.st_ino;
}

static int missing(const char *rel)
{
    struct stat st;
    return stat(at(rel), &st) == -1 && errno == ENOENT;
}

int main(void)
{
    mkdir(P("/tmp"), 01777);
    snprintf(base, sizeof base, "%s.%d", P("/tmp/dcache"), (int)getpid());
    CHECK(mkdir(base, 0755) == 0);
    CHECK(mkdir(at("a"), 0755) == 0);
    CHECK(mkdir(at("b"), 0755) == 0);

    /* A negative entry turns positive. */
    CHECK(missing("a/f"));
    CHECK(missing("a/f"));
    int fd = open(at("a/f"), O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "data", 4) == 4);
    ino_t f = ino_of("a/f");
    SAY("create over a missing (looked-up) name");

    /* Rename across directories: the old name goes, the new one comes. */
    CHECK(missing("b/g"));
    CHECK(rename(at("a/f"), at("b/g")) == 0);
    CHECK(missing("a/f"));
    CHECK(ino_of("b/g") == f);
    SAY("rename across directories");

    /* Unlink of an open file: the name goes, the file stays readable. */
    CHECK(unlink(at("b/g")) == 0);
    CHECK(missing("b/g"));
    char got[8] = {0};
    CHECK(pread(fd, got, 4, 0) == 4 && memcmp(got, "data", 4) == 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_nlink == 0);
    CHECK(close(fd) == 0);
    int fd2 = open(at("b/g"), O_CREAT | O_RDWR, 0644);
    CHECK(fd2 >= 0);
    CHECK(fstat(fd2, &st) == 0 && st.st_size == 0);
    CHECK(close(fd2) == 0);
    SAY("unlink of an open file, then a new file of that name");

    /* rmdir, then mkdir of the same name: names inside the old one are gone. */
    CHECK(mkdir(at("a/d"), 0755) == 0);
    CHECK(missing("a/d/x"));
    CHECK(close(open(at("a/d/y"), O_CREAT | O_WRONLY, 0644)) == 0);
    CHECK(unlink(at("a/d/y")) == 0);
    CHECK(rmdir(at("a/d")) == 0);
    CHECK(missing("a/d"));
    CHECK(missing("a/d/y"));
    CHECK(mkdir(at("a/d"), 0755) == 0);
    CHECK(missing("a/d/y"));
    CHECK(close(open(at("a/d/x"), O_CREAT | O_WRONLY, 0644)) == 0);
    CHECK(stat(at("a/d/x"), &st) == 0);
    SAY("rmdir and mkdir of one name");

    /* Rename of a directory over an empty one, then into another parent. */
    CHECK(mkdir(at("b/e"), 0755) == 0);
    CHECK(missing("b/e/x"));
    CHECK(rename(at("a/d"), at("b/e")) == 0);
    CHECK(missing("a/d"));
    CHECK(stat(at("b/e/x"), &st) == 0);
    CHECK(stat(at("b/e/../../a"), &st) == 0 && st.st_ino == ino_of("a"));
    CHECK(rename(at("b/e"), at("a/e")) == 0);
    CHECK(stat(at("a/e/x"), &st) == 0);
    CHECK(stat(at("a/e/.."), &st) == 0 && st.st_ino == ino_of("a"));
    CHECK(missing("b/e/x"));
    SAY("rename of a directory over an empty one and to another parent");

    /* RENAME_EXCHANGE swaps two cached names. */
    CHECK(close(open(at("a/p"), O_CREAT | O_WRONLY, 0644)) == 0);
    CHECK(mkdir(at("b/q"), 0755) == 0);
    ino_t p = ino_of("a/p"), q = ino_of("b/q");
    CHECK(syscall(SYS_renameat2, AT_FDCWD, at("a/p"), AT_FDCWD, at("b/q"), 2 /* RENAME_EXCHANGE */) == 0);
    CHECK(ino_of("a/p") == q && ino_of("b/q") == p);
    CHECK(stat(at("a/p/."), &st) == 0);
    CHECK_ERR(stat(at("b/q/."), &st), ENOTDIR);
    SAY("RENAME_EXCHANGE");

    /* A mount over a directory whose names were looked up. */
    CHECK(mkdir(at("m"), 0755) == 0);
    CHECK(close(open(at("m/under"), O_CREAT | O_WRONLY, 0644)) == 0);
    ino_t under = ino_of("m/under");
    CHECK(missing("m/new"));
    if (mount("tmpfs", at("m"), "tmpfs", 0, 0) == 0) {
        CHECK(missing("m/under"));
        CHECK(mkdir(at("m/new"), 0755) == 0);
        CHECK(stat(at("m/new/../.."), &st) == 0 && st.st_ino == ino_of("."));
        CHECK(chdir(at("m/new")) == 0);
        CHECK(stat("../../a", &st) == 0 && st.st_ino == ino_of("a"));
        CHECK(chdir("/") == 0);
        CHECK(umount(at("m")) == 0);
        CHECK(ino_of("m/under") == under);
        CHECK(missing("m/new"));
        SAY("mount over looked-up names, `..` across it, umount");
    } else {
        SAY("mount: errno %d (skipped)", errno);
    }

    /* Symlink loops stay ELOOP, however often they are walked. */
    CHECK(symlink("l2", at("l1")) == 0);
    CHECK(symlink("l1", at("l2")) == 0);
    for (int i = 0; i < 3; i++) CHECK_ERR(stat(at("l1"), &st), ELOOP);
    CHECK(unlink(at("l2")) == 0);
    CHECK_ERR(stat(at("l1"), &st), ENOENT);
    CHECK(symlink("a", at("l2")) == 0);
    CHECK(stat(at("l1"), &st) == 0 && st.st_ino == ino_of("a"));
    SAY("symlink loops, broken and mended");

    /* Many missing names (a cache must stay bounded; the walk stays right). */
    for (int i = 0; i < 20000; i++) {
        char n[32];
        snprintf(n, sizeof n, "b/missing%d", i);
        if (!missing(n)) T_FAIL("missing name found");
    }
    CHECK(close(open(at("b/missing7"), O_CREAT | O_WRONLY, 0644)) == 0);
    CHECK(!missing("b/missing7"));
    CHECK(missing("b/missing8"));
    SAY("20000 missing names");

    const char *files[] = {"b/g", "a/e/x", "b/q", "m/under", "l1", "l2", "b/missing7", 0};
    for (int i = 0; files[i]; i++) CHECK(unlink(at(files[i])) == 0);
    const char *dirs[] = {"a/e", "a/p", "m", "a", "b", 0};
    for (int i = 0; dirs[i]; i++) CHECK(rmdir(at(dirs[i])) == 0);
    CHECK(rmdir(base) == 0);
    return 0;
}
