#!/usr/bin/env bash
# Chooses the AWS credentials for the graviton-cd steps that follow and writes
# them to BASH_ENV, which every later CircleCI step sources.
#
# With a role ARN: CircleCI OIDC. The job's OIDC token is written to a file that
# only this user can read, and AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE point
# the AWS SDK inside graviton-cd at it (web identity; no AWS CLI needed).
# Without: access keys from the environment variables the job's parameters name.
#
# Inputs (environment, set by the orb):
#   ORB_ROLE_ARN                 IAM role to assume with OIDC, or $VAR naming it; empty for access keys
#   ORB_ROLE_SESSION_NAME        session name for the assumed role (optional)
#   ORB_ACCESS_KEY_ID_VAR        name of the variable holding the access key ID
#   ORB_SECRET_ACCESS_KEY_VAR    name of the variable holding the secret access key
#   ORB_TOKEN_DIR                where to write the token (default: $HOME/.graviton-cd)
#   CIRCLE_OIDC_TOKEN_V2         set by CircleCI in jobs that run with a context
set -euo pipefail

log() { printf 'graviton-cd auth: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -n "${BASH_ENV:-}" ] || die "BASH_ENV is not set: this step must run in a CircleCI job (or a runner that provides it)"

valid_name() { [[ "$1" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; }

# role_arn may name a variable ($VAR or ${VAR}), e.g. one that a context sets,
# since parameter values are not expanded by the shell.
if [[ "${ORB_ROLE_ARN:-}" =~ ^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$ ]]; then
  ref="${BASH_REMATCH[1]}"
  ORB_ROLE_ARN="${!ref:-}"
  [ -n "$ORB_ROLE_ARN" ] || die "role_arn names \$${ref}, which is empty: set it (e.g. in the job's context)"
fi

if [ -n "${ORB_ROLE_ARN:-}" ]; then
  [[ "$ORB_ROLE_ARN" == arn:* ]] || die "role_arn ${ORB_ROLE_ARN} is not an ARN: expected arn:aws:iam::<account>:role/<name>"
  [ -n "${CIRCLE_OIDC_TOKEN_V2:-}" ] || die "role_arn is set but CIRCLE_OIDC_TOKEN_V2 is empty: run the job with a context so CircleCI issues an OIDC token"
  dir="${ORB_TOKEN_DIR:-$HOME/.graviton-cd}"
  mkdir -p "$dir"
  chmod 0700 "$dir"
  token_file="${dir}/oidc-token"
  (umask 077 && printf '%s' "$CIRCLE_OIDC_TOKEN_V2" >"$token_file")
  session="${ORB_ROLE_SESSION_NAME:-graviton-cd-${CIRCLE_JOB:-job}-${CIRCLE_BUILD_NUM:-0}}"
  # Role session names allow [\w+=,.@-] and at most 64 characters.
  session="$(printf '%s' "$session" | tr -c 'A-Za-z0-9_+=,.@-' '-' | cut -c1-64)"
  {
    printf 'export AWS_ROLE_ARN=%q\n' "$ORB_ROLE_ARN"
    printf 'export AWS_WEB_IDENTITY_TOKEN_FILE=%q\n' "$token_file"
    printf 'export AWS_ROLE_SESSION_NAME=%q\n' "$session"
    # The SDK prefers static keys to web identity: drop any that a context set,
    # so the role is what graviton-cd really uses.
    printf 'unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE\n'
  } >>"$BASH_ENV"
  log "OIDC: assuming ${ORB_ROLE_ARN} as session ${session}"
  exit 0
fi

id_var="${ORB_ACCESS_KEY_ID_VAR:-AWS_ACCESS_KEY_ID}"
secret_var="${ORB_SECRET_ACCESS_KEY_VAR:-AWS_SECRET_ACCESS_KEY}"
valid_name "$id_var" || die "aws_access_key_id ${id_var} is not a variable name"
valid_name "$secret_var" || die "aws_secret_access_key ${secret_var} is not a variable name"
if [ -z "${!id_var:-}" ] || [ -z "${!secret_var:-}" ]; then
  log "no role_arn and \$${id_var} or \$${secret_var} is empty: using the AWS SDK's default credential chain"
  exit 0
fi
# Only references go to BASH_ENV, never the values: the file stays free of secrets.
# shellcheck disable=SC2016
{
  [ "$id_var" = AWS_ACCESS_KEY_ID ] || printf 'export AWS_ACCESS_KEY_ID="${%s}"\n' "$id_var"
  [ "$secret_var" = AWS_SECRET_ACCESS_KEY ] || printf 'export AWS_SECRET_ACCESS_KEY="${%s}"\n' "$secret_var"
} >>"$BASH_ENV"
log "access keys from \$${id_var} and \$${secret_var}"
