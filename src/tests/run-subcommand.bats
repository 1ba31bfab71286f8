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

@test "\$VAR and \${VAR} in parameters are expanded (no circleci CLI: the script's own expansion)" {
  # shellcheck disable=SC2016 # the literal variables are the input
  PATH="${SHIMS}:/usr/bin:/bin" ORB_SUBCOMMAND=deploy REGISTRY=1234.dkr.ecr.eu-west-1.amazonaws.com CIRCLE_SHA1=abc123 \
    GRAVITON_CD_IMAGE='$REGISTRY/shop:${CIRCLE_SHA1}' GRAVITON_CD_REGION='${AWS_DEFAULT_REGION}' AWS_DEFAULT_REGION=eu-west-1 \
    GRAVITON_CD_CONTAINER='web$' GRAVITON_CD_SERVICE='$(echo injected)' GRAVITON_CD_CLUSTER='$UNSET_VARIABLE' \
    GRAVITON_CD_EXPECT_BODY_REGEX='^ok$|^v$VERSION' \
    run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"GRAVITON_CD_IMAGE=1234.dkr.ecr.eu-west-1.amazonaws.com/shop:abc123"* ]]
  [[ "$output" == *"GRAVITON_CD_REGION=eu-west-1"* ]]
  [[ "$output" == *'GRAVITON_CD_CONTAINER=web$'* ]]
  # shellcheck disable=SC2016
  [[ "$output" == *'GRAVITON_CD_SERVICE=$(echo injected)'* ]]
  # A variable that is not set expands to nothing, and then means "the default".
  [[ "$output" != *"GRAVITON_CD_CLUSTER"* ]]
  # shellcheck disable=SC2016
  [[ "$output" == *'GRAVITON_CD_EXPECT_BODY_REGEX=^ok$|^v$VERSION'* ]]
}

@test "\$VAR in parameters goes through circleci env subst when the CLI has it" {
  cat >"${SHIMS}/circleci" <<'CLI'
#!/usr/bin/env bash
[ "$1 $2" = "env subst" ] || exit 1
echo "env subst" >>"${BATS_TEST_TMPDIR}/circleci.log"
python3 -c 'import os, sys; sys.stdout.write(os.path.expandvars(sys.stdin.read()))'
CLI
  chmod +x "${SHIMS}/circleci"
  # shellcheck disable=SC2016
  ORB_SUBCOMMAND=deploy TAG=v7 GRAVITON_CD_IMAGE='shop:$TAG' run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"GRAVITON_CD_IMAGE=shop:v7"* ]]
  grep -q "env subst" "${BATS_TEST_TMPDIR}/circleci.log"
}

@test "provision renders into ORB_DEFAULT_DIR when stack_dir is empty" {
  ORB_SUBCOMMAND=provision GRAVITON_CD_DIR="" ORB_DEFAULT_DIR=.graviton-cd/stack run bash "${SCRIPTS}/run-subcommand.sh"
  [[ "$output" == *"GRAVITON_CD_DIR=.graviton-cd/stack"* ]]
  ORB_SUBCOMMAND=provision GRAVITON_CD_DIR=mine ORB_DEFAULT_DIR=.graviton-cd/stack run bash "${SCRIPTS}/run-subcommand.sh"
  [[ "$output" == *"GRAVITON_CD_DIR=mine"* ]]
}

@test "destroy after a failure with only a stack name runs destroy (the binary decides)" {
  ORB_SUBCOMMAND=destroy ORB_SKIP_WITHOUT_STACK=true GRAVITON_CD_STACK_DIR="" GRAVITON_CD_NAME=shop \
    GRAVITON_CD_ONLY_IF_EPHEMERAL=true run bash "${SCRIPTS}/run-subcommand.sh"
  [[ "$output" == *"args: destroy"* ]]
  [[ "$output" == *"GRAVITON_CD_ONLY_IF_EPHEMERAL=true"* ]]
}

# jwt IAT EXP prints an unsigned JWT with those claims, marked with IAT.
jwt() {
  local payload
  payload="$(printf '{"iss":"https://oidc.circleci.com/org/o","iat":%s,"exp":%s}' "$1" "$2" | base64 -w0 | tr '+/' '-_' | tr -d '=')"
  printf 'eyJhbGciOiJSUzI1NiJ9.%s.sig-%s' "$payload" "$1"
}

