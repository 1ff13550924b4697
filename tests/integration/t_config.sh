#!/bin/sh
# Command-line behaviour of ftmond and ftmonctl: -t validates and touches
# nothing, errors name file:line, the shipped example is valid, usage errors
# and an absent daemon give the documented exit codes.
. "$(dirname "$0")/lib.sh"

write_config "[source openai]
type = openai
api_key_env = OPENAI_API_KEY
poll_interval = 45s"
# The key is checked too (below), so give the one this config names.
out=$(OPENAI_API_KEY=sk-test "$FTMOND" -t -c "$CONF" 2>&1)
is "$?" "0" "ftmond -t on a valid config exits 0"
like "$out" 'configuration OK' "and says so"
ok "$(test ! -e "$DB" && test ! -e "$SOCK"; echo $?)" "-t creates neither database nor socket"
out=$(OPENAI_API_KEY=sk-test "$FTMOND" --check-config -c "$top_srcdir/etc/ftmon.conf" 2>&1)
is "$?" "0" "the shipped etc/ftmon.conf is valid"

cat >"$T/bad.conf" <<'BAD'
[daemon]
database = relative.db
retention = forever

[source openai]
type = openai
poll_interval = fast
max_connections = 0

[rule overfit]
type = divergence
patience = -3

[hook team]
type = webhook
url = ftp://example.org/x
events = job.finished alert.exploded
BAD
out=$("$FTMOND" -t -c "$T/bad.conf" 2>&1)
is "$?" "1" "ftmond -t on a broken config exits 1"
for want in "bad.conf:2: .*database" "bad.conf:3: .*retention" "bad.conf:5: .*api_key" \
	"bad.conf:7: .*poll_interval" "bad.conf:8: .*max_connections" "bad.conf:12: .*patience" \
	"bad.conf:16: .*url" "bad.conf:17: .*alert.exploded"; do
	like "$out" "$want" "error reported: $want"
done
is "$(printf '%s\n' "$out" | grep -c '^.*bad.conf:[0-9]*: ')" "8" "every error on its own file:line line"
"$FTMOND" -c "$T/bad.conf" >"$T/start.out" 2>&1
is "$?" "1" "ftmond refuses to start with a broken config"
like "$(cat "$T/start.out")" 'invalid configuration, not starting' "and says why"
"$FTMOND" -t -c "$T/does-not-exist.conf" >"$T/out" 2>&1
is "$?" "1" "a missing config file is an error"
like "$(cat "$T/out")" 'does-not-exist.conf: No such file or directory' "naming the file"

# options and usage
like "$("$FTMOND" --version)" '^ftmond [0-9]+\.[0-9]+\.[0-9]+$' "ftmond --version"
like "$("$FTMOND" -h)" 'check-config' "ftmond -h lists the options"
"$FTMOND" --bogus >/dev/null 2>&1
is "$?" "2" "ftmond with an unknown option exits 2"
like "$("$FTMONCTL" --version)" '^ftmonctl [0-9]+\.[0-9]+\.[0-9]+$' "ftmonctl --version"
like "$("$FTMONCTL" --help)" 'metrics +a job' "ftmonctl --help lists the commands"
"$FTMONCTL" frobnicate >/dev/null 2>"$T/err"
is "$?" "2" "ftmonctl with an unknown command exits 2"
"$FTMONCTL" show >/dev/null 2>"$T/err"
is "$?" "2" "ftmonctl show without a job exits 2"
"$FTMONCTL" -s "$T/nobody-here.sock" status >/dev/null 2>"$T/err"
is "$?" "3" "ftmonctl with no daemon exits 3"
like "$(cat "$T/err")" "^ftmonctl: .*nobody-here.sock" "and names the socket in one line"
is "$(wc -l <"$T/err" | tr -d ' ')" "1" "exactly one line"
FTMON_SOCKET="$T/env.sock" "$FTMONCTL" status >/dev/null 2>"$T/err"
like "$(cat "$T/err")" "env.sock" "FTMON_SOCKET picks the socket"

# The man pages are real pages: mandoc finds nothing to complain about.
if command -v mandoc >/dev/null 2>&1; then
	for page in ftmond.8 ftmonctl.1 ftmon.conf.5; do
		out=$(mandoc -Tlint -W warning "$top_srcdir/man/$page" 2>&1)
		is "$out" "" "mandoc -Tlint: $page is clean"
	done
else
	ok 0 "# SKIP mandoc not installed"
fi
# A credential that can never be read is a config error, with FILE:LINE.
for case in "api_key_file = $T/no-such.key|no-such.key: No such file" \
	"api_key_file = $T|Is a directory" \
	"api_key_env = FTMON_UNSET_KEY_VAR|FTMON_UNSET_KEY_VAR is not set"; do
	line=${case%%|*} want=${case#*|}
	write_config "[source openai]
type = openai
$line"
	out=$(env -u FTMON_UNSET_KEY_VAR "$FTMOND" -t -c "$CONF" 2>&1)
	is "$?" "1" "ftmond -t refuses '$line'"
	like "$out" "ftmon.conf:[0-9]*: .*$want" "and says why with FILE:LINE"
	out=$(env -u FTMON_UNSET_KEY_VAR "$FTMOND" -c "$CONF" 2>&1)
	is "$?" "1" "and ftmond will not start on it"
done
write_config "[source openai]
type = openai
api_key_credential = openai"
out=$(env -u CREDENTIALS_DIRECTORY "$FTMOND" -t -c "$CONF" 2>&1)
is "$?" "0" "a systemd credential is left to the start, where systemd provides it"
out=$(env -u CREDENTIALS_DIRECTORY "$FTMOND" -c "$CONF" 2>&1)
is "$?" "1" "and starting without it fails"
like "$out" "ftmon.conf:[0-9]*: .*CREDENTIALS_DIRECTORY is not set" "saying why"
done_testing
