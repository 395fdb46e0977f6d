/* time: CLOCK_MONOTONIC advances by at least the time slept; the wall
 * clock is plausible (after 2020) and agrees between clock_gettime,
 * gettimeofday and time(). */
#define T_NAME "time"
#include "t.h"
#include <sys/time.h>
#include <time.h>

#define Y2020 1577836800L

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void)
{
    struct timespec a, b, c;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0);
    CHECK(a.tv_nsec >= 0 && a.tv_nsec < 1000000000L);
    struct timespec sl = {0, 10 * 1000 * 1000};
    CHECK(nanosleep(&sl, NULL) == 0);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0);
    long long d = ns(b) - ns(a);
    SAY("nanosleep(10 ms) took %lld us by CLOCK_MONOTONIC", d / 1000);
    CHECK(d >= 10 * 1000 * 1000LL);
    CHECK(d < 10 * 1000 * 1000 * 1000LL);

    /* Monotonic: never goes back over many reads. */
    c = b;
    for (int i = 0; i < 1000; i++) {
        struct timespec t;
        CHECK(clock_gettime(CLOCK_MONOTONIC, &t) == 0);
        CHECK(ns(t) >= ns(c));
        c = t;
    }

    struct timespec res;
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0);
    CHECK(res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 10 * 1000 * 1000);

    struct timespec rt;
    CHECK(clock_gettime(CLOCK_REALTIME, &rt) == 0);
    struct timeval tv;
    CHECK(gettimeofday(&tv, NULL) == 0);
    time_t now = time(NULL);
    SAY("CLOCK_REALTIME %lld, gettimeofday %lld, time %lld", (long long)rt.tv_sec,
        (long long)tv.tv_sec, (long long)now);
    CHECK(rt.tv_sec > Y2020);
    CHECK(tv.tv_sec > Y2020);
    CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    CHECK(tv.tv_sec - rt.tv_sec >= 0 && tv.tv_sec - rt.tv_sec < 5);
    CHECK(now - rt.tv_sec >= 0 && now - rt.tv_sec < 5);

    CHECK_ERR(clock_gettime((clockid_t)1000, &rt), EINVAL);
    struct timespec bad = {0, 1000000000L};
    CHECK_ERR(nanosleep(&bad, NULL), EINVAL);
    SAY("ok");
    return 0;
}
