# chown / chgrp as root (numeric ids: there is no /etc/passwd)
touch f
stat -c '%u %g' f
chown 1000 f; stat -c '%u %g' f
chown 1000:2000 f; stat -c '%u %g' f
chgrp 3000 f; stat -c '%u %g' f
chown -h 5:6 f; stat -c '%u %g' f
mkdir -p d/e; touch d/e/x
chown -R 7:8 d; stat -c '%u %g %n' d d/e d/e/x
id -u
