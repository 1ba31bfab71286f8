#!/usr/bin/env bash
# Start or stop moto_server on 127.0.0.1 for the local real stack.
#   moto.sh start   start in the background (or reuse ours), wait until it answers, record its pid
#   moto.sh stop    stop the pid we recorded, and only that
#   moto.sh url     print the endpoint URL
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/versions.env"
port=${GRAVITON_CD_MOTO_PORT:-$MOTO_PORT}
cache=${GRAVITON_CD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/graviton-cd}
mkdir -p "$cache"
pidfile="$cache/moto-$port.pid"
logfile="$cache/moto-$port.log"
url="http://127.0.0.1:$port"
log() { printf '%s moto: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

# /moto-api/ is cheap; data.json serializes every resource and slows down as state grows.
answers() { curl -fsS -o /dev/null --max-time 5 "$url/moto-api/" 2>/dev/null; }
ours_running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

start() {
	# Two callers starting at once must not race for the port.
	exec 8>"$cache/moto-$port.lock"
	flock 8
	if ours_running && answers; then log "reusing moto already running at $url (pid $(cat "$pidfile"))"; return; fi
	if answers; then
		log "reusing a moto that answers at $url but was not started by this script (it is left running)"
		return
	fi
	command -v moto_server >/dev/null || { log "moto_server not found on PATH"; exit 1; }
	# Without managed policies loaded, attaching AWS-managed IAM policies fails in moto.
	MOTO_IAM_LOAD_MANAGED_POLICIES=true nohup moto_server -H 127.0.0.1 -p "$port" >"$logfile" 2>&1 8>&- &
	echo $! >"$pidfile"
	for _ in $(seq 1 120); do
		if answers; then log "started at $url (pid $(cat "$pidfile"), log $logfile)"; return; fi
		if ! ours_running; then log "moto_server exited; its log:"; tail -n 20 "$logfile" >&2; exit 1; fi
		sleep 0.5
	done
	log "moto_server did not answer within 60 s; its log is $logfile"
	exit 1
}

stop() {
	if ! [ -f "$pidfile" ]; then log "not running (no pid file)"; return; fi
	local pid
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
		log "stopped pid $pid"
	fi
	rm -f "$pidfile"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
url) echo "$url" ;;
*) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
