# cp -a / -r / -p, mv across directories and file systems, ln, ln -s, readlink -f, realpath
umask 022
mkdir -p src/sub
echo data > src/file
chmod 640 src/file
touch -d '2021-05-06 07:08:09' src/file
ln -s file src/link
ln -s ../file src/sub/uplink
mkdir -p dst
cp -a src dst/a && echo "cp -a ok"
stat -c '%a %Y %F %n' dst/a/file | sed 's/ [0-9]* / T /'
[ "$(stat -c %Y src/file)" = "$(stat -c %Y dst/a/file)" ] && echo "cp -a kept mtime"
readlink dst/a/link
[ -L dst/a/sub/uplink ] && echo "cp -a kept symlink"
cp -r src dst/r
[ -L dst/r/link ] && echo "cp -r kept symlink" || echo "cp -r followed symlink"
stat -c '%a %n' dst/r/file
cp src/file dst/plain
stat -c '%a %n' dst/plain
[ "$(stat -c %Y src/file)" = "$(stat -c %Y dst/plain)" ] || echo "cp changed mtime"
cp -p src/file dst/kept
[ "$(stat -c %Y src/file)" = "$(stat -c %Y dst/kept)" ] && echo "cp -p kept mtime"
cp -L src/link dst/deref; [ -L dst/deref ] || echo "cp -L copied the target"
cat dst/deref
cp src/file dst/plain 2>&1; echo "overwrite $?"
cp -n src/file dst/plain; echo "cp -n $?"
cp src/nothing dst/ 2>/dev/null; echo "cp missing $?"
cp src dst/x 2>/dev/null; echo "cp dir without -r $?"
# mv within and across directories, onto an existing file, into a directory
mv dst/plain dst/moved && ls dst | sort
mkdir other; mv dst/moved other/ && ls other
mv other/moved src/sub/ && ls src/sub | sort
echo new > n1; echo old > n2; mv -f n1 n2; cat n2; [ -e n1 ] || echo "n1 gone"
mv src/sub/moved . ; mv moved n2 dst/ && ls dst | sort
mv dst/a dst/b && ls dst | sort
mv dst/b dst/b/inside 2>/dev/null; echo "mv into itself $?"
# across file systems (tmpfs): copy then unlink
mkdir mnt && mount -t tmpfs -o size=1m tmpfs mnt
mv dst/r mnt/r && find mnt | sort
[ -e dst/r ] || echo "source gone"
cat mnt/r/file
mv mnt/r/file ./fromtmp && cat fromtmp
ln mnt/r/sub/uplink cross 2>/dev/null; echo "cross-device link $?"
umount mnt
# hard links share the inode
ln fromtmp hl; echo more >> hl; cat fromtmp; stat -c '%h' fromtmp
[ "$(stat -c %i fromtmp)" = "$(stat -c %i hl)" ] && echo "same inode"
ln fromtmp hl 2>/dev/null; echo "ln existing $?"
ln -f fromtmp hl && echo "ln -f ok"
ln -s fromtmp sl; ln -sf n2 sl; readlink sl
ln -sn dst sdir; readlink sdir
mkdir -p r/s/t; ln -s r/s rs; ln -s rs rrs
readlink -f rrs/t | sed "s|$PWD|PWD|"
realpath rrs/t/../t | sed "s|$PWD|PWD|"
readlink -f ./r/./s/../s | sed "s|$PWD|PWD|"
readlink rrs
readlink fromtmp; echo "readlink non-link $?"
ln -s loop1 loop2; ln -s loop2 loop1
cat loop1 2>/dev/null; echo "loop $?"
unlink loop1 && [ ! -L loop1 ] && echo "unlinked"
