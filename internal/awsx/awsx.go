// Package awsx loads AWS configuration the way every subcommand needs it: the
// SDK's default chain (env, profile, web identity for CircleCI OIDC), a region
// override, and a custom endpoint for a local emulator.
package awsx

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// Options override parts of the default chain. Zero values leave the chain alone.
type Options struct {
	Region      string // --region; wins over AWS_REGION / AWS_DEFAULT_REGION / profile
	EndpointURL string // --endpoint-url; otherwise AWS_ENDPOINT_URL(_<SERVICE>) apply
}

// SessionDurationEnv names the variable that sets how long a web identity
// role session lasts (a Go duration, 15m to 12h; the orb's session_duration).
const SessionDurationEnv = "GRAVITON_CD_ROLE_SESSION_DURATION"

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
	// The orb's session_duration: the SDK reads no duration for web identity
	// from the environment or the shared config, so it comes in through ours.
	if v := os.Getenv(SessionDurationEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 15*time.Minute || d > 12*time.Hour {
			return aws.Config{}, config.Usagef("", "%s=%q is not a duration from 15m to 12h", SessionDurationEnv, v)
		}
		opts = append(opts, awsconfig.WithWebIdentityRoleCredentialOptions(func(o *stscreds.WebIdentityRoleOptions) {
			o.Duration = d
		}))
	}
	// The SDK's own log lines (such as its IMDSv1 fallback warning) would
	// reach the CI log in their own format; what matters comes back as errors.
	opts = append(opts, awsconfig.WithLogger(logging.Nop{}))
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, &CredentialsError{Err: config.Usagef("", "load AWS configuration: %v (check AWS_PROFILE and ~/.aws/config)", err)}
	}
	if cfg.Region == "" {
		return aws.Config{}, &RegionError{Err: config.Usagef("region", "no AWS region: pass --region or set AWS_REGION (for example us-east-1)")}
	}
	// Credentials are checked before any AWS call, so that their absence is
	// bad configuration (exit 2) rather than a failed call whose message
	// reads like a missing permission.
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return aws.Config{}, ctx.Err()
		}
		return aws.Config{}, &CredentialsError{Err: config.Usagef("", "no usable AWS credentials (%s): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE (the orb's role_arn does this through CircleCI OIDC)", credentialsCause(err))}
	}
	return cfg, nil
}

// credentialsCause says in a user's terms why the SDK's chain found no
// credentials; the SDK's own chain of wrapped errors names its internals.
func credentialsCause(err error) string {
	var api smithy.APIError
	switch {
	case errors.As(err, &api):
		return "AWS refused them: " + api.ErrorCode() + ": " + api.ErrorMessage()
	case strings.Contains(err.Error(), "no EC2 IMDS role found"), strings.Contains(err.Error(), "ec2imds"):
		return "none in the environment, the shared config and credentials files, or an EC2 instance role"
	case strings.Contains(err.Error(), "WebIdentity"):
		return "the web identity role could not be assumed: its STS endpoint gave no answer"
	}
	return "the credential provider failed"
}

// CredentialsError says no usable credentials (or no readable profile) were
// found; it unwraps to a *config.UsageError (exit 2).
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string { return e.Err.Error() }

// Unwrap returns the usage error.
func (e *CredentialsError) Unwrap() error { return e.Err }

// RegionError says no AWS region was given or configured; it unwraps to a
// *config.UsageError (exit 2).
type RegionError struct{ Err error }

func (e *RegionError) Error() string { return e.Err.Error() }

// Unwrap returns the usage error.
func (e *RegionError) Unwrap() error { return e.Err }

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
