#!/usr/bin/env bash
# make bench: graviton-cd's numbers beside what users would do instead, printed
# as one markdown table (medians of several runs, ratios where two things are
# compared). Expects the environment of .ci/with-stack.sh (moto URL, Terraform
# CLI and provider mirror). Progress goes to stderr, the table to stdout.
#
#   BENCH_RUNS          provision + destroy runs per tool (default 3, ~3 min each; 0 skips them)
#   BENCH_COLD_RUNS     cold starts of --version (default 20)
#   BENCH_INSTALL_RUNS  runs of the orb install step, first and cached each (default 10)
#   BENCH_OUT           also write the table to this file
#   BENCH_KEEP=1        keep the working directory (samples, benchmark output, logs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${GRAVITON_CD_TEST_MOTO_URL:?run through make bench (it starts moto)}"
: "${GRAVITON_CD_TEST_TERRAFORM:?run through make bench (make tools finds the Terraform CLI)}"
runs=${BENCH_RUNS:-3}
cold_runs=${BENCH_COLD_RUNS:-20}
install_runs=${BENCH_INSTALL_RUNS:-10}
export LC_ALL=C # a dot in $EPOCHREALTIME and in awk's numbers

work=$(mktemp -d "${TMPDIR:-/tmp}/graviton-cd-bench.XXXXXX")
samples="$work/samples.txt"
: >"$samples"
bin=""
pids=()
live=() # stacks provisioned and not yet destroyed: "graviton-cd <dir>" or "terraform <dir>"

log() { printf '%s bench: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
sample() { printf '%s %s\n' "$1" "$2" >>"$samples"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
declare -A notes_by # notes under the table, keyed by part, printed in the table's order
note() { notes_by[$1]=$2; }

cleanup() {
	local rc=$? s
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for s in "${live[@]}"; do
		log "destroying ${s#* }, left by a run that failed part way"
		case $s in
		graviton-cd\ *) "$bin" destroy --stack-dir "${s#* }" >&2 || true ;;
		terraform\ *) by_hand "${s#* }" destroy -auto-approve >&2 || true ;;
		esac
	done
	if [ "$rc" -ne 0 ]; then
		log "failed; logs kept in $work"
	elif [ -n "${BENCH_KEEP:-}" ]; then
		log "working directory kept: $work"
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT

forget() { # forget ENTRY: the stack is gone, the cleanup need not destroy it
	local keep=() s
	for s in "${live[@]}"; do [ "$s" = "$1" ] || keep+=("$s"); done
	live=("${keep[@]}")
}

# --- the machine ---------------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
[ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | awk -F': *' '/^Model name/ { print $2; exit }')
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
machine="$(nproc) cores (nproc), $mem memory, ${cpu:-unknown CPU}, $(go version | awk '{ print $3, $4 }'), $(uname -sr)"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
log "machine: $machine; load average $load_start"

# --- 1. deploy waiting, on the virtual clock -------------------------------------
log "1/4 deploy waiting: go test -bench ./internal/ecsdeploy/ (virtual clock, scripted rollouts)"
go test -run '^$' -bench . -benchtime 3x -count 3 ./internal/ecsdeploy/ >"$work/follow.txt"

# --- 2. binaries: size per platform, cold start -----------------------------------
version=0.0.0-bench
release="$work/release/v$version"
mkdir -p "$release"
log "2/4 make cross: the four release binaries"
make -s cross CROSS_DIR="$release" >&2
for os in linux darwin; do
	for arch in amd64 arm64; do
		sample "size.${os}_${arch}" "$(wc -c <"$release/graviton-cd_${os}_${arch}")"
	done
done
note size "Sizes: this working tree built as the release builds are (CGO_ENABLED=0, -trimpath, -ldflags '-s -w')."
bin="$release/graviton-cd_$(go env GOOS)_$(go env GOARCH)"
go build -o "$work/benchtable" ./internal/bench/cmd/benchtable

log "2/4 cold start: $cold_runs runs of graviton-cd --version, a fresh process each"
if command -v hyperfine >/dev/null; then
	hyperfine --shell=none --warmup 3 --runs "$cold_runs" --export-json "$work/cold.json" \
		"$bin --version" >"$work/hyperfine.log" 2>&1
	python3 -c 'import json, sys
for t in json.load(open(sys.argv[1]))["results"][0]["times"]: print("coldstart.version", t)' \
		"$work/cold.json" >>"$samples"
	note cold "Cold start by hyperfine $(hyperfine --version | awk '{ print $2 }') (--shell=none, 3 warm-up runs): a fresh process each run, files in the page cache."
else
	log "hyperfine is not installed (Debian package hyperfine): timing a bash loop instead"
	for _ in $(seq 1 "$cold_runs"); do
		s=$EPOCHREALTIME
		"$bin" --version >/dev/null
		sample coldstart.version "$(since "$s")"
	done
	note cold "Cold start by a bash loop (hyperfine was not installed): a fork + exec each run, so it includes bash's own fork."
fi

# --- 3. the orb install step -------------------------------------------------------
(cd "$release" && sha256sum graviton-cd_* >checksums.txt)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/release" "$port" >"$work/http.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
	curl -fsS -o /dev/null "http://127.0.0.1:$port/v$version/checksums.txt" 2>/dev/null && break
	sleep 0.1
done

install_once() { # install_once CACHE_DIR EXPECTED_LOG_LINE SAMPLE_NAME
	local s out
	s=$EPOCHREALTIME
	out=$(env -u ORB_BINARY_PATH -u ORB_EMBEDDED_VERSION -u ORB_EMBEDDED_CHECKSUMS \
		ORB_VERSION="$version" ORB_BASE_URL="http://127.0.0.1:$port" ORB_CACHE_DIR="$1" \
		BASH_ENV="$work/bash_env" bash src/scripts/install.sh 2>&1) || { echo "$out" >&2; return 1; }
	s=$(since "$s")
	case $out in *"$2"*) ;; *)
		echo "$out" >&2
		log "the install step did not say \"$2\""
		return 1
		;;
	esac
	sample "$3" "$s"
}

