package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
	"github.com/graviton-cd/graviton-cd/internal/progress"
)

func dep(id, status, td string, rollout types.DeploymentRolloutState, running, desired int32) types.Deployment {
	return types.Deployment{Id: aws.String(id), Status: aws.String(status), TaskDefinition: aws.String(td),
		RolloutState: rollout, RunningCount: running, DesiredCount: desired}
}

func pending(d types.Deployment, n int32) types.Deployment {
	d.PendingCount = n
	return d
}

func svcWith(deps ...types.Deployment) *types.Service {
	return &types.Service{Status: aws.String("ACTIVE"), ServiceName: aws.String("web"), Deployments: deps}
}

func TestJudge(t *testing.T) {
	const (
		id  = "ecs-svc/new"
		td2 = "td:2"
		td1 = "td:1"
	)
	tests := []struct {
		name    string
		svc     *types.Service
		done    bool
		wantErr any
	}{
		{"completed primary", svcWith(dep(id, "PRIMARY", td2, "COMPLETED", 2, 2)), true, nil},
		{"in progress", svcWith(dep(id, "PRIMARY", td2, "IN_PROGRESS", 1, 2), dep("old", "ACTIVE", td1, "COMPLETED", 2, 2)), false, nil},
		{"stable-looking but still in progress", svcWith(dep(id, "PRIMARY", td2, "IN_PROGRESS", 2, 2)), false, nil},
		{"completed but short of desired", svcWith(dep(id, "PRIMARY", td2, "COMPLETED", 1, 2)), false, nil},
		{"completed with a task pending", svcWith(pending(dep(id, "PRIMARY", td2, "COMPLETED", 2, 2), 1)), false, nil},
		{"completed, scaled to zero", svcWith(dep(id, "PRIMARY", td2, "COMPLETED", 0, 0)), true, nil},
		{"no rolloutState, all running but one pending", svcWith(pending(dep(id, "PRIMARY", td2, "", 2, 2), 1)), false, nil},
		{"no rolloutState, only one and all running", svcWith(dep(id, "PRIMARY", td2, "", 2, 2)), true, nil},
		{"no rolloutState, old one still there", svcWith(dep(id, "PRIMARY", td2, "", 2, 2), dep("old", "ACTIVE", td1, "", 1, 2)), false, nil},
		{"no rolloutState, short of desired", svcWith(dep(id, "PRIMARY", td2, "", 1, 2)), false, nil},
		{"failed", svcWith(dep(id, "PRIMARY", td2, "FAILED", 0, 2)), true, new(*DeploymentFailedError)},
		{"failed and rolled back by ECS", svcWith(dep("rb", "PRIMARY", td1, "IN_PROGRESS", 0, 2), dep(id, "ACTIVE", td2, "FAILED", 0, 2)), true, new(*DeploymentFailedError)},
		{"other task definition PRIMARY", svcWith(dep("rb", "PRIMARY", td1, "IN_PROGRESS", 0, 2), dep(id, "ACTIVE", td2, "IN_PROGRESS", 1, 2)), true, new(*DeploymentRolledBackError)},
		{"gone, other task definition PRIMARY", svcWith(dep("rb", "PRIMARY", td1, "COMPLETED", 2, 2)), true, new(*DeploymentRolledBackError)},
		{"gone, same task definition PRIMARY", svcWith(dep("again", "PRIMARY", td2, "IN_PROGRESS", 0, 2)), true, new(*DeploymentSupersededError)},
		{"superseded while listed", svcWith(dep("again", "PRIMARY", td2, "IN_PROGRESS", 0, 2), dep(id, "ACTIVE", td2, "IN_PROGRESS", 1, 2)), true, new(*DeploymentSupersededError)},
		{"vanished", svcWith(), true, new(*DeploymentVanishedError)},
		{"service draining", &types.Service{Status: aws.String("DRAINING")}, true, new(*ServiceNotActiveError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done, err := judge(tt.svc, id, td2)
			if done != tt.done {
				t.Errorf("done = %v, want %v", done, tt.done)
			}
			if tt.wantErr == nil && err != nil {
				t.Errorf("err = %v, want none", err)
			}
			if tt.wantErr != nil && !errors.As(err, tt.wantErr) {
				t.Errorf("err = %v (%T), want %T", err, err, tt.wantErr)
			}
		})
	}
}

