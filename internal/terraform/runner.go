// Package terraform drives the terraform (or tofu) CLI for a stack directory
// behind a small Runner interface. The implementation uses
// hashicorp/terraform-exec: -input=false, -no-color, TF_IN_AUTOMATION=1, the
// caller's environment (TF_PLUGIN_CACHE_DIR, TF_CLI_CONFIG_FILE, AWS_*)
// passed through; plan, apply and destroy with -json, their machine-readable
// UI summarised in the log one line per resource change (uilog.go) and kept
// whole in a log file (LogTo); and on cancellation an interrupt that lets
// terraform save state and release its lock before it is killed.
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
	"slices"
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

// Exec is the Runner that runs the terraform or tofu binary. plan, apply
// and destroy run with -json: their machine-readable UI goes through a
// printer that logs one line per resource change, and whole into the file
// set with LogTo, as does the output of every other command.
type Exec struct {
	tf    *tfexec.Terraform // init, plan, apply, destroy, force-unlock
	quiet *tfexec.Terraform // version, show, output, state pull: stdout is data
	bin   string
	log   *progress.Logger
	ui    *uiPrinter
	raw   *rawLog
	stop  stopTimes
}

var _ Runner = (*Exec)(nil)

// NewExec returns a Runner for the module in dir using binary. Our summary
// of Terraform's output goes to log; its whole output to the file given to
// LogTo, if any.
func NewExec(dir, binary string, log *progress.Logger) (*Exec, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open stack directory %s: %w", dir, err)
	}
	var tfs [2]*tfexec.Terraform
	for i := range tfs {
		tf, err := tfexec.NewTerraform(abs, binary)
		if err != nil {
			return nil, fmt.Errorf("prepare terraform in %s: %w", dir, err)
		}
		tfs[i] = tf
	}
	e := &Exec{tf: tfs[0], quiet: tfs[1], bin: binary, log: log, ui: newUIPrinter(log)}
	if err := e.setStopTimes(defaultStopTimes()); err != nil {
		return nil, err
	}
	return e, nil
}

// LogTo keeps terraform's whole output, from now on, in the file at path
// (its directory is created; an existing file is appended to).
func (e *Exec) LogTo(path string) error {
	r, err := openRawLog(path, time.Now)
	if err != nil {
		return err
	}
	if err := e.raw.close(); err != nil {
		return err
	}
	e.raw = r
	e.quiet.SetStderr(&lineSplitter{line: r.line})
	return nil
}

// LogFile is the file terraform's whole output goes to; "" if none.
func (e *Exec) LogFile() string {
	if e.raw == nil {
		return ""
	}
	return e.raw.path
}

// Close closes the log file.
func (e *Exec) Close() error { return e.raw.close() }

// command prepares e.tf for one command: a header in the log file, stderr
// to the log file (and streamed with --log-level debug), and the stdout
// writer for the caller to hand to terraform-exec. done flushes both.
func (e *Exec) command(args string, stdout func([]byte)) (out *lineSplitter, done func()) {
	e.raw.header(filepath.Base(e.bin), args)
	out = &lineSplitter{line: func(b []byte) {
		e.raw.line(b)
		stdout(b)
	}}
	errw := &lineSplitter{line: func(b []byte) {
		e.raw.line(b)
		if e.ui.debug && len(bytes.TrimSpace(b)) > 0 {
			e.log.Printf("terraform: %s", b)
		}
	}}
	e.tf.SetStdout(out)
	e.tf.SetStderr(errw)
	return out, func() { out.flush(); errw.flush() }
}

// uiCommand prepares a -json command: stdout is the UI stream.
func (e *Exec) uiCommand(args string) (*lineSplitter, func()) {
	e.ui.begin()
	return e.command(args, e.ui.handle)
}

// textCommand prepares a command with text output: it goes to the log file,
// is streamed with --log-level debug, and is kept in lines for an error.
func (e *Exec) textCommand(args string, lines *[]string) func() {
	_, done := e.command(args, func(b []byte) {
		if len(bytes.TrimSpace(b)) == 0 {
			return
		}
		*lines = append(*lines, string(b))
		if e.ui.debug {
			e.log.Printf("terraform: %s", b)
		}
	})
	return done
}

// uiError is the error of a -json command: its error diagnostics when it
// printed any (the exec error then says only "exit status 1").
func (e *Exec) uiError(ctx context.Context, op string, err error) error {
	if diags := e.ui.errors(); len(diags) > 0 && ctx.Err() == nil {
		err = &DiagnosticsError{Op: op, Diagnostics: diags}
		if le, ok := ParseLockError(err); ok {
			return le
		}
		return err
	}
	return wrap(ctx, op, err)
}

// primeVersion runs "terraform version" once with its JSON kept out of the
// log; terraform-exec caches the answer for its compatibility checks.
func (e *Exec) primeVersion(ctx context.Context) error {
	e.tf.SetStdout(io.Discard)
	if _, _, err := e.tf.Version(ctx, false); err != nil {
		return wrap(ctx, "terraform version", err)
	}
	return nil
}

