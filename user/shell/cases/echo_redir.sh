# echo and redirections: > >> 2>&1 < and fd duplication
echo one > f
echo two >> f
cat f
echo three > f
cat f
ls /nonexistent > err 2>&1
echo "status $?"
sed 's/^ls: //' err
{ echo out; echo err >&2; } > both 2>&1
sort both
{ echo out; echo err >&2; } 2>/dev/null
while read -r line; do echo "read: $line"; done < f
cat < f > g && cat g
echo -n no-newline; echo
echo 'single $HOME' "double \$x"
exec 3> fd3; echo via-fd3 >&3; exec 3>&-; cat fd3
: > f; wc -c < f
