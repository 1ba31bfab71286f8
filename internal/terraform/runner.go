// Package terraform drives the terraform (or tofu) CLI for a stack directory
// behind a small Runner interface. The implementation uses
// hashicorp/terraform-exec: -input=false, -no-color, TF_IN_AUTOMATION=1, the
// caller's environment (TF_PLUGIN_CACHE_DIR, TF_CLI_CONFIG_FILE, AWS_*)
// passed through, output streamed line by line to the log, and on
// cancellation an interrupt that lets terraform save state and release its
// lock before it is killed.
package terraform

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// Runner runs Terraform in one stack directory.
type Runner interface {
	// Init initialises the working directory (providers, backend).
	Init(ctx context.Context) error
	// Plan writes a plan to planFile (absolute, or relative to the stack
	// directory) and summarises it.
	Plan(ctx context.Context, planFile string) (PlanSummary, error)
	// Apply applies a saved plan.
	Apply(ctx context.Context, planFile string) error
	// Destroy destroys everything in state, once.
	Destroy(ctx context.Context) error
	// Outputs returns the root module's string outputs.
	Outputs(ctx context.Context) (map[string]string, error)
	// ResourceCount counts the managed resources in state.
	ResourceCount(ctx context.Context) (int, error)
	// ForceUnlock releases a state lock by ID.
	ForceUnlock(ctx context.Context, lockID string) error
}

// GracefulStop is how long terraform gets after an interrupt to finish the
// operations in flight, write state and release the lock before it is killed.
const GracefulStop = 90 * time.Second

// Exec is the Runner that runs the terraform or tofu binary.
type Exec struct {
	tf    *tfexec.Terraform // init, plan, apply, destroy: output streamed to the log
	quiet *tfexec.Terraform // show, output: JSON on stdout is data, not log
	log   *progress.Logger
	w     *lineWriter
}

var _ Runner = (*Exec)(nil)

// NewExec returns a Runner for the module in dir using binary. Terraform's
// output goes to log, one timestamped line at a time.
func NewExec(dir, binary string, log *progress.Logger) (*Exec, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open stack directory %s: %w", dir, err)
	}
	w := newLineWriter(log)
	var tfs [2]*tfexec.Terraform
	for i := range tfs {
		tf, err := tfexec.NewTerraform(abs, binary)
		if err != nil {
			return nil, fmt.Errorf("prepare terraform in %s: %w", dir, err)
		}
		if err := tf.SetWaitDelay(GracefulStop); err != nil {
			return nil, fmt.Errorf("prepare terraform: %w", err)
		}
		tf.SetStderr(w)
		tfs[i] = tf
	}
	tfs[0].SetStdout(w)
	return &Exec{tf: tfs[0], quiet: tfs[1], log: log, w: w}, nil
}

// primeVersion runs "terraform version" once with its JSON kept out of the
// log; terraform-exec caches the answer for its compatibility checks.
func (e *Exec) primeVersion(ctx context.Context) error {
	e.tf.SetStdout(io.Discard)
	defer e.tf.SetStdout(e.w)
	if _, _, err := e.tf.Version(ctx, false); err != nil {
		return wrap(ctx, "terraform version", err)
	}
	return nil
}

// Init implements Runner.
func (e *Exec) Init(ctx context.Context) error {
	if err := e.primeVersion(ctx); err != nil {
		return err
	}
	if err := e.tf.Init(ctx); err != nil {
		return wrap(ctx, "terraform init", err)
	}
	return nil
}

// Plan implements Runner.
func (e *Exec) Plan(ctx context.Context, planFile string) (PlanSummary, error) {
	if _, err := e.tf.Plan(ctx, tfexec.Out(planFile)); err != nil {
		return PlanSummary{}, wrap(ctx, "terraform plan", err)
	}
	p, err := e.quiet.ShowPlanFile(ctx, planFile)
	if err != nil {
		return PlanSummary{}, wrap(ctx, "read plan "+planFile, err)
	}
	return Summarize(p), nil
}

