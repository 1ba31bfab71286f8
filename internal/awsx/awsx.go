// Package awsx loads AWS configuration the way every subcommand needs it: the
// SDK's default chain (env, profile, web identity for CircleCI OIDC), a region
// override, and a custom endpoint for a local emulator.
package awsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// Options override parts of the default chain. Zero values leave the chain alone.
type Options struct {
	Region      string // --region; wins over AWS_REGION / AWS_DEFAULT_REGION / profile
	EndpointURL string // --endpoint-url; otherwise AWS_ENDPOINT_URL(_<SERVICE>) apply
}

// Load returns an aws.Config from the SDK's default chain. It honours
// AWS_REGION, AWS_DEFAULT_REGION, AWS_PROFILE, AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE>, and AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE.
// A missing region is a usage error.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, awsconfig.WithRegion(o.Region))
	}
	if o.EndpointURL != "" {
		if err := config.CheckEndpoint(o.EndpointURL); err != nil {
			return aws.Config{}, err
		}
		opts = append(opts, awsconfig.WithBaseEndpoint(o.EndpointURL))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, config.Usagef("", "load AWS configuration: %v (check AWS_PROFILE and ~/.aws/config)", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, config.Usagef("region", "no AWS region: pass --region or set AWS_REGION (for example us-east-1)")
	}
	return cfg, nil
}

// Region validates a region name's shape without calling AWS.
func Region(r string) error {
	if r == "" {
		return nil
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return config.Usagef("region", "%q is not an AWS region name: use for example us-east-1", r)
		}
	}
	return nil
}
