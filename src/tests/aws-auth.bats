#!/usr/bin/env bats
# Variables exported inside a @test stay in its subshell by design.
# shellcheck disable=SC2030,SC2031
# The credentials step: CircleCI OIDC through BASH_ENV, or access keys named by
# parameters, never a secret value written to disk by reference.

load helpers/common

setup() {
  isolate
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
    AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_SESSION_NAME CIRCLE_OIDC_TOKEN_V2
  export ORB_ROLE_ARN="" ORB_ROLE_SESSION_NAME="" \
    ORB_ACCESS_KEY_ID_VAR=AWS_ACCESS_KEY_ID ORB_SECRET_ACCESS_KEY_VAR=AWS_SECRET_ACCESS_KEY
  export CIRCLE_JOB=deploy CIRCLE_BUILD_NUM=42
}

auth() {
  run bash "${SCRIPTS}/aws-auth.sh"
}

# later prints what a later step sees after sourcing BASH_ENV.
later() {
  run bash -c 'echo "role=${AWS_ROLE_ARN:-} file=${AWS_WEB_IDENTITY_TOKEN_FILE:-} session=${AWS_ROLE_SESSION_NAME:-} key=${AWS_ACCESS_KEY_ID:-} secret=${AWS_SECRET_ACCESS_KEY:-}"'
}

