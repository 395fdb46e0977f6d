# head, tail, tr, cut, tee
seq 1 20 > n
head -3 n
head -n 2 n
tail -3 n
tail -n +18 n
head -c 5 n | od -c | head -1
tail -c 6 n
echo 'Hello World' | tr a-z A-Z
echo 'Hello World' | tr -d lo
echo 'aaabbbccc' | tr -s abc
echo 'a b c' | tr ' ' '\n'
echo 'abc' | tr abc xyz
echo 'one:two:three' | cut -d: -f2
echo 'one:two:three' | cut -d: -f1,3
echo 'abcdefgh' | cut -c2-4
printf 'a\tb\tc\n' | cut -f2
echo teed | tee t1 t2 > /dev/null
cat t1 t2
echo more | tee -a t1
cat t1
seq 1 3 | tee t3 | wc -l
cat t3
