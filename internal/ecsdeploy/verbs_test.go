package ecsdeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

const tdARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/"

// revisionsHarness has family web at revisions 1..4 (3 deregistered) and a
// web-worker family whose revisions interleave; the service runs web:4.
func revisionsHarness(t *testing.T, o ecsfake.Options) *harness {
	t.Helper()
	worker := arm64TaskDef()
	worker["family"] = "web-worker"
	o.PriorRevisions = []map[string]any{arm64TaskDef(), worker, arm64TaskDef(), worker, arm64TaskDef()}
	h := newHarness(t, o)
	h.srv.Deregister(tdARN + "web:3")
	return h
}

func (h *harness) rollbackReq(r RollbackRequest) RollbackRequest {
	r.Cluster, r.Service = "demo", "web"
	if r.Timeout == 0 {
		r.Timeout = 15 * time.Minute
	}
	return r
}

func TestRollbackServiceChoosesTheRevision(t *testing.T) {
	cases := []struct {
		name, to, want string
	}{
		{"previous ACTIVE of the same family", "", tdARN + "web:2"},
		{"number", "1", tdARN + "web:1"},
		{"family:number", "web:1", tdARN + "web:1"},
		{"ARN", tdARN + "web:2", tdARN + "web:2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := revisionsHarness(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{ecsfake.Happy(2, 40*time.Second)}})
			if cur := h.srv.ServiceTaskDefinition(); cur != tdARN+"web:4" {
				t.Fatalf("service runs %s, want web:4", cur)
			}
			res, err := h.d.RollbackService(context.Background(), h.rollbackReq(RollbackRequest{To: c.to}))
			if err != nil {
				t.Fatalf("rollback: %v\n%s", err, h.out)
			}
			if res.Outcome != OutcomeSucceeded || res.TaskDefinitionARN != c.want || res.PreviousTaskDefinitionARN != tdARN+"web:4" {
				t.Errorf("result %+v, want succeeded to %s from web:4", res, c.want)
			}
			if got := h.srv.ServiceTaskDefinition(); got != c.want {
				t.Errorf("service runs %s, want %s", got, c.want)
			}
			if n := len(h.srv.Registered()); n != 0 {
				t.Errorf("rollback registered %d revisions, want none", n)
			}
			// Followed like a deploy: the events and the COMPLETED verdict.
			if h.count("deployment completed") == 0 {
				t.Errorf("progress does not show the followed rollout:\n%s", h.out)
			}
		})
	}
}

func TestRollbackServiceRefusesBadTargetsChangingNothing(t *testing.T) {
	cases := []struct {
		name, to, flag string
		inProgress     bool
	}{
		{"other family", "web-worker:2", "to", false},
		{"other family ARN", tdARN + "web-worker:2", "to", false},
		{"deregistered", "3", "to", false},
		{"missing", "99", "to", false},
		{"not a revision", "latest", "to", false},
		{"deployment in progress", "", "force", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := revisionsHarness(t, ecsfake.Options{})
			if c.inProgress {
				// An UpdateService beyond the scripted rollouts stays IN_PROGRESS.
				if _, err := h.d.RollbackService(context.Background(), h.rollbackReq(RollbackRequest{To: "2", NoWait: true})); err != nil {
					t.Fatal(err)
				}
			}
			updates := len(h.srv.Updates())
			_, err := h.d.RollbackService(context.Background(), h.rollbackReq(RollbackRequest{To: c.to}))
			var u *config.UsageError
			if !errors.As(err, &u) || u.Flag != c.flag {
				t.Fatalf("err = %v, want a usage error of --%s", err, c.flag)
			}
			if len(h.srv.Updates()) != updates {
				t.Errorf("a refused rollback called UpdateService")
			}
		})
	}
}