// Init implements Runner. It logs one line, the CLI's and the providers'
// versions; when init fails, its output instead.
func (e *Exec) Init(ctx context.Context) error {
	if err := e.primeVersion(ctx); err != nil {
		return err
	}
	var lines []string
	done := e.textCommand("init", &lines)
	err := e.tf.Init(ctx)
	done()
	if err != nil {
		if le, ok := ParseLockError(err); ok {
			return le
		}
		if ctx.Err() != nil {
			return wrap(ctx, "terraform init", err)
		}
		if !e.ui.debug {
			for _, l := range lines {
				e.log.Printf("terraform: %s", l)
			}
		}
		return fmt.Errorf("terraform init failed (%s); its output is above", firstLine(err.Error()))
	}
	e.log.Printf("init: %s", e.versions(ctx))
	return nil
}

// versions names the CLI and the providers init selected: "Terraform
// 1.11.4, hashicorp/aws 6.47.1".
func (e *Exec) versions(ctx context.Context) string {
	name := "Terraform"
	if strings.Contains(filepath.Base(e.bin), "tofu") {
		name = "OpenTofu"
	}
	v, provs, err := e.quiet.Version(ctx, true)
	if err != nil || v == nil {
		return name + " (version unknown)"
	}
	parts := []string{name + " " + v.String()}
	addrs := make([]string, 0, len(provs))
	for a := range provs {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	for _, a := range addrs {
		short := a
		for _, reg := range []string{"registry.terraform.io/", "registry.opentofu.org/"} {
			short = strings.TrimPrefix(short, reg)
		}
		parts = append(parts, fmt.Sprintf("%s %s", short, provs[a]))
	}
	return strings.Join(parts, ", ")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// Plan implements Runner.
func (e *Exec) Plan(ctx context.Context, planFile string) (PlanSummary, error) {
	out, done := e.uiCommand("plan -json")
	_, err := e.tf.PlanJSON(ctx, out, tfexec.Out(planFile))
	done()
	if err != nil {
		return PlanSummary{}, e.uiError(ctx, "terraform plan", err)
	}
	p, err := e.quiet.ShowPlanFile(ctx, planFile)
	if err != nil {
		return PlanSummary{}, wrap(ctx, "read plan "+planFile, err)
	}
	return Summarize(p), nil
}

// Apply implements Runner.
// An interrupt lets the operations in flight finish first (finishInFlight).
func (e *Exec) Apply(ctx context.Context, planFile string) error {
	out, done := e.uiCommand("apply -json")
	defer done()
	return e.changeWorld(ctx, "apply", func(ctx context.Context) error {
		err := e.tf.ApplyJSON(ctx, out, tfexec.DirOrPlan(planFile))
		done()
		return err
	})
}

// Destroy implements Runner. An interrupt lets the operations in flight
// finish first (finishInFlight).
func (e *Exec) Destroy(ctx context.Context) error {
	out, done := e.uiCommand("destroy -json")
	defer done()
	return e.changeWorld(ctx, "destroy", func(ctx context.Context) error {
		err := e.tf.DestroyJSON(ctx, out)
		done()
		return err
	})
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
	var lines []string
	done := e.textCommand("force-unlock "+lockID, &lines)
	err := e.tf.ForceUnlock(ctx, lockID)
	done()
	if err != nil {
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
	Import, Add, Change, Destroy int
	Changes                      []string // "create aws_vpc.this", in plan order
	OutputChanges                int      // root module outputs the plan changes
}

// NoChanges reports whether the plan changes no resource and imports none.
func (s PlanSummary) NoChanges() bool {
	return s.Import == 0 && s.Add == 0 && s.Change == 0 && s.Destroy == 0
}

// String is "Plan: 1 to add, 2 to change, 0 to destroy.", with "N to
// import, " after "Plan: " when the plan imports, as terraform prints it.
func (s PlanSummary) String() string {
	imports := ""
	if s.Import > 0 {
		imports = fmt.Sprintf("%d to import, ", s.Import)
	}
	return fmt.Sprintf("Plan: %s%d to add, %d to change, %d to destroy.", imports, s.Add, s.Change, s.Destroy)
}

// Summarize counts the resource changes of a JSON plan. A replacement counts
// as one add and one destroy, as terraform counts it. An import (the change's
// Importing is set) counts as an import besides whatever its actions are: an
// import with no other change is "import", one that also updates the
// resource "import, update".
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
		}
		if rc.Change.Importing != nil {
			s.Import++
			verb = strings.TrimSuffix("import, "+verb, ", ")
		}
		if verb == "" {
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
	msg := errorText(err)
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
	return fmt.Sprintf("%s interrupted because %s: terraform was given up to %s to finish what it was doing, save state and release the lock; rerun to converge (a resource created but not recorded is imported by the rerun)", e.Op, why, GracefulStop)
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
