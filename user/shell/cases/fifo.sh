# mkfifo with readers and writers
mkfifo p
stat -c '%F %a' p | sed 's/fifo/FIFO/'
[ -p p ] && echo "is a pipe"
(echo hello through fifo > p) &
cat p
wait
# the reader blocks until the writer comes, then reads to EOF
cat p > got &
sleep 0.2
seq 1000 > p
wait
wc -l < got
tail -1 got
# several writes, one reader
(for i in 1 2 3; do echo line $i; done > p) &
while read -r l; do echo "read: $l"; done < p
wait
# two writers in turn keep one reader open through exec
exec 3<> p
echo a >&3
echo b >&3
read -r x <&3; read -r y <&3; echo "$x$y"
exec 3>&-
# a writer with no reader gets SIGPIPE after the reader leaves
(exec 4<p; head -c 1 <&4 >/dev/null) &
sh -c 'exec > p; i=0; while [ $i -lt 10000 ]; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done'
echo "writer status $?"
wait
mkfifo -m 600 q; stat -c '%a' q
mkfifo p 2>/dev/null; echo "mkfifo existing $?"
rm p q; ls
