# kill -STOP / -CONT of background jobs, `jobs` and ps states.
# Every `wait` of a killed job has 2>/dev/null: ash prints "Terminated" if the
# job dies during `wait`, but nothing if it was reaped earlier (timing).
# A stop or continue takes effect when the target next runs: poll for it.
state() { cut -d' ' -f3 /proc/$1/stat; }
# Prints $1's state once it is $2 (or after about 2 s).
until_state() {
    i=0
    while [ "$(state $1)" != "$2" ] && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
    state $1
}
sleep 5 & p=$!
kill -STOP $p
until_state $p T
jobs
kill -CONT $p
until_state $p S
kill $p; wait $p 2>/dev/null; echo "status $?"
# a stopped process still takes SIGKILL
sleep 5 & p=$!
kill -STOP $p; until_state $p T >/dev/null; kill -KILL $p; wait $p 2>/dev/null; echo "killed stopped $?"
# a stopped process keeps pending signals until CONT
sh -c 'trap "echo got USR1 > usr1" USR1; touch ready; while :; do sleep 0.05; done' & p=$!
while [ ! -e ready ]; do sleep 0.02; done
kill -STOP $p; until_state $p T >/dev/null; kill -USR1 $p; sleep 0.2
echo "still stopped: $(state $p)"
kill -CONT $p
i=0; while [ ! -s usr1 ] && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
cat usr1
kill $p; wait $p 2>/dev/null; echo "trap job $?"
# (TSTP/TTIN/TTOU are not tried: they do not stop a process whose process
# group is orphaned, as the runner's jobs are, on either kernel)
# jobs lists running background jobs
sleep 1 & sleep 1 &
jobs | sed 's/[0-9][0-9]*$//' | sort
jobs -p | wc -l
kill %1 %2 2>/dev/null; wait 2>/dev/null
# stopped children seen by a waiting parent (wait returns only at exit)
sh -c 'sleep 0.3; exit 6' & p=$!
kill -STOP $p; until_state $p T >/dev/null; kill -CONT $p; wait $p 2>/dev/null; echo "after stop/cont $?"
# ps shows T for a stopped process
sleep 5 & p=$!; kill -STOP $p; until_state $p T >/dev/null
ps -o pid,stat | awk -v p=$p '$1 == p { print substr($2, 1, 1) }'
kill -9 $p; wait $p 2>/dev/null
echo end
