# pipelines
seq 1 1000 | sort -rn | head -3
seq 1 10 | tail -2
echo hello | cat | cat | tr a-z A-Z
seq 1 100000 | wc -l
seq 1 5 | while read -r n; do echo "n=$n"; done
# exit status of a pipeline is that of its last command
false | true; echo "status $?"
true | false; echo "status $?"
# a writer to a closed pipe stops (SIGPIPE)
yes | head -2
seq 1 200000 | head -1
