/* meminfo: memory in use after boot, from sysinfo(2) (both kernels). */
#include "bench.h"
#include <sys/sysinfo.h>

int main(int argc, char **argv)
{
    b_init(argc, argv);
    struct sysinfo si;
    if (sysinfo(&si) != 0) {
        b_error("mem_used", errno);
        return 0;
    }
    unsigned long unit = si.mem_unit ? si.mem_unit : 1;
    unsigned long long total = (unsigned long long)si.totalram * unit / 1024;
    unsigned long long used = (unsigned long long)(si.totalram - si.freeram) * unit / 1024;
    printf("bench: mem_used %llu KiB\n", used);
    printf("bench: mem_total %llu KiB\n", total);
    return 0;
}
