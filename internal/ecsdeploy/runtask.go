package ecsdeploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// TaskRunner starts and stops one-off tasks. *ecs.Client and awsx.ECS have
// it; Deployer.ECS is asked for it by RunOneOff.
type TaskRunner interface {
	RunTask(ctx context.Context, in *ecs.RunTaskInput, optFns ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	StopTask(ctx context.Context, in *ecs.StopTaskInput, optFns ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
}

var _ TaskRunner = (*ecs.Client)(nil)

// StartedBy marks the tasks run-task starts (RunTask's startedBy).
const StartedBy = "graviton-cd"

// TaskRequest is one one-off task, such as a database migration, on a
// service's network and capacity.
type TaskRequest struct {
	Cluster, Service string
	// TaskDefinition to run: family, family:revision or ARN; empty means
	// the revision the service runs.
	TaskDefinition string
	Container      string   // which container Command replaces the command of
	Command        []string // empty keeps the task definition's
	Timeout        time.Duration
	NoWait         bool // return once RunTask started it
}

// Task outcomes, as TaskResult.Outcome.
const (
	TaskSucceeded   = "succeeded"   // STOPPED, the container exited 0
	TaskStarted     = "started"     // NoWait: RunTask started it
	TaskFailed      = "failed"      // STOPPED otherwise, or never started
	TaskTimedOut    = "timed_out"   // still running at the deadline: stopped
	TaskInterrupted = "interrupted" // stopped following; the task runs on
)

// TaskResult is what a one-off task did, filled in as far as it got.
type TaskResult struct {
	Cluster           string
	TaskARN           string
	TaskID            string
	TaskDefinitionARN string
	Container         string
	Outcome           string
	ExitCode          *int32
	StopCode          string
	StoppedReason     string
	ContainerReason   string
	// LogGroup and LogStreamPrefix locate the container's awslogs stream
	// (<prefix>/<container>/<task-id>); empty when it does not log there.
	LogGroup, LogStreamPrefix string
	Duration                  time.Duration
}

// TaskFailedError says the task stopped with a failure: a non-zero exit
// code, or a container that never ran.
type TaskFailedError struct {
	TaskID          string
	Container       string
	ExitCode        *int32
	StopCode        string
	StoppedReason   string
	ContainerReason string
}

// Error says what happened.
func (e *TaskFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "task %s failed: ", e.TaskID)
	if e.ExitCode != nil {
		fmt.Fprintf(&b, "container %s exited with code %d", e.Container, *e.ExitCode)
	} else {
		fmt.Fprintf(&b, "container %s has no exit code (it never ran)", e.Container)
	}
	if e.ContainerReason != "" {
		fmt.Fprintf(&b, " (%s)", e.ContainerReason)
	}
	if e.StoppedReason != "" {
		fmt.Fprintf(&b, "; stopped: %s", e.StoppedReason)
	}
	if e.StopCode != "" {
		fmt.Fprintf(&b, " [%s]", e.StopCode)
	}
	return b.String()
}

// TaskTimeoutError says the task was still running at the deadline; it was
// stopped.
type TaskTimeoutError struct {
	TaskID  string
	Timeout time.Duration
	Stopped bool // StopTask was accepted
}

// Error says what happened and what to do next.
func (e *TaskTimeoutError) Error() string {
	if e.Stopped {
		return fmt.Sprintf("task %s still ran after %s: stopped it; raise --timeout if it needs longer", e.TaskID, e.Timeout)
	}
	return fmt.Sprintf("task %s still ran after %s, and stopping it failed: stop it with aws ecs stop-task --task %s", e.TaskID, e.Timeout, e.TaskID)
}

// Validate refuses a request that cannot run, before any AWS call.
func (r TaskRequest) Validate() error {
	if r.Timeout <= 0 && !r.NoWait {
		return config.Usagef("timeout", "%s is not a timeout: use a positive duration such as 30m", r.Timeout)
	}
	return nil
}

// RunOneOff starts one task of the service's revision (or r.TaskDefinition)
// with the service's network configuration and capacity provider strategy
// or launch type, startedBy graviton-cd, and follows it to STOPPED. A task
// whose container exits 0 succeeds; any other end is a *TaskFailedError,
// and one still running at r.Timeout is stopped (*TaskTimeoutError).
func (d *Deployer) RunOneOff(ctx context.Context, r TaskRequest) (TaskResult, error) {
	start := d.clock().Now()
	res := TaskResult{Cluster: r.Cluster, Outcome: TaskFailed}
	finish := func(err error) (TaskResult, error) {
		res.Duration = d.clock().Now().Sub(start)
		return res, err
	}
	if err := r.Validate(); err != nil {
		return finish(err)
	}
	runner, ok := d.ECS.(TaskRunner)
	if !ok {
		return finish(errors.New("run task: this ECS client cannot run tasks"))
	}
	timeout := r.Timeout
	if r.NoWait || timeout <= 0 {
		timeout = 2 * time.Minute // enough to describe the service and start the task
	}
	deadline := start.Add(timeout)
	ctx, cancel := context.WithTimeout(ctx, timeout+callGrace)
	defer cancel()

	st, err := d.inspect(ctx, deadline, r.Cluster, r.Service)
	if err != nil {
		return finish(err)
	}
	td := st.TaskDefinition
	if r.TaskDefinition != "" {
		if td, _, err = d.describeTaskDefinition(ctx, deadline, r.TaskDefinition); err != nil {
			return finish(usageTaskDefinition(err, "task-definition", r.TaskDefinition))
		}
	}
	res.TaskDefinitionARN = aws.ToString(td.TaskDefinitionArn)
	if res.Container, err = ChooseContainer(td, r.Container); err != nil {
		if len(r.Command) > 0 || r.Container != "" || len(td.ContainerDefinitions) == 0 {
			return finish(err)
		}
		res.Container = aws.ToString(td.ContainerDefinitions[0].Name) // report on the first
	}
	res.LogGroup, res.LogStreamPrefix, _ = AWSLogs(td, res.Container)

	in := runTaskInput(st.Service, r, res.TaskDefinitionARN, res.Container)
	task, err := callWithRetry(ctx, d, deadline, "run task", func(ctx context.Context) (*types.Task, error) {
		out, err := withCallTimeout(ctx, d, func(ctx context.Context) (*ecs.RunTaskOutput, error) {
			// The client token makes a retry after a lost answer start no
			// second task: ECS answers with the first one.
			return runner.RunTask(ctx, in, withoutSDKRetries)
		})
		if err != nil {
			return nil, err
		}
		if len(out.Failures) > 0 {
			f := out.Failures[0]
			return nil, fmt.Errorf("ECS started no task: %s %s", aws.ToString(f.Reason), aws.ToString(f.Detail))
		}
		if len(out.Tasks) == 0 {
			return nil, errors.New("ECS started no task and gave no reason")
		}
		return &out.Tasks[0], nil
	})
	if err != nil {
		return finish(fmt.Errorf("run task of %s in cluster %s: %w (the role needs ecs:RunTask and iam:PassRole on the task's roles)", res.TaskDefinitionARN, r.Cluster, err))
	}
	res.TaskARN = aws.ToString(task.TaskArn)
	res.TaskID = taskID(res.TaskARN)
	d.Log.Printf("started task %s of %s (container %s)", res.TaskID, res.TaskDefinitionARN, res.Container)
	if r.NoWait {
		res.Outcome = TaskStarted
		return finish(nil)
	}
	final, err := d.followTask(ctx, deadline, r, res.TaskARN)
	switch {
	case errors.Is(err, errTaskDeadline):
		stopped := d.stopTask(runner, r.Cluster, res.TaskARN, fmt.Sprintf("graviton-cd run-task: --timeout %s passed", r.Timeout))
		res.Outcome = TaskTimedOut
		return finish(&TaskTimeoutError{TaskID: res.TaskID, Timeout: r.Timeout, Stopped: stopped})
	case errors.Is(err, context.Canceled):
		res.Outcome = TaskInterrupted
		return finish(fmt.Errorf("follow task %s: interrupted: it keeps running; stop it with aws ecs stop-task --cluster %s --task %s: %w", res.TaskID, r.Cluster, res.TaskID, err))
	case err != nil:
		return finish(err)
	}
	res.StopCode, res.StoppedReason = string(final.StopCode), aws.ToString(final.StoppedReason)
	for _, c := range final.Containers {
		if aws.ToString(c.Name) == res.Container {
			res.ExitCode, res.ContainerReason = c.ExitCode, aws.ToString(c.Reason)
		}
	}
	if res.ExitCode != nil && *res.ExitCode == 0 {
		res.Outcome = TaskSucceeded
		return finish(nil)
	}
	return finish(&TaskFailedError{TaskID: res.TaskID, Container: res.Container, ExitCode: res.ExitCode,
		StopCode: res.StopCode, StoppedReason: res.StoppedReason, ContainerReason: res.ContainerReason})
}

// runTaskInput is the RunTask call: the service's placement, network and
// capacity, one task, the command override.
func runTaskInput(svc *types.Service, r TaskRequest, taskDef, container string) *ecs.RunTaskInput {
	token := make([]byte, 16)
	_, _ = rand.Read(token)
	in := &ecs.RunTaskInput{
		Cluster:              aws.String(r.Cluster),
		TaskDefinition:       aws.String(taskDef),
		Count:                aws.Int32(1),
		StartedBy:            aws.String(StartedBy),
		ClientToken:          aws.String(hex.EncodeToString(token)),
		NetworkConfiguration: svc.NetworkConfiguration,
		PlacementConstraints: svc.PlacementConstraints,
		PlacementStrategy:    svc.PlacementStrategy,
	}
	// A service has a capacity provider strategy or a launch type, never
	// both; RunTask refuses both as well.
	if len(svc.CapacityProviderStrategy) > 0 {
		in.CapacityProviderStrategy = svc.CapacityProviderStrategy
	} else if svc.LaunchType != "" {
		in.LaunchType = svc.LaunchType
	}
	if len(r.Command) > 0 {
		in.Overrides = &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String(container), Command: r.Command}}}
	}
	return in
}

