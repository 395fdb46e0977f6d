/* hello: the first program a new kernel runs. One write(2) to stdout, then
 * exit 0. No stdio, so the only system calls are musl's start-up
 * (arch_prctl, set_tid_address), write and exit_group. */
#include <unistd.h>

int main(void)
{
    static const char msg[] = "hello: hello from user space\n";
    if (write(1, msg, sizeof msg - 1) != (ssize_t)(sizeof msg - 1)) return 1;
    return 0;
}