log "3/4 orb install step: $install_runs first runs (empty cache) and $install_runs cached runs, from http://127.0.0.1:$port"
for i in $(seq 1 "$install_runs"); do
	install_once "$work/install-cache-$i" "verified sha256" install.first
done
for _ in $(seq 1 "$install_runs"); do
	install_once "$work/install-cache-1" "cache hit" install.cached
done
note install "Install step: src/scripts/install.sh as the orb runs it, fetching checksums.txt and the real $(go env GOOS)/$(go env GOARCH) binary built above from python3 -m http.server on 127.0.0.1; first run = an empty cache directory, cached run = the same directory again (the binary is re-hashed, nothing is fetched)."

# --- 4. provision + destroy: graviton-cd vs Terraform by hand ----------------------
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export GRAVITON_CD_TERRAFORM_BINARY=$GRAVITON_CD_TEST_TERRAFORM
tag=$(printf '%04x' $((RANDOM % 65536))) # names unique on a moto other people may share

by_hand() { # by_hand DIR COMMAND ARGS…: the plain CLI, as a user would run it in CI
	local dir=$1
	shift
	TF_IN_AUTOMATION=1 "$GRAVITON_CD_TEST_TERRAFORM" -chdir="$dir" "$@" -input=false -no-color
}

run_graviton_cd() { # run_graviton_cd RUN
	local dir="$work/graviton-cd-$1" logf="$work/graviton-cd-$1.log" s p d
	s=$EPOCHREALTIME
	live+=("graviton-cd $dir")
	"$bin" provision --name "bg$1-$tag" --dir "$dir" --endpoint-url "$GRAVITON_CD_TEST_MOTO_URL" >"$logf" 2>&1 ||
		{ tail -n 30 "$logf" >&2; return 1; }
	p=$(since "$s")
	s=$EPOCHREALTIME
	"$bin" destroy --stack-dir "$dir" >>"$logf" 2>&1 || { tail -n 30 "$logf" >&2; return 1; }
	d=$(since "$s")
	forget "graviton-cd $dir"
	sample stack.graviton-cd.provision "$p"
	sample stack.graviton-cd.destroy "$d"
	sample stack.graviton-cd.total "$(awk -v a="$p" -v b="$d" 'BEGIN { print a + b }')"
	log "  run $1: graviton-cd provision ${p} s + destroy ${d} s"
}

