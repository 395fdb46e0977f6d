# od, hexdump, xxd on binary data
printf '\000\001\002\003ABCD\177\200\376\377 \n\t' > bin
od -c bin
od -An -tx1 bin
od -An -to1 bin | head -1
od -An -tu2 -N 8 bin
od -Ax -tx4 bin
od -An -td1 -j 8 -N 4 bin
od -b -N 4 bin
hexdump -C bin
hexdump bin
hexdump -n 4 -e '4/1 "%02x" "\n"' bin
xxd bin
xxd -p bin
xxd -l 4 bin
xxd -g 4 bin
xxd -c 4 bin | head -2 | xxd -r | od -An -tx1
xxd -p bin | xxd -r -p | cmp - bin && echo "xxd -r -p round trip"
dd if=/dev/zero bs=1 count=40 2>/dev/null | od -Ad -x
dd if=/dev/zero bs=1 count=40 2>/dev/null | hexdump -C
dd if=/dev/zero bs=1 count=40 2>/dev/null | od -v -An -x | wc -l
seq 20 | od -c | tail -3
printf 'hello' | base64
printf 'aGVsbG8=' | base64 -d; echo
printf 'hello' | uuencode -m name
strings -n 3 bin
printf 'x\000yyyy\000zz' | strings
printf '\377\376' | od -An -tx2
