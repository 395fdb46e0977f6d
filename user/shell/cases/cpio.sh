# cpio: create (newc), list, extract, pass-through
umask 022
mkdir -p tree/d1/d2
echo one > tree/f1
echo two > tree/d1/f2
seq 500 > tree/d1/d2/f3
ln -s f1 tree/lnk
chmod 751 tree/d1
(cd tree && find . | sort | cpio -o -H newc 2>/dev/null) > a.cpio && echo "cpio -o ok"
cpio -t < a.cpio 2>/dev/null | sort
mkdir out && (cd out && cpio -i -d < ../a.cpio 2>/dev/null) && echo "cpio -i ok"
diff -r tree out && echo "trees same"
stat -c '%a %n' out/d1
readlink out/lnk
# extract only matching names
mkdir sel && (cd sel && cpio -i -d 'd1/*' < ../a.cpio 2>/dev/null)
find sel | sort
# -F names the archive, -m restores modification times, -u overwrites
touch -d '2020-02-02 02:02:02' tree/f1
(cd tree && find . -name 'f*' | sort | cpio -o -H newc -F ../b.cpio 2>/dev/null)
mkdir mt && (cd mt && cpio -i -d -m -F ../b.cpio 2>/dev/null)
find mt -type f | sort
stat -c '%Y' mt/f1
echo changed > mt/f1
(cd mt && cpio -i -F ../b.cpio 2>/dev/null); cat mt/f1
(cd mt && cpio -i -u -F ../b.cpio 2>/dev/null); cat mt/f1
cmp tree/d1/d2/f3 mt/d1/d2/f3 && echo "f3 same"
# an archive read from a pipe
(cd tree && find . | cpio -o -H newc 2>/dev/null) | cpio -t 2>/dev/null | wc -l
# the archive starts with the newc magic
head -c 6 a.cpio; echo
# the trailer
grep -c 'TRAILER!!!' a.cpio
