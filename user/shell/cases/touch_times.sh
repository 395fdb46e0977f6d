# touch -d/-t/-r/-a/-m, stat -c of times, ls -l --full-time, find -newer, date -r
export TZ=UTC
touch -d '2021-02-03 04:05:06' f
stat -c '%y' f | cut -c1-19
stat -c '%Y' f
touch -t 202203040506.07 g
stat -c '%y %Y' g | sed 's/\.[0-9]* +0000//'
touch -d '@1000000000' e 2>/dev/null && stat -c '%Y' e
# -a and -m change one time only
touch -d '2020-01-01 00:00:00' f
touch -a -d '2021-01-01 00:00:00' f
stat -c '%X %Y' f
touch -m -d '2022-01-01 00:00:00' f
stat -c '%X %Y' f
touch -r g f; stat -c '%Y' f
date -r f '+%Y-%m-%d %H:%M:%S'
date -u -d @86400 '+%Y-%m-%d %H:%M:%S'
date -u -d '2000-02-29 12:00:00' +%s
# ls -l shows old dates with the year
ls -l --full-time g | awk '{ print $6, $7 }' | cut -c1-19
# new files get the current time; a write updates mtime
touch -d '2001-01-01 00:00:00' w
before=$(stat -c %Y w)
echo data >> w
after=$(stat -c %Y w)
[ "$after" -gt "$before" ] && echo "write updated mtime"
[ "$(stat -c %Z w)" -ge "$after" ] && echo "ctime follows"
# a read does not move mtime
touch -d '2001-01-01 00:00:00' w; cat w >/dev/null; stat -c '%Y' w
# mkdir/creating in a directory updates its mtime
mkdir d; touch -d '2001-01-01 00:00:00' d; touch d/x
[ "$(stat -c %Y d)" -gt 978307200 ] && echo "dir mtime updated"
# times survive mv; cp -p keeps them; ls -t orders by mtime
mv g g2; stat -c '%Y' g2
touch -d '2010-01-01' a1; touch -d '2011-01-01' a2; touch -d '2009-01-01' a3
ls -t a1 a2 a3 | tr '\n' ' '; echo
ls -tr a1 a2 a3 | tr '\n' ' '; echo
find . -newer a1 -name 'a*' | sort
touch -d 'not a date' q 2>/dev/null; echo "bad date $?"
touch -d @0 zero && stat -c '%Y' zero
touch -d '2038-01-19 03:14:08' y2038 && stat -c '%Y %y' y2038 | sed 's/\.[0-9]* +0000//'
