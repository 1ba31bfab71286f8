#!/usr/bin/env bash
# make demo: the whole product end to end on the local stack, run the way the
# orb's jobs run it: provision → deploy → smoke-test → destroy → leftover check.
# Expects the environment of .ci/with-stack.sh (moto URL, Terraform CLI + mirror).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${GRAVITON_CD_TEST_MOTO_URL:?run through make demo (it starts moto)}"

work=$(mktemp -d "${TMPDIR:-/tmp}/graviton-cd-demo.XXXXXX")
stack="$work/stack"
name="demo-$(date +%H%M%S)"
pids=()
provisioned=
declare -A took
t0=$(date +%s)

# Bold headings only on a terminal, and never with NO_COLOR (no-color.org).
say() { printf '\n== %s\n' "$*"; }
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }; fi

cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ -n "$provisioned" ]; then
		say "cleaning up the stack the demo left (it failed part way)"
		"$work/graviton-cd" destroy --stack-dir "$stack" || true
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT

phase() { # phase NAME CMD... : run one phase, record its time, stop at the first failure
	local label=$1 s
	shift
	s=$(date +%s)
	say "$label"
	if ! "$@"; then
		echo "demo: phase '$label' failed" >&2
		exit 1
	fi
	took[$label]=$(($(date +%s) - s))
}

build() {
	echo "building graviton-cd, the sample app (host, linux/arm64, linux/amd64) and the demo registry"
	CGO_ENABLED=0 go build -o "$work/graviton-cd" ./orb
	CGO_ENABLED=0 go build -o "$work/sampleapp" ./internal/sampleapp/cmd/sampleapp
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -o "$work/sampleapp-arm64" ./internal/sampleapp/cmd/sampleapp
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -o "$work/sampleapp-amd64" ./internal/sampleapp/cmd/sampleapp
	go build -o "$work/demoregistry" ./internal/demo/cmd/demoregistry
	"$work/demoregistry" --bin-arm64 "$work/sampleapp-arm64" --bin-amd64 "$work/sampleapp-amd64" \
		--repo sample-app --tags v1,v2 --amd64-only-tag amd64-only --refs-file "$work/refs" &
	pids+=($!)
	for _ in $(seq 1 100); do [ -s "$work/refs" ] && break; sleep 0.1; done
	[ -s "$work/refs" ] || { echo "the demo registry did not start"; return 1; }
	echo "images in the local registry (real OCI images of the sample app, built without Docker):"
	sed 's/^/  /' "$work/refs"
}
ref() { sed -n "s/^$1=//p" "$work/refs"; }

# The AWS side is moto; everything else is real: the binary, OpenTofu/Terraform,
# the AWS provider, the image registry and the sample app.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=$GRAVITON_CD_TEST_MOTO_URL AWS_EC2_METADATA_DISABLED=true
export GRAVITON_CD_TERRAFORM_BINARY=${GRAVITON_CD_TEST_TERRAFORM:-}

provision() {
	"$work/graviton-cd" provision --name "$name" --dir "$stack" --image "$(ref v1)" \
		--container-port 8080 --health-check-path /version
	provisioned=1
	echo "Terraform's whole output (its JSON UI and init's text), kept in the stack directory:"
	for f in "$stack"/logs/*.log; do printf '  %s (%d lines)\n' "${f#"$stack"/}" "$(wc -l <"$f")"; done
	echo "outputs.json:"
	sed 's/^/  /' "$stack/outputs.json"
}

deploy() {
	echo "first, an amd64-only image, which deploy must refuse before touching the service:"
	if "$work/graviton-cd" deploy --stack-dir "$stack" --image "$(ref amd64-only)" --no-wait; then
		echo "demo: deploy accepted an amd64-only image" >&2
		return 1
	fi
	echo "refused, as it should be. What deploying v2 would change (--dry-run changes nothing):"
	"$work/graviton-cd" deploy --stack-dir "$stack" --image "$(ref v2)" --dry-run
	echo "Now the multi-arch v2:"
	echo "note: moto registers the revision and updates the service for real, but never runs tasks or"
	echo "progresses a rollout, so the demo stops following after UpdateService (--no-wait). How deploy"
	echo "follows a rollout to COMPLETED, FAILED or a rollback is proven by the protocol-level tests."
	"$work/graviton-cd" deploy --stack-dir "$stack" --image "$(ref v2)" --no-wait
}

smoke() {
	local port alb
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	alb=$(sed -n 's/.*"alb_dns_name": "\(.*\)".*/\1/p' "$stack/outputs.json")
	echo "moto runs no containers: the sample app v2 runs here on 127.0.0.1:$port in their place,"
	echo "reached through --connect-to as if it were behind $alb"
	"$work/sampleapp" --addr "127.0.0.1:$port" --version v2 &
	pids+=($!)
	"$work/graviton-cd" smoke-test --stack-dir "$stack" --path /version --connect-to "$alb:80:127.0.0.1:$port" \
		--expect-json version=v2 --interval 500ms --consecutive 3 --timeout 30s --junit "$work/junit.xml"
	echo "JUnit report:"
	sed 's/^/  /' "$work/junit.xml"
}

destroy() {
	"$work/graviton-cd" destroy --stack-dir "$stack"
	provisioned=
	echo "and again, to show destroy is idempotent:"
	"$work/graviton-cd" destroy --stack-dir "$stack"
}

phase build build
phase provision provision
phase deploy deploy
phase smoke-test smoke
phase destroy destroy

say "summary: every phase passed in $(($(date +%s) - t0)) s"
for p in build provision deploy smoke-test destroy; do printf '  %-11s %4d s\n' "$p" "${took[$p]}"; done
