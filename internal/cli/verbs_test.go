package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/cwlogs/cwlogsfake"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// verbsEnv is an ECS fake and a CloudWatch Logs fake behind one endpoint,
// as AWS_ENDPOINT_URL/--endpoint-url gives the CLI one URL for both.
type verbsEnv struct {
	ecs  *ecsfake.Server
	logs *cwlogsfake.Server
	url  string
	dir  string // a stack directory naming cluster demo, service web, log group /ecs/web
}

const runTaskID = "0123456789abcdef0123456789abcdef"

func webTaskDef(family string) map[string]any {
	return map[string]any{
		"family": family, "cpu": "256", "memory": "512", "networkMode": "awsvpc",
		"runtimePlatform": map[string]any{"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
		"containerDefinitions": []any{map[string]any{
			"name": "app", "image": "example.com/web:1", "essential": true,
			"environment": []any{map[string]any{"name": "MODE", "value": "prod"}},
			"logConfiguration": map[string]any{"logDriver": "awslogs", "options": map[string]any{
				"awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"}},
		}},
	}
}

func newVerbsEnv(t *testing.T, o ecsfake.Options) *verbsEnv {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "")
	o.Cluster, o.Service, o.DesiredCount = "demo", "web", 1
	if o.TaskDefinition == nil {
		o.TaskDefinition = webTaskDef("web")
	}
	e := &verbsEnv{ecs: ecsfake.New(t, ecsfake.NewClock(time.Now()), o), logs: cwlogsfake.NewHandler("/ecs/web")}
	target, _ := url.Parse(e.ecs.URL)
	toECS := httputil.NewSingleHostReverseProxy(target)
	router := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "Logs_") {
			e.logs.ServeHTTP(w, r)
			return
		}
		toECS.ServeHTTP(w, r)
	}))
	t.Cleanup(router.Close)
	e.url = router.URL
	e.dir = t.TempDir()
	if err := stack.WriteOutputs(e.dir, stack.Outputs{StackName: "demo", Region: "us-east-1", Cluster: "demo", Service: "web",
		ContainerName: "app", TaskFamily: "web", LogGroup: "/ecs/web"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *verbsEnv) args(verb string, extra ...string) []string {
	return append([]string{verb, "--region", "us-east-1", "--endpoint-url", e.url}, extra...)
}

func TestLogsPrintsEveryPageAsLines(t *testing.T) {
	e := newVerbsEnv(t, ecsfake.Options{})
	e.logs.PageSize = 2
	now := time.Now().UTC().Truncate(time.Second)
	e.logs.Put("/ecs/web", "app/app/"+runTaskID, now.Add(-3*time.Minute), "starting")
	e.logs.Put("/ecs/web", "app/app/"+runTaskID, now.Add(-2*time.Minute), "ERROR db refused")
	e.logs.Put("/ecs/web", "app/app/ffffffffffffffffffffffffffffffff", now.Add(-time.Minute), "other task")
	e.logs.Put("/ecs/web", "app/app/"+runTaskID, now.Add(-time.Hour), "too old")
	code, out, stderr := run(t, e.args("logs", "--stack-dir", e.dir)...)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	want := []string{
		now.Add(-3*time.Minute).Format(time.RFC3339) + " 01234567 starting",
		now.Add(-2*time.Minute).Format(time.RFC3339) + " 01234567 ERROR db refused",
		now.Add(-time.Minute).Format(time.RFC3339) + " ffffffff other task",
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); !slices.Equal(got, want) {
		t.Errorf("stdout\n%s\nwant\n%s", out, strings.Join(want, "\n"))
	}
	if n := len(e.logs.Requests()); n != 2 {
		t.Errorf("%d FilterLogEvents calls for 3 events in pages of 2, want 2", n)
	}
}

func TestLogsTaskFilterAndJSON(t *testing.T) {
	e := newVerbsEnv(t, ecsfake.Options{})
	now := time.Now().UTC()
	e.logs.Put("/ecs/web", "app/app/"+runTaskID, now.Add(-time.Minute), "ERROR one")
	e.logs.Put("/ecs/web", "app/app/"+runTaskID, now.Add(-time.Minute), "fine")
	e.logs.Put("/ecs/web", "app/app/ffffffffffffffffffffffffffffffff", now.Add(-time.Minute), "ERROR other")
	code, out, stderr := run(t, e.args("logs", "--stack-dir", e.dir, "--task", "0123", "--filter", "ERROR", "--since", now.Add(-5*time.Minute).Format(time.RFC3339), "--output", "json")...)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var res struct {
		LogGroup string  `json:"log_group"`
		Task     *string `json:"task"`
		Count    int     `json:"count"`
		Events   []struct {
			Message string `json:"message"`
			TaskID  string `json:"task_id"`
		} `json:"events"`
	}
	if err := json.Unmarshal(resultOf(t, out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.LogGroup != "/ecs/web" || res.Count != 1 || res.Events[0].Message != "ERROR one" || res.Events[0].TaskID != runTaskID || *res.Task != "0123" {
		t.Errorf("result %+v", res)
	}
	if p := e.logs.Requests()[0]["filterPattern"]; p != "ERROR" {
		t.Errorf("filterPattern %v, want ERROR", p)
	}
}

func TestLogsFromTheServiceTaskDefinition(t *testing.T) {
	e := newVerbsEnv(t, ecsfake.Options{})
	e.logs.Put("/ecs/web", "app/app/"+runTaskID, time.Now().Add(-time.Minute), "hello")
	code, out, stderr := run(t, e.args("logs", "--cluster", "demo", "--service", "web", "--container", "app", "--task", runTaskID)...)
	if code != ExitOK || !strings.Contains(out, "hello") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if p := e.logs.Requests()[0]["logStreamNamePrefix"]; p != "app/app/"+runTaskID {
		t.Errorf("logStreamNamePrefix %v, want the task's stream", p)
	}
}

func TestLogsBadInput(t *testing.T) {
	e := newVerbsEnv(t, ecsfake.Options{})
	cases := []struct {
		name string
		args []string
		want string
		aws  bool // the error comes back from AWS (nothing was changed all the same)
	}{
		{"missing log group", []string{"--log-group", "/ecs/nope"}, "log group /ecs/nope not found", true},
		{"since garbage", []string{"--stack-dir", e.dir, "--since", "yesterday"}, "neither a duration", false},
		{"since future", []string{"--stack-dir", e.dir, "--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, "in the future", false},
		{"follow json", []string{"--stack-dir", e.dir, "--follow", "--output", "json"}, "streams text", false},
		{"nothing to read", nil, "needs a log group", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(e.logs.Requests())
			code, _, stderr := run(t, e.args("logs", c.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 saying %q", code, stderr, c.want)
			}
			if !c.aws && len(e.logs.Requests()) != before {
				t.Error("bad input reached AWS")
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe to read while the CLI writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogsFollowEndsWithExitZeroOnInterrupt(t *testing.T) {
	e := newVerbsEnv(t, ecsfake.Options{})
	e.logs.Put("/ecs/web", "app/app/"+runTaskID, time.Now().Add(-time.Minute), "before")
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- RunIO(ctx, append([]string{"graviton-cd"}, e.args("logs", "--stack-dir", e.dir, "--follow", "--poll-interval", "20ms")...), &stdout, &stderr)
	}()
	waitFor := func(s string) {
		t.Helper()
		for i := 0; i < 500 && !strings.Contains(stdout.String(), s); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if !strings.Contains(stdout.String(), s) {
			t.Fatalf("%q never printed:\n%s\n%s", s, stdout.String(), stderr.String())
		}
	}
	waitFor("before")
	e.logs.Put("/ecs/web", "app/app/"+runTaskID, time.Now(), "after")
	waitFor("after")
	for n := len(e.logs.Requests()); len(e.logs.Requests()) < n+3; {
		time.Sleep(10 * time.Millisecond) // a few more polls: nothing is printed twice
	}
	cancel() // Ctrl-C
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d after interrupt, want 0\n%s", code, stderr.String())
	}
	if strings.Count(stdout.String(), "before") != 1 || strings.Count(stdout.String(), "after") != 1 {
		t.Errorf("each event once:\n%s", stdout.String())
	}
}

// threeRevisions has web:1..3 and web-worker:1; the service runs web:3.
func threeRevisions(o ecsfake.Options) ecsfake.Options {
	o.PriorRevisions = []map[string]any{webTaskDef("web"), webTaskDef("web-worker"), webTaskDef("web")}
	return o
}

func TestRollbackCommand(t *testing.T) {
	const arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/"
	t.Run("previous revision, followed", func(t *testing.T) {
		e := newVerbsEnv(t, threeRevisions(ecsfake.Options{Rollouts: [][]ecsfake.Frame{completedAtOnce}}))
		code, out, stderr := run(t, e.args("rollback", "--stack-dir", e.dir, "--output", "json")...)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var res map[string]any
		if err := json.Unmarshal(resultOf(t, out), &res); err != nil {
			t.Fatal(err)
		}
		if res["result"] != "succeeded" || res["to_task_definition_arn"] != arn+"web:2" || res["from_task_definition_arn"] != arn+"web:3" {
			t.Errorf("result %v", res)
		}
		if e.ecs.ServiceTaskDefinition() != arn+"web:2" {
			t.Errorf("service runs %s", e.ecs.ServiceTaskDefinition())
		}
	})
	t.Run("other family is exit 2", func(t *testing.T) {
		e := newVerbsEnv(t, threeRevisions(ecsfake.Options{}))
		code, _, stderr := run(t, e.args("rollback", "--cluster", "demo", "--service", "web", "--to", arn+"web-worker:2")...)
		if code != ExitUsage || !strings.Contains(stderr, "family web-worker") || e.ecs.Calls("UpdateService") != 0 {
			t.Errorf("exit %d, %d updates\n%s", code, e.ecs.Calls("UpdateService"), stderr)
		}
	})
	t.Run("in progress needs --force", func(t *testing.T) {
		e := newVerbsEnv(t, threeRevisions(ecsfake.Options{Rollouts: [][]ecsfake.Frame{nil, completedAtOnce}}))
		if code, _, stderr := run(t, e.args("rollback", "--stack-dir", e.dir, "--to", "1", "--no-wait")...); code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		code, _, stderr := run(t, e.args("rollback", "--stack-dir", e.dir)...)
		if code != ExitUsage || !strings.Contains(stderr, "--force") {
			t.Fatalf("exit %d, want 2 naming --force\n%s", code, stderr)
		}
		code, out, stderr := run(t, e.args("rollback", "--stack-dir", e.dir, "--to", "2", "--force")...)
		if code != ExitOK || !strings.Contains(out, "rollback succeeded") {
			t.Fatalf("--force: exit %d\n%s\n%s", code, out, stderr)
		}
	})
}

func TestDeployDryRunChangesNothing(t *testing.T) {
	e := newVerbsEnv(t, ecsfake.Options{})
	code, out, stderr := run(t, e.args("deploy", "--stack-dir", e.dir, "--image", "example.com/web:2", "--check-image-arch=false", "--desired-count", "2", "--dry-run")...)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"--- arn:aws:ecs:us-east-1:123456789012:task-definition/web:1\n+++ web (new revision)\n@@ ",
		"\n-      \"image\": \"example.com/web:1\",\n+      \"image\": \"example.com/web:2\",\n",
		"-  desiredCount: 1\n+  desiredCount: 2\n",
		"dry run: nothing was changed; deploy would register a new revision of web (container app), set desired count 1 → 2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, c := range e.ecs.CallLog() {
		if !strings.HasPrefix(c.Op, "Describe") {
			t.Errorf("dry run called %s", c.Op)
		}
	}
}

func TestRunTaskCommand(t *testing.T) {
	network := map[string]any{"awsvpcConfiguration": map[string]any{"subnets": []any{"subnet-1"}, "securityGroups": []any{"sg-1"}}}
	t.Run("exit 0", func(t *testing.T) {
		e := newVerbsEnv(t, ecsfake.Options{Network: network, Tasks: []ecsfake.TaskScript{{ID: runTaskID, ExitCode: 0}}})
		e.logs.Put("/ecs/web", "app/app/"+runTaskID, time.Now(), "migrated 3 tables")
		code, out, stderr := run(t, e.args("run-task", "--stack-dir", e.dir, "--command", `bin/migrate --to "v 2"`, "--output", "json")...)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var res map[string]any
		if err := json.Unmarshal(resultOf(t, out), &res); err != nil {
			t.Fatal(err)
		}
		if res["result"] != "succeeded" || res["exit_code"] != float64(0) || res["task_id"] != runTaskID {
			t.Errorf("result %v", res)
		}
		if lines, _ := res["log_lines"].([]any); len(lines) != 1 || !strings.HasSuffix(lines[0].(string), "migrated 3 tables") {
			t.Errorf("log_lines %v", res["log_lines"])
		}
		in := e.ecs.RunTasks()[0]
		co := in["overrides"].(map[string]any)["containerOverrides"].([]any)[0].(map[string]any)
		if !slices.Equal(co["command"].([]any), []any{"bin/migrate", "--to", "v 2"}) || in["startedBy"] != "graviton-cd" || in["networkConfiguration"] == nil {
			t.Errorf("RunTask %v", in)
		}
	})
	t.Run("exit code 3 is exit 1 with reason and log", func(t *testing.T) {
		e := newVerbsEnv(t, ecsfake.Options{Tasks: []ecsfake.TaskScript{{ID: runTaskID, ExitCode: 3}}})
		e.logs.Put("/ecs/web", "app/app/"+runTaskID, time.Now(), "relation users already exists")
		code, out, stderr := run(t, e.args("run-task", "--stack-dir", e.dir, "--arg", "bin/migrate", "--arg", "up")...)
		if code != ExitFailed {
			t.Fatalf("exit %d, want 1\n%s", code, stderr)
		}
		for _, want := range []string{"exited with code 3", "Essential container in task exited", "| relation users already exists"} {
			if !strings.Contains(stderr+out, want) {
				t.Errorf("output lacks %q:\n%s\n%s", want, out, stderr)
			}
		}
	})
	t.Run("bad input", func(t *testing.T) {
		e := newVerbsEnv(t, ecsfake.Options{})
		for _, args := range [][]string{
			{"--command", "bin/migrate 'oops"},
			{"--command", "x", "--arg", "y"},
			{"--command", "   "},
			{"--timeout", "0s"},
			{"--container", "nope"},
		} {
			code, _, stderr := run(t, e.args("run-task", append([]string{"--stack-dir", e.dir}, args...)...)...)
			if code != ExitUsage {
				t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr)
			}
		}
		if n := e.ecs.Calls("RunTask"); n != 0 {
			t.Errorf("bad input reached RunTask %d times", n)
		}
	})
}

func TestShellWords(t *testing.T) {
	cases := map[string][]string{
		`bin/migrate up`:                 {"bin/migrate", "up"},
		`  a   b  `:                      {"a", "b"},
		`sh -c 'echo "$HOME" && exit 3'`: {"sh", "-c", `echo "$HOME" && exit 3`},
		`echo "a \"b\" \$c" d\ e`:        {"echo", `a "b" $c`, "d e"},
		`x "" y`:                         {"x", "", "y"},
	}
	for in, want := range cases {
		got, err := splitShellWords(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("splitShellWords(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`'open`, `"open`, `trailing\`} {
		if _, err := splitShellWords(bad); err == nil {
			t.Errorf("splitShellWords(%s) accepted", bad)
		}
	}
}
