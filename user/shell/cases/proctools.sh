# busybox tools that read /proc, /sys and the mount table (procfs, sysfs)
free | awk 'NR == 1 { print $1, $2, $3 } NR == 2 { print $1, ($2 > 0), ($4 > 0) }'
uptime | grep -c 'load average'
mount | grep '^proc on /proc '
grep '^proc /proc proc ' /proc/mounts
df /dev | awk 'NR == 2 { print $1, $6 }'
top -bn1 | awk 'NR == 1 { print $1 } / top -bn1$/ { print "top", $4 }'
awk -F'\t' '$1 == "Name:" || $1 == "State:" { print $1, $2 }' /proc/self/status
sleep 3 &
sleep 1 # let the job rename itself (see ps.sh)
ps -o pid,stat,comm | awk -v p=$! '$1 == p { print $2, $3 }'
kill $!
[ "$(readlink /proc/self/exe)" = /bin/busybox ] && echo "exe ok"
ls /proc/self/fd | head -3
stat -f -c %T /proc
cat /proc/sys/kernel/ostype
echo 3 > /proc/sys/vm/drop_caches && echo dropped
awk '{ print ($1 > 0) }' /proc/uptime
mkdir s
mount -t sysfs sysfs s && cat s/devices/system/cpu/online
stat -f -c %T s
umount s && echo "sysfs unmounted"
