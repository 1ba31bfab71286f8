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

@test "OIDC: the token goes to a private file, the role and file to BASH_ENV" {
  export ORB_ROLE_ARN=arn:aws:iam::123456789012:role/deployer
  export CIRCLE_OIDC_TOKEN_V2=eyJ.marker-oidc-token.sig
  export AWS_ACCESS_KEY_ID=AKIASTATIC AWS_SECRET_ACCESS_KEY=static-secret-marker
  auth
  [ "$status" -eq 0 ]
  [[ "$output" == *"OIDC: assuming arn:aws:iam::123456789012:role/deployer"* ]]
  local file="${HOME}/.graviton-cd/oidc-token"
  [ "$(cat "$file")" = "eyJ.marker-oidc-token.sig" ]
  [ "$(stat -c %a "$file")" = 600 ]
  [ "$(stat -c %a "$(dirname "$file")")" = 700 ]
  [ "$(grep -c marker-oidc-token "$BASH_ENV")" -eq 0 ]
  [[ "$output" != *marker-oidc-token* ]]
  later
  [[ "$output" == *"role=arn:aws:iam::123456789012:role/deployer file=${file} session=graviton-cd-deploy-42"* ]]
  # Static keys from a context would win over web identity in the SDK: gone.
  [[ "$output" == *"key= secret="* ]]
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

@test "OIDC without a token says to use a context" {
  export ORB_ROLE_ARN=arn:aws:iam::123456789012:role/deployer
  auth
  [ "$status" -ne 0 ]
  [[ "$output" == *"CIRCLE_OIDC_TOKEN_V2 is empty"*"context"* ]]
  [ ! -s "$BASH_ENV" ]
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
  [[ "$output" == *"names \$UNSET_ROLE, which is empty"* ]]
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
