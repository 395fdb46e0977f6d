/* timerfd: create flags and clocks, one-shot and periodic timers (counts
 * checked with lenient bounds: TCG is slow), TFD_TIMER_ABSTIME on
 * CLOCK_MONOTONIC and CLOCK_REALTIME, old values, gettime, disarming,
 * nonblocking reads, poll and epoll, and the error cases. */
#define T_NAME "timerfd"
#include "t.h"
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>

#define MS 1000000L

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static struct itimerspec its(long value_ns, long interval_ns)
{
    struct itimerspec t = {
        .it_interval = {interval_ns / 1000000000L, interval_ns % 1000000000L},
        .it_value = {value_ns / 1000000000L, value_ns % 1000000000L},
    };
    return t;
}

int main(void)
{
    CHECK_ERR(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
    CHECK_ERR(timerfd_create(-1, 0), EINVAL);
    CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    CHECK(fd >= 0);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0);
    int b = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    CHECK(b >= 0);
    CHECK((fcntl(b, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK((fcntl(b, F_GETFL) & O_NONBLOCK) != 0);
    uint64_t n;
    CHECK_ERR(read(b, &n, 8), EAGAIN); /* disarmed */
    char small[4];
    CHECK_ERR(read(b, small, 4), EINVAL);
    SAY("create ok");

    /* Errors of settime/gettime. */
    struct itimerspec t = its(10 * MS, 0), old;
    CHECK_ERR(timerfd_settime(fd, 4, &t, NULL), EINVAL);
    struct itimerspec bad = its(0, 0);
    bad.it_value.tv_nsec = 1000000000L;
    CHECK_ERR(timerfd_settime(fd, 0, &bad, NULL), EINVAL);
    bad = its(0, 0);
    bad.it_interval.tv_sec = -1;
    CHECK_ERR(timerfd_settime(fd, 0, &bad, NULL), EINVAL);
    CHECK_ERR(timerfd_settime(999, 0, &t, NULL), EBADF);
    CHECK_ERR(timerfd_settime(0, 0, &t, NULL), EINVAL); /* not a timerfd */
    CHECK_ERR(timerfd_settime(fd, 0, (struct itimerspec *)8, NULL), EFAULT);
    CHECK_ERR(timerfd_gettime(0, &old), EINVAL);
    CHECK_ERR(timerfd_gettime(999, &old), EBADF);
    CHECK(timerfd_gettime(fd, &old) == 0);
    CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_nsec == 0);
    SAY("errors ok");

    /* One-shot, blocking read. */
    long long t0 = now_ms();
    CHECK(timerfd_settime(fd, 0, &t, NULL) == 0);
    CHECK(read(fd, &n, 8) == 8);
    long long dt = now_ms() - t0;
    SAY("one-shot 10 ms: count %llu after %lld ms", (unsigned long long)n, dt);
    CHECK(n == 1);
    CHECK(dt >= 9 && dt < 10000);
    CHECK(timerfd_gettime(fd, &old) == 0);
    CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_nsec == 0); /* expired */

    /* Periodic: 20 ms period; after ~200 ms, several expirations. */
    t = its(20 * MS, 20 * MS);
    CHECK(timerfd_settime(fd, 0, &t, &old) == 0);
    CHECK(old.it_interval.tv_nsec == 0 && old.it_value.tv_nsec == 0);
    struct timespec sl = {0, 200 * MS};
    nanosleep(&sl, NULL);
    CHECK(read(fd, &n, 8) == 8);
    SAY("periodic 20 ms: count %llu after 200 ms", (unsigned long long)n);
    CHECK(n >= 2 && n < 100000);
    CHECK(read(fd, &n, 8) == 8); /* blocks for the next period */
    CHECK(n >= 1 && n < 100000);
    CHECK(timerfd_gettime(fd, &old) == 0);
    CHECK(old.it_interval.tv_sec == 0 && old.it_interval.tv_nsec == 20 * MS);
    CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_nsec > 0 && old.it_value.tv_nsec <= 20 * MS);

    /* Disarm: old value returned, then nothing expires. */
    t = its(0, 0);
    CHECK(timerfd_settime(fd, 0, &t, &old) == 0);
    CHECK(old.it_interval.tv_nsec == 20 * MS);
    CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
    CHECK_ERR(read(fd, &n, 8), EAGAIN);
    SAY("periodic and disarm ok");

    /* Absolute: a time in the past expires at once; MONOTONIC and REALTIME. */
    struct timespec now;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
    t = its(0, 0);
    t.it_value = now;
    CHECK(timerfd_settime(fd, TFD_TIMER_ABSTIME, &t, NULL) == 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 5000) == 1 && p.revents == POLLIN);
    CHECK(read(fd, &n, 8) == 8 && n == 1);
    int r = timerfd_create(CLOCK_REALTIME, 0);
    CHECK(r >= 0);
    CHECK(clock_gettime(CLOCK_REALTIME, &now) == 0);
    now.tv_nsec += 30 * MS;
    if (now.tv_nsec >= 1000000000L) now.tv_sec++, now.tv_nsec -= 1000000000L;
    t.it_value = now;
    t0 = now_ms();
    CHECK(timerfd_settime(r, TFD_TIMER_ABSTIME, &t, NULL) == 0);
    CHECK(timerfd_gettime(r, &old) == 0);
    CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_nsec > 0 && old.it_value.tv_nsec <= 30 * MS);
    CHECK(read(r, &n, 8) == 8 && n == 1);
    dt = now_ms() - t0;
    CHECK(dt >= 20 && dt < 10000);
    SAY("absolute timers ok (realtime after %lld ms)", dt);

    /* epoll: a periodic timer wakes epoll_wait repeatedly. */
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 77};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev) == 0);
    struct epoll_event out;
    CHECK(epoll_wait(ep, &out, 1, 0) == 0);
    t = its(10 * MS, 10 * MS);
    CHECK(timerfd_settime(b, 0, &t, NULL) == 0);
    uint64_t total = 0;
    for (int i = 0; i < 3; i++) {
        CHECK(epoll_wait(ep, &out, 1, 5000) == 1);
        CHECK(out.data.u32 == 77 && out.events == EPOLLIN);
        CHECK(read(b, &n, 8) == 8 && n >= 1);
        total += n;
    }
    CHECK(total >= 3 && total < 100000);
    /* Re-arming resets the count. */
    t = its(10 * 1000 * MS, 0);
    CHECK(timerfd_settime(b, 0, &t, NULL) == 0);
    CHECK_ERR(read(b, &n, 8), EAGAIN);
    CHECK(epoll_wait(ep, &out, 1, 0) == 0);
    SAY("epoll ok: %llu expirations in 3 wake-ups", (unsigned long long)total);

    close(ep);
    close(r);
    close(b);
    close(fd);
    SAY("all ok");
    return 0;
}
