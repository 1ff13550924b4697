#!/bin/sh
# contrib/bash-completion/ftmonctl in a real bash, against the real daemon:
# commands, a command's options, status words, and (asked of the daemon
# named by -s) job names and a job's metric names.
. "$(dirname "$0")/lib.sh"

command -v bash >/dev/null 2>&1 || skip_all "bash is not installed"
start_fakeapi
openai_config
start_daemon
fake POST /_fake/jobs '{"id": "ftjob-comp1", "total_steps": 20, "steps_per_second": 200}' >/dev/null
wait_until 20 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM metric_points WHERE job = 'ftjob-comp1' AND metric = 'train_loss'\")\" -gt 0 ]"
ok $? "the job has points"

# complete WORDS...: COMPREPLY for the last word, one per line, sorted.
complete_words() {
	PATH="$top_builddir:$PATH" bash -c '
. "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
_ftmonctl
[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort' sh "$top_srcdir/contrib/bash-completion/ftmonctl" "$@"
}

is "$(complete_words ftmonctl st | tr '\n' ' ')" "status " "a command by its prefix"
is "$(complete_words ftmonctl p | tr '\n' ' ')" "ping plot poll " "every command of a prefix"
is "$(complete_words ftmonctl jobs --s | tr '\n' ' ')" "--source --status " "a command's options"
is "$(complete_words ftmonctl forget --f | tr '\n' ' ')" "--force " "forget --force"
is "$(complete_words ftmonctl jobs --status ru | tr '\n' ' ')" "running " "status words"
is "$(complete_words ftmonctl -s "$SOCK" show ftjob-co | tr '\n' ' ')" "ftjob-comp1 " \
	"a job's id, from the daemon named by -s"
is "$(complete_words ftmonctl -s "$SOCK" show open | tr '\n' ' ')" "openai/ftjob-comp1 " \
	"a job's full name"
is "$(complete_words ftmonctl -s "$SOCK" plot ftjob-comp1 -m train_l | tr '\n' ' ')" "train_loss " \
	"a job's metric names"
is "$(complete_words ftmonctl -s "$SOCK" show ftjob-comp1 ftj | tr '\n' ' ')" "" \
	"no second job where one is taken"
is "$(complete_words ftmonctl -s "$T/nosock" show ftj | tr '\n' ' ')" "" \
	"no daemon: nothing offered, and no error printed"
done_testing
