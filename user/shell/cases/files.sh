# cp -r, mv, rm -r, mkdir -p, ln -s, readlink, find (sorted)
mkdir -p a/b/c
echo x > a/b/c/file
echo y > a/top
cp -r a copy
find copy | sort
cmp a/b/c/file copy/b/c/file && echo same
mv copy moved
[ -e copy ] || echo "copy gone"
mv moved/top moved/renamed
find moved -type f | sort
rm -r moved
[ -e moved ] || echo "moved gone"
mkdir -p a/b/c && echo "mkdir -p again ok"
mkdir a 2>/dev/null || echo "mkdir existing fails"
rmdir a 2>/dev/null || echo "rmdir nonempty fails"
ln -s a/top link
readlink link
cat link
ln -s /nonexistent dangling
readlink dangling
[ -L dangling ] && [ ! -e dangling ] && echo dangling-ok
ln -s b a/blink
readlink -f a/blink/c/file | sed "s|$PWD|PWD|"
ln a/top hard
echo z >> hard
cat a/top
find . -name 'file*' | sort
find . -type l | sort
find . -type d | sort
find a -maxdepth 1 | sort
mkdir -p d1/d2; touch d1/d2/x; cp -r d1 d2; cp -r d1 d2; find d2 | sort
rm -rf a d1 d2 link dangling hard
ls -A
