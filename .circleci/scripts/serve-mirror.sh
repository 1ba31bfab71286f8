#!/usr/bin/env bash
# Lays out binaries as a graviton-cd release (<root>/v<version>/graviton-cd_<os>_<arch>
# and checksums.txt) and serves it on 127.0.0.1:<port> in the background, with
# an access log in /tmp/mirror.log, for the install command's integration job.
# Usage: serve-mirror.sh BIN_DIR VERSION PORT
set -euo pipefail

bin_dir="$1" version="$2" port="$3"
if ! command -v python3 >/dev/null 2>&1; then
  sudo apt-get update -qq && sudo apt-get install -y -qq python3-minimal
fi
root="$(mktemp -d)"
mkdir -p "${root}/v${version}"
cp "$bin_dir"/graviton-cd_* "${root}/v${version}/"
(cd "${root}/v${version}" && sha256sum graviton-cd_* >checksums.txt)
nohup python3 -m http.server "$port" --bind 127.0.0.1 --directory "$root" >/tmp/mirror.log 2>&1 &
for _ in $(seq 1 50); do
  if curl --silent --fail --output /dev/null "http://127.0.0.1:${port}/v${version}/checksums.txt"; then
    exit 0
  fi
  sleep 0.1
done
echo "mirror did not start on 127.0.0.1:${port}" >&2
exit 1