// Apply implements Runner.
func (e *Exec) Apply(ctx context.Context, planFile string) error {
	if err := e.tf.Apply(ctx, tfexec.DirOrPlan(planFile)); err != nil {
		return wrap(ctx, "terraform apply", err)
	}
	return nil
}

// Destroy implements Runner.
func (e *Exec) Destroy(ctx context.Context) error {
	if err := e.tf.Destroy(ctx); err != nil {
		return wrap(ctx, "terraform destroy", err)
	}
	return nil
}

// Outputs implements Runner.
func (e *Exec) Outputs(ctx context.Context) (map[string]string, error) {
	outs, err := e.quiet.Output(ctx)
	if err != nil {
		return nil, wrap(ctx, "terraform output", err)
	}
	m := make(map[string]string, len(outs))
	for k, o := range outs {
		var s string
		if err := json.Unmarshal(o.Value, &s); err != nil {
			continue // not a string output; outputs.json holds strings only
		}
		m[k] = s
	}
	return m, nil
}

// ResourceCount implements Runner. It reads the raw state (terraform state
// pull) rather than terraform show -json, which starts every provider to load
// its schema: seconds each time for the AWS provider.
func (e *Exec) ResourceCount(ctx context.Context) (int, error) {
	raw, err := e.quiet.StatePull(ctx)
	if err != nil {
		return 0, wrap(ctx, "terraform state pull", err)
	}
	return CountManaged([]byte(raw))
}

// ForceUnlock implements Runner.
func (e *Exec) ForceUnlock(ctx context.Context, lockID string) error {
	if err := e.tf.ForceUnlock(ctx, lockID); err != nil {
		return wrap(ctx, "terraform force-unlock "+lockID, err)
	}
	return nil
}

// rawState is the part of Terraform's state file format (version 4, shared
// by OpenTofu) that counting needs. terraform-json describes show -json's
// output, not this format.
type rawState struct {
	Version   int `json:"version"`
	Resources []struct {
		Mode      string            `json:"mode"`
		Instances []json.RawMessage `json:"instances"`
	} `json:"resources"`
}

// CountManaged counts the instances of managed (not data) resources in a raw
// state, as terraform state list would list them. An empty input is an empty
// state: state pull prints nothing before the first apply.
func CountManaged(raw []byte) (int, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return 0, nil
	}
	var st rawState
	if err := json.Unmarshal(raw, &st); err != nil {
		return 0, fmt.Errorf("read terraform state: %w", err)
	}
	if st.Version != 4 {
		return 0, fmt.Errorf("read terraform state: format version %d, want 4 (use terraform >= 0.12 or OpenTofu)", st.Version)
	}
	n := 0
	for _, r := range st.Resources {
		if r.Mode == "managed" {
			n += len(r.Instances)
		}
	}
	return n, nil
}

// PlanSummary counts what a plan would do, as terraform's "Plan:" line does.
type PlanSummary struct {
	Add, Change, Destroy int
	Changes              []string // "create aws_vpc.this", in plan order
	OutputChanges        int      // root module outputs the plan changes
}

// NoChanges reports whether the plan changes no resource.
func (s PlanSummary) NoChanges() bool { return s.Add == 0 && s.Change == 0 && s.Destroy == 0 }

// String is "Plan: 1 to add, 2 to change, 0 to destroy."
func (s PlanSummary) String() string {
	return fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy.", s.Add, s.Change, s.Destroy)
}

// Summarize counts the resource changes of a JSON plan. A replacement counts
// as one add and one destroy, as terraform counts it.
func Summarize(p *tfjson.Plan) PlanSummary {
	var s PlanSummary
	if p == nil {
		return s
	}
	for _, rc := range p.ResourceChanges {
		if rc.Change == nil || rc.Mode == tfjson.DataResourceMode {
			continue
		}
		a := rc.Change.Actions
		verb := ""
		switch {
		case a.Replace():
			s.Add++
			s.Destroy++
			verb = "replace"
		case a.Create():
			s.Add++
			verb = "create"
		case a.Update():
			s.Change++
			verb = "update"
		case a.Delete():
			s.Destroy++
			verb = "destroy"
		default:
			continue
		}
		s.Changes = append(s.Changes, verb+" "+rc.Address)
	}
	for _, oc := range p.OutputChanges {
		if oc != nil && !oc.Actions.NoOp() {
			s.OutputChanges++
		}
	}
	return s
}

