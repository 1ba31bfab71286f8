package ownership

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

// Guard is provision's check between init and plan (also with --plan-only):
// it refuses collisions and returns the orphans to import.
type Guard struct {
	// AWS loads the AWS configuration; nil means awsx.Load.
	AWS func(ctx context.Context, o awsx.Options) (aws.Config, error)
	// Checker makes the checker from the configuration; nil means NewChecker.
	Checker func(aws.Config) *Checker
}

// BeforePlan checks the resources of p against AWS. inState maps the
// addresses the state holds to their IDs. A collision is a
// *config.UsageError (exit 2, before anything is created); more than one
// resource in AWS for one address is an error (exit 1); each orphan of this stack is returned, to be
// written as an import block (internal/stack logs each one). p.Dir holds the lock file of the init that just ran: it says which
// provider version (and so which import ID form) to use.
func (g Guard) BeforePlan(ctx context.Context, p config.Provision, inState map[string]string) ([]Import, error) {
	load := g.AWS
	if load == nil {
		load = awsx.Load
	}
	cfg, err := load(ctx, awsx.Options{Region: p.Region, EndpointURL: p.EndpointURL})
	if err != nil {
		return nil, err
	}
	newChecker := g.Checker
	if newChecker == nil {
		newChecker = NewChecker
	}
	major := 0
	v, err := terraform.LockedProviderVersion(p.Dir, "aws")
	if err != nil {
		return nil, err
	}
	if v != nil {
		major = v.Segments()[0]
	}
	res, err := newChecker(cfg).Check(ctx, Input{
		Resources: hclgen.NamedResources(p), Unnamed: hclgen.UnnamedResources(p),
		StackID: p.StackID, InState: inState, VPCID: p.VPCID, ProviderMajor: major,
	})
	if err != nil {
		return nil, fmt.Errorf("check that the stack's names are free: %w", err)
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	return res.Imports, nil
}
