# subshells, functions, read, printf, case, loops
x=outer
(x=inner; echo "in subshell $x")
echo "after subshell $x"
(cd /; pwd)
pwd | sed "s|^/tmp/.*|workdir|"
f() { local v=local; echo "f args: $# $1 $2"; return 3; }
f a b; echo "f status $?"
echo "v=${v-unset}"
fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(($1 - 1))) )); fi; }
fact 10
echo "a b c" | { read -r p q r; echo "$r $q $p"; }
printf 'l1\nl2\n' | { read -r a; read -r b; echo "$b,$a"; }
echo "x:y:z" | { IFS=: read -r a b c; echo "$a $b $c"; }
read -r nothing < /dev/null; echo "read at EOF $?"
printf '%s-%d-%x-%o-%5s|%-5s|%.2f\n' str 42 255 8 ab cd 2.5
printf '%c%c\n' abc def
printf 'no args\n'
printf '%s\n' one two three
printf '%%\t|\n'
for w in apple banana cherry 42 ''; do
  case "$w" in
    a*) echo "$w: starts with a" ;;
    *an*) echo "$w: contains an" ;;
    [0-9]*) echo "$w: number" ;;
    '') echo "empty" ;;
    *) echo "$w: other" ;;
  esac
done
i=0; while true; do i=$((i+1)); [ $i -ge 3 ] && break; done; echo "i=$i"
for i in 1 2 3 4; do [ $i = 2 ] && continue; echo "loop $i"; done
until [ $i -le 0 ]; do i=$((i-1)); done; echo "until i=$i"
set -- $(echo "w1 w2 w3"); echo "$# words"
IFS=,; set -- $(echo "a,b,c"); echo "$# fields"; unset IFS
eval 'echo eval $((1+1))'
cmd=echo; $cmd indirect
type cd | head -1
command -v sh
alias hi='echo alias-hi'
eval hi
echo ~ | sed 's|^/.*|tilde-expanded|'
echo *.none
