package ecsdeploy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

const newImage = "example.com/web:2"

var cannotPull = ecsfake.StoppedTask{
	ID: "0a1b2c3d4e", Reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): example.com/web:2: not found",
	StopCode:   "TaskFailedToStart",
	Containers: []ecsfake.StoppedContainer{{Name: "app", Reason: "CannotPullContainerError: example.com/web:2: not found"}},
}

func exitCode(n int) *int { return &n }

// stuck is a rollout that starts one task and never gets further.
func stuck(events ...string) []ecsfake.Frame {
	return []ecsfake.Frame{
		{At: 0, PriorRunning: 2},
		{At: 10 * time.Second, Pending: 1, PriorRunning: 2, Events: events},
	}
}

func TestDeployProtocol(t *testing.T) {
	rev1 := "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
	rev2 := "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2"
	placement := "was unable to place a task because no container instance met all of its requirements. The closest matching container-instance 5f0e has insufficient memory available."

	tests := []struct {
		name    string
		opts    ecsfake.Options
		req     Request
		outcome string
		wantErr any // pointer to the error type expected, or nil for success
		// check looks at the server and progress lines after the deploy.
		check func(t *testing.T, h *harness, res Result, err error)
	}{
		{
			name: "happy path", opts: ecsfake.Options{Rollouts: [][]ecsfake.Frame{ecsfake.Happy(2, 40*time.Second)}},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				if res.TaskDefinitionARN != rev2 || res.PreviousTaskDefinitionARN != rev1 {
					t.Errorf("task definitions = %s from %s, want %s from %s", res.TaskDefinitionARN, res.PreviousTaskDefinitionARN, rev2, rev1)
				}
				if h.srv.ServiceTaskDefinition() != rev2 {
					t.Errorf("service runs %s, want %s", h.srv.ServiceTaskDefinition(), rev2)
				}
				completed := h.srv.RolloutStart().Add(40 * time.Second)
				if lag := h.clock.Now().Sub(completed); lag < 0 || lag > time.Second {
					t.Errorf("returned %s after COMPLETED, want within 1s", lag)
				}
				if h.count("has reached a steady state") != 1 {
					t.Errorf("want the new steady-state event once and the hour-old one never:\n%s", h.out)
				}
				checkRegistration(t, h.srv.Registered())
				if h.count("has started 2 tasks") != 1 {
					t.Errorf("want each new event printed once:\n%s", h.out)
				}
			},
		},
		{
			name:    "circuit breaker FAILED and ECS rolls back",
			opts:    ecsfake.Options{Rollouts: [][]ecsfake.Frame{ecsfake.CircuitBreaker(2, 90*time.Second, 60*time.Second, cannotPull)}},
			outcome: OutcomeFailed, wantErr: new(*DeploymentFailedError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				var f *DeploymentFailedError
				errors.As(err, &f)
				if f.RollbackTaskDefinition != rev1 || !strings.Contains(f.Reason, "circuit breaker") {
					t.Errorf("error = %+v, want circuit breaker reason and rollback to %s", f, rev1)
				}
				if !strings.Contains(err.Error(), "CannotPullContainerError") {
					t.Errorf("error does not say why the tasks stopped: %v", err)
				}
				if n := len(h.srv.Updates()); n != 1 {
					t.Errorf("%d UpdateService calls, want 1 (no rollback asked for)", n)
				}
				failedAt := h.srv.RolloutStart().Add(90 * time.Second)
				if lag := h.clock.Now().Sub(failedAt); lag < 0 || lag > 5*time.Second {
					t.Errorf("returned %s after FAILED", lag)
				}
			},
		},
		{
			name: "FAILED without rollback",
			opts: ecsfake.Options{Rollouts: [][]ecsfake.Frame{{
				{At: 0, PriorRunning: 2},
				{At: 30 * time.Second, Failed: 2, Rollout: "FAILED", Reason: "ECS deployment circuit breaker: tasks failed to start.", PriorRunning: 2},
			}}},
			outcome: OutcomeFailed, wantErr: new(*DeploymentFailedError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				var f *DeploymentFailedError
				errors.As(err, &f)
				if f.RollbackTaskDefinition != "" {
					t.Errorf("RollbackTaskDefinition = %q, want none", f.RollbackTaskDefinition)
				}
			},
		},
		{
			name: "CannotPullContainerError stopped tasks reported once each",
			opts: ecsfake.Options{Rollouts: [][]ecsfake.Frame{{
				{At: 0, PriorRunning: 2},
				{At: 5 * time.Second, Failed: 1, PriorRunning: 2, Stopped: []ecsfake.StoppedTask{cannotPull}},
				{At: 20 * time.Second, Failed: 2, PriorRunning: 2, Stopped: []ecsfake.StoppedTask{{ID: "ffee", Reason: cannotPull.Reason, Containers: cannotPull.Containers}}},
				{At: 40 * time.Second, Failed: 3, PriorRunning: 2},
				{At: 60 * time.Second, Failed: 3, Rollout: "FAILED", Reason: "ECS deployment circuit breaker: tasks failed to start.", PriorRunning: 2},
			}}},
			outcome: OutcomeFailed, wantErr: new(*DeploymentFailedError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				if h.count("task 0a1b2c3d4e stopped: CannotPullContainerError") != 1 || h.count("task ffee stopped:") != 1 {
					t.Errorf("want each stopped task reported once:\n%s", h.out)
				}
				if h.count("container app: CannotPullContainerError") != 2 {
					t.Errorf("want the container reason of each task:\n%s", h.out)
				}
				if n := len(h.srv.LogRequests()); n != 0 {
					t.Errorf("%d GetLogEvents for containers that never started, want none", n)
				}
			},
		},
		{
			name: "failed task's awslogs tail",
			opts: ecsfake.Options{
				LogLines: []string{"starting web", "panic: DB_URL is not a URL"},
				Rollouts: [][]ecsfake.Frame{{
					{At: 0, PriorRunning: 2},
					{At: 10 * time.Second, Failed: 1, PriorRunning: 2, Stopped: []ecsfake.StoppedTask{{
						ID: "9f9f", Reason: "Essential container in task exited", StopCode: "EssentialContainerExited",
						Containers: []ecsfake.StoppedContainer{{Name: "app", ExitCode: exitCode(2)}, {Name: "proxy", ExitCode: exitCode(0)}},
					}}},
					{At: 30 * time.Second, Failed: 3, Rollout: "FAILED", Reason: "ECS deployment circuit breaker: tasks failed to start.", PriorRunning: 2},
				}},
			},
			outcome: OutcomeFailed, wantErr: new(*DeploymentFailedError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				reqs := h.srv.LogRequests()
				if len(reqs) != 1 || reqs[0]["logGroupName"] != "/ecs/web" || reqs[0]["logStreamName"] != "web/app/9f9f" {
					t.Fatalf("GetLogEvents requests = %v, want one for /ecs/web web/app/9f9f", reqs)
				}
				if h.count("| panic: DB_URL is not a URL") != 1 || h.count("container app: exit code 2") != 1 {
					t.Errorf("want the log tail and the exit code:\n%s", h.out)
				}
			},
		},
		{
			name:    "unable to place a task names the capacity problem",
			opts:    ecsfake.Options{Rollouts: [][]ecsfake.Frame{append(stuck(placement), ecsfake.Frame{At: 70 * time.Second, Pending: 1, PriorRunning: 2, Events: []string{placement}})}},
			req:     Request{Timeout: 3 * time.Minute},
			outcome: OutcomeTimedOut, wantErr: new(*DeploymentTimeoutError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				if h.count("capacity problem: no container instance") != 1 || h.count("insufficient memory") != 2 {
					t.Errorf("want each placement event once, explained once:\n%s", h.out)
				}
			},
		},
		{
			name: "throttling bursts longer than the SDK's retries",
			opts: ecsfake.Options{
				Rollouts: [][]ecsfake.Frame{ecsfake.Happy(2, 40*time.Second)},
				Faults: []ecsfake.Fault{
					ecsfake.Throttle("DescribeServices", 1, 5), ecsfake.Throttle("RegisterTaskDefinition", 1, 4),
					ecsfake.Throttle("UpdateService", 1, 3), ecsfake.Throttle("DescribeServices", 9, 30),
				},
			},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				if h.count("ThrottlingException") < 5 || h.count("retrying in") < 5 {
					t.Errorf("want throttled calls reported and retried:\n%s", h.out)
				}
			},
		},
		{
			name: "5xx storm",
			opts: ecsfake.Options{
				Rollouts: [][]ecsfake.Frame{ecsfake.Happy(2, 40*time.Second)},
				Faults:   []ecsfake.Fault{ecsfake.ServerError("", 1, 2), ecsfake.ServerError("DescribeServices", 4, 60)},
			},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				if h.count("ServerException") < 10 {
					t.Errorf("want the 5xx answers reported:\n%s", h.out)
				}
			},
		},
		{
			name: "deployment vanishes",
			opts: ecsfake.Options{Rollouts: [][]ecsfake.Frame{{
				{At: 0, PriorRunning: 2},
				{At: 20 * time.Second, NewGone: true, PriorRunning: 2},
			}}},
			outcome: OutcomeFailed, wantErr: new(*DeploymentVanishedError),
		},
		{
			name: "another task definition becomes PRIMARY",
			opts: ecsfake.Options{Rollouts: [][]ecsfake.Frame{{
				{At: 0, PriorRunning: 2},
				{At: 20 * time.Second, Running: 1, PriorRunning: 2, Rollback: &ecsfake.RollbackFrame{Running: 2}},
			}}},
			outcome: OutcomeFailed, wantErr: new(*DeploymentRolledBackError),
		},
		{
			name: "draining service", opts: ecsfake.Options{ServiceStatus: "DRAINING"},
			outcome: OutcomeFailed, wantErr: new(*ServiceNotActiveError),
		},
		{
			name:    "service deleted during the rollout",
			opts:    ecsfake.Options{Rollouts: [][]ecsfake.Frame{{{At: 0, PriorRunning: 2}, {At: 15 * time.Second, ServiceStatus: "MISSING"}}}},
			outcome: OutcomeFailed, wantErr: new(*ServiceNotActiveError),
		},
		{
			name: "timeout with crashing tasks shows the last one's log",
			opts: ecsfake.Options{
				LogLines: []string{"panic: listen tcp :8080: bind: address already in use"},
				Rollouts: [][]ecsfake.Frame{{
					{At: 0, PriorRunning: 2},
					{At: 30 * time.Second, Failed: 1, Rollout: "-", PriorRunning: 2, Stopped: []ecsfake.StoppedTask{{
						ID: "c0ffee", Reason: "Essential container in task exited", Containers: []ecsfake.StoppedContainer{{Name: "app", ExitCode: exitCode(2)}},
					}}},
				}},
			},
			req:     Request{Timeout: 2 * time.Minute},
			outcome: OutcomeTimedOut, wantErr: new(*DeploymentTimeoutError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				if h.count("| panic: listen tcp") != 1 || h.count("task c0ffee stopped") != 1 {
					t.Errorf("want the stopped task and its log:\n%s", h.out)
				}
			},
		},
		{
			name:    "stuck until timeout names the last state",
			opts:    ecsfake.Options{Rollouts: [][]ecsfake.Frame{stuck()}},
			req:     Request{Timeout: 4 * time.Minute},
			outcome: OutcomeTimedOut, wantErr: new(*DeploymentTimeoutError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				if !strings.Contains(err.Error(), "IN_PROGRESS: 0/2 running, 1 pending") {
					t.Errorf("timeout does not name the last state: %v", err)
				}
				if d := h.clock.Now().Sub(t0); d < 4*time.Minute || d > 4*time.Minute+10*time.Second {
					t.Errorf("gave up after %s, want 4m", d)
				}
				if len(h.srv.Updates()) != 1 {
					t.Error("rolled back without --rollback-on-failure")
				}
			},
		},
		{
			name:    "rollback on failure after a timeout",
			opts:    ecsfake.Options{Rollouts: [][]ecsfake.Frame{stuck(), ecsfake.Happy(2, 30*time.Second)}},
			req:     Request{Timeout: 2 * time.Minute, RollbackOnFailure: true},
			outcome: OutcomeRolledBack, wantErr: new(*DeploymentTimeoutError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				ups := h.srv.Updates()
				if len(ups) != 2 || ups[1]["taskDefinition"] != rev1 {
					t.Fatalf("UpdateService calls = %v, want a second one back to %s", ups, rev1)
				}
				if h.srv.ServiceTaskDefinition() != rev1 || res.RollbackDeploymentID == "" {
					t.Errorf("service runs %s after rollback %q", h.srv.ServiceTaskDefinition(), res.RollbackDeploymentID)
				}
				if !strings.Contains(err.Error(), "rolled back to "+rev1) {
					t.Errorf("error = %v", err)
				}
			},
		},
		{
			name:    "rollback on failure follows ECS's own rollback",
			opts:    ecsfake.Options{Rollouts: [][]ecsfake.Frame{ecsfake.CircuitBreaker(2, 60*time.Second, 45*time.Second, cannotPull)}},
			req:     Request{RollbackOnFailure: true},
			outcome: OutcomeRolledBack, wantErr: new(*DeploymentFailedError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				if len(h.srv.Updates()) != 1 {
					t.Errorf("started a second rollback beside ECS's")
				}
				if h.count("rolling back to the previous task definition") != 1 {
					t.Errorf("an event was printed twice:\n%s", h.out)
				}
				if h.count("ECS is already rolling back") != 1 {
					t.Errorf("did not follow ECS's rollback:\n%s", h.out)
				}
				rollbackDone := h.srv.RolloutStart().Add(105 * time.Second)
				if lag := h.clock.Now().Sub(rollbackDone); lag < 0 || lag > 5*time.Second {
					t.Errorf("returned %s after the rollback completed", lag)
				}
			},
		},
		{
			name: "rollback on failure when the rollback fails too",
			opts: ecsfake.Options{Rollouts: [][]ecsfake.Frame{
				{{At: 0}, {At: 20 * time.Second, Failed: 2, Rollout: "FAILED", Reason: "tasks failed to start"}},
				{{At: 0}, {At: 20 * time.Second, Failed: 2, Rollout: "FAILED", Reason: "tasks failed to start"}},
			}},
			req:     Request{RollbackOnFailure: true},
			outcome: OutcomeRollbackFailed, wantErr: new(*DeploymentFailedError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				if !strings.Contains(err.Error(), "roll back to "+rev1) {
					t.Errorf("error = %v", err)
				}
			},
		},
		{
			name:    "no rollback without the flag",
			opts:    ecsfake.Options{Rollouts: [][]ecsfake.Frame{{{At: 0}, {At: 20 * time.Second, Failed: 2, Rollout: "FAILED", Reason: "tasks failed to start"}}}},
			outcome: OutcomeFailed, wantErr: new(*DeploymentFailedError),
			check: func(t *testing.T, h *harness, res Result, err error) {
				if len(h.srv.Updates()) != 1 || h.srv.ServiceTaskDefinition() != rev2 {
					t.Error("rolled back without --rollback-on-failure")
				}
			},
		},
		{
			name:    "force new deployment keeps the revision",
			opts:    ecsfake.Options{Rollouts: [][]ecsfake.Frame{ecsfake.Happy(2, 20*time.Second)}},
			req:     Request{Image: "-", ForceNewDeployment: true},
			outcome: OutcomeSucceeded,
			check: func(t *testing.T, h *harness, res Result, err error) {
				ups := h.srv.Updates()
				if h.srv.Calls("RegisterTaskDefinition") != 0 || ups[0]["forceNewDeployment"] != true || ups[0]["taskDefinition"] != nil {
					t.Errorf("update = %v, registered %d", ups[0], h.srv.Calls("RegisterTaskDefinition"))
				}
				if res.TaskDefinitionARN != rev1 || res.PreviousTaskDefinitionARN != rev1 {
					t.Errorf("result = %+v", res)
				}
			},
		},
		{
			name: "no wait stops after UpdateService", req: Request{NoWait: true},
			outcome: OutcomeStarted,
			check: func(t *testing.T, h *harness, res Result, err error) {
				if h.srv.Calls("DescribeServices") != 1 || res.DeploymentID == "" {
					t.Errorf("DescribeServices calls = %d, deployment %q", h.srv.Calls("DescribeServices"), res.DeploymentID)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opts)
			res, err := h.deployCase(t, tt.req, tt.wantErr, tt.outcome)
			if config.IsUsage(err) {
				t.Errorf("a deployment failure must not be a usage error: %v", err)
			}
			if tt.check != nil {
				tt.check(t, h, res, err)
			}
		})
	}
}

