# awk
printf 'a 1\nb 2\nc 3\n' > t
awk '{ print $2, $1 }' t
awk '{ s += $2 } END { print "sum", s }' t
awk -F: '{ print $1 }' <<END
root:x:0
user:y:1000
END
awk 'NR == 2' t
awk 'BEGIN { printf "%05.2f|%s|%d\n", 3.14159, "str", 42 }'
awk '{ n[$1] = $2 } END { for (k in n) print k, n[k] }' t | sort
awk 'BEGIN { print length("hello"), substr("hello", 2, 3), index("hello", "l"), toupper("x") }'
echo "a,b,,c" | awk -F, '{ print NF }'
seq 1 10 | awk '$1 % 3 == 0'
awk 'BEGIN { x = 2 * 512; print x; print 7 / 2; print int(7 / 2) }'
echo "one two" | awk '{ $2 = "TWO"; print; print NF }'
