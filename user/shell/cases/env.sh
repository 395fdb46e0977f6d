# env, export, unset, env -i
export FOO=bar
env | grep '^FOO='
sh -c 'echo "child FOO=$FOO"'
BAR=local sh -c 'echo "BAR=$BAR"'
echo "BAR after=${BAR-unset}"
unset FOO
sh -c 'echo "child FOO=${FOO-unset}"'
env -i A=1 B=2 /bin/env | sort
env -u PATH /bin/sh -c 'echo "PATH=${PATH-unset}"' | grep -c PATH
env -i /bin/sh -c 'echo $HOME' | wc -c
X=1; readonly X; (X=2) 2>/dev/null || echo "readonly"
set -- a "b c" d
echo "$# $2"
for a in "$@"; do echo "[$a]"; done
shift; echo "$1"
echo "$0" | sed 's|.*/||'
