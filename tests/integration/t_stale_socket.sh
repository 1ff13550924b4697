#!/bin/sh
# A stale socket the daemon may not remove (its directory is not writable
# by the daemon's user) is reported as such, not as "address already in use".
. "$(dirname "$0")/lib.sh"

D="$T/ro"
mkdir "$D"
# A socket file nobody listens on, as a crash leaves it.
"$PYTHON3" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.close()' "$D/ftmon.sock"
test -S "$D/ftmon.sock" || bail "could not make a stale socket"
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || skip_all "root without setpriv: cannot run as nobody"
	mkdir "$T/nb"
	chown nobody "$T/nb"
	DB="$T/nb/ftmon.db"
	RUN="setpriv --reuid=nobody --regid=nogroup --clear-groups"
else
	RUN=
	chmod 555 "$D"
fi
SOCK="$D/ftmon.sock"
write_config
# shellcheck disable=SC2086
out=$($RUN "$FTMOND" -c "$CONF" 2>&1)
is "$?" "1" "the daemon refuses to start"
like "$out" "cannot replace the stale socket $D/ftmon.sock: Permission denied" \
	"and says the stale socket cannot be replaced, and why"
is "$(printf '%s\n' "$out" | grep -c 'already in use')" "0" "not that the address is in use"
chmod 755 "$D"
done_testing