@test "OIDC: a private per-job token directory, the role and token file in BASH_ENV" {
  export ORB_ROLE_ARN=arn:aws:iam::123456789012:role/deployer ORB_TOKEN_DIR="${BATS_TEST_TMPDIR}/tmp"
  mkdir -p "$ORB_TOKEN_DIR"
  export CIRCLE_OIDC_TOKEN_V2=eyJ.marker-oidc-token.sig
  export AWS_ACCESS_KEY_ID=AKIASTATIC AWS_SECRET_ACCESS_KEY=static-secret-marker
  auth
  [ "$status" -eq 0 ]
  [[ "$output" == *"OIDC: assuming arn:aws:iam::123456789012:role/deployer"* ]]
  local dir
  dir="$(find "$ORB_TOKEN_DIR" -mindepth 1 -maxdepth 1 -type d -name 'graviton-cd-oidc.*')"
  [ -n "$dir" ]
  [ "$(stat -c %a "$dir")" = 700 ]
  [ ! -e "${HOME}/.graviton-cd" ]
  [ "$(grep -c marker-oidc-token "$BASH_ENV")" -eq 0 ]
  [[ "$output" != *marker-oidc-token* ]]
  later
  [[ "$output" == *"role=arn:aws:iam::123456789012:role/deployer file=${dir}/oidc-token session=graviton-cd-deploy-42"* ]]
  # Static keys from a context would win over web identity in the SDK: gone.
  [[ "$output" == *"key= secret="* ]]
  # Two jobs on one runner get two directories.
  auth
  [ "$(find "$ORB_TOKEN_DIR" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 2 ]
}

@test "OIDC: session_duration reaches graviton-cd; a value out of range is refused" {
  export ORB_ROLE_ARN=arn:aws:iam::123456789012:role/deployer CIRCLE_OIDC_TOKEN_V2=t ORB_SESSION_DURATION=7200
  auth
  [ "$status" -eq 0 ]
  run bash -c 'echo "duration=${GRAVITON_CD_ROLE_SESSION_DURATION:-}"'
  [ "$output" = "duration=7200s" ]
  : >"$BASH_ENV"
  export ORB_SESSION_DURATION=60
  auth
  [ "$status" -ne 0 ]
  [[ "$output" == *"session_duration 60 is not a number of seconds from 900 to 43200"* ]]
  [ ! -s "$BASH_ENV" ]
}

@test "OIDC: no token variable is fine when the circleci CLI can get one" {
  export ORB_ROLE_ARN=arn:aws:iam::123456789012:role/deployer
  printf '#!/bin/sh\nexit 0\n' >"${SHIMS}/circleci"
  chmod +x "${SHIMS}/circleci"
  auth
  [ "$status" -eq 0 ]
}

@test "OIDC: role_arn may name a variable, as a context would set it" {
  # shellcheck disable=SC2016 # the literal $DEPLOY_ROLE is the input
  export ORB_ROLE_ARN='$DEPLOY_ROLE' DEPLOY_ROLE=arn:aws:iam::123456789012:role/from-context
  export CIRCLE_OIDC_TOKEN_V2=token-value-123
  auth
  [ "$status" -eq 0 ]
  later
  [[ "$output" == *"role=arn:aws:iam::123456789012:role/from-context"* ]]
}

@test "OIDC: a session name is cleaned to what STS accepts" {
  export ORB_ROLE_ARN=arn:aws:iam::123456789012:role/deployer CIRCLE_OIDC_TOKEN_V2=token-value-123
  export ORB_ROLE_SESSION_NAME="feature/my branch!"
  auth
  [ "$status" -eq 0 ]
  later
  [[ "$output" == *"session=feature-my-branch-"* ]]
}

@test "OIDC without a token or the circleci CLI says how to get one" {
  export ORB_ROLE_ARN=arn:aws:iam::123456789012:role/deployer
  PATH="${SHIMS}:/usr/bin:/bin" auth
  [ "$status" -ne 0 ]
  [[ "$output" == *"CIRCLE_OIDC_TOKEN_V2 is empty and there is no circleci CLI"*"forked pull requests"* ]]
  [ ! -s "$BASH_ENV" ]
}

@test "role_arn and role_session_name expand \$VAR anywhere in them" {
  # shellcheck disable=SC2016 # the literal variables are the input
  export ORB_ROLE_ARN='arn:aws:iam::${ACCOUNT}:role/$ROLE' ACCOUNT=123456789012 ROLE=deployer
  # shellcheck disable=SC2016
  export ORB_ROLE_SESSION_NAME='ci-${CIRCLE_BUILD_NUM}' CIRCLE_OIDC_TOKEN_V2=t
  PATH="${SHIMS}:/usr/bin:/bin" auth
  [ "$status" -eq 0 ]
  later
  [[ "$output" == *"role=arn:aws:iam::123456789012:role/deployer "*"session=ci-42"* ]]
}

@test "a role_arn that is not an ARN, or names an empty variable, is refused" {
  export CIRCLE_OIDC_TOKEN_V2=token-value-123 ORB_ROLE_ARN=deployer
  auth
  [ "$status" -ne 0 ]
  [[ "$output" == *"is not an ARN"* ]]
  # shellcheck disable=SC2016 # the literal ${UNSET_ROLE} is the input
  export ORB_ROLE_ARN='${UNSET_ROLE}'
  auth
  [ "$status" -ne 0 ]
  # shellcheck disable=SC2016
  [[ "$output" == *'role_arn is ${UNSET_ROLE}, which expands to nothing'* ]]
}

@test "access keys under other names are mapped by reference, never by value" {
  export ORB_ACCESS_KEY_ID_VAR=PROD_KEY_ID ORB_SECRET_ACCESS_KEY_VAR=PROD_SECRET
  export PROD_KEY_ID=AKIAPROD PROD_SECRET=prod-secret-marker-value
  auth
  [ "$status" -eq 0 ]
  # shellcheck disable=SC2016 # the script prints the names, not values
  [[ "$output" == *'access keys from $PROD_KEY_ID and $PROD_SECRET'* ]]
  [ "$(grep -c prod-secret-marker-value "$BASH_ENV")" -eq 0 ]
  later
  [[ "$output" == *"key=AKIAPROD secret=prod-secret-marker-value"* ]]
}

@test "the default key names need nothing in BASH_ENV" {
  export AWS_ACCESS_KEY_ID=AKIADEFAULT AWS_SECRET_ACCESS_KEY=default-secret
  auth
  [ "$status" -eq 0 ]
  [ ! -s "$BASH_ENV" ]
}

@test "no role and no keys falls back to the SDK's default chain" {
  auth
  [ "$status" -eq 0 ]
  [[ "$output" == *"default credential chain"* ]]
  [ ! -s "$BASH_ENV" ]
}

@test "an env_var_name that is not a variable name is refused" {
  export ORB_SECRET_ACCESS_KEY_VAR='X; rm -rf /'
  auth
  [ "$status" -ne 0 ]
  [[ "$output" == *"is not a variable name"* ]]
}
