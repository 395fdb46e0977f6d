# kill of background processes, signal numbers, exit statuses
sleep 30 &
p=$!
kill -0 $p && echo alive
kill $p; wait $p; echo "TERM status $?"
kill -0 $p 2>/dev/null || echo gone
sleep 30 & p=$!; kill -USR1 $p; wait $p; echo "USR1 status $?"
sleep 30 & p=$!; kill -s KILL $p; wait $p; echo "KILL status $?"
sleep 30 & p=$!; kill -HUP $p; wait $p; echo "HUP status $?"
sh -c 'sleep 30' & p=$!; sleep 0.2; kill $p; wait $p; echo "sh TERM status $?"
kill -l 9; kill -l 15
kill 999999 2>/dev/null; echo "no such pid $?"
sh -c 'trap "echo child got TERM; exit 9" TERM; echo ready; while :; do sleep 0.05; done' > out & p=$!
sleep 0.5; kill $p; wait $p; echo "trapped status $?"; cat out
