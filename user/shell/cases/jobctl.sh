# kill -STOP / -CONT of background jobs, `jobs` and ps states.
# Every `wait` of a killed job has 2>/dev/null: ash prints "Terminated" if the
# job dies during `wait`, but nothing if it was reaped earlier (timing).
sleep 5 & p=$!
kill -STOP $p
sleep 0.1
awk '{ print $3 }' /proc/$p/stat
jobs
kill -CONT $p
sleep 0.1
awk '{ print $3 }' /proc/$p/stat
kill $p; wait $p 2>/dev/null; echo "status $?"
# a stopped process still takes SIGKILL
sleep 5 & p=$!
kill -STOP $p; sleep 0.1; kill -KILL $p; wait $p 2>/dev/null; echo "killed stopped $?"
# a stopped process keeps pending signals until CONT
sh -c 'trap "echo got USR1" USR1; while :; do sleep 0.05; done' & p=$!
sleep 0.2
kill -STOP $p; kill -USR1 $p; sleep 0.2
echo "still stopped: $(awk '{ print $3 }' /proc/$p/stat)"
kill -CONT $p; sleep 0.3; kill $p; wait $p 2>/dev/null; echo "trap job $?"
# TSTP/TTIN/TTOU stop too
sleep 5 & p=$!; kill -TSTP $p; sleep 0.1; awk '{ print $3 }' /proc/$p/stat; kill -KILL $p; wait $p 2>/dev/null
sleep 5 & p=$!; kill -TTIN $p; sleep 0.1; awk '{ print $3 }' /proc/$p/stat; kill -CONT $p; kill $p; wait $p 2>/dev/null
# jobs lists running background jobs
sleep 1 & sleep 1 &
jobs | sed 's/[0-9][0-9]*$//' | sort
jobs -p | wc -l
kill %1 %2 2>/dev/null; wait 2>/dev/null
# stopped children seen by a waiting parent (wait returns only at exit)
sh -c 'sleep 0.3; exit 6' & p=$!
kill -STOP $p; sleep 0.1; kill -CONT $p; wait $p 2>/dev/null; echo "after stop/cont $?"
# ps shows T for a stopped process
sleep 5 & p=$!; kill -STOP $p; sleep 0.1
ps -o pid,stat | awk -v p=$p '$1 == p { print substr($2, 1, 1) }'
kill -9 $p; wait $p 2>/dev/null
echo end
