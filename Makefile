# graviton-cd: every target does its own set-up, so any of them works as the
# first command on a fresh machine. Tool versions live in .ci/versions.env.
include .ci/versions.env

CACHE     ?= $(or $(GRAVITON_CD_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/graviton-cd)
GORELEASER = $(CACHE)/bin/goreleaser-$(GORELEASER_VERSION)/goreleaser
GO_PKGS    = ./...
# goreleaser.yaml's dist: (a test checks that they agree, and the CircleCI configs)
RELEASE_DIR = dist/release

.PHONY: all build cross tools moto moto-stop test demo bench orb orb-schema snapshot release release-check lint clean

all: lint test

## build: the step binary for this machine, in bin/
build:
	CGO_ENABLED=0 go build -trimpath -o bin/graviton-cd ./orb

## cross: linux/darwin × amd64/arm64 binaries in bin/ (or CROSS_DIR), built as releases are, without goreleaser
CROSS_DIR ?= bin
cross:
	@for os in linux darwin; do for arch in amd64 arm64; do \
		echo "build $$os/$$arch (CGO_ENABLED=0 -trimpath -ldflags '-s -w')"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags "-s -w" -o $(CROSS_DIR)/graviton-cd_$${os}_$${arch} ./orb || exit 1; \
	done; done

## tools: find or build the Terraform CLI and the AWS provider mirror (cached; idempotent)
tools:
	@bash .ci/tools.sh

## moto: start moto_server on 127.0.0.1 in the background and wait until it answers
moto:
	@bash .ci/moto.sh start

## moto-stop: stop the moto_server that `make moto` started (by its pid, nothing else)
moto-stop:
	@bash .ci/moto.sh stop

## test: vet, then every test tier, including the real local stack
test: tools
	go vet $(GO_PKGS) ./.ci/install-terraform
	@bash .ci/with-stack.sh go test -count=1 -timeout 60m $(GO_PKGS)

## demo: provision → deploy → smoke-test → destroy on the local stack
demo: tools
	@bash .ci/with-stack.sh bash .ci/demo.sh

## bench: benchmarks and comparisons, printed as a table
bench: tools
	@bash .ci/with-stack.sh bash .ci/bench.sh

## orb: pack src/ into dist/orb.yml
orb:
	go run ./internal/orbpack/cmd/orbpack -src src -out dist/orb.yml

## snapshot: goreleaser release --snapshot (all platforms, checksums.txt; nothing published) into dist/release
snapshot: $(GORELEASER)
	$(GORELEASER) release --snapshot --clean -f goreleaser.yaml
	@$(MAKE) --no-print-directory release-check

## release: goreleaser release of a version tag (CI only: needs GITHUB_TOKEN); the same dist/release as snapshot
release: $(GORELEASER)
	$(GORELEASER) release --clean -f goreleaser.yaml
	@$(MAKE) --no-print-directory release-check

# release-check: every asset the install command maps from uname is in dist/release/checksums.txt.
release-check:
	@for a in linux_amd64 linux_arm64 darwin_amd64 darwin_arm64; do \
		grep -q " graviton-cd_$$a$$" $(RELEASE_DIR)/checksums.txt || { echo "checksums.txt lacks graviton-cd_$$a"; exit 1; }; \
	done; echo "4 binaries and checksums.txt in $(RELEASE_DIR)"

$(GORELEASER):
	@echo "installing goreleaser $(GORELEASER_VERSION) from the Go module proxy (about 5 minutes, once)"
	GOBIN=$(dir $(GORELEASER)) go install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)

## lint: gofmt, go vet, shellcheck, and the orb review (descriptions, named steps, parameters)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet $(GO_PKGS) ./.ci/install-terraform
	shellcheck -x .ci/run .ci/*.sh .ci/tests/*.bats src/scripts/*.sh src/tests/*.bats src/tests/helpers/*.bash .circleci/scripts/*.sh
	go run ./internal/orbpack/cmd/orbpack -src src -out dist/orb.yml -review

## orb-schema: validate the packed orb and .circleci/*.yml against CircleCI's schema (needs ../shared)
orb-schema:
	bash .circleci/scripts/validate-schema.sh

clean:
	rm -rf bin dist
