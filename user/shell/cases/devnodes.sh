# /dev nodes
echo gone > /dev/null; echo "null $?"
wc -c < /dev/null
head -c 16 /dev/zero | od -An -tx1
head -c 32 /dev/urandom | wc -c
head -c 32 /dev/random | wc -c
a=$(head -c 16 /dev/urandom | od -An -tx1); b=$(head -c 16 /dev/urandom | od -An -tx1)
[ "$a" != "$b" ] && echo "urandom differs"
for n in null zero random urandom console; do stat -c '%n %F %a' /dev/$n; done
echo hi > /dev/full 2>/dev/null; echo "full $?"
dd if=/dev/zero of=z bs=512 count=3 2>/dev/null; wc -c < z
