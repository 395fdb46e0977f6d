# sleep and date
sleep 0.1 && echo slept
sleep 0 && echo slept-0
y=$(date +%Y)
[ "$y" -gt 2020 ] && echo "year > 2020"
s1=$(date +%s); sleep 1.1; s2=$(date +%s)
[ $((s2 - s1)) -ge 1 ] && [ $((s2 - s1)) -le 3 ] && echo "clock advances"
date -u -d @0 '+%Y-%m-%d %H:%M:%S'
date -u -d '2024-02-29 12:34:56' +%s
TZ=UTC date -d @86400 +%A
