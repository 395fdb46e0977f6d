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
sort -n dup | uniq | wc -l
sort -nu dup | wc -l
sort -n dup | uniq -c | awk '{ c[$1]++ } END { for (k in c) print k, c[k] }' | sort -n
sort -n dup | uniq -d | wc -l
sort -n dup | uniq -u | wc -l
# a big file through sort -k, -t, -s, -o in place
awk 'BEGIN { for (i = 0; i < 4000; i++) printf "%d:%s:%d\n", i % 7, substr("abcdefghij", i % 10 + 1, 1), i }' > rows
sort -t: -k1,1n -k3,3nr rows | head -3
sort -t: -k2,2 -s rows | head -3
sort -t: -k3n -o rows rows; head -2 rows; tail -1 rows
sort -c rows 2>/dev/null; echo "sorted lexically $?"
sort -t: -k3n -c rows; echo "sorted by k3 $?"
cut -d: -f1 rows | sort | uniq -c
# sort of 100k lines of text, checksums of the result
awk 'BEGIN { srand(1); for (i = 0; i < 20000; i++) print (i * 7919) % 20011 }' > r
sort -n r | md5sum | cut -d' ' -f1
sort -n r | head -1; sort -n r | tail -1
sort r | sort -c && echo "sort -c ok"
sort -n r | awk 'NR > 1 && $1 < prev { bad = 1 } { prev = $1 } END { print bad ? "unsorted" : "ascending" }'
wc -l r
tac r | tac | cmp - r && echo "tac twice"
shuf -i 1-1000 | sort -n | md5sum | cut -d' ' -f1
seq 1000 | md5sum | cut -d' ' -f1
