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
is "$(grep -c '^== ftmonctl show' "$T/demo.out")" "4" "all four jobs end and are shown"
like "$out" "lab/local-logreg +. succeeded" "the local trainer's run ends beside the API jobs"
like "$out" "alert.fired +openai/ftjob-[A-Za-z0-9]+ alert divergence" \
	"the hook was told of the overfitting job's divergence"
is "$(grep -c '  job.finished  ' "$T/demo.out")" "4" "and of every job's end"
like "$(sed -n '/^== ftmonctl show/,/^== ftmonctl alerts/p' "$T/demo.out")" \
	"best checkpoint: +step [0-9]+: full_valid_loss=" "show names the best checkpoint"
like "$out" "wrote /tmp/ftmon-demo.[A-Za-z0-9]+/report.html: 4 jobs" "the HTML report is written"
like "$out" "points per job and metric" "the stored points are summarised"
db=$(sed -n 's|^The database stays at \(/tmp/ftmon-demo\.[A-Za-z0-9]*\)/ftmon\.db.*|\1|p' "$T/demo.out")
[ -n "$db" ] && rm -rf "$db"
done_testing
