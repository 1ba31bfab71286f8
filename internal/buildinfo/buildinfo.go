// Package buildinfo carries the version stamped in at release time by
// goreleaser's ldflags (-X .../internal/buildinfo.Version=…).
package buildinfo

// Set by the linker; "dev" in a plain go build.
var (
	Version = "dev"
	Commit  = "none"
	Date    = "unknown"
)
