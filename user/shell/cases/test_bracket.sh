# test and [ ]
t() { if "$@"; then echo "yes: $*"; else echo "no: $*"; fi; }
touch f; mkdir d; ln -s f l; printf x > s
t test -e f
t test -f d
t [ -d d ]
t [ -L l ]
t [ -h f ]
t [ -s s ]
t [ -s f ]
t [ -r f ]
t [ -w f ]
t [ -x f ]
t [ -e /nonexistent ]
t [ -z "" ]
t [ -n "" ]
t [ abc = abc ]
t [ abc != abd ]
t [ 3 -eq 3 ]
t [ 3 -lt 2 ]
t [ 10 -gt 9 ]
t [ 1 -le 1 ]
t [ 1 -ne 1 ]
t [ ! -e f ]
t [ -e f -a -d d ]
t [ -e nope -o -d d ]
t [ a \< b ]
t test f -nt /nonexistent
t [ -c /dev/null ]
t [ -b /dev/null ]
t [ -p /dev/null ]
t [ -t 0 ]
[ 2>/dev/null a -eq 1 ]; echo "status $?"
