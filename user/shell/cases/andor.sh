# && || ! and exit statuses
true && echo and-yes
false && echo and-no
false || echo or-yes
true || echo or-no
false && echo a || echo b
! false && echo negated
/bin/sh -c 'exit 3'; echo "status $?"
sh -c 'exit 255'; echo "status $?"
sh -c 'kill -TERM $$'; echo "status $?"
/nonexistent/cmd 2>/dev/null; echo "status $?"
touch f; chmod 644 f; ./f 2>/dev/null; echo "status $?"
if grep -q x /dev/null; then echo found; else echo "not found $?"; fi
set -e
(false; echo "set -e is off in a || subshell") || echo "subshell failed"
echo end
