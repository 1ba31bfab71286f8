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
  for f in main.tf stack.json outputs.json terraform.tfstate terraform.tfstate.backup tfplan .terraform/x; do
    echo "$f" >"${STACK}/${f}"
  done
  export ORB_STACK_DIR="$STACK" ORB_ARTIFACTS_DIR="${BATS_TEST_TMPDIR}/artifacts"
}

@test "renders the plan as text and copies the module; never state or the binary plan" {
  cat >"${SHIMS}/terraform" <<'TF'
#!/bin/sh
echo "terraform $*" >&2
echo "Plan: 42 to add, 0 to change, 0 to destroy."
TF
  chmod +x "${SHIMS}/terraform"
  run bash "${SCRIPTS}/collect-plan.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"collected 4 file(s)"* ]]
  run ls "$ORB_ARTIFACTS_DIR"
  [ "$output" = "$(printf 'main.tf\noutputs.json\nplan.txt\nstack.json')" ]
  grep -q "42 to add" "${ORB_ARTIFACTS_DIR}/plan.txt"
}

@test "uses the terraform provision installed into the cache when none is on PATH" {
  mkdir -p "${HOME}/.cache/graviton-cd/terraform/1.11.4"
  printf '#!/bin/sh\necho "cached terraform $*"\n' >"${HOME}/.cache/graviton-cd/terraform/1.11.4/terraform"
  chmod +x "${HOME}/.cache/graviton-cd/terraform/1.11.4/terraform"
  PATH="${SHIMS}:/usr/bin:/bin" run bash "${SCRIPTS}/collect-plan.sh"
  [ "$status" -eq 0 ]
  grep -q "cached terraform -chdir=${STACK} show -no-color tfplan" "${ORB_ARTIFACTS_DIR}/plan.txt"
}

@test "without any terraform the module is still collected, and the step passes" {
  PATH="${SHIMS}:/usr/bin:/bin" run bash "${SCRIPTS}/collect-plan.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"could not render"* ]]
  [ -f "${ORB_ARTIFACTS_DIR}/main.tf" ]
  [ ! -e "${ORB_ARTIFACTS_DIR}/plan.txt" ]
}

@test "a stack directory that was never written is not an error" {
  export ORB_STACK_DIR="${BATS_TEST_TMPDIR}/missing"
  run bash "${SCRIPTS}/collect-plan.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"nothing to collect"* ]]
  [ -d "$ORB_ARTIFACTS_DIR" ]
}
