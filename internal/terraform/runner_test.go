package terraform

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/graviton-cd/graviton-cd/internal/localstack"
	"github.com/graviton-cd/graviton-cd/internal/progress"
)

func TestSummarize(t *testing.T) {
	rc := func(addr string, mode tfjson.ResourceMode, actions ...tfjson.Action) *tfjson.ResourceChange {
		return &tfjson.ResourceChange{Address: addr, Mode: mode, Change: &tfjson.Change{Actions: actions}}
	}
	p := &tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{
		rc("aws_vpc.this", tfjson.ManagedResourceMode, tfjson.ActionCreate),
		rc("aws_lb.this", tfjson.ManagedResourceMode, tfjson.ActionUpdate),
		rc("aws_ecs_service.app", tfjson.ManagedResourceMode, tfjson.ActionDelete, tfjson.ActionCreate),
		rc("aws_subnet.public[0]", tfjson.ManagedResourceMode, tfjson.ActionDelete),
		rc("aws_ecs_cluster.this", tfjson.ManagedResourceMode, tfjson.ActionNoop),
		rc("data.aws_ssm_parameter.ecs_ami", tfjson.DataResourceMode, tfjson.ActionRead),
	}, OutputChanges: map[string]*tfjson.Change{
		"url":  {Actions: tfjson.Actions{tfjson.ActionUpdate}},
		"name": {Actions: tfjson.Actions{tfjson.ActionNoop}},
	}}
	s := Summarize(p)
	if s.Add != 2 || s.Change != 1 || s.Destroy != 2 || s.OutputChanges != 1 {
		t.Errorf("summary = %+v, want 2/1/2", s)
	}
	if got := s.String(); got != "Plan: 2 to add, 1 to change, 2 to destroy." {
		t.Errorf("String() = %q", got)
	}
	want := []string{"create aws_vpc.this", "update aws_lb.this", "replace aws_ecs_service.app", "destroy aws_subnet.public[0]"}
	if strings.Join(s.Changes, "|") != strings.Join(want, "|") {
		t.Errorf("changes = %q, want %q", s.Changes, want)
	}
	if !Summarize(&tfjson.Plan{}).NoChanges() || s.NoChanges() {
		t.Error("NoChanges wrong")
	}

	// Imports: terraform-json's Importing marks them, whatever the actions.
	imp := rc("aws_launch_template.this", tfjson.ManagedResourceMode, tfjson.ActionNoop)
	imp.Change.Importing = &tfjson.Importing{ID: "lt-0abc"}
	impUpd := rc("aws_ecs_cluster.this", tfjson.ManagedResourceMode, tfjson.ActionUpdate)
	impUpd.Change.Importing = &tfjson.Importing{ID: "demo"}
	s = Summarize(&tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{imp, impUpd, rc("aws_vpc.this", tfjson.ManagedResourceMode, tfjson.ActionCreate)}})
	if s.Import != 2 || s.Add != 1 || s.Change != 1 || s.NoChanges() {
		t.Errorf("summary with imports = %+v", s)
	}
	if got := s.String(); got != "Plan: 2 to import, 1 to add, 1 to change, 0 to destroy." {
		t.Errorf("String() = %q", got)
	}
	want = []string{"import aws_launch_template.this", "import, update aws_ecs_cluster.this", "create aws_vpc.this"}
	if strings.Join(s.Changes, "|") != strings.Join(want, "|") {
		t.Errorf("changes = %q, want %q", s.Changes, want)
	}
	onlyImport := Summarize(&tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{imp}})
	if onlyImport.NoChanges() {
		t.Error("a plan that only imports reports no changes: its apply would be skipped")
	}
}

func TestParseLockError(t *testing.T) {
	msg := `exit status 1

Error: Error acquiring the state lock

Error message: resource temporarily unavailable
Lock Info:
  ID:        6f1c8a52-6a0e-4c2b-9f0e-1f2a3b4c5d6e
  Path:      terraform.tfstate
  Operation: OperationTypeApply
  Who:       circleci@runner-7
  Version:   1.11.4
  Created:   2026-11-26 03:00:00.000000000 +0000 UTC
  Info:

Terraform acquires a state lock to protect the state from being written
by multiple users at the same time.`
	le, ok := ParseLockError(errors.New(msg))
	if !ok {
		t.Fatal("not recognised as a lock error")
	}
	if le.ID != "6f1c8a52-6a0e-4c2b-9f0e-1f2a3b4c5d6e" || le.Who != "circleci@runner-7" || le.Operation != "OperationTypeApply" {
		t.Errorf("parsed %+v", le)
	}
	for _, want := range []string{"lock ID 6f1c8a52", "circleci@runner-7", "--force-unlock 6f1c8a52-6a0e-4c2b-9f0e-1f2a3b4c5d6e"} {
		if !strings.Contains(le.Error(), want) {
			t.Errorf("message %q lacks %q", le.Error(), want)
		}
	}
	if _, ok := ParseLockError(errors.New("Error: Invalid reference")); ok {
		t.Error("an ordinary error parsed as a lock error")
	}
}