func TestJudgeFailedNamesRollback(t *testing.T) {
	svc := svcWith(dep("rb", "PRIMARY", "td:1", "IN_PROGRESS", 0, 2), dep("new", "ACTIVE", "td:2", "FAILED", 0, 2))
	svc.Deployments[1].RolloutStateReason = aws.String("ECS deployment circuit breaker: tasks failed to start.")
	_, err := judge(svc, "new", "td:2")
	var f *DeploymentFailedError
	if !errors.As(err, &f) || f.RollbackTaskDefinition != "td:1" || !strings.Contains(err.Error(), "circuit breaker") {
		t.Fatalf("err = %v", err)
	}
}

func fullTaskDef() *types.TaskDefinition {
	return &types.TaskDefinition{
		TaskDefinitionArn: aws.String("arn:aws:ecs:us-east-1:1:task-definition/web:7"),
		Family:            aws.String("web"), Cpu: aws.String("512"), Memory: aws.String("1024"),
		ExecutionRoleArn: aws.String("exec"), TaskRoleArn: aws.String("task"),
		NetworkMode: types.NetworkModeAwsvpc, PidMode: types.PidModeTask, IpcMode: types.IpcModeNone,
		RuntimePlatform:               &types.RuntimePlatform{CpuArchitecture: types.CPUArchitectureArm64, OperatingSystemFamily: types.OSFamilyLinux},
		RequiresCompatibilities:       []types.Compatibility{types.CompatibilityEc2},
		PlacementConstraints:          []types.TaskDefinitionPlacementConstraint{{Type: types.TaskDefinitionPlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.cpu-architecture == arm64")}},
		Volumes:                       []types.Volume{{Name: aws.String("scratch")}},
		EphemeralStorage:              &types.EphemeralStorage{SizeInGiB: 30},
		ProxyConfiguration:            &types.ProxyConfiguration{ContainerName: aws.String("proxy")},
		InferenceAccelerators:         []types.InferenceAccelerator{{DeviceName: aws.String("d"), DeviceType: aws.String("t")}},
		EnableFaultInjection:          aws.Bool(true),
		TrustedExecutionConfiguration: &types.TrustedExecutionConfiguration{},
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String("web:1"),
				Environment: []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("prod")}},
				Secrets:     []types.Secret{{Name: aws.String("DB"), ValueFrom: aws.String("arn:ssm")}}},
			{Name: aws.String("proxy"), Image: aws.String("envoy:1.30")},
		},
		// Read-only fields ECS fills in; they have no place in a registration.
		Revision: 7, Status: types.TaskDefinitionStatusActive, RegisteredBy: aws.String("me"),
	}
}

