package ecsdeploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

func TestRequestValidate(t *testing.T) {
	ok := Request{Cluster: "demo", Service: "web", Image: "a/b:1", Timeout: time.Minute}
	tests := []struct {
		name string
		edit func(*Request)
		flag string // "" for a valid request
		msg  string
	}{
		{"valid", func(*Request) {}, "", ""},
		{"no wait alone", func(r *Request) { r.NoWait = true }, "", ""},
		{"rollback alone", func(r *Request) { r.RollbackOnFailure = true }, "", ""},
		{"no wait with rollback", func(r *Request) { r.NoWait, r.RollbackOnFailure = true, true }, "rollback-on-failure", "cannot be used with --no-wait"},
		{"no image", func(r *Request) { r.Image = "" }, "image", "no image to deploy"},
		{"zero timeout", func(r *Request) { r.Timeout = 0 }, "timeout", "not a timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.edit(&r)
			err := r.Validate()
			var u *config.UsageError
			switch {
			case tt.flag == "" && err != nil:
				t.Fatalf("Validate = %v, want nil", err)
			case tt.flag != "" && (!errors.As(err, &u) || u.Flag != tt.flag || !strings.Contains(err.Error(), tt.msg)):
				t.Fatalf("Validate = %v, want a usage error for --%s saying %q", err, tt.flag, tt.msg)
			}
		})
	}
}

// A service or cluster that does not exist before anything changed is bad
// input (exit 2) with one message; one that goes away mid-rollout is a
// failed deployment.
func TestMissingServiceOrClusterIsBadInput(t *testing.T) {
	tests := []struct {
		name    string
		opts    ecsfake.Options
		req     Request
		usage   bool
		flag    string
		message string
	}{
		{"service missing from the start", ecsfake.Options{Missing: true}, Request{}, true, "service",
			"service web not found in cluster demo: check --cluster and --service (or run provision first)"},
		{"misspelt service", ecsfake.Options{}, Request{Service: "nope"}, true, "service", "service nope not found in cluster demo"},
		{"cluster missing", ecsfake.Options{}, Request{Cluster: "nope"}, true, "cluster", "cluster nope not found: check --cluster and the region"},
		{"service deleted mid-rollout", ecsfake.Options{Rollouts: [][]ecsfake.Frame{{{At: 0, PriorRunning: 2}, {At: 15 * time.Second, ServiceStatus: "MISSING"}}}},
			Request{}, false, "", "service web not found in cluster demo"},
		{"draining from the start", ecsfake.Options{ServiceStatus: "DRAINING"}, Request{}, false, "", "is DRAINING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opts)
			tt.req.Image, tt.req.Container = newImage, "app"
			res, err := h.deploy(t, tt.req)
			var gone *ServiceNotActiveError
			if !errors.As(err, &gone) {
				t.Fatalf("Deploy error = %v (%T), want *ServiceNotActiveError", err, err)
			}
			var u *config.UsageError
			if got := errors.As(err, &u); got != tt.usage || got && u.Flag != tt.flag {
				t.Errorf("usage error = %v (%v), want %v for --%s", got, u, tt.usage, tt.flag)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error = %q, want %q", err, tt.message)
			}
			if tt.usage && (res.ServiceUpdated || h.srv.Calls("RegisterTaskDefinition") != 0 || h.srv.Calls("UpdateService") != 0) {
				t.Errorf("changed something for bad input: %+v", res)
			}
		})
	}
}

// A cluster that vanishes while the deployment is followed ends it as a
// failure, not as bad input.
func TestClusterGoneWhileFollowingIsAFailure(t *testing.T) {
	h := newHarness(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{stuck()}})
	d := *h.d
	d.ECS = &clusterVanishes{ECSAPI: h.d.ECS, after: 3}
	res, err := d.Deploy(context.Background(), Request{Cluster: "demo", Service: "web", Container: "app", Image: newImage, Timeout: time.Minute})
	var gone *ServiceNotActiveError
	if !errors.As(err, &gone) || !gone.ClusterMissing || config.IsUsage(err) || !res.ServiceUpdated {
		t.Fatalf("Deploy = %+v, %v; want a non-usage cluster-missing failure after the update", res, err)
	}
}

// clusterVanishes answers DescribeServices with ClusterNotFoundException from
// call after+1 on.
type clusterVanishes struct {
	ECSAPI
	after, calls int
}

func (c *clusterVanishes) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	if c.calls++; c.calls > c.after {
		return nil, &smithy.GenericAPIError{Code: "ClusterNotFoundException", Message: "Cluster not found."}
	}
	return c.ECSAPI.DescribeServices(ctx, in, opts...)
}
