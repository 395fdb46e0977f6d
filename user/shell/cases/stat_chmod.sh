# touch, stat -c (sizes and modes only), chmod, umask
umask 022
touch empty
printf '12345' > five
mkdir dir
ln -s five sym
stat -c '%s %a %F' empty
stat -c '%s %a %F' five
stat -c '%a %F' dir
stat -c '%s %F' sym
stat -L -c '%s %F' sym
stat -c '%a %F %n' /dev/null
chmod 600 five; stat -c '%a' five
chmod u+x,g+r five; stat -c '%a %A' five
chmod 4755 five; stat -c '%a %A' five
chmod -R 700 dir; stat -c '%a %A' dir
chmod a-w five; stat -c '%a' five
umask 022
touch -c nonexistent; [ -e nonexistent ] || echo "touch -c made nothing"
touch -d '2021-02-03 04:05:06' five; stat -c '%y' five | cut -c1-19
touch -r five empty; stat -c '%Y' empty five | uniq | wc -l
[ -x five ] && echo executable
stat -c '%h' five
ln five five2; stat -c '%h' five
