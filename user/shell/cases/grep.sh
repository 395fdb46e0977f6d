# grep
mkdir -p t/sub
printf 'alpha\nbeta\nGamma\ngamma ray\n' > t/one
printf 'delta\ngamma\n' > t/sub/two
grep gamma t/one
grep -i gamma t/one
grep -c a t/one
grep -v a t/one; echo "status $?"
grep -n beta t/one
grep -r gamma t | sort
grep -rl gamma t | sort
grep -E '^(alpha|delta)$' -r t | sort
grep -w gamma t/one
grep -o 'ga[a-z]*' t/one
grep nomatch t/one; echo "status $?"
grep x /nonexistent 2>/dev/null; echo "status $?"
echo 'a.b' | grep -F '.'
seq 1 20 | grep -e 1 -e 5 | tr '\n' ' '; echo
