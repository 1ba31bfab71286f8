# Shared helpers for the bats tests of src/scripts. Every server listens on
# 127.0.0.1 only; every file lives under the test's own temporary directory.

# shellcheck disable=SC2034 # used by the tests that load this file
SCRIPTS="$(cd "${BATS_TEST_DIRNAME}/../scripts" && pwd)"

# isolate gives the test its own HOME, BASH_ENV and PATH shim directory.
isolate() {
  export HOME="${BATS_TEST_TMPDIR}/home"
  mkdir -p "$HOME"
  unset XDG_CACHE_HOME ORB_CACHE_DIR GRAVITON_CD_BIN
  export TMPDIR="${BATS_TEST_TMPDIR}/tmp"
  mkdir -p "$TMPDIR"
  export BASH_ENV="${BATS_TEST_TMPDIR}/bash_env"
  : >"$BASH_ENV"
  SHIMS="${BATS_TEST_TMPDIR}/shims"
  mkdir -p "$SHIMS"
  export PATH="${SHIMS}:${PATH}"
}

# fake_uname makes `uname -s` print $1 and `uname -m` print $2.
fake_uname() {
  cat >"${SHIMS}/uname" <<SHIM
#!/bin/sh
case "\$1" in
  -s) echo "$1" ;;
  -m) echo "$2" ;;
  *) echo "$1" ;;
esac
SHIM
  chmod +x "${SHIMS}/uname"
}

# fake_release ROOT VERSION lays out a release as goreleaser publishes it:
# ROOT/vVERSION/graviton-cd_<os>_<arch> (a script that names itself) and
# checksums.txt in sha256sum format.
fake_release() {
  local dir="$1/v$2" os arch
  mkdir -p "$dir"
  for os in linux darwin; do
    for arch in amd64 arm64; do
      printf '#!/bin/sh\necho "graviton-cd fake %s_%s $*"\n' "$os" "$arch" >"${dir}/graviton-cd_${os}_${arch}"
      chmod +x "${dir}/graviton-cd_${os}_${arch}"
    done
  done
  (cd "$dir" && sha256sum graviton-cd_* >checksums.txt)
}

# start_server ROOT serves ROOT on a free port of 127.0.0.1 and sets
# SERVER_URL, SERVER_PID and SERVER_LOG (the access log).
start_server() {
  SERVER_LOG="${BATS_TEST_TMPDIR}/server.log"
  # The log exists before the server's shell gets to open it, so the wait
  # below never reads a missing file.
  : >"$SERVER_LOG"
  python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$1" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  local port="" _
  for _ in $(seq 1 400); do
    port="$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9]*\).*/\1/p' "$SERVER_LOG" || true)"
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "server did not start: $(cat "$SERVER_LOG")" >&2; return 1; }
  # shellcheck disable=SC2034 # used by the tests that load this file
  SERVER_URL="http://127.0.0.1:${port}"
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

# requests PATTERN counts GET requests in the access log whose path matches.
requests() {
  grep -c "\"GET [^ ]*$1" "$SERVER_LOG" || true
}
