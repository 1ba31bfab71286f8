#!/usr/bin/env bash
# Installs the graviton-cd step binary for this machine's OS and CPU, verified
# against its SHA-256, cached by version, and puts it on PATH for later steps.
#
# Inputs (environment, set by the orb's install command):
#   ORB_VERSION             release to install, e.g. 1.2.3 (a leading v is fine)
#   ORB_BASE_URL            where releases live: <base>/v<version>/<asset>
#   ORB_BINARY_PATH         a local binary to use as is instead (no download, no checksum)
#   ORB_EMBEDDED_VERSION    release whose checksums were embedded when the orb was packed
#   ORB_EMBEDDED_CHECKSUMS  those checksums, in sha256sum format
#   ORB_CACHE_DIR           cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/graviton-cd)
#   BASH_ENV                file that later CircleCI steps source (PATH and GRAVITON_CD_BIN go here)
set -euo pipefail

tmp=""
CACHE_ROOT="${ORB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/graviton-cd}"

log() { printf 'graviton-cd install: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# detect_platform prints <os>_<arch> in the release's asset naming.
detect_platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) die "unsupported OS $(uname -s): releases exist for Linux and Darwin; pass binary_path to use your own build" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "unsupported CPU $(uname -m): releases exist for x86_64/amd64 and aarch64/arm64; pass binary_path to use your own build" ;;
  esac
  printf '%s_%s\n' "$os" "$arch"
}

# sha256_of prints the hex SHA-256 of a file with whichever tool the image has.
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{print $1}'
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | awk '{print $1}'
  else
    die "neither sha256sum nor shasum is installed: one is needed to verify the download"
  fi
}

# expected_sum prints the checksum listed for asset $2 in sha256sum-format text $1.
expected_sum() {
  printf '%s\n' "$1" | awk -v name="$2" '{ f = $2; sub(/^\*/, "", f) } f == name { print tolower($1); exit }'
}

# A stalled download (under 1 KiB/s for a minute) is abandoned and retried,
# so the step fails with a message long before no_output_timeout kills it.
fetch() {
  curl --fail --silent --show-error --location \
    --retry 5 --retry-delay 2 --retry-connrefused --connect-timeout 20 \
    --speed-limit 1024 --speed-time 60 --max-time 600 \
    --output "$2" "$1"
}

# publish makes the binary at $1 the one later steps run: GRAVITON_CD_BIN names
# it, and a directory on PATH holds it as graviton-cd.
publish() {
  local bin="$1" dir
  dir="$(dirname "$bin")"
  if [ "$(basename "$bin")" != graviton-cd ]; then
    dir="${CACHE_ROOT}/binary_path"
    mkdir -p "$dir"
    ln -sfn "$bin" "${dir}/graviton-cd"
  fi
  if [ -n "${BASH_ENV:-}" ]; then
    {
      printf 'export GRAVITON_CD_BIN=%q\n' "$bin"
      # $PATH is expanded when a later step sources BASH_ENV, not now.
      # shellcheck disable=SC2016
      printf 'export PATH=%q:"$PATH"\n' "$dir"
    } >>"$BASH_ENV"
  fi
  log "using $bin ($("$bin" version 2>/dev/null || echo 'version unknown'))"
}

main() {
  if [ -n "${ORB_BINARY_PATH:-}" ]; then
    [ -f "$ORB_BINARY_PATH" ] || die "binary_path $ORB_BINARY_PATH does not exist"
    [ -x "$ORB_BINARY_PATH" ] || die "binary_path $ORB_BINARY_PATH is not executable: chmod +x it first"
    local abs
    abs="$(cd "$(dirname "$ORB_BINARY_PATH")" && pwd)/$(basename "$ORB_BINARY_PATH")"
    log "binary_path is set: using $abs as is, without download or checksum"
    publish "$abs"
    return
  fi

  local version="${ORB_VERSION#v}"
  [ -n "$version" ] || die "no version given: set the version parameter (e.g. 1.2.3)"
  [ -n "${ORB_BASE_URL:-}" ] || die "no base_url given: set it to the releases URL or a mirror"
  command -v curl >/dev/null 2>&1 || die "curl is not installed: use an image with curl (cimg/base has it) or pass binary_path"

  local platform asset dir bin
  platform="$(detect_platform)"
  asset="graviton-cd_${platform}"
  dir="${CACHE_ROOT}/${version}/${platform}"
  bin="${dir}/graviton-cd"

  # A cache hit still re-hashes the file against the sum recorded when it was
  # verified, so a truncated or altered cache is caught without the network.
  if [ -x "$bin" ] && [ -f "${bin}.sha256" ]; then
    if [ "$(sha256_of "$bin")" = "$(cat "${bin}.sha256")" ]; then
      log "cache hit: $bin (v${version}, ${platform})"
      publish "$bin"
      return
    fi
    log "cached binary does not match its recorded checksum: downloading again"
    rm -f "$bin" "${bin}.sha256"
  fi

  mkdir -p "$dir"
  local base="${ORB_BASE_URL%/}/v${version}" sums want got
  if [ "${ORB_EMBEDDED_VERSION:-}" = "$version" ] && [ -n "${ORB_EMBEDDED_CHECKSUMS:-}" ]; then
    log "verifying against the checksums embedded in the orb for v${version}"
    sums="$ORB_EMBEDDED_CHECKSUMS"
  else
    local sums_file="${dir}/checksums.txt.download"
    fetch "${base}/checksums.txt" "$sums_file" || { rm -f "$sums_file"; die "download ${base}/checksums.txt failed"; }
    sums="$(cat "$sums_file")"
    rm -f "$sums_file"
  fi
  want="$(expected_sum "$sums" "$asset")"
  [ -n "$want" ] || die "no checksum listed for ${asset} in v${version}'s checksums: refusing to install an unverified binary"

  tmp="$(mktemp "${dir}/.download.XXXXXX")"
  # An interrupted or failed download never leaves a partial file behind.
  trap 'rm -f "$tmp"' EXIT
  log "downloading ${base}/${asset}"
  fetch "${base}/${asset}" "$tmp" || { rm -f "$tmp"; die "download ${base}/${asset} failed"; }
  got="$(sha256_of "$tmp")"
  if [ "$got" != "$want" ]; then
    rm -f "$tmp"
    die "checksum mismatch for ${asset} v${version}: expected ${want}, got ${got}. The file was removed and NOT installed; check base_url points at a genuine release or mirror"
  fi
  chmod 0755 "$tmp"
  mv -f "$tmp" "$bin"
  trap - EXIT
  printf '%s\n' "$want" >"${bin}.sha256"
  log "verified sha256 ${want}"
  publish "$bin"
}

main "$@"
