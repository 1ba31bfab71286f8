// Command graviton-cd is the step binary behind the graviton-cd CircleCI orb:
// provision, deploy, smoke-test and destroy an ECS service on Graviton EC2.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/graviton-cd/graviton-cd/internal/cli"
)

func main() {
	// One root context: SIGINT/SIGTERM (a cancelled CircleCI job) cancel it, and
	// everything below, Terraform included, winds down from there.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Run(ctx, os.Args))
}
