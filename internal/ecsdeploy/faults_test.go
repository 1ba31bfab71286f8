package ecsdeploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

// testCallTimeout is the real time a test lets a hung call take; the
// virtual clock is charged DefaultCallTimeout for it (see chargeHangs).
const testCallTimeout = 40 * time.Millisecond

// chargeHangs moves the virtual clock on by DefaultCallTimeout whenever an
// ECS call runs out of its (real, test-sized) deadline, so that the timeline
// a test judges is the one a user would live through.
type chargeHangs struct {
	ECSAPI
	clock *ecsfake.Clock
}

func (c chargeHangs) charge(err error) {
	if errors.Is(err, context.DeadlineExceeded) {
		c.clock.Advance(DefaultCallTimeout)
	}
}

func (c chargeHangs) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	out, err := c.ECSAPI.DescribeServices(ctx, in, opts...)
	c.charge(err)
	return out, err
}

func (c chargeHangs) RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	out, err := c.ECSAPI.RegisterTaskDefinition(ctx, in, opts...)
	c.charge(err)
	return out, err
}

func (c chargeHangs) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, opts ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	out, err := c.ECSAPI.UpdateService(ctx, in, opts...)
	c.charge(err)
	return out, err
}

// Connection resets and calls that never answer, injected into the real SDK
// client's traffic with ecsfake: the verdict stays right, nothing is
// registered twice, and a hung call costs one CallTimeout, not the deploy.
func TestDeployFaults(t *testing.T) {
	rev1 := "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
	rev2 := "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2"
	failedWithoutRollback := []ecsfake.Frame{
		{At: 0, PriorRunning: 2},
		{At: 10 * time.Second, Failed: 1, PriorRunning: 2, Stopped: []ecsfake.StoppedTask{cannotPull}},
		{At: 30 * time.Second, Failed: 3, Rollout: "FAILED", Reason: "ECS deployment circuit breaker: tasks failed to start.", PriorRunning: 2},
	}
	tests := []struct {
		name    string
		rollout [][]ecsfake.Frame
		faults  []ecsfake.Fault
		req     Request
		outcome string
		wantErr any // pointer to the error type expected, or nil for success
		check   func(t *testing.T, h *harness, res Result, err error)
	}{
		{
			name:    "reset storm during follow",
			rollout: [][]ecsfake.Frame{ecsfake.Happy(2, 40*time.Second)},
			faults:  []ecsfake.Fault{ecsfake.Reset("DescribeServices", 3, 12)},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				if h.count("describe service: ") < 10 || h.count("connection reset") < 10 {
					t.Errorf("want each reset reported and retried:\n%s", h.out)
				}
				// Calls 1 and 2 answered (before the update and the first
				// poll), 3..12 were reset, 13 saw COMPLETED and ended it.
				if n := h.srv.Calls("DescribeServices"); n != 13 {
					t.Errorf("%d DescribeServices calls, want the first answer after the storm to give the verdict (13)", n)
				}
			},
		},
		{
			name:    "reset during follow of a failing rollout",
			rollout: [][]ecsfake.Frame{ecsfake.CircuitBreaker(2, 30*time.Second, 5*time.Minute, cannotPull)},
			faults:  []ecsfake.Fault{ecsfake.Reset("DescribeServices", 5, 12)},
			outcome: OutcomeFailed, wantErr: new(*DeploymentFailedError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				var f *DeploymentFailedError
				errors.As(err, &f)
				if f.RollbackTaskDefinition != rev1 || !strings.Contains(err.Error(), "CannotPullContainerError") {
					t.Errorf("error = %v, want the circuit breaker's rollback to %s and why the tasks stopped", err, rev1)
				}
				if h.count("connection reset") < 8 {
					t.Errorf("want the resets reported:\n%s", h.out)
				}
			},
		},
		{
			name:    "reset after UpdateService took effect",
			rollout: [][]ecsfake.Frame{ecsfake.Happy(2, 40*time.Second)},
			faults:  []ecsfake.Fault{ecsfake.Reset("UpdateService", 1, 1)},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				ups := h.srv.Updates()
				if len(ups) != 2 || ups[0]["taskDefinition"] != rev2 || ups[1]["taskDefinition"] != rev2 {
					t.Fatalf("UpdateService calls = %v, want the same update twice", ups)
				}
				if h.srv.RolloutStart() != t0 || res.TaskDefinitionARN != rev2 || res.DeploymentID == "" {
					t.Errorf("repeated update started another rollout at %s, or result %+v", h.srv.RolloutStart(), res)
				}
			},
		},
		{
			name:    "reset after a forced UpdateService took effect",
			rollout: [][]ecsfake.Frame{stuck(), ecsfake.Happy(2, 30*time.Second)},
			faults:  []ecsfake.Fault{ecsfake.Reset("UpdateService", 1, 1)},
			req:     Request{Image: "-", ForceNewDeployment: true, Timeout: 5 * time.Minute},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				// The repeat started a second set of fresh tasks; that one is followed.
				if len(h.srv.Updates()) != 2 || res.TaskDefinitionARN != rev1 {
					t.Errorf("updates %d, result %+v", len(h.srv.Updates()), res)
				}
			},
		},
		{
			name:    "reset after RegisterTaskDefinition took effect",
			rollout: [][]ecsfake.Frame{ecsfake.Happy(2, 40*time.Second)},
			faults:  []ecsfake.Fault{ecsfake.Reset("RegisterTaskDefinition", 1, 1)},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				checkRegistration(t, h.srv.Registered())
				if res.TaskDefinitionARN != rev2 || h.srv.ServiceTaskDefinition() != rev2 {
					t.Errorf("deployed %s, service runs %s, want the lost call's %s", res.TaskDefinitionARN, h.srv.ServiceTaskDefinition(), rev2)
				}
				if h.count("registered "+rev2+"; using it") != 1 {
					t.Errorf("want the adopted revision reported:\n%s", h.out)
				}
			},
		},
		{
			name:    "reset before RegisterTaskDefinition took effect",
			rollout: [][]ecsfake.Frame{ecsfake.Happy(2, 40*time.Second)},
			faults:  []ecsfake.Fault{ecsfake.ResetUnapplied("RegisterTaskDefinition", 1, 2)},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				checkRegistration(t, h.srv.Registered())
				if res.TaskDefinitionARN != rev2 || h.srv.ServiceTaskDefinition() != rev2 || h.srv.Calls("RegisterTaskDefinition") < 3 {
					t.Errorf("deployed %s after %d registrations, want %s", res.TaskDefinitionARN, h.srv.Calls("RegisterTaskDefinition"), rev2)
				}
			},
		},
		{
			name:    "hung RegisterTaskDefinition",
			rollout: [][]ecsfake.Frame{ecsfake.Happy(2, 40*time.Second)},
			faults:  []ecsfake.Fault{ecsfake.Hang("RegisterTaskDefinition", 1, 1)},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				checkRegistration(t, h.srv.Registered())
				if res.TaskDefinitionARN != rev2 || h.count("register task definition: no answer within") != 1 {
					t.Errorf("deployed %s:\n%s", res.TaskDefinitionARN, h.out)
				}
			},
		},
		{
			name:    "hang storm during follow",
			rollout: [][]ecsfake.Frame{ecsfake.Happy(2, 40*time.Second)},
			faults:  []ecsfake.Fault{ecsfake.Hang("DescribeServices", 3, 9)},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				if h.count("describe service: no answer within") != 7 {
					t.Errorf("want each hung call reported:\n%s", h.out)
				}
				if n := h.srv.Calls("DescribeServices"); n != 10 {
					t.Errorf("%d DescribeServices calls, want the first answer after the storm to give the verdict (10)", n)
				}
				// Each hung call cost one CallTimeout of the deploy's time, not all of it.
				if d := h.clock.Now().Sub(t0); d > 2*time.Minute {
					t.Errorf("took %s", d)
				}
			},
		},
		{
			name:    "hang during follow of a failing rollout",
			rollout: [][]ecsfake.Frame{failedWithoutRollback},
			faults:  []ecsfake.Fault{ecsfake.Hang("DescribeServices", 4, 9)},
			outcome: OutcomeFailed, wantErr: new(*DeploymentFailedError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				if !strings.Contains(err.Error(), "circuit breaker") || !strings.Contains(err.Error(), "CannotPullContainerError") {
					t.Errorf("error = %v", err)
				}
			},
		},
		{
			name:    "hang that outlasts the timeout",
			rollout: [][]ecsfake.Frame{stuck()},
			faults:  []ecsfake.Fault{ecsfake.Hang("DescribeServices", 15, 1_000_000)},
			req:     Request{Timeout: 2 * time.Minute},
			outcome: OutcomeTimedOut, wantErr: new(*DeploymentTimeoutError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				if !strings.Contains(err.Error(), "IN_PROGRESS: 0/2 running, 1 pending") {
					t.Errorf("timeout does not name the last state seen: %v", err)
				}
				if d := h.clock.Now().Sub(t0); d < 2*time.Minute || d > 2*time.Minute+DefaultCallTimeout {
					t.Errorf("gave up after %s, want 2m plus at most one call's %s", d, DefaultCallTimeout)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, ecsfake.Options{Rollouts: tt.rollout, Faults: tt.faults})
			h.d.CallTimeout = testCallTimeout
			h.d.ECS = chargeHangs{ECSAPI: h.d.ECS, clock: h.clock}
			res, err := h.deployCase(t, tt.req, tt.wantErr, tt.outcome)
			if tt.check != nil {
				tt.check(t, h, res, err)
			}
		})
	}
}

// An endpoint that takes requests and never answers fails the deploy before
// anything changes, in under a minute, saying what to check.
func TestDeployHungBeforeTheUpdate(t *testing.T) {
	h := newHarness(t, ecsfake.Options{Faults: []ecsfake.Fault{ecsfake.Hang("DescribeServices", 1, 1_000_000)}})
	h.d.CallTimeout = testCallTimeout
	h.d.ECS = chargeHangs{ECSAPI: h.d.ECS, clock: h.clock}
	res, err := h.deploy(t, Request{Image: newImage, Container: "app"})
	if err == nil || !strings.Contains(err.Error(), "no answer within") || !strings.Contains(err.Error(), "check --endpoint-url") || res.ServiceUpdated {
		t.Fatalf("Deploy = %+v, %v", res, err)
	}
	if n := h.srv.Calls("DescribeServices"); n != maxUnreachable+1 {
		t.Errorf("%d tries, want %d", n, maxUnreachable+1)
	}
	if d := h.clock.Now().Sub(t0); d > time.Minute {
		t.Errorf("gave up after %s, want under a minute", d)
	}
}
