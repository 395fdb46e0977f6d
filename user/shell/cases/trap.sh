# trap: EXIT, USR1 with kill -USR1 $$, ignoring, resetting
sh -c 'trap "echo exit-trap" EXIT; echo body'
sh -c 'trap "echo exit-trap status \$?" EXIT; exit 5'; echo "status $?"
trap 'echo got USR1' USR1
kill -USR1 $$
echo after-usr1
trap 'echo got USR2; n=$((n + 1))' USR2
n=0
kill -USR2 $$; kill -USR2 $$
echo "n=$n"
trap '' TERM
kill -TERM $$
echo survived-term
trap - TERM
sh -c 'trap "" INT; kill -INT $$; echo ignored-int'
sh -c 'kill -INT $$; echo not-reached'; echo "status $?"
trap 'echo final exit trap' EXIT
echo end
