# sort, uniq, wc
printf 'banana\napple\ncherry\napple\nBanana\n' > f
sort f
sort -r f
sort -u f
sort -f f
printf '10\n9\n100\n-1\n' | sort -n
printf '10\n9\n100\n' | sort
printf 'b 2\na 3\nc 1\n' | sort -k2 -n
printf 'x:3\ny:1\nz:2\n' | sort -t: -k2
sort f | uniq
sort f | uniq -c
sort f | uniq -d
sort f | uniq -u
wc -l < f
wc -w < f
wc -c < f
printf 'a b\nc\n' > g
wc f g
wc -l f g
