# SIGPIPE and pipeline exit statuses
yes | head -3
yes abc | head -n 2
yes | head -c 10; echo
seq 100000 | head -1
# status of the last command; pipefail reports the first failure
yes | head -1 >/dev/null; echo "status $?"
set -o pipefail
yes | head -1 >/dev/null; echo "pipefail status $?"
false | true; echo "false|true pipefail $?"
true | (exit 3) | true; echo "middle 3 pipefail $?"
set +o pipefail
false | true; echo "false|true $?"
# a writer killed by SIGPIPE: 128+13
sh -c 'yes; echo unreachable >&2' | head -1 >/dev/null
sh -c 'yes | head -1 >/dev/null; exit 0'; echo "sh $?"
sh -c 'sh -c "while :; do echo x; done" | head -1 >/dev/null; echo done'
(trap '' PIPE; yes 2>/dev/null | head -1; echo "ignored sub")
# a write to a closed pipe with SIGPIPE ignored gives EPIPE (the writer
# waits until the reader, which leaves at once, has been reaped)
sh -c 'trap "" PIPE; sleep 0.3; echo data || echo "write failed" >&2' | true
sh -c 'trap "" PIPE; sleep 0.3; echo data 2>/dev/null; echo "echo status $?" >&2' | true
# the exit status of a killed pipeline member, reported by a wrapper
sh -c 'yes > /dev/null & p=$!; sleep 0.1; kill -PIPE $p; wait $p; echo "killed by PIPE $?"'
sh -c 'exec yes' | sed 1q
seq 3 | sh -c 'read a; echo first $a; cat'
