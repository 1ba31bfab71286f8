// Command sampleapp serves the graviton-cd sample app: "/" and "/version".
//
//	sampleapp --addr 127.0.0.1:8080 --version v2
//
// SIGTERM or SIGINT (ECS stopping the task, or the demo) shuts it down
// gracefully.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/graviton-cd/graviton-cd/internal/sampleapp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on; use :8080 in a container")
	defaultVersion := os.Getenv("SAMPLEAPP_VERSION")
	if defaultVersion == "" {
		defaultVersion = "dev"
	}
	version := flag.String("version", defaultVersion, "version to report on / and /version (default $SAMPLEAPP_VERSION, or dev)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "sampleapp: unexpected argument %q: use --addr and --version\n", flag.Arg(0))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := sampleapp.ListenAndServe(ctx, *addr, *version, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "sampleapp: %v\n", err)
		os.Exit(1)
	}
}
