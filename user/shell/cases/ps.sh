# ps needs /proc
sleep 5 &
# ash starts the applet through /proc/self/exe, which names the process
# "exe" until busybox renames it (prctl): give the job a moment to start
sleep 1
ps -o pid,comm | awk -v p=$! '$1 == p { print $2 }'
ps | grep -c '[s]leep 5'
kill $!
