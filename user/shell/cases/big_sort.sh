# seq and sort on thousands of lines
seq 5000 | wc -l
seq 5000 | tail -1
seq 2 3 20 | tr '\n' ' '; echo
seq 10 -3 1 | tr '\n' ' '; echo
seq -w 8 11 | tr '\n' ' '; echo
seq -s , 5; 
seq 5000 | sort | head -3
seq 5000 | sort -n | tail -2
seq 5000 | sort -rn | head -2
seq 5000 | md5sum | cut -d' ' -f1
# duplicates
(seq 3000; seq 2000; seq 1000) > dup
sort -n dup > ds
uniq ds | wc -l
sort -nu dup | wc -l
uniq -c ds | awk '{ c[$1]++ } END { for (k in c) print k, c[k] }' | sort -n
uniq -d ds | wc -l
uniq -u ds | wc -l
# a big file through sort -k, -t, -s, -o in place
awk 'BEGIN { for (i = 0; i < 4000; i++) printf "%d:%s:%d\n", i % 7, substr("abcdefghij", i % 10 + 1, 1), i }' > rows
sort -t: -k1,1n -k3,3nr rows | head -3
sort -t: -k2,2 -s rows | head -3
sort -t: -k3n -o rows rows; head -2 rows; tail -1 rows
sort -c rows 2>/dev/null; echo "sorted lexically $?"
sort -t: -k3n -c rows; echo "sorted by k3 $?"
cut -d: -f1 rows | sort | uniq -c
# 8000 lines of numbers, sorted once, checked several ways
awk 'BEGIN { for (i = 0; i < 8000; i++) print (i * 7919) % 8011 }' > r
sort -n r > rs
md5sum < rs | cut -d' ' -f1
head -1 rs; tail -1 rs
sort -c rs 2>/dev/null; echo "lexically sorted $?"
sort -n -c rs && echo "sort -n -c ok"
awk 'NR > 1 && $1 < prev { bad = 1 } { prev = $1 } END { print bad ? "unsorted" : "ascending" }' rs
wc -l r
tac r | tac | cmp - r && echo "tac twice"
shuf -i 1-1000 | sort -n | md5sum | cut -d' ' -f1
seq 1000 | md5sum | cut -d' ' -f1
