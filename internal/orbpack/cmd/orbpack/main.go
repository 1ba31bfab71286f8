// Command orbpack packs the orb source (src/) into one orb YAML and reviews it:
//
//	go run ./internal/orbpack/cmd/orbpack -src src -out dist/orb.yml
//	go run ./internal/orbpack/cmd/orbpack -src src -out dist/orb.yml -review
//	go run ./internal/orbpack/cmd/orbpack -src src -out dist/orb.yml \
//	    -release-version 1.2.3 -checksums dist/checksums.txt
//
// Exit codes: 0 packed (and reviewed clean), 1 review findings or I/O error,
// 2 bad flags.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/graviton-cd/graviton-cd/internal/orbpack"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("orbpack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := fs.String("src", "src", "orb source directory (Orb-Template layout)")
	out := fs.String("out", "dist/orb.yml", "packed orb to write; - for stdout")
	review := fs.Bool("review", false, "also review the source against the orb-tools rules; findings exit 1")
	release := fs.String("release-version", "", "pin every version parameter to this graviton-cd release")
	sumsPath := fs.String("checksums", "", "embed this release checksums.txt (needs -release-version)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "orbpack: unexpected arguments %v\n", fs.Args())
		return 2
	}
	opts := orbpack.Options{ReleaseVersion: *release}
	if *sumsPath != "" {
		b, err := os.ReadFile(*sumsPath)
		if err != nil {
			fmt.Fprintf(stderr, "orbpack: read checksums: %v\n", err)
			return 1
		}
		opts.Checksums = b
	}
	source, err := orbpack.ReadSource(*src)
	if err != nil {
		fmt.Fprintf(stderr, "orbpack: %v\n", err)
		return 1
	}
	packed, err := source.Pack(opts)
	if err != nil {
		fmt.Fprintf(stderr, "orbpack: %v\n", err)
		return 1
	}
	if *review {
		findings := orbpack.Review(source)
		for _, f := range findings {
			fmt.Fprintf(stderr, "review: %s\n", f)
		}
		if len(findings) > 0 {
			fmt.Fprintf(stderr, "orbpack: %d review finding(s) in %s\n", len(findings), *src)
			return 1
		}
		fmt.Fprintf(stderr, "orbpack: review of %s: no findings\n", *src)
	}
	if *out == "-" {
		_, err = stdout.Write(packed)
	} else {
		err = writeFile(*out, packed)
	}
	if err != nil {
		fmt.Fprintf(stderr, "orbpack: %v\n", err)
		return 1
	}
	if *out != "-" {
		fmt.Fprintf(stderr, "orbpack: wrote %s (%d bytes)\n", *out, len(packed))
	}
	return 0
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
