#!/usr/bin/env bash
# Find, or fetch or build once and cache, the tools of the local real stack:
#   - a Terraform CLI: terraform or tofu on PATH; else, where releases.hashicorp.com
#     answers (CircleCI), a released Terraform installed with hc-install (signature
#     verified); else OpenTofu built from the Go module proxy (offline)
#   - a filesystem mirror holding the real AWS provider: an existing one; else, where
#     the CLI's registry answers, the pinned provider from the registry (`providers
#     mirror`, checksums verified); else built from the Go module proxy (offline)
#   - moto_server (preinstalled in this machine image's Python)
# and write $cache/local-stack.env for `make test` and `make demo`. Idempotent.
# GRAVITON_CD_OFFLINE=1 skips the network checks; GRAVITON_CD_NO_SYSTEM_TOOLS=1
# ignores the CLIs on PATH and /opt/tf-plugins (the fresh-machine path).
# GRAVITON_CD_NO_BUILD=1 fails instead of building from source (CI, where a
# 45-minute silent build on a small machine is never what was meant).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/versions.env"
cache=${GRAVITON_CD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/graviton-cd}
mkdir -p "$cache"
platform="$(go env GOOS)_$(go env GOARCH)"
log() { printf '%s tools: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

# reachable URL: does the server answer within a few seconds? Never hangs: a
# machine without internet fails at once or after the timeout.
reachable() {
	[ -z "${GRAVITON_CD_OFFLINE:-}" ] || return 1
	command -v curl >/dev/null || return 1
	curl -fsS -o /dev/null --connect-timeout 3 --max-time 8 "$1" 2>/dev/null
}

# --- Terraform CLI -----------------------------------------------------------
install_terraform() {
	local out
	log "releases.hashicorp.com answers: installing Terraform $TERRAFORM_INSTALL_VERSION with hc-install (signature verified)"
	out=$(cd "$here/.." && go run ./.ci/install-terraform -version "$TERRAFORM_INSTALL_VERSION" -cache "$cache") || return 1
	[ -x "$out" ] || return 1
	cli=$out
}

# no_build WHAT stops when building from source is not allowed.
no_build() {
	[ -n "${GRAVITON_CD_NO_BUILD:-}" ] || return 0
	log "GRAVITON_CD_NO_BUILD is set: not building $1 from source. Is the network to HashiCorp's servers down, or .ci/versions.env's version not released?"
	exit 1
}

build_tofu() {
	local out=$1 dir
	no_build "OpenTofu $OPENTOFU_VERSION"
	log "no terraform or tofu on PATH: building OpenTofu $OPENTOFU_VERSION from the Go module proxy (about 8 minutes, once)"
	local json
	json=$(go mod download -json "github.com/opentofu/opentofu@v$OPENTOFU_VERSION") ||
		{ log "could not download OpenTofu $OPENTOFU_VERSION from the Go module proxy: $json"; exit 1; }
	dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$dir" ] || { log "could not download OpenTofu $OPENTOFU_VERSION: no module directory in $json"; exit 1; }
	mkdir -p "$(dirname "$out")"
	# OpenTofu's go.mod has replace directives, so it builds only inside its own module.
	(cd "$dir" && CGO_ENABLED=0 go build -trimpath -o "$out.tmp" ./cmd/tofu)
	mv "$out.tmp" "$out"
}

find_cli() {
	if [ -n "${GRAVITON_CD_TERRAFORM_BINARY:-}" ]; then
		cli=$GRAVITON_CD_TERRAFORM_BINARY; log "Terraform CLI from GRAVITON_CD_TERRAFORM_BINARY: $cli"; return
	fi
	if [ -z "${GRAVITON_CD_NO_SYSTEM_TOOLS:-}" ]; then
		for c in terraform tofu; do
			if cli=$(command -v "$c"); then log "Terraform CLI reused from PATH: $cli"; return; fi
		done
	fi
	cli="$cache/terraform/$TERRAFORM_INSTALL_VERSION/terraform"
	if [ -x "$cli" ]; then log "Terraform CLI reused from cache: $cli"; return; fi
	cli="$cache/tofu/$OPENTOFU_VERSION/tofu"
	if [ -x "$cli" ]; then log "Terraform CLI reused from cache: $cli"; return; fi
	if reachable "https://releases.hashicorp.com/terraform/$TERRAFORM_INSTALL_VERSION/"; then
		if install_terraform; then log "Terraform CLI installed: $cli"; return; fi
		log "installing Terraform failed: building OpenTofu instead"
	fi
	cli="$cache/tofu/$OPENTOFU_VERSION/tofu"
	build_tofu "$cli"
	log "Terraform CLI built: $cli"
}

# --- AWS provider mirror -------------------------------------------------------
# A mirror is usable when it holds hashicorp/aws for this platform under any registry host.
# provider_in DIR [VERSION] prints the newest (or that version's) provider binary, or
# nothing: a directory that does not exist is simply not a mirror.
provider_in() {
	[ -d "$1" ] || return 0
	find "$1" -path "*/hashicorp/aws/${2:-*}/$platform/terraform-provider-aws*" -type f 2>/dev/null | sort -V | tail -n 1 || true
}

build_provider() {
	local mirror=$1 bin="$cache/provider-build/terraform-provider-aws"
	no_build "AWS provider $AWS_PROVIDER_VERSION"
	log "no AWS provider mirror found: building provider $AWS_PROVIDER_VERSION from the Go module proxy"
	log "this takes about 45 minutes and 12 GB of memory on 2 cores, once; it is cached in $cache"
	mkdir -p "$(dirname "$bin")"
	# Never two provider builds at once on one machine: each peaks at 12 GB.
	exec 9>"$cache/provider-build.lock"
	flock 9
	if [ -n "$(provider_in "$mirror")" ]; then return; fi
	GOBIN="$(dirname "$bin")" go install -trimpath \
		-ldflags "-s -w -X github.com/hashicorp/terraform-provider-aws/version.ProviderVersion=$AWS_PROVIDER_VERSION" \
		"github.com/hashicorp/terraform-provider-aws@$AWS_PROVIDER_MODULE_VERSION"
	for host in registry.terraform.io registry.opentofu.org; do
		local d="$mirror/$host/hashicorp/aws/$AWS_PROVIDER_VERSION/$platform"
		mkdir -p "$d"
		cp "$bin" "$d/terraform-provider-aws_v$AWS_PROVIDER_VERSION"
	done
	rm -f "$bin"
	exec 9>&-
}

# The pinned provider version wins wherever it is (it is the one users get from the
# registry); any other version in a mirror is the fallback before a build.
find_mirror() {
	local candidates=() m want
	# A mirror named explicitly wins with whatever version it holds.
	if [ -n "${GRAVITON_CD_PROVIDER_MIRROR:-}" ]; then
		provider=$(provider_in "$GRAVITON_CD_PROVIDER_MIRROR")
		if [ -n "$provider" ]; then mirror=$GRAVITON_CD_PROVIDER_MIRROR; log "AWS provider from GRAVITON_CD_PROVIDER_MIRROR: $provider"; return; fi
	fi
	[ -z "${GRAVITON_CD_NO_SYSTEM_TOOLS:-}" ] && candidates+=(/opt/tf-plugins)
	candidates+=("$cache/provider-mirror")
	for want in "$AWS_PROVIDER_VERSION" ""; do
		for m in "${candidates[@]}"; do
			provider=$(provider_in "$m" "$want")
			if [ -n "$provider" ]; then mirror=$m; log "AWS provider reused from mirror: $provider"; return; fi
		done
	done
	mirror="$cache/provider-mirror"
	if fetch_provider "$mirror"; then
		provider=$(provider_in "$mirror" "$AWS_PROVIDER_VERSION")
		log "AWS provider from the registry: $provider"
		return
	fi
	build_provider "$mirror"
	provider=$(provider_in "$mirror")
	log "AWS provider built: $provider"
}

# fetch_provider MIRROR: where the CLI's registry answers, the CLI itself puts
# the pinned provider into the mirror (`providers mirror` checks the registry's
# checksums and signature). The mirror is the cache: the next run finds it.
fetch_provider() {
	local host=registry.terraform.io work
	case "$(cli_version)" in OpenTofu*) host=registry.opentofu.org ;; esac
	reachable "https://$host/v1/providers/hashicorp/aws/versions" || return 1
	log "$host answers: fetching AWS provider $AWS_PROVIDER_VERSION into $1"
	work=$(mktemp -d)
	printf 'terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n      version = "= %s"\n    }\n  }\n}\n' \
		"$AWS_PROVIDER_VERSION" >"$work/main.tf"
	mkdir -p "$1"
	# No CLI config: straight from the registry, not from a mirror written earlier.
	if ! (cd "$work" && TF_CLI_CONFIG_FILE=/dev/null "$cli" providers mirror -platform="$platform" "$1"); then
		rm -rf "$work"
		log "fetching the provider failed: building it instead"
		return 1
	fi
	rm -rf "$work"
	[ -n "$(provider_in "$1" "$AWS_PROVIDER_VERSION")" ]
}

