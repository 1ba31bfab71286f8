package stack

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// fakeBucket is a StateBucketAPI that records the calls it gets.
type fakeBucket struct {
	exists    bool
	versioned bool
	createErr error
	calls     []string
	create    *s3.CreateBucketInput
	lifecycle *s3.PutBucketLifecycleConfigurationInput
	policy    string
}

func notFound() error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 404}}, Err: errors.New("not found")}}
}

func (f *fakeBucket) HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	f.calls = append(f.calls, "HeadBucket")
	if !f.exists {
		return nil, notFound()
	}
	return &s3.HeadBucketOutput{}, nil
}

func (f *fakeBucket) CreateBucket(_ context.Context, in *s3.CreateBucketInput, _ ...func(*s3.Options)) (*s3.CreateBucketOutput, error) {
	f.calls = append(f.calls, "CreateBucket")
	f.create = in
	return &s3.CreateBucketOutput{}, f.createErr
}

func (f *fakeBucket) GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	f.calls = append(f.calls, "GetBucketVersioning")
	if f.versioned {
		return &s3.GetBucketVersioningOutput{Status: s3types.BucketVersioningStatusEnabled}, nil
	}
	return &s3.GetBucketVersioningOutput{}, nil
}

func (f *fakeBucket) PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error) {
	f.calls = append(f.calls, "PutBucketVersioning")
	return &s3.PutBucketVersioningOutput{}, nil
}

func (f *fakeBucket) PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error) {
	f.calls = append(f.calls, "PutBucketEncryption")
	return &s3.PutBucketEncryptionOutput{}, nil
}

func (f *fakeBucket) PutPublicAccessBlock(_ context.Context, in *s3.PutPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error) {
	f.calls = append(f.calls, "PutPublicAccessBlock")
	c := in.PublicAccessBlockConfiguration
	if !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) || !aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
		return nil, errors.New("not all four public access blocks set")
	}
	return &s3.PutPublicAccessBlockOutput{}, nil
}

func (f *fakeBucket) PutBucketPolicy(_ context.Context, in *s3.PutBucketPolicyInput, _ ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	f.calls = append(f.calls, "PutBucketPolicy")
	f.policy = aws.ToString(in.Policy)
	return &s3.PutBucketPolicyOutput{}, nil
}

func (f *fakeBucket) PutBucketLifecycleConfiguration(_ context.Context, in *s3.PutBucketLifecycleConfigurationInput, _ ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error) {
	f.calls = append(f.calls, "PutBucketLifecycleConfiguration")
	f.lifecycle = in
	return &s3.PutBucketLifecycleConfigurationOutput{}, nil
}

func TestEnsureStateBucket(t *testing.T) {
	setUp := []string{"PutPublicAccessBlock", "PutBucketEncryption", "PutBucketPolicy", "PutBucketLifecycleConfiguration", "PutBucketVersioning"}
	cases := []struct {
		name   string
		bucket fakeBucket
		region string
		want   []string
		err    string
	}{
		{"new in us-east-1", fakeBucket{}, "us-east-1", append([]string{"HeadBucket", "CreateBucket"}, setUp...), ""},
		{"new elsewhere", fakeBucket{}, "eu-west-1", append([]string{"HeadBucket", "CreateBucket"}, setUp...), ""},
		{"lost the race to another pipeline", fakeBucket{createErr: &s3types.BucketAlreadyOwnedByYou{}}, "us-east-1", append([]string{"HeadBucket", "CreateBucket"}, setUp...), ""},
		{"name taken by another account", fakeBucket{createErr: &s3types.BucketAlreadyExists{}}, "us-east-1", []string{"HeadBucket", "CreateBucket"}, "belongs to another AWS account"},
		{"ready", fakeBucket{exists: true, versioned: true}, "us-east-1", []string{"HeadBucket", "GetBucketVersioning"}, ""},
		{"set-up cut short", fakeBucket{exists: true}, "us-east-1", append([]string{"HeadBucket", "GetBucketVersioning"}, setUp...), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.bucket
			err := EnsureStateBucket(t.Context(), &f, "graviton-cd-state-123456789012-"+tc.region, tc.region, false, progress.Discard())
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if !slices.Equal(f.calls, tc.want) {
				t.Errorf("calls %v, want %v (versioning last: it marks a finished set-up)", f.calls, tc.want)
			}
			if f.create != nil {
				lc := f.create.CreateBucketConfiguration
				if tc.region == "us-east-1" && lc != nil || tc.region != "us-east-1" && (lc == nil || string(lc.LocationConstraint) != tc.region) {
					t.Errorf("location constraint %+v for %s", lc, tc.region)
				}
			}
			if f.lifecycle != nil && aws.ToInt32(f.lifecycle.LifecycleConfiguration.Rules[0].NoncurrentVersionExpiration.NoncurrentDays) != NoncurrentVersionDays {
				t.Errorf("lifecycle %+v", f.lifecycle.LifecycleConfiguration.Rules[0])
			}
			if f.policy != "" && !strings.Contains(f.policy, `"aws:SecureTransport":"false"`) {
				t.Errorf("policy %s does not deny plain HTTP", f.policy)
			}
		})
	}
}

// TestEnsureStateBucketPlainHTTP: against a plain-HTTP emulator the
// TLS-only policy would lock everyone out, so it is left out.
func TestEnsureStateBucketPlainHTTP(t *testing.T) {
	f := fakeBucket{}
	if err := EnsureStateBucket(t.Context(), &f, "b-b-b", "us-east-1", true, progress.Discard()); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(f.calls, "PutBucketPolicy") || !slices.Contains(f.calls, "PutBucketVersioning") {
		t.Errorf("calls %v", f.calls)
	}
	if p := TLSOnlyPolicy("aws-cn", "b-b-b"); !strings.Contains(p, `"arn:aws-cn:s3:::b-b-b/*"`) {
		t.Errorf("policy %s", p)
	}
}

func TestRecordKey(t *testing.T) {
	for key, want := range map[string]string{
		"graviton-cd/demo/terraform.tfstate": "graviton-cd/demo/stack.json",
		"env/prod.tfstate":                   "env/prod.tfstate.stack.json",
		"terraform.tfstate":                  "stack.json",
	} {
		if got := RecordKey(key); got != want {
			t.Errorf("RecordKey(%q) = %q, want %q", key, got, want)
		}
	}
}
