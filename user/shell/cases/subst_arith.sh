# command substitution and arithmetic
x=$(echo abc)
echo "x=$x"
y=`echo backtick`
echo "y=$y"
echo "nested $(echo $(echo inner))"
n=$(seq 1 10 | wc -l)
echo "n=$n"
echo $((3 + 4 * 5)) $((17 / 5)) $((17 % 5)) $((-7 / 2)) $((1 << 10)) $((0x10)) $((010))
i=0
while [ $i -lt 5 ]; do i=$((i + 1)); done
echo "i=$i"
: $((j = 7))
echo "j=$j"
echo $((2 > 1)) $((2 < 1)) $((5 == 5 ? 10 : 20))
echo "$(printf 'a\nb\n\n\n')" | wc -l
echo $(( $(echo 6) * $(echo 7) ))
v=$(exit 4); echo "status $?"
echo ${#x} ${x%c} ${x#a} ${undefined:-default} ${x:+set}
