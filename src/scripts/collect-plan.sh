#!/usr/bin/env bash
# Copies what a reviewer needs from the stack directory into an artifacts
# directory: the plan as text (terraform show of provision's tfplan, which
# masks sensitive values), the rendered Terraform module and outputs.json.
# Never state, the provider cache or the binary plan: those can hold secrets.
#
# Inputs (environment, set by the orb):
#   ORB_STACK_DIR      the stack directory provision wrote (the stack_dir parameter)
#   ORB_DEFAULT_DIR    the one provision used when stack_dir was empty
#   ORB_ARTIFACTS_DIR  where store_artifacts picks the files up
#   GRAVITON_CD_TERRAFORM_BINARY  the CLI provision was told to use (--terraform-binary)
set -euo pipefail

src="${ORB_STACK_DIR:-${ORB_DEFAULT_DIR:?neither stack_dir nor a default directory is set}}"
dest="${ORB_ARTIFACTS_DIR:?artifacts directory is empty}"
mkdir -p "$dest"
if [ ! -d "$src" ]; then
  printf 'graviton-cd: %s does not exist (provision stopped before writing it): nothing to collect\n' "$src" >&2
  exit 0
fi
count=0
for f in "$src"/*; do
  [ -f "$f" ] || continue
  case "$(basename "$f")" in
    *.tfstate | *.tfstate.* | tfplan | *.tfplan) continue ;;
    *.tf | *.tf.json | plan*.txt | outputs.json | stack.json) ;;
    *) continue ;;
  esac
  cp "$f" "$dest/"
  count=$((count + 1))
done
# The plan as text, rendered by the CLI that wrote it (a plan file is read only
# by the CLI and version that made it): the one provision recorded in
# stack.json, else the one it was told to use, else terraform or tofu on PATH,
# else one that provision installed into the cache.
recorded_cli() {
  [ -f "${src}/stack.json" ] || return 0
  tr -d '\n' <"${src}/stack.json" | sed -n 's/.*"terraform_binary"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p'
}
if [ -f "${src}/tfplan" ]; then
  tf=""
  for candidate in "$(recorded_cli)" "${GRAVITON_CD_TERRAFORM_BINARY:-}"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      tf="$candidate"
      break
    fi
  done
  [ -n "$tf" ] || tf="$(command -v terraform || command -v tofu || true)"
  if [ -z "$tf" ]; then
    for candidate in "${XDG_CACHE_HOME:-$HOME/.cache}"/graviton-cd/terraform/*/terraform; do
      [ -x "$candidate" ] && tf="$candidate"
    done
  fi
  if [ -n "$tf" ] && "$tf" -chdir="$src" show -no-color tfplan >"${dest}/plan.txt" 2>"${dest}/plan.err"; then
    rm -f "${dest}/plan.err"
    count=$((count + 1))
  else
    rm -f "${dest}/plan.txt" "${dest}/plan.err"
    printf 'graviton-cd: could not render %s/tfplan as text (no terraform found or show failed); the log has the plan summary\n' "$src" >&2
  fi
fi
printf 'graviton-cd: collected %d file(s) from %s into %s\n' "$count" "$src" "$dest" >&2
