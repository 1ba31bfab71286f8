package orbrun

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
)

// ExampleOptions configure RunExample.
type ExampleOptions struct {
	// Root holds one directory per job (its working directory and HOME, a
	// fresh "container" each) and the shared workspace. Required.
	Root string
	// Env is the environment every job starts from (HOME is replaced per job).
	Env []string
	// Pipeline holds the << pipeline.x >> values the example uses.
	Pipeline map[string]string
	// Common arguments override the example's for every job (binary_path);
	// PerJob ones for the orb job named (smoke-test: connect_to).
	Common map[string]any
	PerJob map[string]map[string]any
	// Stdout and Stderr receive every job's output.
	Stdout, Stderr io.Writer
}

// JobRun is one job of an example and what became of it.
type JobRun struct {
	Invocation
	Dir    string // the job's working directory
	Result *Result
	Err    error
}

// RunExample runs the orb jobs of an example in workflow order, chained
// through one workspace, as CircleCI would run the workflow. It stops at the
// first job that fails (the jobs that require it would not run) and returns
// the runs so far with that job's error.
func (o *Orb) RunExample(ctx context.Context, example string, opts ExampleOptions) ([]JobRun, error) {
	if opts.Root == "" {
		return nil, fmt.Errorf("run example %s: ExampleOptions.Root is required", example)
	}
	invs, err := o.ExampleJobs(example, opts.Pipeline)
	if err != nil {
		return nil, err
	}
	workspace := filepath.Join(opts.Root, "workspace")
	var runs []JobRun
	for i, inv := range invs {
		base := filepath.Join(opts.Root, fmt.Sprintf("%02d-%s", i+1, strings.ReplaceAll(inv.Name, "/", "_")))
		dir, home := filepath.Join(base, "project"), filepath.Join(base, "home")
		for _, d := range []string{dir, home, workspace} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return runs, fmt.Errorf("run example %s: %w", example, err)
			}
		}
		args := map[string]any{}
		maps.Copy(args, opts.Common)
		maps.Copy(args, opts.PerJob[inv.Job])
		env := append(append([]string(nil), opts.Env...), "HOME="+home)
		res, err := o.RunInvocation(ctx, inv, args, Options{
			Dir: dir, Env: env, Workspace: workspace,
			Stdout: opts.Stdout, Stderr: opts.Stderr,
		})
		runs = append(runs, JobRun{Invocation: inv, Dir: dir, Result: res, Err: err})
		if err != nil {
			return runs, fmt.Errorf("run example %s: %w", example, err)
		}
	}
	return runs, nil
}
