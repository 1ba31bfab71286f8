// Package orbrun runs the jobs and commands of a packed orb on this machine,
// the way CircleCI would run their steps, so the orb's own shell and
// environment wiring is tested and not only the binary behind it.
//
// For a job it resolves the parameters (the arguments given, else defaults,
// type-checked), substitutes << parameters.x >>, expands the orb's commands
// with their own parameters, evaluates when/unless conditions, and runs each
// `run` step with bash: the step's environment: map applied, BASH_ENV set to a
// per-job file that bash sources before every step, the job's working
// directory, `when: on_fail/always` honoured after a failure. CircleCI-only
// steps (checkout, attach_workspace, persist_to_workspace, store_test_results,
// store_artifacts, caches) are checked for shape and skipped, except that with
// Options.Workspace set, persist_to_workspace and attach_workspace copy files
// to and from that directory, so jobs can be chained as in a workflow.
package orbrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/graviton-cd/graviton-cd/internal/orbpack"
)

// Orb is a packed orb, ready to run.
type Orb struct {
	doc *yaml.Node
}

// Parse reads a packed orb (orbpack.Pack's output).
func Parse(packed []byte) (*Orb, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(packed, &doc); err != nil {
		return nil, fmt.Errorf("parse orb: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("parse orb: want one YAML mapping")
	}
	return &Orb{doc: doc.Content[0]}, nil
}

// LoadSource packs an orb source directory (src/) and parses the result.
func LoadSource(dir string) (*Orb, error) {
	b, err := orbpack.Pack(dir, orbpack.Options{})
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

func (o *Orb) component(section, name string) (*yaml.Node, error) {
	c := orbpack.MapValue(orbpack.MapValue(o.doc, section), name)
	if c == nil {
		return nil, fmt.Errorf("the orb has no %s %q", strings.TrimSuffix(section, "s"), name)
	}
	return c, nil
}

// Options say where and how a job runs.
type Options struct {
	// Dir is the job's working directory (CircleCI's ~/project). Required.
	Dir string
	// Env is the environment the job starts from; nil means os.Environ().
	// CIRCLECI, CI, CIRCLE_JOB, CIRCLE_WORKING_DIRECTORY and BASH_ENV are added.
	Env []string
	// Workspace, when set, is the workflow's workspace: persist_to_workspace
	// copies into it and attach_workspace copies from it.
	Workspace string
	// Stdout and Stderr receive the steps' output (default: discarded).
	Stdout, Stderr io.Writer
}

// StepResult records what happened to one step.
type StepResult struct {
	Name string // the run step's name, or the CircleCI step's key
	Kind string // "run" or the CircleCI step (attach_workspace, store_test_results…)
	Ran  bool   // false when skipped (a failure before it, or CircleCI-only)
	Err  error  // the run step's failure
	Path string // store_test_results/store_artifacts: the path, relative to Dir
}

// Result is a job's outcome, step by step.
type Result struct {
	Steps []StepResult
	// BashEnv is the content of BASH_ENV after the last step.
	BashEnv string
}

// Step returns the first step with that name, or nil.
func (r *Result) Step(name string) *StepResult {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}

// Invocation is one orb job of a workflow, as a config or example writes it.
type Invocation struct {
	Name      string         // the workflow's name for it (name:, else alias/job)
	Job       string         // the orb's job, without alias
	Params    map[string]any // the arguments, workflow keys removed
	PreSteps  []*yaml.Node
	PostSteps []*yaml.Node
	Requires  []string
}

// ExampleJobs returns the orb jobs that an example's workflows run, in order,
// with << pipeline.x >> replaced from pipeline. Jobs of other orbs and the
// example's own jobs (a build, an approval) are left out.
func (o *Orb) ExampleJobs(example string, pipeline map[string]string) ([]Invocation, error) {
	ex, err := o.component("examples", example)
	if err != nil {
		return nil, err
	}
	usage := orbpack.Clone(orbpack.MapValue(ex, "usage"))
	if err := substitutePipeline(usage, pipeline); err != nil {
		return nil, fmt.Errorf("example %s: %w", example, err)
	}
	alias := orbpack.ExampleAlias(usage)
	if alias == "" {
		return nil, fmt.Errorf("example %s does not import %s", example, orbpack.OrbRef)
	}
	var out []Invocation
	workflows := orbpack.MapValue(usage, "workflows")
	for i := 0; workflows != nil && i+1 < len(workflows.Content); i += 2 {
		jobs := orbpack.MapValue(workflows.Content[i+1], "jobs")
		for _, j := range jobs.Content {
			name, args := j.Value, (*yaml.Node)(nil)
			if j.Kind == yaml.MappingNode {
				name, args = j.Content[0].Value, j.Content[1]
			}
			job, ok := strings.CutPrefix(name, alias+"/")
			if !ok {
				continue
			}
			inv := Invocation{Name: name, Job: job, Params: map[string]any{}}
			for k := 0; args != nil && k+1 < len(args.Content); k += 2 {
				key, val := args.Content[k].Value, args.Content[k+1]
				switch key {
				case "name":
					inv.Name = val.Value
				case "pre-steps":
					inv.PreSteps = val.Content
				case "post-steps":
					inv.PostSteps = val.Content
				case "requires":
					for _, r := range val.Content {
						inv.Requires = append(inv.Requires, r.Value)
					}
				case "context", "filters", "matrix", "type", "serial-group":
				default:
					v, err := nodeValue(val)
					if err != nil {
						return nil, fmt.Errorf("example %s, job %s, %s: %w", example, name, key, err)
					}
					inv.Params[key] = v
				}
			}
			out = append(out, inv)
		}
	}
	return out, nil
}

// RunInvocation runs an example's job: its pre-steps, the job, its post-steps.
// overrides are applied on top of the invocation's arguments (binary_path…).
func (o *Orb) RunInvocation(ctx context.Context, inv Invocation, overrides map[string]any, opts Options) (*Result, error) {
	params := map[string]any{}
	maps.Copy(params, inv.Params)
	maps.Copy(params, overrides)
	return o.runJob(ctx, inv.Name, inv.Job, params, inv.PreSteps, inv.PostSteps, opts)
}

// RunJob runs one job of the orb with the given arguments.
func (o *Orb) RunJob(ctx context.Context, job string, params map[string]any, opts Options) (*Result, error) {
	return o.runJob(ctx, job, job, params, nil, nil, opts)
}

// RunCommand runs one command of the orb on its own, as a job whose only
// step calls it.
func (o *Orb) RunCommand(ctx context.Context, command string, params map[string]any, opts Options) (*Result, error) {
	r, err := o.newRunner(ctx, command, opts)
	if err != nil {
		return nil, err
	}
	defer os.Remove(r.bashEnv)
	if err := r.command(command, params); err != nil {
		return r.result(), err
	}
	return r.result(), r.failure
}

func (o *Orb) runJob(ctx context.Context, name, job string, params map[string]any, pre, post []*yaml.Node, opts Options) (*Result, error) {
	def, err := o.component("jobs", job)
	if err != nil {
		return nil, err
	}
	resolved, err := resolveParams("job "+job, orbpack.MapValue(def, "parameters"), params)
	if err != nil {
		return nil, err
	}
	if err := o.checkExecutor(def, resolved); err != nil {
		return nil, fmt.Errorf("job %s: %w", job, err)
	}
	body, err := substitute("job "+job, def, resolved)
	if err != nil {
		return nil, err
	}
	r, err := o.newRunner(ctx, name, opts)
	if err != nil {
		return nil, err
	}
	defer os.Remove(r.bashEnv)
	if env := orbpack.MapValue(body, "environment"); env != nil {
		for i := 0; i+1 < len(env.Content); i += 2 {
			r.jobEnv = append(r.jobEnv, env.Content[i].Value+"="+envValue(env.Content[i+1]))
		}
	}
	steps := append(append(append([]*yaml.Node(nil), pre...), orbpack.MapValue(body, "steps").Content...), post...)
	for _, s := range steps {
		if err := r.step(s); err != nil {
			return r.result(), fmt.Errorf("job %s: %w", name, err)
		}
	}
	if r.failure != nil {
		return r.result(), fmt.Errorf("job %s: %w", name, r.failure)
	}
	return r.result(), nil
}

// checkExecutor makes sure the job names an executor the orb has.
func (o *Orb) checkExecutor(def *yaml.Node, params map[string]any) error {
	exec := orbpack.ScalarValue(orbpack.MapValue(def, "executor"))
	if m := wholeRefRe.FindStringSubmatch(exec); m != nil {
		exec, _ = params[m[1]].(string)
	}
	if exec == "" {
		return nil
	}
	if orbpack.MapValue(orbpack.MapValue(o.doc, "executors"), localName(exec)) == nil {
		return fmt.Errorf("executor %q is not an executor of this orb", exec)
	}
	return nil
}

type runner struct {
	ctx     context.Context
	orb     *Orb
	opts    Options
	env     []string // base environment with CircleCI's variables
	jobEnv  []string
	bashEnv string
	steps   []StepResult
	failure error // the first failed step; later steps run only if on_fail/always
	depth   int
}

func (o *Orb) newRunner(ctx context.Context, job string, opts Options) (*runner, error) {
	if opts.Dir == "" {
		return nil, errors.New("run: Options.Dir (the working directory) is required")
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	f, err := os.CreateTemp("", "orbrun-bash-env-*")
	if err != nil {
		return nil, fmt.Errorf("create BASH_ENV: %w", err)
	}
	f.Close()
	base := opts.Env
	if base == nil {
		base = os.Environ()
	}
	env := append([]string(nil), base...)
	env = append(env,
		"CI=true", "CIRCLECI=true", "CIRCLE_JOB="+job,
		"CIRCLE_WORKING_DIRECTORY="+opts.Dir, "BASH_ENV="+f.Name(),
	)
	return &runner{ctx: ctx, orb: o, opts: opts, env: env, bashEnv: f.Name()}, nil
}

func (r *runner) result() *Result {
	b, _ := os.ReadFile(r.bashEnv)
	return &Result{Steps: r.steps, BashEnv: string(b)}
}

// step runs or skips one step. An error return is a broken config (the job
// cannot go on); a failing run step is recorded in r.failure instead.
func (r *runner) step(s *yaml.Node) error {
	if s.Kind == yaml.ScalarNode {
		switch s.Value {
		case "checkout", "setup_remote_docker", "add_ssh_keys":
			r.steps = append(r.steps, StepResult{Name: s.Value, Kind: s.Value})
			return nil
		}
		return r.command(s.Value, nil)
	}
	if s.Kind != yaml.MappingNode || len(s.Content) != 2 {
		return fmt.Errorf("line %d: a step is a map with one key", s.Line)
	}
	key, body := s.Content[0].Value, s.Content[1]
	switch key {
	case "run":
		return r.run(body)
	case "when", "unless":
		ok, err := truthy(orbpack.MapValue(body, "condition"))
		if err != nil {
			return fmt.Errorf("line %d: %s: %w", body.Line, key, err)
		}
		if ok != (key == "when") {
			return nil
		}
		for _, inner := range orbpack.MapValue(body, "steps").Content {
			if err := r.step(inner); err != nil {
				return err
			}
		}
		return nil
	case "attach_workspace":
		return r.attachWorkspace(body)
	case "persist_to_workspace":
		return r.persistToWorkspace(body)
	case "store_test_results", "store_artifacts":
		path := orbpack.ScalarValue(orbpack.MapValue(body, "path"))
		if path == "" {
			return fmt.Errorf("line %d: %s needs a path", body.Line, key)
		}
		// CircleCI uploads these after a failure too.
		r.steps = append(r.steps, StepResult{Name: key, Kind: key, Path: path})
		return nil
	case "save_cache", "restore_cache", "checkout", "setup_remote_docker", "add_ssh_keys":
		r.steps = append(r.steps, StepResult{Name: key, Kind: key})
		return nil
	}
	args := map[string]any{}
	for i := 0; body.Kind == yaml.MappingNode && i+1 < len(body.Content); i += 2 {
		v, err := nodeValue(body.Content[i+1])
		if err != nil {
			return fmt.Errorf("command %s, argument %s: %w", key, body.Content[i].Value, err)
		}
		args[body.Content[i].Value] = v
	}
	return r.command(key, args)
}

// command expands one of the orb's commands with its arguments and runs its
// steps.
func (r *runner) command(name string, args map[string]any) error {
	if r.depth > 10 {
		return fmt.Errorf("command %s: commands nest more than 10 deep", name)
	}
	def, err := r.orb.component("commands", localName(name))
	if err != nil {
		return err
	}
	params, err := resolveParams("command "+name, orbpack.MapValue(def, "parameters"), args)
	if err != nil {
		return err
	}
	body, err := substitute("command "+name, def, params)
	if err != nil {
		return err
	}
	r.depth++
	defer func() { r.depth-- }()
	for _, s := range orbpack.MapValue(body, "steps").Content {
		if err := r.step(s); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) run(body *yaml.Node) error {
	var name, command, when, shell, dir string
	var stepEnv []string
	if body.Kind == yaml.ScalarNode {
		command = body.Value
		name = strings.SplitN(command, "\n", 2)[0]
	} else {
		name = orbpack.ScalarValue(orbpack.MapValue(body, "name"))
		command = orbpack.ScalarValue(orbpack.MapValue(body, "command"))
		when = orbpack.ScalarValue(orbpack.MapValue(body, "when"))
		shell = orbpack.ScalarValue(orbpack.MapValue(body, "shell"))
		dir = orbpack.ScalarValue(orbpack.MapValue(body, "working_directory"))
		if b := orbpack.MapValue(body, "background"); b != nil && b.Value == "true" {
			return fmt.Errorf("run step %q: background steps are not supported by this runner", name)
		}
		env := orbpack.MapValue(body, "environment")
		for i := 0; env != nil && i+1 < len(env.Content); i += 2 {
			stepEnv = append(stepEnv, env.Content[i].Value+"="+envValue(env.Content[i+1]))
		}
	}
	if command == "" {
		return fmt.Errorf("run step %q (line %d) has no command", name, body.Line)
	}
	res := StepResult{Name: name, Kind: "run"}
	switch when {
	case "", "on_success":
		res.Ran = r.failure == nil
	case "on_fail":
		res.Ran = r.failure != nil
	case "always":
		res.Ran = true
	default:
		return fmt.Errorf("run step %q: when: %q is not always, on_success or on_fail", name, when)
	}
	if !res.Ran {
		r.steps = append(r.steps, res)
		return nil
	}
	res.Err = r.exec(name, command, shell, dir, stepEnv)
	if res.Err != nil && r.failure == nil {
		r.failure = fmt.Errorf("step %q: %w", name, res.Err)
	}
	r.steps = append(r.steps, res)
	return nil
}

// exec runs a command the way CircleCI does: written to a file and run by the
// shell (/bin/bash -eo pipefail by default), which sources BASH_ENV first.
func (r *runner) exec(name, command, shell, dir string, stepEnv []string) error {
	script, err := os.CreateTemp("", "orbrun-step-*.sh")
	if err != nil {
		return fmt.Errorf("write step: %w", err)
	}
	defer os.Remove(script.Name())
	if _, err := script.WriteString(command); err != nil {
		script.Close()
		return fmt.Errorf("write step: %w", err)
	}
	script.Close()
	argv := strings.Fields(shell)
	if len(argv) == 0 {
		argv = []string{"/bin/bash", "-eo", "pipefail"}
	}
	wd := r.opts.Dir
	if dir != "" {
		wd = r.path(dir)
	}
	fmt.Fprintf(r.opts.Stdout, "==> %s\n", name)
	cmd := exec.CommandContext(r.ctx, argv[0], append(argv[1:], script.Name())...)
	cmd.Dir = wd
	cmd.Env = append(append(append([]string(nil), r.env...), r.jobEnv...), stepEnv...)
	cmd.Stdout, cmd.Stderr = r.opts.Stdout, r.opts.Stderr
	return cmd.Run()
}

// path resolves a step's path: ~ is HOME, relative is under the working dir.
func (r *runner) path(p string) string {
	if rest, ok := strings.CutPrefix(p, "~"); ok {
		return filepath.Join(r.home(), rest)
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(r.opts.Dir, p)
}

func (r *runner) home() string {
	for i := len(r.env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(r.env[i], "HOME="); ok {
			return v
		}
	}
	return os.Getenv("HOME")
}

func (r *runner) attachWorkspace(body *yaml.Node) error {
	at := orbpack.ScalarValue(orbpack.MapValue(body, "at"))
	if at == "" {
		return fmt.Errorf("line %d: attach_workspace needs at", body.Line)
	}
	res := StepResult{Name: "attach_workspace", Kind: "attach_workspace", Path: at}
	if r.opts.Workspace != "" && r.failure == nil {
		if err := copyTree(r.opts.Workspace, r.path(at)); err != nil {
			return fmt.Errorf("attach_workspace: %w", err)
		}
		res.Ran = true
	}
	r.steps = append(r.steps, res)
	return nil
}

func (r *runner) persistToWorkspace(body *yaml.Node) error {
	root := orbpack.ScalarValue(orbpack.MapValue(body, "root"))
	paths := orbpack.MapValue(body, "paths")
	if root == "" || paths == nil || paths.Kind != yaml.SequenceNode || len(paths.Content) == 0 {
		return fmt.Errorf("line %d: persist_to_workspace needs root and paths", body.Line)
	}
	res := StepResult{Name: "persist_to_workspace", Kind: "persist_to_workspace"}
	if r.opts.Workspace != "" && r.failure == nil {
		for _, p := range paths.Content {
			if filepath.IsAbs(p.Value) || strings.HasPrefix(filepath.Clean(p.Value), "..") {
				return fmt.Errorf("persist_to_workspace: path %s must be relative to root", p.Value)
			}
			src := filepath.Join(r.path(root), p.Value)
			if _, err := os.Stat(src); err != nil {
				// CircleCI fails the step when a path to persist does not exist.
				r.failure = fmt.Errorf("persist_to_workspace: %w", err)
				res.Err = r.failure
				break
			}
			if err := copyTree(src, filepath.Join(r.opts.Workspace, p.Value)); err != nil {
				return fmt.Errorf("persist_to_workspace: %w", err)
			}
		}
		res.Ran = true
	}
	r.steps = append(r.steps, res)
	return nil
}

// copyTree copies a file or directory tree, keeping file modes.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
}
