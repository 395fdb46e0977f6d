# sed, including -i
printf 'one\ntwo\nthree\n' > f
sed 's/o/0/' f
sed 's/o/0/g' f
sed -n '2p' f
sed '2d' f
sed -e '1i\
first' -e '$a\
last' f
sed -i 's/two/TWO/' f
cat f
sed -i -e '/one/d' f
cat f
echo 'a:b:c' | sed 's/\([^:]*\):\(.*\)/\2=\1/'
echo 'hello world' | sed -E 's/(\w+) (\w+)/\2 \1/'
seq 1 10 | sed -n '3,5p'
seq 1 5 | sed '1!G;h;$!d'