# The registry host a CLI asks for: tofu resolves hashicorp/aws on its own registry.
# A mirror laid out for the other host is presented through a view of links.
mirror_for_cli() {
	local want=registry.terraform.io
	case "$(cli_version)" in OpenTofu*) want=registry.opentofu.org ;; esac
	if [ -d "$mirror/$want/hashicorp/aws" ]; then cli_mirror=$mirror; return; fi
	# Real directories with the files hard-linked (copied across file systems):
	# OpenTofu 1.12 does not follow a symlinked provider directory in a mirror.
	local platform_dir version_dir d
	platform_dir=$(dirname "$provider")
	version_dir=$(basename "$(dirname "$platform_dir")")
	cli_mirror="$cache/mirror-view"
	rm -rf "$cli_mirror"
	d="$cli_mirror/$want/hashicorp/aws/$version_dir/$(basename "$platform_dir")"
	mkdir -p "$d"
	cp -l "$platform_dir"/* "$d"/ 2>/dev/null || cp "$platform_dir"/* "$d"/
}

# The CLI's version line: the first line that names the product. A CLI config file
# that does not exist yet makes tofu print a warning before it.
cli_version() {
	"$cli" version 2>/dev/null | grep -m 1 -E '^(Terraform|OpenTofu) v' || true
}

find_cli
find_mirror
mirror_for_cli
provider_version=$(basename "$(dirname "$(dirname "$provider")")")
command -v moto_server >/dev/null || { log "moto_server is not on PATH: it ships with this machine image's Python (moto 5.2.1)"; exit 1; }

cat >"$cache/terraformrc" <<RC
# Written by graviton-cd's .ci/tools.sh: providers come only from the local mirror (offline).
disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = "$cli_mirror"
    include = ["registry.terraform.io/hashicorp/*", "registry.opentofu.org/hashicorp/*"]
  }
}
RC
cat >"$cache/local-stack.env" <<ENV
GRAVITON_CD_TEST_TERRAFORM=$cli
GRAVITON_CD_TEST_PROVIDER_VERSION=$provider_version
TF_CLI_CONFIG_FILE=$cache/terraformrc
CHECKPOINT_DISABLE=1
ENV
log "ready: $(cli_version), AWS provider $provider_version, $(command -v moto_server)"
log "settings written to $cache/local-stack.env"
