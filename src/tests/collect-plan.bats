#!/usr/bin/env bats
# Variables exported inside a @test stay in its subshell by design.
# shellcheck disable=SC2030,SC2031
# Collecting provision's plan for store_artifacts: the readable plan and the
# module, never state or the binary plan.

load helpers/common

setup() {
  isolate
  STACK="${BATS_TEST_TMPDIR}/stack"
  mkdir -p "${STACK}/.terraform"
  for f in main.tf versions.tf plan.txt outputs.json terraform.tfstate terraform.tfstate.backup stack.tfplan .terraform/x; do
    echo "$f" >"${STACK}/${f}"
  done
  export ORB_STACK_DIR="$STACK" ORB_ARTIFACTS_DIR="${BATS_TEST_TMPDIR}/artifacts"
}

@test "copies the plan, the module and outputs.json; never state or the binary plan" {
  run bash "${SCRIPTS}/collect-plan.sh"
  [ "$status" -eq 0 ]
  run ls "$ORB_ARTIFACTS_DIR"
  [ "$output" = "$(printf 'main.tf\noutputs.json\nplan.txt\nversions.tf')" ]
}

@test "a stack directory that was never written is not an error" {
  export ORB_STACK_DIR="${BATS_TEST_TMPDIR}/missing"
  run bash "${SCRIPTS}/collect-plan.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"nothing to collect"* ]]
  [ -d "$ORB_ARTIFACTS_DIR" ]
}
