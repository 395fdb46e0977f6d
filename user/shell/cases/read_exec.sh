# read from pipes and here-docs (ash has no <<< here-strings); exec redirections with fds 3-9
echo "a b c" | { read x y z; echo "$z $y $x"; }
echo "one two three four" | { read a b; echo "[$a] [$b]"; }
printf 'l1\nl2\nl3' | while read -r l; do echo "got $l"; done
printf 'l1\nl2\nl3' | { while read -r l || [ -n "$l" ]; do echo "got $l"; done; }
read -r w <<EOF2
from heredoc
EOF2
echo "$w"
read -r h <<EOF2
here doc two
EOF2
echo "$h"
IFS=: read -r u p rest <<EOF2
root:x:0:0:root
EOF2
echo "$u|$p|$rest"
printf 'a\\b\n' | { read x; echo "$x"; }
printf 'a\\b\n' | { read -r x; echo "$x"; }
echo "abcdef" | { read -n 3 x; echo "$x"; }
printf 'x;y;z' | { read -d ';' x; echo "$x"; }
read x < /dev/null; echo "read EOF $?"
echo | { read x; echo "empty line $? [$x]"; }
# exec redirections
exec 3> out3
echo to three >&3
echo more >&3
exec 3>&-
cat out3
echo again >&3 2>/dev/null || echo "fd 3 closed"
exec 4< out3
read -r first <&4; read -r second <&4
echo "$second / $first"
exec 4<&-
exec 5>> out3; echo appended >&5; exec 5>&-
tail -1 out3
exec 6<> rw; echo hello >&6; exec 6>&-; cat rw
exec 7>&1; exec 1> redirected; echo "into file"; exec 1>&7 7>&-
cat redirected
exec 8< out3 9< rw
read -r a <&8; read -r b <&9
echo "$a $b"
ls -l /proc/self/fd/ 2>/dev/null | grep -c ' [89] ->'
exec 8<&- 9<&-
# a child inherits open fds
exec 3> child3
sh -c 'echo from child >&3'
exec 3>&-
cat child3
# dup into a high fd and read a pipe through it
seq 3 | { exec 5<&0; read -r a <&5; read -r b <&5; echo "$a,$b"; }
# swap stdout and stderr
{ echo out; echo err >&2; } 3>&1 1>&2 2>&3 2>/dev/null
