# tar, gzip/gunzip, bzip2 round trips, checked by checksums
umask 022
mkdir -p src/sub/deep
printf 'hello\n' > src/a.txt
seq 1 2000 > src/sub/numbers
dd if=/dev/zero of=src/sub/zeros bs=1k count=64 2>/dev/null
printf '\000\001\002\377binary' > src/sub/deep/bin
ln -s ../a.txt src/sub/link
chmod 640 src/a.txt
chmod 700 src/sub/deep
(cd src && find . -type f | sort | xargs md5sum) > before.md5
cat before.md5
tar cf plain.tar src && echo "tar c ok"
tar tf plain.tar | sort
tar tvf plain.tar | awk '{ print $1, $NF }' | sort -k2
mkdir x1 && tar xf plain.tar -C x1 && echo "tar x ok"
(cd x1/src && md5sum -c ../../before.md5)
stat -c '%a %n' x1/src/a.txt x1/src/sub/deep
readlink x1/src/sub/link
cat x1/src/sub/link
# gzip keeps nothing but the .gz, gunzip restores it
cp src/sub/numbers n
gzip n && [ ! -e n ] && [ -f n.gz ] && echo "gzip replaced"
gzip -t n.gz && echo "gzip -t ok"
gunzip n.gz && md5sum n | cut -d' ' -f1
gzip -c n > n.gz; zcat n.gz | wc -l
gzip -dc n.gz | tail -1
gzip -9 -c src/sub/zeros | gunzip | md5sum | cut -d' ' -f1
# compressed tarballs
tar czf t.tgz src && echo "tar cz ok"
gunzip -c t.tgz | tar t | sort | head -3
mkdir x2 && tar xzf t.tgz -C x2 && (cd x2/src && md5sum -c ../../before.md5) | grep -c OK
bzip2 -c plain.tar > t.tar.bz2 && bunzip2 -c t.tar.bz2 | cmp - plain.tar && echo "bzip2 round trip"
tar cjf t2.tbz src && mkdir x3 && tar xjf t2.tbz -C x3 && diff -r src x3/src && echo "tar j same"
# extract one member, to stdout, and a corrupt archive
tar xf plain.tar -O src/sub/numbers | sed -n '1000p'
mkdir x4 && tar xf plain.tar -C x4 src/a.txt && find x4 | sort
printf 'not gzip data' > bad.gz
gunzip -t bad.gz 2>/dev/null; echo "gunzip bad: $?"
sha256sum src/a.txt | cut -d' ' -f1
sha1sum src/a.txt | cut -d' ' -f1
md5sum src/a.txt x1/src/a.txt | cut -d' ' -f1 | uniq -c | awk '{ print $1 }'
