# truncate, fallocate, split-like head/tail pieces reassembled, cmp, diff
seq 10000 > big
stat -c '%s' big
truncate -s 100 big; stat -c '%s' big; tail -c 9 big | od -An -c
truncate -s 1000 big; stat -c '%s' big
tail -c 900 big | tr -d '\000' | wc -c
truncate -c -s 10 none; [ -e none ] || echo "truncate -c made nothing"
truncate -s 2K new; stat -c '%s' new
truncate -s 0 new; stat -c '%s' new
fallocate -l 8192 fa 2>/dev/null && stat -c '%s' fa
# cut into pieces and cat back
seq 5000 > whole
head -c 10000 whole > p1
tail -c +10001 whole | head -c 10000 > p2
tail -c +20001 whole > p3
cat p1 p2 p3 | cmp - whole && echo "pieces join"
stat -c '%s' p1 p2 p3
# cmp: first difference, -l, -s, EOF
printf 'abcdef' > a; printf 'abXdeY' > b; printf 'abc' > c
cmp a a; echo "same $?"
cmp a b; echo "differ $?"
cmp -l a b
cmp -s a b; echo "-s $?"
cmp a c; echo "eof $?"
cmp a missing 2>/dev/null; echo "missing $?"
cmp -n 2 a b; echo "-n 2 $?"
# diff: unified output without the time stamps
printf '1\n2\n3\n4\n' > o; printf '1\nzwei\n3\n4\n5\n' > n
diff o o; echo "diff same $?"
diff -u o n | sed '1,2d'; echo "diff $?"
diff -q o n; echo "diff -q $?"
mkdir d1 d2; echo x > d1/f; echo y > d2/f; echo z > d1/only
diff -r d1 d2 | sed 's/^--- .*/---/;s/^+++ .*/+++/'
diff -rq d1 d2 | sort
diff -u /dev/null o | tail -4
