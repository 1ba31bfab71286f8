#!/usr/bin/env bats
# .ci/tools.sh on a fresh machine: no Terraform CLI, no provider mirror, no
# internet. The two long builds (OpenTofu, the AWS provider) are stubbed by a
# fake `go`, so the path that a new user takes cannot silently break again.
# Variables exported inside a @test stay in its subshell by design.
# shellcheck disable=SC2030,SC2031
# The fakes' bodies are written in single quotes on purpose: they run later.
# shellcheck disable=SC2016

setup() {
  TOOLS="$(cd "${BATS_TEST_DIRNAME}/.." && pwd)/tools.sh"
  # shellcheck source=/dev/null
  . "${BATS_TEST_DIRNAME}/../versions.env"
  export HOME="${BATS_TEST_TMPDIR}/home" GRAVITON_CD_CACHE="${BATS_TEST_TMPDIR}/cache"
  mkdir -p "$HOME"
  unset GRAVITON_CD_TERRAFORM_BINARY GRAVITON_CD_PROVIDER_MIRROR GRAVITON_CD_OFFLINE TF_CLI_CONFIG_FILE
  export GRAVITON_CD_NO_SYSTEM_TOOLS=1
  SHIMS="${BATS_TEST_TMPDIR}/shims"
  CALLS="${BATS_TEST_TMPDIR}/calls.log"
  mkdir -p "$SHIMS"
  export SHIMS CALLS
  fake_go
  fake moto_server 'exit 0'
  # No internet: every server is unreachable.
  fake curl 'echo "curl $*" >>"$CALLS"; exit 6'
  # Only the shims and the base system: no terraform, tofu or real go.
  export PATH="${SHIMS}:/usr/bin:/bin"
  if command -v terraform || command -v tofu; then
    echo "a Terraform CLI is on PATH: the test needs a machine without one" >&2
    return 1
  fi
}

# no_call PATTERN fails when a recorded call matches.
no_call() {
  if grep -q "$1" "$CALLS" 2>/dev/null; then
    echo "unexpected call: $(grep "$1" "$CALLS")" >&2
    return 1
  fi
}

# fake NAME BODY puts a script NAME on PATH.
fake() {
  printf '#!/usr/bin/env bash\n%s\n' "$2" >"${SHIMS}/$1"
  chmod +x "${SHIMS}/$1"
}

# fake_go: the go subcommands tools.sh uses. The builds write stand-ins: a tofu
# that prints a warning before its version (as a missing CLI config makes the
# real one do), and a provider binary.
fake_go() {
  mkdir -p "${BATS_TEST_TMPDIR}/opentofu-src"
  cat >"${SHIMS}/go" <<GO
#!/usr/bin/env bash
echo "go \$*" >>"\$CALLS"
case "\$1" in
  env) case "\$2" in GOOS) echo linux ;; GOARCH) echo amd64 ;; esac ;;
  mod) printf '{\n\t"Path": "github.com/opentofu/opentofu",\n\t"Dir": "%s",\n\t"Sum": "h1:x"\n}\n' "${BATS_TEST_TMPDIR}/opentofu-src" ;;
  build)
    out=""; while [ \$# -gt 0 ]; do [ "\$1" = -o ] && out=\$2; shift; done
    printf '#!/bin/sh\necho "Warning: the CLI config file does not exist"\necho "OpenTofu v${OPENTOFU_VERSION}"\necho "on linux_amd64"\n' >"\$out"
    chmod +x "\$out" ;;
  install) printf 'provider' >"\$GOBIN/terraform-provider-aws" ;;
  run)
    # ./.ci/install-terraform -version V -cache C
    d="\$6/terraform/\$4"; mkdir -p "\$d"
    printf '#!/bin/sh\necho "Terraform v%s"\nif [ "\$1" = providers ]; then echo "terraform \$*" >>"\$CALLS"; d="\$4/registry.terraform.io/hashicorp/aws/${AWS_PROVIDER_VERSION}/linux_amd64"; mkdir -p "\$d"; printf p >"\$d/terraform-provider-aws_v${AWS_PROVIDER_VERSION}"; fi\n' "\$4" >"\$d/terraform"
    chmod +x "\$d/terraform"; echo "\$d/terraform" ;;
  *) echo "fake go: unexpected \$*" >&2; exit 1 ;;
esac
GO
  chmod +x "${SHIMS}/go"
}