func TestNewRevisionInputChangesOnlyTheImage(t *testing.T) {
	td := fullTaskDef()
	tags := []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}, {Key: aws.String("aws:cloudformation:stack-id"), Value: aws.String("x")}}
	in, err := NewRevisionInput(td, tags, "app", "web:2")
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(in.ContainerDefinitions[0].Image); got != "web:2" {
		t.Errorf("app image = %s", got)
	}
	if got := aws.ToString(in.ContainerDefinitions[1].Image); got != "envoy:1.30" {
		t.Errorf("proxy image = %s, want it untouched", got)
	}
	if aws.ToString(td.ContainerDefinitions[0].Image) != "web:1" {
		t.Error("the described task definition was modified")
	}
	if len(in.Tags) != 1 || aws.ToString(in.Tags[0].Key) != "team" {
		t.Errorf("tags = %v, want team only (aws: is reserved)", in.Tags)
	}

	// Every field a registration can take that the described task
	// definition has must be carried over, so that a field added to the SDK
	// later cannot be dropped silently (as runtimePlatform once was by other
	// tools, turning ARM64 services into X86_64).
	src := reflect.ValueOf(td).Elem()
	dst := reflect.ValueOf(in).Elem()
	for i := 0; i < dst.NumField(); i++ {
		name := dst.Type().Field(i).Name
		sf := src.FieldByName(name)
		if !sf.IsValid() || !dst.Type().Field(i).IsExported() || name == "ContainerDefinitions" {
			continue
		}
		if sf.IsZero() {
			t.Errorf("test task definition leaves %s empty: fill it in so the test covers it", name)
			continue
		}
		if !reflect.DeepEqual(sf.Interface(), dst.Field(i).Interface()) {
			t.Errorf("%s not carried over: %v, want %v", name, dst.Field(i).Interface(), sf.Interface())
		}
	}
}

func TestChooseContainer(t *testing.T) {
	td := fullTaskDef()
	if _, err := ChooseContainer(td, ""); !config.IsUsage(err) || !strings.Contains(err.Error(), "app, proxy") {
		t.Errorf("two containers without --container: %v", err)
	}
	if _, err := ChooseContainer(td, "nope"); !config.IsUsage(err) {
		t.Errorf("unknown container: %v", err)
	}
	if got, err := ChooseContainer(td, "proxy"); got != "proxy" || err != nil {
		t.Errorf("proxy: %s, %v", got, err)
	}
	td.ContainerDefinitions = td.ContainerDefinitions[:1]
	if got, err := ChooseContainer(td, ""); got != "app" || err != nil {
		t.Errorf("only one: %s, %v", got, err)
	}
}

func TestPollSchedule(t *testing.T) {
	var s pollSchedule
	var at time.Duration
	perMinute := map[int]int{}
	for at < 30*time.Minute {
		perMinute[int(at/time.Minute)]++
		wait := s.next(at)
		if wait < time.Second || wait > 5*time.Second {
			t.Fatalf("wait %s at %s: want 1s..5s", wait, at)
		}
		at += wait
	}
	if perMinute[0] > 60 {
		t.Errorf("%d calls in the first minute, want at most 60", perMinute[0])
	}
	for m := 1; m < 30; m++ {
		if perMinute[m] > 12 {
			t.Errorf("%d calls in minute %d, want at most 12", perMinute[m], m+1)
		}
	}
}

