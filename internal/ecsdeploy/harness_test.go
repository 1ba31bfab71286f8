package ecsdeploy

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// t0 is when every scripted test begins, on the virtual clock.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// noDelay makes the SDK's own retries immediate, so that tests exercise them
// (three attempts per call) without sleeping for real. Deploy turns them off
// for the calls it retries itself (DescribeServices, DescribeTaskDefinition,
// RegisterTaskDefinition, UpdateService); the best-effort ones keep them.
type noDelay struct{}

func (noDelay) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

// sdkRetryer is the SDK's standard retryer without delays or a retry quota.
func sdkRetryer() aws.Retryer {
	return awsretry.NewStandard(func(o *awsretry.StandardOptions) {
		o.Backoff = noDelay{}
		o.RateLimiter = ratelimit.None
	})
}

// harness is the real SDK clients against an ecsfake server, on one
// virtual clock.
type harness struct {
	srv   *ecsfake.Server
	clock *ecsfake.Clock
	out   *bytes.Buffer
	d     *Deployer
}

func newHarness(t testing.TB, o ecsfake.Options) *harness {
	t.Helper()
	if o.Cluster == "" {
		o.Cluster = "demo"
	}
	if o.Service == "" {
		o.Service = "web"
	}
	if o.DesiredCount == 0 {
		o.DesiredCount = 2
	}
	if o.TaskDefinition == nil {
		o.TaskDefinition = arm64TaskDef()
	}
	if o.Tags == nil {
		o.Tags = []map[string]string{{"key": "team", "value": "payments"}, {"key": "aws:cloudformation:stack-name", "value": "demo"}}
	}
	clock := ecsfake.NewClock(t0)
	srv := ecsfake.New(t, clock, o)
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	ecsClient := ecs.New(ecs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds,
		HTTPClient: srv.Client(), Retryer: sdkRetryer(),
	})
	logsClient := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds,
		HTTPClient: srv.Client(), Retryer: sdkRetryer(),
	})
	out := &bytes.Buffer{}
	return &harness{srv: srv, clock: clock, out: out, d: &Deployer{
		ECS: ecsClient, Logs: logsClient, Clock: clock, Log: progress.New(out, clock.Now, true),
	}}
}

func (h *harness) deploy(t testing.TB, r Request) (Result, error) {
	t.Helper()
	if r.Cluster == "" {
		r.Cluster = "demo"
	}
	if r.Service == "" {
		r.Service = "web"
	}
	if r.Timeout == 0 {
		r.Timeout = 15 * time.Minute
	}
	res, err := h.d.Deploy(context.Background(), r)
	if testing.Verbose() {
		t.Logf("progress:\n%s", h.out.String())
	}
	return res, err
}

// count returns how many progress lines contain s.
func (h *harness) count(s string) int { return strings.Count(h.out.String(), s) }

// arm64TaskDef is a Graviton task definition with everything a careless
// re-registration could lose.
func arm64TaskDef() map[string]any {
	return map[string]any{
		"family": "web", "cpu": "512", "memory": "1024", "networkMode": "awsvpc",
		"executionRoleArn":        "arn:aws:iam::123456789012:role/web-exec",
		"taskRoleArn":             "arn:aws:iam::123456789012:role/web-task",
		"requiresCompatibilities": []any{"EC2"},
		"runtimePlatform":         map[string]any{"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
		"placementConstraints":    []any{map[string]any{"type": "memberOf", "expression": "attribute:ecs.cpu-architecture == arm64"}},
		"volumes":                 []any{map[string]any{"name": "scratch", "host": map[string]any{"sourcePath": "/var/scratch"}}},
		"containerDefinitions": []any{
			map[string]any{
				"name": "app", "image": "example.com/web:1", "essential": true,
				"portMappings": []any{map[string]any{"containerPort": 8080, "protocol": "tcp"}},
				"environment":  []any{map[string]any{"name": "MODE", "value": "prod"}},
				"secrets":      []any{map[string]any{"name": "DB_URL", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}},
				"mountPoints":  []any{map[string]any{"sourceVolume": "scratch", "containerPath": "/scratch"}},
				"logConfiguration": map[string]any{"logDriver": "awslogs", "options": map[string]any{
					"awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}},
			},
			map[string]any{"name": "proxy", "image": "example.com/envoy:1.30", "essential": false, "memory": 64},
		},
	}
}

// deployCase runs one table case: req's Image "" means newImage and "-" means
// none, the container is "app". It fails the test unless the error matches
// wantErr (a pointer to the expected error type, or nil for success) and the
// outcome is outcome, and returns both for the case's own checks.
func (h *harness) deployCase(t *testing.T, req Request, wantErr any, outcome string) (Result, error) {
	t.Helper()
	switch req.Image {
	case "":
		req.Image = newImage
	case "-":
		req.Image = ""
	}
	req.Container = "app"
	res, err := h.deploy(t, req)
	if wantErr == nil && err != nil {
		t.Fatalf("Deploy: %v\n%s", err, h.out)
	}
	if wantErr != nil && !errors.As(err, wantErr) {
		t.Fatalf("Deploy error = %v (%T), want %T\n%s", err, err, wantErr, h.out)
	}
	if res.Outcome != outcome {
		t.Errorf("outcome = %s, want %s", res.Outcome, outcome)
	}
	return res, err
}