# oidc_setup: a token file in a private directory, a fake circleci that mints
# tokens issued now (and logs each call), and a binary that prints the token
# it reads, as the AWS SDK would read it.
oidc_setup() {
  export GRAVITON_CD_OIDC_TOKEN_FILE="${BATS_TEST_TMPDIR}/oidc/oidc-token"
  mkdir -p "$(dirname "$GRAVITON_CD_OIDC_TOKEN_FILE")"
  export CIRCLE_ORGANIZATION_ID=org-uuid-1
  cat >"${SHIMS}/circleci" <<CLI
#!/usr/bin/env bash
echo "circleci \$*" >>"${BATS_TEST_TMPDIR}/circleci.log"
[ "\$1 \$2 \$3" = "run oidc get" ] || exit 1
now=\$(date +%s)
payload="\$(printf '{"iat":%s,"exp":%s}' "\$now" "\$((now + 3600))" | base64 -w0 | tr '+/' '-_' | tr -d '=')"
printf 'eyJhbGciOiJSUzI1NiJ9.%s.minted' "\$payload"
CLI
  chmod +x "${SHIMS}/circleci"
  cat >"$FAKE" <<'BIN'
#!/usr/bin/env bash
echo "$1 read token: $(cat "$GRAVITON_CD_OIDC_TOKEN_FILE")"
BIN
}

@test "OIDC: no token anywhere: one is minted with the organization as audience" {
  oidc_setup
  unset CIRCLE_OIDC_TOKEN_V2
  ORB_SUBCOMMAND=deploy run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"deploy read token: eyJhbGciOiJSUzI1NiJ9."*".minted"* ]]
  grep -q 'circleci run oidc get --claims {"aud":"org-uuid-1"}' "${BATS_TEST_TMPDIR}/circleci.log"
  [ "$(stat -c %a "$GRAVITON_CD_OIDC_TOKEN_FILE")" = 600 ]
}

@test "OIDC: a fresh CIRCLE_OIDC_TOKEN_V2 is used as is; a stale one is replaced" {
  oidc_setup
  local now
  now=$(date +%s)
  CIRCLE_OIDC_TOKEN_V2="$(jwt "$now" "$((now + 3600))")" ORB_SUBCOMMAND=deploy run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"deploy read token: "*".sig-${now}"* ]]
  [ ! -e "${BATS_TEST_TMPDIR}/circleci.log" ]
  # 50 minutes later the job's token has 10 minutes left: too little for a subcommand.
  rm -f "$GRAVITON_CD_OIDC_TOKEN_FILE"
  CIRCLE_OIDC_TOKEN_V2="$(jwt "$((now - 3000))" "$((now + 600))")" ORB_SUBCOMMAND=destroy run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"destroy read token: "*".minted"* ]]
  [ "$(grep -c 'oidc get' "${BATS_TEST_TMPDIR}/circleci.log")" -eq 1 ]
}

@test "OIDC: each subcommand reads a fresh token; a stale token file is renewed" {
  oidc_setup
  local now
  now=$(date +%s)
  export CIRCLE_OIDC_TOKEN_V2
  CIRCLE_OIDC_TOKEN_V2="$(jwt "$((now - 3500))" "$((now + 100))")"
  printf '%s' "$(jwt "$((now - 3400))" "$((now + 200))")" >"$GRAVITON_CD_OIDC_TOKEN_FILE"
  for sub in provision deploy smoke-test destroy; do
    ORB_SUBCOMMAND=$sub run bash "${SCRIPTS}/run-subcommand.sh"
    [ "$status" -eq 0 ]
    [[ "$output" == *"${sub} read token: "*".minted"* ]]
    # The next subcommand finds a token that is about to expire again.
    printf '%s' "$(jwt "$((now - 3400))" "$((now + 200))")" >"$GRAVITON_CD_OIDC_TOKEN_FILE"
  done
  [ "$(grep -c 'oidc get' "${BATS_TEST_TMPDIR}/circleci.log")" -eq 4 ]
}

@test "OIDC: a long subcommand gets its token renewed while it runs" {
  oidc_setup
  unset CIRCLE_OIDC_TOKEN_V2
  local now
  now=$(date +%s)
  cat >"$FAKE" <<BIN
#!/usr/bin/env bash
# Runs "long": replaces the token with one about to expire, waits for the renewal.
printf '%s' "$(jwt "$((now - 3500))" "$((now + 100))")" >"\$GRAVITON_CD_OIDC_TOKEN_FILE"
for _ in \$(seq 1 100); do
  grep -q minted "\$GRAVITON_CD_OIDC_TOKEN_FILE" && { echo "renewed while running"; exit 0; }
  sleep 0.1
done
echo "not renewed"; exit 1
BIN
  ORB_OIDC_CHECK_EVERY=0.2 ORB_SUBCOMMAND=provision run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"renewed while running"* ]]
}