func TestRollbackServiceForceAndFailure(t *testing.T) {
	stopped := ecsfake.StoppedTask{ID: "t1", Reason: "Essential container in task exited", Containers: []ecsfake.StoppedContainer{{Name: "app", ExitCode: new(1)}}}
	h := revisionsHarness(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{nil, ecsfake.CircuitBreaker(2, 60*time.Second, 30*time.Second, stopped)}})
	if _, err := h.d.RollbackService(context.Background(), h.rollbackReq(RollbackRequest{To: "2", NoWait: true})); err != nil {
		t.Fatal(err)
	}
	res, err := h.d.RollbackService(context.Background(), h.rollbackReq(RollbackRequest{To: "1", Force: true}))
	var failed *DeploymentFailedError
	if !errors.As(err, &failed) || res.Outcome != OutcomeFailed {
		t.Fatalf("err = %v, outcome %s; want DeploymentFailedError, failed", err, res.Outcome)
	}
	if res.TaskDefinitionARN != tdARN+"web:1" || res.PreviousTaskDefinitionARN != tdARN+"web:2" {
		t.Errorf("result %+v", res)
	}
}

func TestRollbackServiceUnchanged(t *testing.T) {
	h := revisionsHarness(t, ecsfake.Options{})
	res, err := h.d.RollbackService(context.Background(), h.rollbackReq(RollbackRequest{To: "4"}))
	if err != nil || res.Outcome != OutcomeUnchanged || len(h.srv.Updates()) != 0 {
		t.Fatalf("err %v, outcome %s, %d updates; want unchanged without UpdateService", err, res.Outcome, len(h.srv.Updates()))
	}
}

func TestPlanDeployCallsOnlyDescribe(t *testing.T) {
	h := newHarness(t, ecsfake.Options{})
	p, err := h.d.PlanDeploy(context.Background(), Request{Cluster: "demo", Service: "web", Container: "app", Image: newImage,
		Timeout: time.Minute, DesiredCount: new(int32(3))})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range h.srv.CallLog() {
		if !strings.HasPrefix(c.Op, "Describe") {
			t.Errorf("dry run called %s", c.Op)
		}
	}
	want := []string{
		`-      "image": "example.com/web:1",`,
		`+      "image": "` + newImage + `",`,
	}
	var changed []string
	for _, l := range p.Diff {
		if strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+") {
			changed = append(changed, l)
		}
	}
	if !slices.Equal(changed, want) {
		t.Errorf("diff changes\n%s\nwant\n%s\nwhole diff:\n%s", strings.Join(changed, "\n"), strings.Join(want, "\n"), strings.Join(p.Diff, "\n"))
	}
	if !strings.HasPrefix(p.Diff[0], "@@ -") {
		t.Errorf("diff does not start with a hunk header: %q", p.Diff[0])
	}
	if !slices.Equal(p.ServiceDiff, []string{"-  desiredCount: 2", "+  desiredCount: 3"}) {
		t.Errorf("service diff %q", p.ServiceDiff)
	}
	if p.Register == nil || *p.Register.ContainerDefinitions[0].Image != newImage {
		t.Errorf("planned registration %+v", p.Register)
	}
}

// The same image: Deploy still registers a copy and rolls it out, so the
// plan says so, with an empty diff.
func TestPlanDeploySameImage(t *testing.T) {
	h := newHarness(t, ecsfake.Options{})
	p, err := h.d.PlanDeploy(context.Background(), Request{Cluster: "demo", Service: "web", Container: "app", Image: "example.com/web:1", Timeout: time.Minute})
	if err != nil || !p.Changes() || p.Register == nil || len(p.Diff) != 0 {
		t.Fatalf("err %v, register %v, diff %q; want a registration with no diff", err, p.Register != nil, p.Diff)
	}
}

func TestUnifiedDiff(t *testing.T) {
	a := strings.Split("a b c d e f g h i j k l", " ")
	b := slices.Clone(a)
	b[1], b[10] = "B", "K"
	got := strings.Join(unifiedDiff(a, b, 1), "|")
	want := "@@ -1,3 +1,3 @@| a|-b|+B| c|@@ -10,3 +10,3 @@| j|-k|+K| l"
	if got != want {
		t.Errorf("diff\n%s\nwant\n%s", got, want)
	}
}

func (h *harness) runTask(t *testing.T, r TaskRequest) (TaskResult, error) {
	t.Helper()
	r.Cluster, r.Service = "demo", "web"
	if r.Timeout == 0 {
		r.Timeout = 10 * time.Minute
	}
	res, err := h.d.RunOneOff(context.Background(), r)
	if testing.Verbose() {
		t.Logf("progress:\n%s", h.out)
	}
	return res, err
}