func TestRetryable(t *testing.T) {
	status := func(code int) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: errors.New("x")}
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"throttling", &smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		{"server exception", &smithy.GenericAPIError{Code: "ServerException"}, true},
		{"503", status(503), true},
		{"quota", errors.Join(&smithy.GenericAPIError{Code: "X"}, ratelimit.QuotaExceededError{}), true},
		{"wrapped throttling", fmt.Errorf("describe: %w", &smithy.GenericAPIError{Code: "ThrottlingException"}), true},
		{"validation", &smithy.GenericAPIError{Code: "ClientException"}, false},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException"}, false},
		{"400", status(400), false},
		{"deadline", context.DeadlineExceeded, false},
		{"no answer in one call's time", fmt.Errorf("describe: %w", &noAnswerError{after: time.Second}), true},
		{"request timeout", &smithy.GenericAPIError{Code: "RequestTimeoutException"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Retryable(tt.err); got != tt.want {
				t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// scriptedFetch is a fetcher that answers from a list, then keeps answering
// "not done".
type scriptedFetch struct {
	clock   *ecsfake.Clock
	answers []error // nil: not done yet; errDone: done, success
	calls   int
}

var errDone = errors.New("done")

func (f *scriptedFetch) Fetch(context.Context) (time.Time, bool, error) {
	f.calls++
	next := f.clock.Now().Add(time.Second)
	if f.calls > len(f.answers) {
		return next, false, nil
	}
	switch err := f.answers[f.calls-1]; {
	case err == errDone:
		return next, true, nil
	case err == nil:
		return next, false, nil
	default:
		var v *DeploymentFailedError
		return next, errors.As(err, &v), err
	}
}

func TestFollowLoop(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException"}
	tests := []struct {
		name      string
		answers   []error
		timeout   time.Duration
		wantErr   any
		wantCalls int
	}{
		{"success", []error{nil, nil, errDone}, time.Minute, nil, 3},
		{"throttling never ends it", []error{throttled, throttled, throttled, throttled, throttled, throttled, errDone}, 10 * time.Minute, nil, 7},
		{"validation error ends it", []error{nil, &smithy.GenericAPIError{Code: "AccessDeniedException"}}, time.Minute, new(smithy.APIError), 2},
		{"verdict ends it", []error{nil, &DeploymentFailedError{DeploymentID: "d"}}, time.Minute, new(*DeploymentFailedError), 2},
		{"deadline", nil, 30 * time.Second, new(*DeploymentTimeoutError), 31},
		{"throttled through the deadline", []error{throttled, throttled, throttled, throttled, throttled, throttled, throttled, throttled}, 20 * time.Second, new(*DeploymentTimeoutError), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := ecsfake.NewClock(t0)
			d := &Deployer{Clock: clock, Log: progress.Discard()}
			f := &scriptedFetch{clock: clock, answers: tt.answers}
			err := d.follow(context.Background(), f, t0.Add(tt.timeout), func() lastSeen { return lastSeen{state: "last"} }, followSpec{DeploymentID: "d"}, tt.timeout)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != nil && !errors.As(err, tt.wantErr) {
				t.Fatalf("err = %v (%T), want %T", err, err, tt.wantErr)
			}
			if tt.wantCalls != 0 && f.calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", f.calls, tt.wantCalls)
			}
			if el := clock.Now().Sub(t0); el > tt.timeout {
				t.Errorf("ran %s past a %s deadline", el, tt.timeout)
			}
		})
	}
}

func TestFollowLoopInterrupted(t *testing.T) {
	clock := ecsfake.NewClock(t0)
	d := &Deployer{Clock: clock, Log: progress.Discard()}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := d.follow(ctx, &scriptedFetch{clock: clock}, t0.Add(time.Minute), func() lastSeen { return lastSeen{} }, followSpec{DeploymentID: "d"}, time.Minute)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// slowFetch asks to be called every 5 s and is throttled until done.
type slowFetch struct {
	clock *ecsfake.Clock
	calls int
	at    []time.Time
}

func (f *slowFetch) Fetch(context.Context) (time.Time, bool, error) {
	f.calls++
	f.at = append(f.at, f.clock.Now())
	if f.calls == 4 {
		return time.Time{}, true, nil
	}
	return f.clock.Now().Add(5 * time.Second), false, &smithy.GenericAPIError{Code: "ThrottlingException"}
}

// Throttling backs off from the schedule: it never makes polling faster.
func TestThrottlingNeverPollsFasterThanTheSchedule(t *testing.T) {
	clock := ecsfake.NewClock(t0)
	d := &Deployer{Clock: clock, Log: progress.Discard()}
	f := &slowFetch{clock: clock}
	if err := d.follow(context.Background(), f, t0.Add(time.Hour), func() lastSeen { return lastSeen{} }, followSpec{}, time.Hour); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(f.at); i++ {
		if gap := f.at[i].Sub(f.at[i-1]); gap < 5*time.Second {
			t.Errorf("poll %d came %s after the last, want at least the scheduled 5s", i+1, gap)
		}
	}
}

// fakeECS answers DescribeServices with one service and fails every other
// call: enough for checks that must stop before anything changes.
type fakeECS struct {
	ECSAPI // nil: any other call panics, which fails the test loudly
	svc    types.Service
}

func (f *fakeECS) DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	return &ecs.DescribeServicesOutput{Services: []types.Service{f.svc}}, nil
}

func TestDeployRefusesServicesItCannotFollow(t *testing.T) {
	tests := []struct {
		name string
		svc  types.Service
		msg  string
	}{
		{"CodeDeploy controller", types.Service{DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeCodeDeploy}}, "CODE_DEPLOY deployment controller"},
		{"external controller", types.Service{DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}}, "EXTERNAL deployment controller"},
		{"no task definition", types.Service{}, "names no task definition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.svc.ServiceName, tt.svc.Status = aws.String("web"), aws.String("ACTIVE")
			d := &Deployer{ECS: &fakeECS{svc: tt.svc}, Clock: ecsfake.NewClock(t0), Log: progress.Discard()}
			res, err := d.Deploy(context.Background(), Request{Cluster: "demo", Service: "web", Image: "a/b:1", Timeout: time.Minute})
			if err == nil || !strings.Contains(err.Error(), tt.msg) || res.ServiceUpdated {
				t.Fatalf("Deploy = %+v, %v; want %q", res, err, tt.msg)
			}
		})
	}
}

