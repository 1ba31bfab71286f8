package cli

import (
	"cmp"
	"context"
	"os"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// stackRefFlags find a stack by name for deploy, smoke-test and status: the
// flags provision and destroy share (they are provision's own there).
func stackRefFlags(withEndpoint bool) []ucli.Flag {
	str := func(name, usage string) ucli.Flag {
		return &ucli.StringFlag{Name: name, Usage: usage, EnvVars: envVars(name)}
	}
	flags := []ucli.Flag{
		str("name", "stack name given to provision: read the stack's outputs from its state (with --region, and the state flags when not the defaults)"),
		str("state-backend", "where the stack's state is: s3 (default) or local (in --dir)"),
		str("state-bucket", "S3 bucket of the state (default graviton-cd-state-<account>-<region>)"),
		str("state-key", "S3 object key of the state (default graviton-cd/<name>/terraform.tfstate)"),
		str("state-region", "region of the state bucket (default --region)"),
		str("dir", "with --state-backend local: the stack directory (default graviton-cd-stack/<name>)"),
	}
	if withEndpoint {
		flags = append(flags, str("endpoint-url", "AWS endpoint of a local emulator such as moto (default AWS_ENDPOINT_URL)"))
	}
	return flags
}

// stackRef validates --name and the state flags; ok is false when no
// --name was given.
func stackRef(c *ucli.Context, env *runEnv) (ref stack.Ref, ok bool, err error) {
	name := c.String("name")
	if name == "" {
		return ref, false, nil
	}
	in := config.ProvisionInput{
		Name:         name,
		Region:       cmp.Or(env.region, os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")),
		EndpointURL:  cmp.Or(c.String("endpoint-url"), os.Getenv("AWS_ENDPOINT_URL")),
		StateBackend: c.String("state-backend"), StateBucket: c.String("state-bucket"),
		StateKey: c.String("state-key"), StateRegion: c.String("state-region"),
	}
	sb, err := config.ValidateStackRef(in)
	if err != nil {
		return ref, true, err
	}
	return stack.Ref{
		Name: name, Region: in.Region, EndpointURL: in.EndpointURL, State: sb,
		Dir: cmp.Or(c.String("dir"), stack.DefaultDir(name)),
	}, true, nil
}

// findStack reads the outputs of the stack --name names from its state.
func findStack(ctx context.Context, env *runEnv, ref stack.Ref) (stack.Found, error) {
	f, err := stack.Find(ctx, stack.Deps{Log: env.log, AWS: env.aws.Load}, ref)
	if err != nil {
		return f, err
	}
	env.log.Printf("stack %s found in %s", ref.Name, f.Where)
	return f, nil
}
