#!/bin/sh
# admin_group and the socket: at start and after every reload that changes
# it, the socket file belongs to the group, so its members can connect and
# run mutating commands; a missing group is logged.  Needs root (chown to a
# group we are not in, clients run as nobody).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "not root: cannot chown the socket or run clients as nobody"
command -v setpriv >/dev/null || skip_all "no setpriv"
# Two existing groups that neither root nor nobody has.
set -- $(getent group | awk -F: '$3 > 0 && $3 < 1000 && $1 != "nogroup" { print $1 }' | head -n 2)
[ $# -eq 2 ] || skip_all "fewer than two system groups"
A=$1 B=$2

# ctl as nobody holding only group $1 besides nogroup.
ctl_as_member() {
	_g=$1
	shift
	setpriv --reuid=nobody --regid=nogroup --groups="$_g" "$FTMONCTL" -s "$SOCK" "$@"
}
sock_group_is() { [ "$(stat -c %G "$SOCK")" = "$1" ]; }
log_has() { grep -q -- "$1" "$T/ftmond.log"; }

write_config "admin_group = $A
socket_mode = 0660"
start_daemon
is "$(stat -c %G "$SOCK")" "$A" "at start the socket belongs to admin_group ($A)"
ctl_as_member "$B" --json ping >/dev/null 2>&1
ok $((! $?)) "a member of $B cannot connect yet"

write_config "admin_group = $B
socket_mode = 0660"
check "reload to admin_group = $B" ctl reload
wait_until 10 sock_group_is "$B"
is "$(stat -c %G "$SOCK")" "$B" "after the reload the socket belongs to $B"
is "$(ctl_as_member "$B" --json ping 2>&1)" '"pong"' "a member of $B can connect"
check "and run a mutating command" ctl_as_member "$B" reload
ctl_as_member "$A" --json ping >/dev/null 2>&1
ok $((! $?)) "a member of $A no longer can"

write_config "admin_group = ftmon-no-such-group
socket_mode = 0660"
check "reload to a missing admin_group" ctl reload
check "is logged" wait_until 10 log_has "admin_group ftmon-no-such-group does not exist"
ctl_as_member "$B" reload >"$T/out" 2>"$T/err"
ok $((! $?)) "and members of $B may no longer mutate"
like "$(cat "$T/err")" "permission_denied" "refused with permission_denied"
ok "$(kill -0 "$DAEMON_PID"; echo $?)" "ftmond is still running"
stop_daemon
is "$DAEMON_STATUS" "0" "and exits 0"
done_testing
