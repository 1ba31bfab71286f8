package ecsdeploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

// verifierFunc is a Verifier that records when it ran.
type verifierFunc struct {
	fn    func(ctx context.Context) error
	calls int
}

func (v *verifierFunc) Verify(ctx context.Context) error {
	v.calls++
	return v.fn(ctx)
}

// mutating are the calls that change a service or register something.
var mutating = []string{"RegisterTaskDefinition", "UpdateService", "StopServiceDeployment"}

func callCounts(h *harness) map[string]int {
	m := map[string]int{}
	for _, op := range mutating {
		m[op] = h.srv.Calls(op)
	}
	return m
}

func TestDeployShiftingStrategies(t *testing.T) {
	const ready = time.Minute
	failing := errors.New(`smoke test failed: check "GET /version" failed: body does not contain "2"`)
	tests := []struct {
		name    string
		opts    ecsfake.Options
		req     Request
		verify  func(ctx context.Context) error
		outcome string
		wantErr any
		calls   map[string]int // mutating calls expected
		check   func(t *testing.T, h *harness, res Result, err error)
	}{
		{
			name: "blue/green succeeds after a 30m bake within the default timeout",
			opts: ecsfake.Options{Strategy: "BLUE_GREEN", BakeTimeMinutes: 30,
				ServiceDeployments: [][]ecsfake.SDFrame{ecsfake.BlueGreen(ready, 30*time.Minute)}},
			outcome: OutcomeSucceeded,
			calls:   map[string]int{"RegisterTaskDefinition": 1, "UpdateService": 1, "StopServiceDeployment": 0},
			check: func(t *testing.T, h *harness, res Result, err error) {
				successAt := h.srv.RolloutStart().Add(ready + 3*time.Second + 30*time.Minute + 10*time.Second)
				if lag := res.VerdictAt.Sub(successAt); lag < 0 || lag > shiftPoll {
					t.Errorf("verdict %s after SUCCESSFUL, want within %s", lag, shiftPoll)
				}
				for _, line := range []string{"scale up", "test traffic shifting", "production traffic shifted 100 %", "baking until 12:31:03Z", "IN_PROGRESS: clean up", "SUCCESSFUL"} {
					if changes(h, line) != 1 {
						t.Errorf("want one progress line with %q:\n%s", line, h.out)
					}
				}
				if res.Strategy != "BLUE_GREEN" || !strings.Contains(res.ServiceDeploymentARN, "service-deployment/demo/web/") {
					t.Errorf("result = %+v", res)
				}
			},
		},
		{
			name: "canary shows each traffic step",
			opts: ecsfake.Options{Strategy: "CANARY", BakeTimeMinutes: 10, CanaryPercent: 10, StepMinutes: 5,
				ServiceDeployments: [][]ecsfake.SDFrame{ecsfake.Canary(ready, 10, 5*time.Minute, 10*time.Minute)}},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				if changes(h, "production traffic shifted 10 %") != 1 || changes(h, "production traffic shifted 100 %") != 1 {
					t.Errorf("want the 10%% and 100%% steps once each:\n%s", h.out)
				}
				if h.count("10% of production traffic for 5m") != 1 {
					t.Errorf("want the plan described:\n%s", h.out)
				}
			},
		},
		{
			name: "linear 25% steps of 10m and a 20m bake: 50m of waiting, no timeout",
			opts: ecsfake.Options{Strategy: "LINEAR", BakeTimeMinutes: 20, LinearPercent: 25, StepMinutes: 10,
				ServiceDeployments: [][]ecsfake.SDFrame{ecsfake.Linear(ready, 25, 10*time.Minute, 20*time.Minute)}},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				for _, p := range []string{"25 %", "50 %", "75 %", "100 %"} {
					if changes(h, "production traffic shifted "+p) != 1 {
						t.Errorf("want step %s once:\n%s", p, h.out)
					}
				}
				if h.count("waiting up to 1h5m") != 1 {
					t.Errorf("want the extended timeout said:\n%s", h.out)
				}
			},
		},
		{
			name: "alarm rolls back during the bake: failure within 2s, rollback followed to its end",
			opts: ecsfake.Options{Strategy: "BLUE_GREEN", BakeTimeMinutes: 30, Alarms: []string{"web-5xx"},
				ServiceDeployments: [][]ecsfake.SDFrame{ecsfake.AlarmRollback(ecsfake.BlueGreen(ready, 30*time.Minute), 20*time.Minute, "web-5xx", time.Minute)}},
			req:     Request{RollbackOnFailure: true},
			outcome: OutcomeRolledBack, wantErr: new(*ServiceDeploymentFailedError),
			calls: map[string]int{"RegisterTaskDefinition": 1, "UpdateService": 1, "StopServiceDeployment": 0},
			check: func(t *testing.T, h *harness, res Result, err error) {
				status, rollbackAt := h.srv.ServiceDeploymentStatus()
				if status != ecsfake.SDRollbackSuccessful {
					t.Errorf("fake ended %s", status)
				}
				if lag := res.VerdictAt.Sub(rollbackAt); lag < 0 || lag > 2*time.Second {
					t.Errorf("failure reported %s after ROLLBACK_REQUESTED, want within 2s", lag)
				}
				if !strings.Contains(err.Error(), "alarm web-5xx fired") || h.count("deployment FAILED") != 1 {
					t.Errorf("want the alarm named: %v\n%s", err, h.out)
				}
			},
		},
		{
			name: "verification fails during the bake: one StopServiceDeployment ROLLBACK and nothing else",
			opts: ecsfake.Options{Strategy: "BLUE_GREEN", BakeTimeMinutes: 30,
				ServiceDeployments: [][]ecsfake.SDFrame{ecsfake.BlueGreen(ready, 30*time.Minute)}},
			req:     Request{RollbackOnFailure: true},
			verify:  func(context.Context) error { return failing },
			outcome: OutcomeRolledBack, wantErr: new(*VerificationFailedError),
			calls: map[string]int{"RegisterTaskDefinition": 1, "UpdateService": 1, "StopServiceDeployment": 1},
			check: func(t *testing.T, h *harness, res Result, err error) {
				stops := h.srv.Stops()
				if len(stops) != 1 || stops[0]["stopType"] != "ROLLBACK" || stops[0]["serviceDeploymentArn"] != res.ServiceDeploymentARN {
					t.Errorf("stops = %v", stops)
				}
				if status, _ := h.srv.ServiceDeploymentStatus(); status != ecsfake.SDRollbackSuccessful {
					t.Errorf("fake ended %s", status)
				}
				if !res.VerificationFailed || !strings.Contains(err.Error(), `check "GET /version" failed`) || h.count("verification FAILED") != 1 {
					t.Errorf("want the failing check in the error and log: %v\n%s", err, h.out)
				}
			},
		},
		{
			name: "verification passes once test traffic reaches the new revision",
			opts: ecsfake.Options{Strategy: "CANARY", BakeTimeMinutes: 5, CanaryPercent: 10, StepMinutes: 5,
				ServiceDeployments: [][]ecsfake.SDFrame{ecsfake.Canary(ready, 10, 5*time.Minute, 5*time.Minute)}},
			verify:  func(context.Context) error { return nil },
			outcome: OutcomeSucceeded,
			calls:   map[string]int{"RegisterTaskDefinition": 1, "UpdateService": 1, "StopServiceDeployment": 0},
			check: func(t *testing.T, h *harness, res Result, err error) {
				i, j := strings.Index(h.out.String(), "production traffic shifted 10 %"), strings.Index(h.out.String(), "verifying the new revision")
				if i < 0 || j < i {
					t.Errorf("want verification after test traffic reached the new revision:\n%s", h.out)
				}
			},
		},
		{
			name: "ROLLBACK_FAILED is loud",
			opts: ecsfake.Options{Strategy: "BLUE_GREEN", BakeTimeMinutes: 30, RollbackFails: true,
				ServiceDeployments: [][]ecsfake.SDFrame{ecsfake.BlueGreen(ready, 30*time.Minute)}},
			verify:  func(context.Context) error { return failing },
			outcome: OutcomeRollbackFailed, wantErr: new(*ServiceDeploymentFailedError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				if !strings.Contains(err.Error(), "ROLLBACK FAILED") || !strings.Contains(err.Error(), "half shifted") {
					t.Errorf("error = %v", err)
				}
			},
		},
		{
			name: "a chosen timeout shorter than the bake times out, and rollback-on-failure stops the deployment",
			opts: ecsfake.Options{Strategy: "BLUE_GREEN", BakeTimeMinutes: 30,
				ServiceDeployments: [][]ecsfake.SDFrame{ecsfake.BlueGreen(ready, 30*time.Minute)}},
			req:     Request{Timeout: 15 * time.Minute, TimeoutSet: true, RollbackOnFailure: true},
			outcome: OutcomeRolledBack, wantErr: new(*DeploymentTimeoutError),
			calls: map[string]int{"RegisterTaskDefinition": 1, "UpdateService": 1, "StopServiceDeployment": 1},
			check: func(t *testing.T, h *harness, res Result, err error) {
				if h.count("is shorter than the strategy's 30m") != 1 {
					t.Errorf("want the short timeout noted:\n%s", h.out)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opts)
			req := tt.req
			var v *verifierFunc
			if tt.verify != nil {
				v = &verifierFunc{fn: tt.verify}
				req.Verify = v
			}
			res, err := h.deployCase(t, req, tt.wantErr, tt.outcome)
			if v != nil && v.calls != 1 {
				t.Errorf("verifier ran %d times, want once", v.calls)
			}
			if tt.calls != nil {
				if got := callCounts(h); !equalCounts(got, tt.calls) {
					t.Errorf("mutating calls = %v, want %v", got, tt.calls)
				}
			}
			if tt.check != nil {
				tt.check(t, h, res, err)
			}
		})
	}
}

