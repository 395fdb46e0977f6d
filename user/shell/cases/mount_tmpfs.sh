# mount -t tmpfs with options, df of it, remount, bind mounts, umount
mkdir m
mount -t tmpfs -o size=2m,mode=750 scratch m && echo mounted
grep ' '"$PWD"'/m ' /proc/mounts | awk '{ print $1, $3 }'
stat -c '%a' m
df -k m | awk 'NR == 2 { print $2, $3, $4 }'
dd if=/dev/zero of=m/f bs=1k count=512 2>/dev/null
df -k m | awk 'NR == 2 { print $2, $3, $4 }'
# a full tmpfs gives ENOSPC
dd if=/dev/zero of=m/g bs=1k count=4096 2>/dev/null; echo "dd into full fs $?"
stat -c '%s' m/g
rm m/g; df -k m | awk 'NR == 2 { print $3 }'
# remount with a bigger size
mount -o remount,size=4m m && df -k m | awk 'NR == 2 { print $2 }'
# read-only remount
mount -o remount,ro m && echo remounted ro
touch m/new 2>/dev/null || echo "read-only: touch fails"
mount -o remount,rw m && touch m/new && echo "rw again"
# a busy mount cannot be unmounted
(cd m && umount "$OLDPWD/m" 2>/dev/null; echo "umount busy $?")
# nr_inodes limits file count
mkdir n
mount -t tmpfs -o nr_inodes=4 tmpfs n
for i in 1 2 3 4 5; do touch n/f$i 2>/dev/null || echo "no inode for f$i"; done
umount n
# bind mount shows the same files
mkdir b
mount --bind m b && ls b | sort
echo via-bind > b/x; cat m/x
umount b
ls b | wc -l
# mount over a non-empty directory hides its files
mkdir -p o; echo hidden > o/h
mount -t tmpfs tmpfs o; ls o | wc -l
umount o; cat o/h
umount m && echo unmounted
[ -e m/f ] || echo "files gone with the mount"
umount m 2>/dev/null; echo "umount again $?"
mount -t nosuchfs none m 2>/dev/null; echo "unknown fs $?"
mount -t tmpfs -o size=1m tmpfs missingdir 2>/dev/null; echo "missing dir $?"
