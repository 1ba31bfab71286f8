#!/usr/bin/env bash
# Validates the packed orb, its examples and .circleci/*.yml against CircleCI's
# published config schema (the one its YAML language server uses). Locally the
# schema lives in ../shared; in CircleCI it is fetched first.
set -euo pipefail

schema="${ORBPACK_CONFIG_SCHEMA:-../shared/circleci/config-schema.json}"
if [ ! -f "$schema" ]; then
  schema="$(mktemp)"
  curl --fail --silent --show-error --location --retry 3 \
    --output "$schema" \
    https://raw.githubusercontent.com/CircleCI-Public/circleci-yaml-language-server/main/schema.json
fi
schema="$(cd "$(dirname "$schema")" && pwd)/$(basename "$schema")"
ORBPACK_CONFIG_SCHEMA="$schema" go test -count=1 -run 'Schema' ./internal/orbpack/