@test "fresh machine, offline: OpenTofu and the provider are built, and the mirror is laid out for tofu" {
  run bash "$TOOLS"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"ready: OpenTofu v${OPENTOFU_VERSION}, AWS provider ${AWS_PROVIDER_VERSION}"* ]]
  grep -q "go build -trimpath -o ${GRAVITON_CD_CACHE}/tofu/${OPENTOFU_VERSION}/tofu.tmp ./cmd/tofu" "$CALLS"
  grep -q "go install .*terraform-provider-aws@${AWS_PROVIDER_MODULE_VERSION}" "$CALLS"
  # The network was asked, briefly, and found wanting.
  grep -q "curl .*--max-time 8 https://releases.hashicorp.com/terraform/${TERRAFORM_INSTALL_VERSION}/" "$CALLS"
  local env="${GRAVITON_CD_CACHE}/local-stack.env"
  grep -qx "GRAVITON_CD_TEST_TERRAFORM=${GRAVITON_CD_CACHE}/tofu/${OPENTOFU_VERSION}/tofu" "$env"
  grep -qx "GRAVITON_CD_TEST_PROVIDER_VERSION=${AWS_PROVIDER_VERSION}" "$env"
  grep -qx "TF_CLI_CONFIG_FILE=${GRAVITON_CD_CACHE}/terraformrc" "$env"
  # tofu asks registry.opentofu.org: the mirror the CLI config names has it there.
  local mirror
  mirror="$(sed -n 's/^ *path *= *"\(.*\)"$/\1/p' "${GRAVITON_CD_CACHE}/terraformrc")"
  [ -f "${mirror}/registry.opentofu.org/hashicorp/aws/${AWS_PROVIDER_VERSION}/linux_amd64/terraform-provider-aws_v${AWS_PROVIDER_VERSION}" ]
}

@test "a second run reuses both builds" {
  run bash "$TOOLS"
  [ "$status" -eq 0 ]
  : >"$CALLS"
  run bash "$TOOLS"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Terraform CLI reused from cache"* ]]
  [[ "$output" == *"AWS provider reused from mirror"* ]]
  no_call "go build\|go install"
}

@test "online (CircleCI): released Terraform through hc-install and the registry's provider, no builds" {
  fake curl 'echo "curl $*" >>"$CALLS"; exit 0'
  run bash "$TOOLS"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"ready: Terraform v${TERRAFORM_INSTALL_VERSION}, AWS provider ${AWS_PROVIDER_VERSION}"* ]]
  grep -q "go run ./.ci/install-terraform -version ${TERRAFORM_INSTALL_VERSION} -cache ${GRAVITON_CD_CACHE}" "$CALLS"
  grep -q "terraform providers mirror -platform=linux_amd64 ${GRAVITON_CD_CACHE}/provider-mirror" "$CALLS"
  no_call "go build\|go install"
  grep -qx "GRAVITON_CD_TEST_TERRAFORM=${GRAVITON_CD_CACHE}/terraform/${TERRAFORM_INSTALL_VERSION}/terraform" "${GRAVITON_CD_CACHE}/local-stack.env"
  # Cached: the next run asks nobody.
  : >"$CALLS"
  run bash "$TOOLS"
  [ "$status" -eq 0 ]
  no_call "curl\|go run\|providers mirror"
}

@test "GRAVITON_CD_OFFLINE=1 never touches the network" {
  export GRAVITON_CD_OFFLINE=1
  run bash "$TOOLS"
  [ "$status" -eq 0 ]
  no_call "^curl"
}

@test "a failing build stops with its message, not silently" {
  fake go 'case "$1" in env) echo linux ;; mod) exit 1 ;; *) exit 1 ;; esac'
  run bash "$TOOLS"
  [ "$status" -ne 0 ]
  [[ "$output" == *"could not download OpenTofu"* ]]
}

@test "GRAVITON_CD_NO_BUILD=1 (CI) fails fast instead of building from source" {
  export GRAVITON_CD_NO_BUILD=1
  run bash "$TOOLS"
  [ "$status" -eq 1 ]
  [[ "$output" == *"GRAVITON_CD_NO_BUILD is set: not building OpenTofu"* ]]
  no_call "go build\|go install"
}

@test "GRAVITON_CD_PROVIDER_MIRROR wins with its own version over the pinned one in the cache" {
  run bash "$TOOLS"
  [ "$status" -eq 0 ]
  local old="${BATS_TEST_TMPDIR}/image-mirror/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"
  mkdir -p "$old"
  printf p >"${old}/terraform-provider-aws_v5.100.0_x5"
  export GRAVITON_CD_PROVIDER_MIRROR="${BATS_TEST_TMPDIR}/image-mirror"
  : >"$CALLS"
  run bash "$TOOLS"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"AWS provider from GRAVITON_CD_PROVIDER_MIRROR"* ]]
  grep -qx "GRAVITON_CD_TEST_PROVIDER_VERSION=5.100.0" "${GRAVITON_CD_CACHE}/local-stack.env"
  no_call "go build\|go install"
}