// LockError says the state is locked by another run. The CLI maps it to exit
// 1 and prints how to release the lock if its holder died.
type LockError struct {
	ID, Path, Operation, Who, Version, Created string
	Err                                        error
}

// Error names the lock, its holder and how to release it.
func (e *LockError) Error() string {
	return fmt.Sprintf("state is locked (lock ID %s, held by %s for %s since %s): wait for that run to finish; if it died, rerun with --force-unlock %s",
		cmp.Or(e.ID, "unknown"), cmp.Or(e.Who, "unknown"), cmp.Or(e.Operation, "unknown"), cmp.Or(e.Created, "unknown"), cmp.Or(e.ID, "unknown"))
}

// Unwrap returns terraform's own error.
func (e *LockError) Unwrap() error { return e.Err }

var lockFieldRE = regexp.MustCompile(`(?m)^[│|\s]*(ID|Path|Operation|Who|Version|Created):\s*(.*?)\s*$`)

// ParseLockError recognises terraform's "Error acquiring the state lock"
// message and pulls out the lock's ID and holder.
func ParseLockError(err error) (*LockError, bool) {
	if err == nil {
		return nil, false
	}
	msg := err.Error()
	if !strings.Contains(msg, "Error acquiring the state lock") && !strings.Contains(msg, "Error locking state") {
		return nil, false
	}
	le := &LockError{Err: err}
	if i := strings.Index(msg, "Lock Info:"); i >= 0 {
		for _, m := range lockFieldRE.FindAllStringSubmatch(msg[i:], -1) {
			switch m[1] {
			case "ID":
				le.ID = m[2]
			case "Path":
				le.Path = m[2]
			case "Operation":
				le.Operation = m[2]
			case "Who":
				le.Who = m[2]
			case "Version":
				le.Version = m[2]
			case "Created":
				le.Created = m[2]
			}
		}
	}
	return le, true
}

// InterruptedError says terraform was stopped because the job was cancelled
// or timed out; it was interrupted, not killed, so state was saved.
type InterruptedError struct {
	Op  string
	Err error
}

// Error says why terraform was stopped and what to do next.
func (e *InterruptedError) Error() string {
	why := "the job was cancelled"
	if errors.Is(e.Err, context.DeadlineExceeded) {
		why = "--timeout was reached"
	}
	return fmt.Sprintf("%s interrupted because %s: terraform was asked to stop and given %s to save state and release the lock; rerun to converge", e.Op, why, GracefulStop)
}

// Unwrap returns the context's error.
func (e *InterruptedError) Unwrap() error { return e.Err }

// wrap turns a terraform-exec error into a lock error, an interruption, or an
// error that says which command failed. The context, not the error, says
// whether this was an interruption and why: terraform-exec's error matches
// both context.Canceled and context.DeadlineExceeded.
func wrap(ctx context.Context, op string, err error) error {
	if le, ok := ParseLockError(err); ok {
		return le
	}
	if ctx.Err() != nil {
		return &InterruptedError{Op: op, Err: ctx.Err()}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// DefaultCacheDir is where an installed Terraform is kept between runs:
// $XDG_CACHE_HOME/graviton-cd or ~/.cache/graviton-cd.
func DefaultCacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "graviton-cd")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "graviton-cd")
	}
	return filepath.Join(os.TempDir(), "graviton-cd")
}

// RawState returns the state as terraform state pull prints it (version 4
// JSON); empty before the first apply.
func (e *Exec) RawState(ctx context.Context) ([]byte, error) {
	raw, err := e.quiet.StatePull(ctx)
	if err != nil {
		return nil, wrap(ctx, "terraform state pull", err)
	}
	return []byte(raw), nil
}
