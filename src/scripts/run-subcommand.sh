#!/usr/bin/env bash
# Runs one graviton-cd subcommand with the job's parameters, which arrive as
# GRAVITON_CD_* environment variables (each is also a flag of the binary).
#
# Inputs (environment, set by the orb):
#   ORB_SUBCOMMAND   provision, deploy, smoke-test or destroy
#   GRAVITON_CD_BIN  the binary the install command chose (default: graviton-cd on PATH)
#   GRAVITON_CD_*    the subcommand's settings; an empty one means "the binary's default"
#   ORB_SKIP_WITHOUT_STACK  "true": exit 0 when GRAVITON_CD_STACK_DIR does not exist
#                    (destroy after a failure that happened before anything was created)
set -euo pipefail

case "${ORB_SUBCOMMAND:-}" in
  provision | deploy | smoke-test | destroy) ;;
  *) printf 'graviton-cd: error: unknown subcommand "%s"\n' "${ORB_SUBCOMMAND:-}" >&2; exit 2 ;;
esac

if [ "${ORB_SKIP_WITHOUT_STACK:-}" = true ] && [ ! -d "${GRAVITON_CD_STACK_DIR:-}" ]; then
  printf 'graviton-cd: no stack directory %s: nothing was created, nothing to %s\n' "${GRAVITON_CD_STACK_DIR:-}" "$ORB_SUBCOMMAND" >&2
  exit 0
fi

# An orb parameter left empty arrives as an empty variable. Unset it, so the
# binary applies its own default instead of parsing "" (a 0s timeout, say).
while IFS= read -r name; do
  if [ -z "${!name}" ]; then
    unset "$name"
  fi
done < <(compgen -e | grep '^GRAVITON_CD_' || true)

# The JUnit file lands in a directory that may not exist yet.
if [ -n "${GRAVITON_CD_JUNIT:-}" ]; then
  mkdir -p "$(dirname "$GRAVITON_CD_JUNIT")"
fi

bin="${GRAVITON_CD_BIN:-graviton-cd}"
command -v "$bin" >/dev/null 2>&1 || {
  printf 'graviton-cd: error: %s not found: run the install command first\n' "$bin" >&2
  exit 2
}
exec "$bin" "$ORB_SUBCOMMAND"
