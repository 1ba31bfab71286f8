// Command demoregistry serves the demo's sample-app images from an in-process
// OCI registry on 127.0.0.1: each --tag as a linux/arm64 + linux/amd64 index
// built from the given binaries, and --amd64-only-tag as an image deploy must
// refuse. It prints one reference per line to --refs-file, then serves until
// SIGINT/SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/graviton-cd/graviton-cd/internal/demo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demoregistry:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		arm64    = flag.String("bin-arm64", "", "sample app built for linux/arm64")
		amd64    = flag.String("bin-amd64", "", "sample app built for linux/amd64")
		repo     = flag.String("repo", "sample-app", "repository name")
		tags     = flag.String("tags", "v1,v2", "comma-separated tags pushed as multi-arch indexes")
		amd64Tag = flag.String("amd64-only-tag", "amd64-only", "tag pushed as a linux/amd64-only image")
		port     = flag.Int("port", 8080, "port the app listens on inside the image")
		refsFile = flag.String("refs-file", "", "where to write tag=reference lines (required)")
	)
	flag.Parse()
	if *arm64 == "" || *amd64 == "" || *refsFile == "" {
		return fmt.Errorf("--bin-arm64, --bin-amd64 and --refs-file are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	armImg, err := demo.ImageForBinary(*arm64, v1.Platform{OS: "linux", Architecture: "arm64"}, *port)
	if err != nil {
		return err
	}
	amdImg, err := demo.ImageForBinary(*amd64, v1.Platform{OS: "linux", Architecture: "amd64"}, *port)
	if err != nil {
		return err
	}
	idx, err := demo.Index(map[string]v1.Image{"linux/arm64": armImg, "linux/amd64": amdImg})
	if err != nil {
		return err
	}
	reg := demo.StartRegistry()
	defer reg.Close()

	var refs strings.Builder
	for _, tag := range strings.Split(*tags, ",") {
		ref, err := reg.Push(*repo, tag, idx)
		if err != nil {
			return err
		}
		fmt.Fprintf(&refs, "%s=%s\n", tag, ref)
	}
	ref, err := reg.Push(*repo, *amd64Tag, amdImg)
	if err != nil {
		return err
	}
	fmt.Fprintf(&refs, "%s=%s\n", *amd64Tag, ref)
	if err := os.WriteFile(*refsFile, []byte(refs.String()), 0o644); err != nil {
		return fmt.Errorf("write refs: %w", err)
	}
	<-ctx.Done()
	return nil
}
