#!/bin/sh
# README's first command runs tests/demo.sh; it must keep working as the
# daemon grows stricter (it broke once when -t began to check keys).
. "$(dirname "$0")/lib.sh"

timeout 180 sh "$top_srcdir/tests/demo.sh" "$top_builddir" >"$T/demo.out" 2>&1
is "$?" "0" "the demo runs to its end"
out=$(cat "$T/demo.out")
like "$out" "== ftmond -t: checking the demo configuration" "it checks its configuration"
ok "$(grep -q 'is not set\|invalid configuration' "$T/demo.out"; test $? -ne 0; echo $?)" \
	"and the check passes"
is "$(grep -c '^== ftmonctl show' "$T/demo.out")" "3" "all three jobs end and are shown"
like "$out" "points per job and metric" "the stored points are summarised"
db=$(sed -n 's|^The database stays at \(/tmp/ftmon-demo\.[A-Za-z0-9]*\)/ftmon\.db.*|\1|p' "$T/demo.out")
[ -n "$db" ] && rm -rf "$db"
done_testing
