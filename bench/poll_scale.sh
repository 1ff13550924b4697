#!/bin/bash
# poll_scale.sh -- how ftmond's OpenAI source scales with the number of
# running jobs, against nginx on loopback, wrk's ceiling and a plain Python
# poller measured in the same run.  See bench/README.md.
#
#   bench/poll_scale.sh [N...]          (default: 1000 10000)
#
# Run as root on a scratch machine (it apt-get installs nginx and wrk when
# missing).  Knobs, from the environment:
#   R=3            rounds; every measurement is repeated R times, interleaved
#   WINDOW=10      measured seconds per run
#   WARMUP=3       minimum seconds between ftmond's start and the measured
#                  window; the warm-up also lasts until every job was polled
#                  once by this process (its in-memory state is then warm)
#   SCENARIOS="static live"  static: pages never change; live: every job's
#                  events page gains one event per second
#   SWEEP=1        0 skips the poll_interval sweep that checks saturation
#   BUILD_DIR=/tmp/bench-build   out-of-tree build of ftmond/ftmonctl
#   FTMOND=, FTMONCTL=           use these binaries instead (no build)
#   POLL_INTERVAL= poll_interval for every N instead of N/10 ms (e.g. 100ms
#                  to saturate ftmond on a machine where N/10 ms does not)
#   BASELINES=0    skip the Python pollers, wrk and the libcurl client in the
#                  rounds (with FTMOND_REF: a quick regression check only)
#   FTMOND_REF=    also run this ftmond (an earlier build) in every round,
#                  right after ftmond, labelled "ref": a regression check
#                  whose ratio is taken inside each round
#   BENCH_WORK=    work directory (default: a new /tmp/ftmon-bench.XXXXXX);
#                  fixtures and primed databases found there are reused
#   PORT=          nginx port (default: the first free one from 18080)
#   PYTHON=python3
#   RULES_AB=1     instead of the rounds above: the first pass (every job's
#                  first events page stored) with every built-in rule on
#                  against all of them off ([rule X] enabled = no), R
#                  interleaved rounds, the order alternating; see
#                  bench/README.md "Rules cost"
#   FIRSTPASS=1    instead: the first pass of ftmond (with the control
#                  socket pinged every 10 ms), of the naive Python poller
#                  and of SQLite's raw insert ceiling for the same rows, R
#                  interleaved rounds (with FTMOND_REF, that build too);
#                  see bench/README.md "First pass"
# Everything listens on 127.0.0.1 only; every process started here is
# stopped on exit.
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
R=${R:-3}
WINDOW=${WINDOW:-10}
WARMUP=${WARMUP:-3}
SWEEP=${SWEEP:-1}
SCENARIOS=${SCENARIOS:-static live}
BUILD_DIR=${BUILD_DIR:-/tmp/bench-build}
PYTHON=${PYTHON:-python3}
NS=("$@")
[ ${#NS[@]} -gt 0 ] || NS=(1000 10000)

PIDS=()         # every background process we started, stopped by cleanup

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Stop one process: TERM, up to $2 seconds (default 10), then KILL.
stop_pid() {
	local pid=$1 limit=${2:-10} i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < limit * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid did not stop in ${limit}s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do stop_pid "$p" 5; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tools and binaries ----

need_tools() {
	local missing=()
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
	command -v wrk >/dev/null || missing+=(wrk)
	if [ ${#missing[@]} -gt 0 ]; then
		[ "$(id -u)" = 0 ] || die "missing ${missing[*]}; run as root or install them"
		log "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 ||
			{ apt-get update -q >&2 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2; }
	fi
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
	"$PYTHON" -c 'import sqlite3' || die "$PYTHON has no sqlite3 module"
}

build() {
	if [ -n "${FTMOND:-}" ]; then
		FTMONCTL=${FTMONCTL:-$(dirname "$FTMOND")/ftmonctl}
		return
	fi
	mkdir -p "$BUILD_DIR"
	if [ ! -f "$BUILD_DIR/Makefile" ]; then
		log "configuring in $BUILD_DIR"
		(cd "$BUILD_DIR" && "$TOP/configure" -q) >&2 || die "configure failed"
	fi
	log "building ftmond and ftmonctl in $BUILD_DIR"
	make -C "$BUILD_DIR" -s -j2 ftmond ftmonctl >&2 || die "build failed"
	FTMOND=$BUILD_DIR/ftmond
	FTMONCTL=$BUILD_DIR/ftmonctl
}

# The plain libcurl reference client, built like ftmond (-O2).
build_curlmulti() {
	CURLMULTI=$WORK/curlmulti
	# shellcheck disable=SC2046
	cc -O2 -o "$CURLMULTI" "$HERE/curlmulti.c" $(pkg-config --cflags --libs libcurl) ||
		die "could not build bench/curlmulti.c"
}

# ---- nginx ----

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_nginx() {
	local i
	if [ -z "${PORT:-}" ]; then
		for ((PORT = 18080; PORT < 18100; PORT++)); do port_free "$PORT" && break; done
	fi
	port_free "$PORT" || die "port $PORT is in use"
	mkdir -p "$WORK/nginx-tmp"
	sed -e "s|@WORK@|$WORK|g" -e "s|@ROOT@|$WORK/www|g" -e "s|@PORT@|$PORT|g" \
		"$HERE/nginx.conf.in" >"$WORK/nginx.conf"
	"$NGINX" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" -p "$WORK" \
		>"$WORK/nginx.out" 2>&1 &
	NGINX_PID=$!
	PIDS+=("$NGINX_PID")
	for ((i = 0; i < 50; i++)); do
		port_free "$PORT" || break
		kill -0 "$NGINX_PID" 2>/dev/null || { cat "$WORK/nginx.out" "$WORK/nginx-error.log" >&2; die "nginx did not start"; }
		sleep 0.1
	done
	BASE=http://127.0.0.1:$PORT/v1
	LIVE_BASE=http://127.0.0.1:$PORT/live/v1
	log "nginx (pid $NGINX_PID) serving $WORK/www on $BASE"
}

fixtures() {
	local max=0 n
	for n in "${NS[@]}"; do if ((n > max)); then max=$n; fi; done
	# .version: the fixtures' layout (2: pages honour limit and after).
	if [ -f "$WORK/www/.jobs" ] && [ "$(cat "$WORK/www/.version" 2>/dev/null)" = 2 ] &&
		[ "$(cat "$WORK/www/.jobs")" -ge "$max" ]; then
		log "reusing fixtures for $(cat "$WORK/www/.jobs") jobs"
		return
	fi
	log "writing fixtures for $max jobs"
	rm -rf "$WORK/www" "$WORK"/[0-9]*/*-primed.db
	"$PYTHON" "$HERE/gen_fixtures.py" "$WORK/www" "$max"
	echo "$max" >"$WORK/www/.jobs"
	echo 2 >"$WORK/www/.version"
}

# ---- ftmond ----

# write_conf DIR INTERVAL [BASE_URL]
write_conf() {
	cat >"$1/ftmon.conf" <<EOF
[daemon]
database = $1/ftmon.db
socket = $1/ctl.sock
log_level = warning

[source openai]
type = openai
base_url = ${3:-$BASE}
api_key_env = BENCH_KEY
discover = no
poll_interval = $2
max_connections = 8
timeout = 30s
EOF
}

ctl_status() { "$FTMONCTL" -s "$1/ctl.sock" --json status 2>/dev/null; }
# The first "requests"/"errors" in `status` are the only source's.
json_num() { grep -o "\"$1\": *[0-9.e+]*" | head -1 | cut -d: -f2 | tr -d ' '; }

# start_ftmond DIR: sets FT_PID, waits until the socket answers.
start_ftmond() {
	local i
	rm -f "$1/ctl.sock"
	BENCH_KEY=sk-bench "${RUN_FTMOND:-$FTMOND}" -c "$1/ftmon.conf" >>"$1/ftmond.log" 2>&1 &
	FT_PID=$!
	PIDS+=("$FT_PID")
	for ((i = 0; i < 100; i++)); do
		ctl_status "$1" >/dev/null && return 0
		kill -0 "$FT_PID" 2>/dev/null || { cat "$1/ftmond.log" >&2; die "ftmond exited"; }
		sleep 0.1
	done
	die "ftmond did not answer on $1/ctl.sock"
}

stop_ftmond() {
	stop_pid "$FT_PID" 20
	forget_pid "$FT_PID"
	FT_PID=
}

sql() { "$PYTHON" - "$@" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cur = db.execute(sys.argv[2], sys.argv[3:])
for row in cur:
    print(*row)
db.commit()
EOF
}

# prime_ftmond N: a database with N running jobs whose first events page
# is stored (cursor set), kept as $WORK/N/ftmond-primed.db.
prime_ftmond() {
	local n=$1 dir=$WORK/$1/prime t0 left gone i
	if [ -f "$WORK/$n/ftmond-primed.db" ]; then
		log "N=$n: reusing primed ftmond database"
		cat "$WORK/$n/prime-ftmond.txt" >>"$WORK/results.txt" 2>/dev/null || true
		return
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	write_conf "$dir" "$(interval_for "$n")"
	start_ftmond "$dir" # creates the schema
	stop_ftmond
	"$PYTHON" - "$dir/ftmon.db" "$n" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time())
db.executemany("INSERT INTO jobs (source, external_id, status, discovered_at, updated_at,"
               " tracked) VALUES ('openai', ?, 'running', ?, ?, 1)",
               [("ftjob-%06d" % k, now, now) for k in range(1, int(sys.argv[2]) + 1)])
db.commit()
EOF
	t0=$(date +%s.%N)
	start_ftmond "$dir"
	for ((i = 0; i < 1200; i++)); do
		sleep 1
		left=$(sql "$dir/ftmon.db" "SELECT count(*) FROM jobs WHERE event_cursor IS NULL")
		[ "$left" = 0 ] && break
		gone=$(sql "$dir/ftmon.db" "SELECT count(*) FROM jobs WHERE status = 'missing'")
		[ "$gone" = 0 ] || die "N=$n: $gone jobs got a 404 (see $WORK/nginx-error.log)"
	done
	[ "$left" = 0 ] || die "N=$n: ftmond did not store every job's events in 20 min"
	PRIME_FT_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
	sleep 1
	stop_ftmond
	[ ! -s "$dir/ftmon.db-wal" ] || die "N=$n: WAL left after ftmond stopped"
	cp "$dir/ftmon.db" "$WORK/$n/ftmond-primed.db"
	log "N=$n: ftmond stored the first page of $n jobs in ${PRIME_FT_S}s (<= 1 s resolution)"
	echo "prime ftmond $n $PRIME_FT_S" | tee "$WORK/$n/prime-ftmond.txt" >>"$WORK/results.txt"
}

prime_py() {
	local n=$1 out
	if [ -f "$WORK/$n/py-primed.db" ]; then
		log "N=$n: reusing primed pypoller database"
		cat "$WORK/$n/prime-py.txt" >>"$WORK/results.txt" 2>/dev/null || true
		return
	fi
	rm -f "$WORK/$n/py-prime.db"*
	out=$("$PYTHON" "$HERE/pypoller.py" --base-url "$BASE" --db "$WORK/$n/py-prime.db" \
		--jobs "$n" --prime)
	mv "$WORK/$n/py-prime.db" "$WORK/$n/py-primed.db"
	rm -f "$WORK/$n/py-prime.db"*
	log "N=$n: pypoller primed: $out"
	echo "prime pypoller $n $(echo "$out" | json_num seconds)" |
		tee "$WORK/$n/prime-py.txt" >>"$WORK/results.txt"
}

# poll_interval for N jobs: N/10 ms (>= 100 ms), i.e. 10,000 job polls/s
# asked for, far above what one ftmond can do here: saturated.
interval_for() {
	[ -n "${POLL_INTERVAL:-}" ] && { echo "$POLL_INTERVAL"; return; }
	local ms=$(($1 / 10))
	((ms < 100)) && ms=100
	echo "${ms}ms"
}

base_of() { if [ "$1" = live ]; then echo "$LIVE_BASE"; else echo "$BASE"; fi; }

# Job polls so far: nginx logs one line per job-object request, nothing else.
job_polls() { wc -l <"$WORK/jobpolls.log"; }

# The live pages wrap at the top of the hour (the newest step jumps back
# 3599 steps); keep live runs away from it.
avoid_hour_wrap() {
	local now left
	now=$(date +%M:%S)
	left=$((3600 - 10#${now%:*} * 60 - 10#${now#*:}))
	if ((left < 150)); then
		log "waiting ${left}s for the hour to turn (live pages wrap there)"
		sleep $((left + 3))
	fi
}

# live_cursor DB: every job's cursor on the live history's newest event of
# this second, as if ftmond had polled it a moment ago.  The primed cursor
# is an event of the static pages, which the live history does not hold:
# the first poll would walk the whole live history (3,700 events a job,
# now that after= pages are real) and the window would measure that
# backfill instead of live polling.
live_cursor() {
	local page id
	page="$WORK/www/live/$(date +%M%S).json"
	id=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["data"][0]["id"])' "$page")
	sql "$1" "UPDATE jobs SET event_cursor = ?" "$id" >/dev/null
}

# cpu_stat: "busy steal total" ticks of the whole machine, from /proc/stat.
cpu_stat() { awk '/^cpu / {t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, $9, t}' /proc/stat; }

# run_ftmond LABEL SCENARIO N INTERVAL: one measured run on a copy of the
# primed database.  Appends "LABEL-SCENARIO N INTERVAL req/s cpu_s polls
# cpu_s_per_1000_polls hwm_kb rss_kb machine_busy% steal% warmup_s".
run_ftmond() {
	local label=$1 scen=$2 n=$3 iv=$4 dir=$WORK/$3/run tck i
	local r0 r1 c0 c1 t0 t1 p0 p1 s0 s1 ts hwm rss err
	[ "$scen" = live ] && avoid_hour_wrap
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$WORK/$n/ftmond-primed.db" "$dir/ftmon.db"
	[ "$scen" = live ] && live_cursor "$dir/ftmon.db"
	write_conf "$dir" "$iv" "$(base_of "$scen")"
	: >"$WORK/jobpolls.log"
	ts=$(date +%s.%N)
	start_ftmond "$dir"
	# Warm: every job polled once by this process, and WARMUP seconds.
	sleep "$WARMUP"
	for ((i = 0; i < 3000; i++)); do
		(($(job_polls) >= n)) && break
		sleep 0.1
	done
	(($(job_polls) >= n)) || log "warning: only $(job_polls) of $n jobs polled in the warm-up"
	tck=$(getconf CLK_TCK)
	r0=$(ctl_status "$dir" | json_num requests)
	p0=$(job_polls)
	c0=$(awk '{print $14 + $15}' "/proc/$FT_PID/stat")
	s0=$(cpu_stat)
	t0=$(date +%s.%N)
	sleep "$WINDOW"
	r1=$(ctl_status "$dir" | json_num requests)
	p1=$(job_polls)
	c1=$(awk '{print $14 + $15}' "/proc/$FT_PID/stat")
	s1=$(cpu_stat)
	t1=$(date +%s.%N)
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$FT_PID/status")
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$FT_PID/status")
	err=$(ctl_status "$dir" | json_num errors)
	stop_ftmond
	[ "${err:-0}" = 0 ] || log "warning: ftmond counted $err errors (see $dir/ftmond.log)"
	if [ "$scen" = static ] &&
		[ "$(sql "$WORK/$n/ftmond-primed.db" "SELECT count(*) FROM points")" != \
		  "$(sql "$dir/ftmon.db" "SELECT count(*) FROM points")" ]; then
		log "warning: static pages, yet the run stored new points"
	fi
	awk -v l="$label-$scen" -v n="$n" -v iv="$iv" -v r0="$r0" -v r1="$r1" -v c0="$c0" \
		-v c1="$c1" -v p0="$p0" -v p1="$p1" -v t0="$t0" -v t1="$t1" -v ts="$ts" \
		-v tck="$tck" -v hwm="$hwm" -v rss="$rss" -v s0="$s0" -v s1="$s1" 'BEGIN {
		req = r1 - r0; cpu = (c1 - c0) / tck; polls = p1 - p0
		split(s0, a); split(s1, b); tot = b[3] - a[3]
		printf "%s %d %s %.1f %.2f %d %.5f %d %d %.1f %.1f %.1f\n", l, n, iv, req / (t1 - t0),
			cpu, polls, polls ? cpu / polls * 1000 : 0, hwm, rss,
			100 * (b[1] - a[1]) / tot, 100 * (b[2] - a[2]) / tot, t0 - ts }' |
		tee -a "$WORK/results.txt" >&2
}

# run_py MODE SCENARIO N: MODE naive or tuned.
run_py() {
	local mode=$1 scen=$2 n=$3 db=$WORK/$3/py-run.db out flags=()
	[ "$mode" = tuned ] && flags+=(--tuned)
	# Tuned keeps a cursor: on live pages the primed one is stale.
	[ "$mode-$scen" = tuned-live ] && flags+=(--warmup-pass)
	[ "$scen" = live ] && avoid_hour_wrap
	rm -f "$db"*
	cp "$WORK/$n/py-primed.db" "$db"
	out=$("$PYTHON" "$HERE/pypoller.py" --base-url "$(base_of "$scen")" --db "$db" \
		--jobs "$n" --duration "$WINDOW" "${flags[@]}")
	echo "py-$mode-$scen $n - $(echo "$out" | json_num req_per_s)" \
		"$(echo "$out" | json_num cpu_s) $(echo "$out" | json_num polls)" \
		"$(echo "$out" | json_num cpu_s_per_1000_polls)" \
		"$(echo "$out" | json_num vmhwm_kb) $(echo "$out" | json_num vmrss_kb)" |
		tee -a "$WORK/results.txt" >&2
}

# run_curlmulti N: the plain libcurl client on ftmond's URL mix, same
# connection count.
run_curlmulti() {
	local out
	out=$("$CURLMULTI" "$BASE" "$1" "$WINDOW" 8)
	echo "curl-static $1 - $(echo "$out" | json_num req_per_s) $(echo "$out" | json_num cpu_s)" \
		"$(echo "$out" | json_num us_per_req) $(echo "$out" | json_num connects)" |
		tee -a "$WORK/results.txt" >&2
}

# run_wrk KIND N URL
run_wrk() {
	local rps
	rps=$(wrk -t2 -c8 -d"${WINDOW}s" "$3" | awk '/^Requests\/sec:/ {print $2}')
	echo "wrk-$1 $2 - $rps" | tee -a "$WORK/results.txt" >&2
}

machine() {
	{
		echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "nproc: $(nproc)"
		echo "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
		echo "mem: $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
		echo "kernel: $(uname -r)"
		echo "nginx: $("$NGINX" -v 2>&1 | sed 's/.*version: //')"
		echo "wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
		echo "python: $("$PYTHON" -c 'import sys, sqlite3; print(sys.version.split()[0], "sqlite", sqlite3.sqlite_version)')"
		echo "libcurl: $(pkg-config --modversion libcurl 2>/dev/null || echo '?')"
		echo "ftmond: $FTMOND ($("$FTMOND" --version 2>/dev/null))"
		echo "git: $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$TOP" diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes')"
		echo "R=$R WINDOW=${WINDOW}s WARMUP=${WARMUP}s N=${NS[*]} SCENARIOS=$SCENARIOS"
	} | tee "$WORK/machine.txt" >&2
}

# ---- rules cost: the first pass with the rules on and off ----

RULES_OFF="[rule nan]
enabled = no
[rule divergence]
enabled = no
[rule spike]
enabled = no
[rule stale]
enabled = no"

# first_pass VARIANT N [LABEL]: a fresh database with N running jobs,
# ftmond run until every job's first events page is stored; appends
# "LABEL N wall_s cpu_s points alerts" (LABEL: rules-VARIANT), and with
# PINGER=1 "ping median_ms p99_ms max_ms count" of the control socket meanwhile.
first_pass() {
	local v=$1 n=$2 dir=$WORK/$2/ab-$1 t0 t1 c1 tck pts al i ping_pid= pings=
	rm -rf "$dir"
	mkdir -p "$dir"
	write_conf "$dir" "$(interval_for "$n")"
	[ "$v" = off ] && printf '\n%s\n' "$RULES_OFF" >>"$dir/ftmon.conf"
	start_ftmond "$dir" # creates the schema
	stop_ftmond
	sqlite3 "$dir/ftmon.db" "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k
		WHERE i < $n) INSERT INTO jobs (source, external_id, status, discovered_at,
		updated_at, tracked) SELECT 'openai', printf('ftjob-%06d', i), 'running',
		strftime('%s'), strftime('%s'), 1 FROM k"
	tck=$(getconf CLK_TCK)
	t0=$(date +%s.%N)
	start_ftmond "$dir"
	if [ "${PINGER:-0}" != 0 ]; then
		"$PYTHON" "$HERE/pinger.py" "$dir/ctl.sock" 10 >"$dir/pings.txt" &
		ping_pid=$!
		PIDS+=("$ping_pid")
	fi
	for ((i = 0; i < 12000; i++)); do
		[ "$(sqlite3 "$dir/ftmon.db" "SELECT count(*) FROM jobs WHERE event_cursor IS NULL")" = 0 ] && break
		sleep 0.1
	done
	t1=$(date +%s.%N)
	c1=$(awk '{print $14 + $15}' "/proc/$FT_PID/stat")
	if [ -n "$ping_pid" ]; then
		stop_pid "$ping_pid" 10
		forget_pid "$ping_pid"
		pings=$(cat "$dir/pings.txt")
	fi
	stop_ftmond
	pts=$(sqlite3 "$dir/ftmon.db" "SELECT count(*) FROM points")
	al=$(sqlite3 "$dir/ftmon.db" "SELECT count(*) FROM alerts")
	echo "${3:-rules-$v} $n $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') \
$(awk -v c="$c1" -v t="$tck" 'BEGIN {printf "%.2f", c / t}') $pts $al${pings:+ ping $pings}" |
		tee -a "$WORK/results.txt" >&2
}

# ---- the first pass against the naive Python poller and SQLite's ceiling ----

# firstpass_py N: the naive pypoller's pass over N fresh jobs.
firstpass_py() {
	local n=$1 db=$WORK/$1/py-first.db out
	rm -f "$db"*
	out=$("$PYTHON" "$HERE/pypoller.py" --base-url "$BASE" --db "$db" --jobs "$n" --prime)
	echo "py-naive-first $n $(echo "$out" | json_num seconds)" | tee -a "$WORK/results.txt" >&2
}

# firstpass_ceiling N: the raw SQLite ceiling for the same rows, one page
# (98 steps x 4 metrics) per transaction, job after job.
firstpass_ceiling() {
	rm -f "$WORK/ceiling.db"*
	echo "ceiling-first $1 $("$CEILING" "$WORK/ceiling.db" 98 4 392 "$1" | cut -d' ' -f2-)" |
		tee -a "$WORK/results.txt" >&2
	rm -f "$WORK/ceiling.db"*
}

firstpass_rounds() {
	local n r
	cc -O2 -o "$WORK/sqlite_ceiling" "$HERE/sqlite_ceiling.c" -lsqlite3 ||
		die "could not build bench/sqlite_ceiling.c"
	CEILING=$WORK/sqlite_ceiling
	for ((r = 1; r <= R; r++)); do
		log "first-pass round $r/$R (load $(cut -d' ' -f1-3 /proc/loadavg))"
		for n in "${NS[@]}"; do
			echo "round $r load $(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/results.txt"
			PINGER=1 first_pass on "$n" ftmond-first
			if [ -n "${FTMOND_REF:-}" ]; then
				PINGER=1 RUN_FTMOND=$FTMOND_REF first_pass on "$n" ref-first
			fi
			firstpass_py "$n"
			firstpass_ceiling "$n"
		done
	done
	"$PYTHON" "$HERE/summarize.py" --first-pass "$WORK/results.txt"
}

rules_ab() {
	local n r
	for ((r = 1; r <= R; r++)); do
		log "rules round $r/$R (load $(cut -d' ' -f1-3 /proc/loadavg))"
		for n in "${NS[@]}"; do
			echo "round $r load $(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/results.txt"
			if ((r % 2)); then
				first_pass on "$n"
				first_pass off "$n"
			else
				first_pass off "$n"
				first_pass on "$n"
			fi
		done
	done
	# Per round, on/off of wall and CPU seconds; medians per N.
	"$PYTHON" - "$WORK/results.txt" <<'EOF2'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[0] == "round":
        rnd = f[1]
    elif f and f[0] in ("rules-on", "rules-off"):
        runs.setdefault((int(f[1]), rnd), {})[f[0]] = [float(x) for x in f[2:]]
print("| N | wall s on | wall s off | wall on/off | CPU s on | CPU s off | CPU on/off | points | alerts on |")
print("|---|---|---|---|---|---|---|---|---|")
for n in sorted({k[0] for k in runs}):
    rs = [v for k, v in runs.items() if k[0] == n and len(v) == 2]
    med = lambda xs: statistics.median(xs)
    rw = [v["rules-on"][0] / v["rules-off"][0] for v in rs]
    rc = [v["rules-on"][1] / v["rules-off"][1] for v in rs]
    print("| %d | %.2f | %.2f | %.3f [%.3f-%.3f] | %.2f | %.2f | %.3f [%.3f-%.3f] | %d | %d |" % (
        n, med([v["rules-on"][0] for v in rs]), med([v["rules-off"][0] for v in rs]),
        med(rw), min(rw), max(rw), med([v["rules-on"][1] for v in rs]),
        med([v["rules-off"][1] for v in rs]), med(rc), min(rc), max(rc),
        rs[0]["rules-on"][2], rs[0]["rules-on"][3]))
EOF2
}

main() {
	local n r iv scen
	need_tools
	build
	WORK=${BENCH_WORK:-$(mktemp -d /tmp/ftmon-bench.XXXXXX)}
	mkdir -p "$WORK"
	chmod 755 "$WORK" # nginx workers run unprivileged
	: >"$WORK/results.txt"
	log "work directory $WORK"
	machine
	if [ "${RULES_AB:-0}" != 0 ]; then
		fixtures
		start_nginx
		rules_ab | tee "$WORK/results.md"
		return
	fi
	if [ "${FIRSTPASS:-0}" != 0 ]; then
		fixtures
		start_nginx
		firstpass_rounds | tee "$WORK/results.md"
		return
	fi
	build_curlmulti
	fixtures
	start_nginx
	for n in "${NS[@]}"; do
		mkdir -p "$WORK/$n"
		prime_ftmond "$n"
		prime_py "$n"
	done
	if [ "$SWEEP" != 0 ]; then
		for n in "${NS[@]}"; do
			local base ms
			base=$(interval_for "$n" | tr -d ms)
			# From well below ftmond's capacity to past the chosen
			# interval: the rate must grow, then stay flat.
			for ms in $((base * 20)) $((base * 10)) $((base * 5)) $((base * 2)) \
				"$base" $((base / 2)); do
				if ((ms >= 100)); then run_ftmond sweep static "$n" "${ms}ms"; fi
			done
		done
	fi
	for ((r = 1; r <= R; r++)); do
		log "round $r/$R (load $(cut -d' ' -f1-3 /proc/loadavg))"
		for n in "${NS[@]}"; do
			iv=$(interval_for "$n")
			echo "round $r" >>"$WORK/results.txt"
			for scen in $SCENARIOS; do
				run_ftmond ftmond "$scen" "$n" "$iv"
				if [ -n "${FTMOND_REF:-}" ]; then
					RUN_FTMOND=$FTMOND_REF run_ftmond ref "$scen" "$n" "$iv"
				fi
				[ "${BASELINES:-1}" = 0 ] && continue
				run_py naive "$scen" "$n"
				run_py tuned "$scen" "$n"
			done
			[ "${BASELINES:-1}" = 0 ] && continue
			run_wrk job "$n" "$BASE/fine_tuning/jobs/ftjob-000001"
			run_wrk events "$n" "$BASE/fine_tuning/jobs/ftjob-000001/events?limit=100"
			run_curlmulti "$n"
		done
	done
	stop_pid "$NGINX_PID" 10
	forget_pid "$NGINX_PID"
	"$PYTHON" "$HERE/summarize.py" "$WORK/results.txt" "$WORK/machine.txt" | tee "$WORK/results.md"
	log "raw figures in $WORK/results.txt, table in $WORK/results.md"
}

main
