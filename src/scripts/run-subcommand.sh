#!/usr/bin/env bash
# Runs one graviton-cd subcommand with the job's parameters, which arrive as
# GRAVITON_CD_* environment variables (each is also a flag of the binary).
#
# Inputs (environment, set by the orb):
#   ORB_SUBCOMMAND   provision, deploy, smoke-test, destroy, status, logs, rollback or run-task
#   GRAVITON_CD_BIN  the binary the install command chose (default: graviton-cd on PATH)
#   GRAVITON_CD_*    the subcommand's settings; an empty one means "the binary's default".
#                    $VAR and ${VAR} in them are expanded (circleci env subst), except in
#                    GRAVITON_CD_EXPECT_BODY_REGEX, where $ is a regular expression anchor,
#                    and GRAVITON_CD_COMMAND, run-task's command, which runs in the container.
#   ORB_DEFAULT_DIR  the stack directory when the parameter is empty (provision's
#                    GRAVITON_CD_DIR, or GRAVITON_CD_STACK_DIR for its destroy after a failure)
#   ORB_SKIP_WITHOUT_STACK  "true": exit 0 when GRAVITON_CD_STACK_DIR is set and does not
#                    exist (destroy after a failure that happened before anything was created)
#   GRAVITON_CD_OIDC_TOKEN_FILE  set (through BASH_ENV) by the credentials step for CircleCI
#                    OIDC: the token there is renewed before the subcommand and while it runs
#   ORB_OIDC_MIN_VALIDITY  seconds a token must still be valid to be used (default 1800)
#   ORB_OIDC_CHECK_EVERY   seconds between checks while the subcommand runs (default 60)
set -euo pipefail

log() { printf 'graviton-cd: %s\n' "$*" >&2; }

case "${ORB_SUBCOMMAND:-}" in
  provision | deploy | smoke-test | destroy | status | logs | rollback | run-task) ;;
  *) log "error: unknown subcommand \"${ORB_SUBCOMMAND:-}\""; exit 2 ;;
esac

# --- $VAR in parameters ----------------------------------------------------------
# CircleCI passes parameter values as written: `image: $ECR/shop:$CIRCLE_SHA1`
# arrives with the dollar signs. `circleci env subst` expands $VAR and ${VAR}
# (and nothing else: no commands, no arithmetic). Where the CLI lacks it, the
# same expansion is done here, never with eval.
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

have_env_subst=""
env_subst() {
  if [ -z "$have_env_subst" ]; then
    have_env_subst=no
    if command -v circleci >/dev/null 2>&1 && [ "$(printf 'ok' | circleci env subst 2>/dev/null)" = ok ]; then
      have_env_subst=yes
    fi
  fi
  if [ "$have_env_subst" = yes ]; then
    printf '%s' "$1" | circleci env subst
  else
    expand_vars "$1"
  fi
}

while IFS= read -r name; do
  value="${!name}"
  case "$name" in GRAVITON_CD_EXPECT_BODY_REGEX | GRAVITON_CD_COMMAND) continue ;; esac
  if [[ "$value" == *'$'* ]]; then
    expanded="$(env_subst "$value")"
    export "$name=$expanded"
  fi
done < <(compgen -e | grep '^GRAVITON_CD_' || true)

# An orb parameter left empty arrives as an empty variable. Unset it, so the
# binary applies its own default instead of parsing "" (a 0s timeout, say).
while IFS= read -r name; do
  if [ -z "${!name}" ]; then
    unset "$name"
  fi
done < <(compgen -e | grep '^GRAVITON_CD_' || true)

# The provision job renders into a directory of its own when stack_dir is
# empty; its destroy-after-failure step looks there.
if [ -n "${ORB_DEFAULT_DIR:-}" ]; then
  if [ "$ORB_SUBCOMMAND" = provision ]; then
    export GRAVITON_CD_DIR="${GRAVITON_CD_DIR:-$ORB_DEFAULT_DIR}"
  else
    export GRAVITON_CD_STACK_DIR="${GRAVITON_CD_STACK_DIR:-$ORB_DEFAULT_DIR}"
  fi
fi

# One way to find the stack. An explicit stack_dir (for smoke-test also url,
# for deploy also cluster) wins over the stack name, which may be a
# GRAVITON_CD_NAME exported for the whole pipeline; the binary refuses both.
case "$ORB_SUBCOMMAND" in
  deploy | rollback | run-task) explicit="${GRAVITON_CD_STACK_DIR:-}${GRAVITON_CD_CLUSTER:-}" ;;
  logs) explicit="${GRAVITON_CD_STACK_DIR:-}${GRAVITON_CD_CLUSTER:-}${GRAVITON_CD_LOG_GROUP:-}" ;;
  smoke-test) explicit="${GRAVITON_CD_STACK_DIR:-}${GRAVITON_CD_URL:-}" ;;
  *) explicit="" ;;
esac
if [ -n "$explicit" ] && [ -n "${GRAVITON_CD_NAME:-}" ]; then
  log "the stack is given by stack_dir, url or cluster: the stack name ${GRAVITON_CD_NAME} is not used"
  unset GRAVITON_CD_NAME