func TestRunOneOffSucceedsOnTheServiceNetwork(t *testing.T) {
	network := map[string]any{"awsvpcConfiguration": map[string]any{"subnets": []any{"subnet-1", "subnet-2"}, "securityGroups": []any{"sg-1"}, "assignPublicIp": "DISABLED"}}
	strategy := []map[string]any{{"capacityProvider": "demo-arm64", "weight": 1, "base": 0}}
	h := newHarness(t, ecsfake.Options{Network: network, CapacityProviderStrategy: strategy,
		Tasks: []ecsfake.TaskScript{{RunFor: 95 * time.Second, ExitCode: 0}}})
	res, err := h.runTask(t, TaskRequest{Container: "app", Command: []string{"bin/migrate", "--to", "latest"}})
	if err != nil || res.Outcome != TaskSucceeded || res.ExitCode == nil || *res.ExitCode != 0 {
		t.Fatalf("err %v, result %+v\n%s", err, res, h.out)
	}
	if res.LogGroup != "/ecs/web" || res.LogStreamPrefix != "web" || res.TaskID == "" {
		t.Errorf("result %+v", res)
	}
	reqs := h.srv.RunTasks()
	if len(reqs) != 1 {
		t.Fatalf("%d RunTask calls", len(reqs))
	}
	in := reqs[0]
	if in["startedBy"] != "graviton-cd" || in["taskDefinition"] != tdARN+"web:1" || in["count"] != float64(1) || in["clientToken"] == "" {
		t.Errorf("RunTask %v", in)
	}
	if _, ok := in["launchType"]; ok {
		t.Errorf("RunTask has launchType beside the capacity provider strategy: %v", in)
	}
	cps, _ := in["capacityProviderStrategy"].([]any)
	if len(cps) != 1 || cps[0].(map[string]any)["capacityProvider"] != "demo-arm64" {
		t.Errorf("capacityProviderStrategy %v", in["capacityProviderStrategy"])
	}
	vpc := in["networkConfiguration"].(map[string]any)["awsvpcConfiguration"].(map[string]any)
	if !slices.Equal(vpc["subnets"].([]any), []any{"subnet-1", "subnet-2"}) || !slices.Equal(vpc["securityGroups"].([]any), []any{"sg-1"}) {
		t.Errorf("network %v", vpc)
	}
	co := in["overrides"].(map[string]any)["containerOverrides"].([]any)[0].(map[string]any)
	if co["name"] != "app" || !slices.Equal(co["command"].([]any), []any{"bin/migrate", "--to", "latest"}) {
		t.Errorf("override %v", co)
	}
	if len(h.srv.StopTasks()) != 0 {
		t.Error("a task that ended was stopped")
	}
	if h.count(": RUNNING") != 1 || h.count(": STOPPED") != 1 {
		t.Errorf("progress should show each status once:\n%s", h.out)
	}
}

func TestRunOneOffFailures(t *testing.T) {
	cases := []struct {
		name     string
		script   ecsfake.TaskScript
		want     any
		outcome  string
		stopped  bool
		wantText string
	}{
		{"exit code", ecsfake.TaskScript{RunFor: 30 * time.Second, ExitCode: 3}, new(*TaskFailedError), TaskFailed, false, "container app exited with code 3"},
		{"never ran", ecsfake.TaskScript{RunFor: 10 * time.Second, NoExitCode: true, Reason: "CannotPullContainerError: pull access denied"}, new(*TaskFailedError), TaskFailed, false, "CannotPullContainerError"},
		{"timeout", ecsfake.TaskScript{Forever: true}, new(*TaskTimeoutError), TaskTimedOut, true, "stopped it"},
		{"no capacity", ecsfake.TaskScript{Failure: "RESOURCE:MEMORY"}, nil, TaskFailed, false, "RESOURCE:MEMORY"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, ecsfake.Options{Tasks: []ecsfake.TaskScript{c.script}})
			res, err := h.runTask(t, TaskRequest{Container: "app", Timeout: 5 * time.Minute})
			if err == nil || !strings.Contains(err.Error(), c.wantText) {
				t.Fatalf("err = %v, want one saying %q", err, c.wantText)
			}
			if c.want != nil && !errors.As(err, c.want) {
				t.Errorf("err is %T, want %T", err, c.want)
			}
			if res.Outcome != c.outcome {
				t.Errorf("outcome %s, want %s", res.Outcome, c.outcome)
			}
			if got := len(h.srv.StopTasks()) > 0; got != c.stopped {
				t.Errorf("StopTask called: %v, want %v", got, c.stopped)
			}
			if c.stopped {
				if r := h.srv.StopTasks()[0]["reason"]; !strings.Contains(r.(string), "--timeout 5m0s") {
					t.Errorf("stop reason %v", r)
				}
			}
		})
	}
}

