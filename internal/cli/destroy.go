package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

func destroyCommand() *ucli.Command {
	flags := append([]ucli.Flag{
		&ucli.StringFlag{Name: "stack-dir", Usage: "stack directory written by provision (main.tf, stack.json); or give --name (and the state flags when not the defaults)", EnvVars: envVars("stack-dir")},
		&ucli.BoolFlag{Name: "only-if-ephemeral", Usage: "destroy only a stack provisioned with --ephemeral; any other stack is left as it is (exit 0, says why)", EnvVars: envVars("only-if-ephemeral")},
	}, provisionFlags()...)
	return &ucli.Command{
		Name:  "destroy",
		Usage: "tear down what the stack's state holds, and show that nothing was left behind",
		Description: "Finds the stack by --name (its state in S3, or --state-backend local in --dir) or by --stack-dir, runs\n" +
			"terraform destroy (retrying while AWS drains dependencies), terminates the instances of the Auto Scaling\n" +
			"group and deregisters the task definition revisions of the service that this destroy removed, then\n" +
			"checks through the AWS APIs that nothing tagged graviton-cd:stack=<name> remains: anything left is\n" +
			"listed and the exit code is 1. A second destroy exits 0 and says there was nothing left.\n\n" +
			"Ownership is proven by the state: with an empty or missing state destroy changes nothing, lists what\n" +
			"it finds tagged with the stack as not owned by this state, and exits 1.",
		Flags: flags,
		Action: func(c *ucli.Context) error {
			env, err := newRunEnv(c)
			if err != nil {
				return err
			}
			req, err := destroyTarget(c, env)
			if err != nil {
				return err
			}
			req.OnlyIfEphemeral = c.Bool("only-if-ephemeral")
			return destroy(c.Context, env, req, stack.Deps{})
		},
	}
}

// destroyTarget resolves what to destroy: a stack directory provision wrote,
// or a stack named by --name (its module is rendered again into the cache
// directory, from provision's flags).
func destroyTarget(c *ucli.Context, env *runEnv) (stack.DestroyRequest, error) {
	in := provisionInput(c, env)
	dir := c.String("stack-dir")
	if dir == "" {
		p, err := config.ValidateProvision(in)
		return stack.DestroyRequest{Provision: p, Render: true}, err
	}
	if d := c.String("dir"); c.IsSet("dir") && d != "" && filepath.Clean(d) != filepath.Clean(dir) {
		return stack.DestroyRequest{}, config.Usagef("stack-dir", "%s conflicts with --dir %s: give one stack directory", dir, d)
	}
	if fi, err := os.Stat(filepath.Join(dir, hclgen.ModuleFile)); err != nil || fi.IsDir() {
		return stack.DestroyRequest{}, config.Usagef("stack-dir", "%s holds no %s: point it at the directory provision wrote (attach the workspace first), or give --name", dir, hclgen.ModuleFile)
	}
	s, err := stack.ReadSettings(dir)
	if err != nil {
		// A stack directory from before stack.json: outputs.json names it.
		o, oerr := stack.ReadOutputs(dir)
		if oerr != nil || o.StackName == "" {
			return stack.DestroyRequest{}, err
		}
		s = stack.Settings{Name: o.StackName, Region: o.Region}
	}
	// GRAVITON_CD_NAME may be exported for a whole pipeline: it must agree.
	if in.Name != "" && in.Name != s.Name {
		return stack.DestroyRequest{}, config.Usagef("name", "%q, but %s holds stack %q: drop --name (GRAVITON_CD_NAME) or point --stack-dir at that stack's directory", in.Name, dir, s.Name)
	}
	p := config.Provision{
		Name: s.Name, Region: s.Region, Dir: dir, EndpointURL: s.EndpointURL,
		State:           s.State.StateBackend(),
		TerraformBinary: in.TerraformBinary, TerraformVersion: in.TerraformVersion,
		ForceUnlock: in.Unlock, Timeout: in.Timeout,
	}
	// The CLI provision ran, unless told otherwise and while it is there.
	if p.TerraformBinary == "" && s.TerraformBinary != "" {
		if _, err := os.Stat(s.TerraformBinary); err == nil {
			p.TerraformBinary = s.TerraformBinary
		}
	}
	if env.region != "" {
		p.Region = env.region
	}
	if in.EndpointURL != "" {
		p.EndpointURL = in.EndpointURL
	}
	p, err = config.ValidateStackDirDestroy(p)
	return stack.DestroyRequest{Provision: p}, err
}

// destroy runs stack.Destroy and prints its result; with --output json
// also when it failed after finding what it reports.
func destroy(ctx context.Context, env *runEnv, req stack.DestroyRequest, deps stack.Deps) error {
	deps.Log, deps.AWS = env.log, env.aws.Load
	res, err := stack.Destroy(ctx, deps, req)
	var le *stack.LeftoversError
	var no *stack.NotOwnedError
	if errors.As(err, &le) || errors.As(err, &no) {
		env.setResult(newDestroyResult(res))
	}
	if err != nil {
		return err
	}
	return env.result(res.Text(), newDestroyResult(res))
}