fi

if [ "${ORB_SKIP_WITHOUT_STACK:-}" = true ] && [ -n "${GRAVITON_CD_STACK_DIR:-}" ] && [ ! -d "$GRAVITON_CD_STACK_DIR" ]; then
  log "no stack directory ${GRAVITON_CD_STACK_DIR}: nothing was created, nothing to ${ORB_SUBCOMMAND}"
  exit 0
fi

# The JUnit file lands in a directory that may not exist yet.
if [ -n "${GRAVITON_CD_JUNIT:-}" ]; then
  mkdir -p "$(dirname "$GRAVITON_CD_JUNIT")"
fi

bin="${GRAVITON_CD_BIN:-graviton-cd}"
command -v "$bin" >/dev/null 2>&1 || {
  log "error: $bin not found: run the install command first"
  exit 2
}

# --- CircleCI OIDC: a token that is always fresh --------------------------------
# A CircleCI OIDC token expires one hour after it is issued. The AWS SDK in
# graviton-cd and in Terraform's provider re-reads AWS_WEB_IDENTITY_TOKEN_FILE
# whenever it renews the role's credentials, so the file must hold a token that
# is still valid then: it is renewed before the subcommand starts and checked
# every minute while it runs.
token_file="${GRAVITON_CD_OIDC_TOKEN_FILE:-}"
min_validity="${ORB_OIDC_MIN_VALIDITY:-1800}"

# jwt_exp prints the exp claim of a JWT (seconds since the epoch), or nothing.
jwt_exp() {
  local payload
  payload="$(printf '%s' "$1" | cut -d. -f2 | tr '_-' '/+')"
  case $((${#payload} % 4)) in
    2) payload+="==" ;;
    3) payload+="=" ;;
  esac
  printf '%s' "$payload" | base64 -d 2>/dev/null | tr -d ' \n' | sed -n 's/.*"exp":\([0-9][0-9]*\).*/\1/p' || true
}

# token_fresh succeeds when the JWT $1 stays valid for min_validity seconds more.
token_fresh() {
  local exp
  [ -n "$1" ] || return 1
  exp="$(jwt_exp "$1")"
  [ -n "$exp" ] && [ "$((exp - $(date +%s)))" -gt "$min_validity" ]
}

# mint_token asks CircleCI for a new token, with the audience of the job's own
# token (the organization ID, which the AWS identity provider trusts).
mint_token() {
  local claims="" attempt token
  if [ -n "${CIRCLE_ORGANIZATION_ID:-}" ]; then
    claims="{\"aud\":\"${CIRCLE_ORGANIZATION_ID}\"}"
  fi
  for attempt in 1 2 3 4; do
    if [ -n "$claims" ]; then
      token="$(circleci run oidc get --claims "$claims" 2>/dev/null)" || token=""
    else
      token="$(circleci run oidc get 2>/dev/null)" || token=""
    fi
    if [ -n "$token" ]; then
      printf '%s' "$token"
      return 0
    fi
    [ "$attempt" = 4 ] || sleep "$((attempt * 2))"
  done
  return 1
}

# refresh_token makes token_file hold a token with min_validity seconds left:
# the one there, else the job's CIRCLE_OIDC_TOKEN_V2, else a new one.
refresh_token() {
  local current="" token
  [ -f "$token_file" ] && current="$(cat "$token_file")"
  if token_fresh "$current"; then
    return 0
  fi
  if token_fresh "${CIRCLE_OIDC_TOKEN_V2:-}"; then
    token="$CIRCLE_OIDC_TOKEN_V2"
  elif command -v circleci >/dev/null 2>&1; then
    token="$(mint_token)" || {
      log "error: circleci run oidc get failed 4 times: no OIDC token for the role"
      return 1
    }
    log "OIDC: new token from circleci run oidc get"
  else
    log "error: no valid OIDC token (CIRCLE_OIDC_TOKEN_V2 is missing or expires within ${min_validity}s) and no circleci CLI to get one"
    return 1
  fi
  # Written beside the old one and renamed, so a reader never sees half a token.
  (umask 077 && printf '%s' "$token" >"${token_file}.new")
  mv -f "${token_file}.new" "$token_file"
}

if [ -z "$token_file" ]; then
  exec "$bin" "$ORB_SUBCOMMAND"
fi

refresh_token || exit 1
"$bin" "$ORB_SUBCOMMAND" &
child=$!
# Cancelling the job signals this shell: pass it on, then wait for the binary
# to finish what it is doing (it gives in-flight operations their grace).
trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT
(
  nap=""
  trap 'kill "$nap" 2>/dev/null; exit 0' TERM
  trap '' INT
  while :; do
    sleep "${ORB_OIDC_CHECK_EVERY:-60}" &
    nap=$!
    wait "$nap" || true
    refresh_token || true
  done
) &
refresher=$!
status=0
while :; do
  wait "$child" && status=0 || status=$?
  kill -0 "$child" 2>/dev/null || break
done
kill "$refresher" 2>/dev/null || true
wait "$refresher" 2>/dev/null || true
exit "$status"
