# umask: set in the shell, applied to files that child processes create
umask 077
umask
sh -c umask
(umask)
touch private; mkdir privdir; stat -c '%a %n' private privdir
umask 027
sh -c 'echo x > created'; stat -c '%a %n' created
echo y > by-shell; stat -c '%a %n' by-shell
umask 0
touch open; stat -c '%a %n' open
