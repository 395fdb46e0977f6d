# du of files of known sizes on tmpfs (st_blocks: whole 4 KiB pages)
: > zero
printf x > one
head -c 4096 /dev/zero > page
head -c 4097 /dev/zero > page1
head -c 100000 /dev/zero > big
du -k zero one page page1 big
stat -c '%b %B %n' zero one page page1 big
