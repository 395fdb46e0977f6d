# find: -name -iname -type -newer -exec -size -perm -mindepth/-maxdepth -prune
umask 022
mkdir -p t/a/b t/c
touch t/a/one.txt t/a/b/two.txt t/c/three.log t/c/Four.TXT
printf '%01000d' 0 > t/c/big
ln -s a t/la
chmod 700 t/c/three.log
find t -name '*.txt' | sort
find t -iname '*.txt' | sort
find t -type d | sort
find t -type l
find t -type f -size +1 | sort
find t -type f -size -2 | sort
find t -perm 700
find t -mindepth 2 -maxdepth 2 | sort
find t -path t/a -prune -o -type f -print | sort
find t -name '*.txt' -exec echo found {} \; | sort
find t -name '*.txt' -exec ls {} + | sort
find t -type f -name '*.log' -exec sh -c 'echo "$1" has $(wc -c < "$1") bytes' _ {} \;
# -newer compares modification times
touch -d '2020-01-01 00:00:00' t/old
touch -d '2022-01-01 00:00:00' t/ref
touch -d '2024-01-01 00:00:00' t/new
find t -newer t/ref -name '???' | sort
find t ! -newer t/ref -name '???' | sort
find t -mtime +365 -name '???' | sort
# -follow / -L walks into the symlinked directory
find -L t/la -type f | sort
find t/la | sort
# busybox find has no -delete: -exec rm
find t -name '*.txt' -exec rm {} +
find t -type f | sort
find t -empty | sort
find t/c -depth | sort
find t -type f -newer t/old -exec rm {} \;
find t | sort
find nonexistent 2>/dev/null; echo "missing: $?"
