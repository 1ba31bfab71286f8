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

# fake_cli PATH prints a CLI at PATH that names itself in plan.txt.
fake_cli() {
  mkdir -p "$(dirname "$1")"
  printf '#!/bin/sh\necho "%s $*"\n' "$1" >"$1"
  chmod +x "$1"
}

@test "renders with the CLI provision recorded in stack.json, over PATH and the flag" {
  fake_cli "${SHIMS}/terraform"
  fake_cli "${BATS_TEST_TMPDIR}/flag/tofu"
  fake_cli "${BATS_TEST_TMPDIR}/recorded/tofu"
  printf '{\n  "name": "shop",\n  "terraform_version": "1.12.6",\n  "terraform_binary": "%s"\n}\n' \
    "${BATS_TEST_TMPDIR}/recorded/tofu" >"${STACK}/stack.json"
  GRAVITON_CD_TERRAFORM_BINARY="${BATS_TEST_TMPDIR}/flag/tofu" run bash "${SCRIPTS}/collect-plan.sh"
  [ "$status" -eq 0 ]
  grep -q "^${BATS_TEST_TMPDIR}/recorded/tofu -chdir=${STACK} show -no-color tfplan" "${ORB_ARTIFACTS_DIR}/plan.txt"
}

@test "without a record, --terraform-binary's CLI wins over PATH" {
  fake_cli "${SHIMS}/terraform"
  fake_cli "${BATS_TEST_TMPDIR}/flag/tofu"
  GRAVITON_CD_TERRAFORM_BINARY="${BATS_TEST_TMPDIR}/flag/tofu" run bash "${SCRIPTS}/collect-plan.sh"
  [ "$status" -eq 0 ]
  grep -q "^${BATS_TEST_TMPDIR}/flag/tofu " "${ORB_ARTIFACTS_DIR}/plan.txt"
}

@test "a recorded CLI that is gone falls back to PATH" {
  fake_cli "${SHIMS}/terraform"
  printf '{"terraform_binary": "%s"}\n' "${BATS_TEST_TMPDIR}/gone/terraform" >"${STACK}/stack.json"
  run bash "${SCRIPTS}/collect-plan.sh"
  [ "$status" -eq 0 ]
  grep -q "^${SHIMS}/terraform " "${ORB_ARTIFACTS_DIR}/plan.txt"
}
