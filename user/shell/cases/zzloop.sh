i=0
while [ $i -lt 60 ]; do
sleep 10 &
p=$!
sleep 0.02
kill $p
wait $p; echo "killed status $?"
i=$((i+1))
done 2>&1 | sort | uniq -c
