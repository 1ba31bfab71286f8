// Package stack is a stack's life, as ecsdeploy is a deployment's: provision
// (render, init, plan, apply), destroy (and the check that nothing was left
// behind), and the stack directory provision leaves for the later jobs
// (outputs.json and stack.json beside the rendered module and its state).
// The CLI parses flags, calls Provision or Destroy, and prints the result.
package stack

import (
	"context"
	"crypto/rand"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/progress"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

// PlanFile is the saved plan provision leaves in the stack directory beside
// main.tf, the state, stack.json and outputs.json.
const PlanFile = "tfplan"

// Deps are the seams of Provision and Destroy. The zero value works: the
// default destroy retries, the SDK's default AWS chain, terraform found on PATH.
type Deps struct {
	Log     *progress.Logger        // progress lines; nil prints nothing
	Locator terraform.Locator       // finds (or installs) the terraform CLI
	Retry   terraform.DestroyPolicy // destroy's retries while AWS drains; zero: the defaults
	// AWS loads the AWS configuration; nil means awsx.Load.
	AWS func(ctx context.Context, o awsx.Options) (aws.Config, error)
	// BeforePlan runs after init and before plan, with the addresses the
	// state already holds and their IDs (ManagedIDs). It may refuse the
	// provision (a name collision is a *config.UsageError) or return
	// resources to import before planning (orphans that carry this stack's
	// identity). Nil: no check, no imports.
	BeforePlan func(ctx context.Context, p config.Provision, inState map[string]string) ([]Import, error)

	// S3 and STS make the clients for the state bucket; nil: awsx's.
	S3   func(cfg aws.Config, region string) S3API
	STS  func(cfg aws.Config) AccountAPI
	Now  func() time.Time // the stack record's created time; nil: time.Now
	Rand io.Reader        // stack IDs; nil: crypto/rand
}

// Import is one resource provision brings into state before it plans: a
// Terraform import block (Terraform 1.5+, OpenTofu 1.5+).
type Import struct {
	Address string // resource address in the root module, e.g. aws_launch_template.this
	ID      string // the provider's import ID
}

func (d Deps) awsConfig(ctx context.Context, o awsx.Options) (aws.Config, error) {
	if d.AWS != nil {
		return d.AWS(ctx, o)
	}
	return awsx.Load(ctx, o)
}

func (d Deps) s3(cfg aws.Config, region string) S3API {
	if d.S3 != nil {
		return d.S3(cfg, region)
	}
	return awsx.NewS3(cfg, func(o *s3.Options) { o.Region = region })
}

func (d Deps) sts(cfg aws.Config) AccountAPI {
	if d.STS != nil {
		return d.STS(cfg)
	}
	return awsx.NewSTS(cfg)
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d Deps) rand() io.Reader {
	if d.Rand != nil {
		return d.Rand
	}
	return rand.Reader
}

// joinLines indents a list for a multi-line error message.
func joinLines(items []string) string {
	return "\n  " + strings.Join(items, "\n  ")
}