// checkRegistration asserts, on the wire, that the new revision changed only
// the app container's image.
func checkRegistration(t *testing.T, regs []map[string]any) {
	t.Helper()
	if len(regs) != 1 {
		t.Fatalf("%d registrations, want 1", len(regs))
	}
	got := regs[0]
	want := arm64TaskDef()
	want["containerDefinitions"].([]any)[0].(map[string]any)["image"] = newImage
	want["tags"] = []any{map[string]any{"key": "team", "value": "payments"}}
	// Compare as JSON values: numbers decode as float64 on both sides.
	wb, _ := json.Marshal(want)
	var wantJSON map[string]any
	_ = json.Unmarshal(wb, &wantJSON)
	if !reflect.DeepEqual(got, wantJSON) {
		gb, _ := json.MarshalIndent(got, "", " ")
		wb, _ := json.MarshalIndent(wantJSON, "", " ")
		t.Errorf("registered:\n%s\nwant:\n%s", gb, wb)
	}
}

// interruptingClock cancels the deploy's context after a number of sleeps,
// as SIGTERM would.
type interruptingClock struct {
	*ecsfake.Clock
	after  int
	cancel context.CancelFunc
}

func (c *interruptingClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.after--; c.after == 0 {
		c.cancel()
	}
	return c.Clock.Sleep(ctx, d)
}

