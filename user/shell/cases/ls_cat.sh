# ls (names, modes, link counts) and cat
mkdir -p d/sub1 d/sub2
touch d/b d/a d/.hidden
printf 'x\ny\n' > d/a
ln -s a d/link
ls d
ls -a d
ls -1 d | wc -l
ls -F d
ls -la d | awk 'NR > 1 { print $1, $NF }'
ls -ld d | awk '{ print $1, $2 }'
ls -l d/a | awk '{ print $1, $2, $5 }'
ls -d d/*
ls /nonexistent 2>/dev/null; echo "status $?"
cat d/a
cat -n d/a d/a
cat d/a - d/a < d/a
cat /etc/ferrite-test.txt
cat /nonexistent 2>&1 | sed 's/^cat: //'