// changes counts the progress lines with s, heartbeats left out.
func changes(h *harness, s string) int {
	n := 0
	for _, l := range strings.Split(h.out.String(), "\n") {
		if strings.Contains(l, s) && !strings.Contains(l, "still waiting") {
			n++
		}
	}
	return n
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// Checks that outlast the bake: ECS has finished, so the stop is refused and
// deploy says the new revision is live; it starts no other deployment.
func TestVerificationOutlastsTheBake(t *testing.T) {
	h := newHarness(t, ecsfake.Options{Strategy: "BLUE_GREEN", BakeTimeMinutes: 5,
		ServiceDeployments: [][]ecsfake.SDFrame{ecsfake.BlueGreen(time.Minute, 5*time.Minute)}})
	v := &verifierFunc{fn: func(context.Context) error {
		h.clock.Advance(10 * time.Minute)
		return errors.New("check failed")
	}}
	_, err := h.deployCase(t, Request{Verify: v, RollbackOnFailure: true}, new(*VerificationFailedError), OutcomeFailed)
	if h.srv.Calls("StopServiceDeployment") != 1 || h.srv.Calls("UpdateService") != 1 {
		t.Errorf("StopServiceDeployment %d, UpdateService %d; want 1 and 1", h.srv.Calls("StopServiceDeployment"), h.srv.Calls("UpdateService"))
	}
	if !strings.Contains(err.Error(), "the new revision is live") {
		t.Errorf("error = %v", err)
	}
}

// The service deployment is found by its target revision's number, also
// when an older one was created in the same second.
func TestFindServiceDeployment(t *testing.T) {
	since := t0
	api := &listOnly{out: &ecs.ListServiceDeploymentsOutput{ServiceDeployments: []types.ServiceDeploymentBrief{
		{ServiceDeploymentArn: aws.String("arn:sd/new"), TargetServiceRevisionArn: aws.String("arn:aws:ecs:us-east-1:1:service-revision/demo/web/42"), CreatedAt: aws.Time(since)},
		{ServiceDeploymentArn: aws.String("arn:sd/old"), TargetServiceRevisionArn: aws.String("arn:aws:ecs:us-east-1:1:service-revision/demo/web/41"), CreatedAt: aws.Time(since.Add(-time.Second))},
	}}}
	f := &sdFollower{d: &Deployer{Clock: ecsfake.NewClock(t0)}, api: api, spec: followSpec{Cluster: "demo", Service: "web", DeploymentID: "ecs-svc/42", Since: since}}
	if arn, err := f.find(context.Background()); err != nil || arn != "arn:sd/new" {
		t.Errorf("find = %s, %v; want arn:sd/new", arn, err)
	}
	f.spec.DeploymentID = "ecs-svc/99" // no revision matches: the oldest since the deployment
	if arn, _ := f.find(context.Background()); arn != "arn:sd/old" {
		t.Errorf("fallback = %s; want arn:sd/old", arn)
	}
	if api.in == nil || aws.ToTime(api.in.CreatedAt.After) != since.Add(-5*time.Second) || aws.ToString(api.in.Service) != "web" {
		t.Errorf("ListServiceDeployments input = %+v", api.in)
	}
}

type listOnly struct {
	ServiceDeploymentsAPI
	out *ecs.ListServiceDeploymentsOutput
	in  *ecs.ListServiceDeploymentsInput
}

func (l *listOnly) ListServiceDeployments(_ context.Context, in *ecs.ListServiceDeploymentsInput, _ ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error) {
	l.in = in
	return l.out, nil
}

// CODE_DEPLOY and EXTERNAL services are refused with exit 2 before any
// change, with what to use instead.
func TestDeployRefusesOtherControllers(t *testing.T) {
	for _, dc := range []string{"CODE_DEPLOY", "EXTERNAL"} {
		t.Run(dc, func(t *testing.T) {
			h := newHarness(t, ecsfake.Options{DeploymentController: dc})
			res, err := h.deploy(t, Request{Image: newImage, Container: "app"})
			if !config.IsUsage(err) || !strings.Contains(err.Error(), dc+" deployment controller") || !strings.Contains(err.Error(), "nothing was changed") {
				t.Fatalf("err = %v, want a usage error naming %s", err, dc)
			}
			if got := callCounts(h); got["RegisterTaskDefinition"]+got["UpdateService"]+got["StopServiceDeployment"] != 0 || res.ServiceUpdated {
				t.Errorf("mutating calls = %v", got)
			}
		})
	}
}

// With a rolling strategy the checks run after COMPLETED; a failure with
// --rollback-on-failure deploys the previous revision again.
func TestDeployRollingVerification(t *testing.T) {
	h := newHarness(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{ecsfake.Happy(2, 40*time.Second), ecsfake.Happy(2, 40*time.Second)}})
	v := &verifierFunc{fn: func(context.Context) error { return errors.New("check failed") }}
	res, err := h.deployCase(t, Request{Verify: v, RollbackOnFailure: true}, new(*VerificationFailedError), OutcomeRolledBack)
	if h.srv.Calls("UpdateService") != 2 || h.srv.Calls("StopServiceDeployment") != 0 || v.calls != 1 {
		t.Errorf("UpdateService %d, StopServiceDeployment %d, verifier %d", h.srv.Calls("UpdateService"), h.srv.Calls("StopServiceDeployment"), v.calls)
	}
	if h.srv.ServiceTaskDefinition() != res.PreviousTaskDefinitionARN || !strings.Contains(err.Error(), "rolled back") {
		t.Errorf("service runs %s, err %v", h.srv.ServiceTaskDefinition(), err)
	}
}

