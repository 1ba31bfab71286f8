#!/usr/bin/env bash
# Find, or build once and cache, the tools of the local real stack:
#   - a Terraform CLI (terraform or tofu on PATH, else OpenTofu built from the Go module proxy)
#   - a filesystem mirror holding the real AWS provider (an existing one, else built)
#   - moto_server (preinstalled in this machine image's Python)
# and write $cache/local-stack.env for `make test` and `make demo`. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/versions.env"
cache=${GRAVITON_CD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/graviton-cd}
mkdir -p "$cache"
platform="$(go env GOOS)_$(go env GOARCH)"
log() { printf '%s tools: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# --- Terraform CLI -----------------------------------------------------------
build_tofu() {
	local out=$1 dir
	log "no terraform or tofu on PATH: building OpenTofu $OPENTOFU_VERSION from the Go module proxy (about 8 minutes, once)"
	dir=$(go mod download -json "github.com/opentofu/opentofu@v$OPENTOFU_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$dir" ] || { log "could not download OpenTofu $OPENTOFU_VERSION"; exit 1; }
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
	cli="$cache/tofu/$OPENTOFU_VERSION/tofu"
	if [ -x "$cli" ]; then log "Terraform CLI reused from cache: $cli"; return; fi
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
	[ -n "${GRAVITON_CD_PROVIDER_MIRROR:-}" ] && candidates+=("$GRAVITON_CD_PROVIDER_MIRROR")
	[ -z "${GRAVITON_CD_NO_SYSTEM_TOOLS:-}" ] && candidates+=(/opt/tf-plugins)
	candidates+=("$cache/provider-mirror")
	for want in "$AWS_PROVIDER_VERSION" ""; do
		for m in "${candidates[@]}"; do
			provider=$(provider_in "$m" "$want")
			if [ -n "$provider" ]; then mirror=$m; log "AWS provider reused from mirror: $provider"; return; fi
		done
	done
	mirror="$cache/provider-mirror"
	build_provider "$mirror"
	provider=$(provider_in "$mirror")
	log "AWS provider built: $provider"
}

# The registry host a CLI asks for: tofu resolves hashicorp/aws on its own registry.
# A mirror laid out for the other host is presented through a view of links.
mirror_for_cli() {
	local want=registry.terraform.io
	case "$(cli_version)" in OpenTofu*) want=registry.opentofu.org ;; esac
	if [ -d "$mirror/$want/hashicorp/aws" ]; then cli_mirror=$mirror; return; fi
	cli_mirror="$cache/mirror-view"
	rm -rf "$cli_mirror"
	mkdir -p "$cli_mirror/$want/hashicorp"
	ln -s "$(dirname "$(dirname "$(dirname "$provider")")")" "$cli_mirror/$want/hashicorp/aws"
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
