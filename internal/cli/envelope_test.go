package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/doctor"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy"
	"github.com/graviton-cd/graviton-cd/internal/smoketest"
	"github.com/graviton-cd/graviton-cd/internal/stack"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

// envelopeOf decodes stdout as the one --output json envelope, its result
// kept raw.
func envelopeOf(t *testing.T, stdout string) (Envelope, json.RawMessage) {
	t.Helper()
	var e struct {
		Envelope
		Result json.RawMessage `json:"result"`
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("stdout is not one envelope: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", stdout)
	}
	return e.Envelope, e.Result
}

// resultOf is the raw result of the envelope on stdout.
func resultOf(t *testing.T, stdout string) []byte {
	t.Helper()
	_, r := envelopeOf(t, stdout)
	return r
}

// TestErrorKind classifies the errors the commands return.
func TestErrorKind(t *testing.T) {
	api := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	// terraform exiting 2 must not make graviton-cd exit 2 (bad input).
	tfExit2 := exec.Command("sh", "-c", "exit 2").Run()
	cases := []struct {
		name string
		err  error
		code int
		want ErrorKind
	}{
		{"usage", config.Usagef("image", "bad"), ExitUsage, KindUsage},
		{"credentials", &awsx.CredentialsError{Err: config.Usagef("", "no usable AWS credentials")}, ExitUsage, KindCredentials},
		{"region from awsx", &awsx.RegionError{Err: config.Usagef("region", "no AWS region: x")}, ExitUsage, KindRegion},
		{"region from config", config.Usagef("region", "no AWS region: pass --region"), ExitUsage, KindRegion},
		{"stack not found", config.Usagef("name", "no stack demo: x holds no resources"), ExitUsage, KindNotFound},
		{"service not found", fmt.Errorf("deploy: %w", &ecsdeploy.ServiceNotActiveError{Cluster: "c", Service: "s", Status: "MISSING", BadInput: true}), ExitUsage, KindNotFound},
		{"service went away", &ecsdeploy.ServiceNotActiveError{Cluster: "c", Service: "s", Status: "DRAINING"}, ExitFailed, KindDeploymentFailed},
		{"deployment failed", &ecsdeploy.DeploymentFailedError{DeploymentID: "d"}, ExitFailed, KindDeploymentFailed},
		{"rolled back", &ecsdeploy.DeploymentRolledBackError{DeploymentID: "d"}, ExitFailed, KindDeploymentFailed},
		{"deploy timeout", &ecsdeploy.DeploymentTimeoutError{DeploymentID: "d"}, ExitFailed, KindTimeout},
		{"terraform interrupted", &terraform.InterruptedError{Op: "terraform apply", Err: context.Canceled}, ExitFailed, KindInterrupted},
		{"terraform out of time", &terraform.InterruptedError{Op: "terraform apply", Err: context.DeadlineExceeded}, ExitFailed, KindTimeout},
		{"cancelled", fmt.Errorf("follow: %w", context.Canceled), ExitFailed, KindInterrupted},
		{"state locked", &terraform.LockError{ID: "x"}, ExitFailed, KindStateLocked},
		{"terraform failed", fmt.Errorf("terraform plan: %w", &exec.ExitError{}), ExitFailed, KindTerraform},
		{"terraform exited 2", fmt.Errorf("terraform plan: %w", tfExit2), ExitFailed, KindTerraform},
		{"smoke failed", &smoketest.FailedError{}, ExitFailed, KindChecksFailed},
		{"doctor failed", &doctor.FailedError{}, ExitFailed, KindChecksFailed},
		{"not steady", &stack.NotSteadyError{Stack: "s"}, ExitFailed, KindNotSteady},
		{"leftovers", &stack.LeftoversError{Stack: "s"}, ExitFailed, KindLeftovers},
		{"not owned", &stack.NotOwnedError{Stack: "s"}, ExitFailed, KindNotOwned},
		{"aws", fmt.Errorf("describe: %w", &smithy.OperationError{ServiceID: "ECS", OperationName: "DescribeServices", Err: api}), ExitFailed, KindAWS},
		{"other", errors.New("disk full"), ExitFailed, KindFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorKind(tc.err, tc.code); got != tc.want {
				t.Errorf("kind %s, want %s", got, tc.want)
			}
			if got := exitCode(tc.err); got != tc.code {
				t.Errorf("exit %d, want %d", got, tc.code)
			}
		})
	}
}

// TestJSONRequested reads --output before the parser does.
func TestJSONRequested(t *testing.T) {
	t.Setenv("GRAVITON_CD_OUTPUT", "")
	cases := map[string]bool{
		"deploy --output json":                   true,
		"--output=json deploy":                   true,
		"-output json version":                   true,
		"deploy --output json --output text":     false,
		"deploy --output yaml":                   false,
		"deploy --output":                        false,
		"deploy -- --output json":                false,
		"deploy --image json":                    false,
		"smoke-test --output=text --output json": true,
	}
	for args, want := range cases {
		if got := jsonRequested(append([]string{"graviton-cd"}, strings.Fields(args)...)); got != want {
			t.Errorf("%q: %v, want %v", args, got, want)
		}
	}
	t.Setenv("GRAVITON_CD_OUTPUT", "json")
	if !jsonRequested([]string{"graviton-cd", "version"}) || jsonRequested([]string{"graviton-cd", "version", "--output", "text"}) {
		t.Error("GRAVITON_CD_OUTPUT=json, overridden by --output")
	}
}
