/* nop: the small static binary that proc's fork_exec runs. */
int main(void)
{
    return 0;
}
