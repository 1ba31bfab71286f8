package ecsdeploy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// Polling schedule: every second while a rollout is young (a fast rollout is
// noticed within a second), then backing off by a quarter per poll towards
// every five seconds, so that a long rollout costs at most 12 calls a minute.
const (
	fastPoll       = time.Second
	fastPollPeriod = 45 * time.Second
	slowPoll       = 5 * time.Second
	pollGrowth     = 1.25
)

// pollSchedule says how long to wait before the next look at the service.
type pollSchedule struct {
	cur time.Duration
	max time.Duration // slowest poll; zero means slowPoll
}

// next returns the wait after a poll made elapsed after the follow began.
func (s *pollSchedule) next(elapsed time.Duration) time.Duration {
	if s.cur == 0 {
		s.cur = fastPoll
	}
	if elapsed < fastPollPeriod {
		return fastPoll
	}
	s.cur = min(cmp.Or(s.max, slowPoll), time.Duration(float64(s.cur)*pollGrowth))
	return s.cur
}

// fetcher is one look at the world, in the copilot-cli stream style: when to
// look next, whether the verdict is in, and the verdict or a poll error.
type fetcher interface {
	Fetch(ctx context.Context) (next time.Time, done bool, err error)
}

// followSpec says which deployment to follow.
type followSpec struct {
	Cluster, Service string
	DeploymentID     string
	TaskDefinition   string                // ARN the deployment runs
	TaskDef          *types.TaskDefinition // for awslogs of failed tasks; may be nil
	Since            time.Time             // service events older than this are history
	// SeenEvents are event IDs already printed, shared by the follows of
	// one deploy (the deployment and its rollback); nil starts afresh.
	SeenEvents map[string]bool
}

// follower follows one deployment. It prints what changed since the last
// poll: the deployment's counts and state, new service events, new stopped
// tasks.
type follower struct {
	d        *Deployer
	spec     followSpec
	started  time.Time
	schedule pollSchedule
	report   *reporter

	lastState string
	lastDep   *types.Deployment // the followed deployment as last seen
	failed    int32             // failedTasks already reported
	shortSaid bool              // "COMPLETED but short" was explained
}

// lastSeen is where the followed deployment stood at the last answer, for
// the heartbeat and the timeout error.
type lastSeen struct {
	state string            // describeState's line; empty before any answer
	dep   *types.Deployment // nil before any answer or when it was not listed
}

func (f *follower) seen() lastSeen { return lastSeen{state: f.lastState, dep: f.lastDep} }

func (d *Deployer) newFollower(spec followSpec) *follower {
	return &follower{d: d, spec: spec, started: d.clock().Now(), report: newReporter(d, spec)}
}

// Fetch looks at the service once.
func (f *follower) Fetch(ctx context.Context) (time.Time, bool, error) {
	svc, err := f.d.describeService(ctx, f.spec.Cluster, f.spec.Service)
	now := f.d.clock().Now()
	next := now.Add(f.schedule.next(now.Sub(f.started)))
	if err != nil {
		var gone *ServiceNotActiveError
		if errors.As(err, &gone) {
			return next, true, err
		}
		return next, false, err
	}
	f.report.events(svc)
	if s := describeState(svc, f.spec.DeploymentID); s != f.lastState {
		f.d.Log.Printf("%s", s)
		f.lastState = s
	}
	// Stopped tasks are listed only when the deployment counts new failed
	// ones, and once more at a failure verdict, to save calls.
	listed := false
	dep, _ := findDeployment(svc, f.spec.DeploymentID)
	f.lastDep = nil
	if dep != nil {
		c := *dep
		f.lastDep = &c
	}
	if completedShort(dep) && !f.shortSaid {
		f.d.Log.Printf("ECS marks deployment %s COMPLETED with %s: waiting until every desired task runs", f.spec.DeploymentID, countsLine(dep))
		f.shortSaid = true
	}
	if dep != nil && dep.FailedTasks > f.failed {
		listed = f.report.stoppedTasks(ctx) == nil
		if listed {
			f.failed = dep.FailedTasks
		}
	}
	done, verdict := judge(svc, f.spec.DeploymentID, f.spec.TaskDefinition)
	if done && verdict != nil {
		if !listed {
			f.report.stoppedTasks(ctx)
		}
		f.report.tailLogs(ctx)
		var failed *DeploymentFailedError
		if errors.As(verdict, &failed) {
			failed.StoppedReasons = f.report.reasons()
		}
	}
	return next, done, verdict
}

