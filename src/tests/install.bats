#!/usr/bin/env bats
# Variables exported inside a @test stay in its subshell by design.
# shellcheck disable=SC2030,SC2031
# The install command's script: platform mapping, checksum verification,
# cache, binary_path, against fake releases served on 127.0.0.1.

load helpers/common

VERSION=1.2.3

setup() {
  isolate
  RELEASES="${BATS_TEST_TMPDIR}/releases"
  fake_release "$RELEASES" "$VERSION"
  start_server "$RELEASES"
  export ORB_VERSION="$VERSION" ORB_BASE_URL="$SERVER_URL" ORB_BINARY_PATH="" \
    ORB_EMBEDDED_VERSION="" ORB_EMBEDDED_CHECKSUMS=""
  fake_uname Linux x86_64
}

teardown() {
  stop_server
}

install() {
  run bash "${SCRIPTS}/install.sh"
}

# installed runs graviton-cd the way a later CircleCI step would: BASH_ENV sourced.
installed() {
  run bash -c 'graviton-cd version && echo "bin=$GRAVITON_CD_BIN"'
}

@test "x86_64 Linux gets the linux_amd64 asset, verified, on PATH for later steps" {
  install
  [ "$status" -eq 0 ]
  [[ "$output" == *"verified sha256"* ]]
  installed
  [ "$status" -eq 0 ]
  [[ "$output" == *"graviton-cd fake linux_amd64 version"* ]]
  [[ "$output" == *"bin=${HOME}/.cache/graviton-cd/${VERSION}/linux_amd64/graviton-cd"* ]]
  [ "$(requests /v${VERSION}/checksums.txt)" -eq 1 ]
  [ "$(requests /v${VERSION}/graviton-cd_linux_amd64)" -eq 1 ]
}

@test "aarch64 Linux (Graviton) gets the linux_arm64 asset" {
  fake_uname Linux aarch64
  install
  [ "$status" -eq 0 ]
  installed
  [[ "$output" == *"fake linux_arm64"* ]]
}

@test "uname spellings amd64 and arm64, and Darwin, map to the release names" {
  local s m want
  for case in "Linux amd64 linux_amd64" "Darwin arm64 darwin_arm64" "Darwin x86_64 darwin_amd64"; do
    read -r s m want <<<"$case"
    isolate
    fake_uname "$s" "$m"
    install
    [ "$status" -eq 0 ]
    installed
    [[ "$output" == *"fake ${want}"* ]]
  done
}

@test "an unsupported CPU is refused with a pointer to binary_path" {
  fake_uname Linux ppc64le
  install
  [ "$status" -ne 0 ]
  [[ "$output" == *"unsupported CPU ppc64le"* ]]
  [[ "$output" == *"binary_path"* ]]
}

@test "a second install is a cache hit: no request at all, even with the server gone" {
  install
  [ "$status" -eq 0 ]
  local before
  before="$(grep -c GET "$SERVER_LOG")"
  stop_server
  : >"$BASH_ENV"
  install
  [ "$status" -eq 0 ]
  [[ "$output" == *"cache hit"* ]]
  [ "$(grep -c GET "$SERVER_LOG")" -eq "$before" ]
  installed
  [[ "$output" == *"fake linux_amd64"* ]]
}

@test "a tampered binary is refused, removed, and not installed" {
  printf '#!/bin/sh\necho pwned\n' >"${RELEASES}/v${VERSION}/graviton-cd_linux_amd64"
  install
  [ "$status" -ne 0 ]
  [[ "$output" == *"checksum mismatch for graviton-cd_linux_amd64"* ]]
  [[ "$output" == *"NOT installed"* ]]
  local dir="${HOME}/.cache/graviton-cd/${VERSION}/linux_amd64"
  [ ! -e "${dir}/graviton-cd" ]
  [ -z "$(ls -A "$dir")" ]
  [ ! -s "$BASH_ENV" ]
}

@test "an asset missing from checksums.txt is refused" {
  grep -v linux_amd64 "${RELEASES}/v${VERSION}/checksums.txt" >"${BATS_TEST_TMPDIR}/sums"
  mv "${BATS_TEST_TMPDIR}/sums" "${RELEASES}/v${VERSION}/checksums.txt"
  install
  [ "$status" -ne 0 ]
  [[ "$output" == *"no checksum listed for graviton-cd_linux_amd64"* ]]
  [ "$(requests /v${VERSION}/graviton-cd_linux_amd64)" -eq 0 ]
}

