#!/usr/bin/env bash
# Chooses the AWS credentials for the graviton-cd steps that follow and writes
# them to BASH_ENV, which every later CircleCI step sources.
#
# With a role ARN: CircleCI OIDC. AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE
# point the AWS SDK inside graviton-cd (and Terraform's provider) at a token file
# in a private directory made for this job (mktemp -d, mode 0700: never $HOME,
# which outlives the job on a self-hosted runner and is shared by concurrent
# jobs). The token itself is written, and renewed, by each graviton-cd step
# (run-subcommand.sh): a CircleCI token expires an hour after it is issued.
# CircleCI issues tokens to every job, with or without a context; a job of a
# pull request from a fork gets one only when the project setting "Pass secrets
# to builds from forked pull requests" is on.
# Without a role: access keys from the environment variables the job's
# parameters name.
#
# Inputs (environment, set by the orb):
#   ORB_ROLE_ARN                 IAM role to assume with OIDC ($VAR expanded); empty for access keys
#   ORB_ROLE_SESSION_NAME        session name for the assumed role (optional; $VAR expanded)
#   ORB_SESSION_DURATION         seconds each role session lasts (900-43200; empty: AWS's default, 3600)
#   ORB_ACCESS_KEY_ID_VAR        name of the variable holding the access key ID
#   ORB_SECRET_ACCESS_KEY_VAR    name of the variable holding the secret access key
#   ORB_TOKEN_DIR                parent of the private token directory (default: $TMPDIR or /tmp)
#   CIRCLE_OIDC_TOKEN_V2         the job's token, when CircleCI set it
set -euo pipefail

log() { printf 'graviton-cd auth: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -n "${BASH_ENV:-}" ] || die "BASH_ENV is not set: this step must run in a CircleCI job (or a runner that provides it)"

valid_name() { [[ "$1" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; }

# Parameter values are not expanded by CircleCI: $VAR and ${VAR} are, here
# (circleci env subst where the CLI has it), so role_arn can come from a context.
expand_vars() {
  local s=$1 out=""
  while [[ "$s" == *'$'* ]]; do
    out+="${s%%\$*}"
    s="${s#*\$}"
    if [[ "$s" =~ ^\{([A-Za-z_][A-Za-z0-9_]*)\}(.*)$ ]] || [[ "$s" =~ ^([A-Za-z_][A-Za-z0-9_]*)(.*)$ ]]; then
      local name="${BASH_REMATCH[1]}"
      s="${BASH_REMATCH[2]}"
      out+="${!name:-}"
    else
      out+='$'
    fi
  done
  printf '%s' "${out}${s}"
}
env_subst() {
  local v
  if [[ "$1" == *'$'* ]] && command -v circleci >/dev/null 2>&1 && v="$(printf '%s' "$1" | circleci env subst 2>/dev/null)"; then
    printf '%s' "$v"
  else
    expand_vars "$1"
  fi
}

if [[ "${ORB_ROLE_ARN:-}" == *'$'* ]]; then
  given="$ORB_ROLE_ARN"
  ORB_ROLE_ARN="$(env_subst "$ORB_ROLE_ARN")"
  [ -n "$ORB_ROLE_ARN" ] || die "role_arn is ${given}, which expands to nothing: set the variable (e.g. in the job's context or project settings)"
fi
ORB_ROLE_SESSION_NAME="$(env_subst "${ORB_ROLE_SESSION_NAME:-}")"

if [ -n "${ORB_ROLE_ARN:-}" ]; then
  [[ "$ORB_ROLE_ARN" == arn:* ]] || die "role_arn ${ORB_ROLE_ARN} is not an ARN: expected arn:aws:iam::<account>:role/<name>"
  if [ -z "${CIRCLE_OIDC_TOKEN_V2:-}" ] && ! command -v circleci >/dev/null 2>&1; then
    die "role_arn is set, but CIRCLE_OIDC_TOKEN_V2 is empty and there is no circleci CLI to get a token: on a self-hosted runner install the CircleCI CLI; for a pull request from a fork, turn on \"Pass secrets to builds from forked pull requests\""
  fi
  duration="${ORB_SESSION_DURATION:-}"
  if [ -n "$duration" ]; then
    if ! [[ "$duration" =~ ^[0-9]+$ ]] || [ "$duration" -lt 900 ] || [ "$duration" -gt 43200 ]; then
      die "session_duration ${duration} is not a number of seconds from 900 to 43200 (the role's maximum session duration caps it)"
    fi
  fi
  dir="$(mktemp -d "${ORB_TOKEN_DIR:-${TMPDIR:-/tmp}}/graviton-cd-oidc.XXXXXXXX")"
  chmod 0700 "$dir"
  token_file="${dir}/oidc-token"
  session="${ORB_ROLE_SESSION_NAME:-graviton-cd-${CIRCLE_JOB:-job}-${CIRCLE_BUILD_NUM:-0}}"
  # Role session names allow [\w+=,.@-] and at most 64 characters.
  session="$(printf '%s' "$session" | tr -c 'A-Za-z0-9_+=,.@-' '-' | cut -c1-64)"
  {
    printf 'export AWS_ROLE_ARN=%q\n' "$ORB_ROLE_ARN"
    printf 'export AWS_WEB_IDENTITY_TOKEN_FILE=%q\n' "$token_file"
    printf 'export GRAVITON_CD_OIDC_TOKEN_FILE=%q\n' "$token_file"
    printf 'export AWS_ROLE_SESSION_NAME=%q\n' "$session"
    if [ -n "$duration" ]; then
      printf 'export GRAVITON_CD_ROLE_SESSION_DURATION=%q\n' "${duration}s"
    fi
    # The SDK prefers static keys to web identity: drop any that a context set,
    # so the role is what graviton-cd really uses.
    printf 'unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE\n'
  } >>"$BASH_ENV"
  log "OIDC: assuming ${ORB_ROLE_ARN} as session ${session}; each graviton-cd step renews the token in ${dir}"
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