// follow polls until a verdict, the deadline or ctx's end. Throttling and 5xx
// answers are retried with backoff and jitter and never end the follow;
// any other error does. While nothing else is printed it prints a heartbeat
// at least every progress.HeartbeatEvery, from last's counts.
func (d *Deployer) follow(ctx context.Context, f fetcher, deadline time.Time, last func() lastSeen, spec followSpec, timeout time.Duration) error {
	clock := d.clock()
	backoff := newBackoff()
	timedOut := func() error {
		return timeoutError(spec.DeploymentID, timeout, last())
	}
	heartbeat := func() {
		elapsed := timeout - deadline.Sub(clock.Now())
		d.Log.Printf("still waiting: %s; %s of %s", waitingLine(last()), progress.Duration(elapsed), progress.Duration(timeout))
	}
	for {
		next, done, err := f.Fetch(ctx)
		if done {
			return err
		}
		now := clock.Now()
		if err != nil {
			switch {
			case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
				return fmt.Errorf("follow deployment %s: interrupted: %w", spec.DeploymentID, ctx.Err())
			case ctx.Err() != nil:
				return timedOut()
			case !Retryable(err):
				return fmt.Errorf("follow deployment %s: describe service %s: %w (the role needs ecs:DescribeServices)", spec.DeploymentID, spec.Service, err)
			}
			// Back off from the schedule, never poll faster than it.
			wait, _ := backoff.Next()
			if retryAt := now.Add(wait); retryAt.After(next) {
				next = retryAt
			}
			d.Log.Printf("describe service: %s; retrying in %s", briefError(err), next.Sub(now).Round(100*time.Millisecond))
		} else {
			backoff = newBackoff()
		}
		if !now.Before(deadline) {
			return timedOut()
		}
		if next.After(deadline) {
			next = deadline // one last look at the deadline
		}
		if err := d.sleepUntil(ctx, next, heartbeat); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return timedOut()
			}
			return fmt.Errorf("follow deployment %s: interrupted: %w", spec.DeploymentID, err)
		}
	}
}

// sleepUntil sleeps on the Deployer's clock until the given time, waking
// in between to call heartbeat whenever the log has been silent for
// progress.HeartbeatEvery, so that a long quiet wait still shows signs of
// life (and a CI job's no-output timeout does not kill it).
func (d *Deployer) sleepUntil(ctx context.Context, until time.Time, heartbeat func()) error {
	clock := d.clock()
	for {
		step := until.Sub(clock.Now())
		if step <= 0 {
			return nil
		}
		due := d.Log.HeartbeatDue()
		if due <= 0 {
			heartbeat()
			due = progress.HeartbeatEvery
		}
		if err := clock.Sleep(ctx, min(step, due)); err != nil {
			return err
		}
	}
}

// waitingLine says what a heartbeat waits for: "1/2 running, 1 pending".
func waitingLine(l lastSeen) string {
	switch {
	case l.dep != nil && completedShort(l.dep):
		return countsLine(l.dep) + " (ECS says COMPLETED)"
	case l.dep != nil:
		return countsLine(l.dep)
	case l.state != "":
		return l.state
	}
	return "no answer from ECS yet"
}

// timeoutError is the verdict at the deadline, from the last answer.
func timeoutError(id string, timeout time.Duration, l lastSeen) *DeploymentTimeoutError {
	e := &DeploymentTimeoutError{DeploymentID: id, Timeout: timeout, LastState: l.state}
	if e.LastState == "" {
		e.LastState = "no answer from ECS yet"
	}
	if l.dep != nil {
		e.Running, e.Desired, e.Pending = l.dep.RunningCount, l.dep.DesiredCount, l.dep.PendingCount
		e.CompletedShort = completedShort(l.dep)
	}
	return e
}

// followDeployment follows spec's deployment until a verdict or the
// deadline; timeout is the budget the deadline came from, for messages.
func (d *Deployer) followDeployment(ctx context.Context, spec followSpec, deadline time.Time, timeout time.Duration) error {
	f := d.newFollower(spec)
	err := d.follow(ctx, f, deadline, f.seen, spec, timeout)
	var timedOut *DeploymentTimeoutError
	if errors.As(err, &timedOut) {
		// Tasks that kept failing are the likeliest reason for a timeout
		// when the circuit breaker is off: show the last one's log.
		f.report.tailLogs(ctx)
	}
	return err
}

// callGrace is how long past the deadline an API call may still take.
const callGrace = 30 * time.Second

// deploymentSince is when the deployment began by ECS's clock, so that its
// events are told from older ones without trusting the local clock.
func deploymentSince(dep types.Deployment, fallback time.Time) time.Time {
	if dep.CreatedAt != nil {
		return aws.ToTime(dep.CreatedAt)
	}
	return fallback
}
