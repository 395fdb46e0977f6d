# df: busybox df finds mount points in /proc/mounts (and skips "rootfs"),
# so it is checked on a tmpfs of known size mounted here
mkdir m
mount -t tmpfs -o size=1m tmpfs m && echo mounted
df m > /dev/null && echo "df ok"
df -k m | awk 'NR == 2 { print $2, $3 }'
umount m && echo unmounted
