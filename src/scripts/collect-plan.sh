#!/usr/bin/env bash
# Copies what a reviewer needs from the stack directory into an artifacts
# directory: the human-readable plan and the rendered Terraform module.
# Never state, the provider cache or the binary plan: those can hold secrets.
#
# Inputs (environment, set by the orb):
#   ORB_STACK_DIR      the stack directory provision wrote
#   ORB_ARTIFACTS_DIR  where store_artifacts picks the files up
set -euo pipefail

src="${ORB_STACK_DIR:?stack_dir is empty}"
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
    *.tfstate | *.tfstate.* | *.tfplan) continue ;;
    *.tf | *.tf.json | plan*.txt | *.plan.txt | outputs.json) ;;
    *) continue ;;
  esac
  cp "$f" "$dest/"
  count=$((count + 1))
done
printf 'graviton-cd: collected %d file(s) from %s into %s\n' "$count" "$src" "$dest" >&2
