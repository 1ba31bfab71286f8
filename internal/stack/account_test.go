package stack

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
)

// accountSTS answers GetCallerIdentity with one account and counts calls.
type accountSTS struct {
	account string
	err     error
	calls   int
}

func (a *accountSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	a.calls++
	if a.err != nil {
		return nil, a.err
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String(a.account)}, nil
}

// TestProvisionChecksTheARNsAccount: ARNs of another account than the
// credentials' stop provision with a usage error (exit 2) before the state
// is opened; ARNs of the same account, or none, pass; a stack without ARNs
// makes no STS call.
func TestProvisionChecksTheARNsAccount(t *testing.T) {
	secret := config.Provision{Name: "shop", Region: "us-east-1",
		CertificateARN: "arn:aws:acm:us-east-1:111111111111:certificate/0b1c2d3e-aaaa-bbbb-cccc-0123456789ab"}
	for _, tc := range []struct {
		name      string
		p         config.Provision
		account   string
		wantCalls int
		wantUsage bool
	}{
		{"other account", secret, "222222222222", 1, true},
		{"same account", secret, "111111111111", 1, false},
		{"no ARNs", config.Provision{Name: "shop", Region: "us-east-1"}, "222222222222", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &accountSTS{account: tc.account}
			deps := Deps{
				AWS: func(context.Context, awsx.Options) (aws.Config, error) { return aws.Config{Region: "us-east-1"}, nil },
				STS: func(aws.Config) AccountAPI { return fake },
			}
			err := checkAccount(context.Background(), deps, tc.p)
			if fake.calls != tc.wantCalls {
				t.Errorf("%d GetCallerIdentity calls, want %d", fake.calls, tc.wantCalls)
			}
			var usage *config.UsageError
			if got := errors.As(err, &usage); got != tc.wantUsage {
				t.Fatalf("checkAccount = %v, want a usage error: %v", err, tc.wantUsage)
			}
			if tc.wantUsage && !strings.Contains(err.Error(), "account 111111111111, but the credentials are of account 222222222222") {
				t.Errorf("message does not name both accounts: %v", err)
			}
		})
	}
}