func TestJudgeServiceDeployment(t *testing.T) {
	tests := []struct {
		status   types.ServiceDeploymentStatus
		rollback bool
		done     bool
		failed   bool
	}{
		{types.ServiceDeploymentStatusPending, false, false, false},
		{types.ServiceDeploymentStatusInProgress, false, false, false},
		{types.ServiceDeploymentStatusStopRequested, false, false, false},
		{types.ServiceDeploymentStatusSuccessful, false, true, false},
		{types.ServiceDeploymentStatusStopped, false, true, true},
		{types.ServiceDeploymentStatusRollbackRequested, false, true, true},
		{types.ServiceDeploymentStatusRollbackInProgress, false, true, true},
		{types.ServiceDeploymentStatusRollbackSuccessful, false, true, true},
		{types.ServiceDeploymentStatusRollbackFailed, false, true, true},
		{types.ServiceDeploymentStatusRollbackRequested, true, false, false},
		{types.ServiceDeploymentStatusRollbackInProgress, true, false, false},
		{types.ServiceDeploymentStatusRollbackSuccessful, true, true, false},
		{types.ServiceDeploymentStatusRollbackFailed, true, true, true},
		{types.ServiceDeploymentStatusStopped, true, true, true},
	}
	for _, tt := range tests {
		done, err := judgeServiceDeployment(&types.ServiceDeployment{Status: tt.status}, tt.rollback)
		if done != tt.done || (err != nil) != tt.failed {
			t.Errorf("%s (rollback %v) = %v, %v; want done %v, failed %v", tt.status, tt.rollback, done, err, tt.done, tt.failed)
		}
	}
}

func TestShiftTimeout(t *testing.T) {
	linear := strategyPlan{Strategy: types.DeploymentStrategyLinear, Bake: 20 * time.Minute, Step: 10 * time.Minute, Steps: 3}
	if got := shiftTimeout(Request{Timeout: 15 * time.Minute}, linear); got != 65*time.Minute {
		t.Errorf("default linear = %s, want 1h5m", got)
	}
	if got := shiftTimeout(Request{Timeout: 15 * time.Minute, TimeoutSet: true}, linear); got != 15*time.Minute {
		t.Errorf("chosen = %s", got)
	}
	if got := shiftTimeout(Request{Timeout: 15 * time.Minute}, strategyPlan{Strategy: types.DeploymentStrategyRolling}); got != 15*time.Minute {
		t.Errorf("rolling = %s", got)
	}
}