// errTaskDeadline says the task had not stopped by the deadline.
var errTaskDeadline = errors.New("task still running at the deadline")

// followTask polls DescribeTasks until the task is STOPPED, printing each
// change of its status; throttling and 5xx answers are retried.
func (d *Deployer) followTask(ctx context.Context, deadline time.Time, r TaskRequest, arn string) (*types.Task, error) {
	clock := d.clock()
	var schedule pollSchedule
	began := clock.Now()
	last := ""
	for {
		out, err := withCallTimeout(ctx, d, func(ctx context.Context) (*ecs.DescribeTasksOutput, error) {
			return d.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(r.Cluster), Tasks: []string{arn}}, withoutSDKRetries)
		})
		switch {
		case err != nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
			return nil, ctx.Err()
		case err != nil && !Retryable(err):
			return nil, fmt.Errorf("describe task %s: %w (the role needs ecs:DescribeTasks)", taskID(arn), err)
		case err != nil:
			d.Log.Printf("describe task: %s; retrying", briefError(err))
		case len(out.Tasks) == 0:
			return nil, fmt.Errorf("describe task %s: ECS no longer knows it (stopped tasks are kept about an hour); check the cluster", taskID(arn))
		default:
			t := out.Tasks[0]
			if s := aws.ToString(t.LastStatus); s != last {
				d.Log.Printf("task %s: %s", taskID(arn), s)
				last = s
			}
			if aws.ToString(t.LastStatus) == "STOPPED" {
				return &t, nil
			}
		}
		now := clock.Now()
		if !now.Before(deadline) {
			return nil, errTaskDeadline
		}
		next := min(schedule.next(now.Sub(began)), deadline.Sub(now))
		if err := d.sleepUntil(ctx, now.Add(next), func() {
			d.Log.Printf("still waiting: task %s is %s; %s of %s", taskID(arn), last, clock.Now().Sub(began).Round(time.Second), r.Timeout)
		}); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, errTaskDeadline
			}
			return nil, err
		}
	}
}

// stopTask stops a task that outran its timeout, even when ctx is spent; it
// says whether ECS accepted.
func (d *Deployer) stopTask(runner TaskRunner, cluster, arn, reason string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), callGrace)
	defer cancel()
	_, err := callWithRetry(ctx, d, d.clock().Now().Add(callGrace), "stop task", func(ctx context.Context) (*ecs.StopTaskOutput, error) {
		return withCallTimeout(ctx, d, func(ctx context.Context) (*ecs.StopTaskOutput, error) {
			return runner.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn), Reason: aws.String(reason)}, withoutSDKRetries)
		})
	})
	if err != nil {
		d.Log.Printf("stop task %s: %s (the role needs ecs:StopTask)", taskID(arn), briefError(err))
		return false
	}
	d.Log.Printf("stopped task %s: %s", taskID(arn), reason)
	return true
}