func TestRunOneOffBadInput(t *testing.T) {
	h := newHarness(t, ecsfake.Options{})
	for name, r := range map[string]TaskRequest{
		"unknown container":         {Container: "nope", Command: []string{"true"}},
		"command needs a container": {Command: []string{"true"}}, // two containers: which?
		"missing task definition":   {TaskDefinition: "web:42"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.runTask(t, r)
			if !config.IsUsage(err) {
				t.Fatalf("err = %v, want a usage error", err)
			}
		})
	}
	if n := len(h.srv.RunTasks()); n != 0 {
		t.Errorf("bad input reached RunTask %d times", n)
	}
}

func TestRunOneOffTaskDefinitionOverride(t *testing.T) {
	h := revisionsHarness(t, ecsfake.Options{Tasks: []ecsfake.TaskScript{{RunFor: time.Second}}})
	res, err := h.runTask(t, TaskRequest{TaskDefinition: "web-worker", Container: "app"})
	if err != nil || res.TaskDefinitionARN != tdARN+"web-worker:2" {
		t.Fatalf("err %v, ran %s, want the family's latest web-worker:2", err, res.TaskDefinitionARN)
	}
}

// A diff's hunks are the same whatever the common head and tail, and an
// insertion or deletion at either end is shown.
func TestUnifiedDiffEdges(t *testing.T) {
	cases := []struct {
		name string
		a, b string
		want string
	}{
		{"same", "a b c", "a b c", ""},
		{"insert at end", "a b", "a b c", "@@ -1,2 +1,3 @@| a| b|+c"},
		{"delete at start", "a b c", "b c", "@@ -1,3 +1,2 @@|-a| b| c"},
		{"all changed", "a", "b", "@@ -1,1 +1,1 @@|-a|+b"},
		{"repeated lines", "x a x", "x b x", "@@ -1,3 +1,3 @@| x|-a|+b| x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Join(unifiedDiff(strings.Fields(c.a), strings.Fields(c.b), 3), "|")
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// BenchmarkDiffLargeTaskDefinition diffs a registration of 20 containers
// with 200 environment variables each (about 17,000 JSON lines) whose one
// image changes, as deploy --dry-run does.
func BenchmarkDiffLargeTaskDefinition(b *testing.B) {
	td := arm64TaskDef()
	var defs []any
	for c := range 20 {
		var env []any
		for i := range 200 {
			env = append(env, map[string]any{"name": fmt.Sprintf("VAR_%d", i), "value": strings.Repeat("v", 20)})
		}
		defs = append(defs, map[string]any{"name": fmt.Sprintf("c%d", c), "image": "example.com/web:1", "essential": c == 0, "environment": env})
	}
	td["containerDefinitions"] = defs
	raw, _ := json.Marshal(td)
	var cur types.TaskDefinition
	if err := json.Unmarshal(raw, &cur); err != nil {
		b.Fatal(err)
	}
	// encoding/json leaves the SDK's enum and pointer fields as they came.
	before, err := NewRevisionInput(&cur, nil, "c7", "example.com/web:1")
	if err != nil {
		b.Fatal(err)
	}
	after, _ := NewRevisionInput(&cur, nil, "c7", "example.com/web:2")
	b.ReportAllocs()
	for b.Loop() {
		d, err := DiffTaskDefinitions(before, after)
		if err != nil || len(d) != 9 {
			b.Fatalf("diff %d lines, %v", len(d), err)
		}
	}
}
