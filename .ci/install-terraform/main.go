// Command install-terraform installs a released Terraform into graviton-cd's
// cache with the same hc-install code the binary uses (HashiCorp's signature
// and checksums verified) and prints the binary's path. .ci/tools.sh runs it
// where releases.hashicorp.com answers:
//
//	go run ./.ci/install-terraform -version 1.11.4 -cache ~/.cache/graviton-cd
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/progress"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("install-terraform", flag.ContinueOnError)
	version := fs.String("version", "", "Terraform release to install, e.g. 1.11.4")
	cache := fs.String("cache", "", "graviton-cd's cache directory; the binary goes to <cache>/terraform/<version>/terraform")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *version == "" || *cache == "" {
		fmt.Fprintln(os.Stderr, "install-terraform: -version and -cache are required")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	l := terraform.Locator{
		Version:  *version,
		CacheDir: *cache,
		// Only a release will do here: whatever is on PATH was looked at already.
		LookPath: func(string) (string, error) { return "", errors.New("not looked up") },
		Log:      progress.New(os.Stderr, time.Now, false),
	}
	p, err := l.Locate(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "install-terraform: %v\n", err)
		return 1
	}
	fmt.Println(p)
	return 0
}