// fakeRunner scripts Destroy's results. Each attempt takes its scripted
// time on the fake clock; a negative time holds the attempt until its
// context ends, as terraform would until it is interrupted.
type fakeRunner struct {
	Runner
	mu       sync.Mutex
	clock    *fakeClock
	destroys []error
	takes    []time.Duration
	calls    int
	budgets  []time.Duration // each attempt's context deadline, from its start
}

func (f *fakeRunner) Destroy(ctx context.Context) error {
	f.mu.Lock()
	f.calls++
	var err error
	if len(f.destroys) > 0 {
		err, f.destroys = f.destroys[0], f.destroys[1:]
	}
	var take time.Duration
	if len(f.takes) > 0 {
		take, f.takes = f.takes[0], f.takes[1:]
	}
	if dl, ok := ctx.Deadline(); ok {
		f.budgets = append(f.budgets, time.Until(dl).Round(time.Minute))
	}
	f.mu.Unlock()
	if take < 0 {
		<-ctx.Done()
		return &InterruptedError{Op: "terraform destroy", Err: ctx.Err()}
	}
	if f.clock != nil {
		f.clock.advance(take)
	}
	return err
}

// fakeClock is virtual time: Sleep moves it on at once.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	c.advance(d)
	return nil
}

func TestDestroyWithRetry(t *testing.T) {
	draining := errors.New("terraform destroy: deleting ECS Capacity Provider: ResourceInUse: The specified capacity provider is in use")
	cases := []struct {
		name       string
		results    []error
		takes      []time.Duration
		policy     DestroyPolicy
		wantCalls  int
		wantErr    string // "" for success
		wantSleeps []time.Duration
		wantLog    []string
	}{
		{name: "clean", wantCalls: 1},
		{name: "draining then gone", results: []error{
			errors.New("terraform destroy: deleting EC2 Subnet: DependencyViolation: The subnet has dependencies"), draining,
		}, wantCalls: 3, wantSleeps: []time.Duration{30 * time.Second, time.Minute},
			wantLog: []string{"destroy attempt 1 of 3 stopped after 0s while AWS is still draining dependencies (DependencyViolation); trying again in 30s"}},
		{
			// The case go-retry's WithMaxDuration(10m) got wrong: the first
			// attempt spends ten minutes in the provider's own retries, and
			// the next one still runs, with its full budget.
			name: "a ten-minute first attempt still leaves retries", results: []error{draining, draining},
			takes: []time.Duration{10 * time.Minute, 12 * time.Minute, 3 * time.Minute}, wantCalls: 3,
			wantSleeps: []time.Duration{30 * time.Second, time.Minute},
			wantLog:    []string{"attempt 1 of 3 stopped after 10m while AWS", "attempt 2 of 3 stopped after 12m while AWS"},
		},
		{name: "other error stops at once", results: []error{errors.New("terraform destroy: AccessDenied")}, wantCalls: 1, wantErr: "AccessDenied"},
		{name: "lock error stops at once", results: []error{&LockError{ID: "x", Err: errors.New("DependencyViolation")}}, wantCalls: 1, wantErr: "lock"},
		{name: "bounded number of attempts", results: []error{draining, draining, draining, draining, draining},
			wantCalls: 3, wantErr: "gave up after 3 attempts", wantSleeps: []time.Duration{30 * time.Second, time.Minute},
			wantLog: []string{"destroy attempt 3 of 3 stopped after 0s while AWS is still draining dependencies (ResourceInUse); no attempts left"}},
		{name: "policy attempts and pauses", results: []error{draining, draining, draining, draining, draining},
			policy:    DestroyPolicy{Attempts: 5, Pauses: []time.Duration{time.Second, 2 * time.Second}},
			wantCalls: 5, wantErr: "gave up after 5 attempts", wantSleeps: []time.Duration{time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{name: "an attempt that runs out of its budget is retried", takes: []time.Duration{-1, 0},
			policy: DestroyPolicy{AttemptTimeout: time.Millisecond}, wantCalls: 2, wantSleeps: []time.Duration{30 * time.Second},
			wantLog: []string{"destroy attempt 1 of 3 ran out of its 1ms budget (terraform was asked to stop and save state); trying again in 30s"}},
		{name: "every attempt out of budget", takes: []time.Duration{-1, -1},
			policy: DestroyPolicy{Attempts: 2, AttemptTimeout: time.Millisecond}, wantCalls: 2, wantSleeps: []time.Duration{30 * time.Second},
			wantErr: "terraform destroy attempt 2 of 2 ran out of its 1ms budget (terraform was asked to stop and save state) (gave up after 2 attempts; rerun destroy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			f := &fakeRunner{destroys: tc.results, takes: tc.takes, clock: clock}
			var out bytes.Buffer
			p := tc.policy
			p.Now, p.Sleep = clock.Now, clock.Sleep
			err := DestroyWithRetry(context.Background(), f, p, progress.New(&out, clock.Now, false))
			if (err != nil) != (tc.wantErr != "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if f.calls != tc.wantCalls {
				t.Errorf("%d attempts, want %d", f.calls, tc.wantCalls)
			}
			if !slices.Equal(clock.sleeps, tc.wantSleeps) {
				t.Errorf("pauses %v, want %v", clock.sleeps, tc.wantSleeps)
			}
			for _, s := range tc.wantLog {
				if !strings.Contains(out.String(), s) {
					t.Errorf("log lacks %q:\n%s", s, out.String())
				}
			}
		})
	}
}

// Every attempt gets the whole per-attempt budget, from its own start.
func TestDestroyAttemptBudgetIsPerAttempt(t *testing.T) {
	draining := errors.New("DependencyViolation")
	f := &fakeRunner{destroys: []error{draining, draining}}
	clock := &fakeClock{}
	err := DestroyWithRetry(context.Background(), f, DestroyPolicy{Now: clock.Now, Sleep: clock.Sleep}, progress.Discard())
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{DefaultDestroyAttemptTimeout, DefaultDestroyAttemptTimeout, DefaultDestroyAttemptTimeout}
	if !slices.Equal(f.budgets, want) {
		t.Errorf("attempt budgets %v, want %v", f.budgets, want)
	}
}

type fakeInstaller struct{ calls int }

func (f *fakeInstaller) Install(_ context.Context, v, dir string) (string, error) {
	f.calls++
	p := filepath.Join(dir, "terraform")
	return p, os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755)
}

