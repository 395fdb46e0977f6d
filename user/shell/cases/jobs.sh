# background jobs, $!, wait
sleep 0.2 &
pid=$!
[ -n "$pid" ] && [ "$pid" != "$$" ] && echo "have pid"
wait $pid; echo "wait status $?"
sh -c 'exit 7' &
wait $!; echo "wait status $?"
(echo from-bg > bg.txt) &
wait
cat bg.txt
for i in 1 2 3; do (sleep 0.1; echo "job $i" > j$i) & done
wait
cat j1 j2 j3
# output order of concurrent jobs is fixed by sleeping
(sleep 0.3; echo second) &
echo first
wait
# The kill comes while `wait` is already waiting: ash prints the status of
# a job that dies in its `wait`, but reaps a job whose SIGCHLD came earlier
# silently (after every builtin, such as `kill`), on any kernel.
sleep 10 &
p=$!
(sleep 0.2; kill $p) &
wait $p; echo "killed status $?"
wait
sleep 10 &
p=$!
(sleep 0.2; kill -9 $p) &
wait $p; echo "killed -9 status $?"
wait
kill -0 $$ && echo self-alive
