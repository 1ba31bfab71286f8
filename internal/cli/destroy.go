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
		&ucli.StringFlag{Name: "stack-dir", Usage: "stack directory written by provision (main.tf, state, stack.json); or give the same flags as provision", EnvVars: envVars("stack-dir")},
	}, provisionFlags()...)
	return &ucli.Command{
		Name:  "destroy",
		Usage: "tear the stack down and show that nothing was left behind",
		Description: "Runs terraform destroy in the stack directory (retrying while AWS drains dependencies), deregisters\n" +
			"the task definition revisions deploy registered, then checks through the AWS APIs that nothing tagged\n" +
			"graviton-cd:stack=<name> remains: anything left is listed and the exit code is 1. A second destroy\n" +
			"exits 0 and says there was nothing left.",
		Flags: flags,
		Action: func(c *ucli.Context) error {
			env, err := newRunEnv(c)
			if err != nil {
				return err
			}
			p, module, err := destroyTarget(c, env)
			if err != nil {
				return err
			}
			return destroy(c.Context, env, p, module, stack.Deps{})
		},
	}
}

// destroyTarget resolves what to destroy: a stack directory provision wrote,
// or a stack described by provision's flags (its module is rendered again).
func destroyTarget(c *ucli.Context, env *runEnv) (config.Provision, []byte, error) {
	in := provisionInput(c, env)
	dir := c.String("stack-dir")
	if dir == "" {
		p, err := config.ValidateProvision(in)
		if err != nil {
			return p, nil, err
		}
		module, err := hclgen.RenderRootModule(p)
		return p, module, err
	}
	if d := c.String("dir"); c.IsSet("dir") && d != "" && filepath.Clean(d) != filepath.Clean(dir) {
		return config.Provision{}, nil, config.Usagef("stack-dir", "%s conflicts with --dir %s: give one stack directory", dir, d)
	}
	if fi, err := os.Stat(filepath.Join(dir, hclgen.ModuleFile)); err != nil || fi.IsDir() {
		return config.Provision{}, nil, config.Usagef("stack-dir", "%s holds no %s: point it at the directory provision wrote (attach the workspace first), or give provision's flags", dir, hclgen.ModuleFile)
	}
	s, err := stack.ReadSettings(dir)
	if err != nil {
		// A stack directory from before stack.json: outputs.json names it.
		o, oerr := stack.ReadOutputs(dir)
		if oerr != nil || o.StackName == "" {
			return config.Provision{}, nil, err
		}
		s = stack.Settings{Name: o.StackName, Region: o.Region}
	}
	// GRAVITON_CD_NAME may be exported for a whole pipeline: it must agree.
	if in.Name != "" && in.Name != s.Name {
		return config.Provision{}, nil, config.Usagef("name", "%q, but %s holds stack %q: drop --name (GRAVITON_CD_NAME) or point --stack-dir at that stack's directory", in.Name, dir, s.Name)
	}
	p := config.Provision{
		Name: s.Name, Region: s.Region, Dir: dir, EndpointURL: s.EndpointURL,
		TerraformBinary: in.TerraformBinary, TerraformVersion: in.TerraformVersion,
		ForceUnlock: in.Unlock, Timeout: in.Timeout,
	}
	if env.region != "" {
		p.Region = env.region
	}
	if in.EndpointURL != "" {
		p.EndpointURL = in.EndpointURL
	}
	p, err = config.ValidateStackDirDestroy(p)
	return p, nil, err
}

// destroy runs stack.Destroy and prints its result; with --output json
// also when resources were left behind.
func destroy(ctx context.Context, env *runEnv, p config.Provision, module []byte, deps stack.Deps) error {
	deps.Log = env.log
	res, err := stack.Destroy(ctx, deps, p, module)
	var le *stack.LeftoversError
	if errors.As(err, &le) && env.json {
		_ = env.result("", res)
	}
	if err != nil {
		return err
	}
	return env.result(res.Text(), res)
}
