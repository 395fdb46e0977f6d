# ulimit: limits in the shell and their effects on children
ulimit -n 64 && ulimit -n
sh -c 'ulimit -n'
ulimit -Sn 32; ulimit -Sn; ulimit -Hn
# opening more files than -n allows fails with EMFILE
sh -c 'ulimit -n 5; exec 3</dev/null 4</dev/null; exec 5</dev/null 2>/dev/null || echo "fd 5 refused"'
sh -c 'ulimit -n 4; cat /dev/null && echo "cat still runs"'
# raising the hard limit as root works
ulimit -Hn 128 && ulimit -Hn
# a lower hard limit cannot be raised back by the soft limit
# (a failing ulimit ends a non-interactive ash)
sh -c 'ulimit -Sn 8; ulimit -Hn 16; ulimit -Sn; ulimit -Sn 20 2>/dev/null; echo unreachable'; echo "soft above hard $?"
sh -c 'ulimit -Sn 8; ulimit -Hn 4 2>/dev/null'; echo "hard below soft $?"
# file size limit: SIGXFSZ stops the writer
sh -c 'ulimit -f 4; dd if=/dev/zero of=big bs=1k count=10 2>/dev/null'; echo "dd over -f $?"
stat -c '%s' big
sh -c 'ulimit -f 4; trap "" XFSZ; dd if=/dev/zero of=big2 bs=1k count=10 2>/dev/null; echo "dd with XFSZ ignored $?"'
stat -c '%s' big2
# stack, core, data, processes: set and read back
sh -c 'ulimit -s 4096; ulimit -s'
sh -c 'ulimit -s unlimited; ulimit -s'
sh -c 'ulimit -c 0; ulimit -c'
sh -c 'ulimit -v 100000; ulimit -v'
sh -c 'ulimit -u 100; ulimit -u'
sh -c 'ulimit -t 10; ulimit -t'
# /proc/self/limits shows them
sh -c 'ulimit -n 77; grep "open files" /proc/self/limits' | awk '{ print $4, $5 }'
sh -c 'ulimit -s 1234; grep "stack size" /proc/self/limits' | awk '{ print $4 }'
# invalid values
ulimit -n abc 2>/dev/null; echo "bad value $?"
ulimit -a | wc -l