@test "checksums embedded in the packed orb are used instead of checksums.txt" {
  export ORB_EMBEDDED_VERSION="$VERSION"
  ORB_EMBEDDED_CHECKSUMS="$(cat "${RELEASES}/v${VERSION}/checksums.txt")"
  export ORB_EMBEDDED_CHECKSUMS
  rm "${RELEASES}/v${VERSION}/checksums.txt"
  install
  [ "$status" -eq 0 ]
  [[ "$output" == *"checksums embedded in the orb"* ]]
  [ "$(requests /v${VERSION}/checksums.txt)" -eq 0 ]
}

@test "an embedded checksum that does not match is refused" {
  export ORB_EMBEDDED_VERSION="$VERSION"
  ORB_EMBEDDED_CHECKSUMS="$(printf '%064d  graviton-cd_linux_amd64' 0)"
  export ORB_EMBEDDED_CHECKSUMS
  install
  [ "$status" -ne 0 ]
  [[ "$output" == *"checksum mismatch"* ]]
}

@test "embedded checksums of another release are ignored: checksums.txt is fetched" {
  export ORB_EMBEDDED_VERSION=9.9.9
  ORB_EMBEDDED_CHECKSUMS="$(printf '%064d  graviton-cd_linux_amd64' 0)"
  export ORB_EMBEDDED_CHECKSUMS
  install
  [ "$status" -eq 0 ]
  [ "$(requests /v${VERSION}/checksums.txt)" -eq 1 ]
}

@test "a cached binary that no longer matches its checksum is downloaded again" {
  install
  [ "$status" -eq 0 ]
  echo "corrupt" >>"${HOME}/.cache/graviton-cd/${VERSION}/linux_amd64/graviton-cd"
  install
  [ "$status" -eq 0 ]
  [[ "$output" == *"downloading again"* ]]
  [ "$(requests /v${VERSION}/graviton-cd_linux_amd64)" -eq 2 ]
}

@test "a version with a leading v is the same release" {
  export ORB_VERSION="v${VERSION}"
  install
  [ "$status" -eq 0 ]
  [ "$(requests /v${VERSION}/graviton-cd_linux_amd64)" -eq 1 ]
}

@test "a release that is not there fails with the URL it tried" {
  export ORB_VERSION=0.0.404
  install
  [ "$status" -ne 0 ]
  [[ "$output" == *"download ${SERVER_URL}/v0.0.404/checksums.txt failed"* ]]
}

@test "binary_path is used as is: no download, no checksum" {
  local own="${BATS_TEST_TMPDIR}/own/graviton-cd"
  mkdir -p "$(dirname "$own")"
  printf '#!/bin/sh\necho "my own build $*"\n' >"$own"
  chmod +x "$own"
  export ORB_BINARY_PATH="$own"
  install
  [ "$status" -eq 0 ]
  [[ "$output" == *"as is, without download or checksum"* ]]
  [ "$(grep -c GET "$SERVER_LOG")" -eq 0 ]
  installed
  [[ "$output" == *"my own build version"* ]]
}

@test "binary_path relative to the working directory works" {
  mkdir -p "${BATS_TEST_TMPDIR}/work/bin"
  printf '#!/bin/sh\necho "relative build"\n' >"${BATS_TEST_TMPDIR}/work/bin/graviton-cd_linux_amd64"
  chmod +x "${BATS_TEST_TMPDIR}/work/bin/graviton-cd_linux_amd64"
  cd "${BATS_TEST_TMPDIR}/work"
  export ORB_BINARY_PATH=bin/graviton-cd_linux_amd64
  install
  [ "$status" -eq 0 ]
  cd /
  installed
  [[ "$output" == *"relative build"* ]]
}

@test "binary_path that is missing or not executable is refused" {
  export ORB_BINARY_PATH="${BATS_TEST_TMPDIR}/nope"
  install
  [ "$status" -ne 0 ]
  [[ "$output" == *"does not exist"* ]]
  touch "${BATS_TEST_TMPDIR}/plain"
  export ORB_BINARY_PATH="${BATS_TEST_TMPDIR}/plain"
  install
  [ "$status" -ne 0 ]
  [[ "$output" == *"not executable"* ]]
}
