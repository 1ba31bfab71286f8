#!/usr/bin/env bash
# Run a command with the local real stack ready: the tool settings from
# `make tools` in the environment and moto answering on 127.0.0.1. Stops moto
# afterwards if (and only if) this script started it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${GRAVITON_CD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/graviton-cd}
[ -f "$cache/local-stack.env" ] || bash "$here/tools.sh"
set -a
# shellcheck source=/dev/null
. "$cache/local-stack.env"
set +a
out=$(bash "$here/moto.sh" start 2>&1) || { echo "$out" >&2; exit 1; }
echo "$out" >&2
started=
case "$out" in *reusing*) ;; *) started=1 ;; esac
cleanup() { if [ -n "$started" ]; then bash "$here/moto.sh" stop; fi; }
trap cleanup EXIT
GRAVITON_CD_TEST_MOTO_URL=$(bash "$here/moto.sh" url)
export GRAVITON_CD_TEST_MOTO_URL
"$@"
