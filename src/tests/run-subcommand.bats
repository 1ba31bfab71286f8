#!/usr/bin/env bats
# Variables exported inside a @test stay in its subshell by design.
# shellcheck disable=SC2030,SC2031
# The step that runs a subcommand: empty parameters dropped so the binary's
# defaults apply, the JUnit directory made, the installed binary used.

load helpers/common

setup() {
  isolate
  FAKE="${BATS_TEST_TMPDIR}/fake-graviton-cd"
  cat >"$FAKE" <<'BIN'
#!/usr/bin/env bash
echo "args: $*"
env | grep '^GRAVITON_CD_' | sort
BIN
  chmod +x "$FAKE"
  export GRAVITON_CD_BIN="$FAKE"
}

@test "empty GRAVITON_CD_ variables are unset, set ones pass through" {
  ORB_SUBCOMMAND=deploy GRAVITON_CD_TIMEOUT="" GRAVITON_CD_IMAGE=nginx:1 GRAVITON_CD_CHECK_IMAGE_ARCH=false \
    run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"args: deploy"* ]]
  [[ "$output" == *"GRAVITON_CD_IMAGE=nginx:1"* ]]
  [[ "$output" == *"GRAVITON_CD_CHECK_IMAGE_ARCH=false"* ]]
  [[ "$output" != *"GRAVITON_CD_TIMEOUT"* ]]
}

@test "the JUnit file's directory is created" {
  cd "$BATS_TEST_TMPDIR"
  ORB_SUBCOMMAND=smoke-test GRAVITON_CD_JUNIT=results/deep/smoke-test.xml run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 0 ]
  [ -d results/deep ]
}

@test "the binary's exit code is the step's" {
  printf '#!/bin/sh\nexit 2\n' >"$FAKE"
  ORB_SUBCOMMAND=provision run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 2 ]
}

@test "an unknown subcommand exits 2" {
  ORB_SUBCOMMAND=launch run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 2 ]
  [[ "$output" == *'unknown subcommand "launch"'* ]]
}

@test "without install the step says to run it" {
  unset GRAVITON_CD_BIN
  PATH="${SHIMS}:/usr/bin:/bin" ORB_SUBCOMMAND=destroy run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 2 ]
  [[ "$output" == *"run the install command first"* ]]
}

@test "destroy after a failure skips a stack directory that was never created" {
  cd "$BATS_TEST_TMPDIR"
  ORB_SUBCOMMAND=destroy ORB_SKIP_WITHOUT_STACK=true GRAVITON_CD_STACK_DIR=never-made run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"nothing was created"* ]]
  [[ "$output" != *"args:"* ]]
  mkdir never-made
  ORB_SUBCOMMAND=destroy ORB_SKIP_WITHOUT_STACK=true GRAVITON_CD_STACK_DIR=never-made run bash "${SCRIPTS}/run-subcommand.sh"
  [[ "$output" == *"args: destroy"* ]]
}
