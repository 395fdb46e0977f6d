# here-documents
name=world
cat <<END
hello $name
sum $((1 + 2))
END
cat <<'END'
literal $name $((1 + 2))
END
cat <<-END
	tab-stripped $name
	END
wc -l <<END
a
b
c
END
while read -r a b; do echo "[$a|$b]"; done <<END
x y
1 2 3
END
cat <<A; cat <<B
first
A
second
B
