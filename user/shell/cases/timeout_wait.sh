# timeout(1) (busybox's checks once a second: only a few), sleep & wait,
# wait statuses, nohup-like setups
timeout 5 true; echo "true under timeout $?"
timeout 5 sh -c 'exit 3'; echo "exit 3 under timeout $?"
timeout 0.3 sleep 5; echo "timed out $?"
timeout -s INT 0.3 sh -c 'trap "echo got INT; exit 5" INT; while :; do sleep 0.05; done'; echo "INT $?"
# sleep & wait: wait returns each job's status
sleep 0.2 & a=$!
sh -c 'sleep 0.1; exit 4' & b=$!
wait $b; echo "b $?"
wait $a; echo "a $?"
wait $a 2>/dev/null; echo "wait again $?"
sleep 0.1 & sleep 0.2 & sleep 0.1 &
wait; echo "wait all $?"
# wait -n is not in ash; wait for a non-child
wait 1 2>/dev/null; echo "wait non-child $?"
# nohup-like: ignore HUP in a child and survive the signal
sh -c 'trap "" HUP; touch ready; exec sleep 0.3' & p=$!
while [ ! -e ready ]; do sleep 0.02; done; kill -HUP $p; wait $p 2>/dev/null; echo "ignored HUP $?"
sh -c 'sleep 0.3' & p=$!
sleep 0.1; kill -HUP $p; wait $p 2>/dev/null; echo "HUP $?"
# setsid runs a command in a new session
setsid sh -c 'ps -o pid,sid,pgid 2>/dev/null >/dev/null; echo in setsid'
# sleep with suffixes and fractional seconds
sleep 0.01s && echo "0.01s ok"
sleep 0 && echo "sleep 0 ok"
sleep x 2>/dev/null; echo "bad sleep $?"
# usleep
usleep 1000 && echo "usleep ok"