func TestLocate(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tf")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	onPath := func(names ...string) func(string) (string, error) {
		return func(n string) (string, error) {
			for _, m := range names {
				if m == n {
					return bin, nil
				}
			}
			return "", exec.ErrNotFound
		}
	}
	ctx := context.Background()
	t.Run("terraform on PATH", func(t *testing.T) {
		inst := &fakeInstaller{}
		p, err := Locator{LookPath: onPath("terraform", "tofu"), Installer: inst, Version: "1.11.4", CacheDir: t.TempDir()}.Locate(ctx)
		if err != nil || p != bin || inst.calls != 0 {
			t.Errorf("got %q, %v, %d installs", p, err, inst.calls)
		}
	})
	t.Run("tofu when no terraform", func(t *testing.T) {
		p, err := Locator{LookPath: onPath("tofu"), Version: "1.11.4", CacheDir: t.TempDir()}.Locate(ctx)
		if err != nil || p != bin {
			t.Errorf("got %q, %v", p, err)
		}
	})
	t.Run("install once, then reuse the cache", func(t *testing.T) {
		inst := &fakeInstaller{}
		cache := t.TempDir()
		l := Locator{LookPath: onPath(), Installer: inst, Version: "1.11.4", CacheDir: cache, Log: progress.Discard()}
		p1, err := l.Locate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := l.Locate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(cache, "terraform", "1.11.4", "terraform")
		if p1 != want || p2 != want || inst.calls != 1 {
			t.Errorf("paths %q %q, %d installs; want %q once", p1, p2, inst.calls, want)
		}
	})
	t.Run("explicit binary missing", func(t *testing.T) {
		_, err := Locator{Binary: "/nope/terraform", LookPath: onPath()}.Locate(ctx)
		if err == nil || !strings.Contains(err.Error(), "/nope/terraform") {
			t.Errorf("err = %v", err)
		}
	})
}

