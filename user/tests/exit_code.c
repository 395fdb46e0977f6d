/* exit_code: exits with status 42; the runner's table expects 42, so this
 * checks that exit_group's status reaches wait4 intact. */
#include <unistd.h>

int main(void)
{
    static const char msg[] = "exit_code: exiting with status 42\n";
    write(1, msg, sizeof msg - 1);
    return 42;
}