// A call that runs out of its own deadline is a retryable no-answer; one
// that ends with the deploy's context is not.
func TestWithCallTimeout(t *testing.T) {
	d := &Deployer{CallTimeout: 10 * time.Millisecond}
	hang := func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, fmt.Errorf("send request: %w", ctx.Err())
	}
	_, err := withCallTimeout(context.Background(), d, hang)
	var noAnswer *noAnswerError
	if !errors.As(err, &noAnswer) || !Retryable(err) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hung call: %v, want a retryable no-answer", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := withCallTimeout(ctx, d, hang); !errors.Is(err, context.Canceled) || Retryable(err) {
		t.Errorf("interrupted call: %v, want context.Canceled", err)
	}
	if v, err := withCallTimeout(context.Background(), d, func(context.Context) (int, error) { return 7, nil }); v != 7 || err != nil {
		t.Errorf("answered call: %d, %v", v, err)
	}
}

// latestRevision answers DescribeTaskDefinition with one revision.
type latestRevision struct {
	ECSAPI
	td *types.TaskDefinition
}

func (f latestRevision) DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: f.td}, nil
}

// After a RegisterTaskDefinition whose answer was lost, only a newer revision
// that is exactly the one being registered is taken for it.
func TestFindRegistered(t *testing.T) {
	current := &types.TaskDefinition{Family: aws.String("web"), Revision: 4, TaskDefinitionArn: aws.String("td/web:4"), Cpu: aws.String("256"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("app:1")}}}
	in, err := NewRevisionInput(current, nil, "app", "app:2")
	if err != nil {
		t.Fatal(err)
	}
	revision := func(rev int32, image, cpu string) *types.TaskDefinition {
		return &types.TaskDefinition{Family: aws.String("web"), Revision: rev, TaskDefinitionArn: aws.String(fmt.Sprintf("td/web:%d", rev)), Cpu: aws.String(cpu),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image)}}}
	}
	tests := []struct {
		name   string
		latest *types.TaskDefinition
		want   string
	}{
		{"the lost call's revision", revision(5, "app:2", "256"), "td/web:5"},
		{"nothing registered since", current, ""},
		{"someone else's image", revision(5, "app:3", "256"), ""},
		{"same image, other settings", revision(5, "app:2", "512"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Deployer{ECS: latestRevision{td: tt.latest}, Log: progress.Discard()}
			got, err := d.findRegistered(context.Background(), current, in, "app", "app:2", nil)
			if err != nil {
				t.Fatal(err)
			}
			if arn := ""; got != nil {
				arn = aws.ToString(got.TaskDefinitionArn)
				if arn != tt.want {
					t.Errorf("found %s, want %q", arn, tt.want)
				}
			} else if tt.want != "" {
				t.Errorf("found none, want %s", tt.want)
			}
		})
	}
}
