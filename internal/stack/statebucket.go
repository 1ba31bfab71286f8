package stack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// NoncurrentVersionDays is how long the state bucket keeps a state's
// superseded versions: long enough to roll a broken state back after a bad
// week, short enough that the bucket does not grow without bound.
const NoncurrentVersionDays = 90

// DefaultStateBucket names the state bucket graviton-cd creates for an
// account and region when --state-bucket is not given.
func DefaultStateBucket(account, region string) string {
	return "graviton-cd-state-" + account + "-" + region
}

// StateBucketAPI is what bootstrapping the state bucket needs.
type StateBucketAPI interface {
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	PutBucketPolicy(context.Context, *s3.PutBucketPolicyInput, ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	PutBucketLifecycleConfiguration(context.Context, *s3.PutBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error)
}

// AccountAPI learns the caller's account.
type AccountAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// AccountID asks STS whose credentials these are.
func AccountID(ctx context.Context, api AccountAPI) (string, error) {
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("learn the AWS account for the default state bucket (sts:GetCallerIdentity): %w (check the credentials, or give --state-bucket)", err)
	}
	return aws.ToString(out.Account), nil
}

// BucketExists reports whether bucket exists and is reachable.
func BucketExists(ctx context.Context, api StateBucketAPI, bucket string) (bool, error) {
	_, err := api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		return true, nil
	}
	var nf *s3types.NotFound
	var nb *s3types.NoSuchBucket
	if errors.As(err, &nf) || errors.As(err, &nb) || httpStatus(err) == http.StatusNotFound {
		return false, nil
	}
	if httpStatus(err) == http.StatusForbidden {
		return false, fmt.Errorf("state bucket %s exists but these credentials may not use it (403): another account owns the name, or the role lacks s3:ListBucket on it; give --state-bucket", bucket)
	}
	return false, fmt.Errorf("check state bucket %s: %w", bucket, err)
}

// EnsureStateBucket creates bucket in region if it does not exist and makes
// it fit to hold state: versioned, encrypted (SSE-S3), all public access
// blocked, TLS-only, old versions expiring. It is safe when two pipelines
// race: S3 answers the loser BucketAlreadyOwnedByYou, which counts as
// success, and every setting is idempotent. Versioning is set last, so a
// bootstrap cut short is finished by the next run. plainHTTP leaves out the
// TLS-only policy: a local emulator (moto) speaks plain HTTP and enforces
// bucket policies, so with it the bucket would lock everyone out.
func EnsureStateBucket(ctx context.Context, api StateBucketAPI, bucket, region string, plainHTTP bool, log *progress.Logger) error {
	exists, err := BucketExists(ctx, api, bucket)
	if err != nil {
		return err
	}
	if exists {
		v, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
		if err != nil {
			return fmt.Errorf("check versioning of state bucket %s: %w", bucket, err)
		}
		if v.Status == s3types.BucketVersioningStatusEnabled {
			return nil
		}
		log.Printf("state bucket %s exists but is not versioned: finishing its set-up", bucket)
	} else {
		log.Printf("creating state bucket %s in %s (versioned, encrypted, private, TLS only)", bucket, region)
		in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
		if region != "us-east-1" { // us-east-1 takes no location constraint
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
		}
		if _, err := api.CreateBucket(ctx, in); err != nil {
			var mine *s3types.BucketAlreadyOwnedByYou
			var taken *s3types.BucketAlreadyExists
			switch {
			case errors.As(err, &mine):
				// Another pipeline won the race; its settings or ours follow.
			case errors.As(err, &taken):
				return fmt.Errorf("create state bucket %s: the name belongs to another AWS account: give --state-bucket", bucket)
			default:
				return fmt.Errorf("create state bucket %s: %w", bucket, err)
			}
		}
	}
	b := aws.String(bucket)
	steps := []struct {
		what string
		call func() error
	}{
		{"block public access", func() error {
			_, err := api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
			}})
			return err
		}},
		{"turn on default encryption", func() error {
			_, err := api.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
				Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}},
			}})
			return err
		}},
		{"deny access without TLS", func() error {
			if plainHTTP {
				log.Printf("state bucket %s: no TLS-only policy, as the AWS endpoint is plain HTTP (a local emulator)", bucket)
				return nil
			}
			_, err := api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(TLSOnlyPolicy(partition(region), bucket))})
			return err
		}},
		{"expire old state versions", func() error {
			_, err := api.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b, LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{
				Rules: []s3types.LifecycleRule{{
					ID:                             aws.String("graviton-cd-expire-old-state-versions"),
					Status:                         s3types.ExpirationStatusEnabled,
					Filter:                         &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
					NoncurrentVersionExpiration:    &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(NoncurrentVersionDays)},
					AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(7)},
				}},
			}})
			return err
		}},
		{"turn on versioning", func() error {
			_, err := api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.call(); err != nil {
			return fmt.Errorf("set up state bucket %s: %s: %w", bucket, s.what, err)
		}
	}
	return nil
}

// TLSOnlyPolicy is the state bucket's policy: deny every request that does
// not use TLS.
func TLSOnlyPolicy(partition, bucket string) string {
	arn := "arn:" + partition + ":s3:::" + bucket
	return `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*",` +
		`"Resource":["` + arn + `","` + arn + `/*"],` +
		`"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
}

// partition is the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// httpStatus is the HTTP status of an AWS error, or 0.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
