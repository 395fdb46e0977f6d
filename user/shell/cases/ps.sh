# ps needs /proc
sleep 5 &
ps -o pid,comm | awk -v p=$! '$1 == p { print $2 }'
ps | grep -c '[s]leep 5'
kill $!