func TestDeployInterrupted(t *testing.T) {
	h := newHarness(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{stuck()}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.d.Clock = &interruptingClock{Clock: h.clock, after: 10, cancel: cancel}
	res, err := h.d.Deploy(ctx, Request{Cluster: "demo", Service: "web", Container: "app", Image: newImage, Timeout: time.Hour, RollbackOnFailure: true})
	if !errors.Is(err, context.Canceled) || res.Outcome != OutcomeInterrupted {
		t.Fatalf("Deploy = %s, %v; want interrupted", res.Outcome, err)
	}
	if len(h.srv.Updates()) != 1 {
		t.Error("rolled back after an interrupt: the user asked to stop")
	}
}

// An endpoint that never answers fails the deploy after a few tries, saying
// what to check, instead of hanging until the deadline.
func TestDeployUnreachableEndpoint(t *testing.T) {
	h := newHarness(t, ecsfake.Options{})
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	h.d.ECS = ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), Retryer: sdkRetryer()})
	res, err := h.deploy(t, Request{Image: newImage, Container: "app"})
	if err == nil || !strings.Contains(err.Error(), "check --endpoint-url") || res.ServiceUpdated {
		t.Fatalf("Deploy = %+v, %v", res, err)
	}
	if d := h.clock.Now().Sub(t0); d > time.Minute {
		t.Errorf("gave up after %s of retries, want under a minute", d)
	}
}

// Throttling that never ends gives up at the deadline, even before the
// service was updated, and says what it last saw.
func TestDeployThrottledUntilTheDeadline(t *testing.T) {
	h := newHarness(t, ecsfake.Options{Faults: []ecsfake.Fault{ecsfake.Throttle("DescribeServices", 1, 1_000_000)}})
	res, err := h.deploy(t, Request{Image: newImage, Container: "app", Timeout: 2 * time.Minute})
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") || res.ServiceUpdated {
		t.Fatalf("Deploy = %+v, %v", res, err)
	}
	if d := h.clock.Now().Sub(t0); d > 2*time.Minute {
		t.Errorf("retried for %s, past the 2m deadline", d)
	}
}