// initExec returns an Exec for dir with terraform init done.
func initExec(t *testing.T, dir, bin string) *Exec {
	t.Helper()
	r, err := NewExec(dir, bin, progress.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// terraformBinary returns a real terraform/tofu for the tests that run one.
func terraformBinary(t *testing.T) string {
	t.Helper()
	if b := localstack.FindTerraform(); b != "" {
		return b
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no terraform or tofu under CI")
	}
	t.Skip("no terraform or tofu")
	return ""
}

// writeModule writes a module that needs no provider download: only the
// built-in terraform_data resource and local-exec.
func writeModule(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	src := "terraform {\n  backend \"local\" {\n    path = \"terraform.tfstate\"\n  }\n}\n\n" + body
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_CLI_CONFIG_FILE", os.DevNull)
	return dir
}

func TestExecHeldLock(t *testing.T) {
	bin := terraformBinary(t)
	dir := writeModule(t, "resource \"terraform_data\" \"x\" {\n  input = \"a\"\n}\n\noutput \"name\" {\n  value = \"demo\"\n}\n")
	ctx := context.Background()
	r := initExec(t, dir, bin)
	plan := filepath.Join(dir, "tfplan")
	if _, err := r.Plan(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	outs, err := r.Outputs(ctx)
	if err != nil || outs["name"] != "demo" {
		t.Fatalf("outputs = %v, %v", outs, err)
	}

	// Hold the lock as another terraform would: an fcntl write lock on the
	// state file plus the lock info file terraform reads to name the holder.
	f, err := os.OpenFile(filepath.Join(dir, "terraform.tfstate"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0}); err != nil {
		t.Fatal(err)
	}
	info := `{"ID":"0e1d2c3b-aaaa-bbbb-cccc-123456789abc","Operation":"OperationTypeApply","Info":"","Who":"ci@other-job","Version":"1.11.4","Created":"2026-11-26T03:00:00Z","Path":"terraform.tfstate"}`
	if err := os.WriteFile(filepath.Join(dir, ".terraform.tfstate.lock.info"), []byte(info), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = r.Plan(ctx, plan)
	var le *LockError
	if !errors.As(err, &le) {
		t.Fatalf("plan under a held lock: err = %v, want *LockError", err)
	}
	if le.ID != "0e1d2c3b-aaaa-bbbb-cccc-123456789abc" || le.Who != "ci@other-job" {
		t.Errorf("lock error = %+v", le)
	}
	if !strings.Contains(err.Error(), "--force-unlock 0e1d2c3b-aaaa-bbbb-cccc-123456789abc") {
		t.Errorf("message does not say how to unlock: %v", err)
	}
}

func TestExecInterruptSavesStateAndUnlocks(t *testing.T) {
	bin := terraformBinary(t)
	dir := writeModule(t, `resource "terraform_data" "fast" {
  input = "a"
}

resource "terraform_data" "slow" {
  depends_on = [terraform_data.fast]
  provisioner "local-exec" {
    command = "if [ ! -f interrupted-once ]; then touch interrupted-once; sleep 60; fi"
  }
}
`)
	r := initExec(t, dir, bin)
	// The slow create outlasts the first phase, so terraform gets its interrupt.
	if err := r.setStopTimes(stopTimes{finish: 2 * time.Second, exit: GracefulStop - FinishInFlight}); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "tfplan")
	if _, err := r.Plan(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the slow resource is being created.
		for i := 0; i < 200; i++ {
			if b, _ := os.ReadFile(filepath.Join(dir, ".terraform.tfstate.lock.info")); len(b) > 0 {
				time.Sleep(3 * time.Second)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	err := r.Apply(ctx, plan)
	var ie *InterruptedError
	if !errors.As(err, &ie) {
		t.Fatalf("apply = %v, want *InterruptedError", err)
	}
	if d := time.Since(start); d > 45*time.Second {
		t.Errorf("terraform took %s to stop after the interrupt", d)
	}
	if _, err := os.Stat(filepath.Join(dir, ".terraform.tfstate.lock.info")); !os.IsNotExist(err) {
		t.Errorf("lock info left behind after the interrupt: %v", err)
	}
	n, err := r.ResourceCount(context.Background())
	if err != nil || n < 1 {
		t.Errorf("state after interrupt holds %d resources (%v), want the finished one saved", n, err)
	}

	// A rerun converges: it replaces what was cut short, then nothing is left to do.
	if _, err := r.Plan(context.Background(), plan); err != nil {
		t.Fatalf("plan after interrupt: %v", err)
	}
	if err := r.Apply(context.Background(), plan); err != nil {
		t.Fatalf("apply after interrupt: %v", err)
	}
	s, err := r.Plan(context.Background(), plan)
	if err != nil || !s.NoChanges() {
		t.Errorf("plan after rerun = %v, %v; want no changes", s, err)
	}
}

func TestCountManaged(t *testing.T) {
	cases := []struct {
		name    string
		state   string
		want    int
		wantErr string
	}{
		{name: "no state yet", state: "", want: 0},
		{name: "only whitespace", state: "\n", want: 0},
		{name: "empty state", state: `{"version":4,"terraform_version":"1.11.4","serial":3,"resources":[]}`, want: 0},
		{name: "instances of managed resources, not data sources", state: `{"version":4,"resources":[
			{"mode":"managed","type":"aws_vpc","name":"this","instances":[{"attributes":{}}]},
			{"mode":"data","type":"aws_ssm_parameter","name":"ami","instances":[{"attributes":{}}]},
			{"mode":"managed","type":"aws_subnet","name":"public","instances":[{"index_key":0},{"index_key":1}]},
			{"mode":"managed","type":"aws_eip","name":"gone","instances":[]}]}`, want: 3},
		{name: "not JSON", state: "<html>", wantErr: "read terraform state"},
		{name: "an old format", state: `{"version":3,"modules":[]}`, wantErr: "format version 3, want 4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := CountManaged([]byte(tc.state))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("CountManaged = %d, %v; want an error containing %q", n, err, tc.wantErr)
				}
				return
			}
			if err != nil || n != tc.want {
				t.Fatalf("CountManaged = %d, %v; want %d", n, err, tc.want)
			}
		})
	}
}

// TestResourceCountMatchesStateList checks the count against what the CLI
// itself lists, before the first apply, after it and after destroy.
func TestResourceCountMatchesStateList(t *testing.T) {
	bin := terraformBinary(t)
	dir := writeModule(t, `resource "terraform_data" "one" {
  input = "a"
}

resource "terraform_data" "many" {
  count = 3
  input = count.index
}

data "terraform_remote_state" "other" {
  backend = "local"
  config = {
    path = "other.tfstate"
  }
}
`)
	other := `{"version":4,"terraform_version":"1.0.0","serial":1,"lineage":"0b4c7d8e-other","outputs":{},"resources":[]}`
	if err := os.WriteFile(filepath.Join(dir, "other.tfstate"), []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := initExec(t, dir, bin)
	stateList := func() int {
		t.Helper()
		cmd := exec.Command(bin, "state", "list")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return 0 // no state yet
		}
		n := 0
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l != "" && !strings.HasPrefix(l, "data.") {
				n++
			}
		}
		return n
	}
	check := func(when string, want int) {
		t.Helper()
		n, err := r.ResourceCount(ctx)
		if err != nil || n != want || n != stateList() {
			t.Errorf("%s: ResourceCount = %d, %v; want %d (state list: %d)", when, n, err, want, stateList())
		}
	}
	check("before apply", 0)
	plan := filepath.Join(dir, "tfplan")
	if _, err := r.Plan(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	check("after apply", 4)
	if err := r.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	check("after destroy", 0)
}

// TestExecLogsOneLinePerChange runs the real CLI: the CI log gets one line
// per change and the summaries, the log file everything terraform printed.
func TestExecLogsOneLinePerChange(t *testing.T) {
	bin := terraformBinary(t)
	dir := writeModule(t, "resource \"terraform_data\" \"a\" {\n  input = \"a\"\n}\n\nresource \"terraform_data\" \"b\" {\n  input = terraform_data.a.output\n}\n")
	var out lockedBuffer
	r, err := NewExec(dir, bin, progress.New(&out, nil, false))
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "logs", "provision.log")
	if err := r.LogTo(logFile); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	plan := filepath.Join(dir, "tfplan")
	if err := r.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Plan(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if err := r.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		ts, rest, _ := strings.Cut(l, " ")
		if _, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "Z") {
			t.Errorf("line %q does not start with an RFC 3339 UTC time", l)
		}
		got = append(got, rest)
	}
	name := "Terraform"
	if strings.Contains(filepath.Base(bin), "tofu") {
		name = "OpenTofu"
	}
	if len(got) == 0 || !strings.HasPrefix(got[0], "init: "+name+" 1.") {
		t.Errorf("first line %q, want init: %s and its version", got, name)
	}
	want := []string{
		"plan: 2 to add, 0 to change, 0 to destroy",
		"+ terraform_data.a created in 0s",
		"+ terraform_data.b created in 0s",
		"apply complete: 2 added, 0 changed, 0 destroyed",
		"plan: 0 to add, 0 to change, 2 to destroy",
		"- terraform_data.b destroyed in 0s",
		"- terraform_data.a destroyed in 0s",
		"destroy complete: 2 destroyed",
	}
	if len(got) < 1 || strings.Join(got[1:], "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant after the init line:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{" init\n", " plan -json\n", " apply -json\n", " destroy -json\n", `"type":"apply_complete"`, "has been successfully initialized"} {
		if !strings.Contains(string(raw), s) {
			t.Errorf("log file lacks %q:\n%s", s, raw)
		}
	}
}
