# dd: bs/count/skip/seek/conv=notrunc, /dev/zero and /dev/urandom, sizes and checksums
dd if=/dev/zero of=z bs=4096 count=16 2>/dev/null; stat -c '%s' z
md5sum z | cut -d' ' -f1
dd if=/dev/zero of=z2 bs=1M count=2 2>&1 | head -2
stat -c '%s' z2
dd if=/dev/urandom of=r bs=1k count=100 2>/dev/null; stat -c '%s' r
# random data: copies and checksums agree, two reads differ
dd if=r of=r2 bs=333 2>/dev/null; cmp r r2 && echo "copy same"
[ "$(md5sum < r)" = "$(md5sum < r2)" ] && echo "sums same"
head -c 4096 /dev/urandom > u1; head -c 4096 /dev/urandom > u2
cmp -s u1 u2 || echo "urandom reads differ"
# skip and seek
seq 1000 > s
dd if=s of=part bs=10 skip=5 count=3 2>/dev/null; cat part; echo
dd if=s bs=1 skip=3870 2>/dev/null
printf 'AAAAAAAAAA' > f
printf 'xy' | dd of=f bs=1 seek=3 conv=notrunc 2>/dev/null; cat f; echo
printf 'xy' | dd of=f bs=1 seek=3 2>/dev/null; cat f; echo
stat -c '%s' f
# seek past the end leaves a hole that reads as zeros
printf 'end' | dd of=h bs=1k seek=8 2>/dev/null; stat -c '%s' h
od -An -c -j 8190 h
cmp -n 8192 h /dev/zero && echo "hole is zeros"
dd if=/dev/zero of=h2 bs=1 count=0 seek=1M 2>/dev/null; stat -c '%s' h2
md5sum h2 | cut -d' ' -f1
# ibs/obs, count of partial blocks, the statistics lines
dd if=s of=o ibs=7 obs=100 count=10 2>&1 | head -2
stat -c '%s' o
printf 'abc' | dd bs=2 2>&1 >/dev/null | head -2
# conv=swab
printf 'abcdef' | dd conv=swab 2>/dev/null; echo
# iflag/oflag and a read from a pipe with short reads
(printf 12345; sleep 0.1; printf 67890) | dd bs=10 count=1 iflag=fullblock 2>/dev/null; echo
dd if=/dev/zero bs=512 count=3 2>/dev/null | wc -c
dd if=nothing of=x 2>/dev/null; echo "missing input $?"
dd if=s of=/dev/full bs=100 count=1 2>/dev/null; echo "to /dev/full $?"