@test "OIDC: the binary's exit code survives the token renewal loop" {
  oidc_setup
  printf '#!/bin/sh\nexit 3\n' >"$FAKE"
  ORB_SUBCOMMAND=deploy run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 3 ]
}

@test "OIDC: no token and a failing circleci CLI stops before the binary runs" {
  oidc_setup
  unset CIRCLE_OIDC_TOKEN_V2
  printf '#!/bin/sh\nexit 1\n' >"${SHIMS}/circleci"
  printf '#!/bin/sh\necho ran\n' >"${SHIMS}/sleep"
  chmod +x "${SHIMS}/sleep"
  ORB_SUBCOMMAND=deploy run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 1 ]
  [[ "$output" == *"circleci run oidc get failed 4 times"* ]]
  [[ "$output" != *"read token"* ]]
}

@test "stack_dir, url or cluster win over a stack name from the environment; destroy keeps both for its check" {
  GRAVITON_CD_NAME=shop ORB_SUBCOMMAND=smoke-test GRAVITON_CD_URL=https://shop.example.com run bash "${SCRIPTS}/run-subcommand.sh"
  [[ "$output" == *"the stack name shop is not used"* ]]
  [[ "$output" != *"GRAVITON_CD_NAME"* ]]
  GRAVITON_CD_NAME=shop ORB_SUBCOMMAND=deploy GRAVITON_CD_STACK_DIR=graviton-cd-stack run bash "${SCRIPTS}/run-subcommand.sh"
  [[ "$output" != *"GRAVITON_CD_NAME"* ]]
  GRAVITON_CD_NAME=shop ORB_SUBCOMMAND=deploy GRAVITON_CD_CLUSTER=prod GRAVITON_CD_SERVICE=shop run bash "${SCRIPTS}/run-subcommand.sh"
  [[ "$output" != *"GRAVITON_CD_NAME"* ]]
  GRAVITON_CD_NAME=shop ORB_SUBCOMMAND=deploy run bash "${SCRIPTS}/run-subcommand.sh"
  [[ "$output" == *"GRAVITON_CD_NAME=shop"* ]]
  GRAVITON_CD_NAME=shop ORB_SUBCOMMAND=destroy GRAVITON_CD_STACK_DIR=graviton-cd-stack run bash "${SCRIPTS}/run-subcommand.sh"
  [[ "$output" == *"GRAVITON_CD_NAME=shop"* ]]
}

@test "logs, rollback and run-task run; run-task's command reaches the binary unexpanded" {
  for sub in logs rollback run-task; do
    ORB_SUBCOMMAND=$sub run bash "${SCRIPTS}/run-subcommand.sh"
    [ "$status" -eq 0 ]
    [[ "$output" == *"args: $sub"* ]]
  done
  # shellcheck disable=SC2016
  ORB_SUBCOMMAND=run-task TAG=v7 GRAVITON_CD_COMMAND='sh -c "echo $HOME"' GRAVITON_CD_TASK_DEFINITION='shop:$TAG' \
    run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 0 ]
  # shellcheck disable=SC2016
  [[ "$output" == *'GRAVITON_CD_COMMAND=sh -c "echo $HOME"'* ]]
  [[ "$output" == *"GRAVITON_CD_TASK_DEFINITION=shop:v7"* ]]
}

@test "rollback, run-task and logs: cluster or log_group win over a stack name from the environment" {
  for sub in rollback run-task; do
    ORB_SUBCOMMAND=$sub GRAVITON_CD_NAME=shop GRAVITON_CD_CLUSTER=prod run bash "${SCRIPTS}/run-subcommand.sh"
    [ "$status" -eq 0 ]
    [[ "$output" != *"GRAVITON_CD_NAME="* ]]
  done
  ORB_SUBCOMMAND=logs GRAVITON_CD_NAME=shop GRAVITON_CD_LOG_GROUP=/ecs/other run bash "${SCRIPTS}/run-subcommand.sh"
  [ "$status" -eq 0 ]
  [[ "$output" != *"GRAVITON_CD_NAME="* ]]
  ORB_SUBCOMMAND=logs GRAVITON_CD_NAME=shop run bash "${SCRIPTS}/run-subcommand.sh"
  [[ "$output" == *"GRAVITON_CD_NAME=shop"* ]]
}