run_by_hand() { # run_by_hand RUN: the module graviton-cd renders, applied with plain terraform
	local dir="$work/terraform-$1" logf="$work/terraform-$1.log" s p d
	"$bin" provision --render-only --name "bt$1-$tag" --dir "$dir" --endpoint-url "$GRAVITON_CD_TEST_MOTO_URL" >"$logf" 2>&1
	s=$EPOCHREALTIME
	live+=("terraform $dir")
	{ by_hand "$dir" init && by_hand "$dir" apply -auto-approve; } >>"$logf" 2>&1 || { tail -n 30 "$logf" >&2; return 1; }
	p=$(since "$s")
	s=$EPOCHREALTIME
	by_hand "$dir" destroy -auto-approve >>"$logf" 2>&1 || { tail -n 30 "$logf" >&2; return 1; }
	d=$(since "$s")
	forget "terraform $dir"
	sample stack.terraform.init-apply "$p"
	sample stack.terraform.destroy "$d"
	sample stack.terraform.total "$(awk -v a="$p" -v b="$d" 'BEGIN { print a + b }')"
	log "  run $1: terraform by hand init + apply ${p} s + destroy ${d} s"
}

if [ "$runs" -gt 0 ]; then
	log "4/4 provision + destroy on the local stack: $runs runs per tool, alternating which goes first (about 3 min per tool per run)"
	for i in $(seq 1 "$runs"); do
		if [ $((i % 2)) -eq 1 ]; then
			run_graviton_cd "$i"
			run_by_hand "$i"
		else
			run_by_hand "$i"
			run_graviton_cd "$i"
		fi
	done
	moto_version=$(python3 -c 'from importlib.metadata import version; print(version("moto"))' 2>/dev/null || echo '?')
	note stack "Local stack: moto $moto_version at $GRAVITON_CD_TEST_MOTO_URL, $("$GRAVITON_CD_TEST_TERRAFORM" version | head -n 1), AWS provider ${GRAVITON_CD_TEST_PROVIDER_VERSION:-?} from a local mirror; the same module (graviton-cd provision --render-only, same flags, another stack name). graviton-cd runs init, plan -out, show -json, apply, output, then init, state pull, destroy with its retries, task definition deregistration and the leftover check over the AWS APIs; by hand runs init, apply -auto-approve, destroy -auto-approve with TF_IN_AUTOMATION=1. Runs alternate which tool goes first."
else
	log "4/4 provision + destroy skipped (BENCH_RUNS=0)"
fi

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
note follow "Deploy wait: internal/ecsdeploy's BenchmarkFollow (go test -bench . -benchtime 3x -count 3, median of the 3) plays each scripted rollout through the real SDK client and a protocol-level fake ECS on a virtual clock, ten times with the verdict moved through a 15 s period; the times are virtual seconds (mean and max over the ten), deterministic and independent of this machine. services-stable is the CLI waiter's rule: DescribeServices every 15 s, success when there is one deployment and running == desired."
note machine "Load average $load_start at the start, $load_end at the end: anything else running on the machine shows in the absolute times, so the ratios are what matter. ratio = the graviton-cd column ÷ the compared column."

note verify "Verified rollback: internal/ecsdeploy's BenchmarkVerifyRollback on the same fake and virtual clock, a BLUE_GREEN service whose new revision fails its check when test traffic first reaches it. graviton-cd: deploy --verify-checks calls StopServiceDeployment ROLLBACK on the failure (0 s on the virtual clock: the next call; one API round trip in reality) and the fake's rollback takes a scripted 30 s. By hand: the same failure known at the same moment, deploy waits for the bake to end (SUCCESSFUL), then deploys the old revision, which serves production again at that deployment's production shift (scale up + test traffic shift 60 s in the script). How fast real ECS shifts traffic back is for real AWS to show."

notes=()
for part in follow verify stack size cold install machine; do
	if [ -n "${notes_by[$part]:-}" ]; then notes+=(-note "${notes_by[$part]}"); fi
done
table=$("$work/benchtable" -gobench "$work/follow.txt" -samples "$samples" -machine "$machine" "${notes[@]}")
if [ -n "${BENCH_OUT:-}" ]; then printf '%s\n' "$table" >"$BENCH_OUT"; fi
printf '%s\n' "$table"
