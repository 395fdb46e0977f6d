# xargs
seq 1 10 | xargs echo
seq 1 10 | xargs -n 3 echo
printf 'a\nb\nc\n' | xargs -I{} echo "item {}"
touch f1 f2 f3
ls f* | xargs rm
ls
printf 'x y\0z\0' | xargs -0 -n 1 echo
echo | xargs echo empty
seq 1 3 | xargs sh -c 'echo $#' sh
