package cli

import (
	"cmp"
	"errors"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

func statusCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "status",
		Usage: "show a stack's service: deployments, running and stopped tasks, target health, last events",
		Description: "Read only. Finds the stack by --name (its outputs read from its state; no terraform needed) or by\n" +
			"--stack-dir, then describes its ECS service: each deployment (state, counts, task definition, image),\n" +
			"running and recently stopped tasks with their reasons, the health of the load balancer's targets and\n" +
			"the last service events.\n\n" +
			"Exit 0 when the service is steady (ACTIVE, one deployment that COMPLETED, as many tasks running as\n" +
			"desired, every target healthy), 1 when it is not (the reasons are listed), 2 on bad input.",
		Flags: append([]ucli.Flag{
			&ucli.StringFlag{Name: "stack-dir", Usage: "stack directory whose outputs.json (from provision) names the service", EnvVars: envVars("stack-dir")},
			&ucli.IntFlag{Name: "events", Value: 10, Usage: "how many of the last service events to show", EnvVars: envVars("events")},
			&ucli.IntFlag{Name: "stopped", Value: 5, Usage: "how many recently stopped tasks to show", EnvVars: envVars("stopped")},
		}, stackRefFlags(true)...),
		Action: func(c *ucli.Context) error {
			env, err := newRunEnv(c)
			if err != nil {
				return err
			}
			req, region, endpoint, err := statusTarget(c, env)
			if err != nil {
				return err
			}
			cfg, err := env.aws.Load(c.Context, awsx.Options{Region: region, EndpointURL: endpoint})
			if err != nil {
				return err
			}
			rep, err := stack.Status(c.Context, awsx.NewECS(cfg), awsx.NewELB(cfg), req)
			var ns *stack.NotSteadyError
			if err != nil && !errors.As(err, &ns) {
				return err
			}
			if perr := env.result(rep.Text(), newStatusResult(rep)); perr != nil {
				return perr
			}
			return err
		},
	}
}

// statusTarget finds the stack's outputs from --name or --stack-dir.
func statusTarget(c *ucli.Context, env *runEnv) (stack.StatusRequest, string, string, error) {
	req := stack.StatusRequest{Events: c.Int("events"), Stopped: c.Int("stopped")}
	if req.Events < 0 || req.Stopped < 0 {
		return req, "", "", config.Usagef("events", "--events and --stopped take 0 or more")
	}
	endpoint := c.String("endpoint-url")
	if endpoint != "" {
		if err := config.CheckEndpoint(endpoint); err != nil {
			return req, "", "", err
		}
	}
	ref, byName, err := stackRef(c, env)
	if err != nil {
		return req, "", "", err
	}
	dir := c.String("stack-dir")
	switch {
	case byName && dir != "":
		return req, "", "", config.Usagef("name", "conflicts with --stack-dir: give one way to find the stack")
	case byName:
		f, err := findStack(c.Context, env, ref)
		if err != nil {
			return req, "", "", err
		}
		req.Stack, req.Outputs = ref.Name, f.Outputs
		return req, cmp.Or(env.region, f.Outputs.Region, ref.Region), ref.EndpointURL, nil
	case dir != "":
		o, err := stack.ReadOutputs(dir)
		if err != nil {
			return req, "", "", err
		}
		req.Stack, req.Outputs = o.StackName, o
		return req, cmp.Or(env.region, o.Region), endpoint, nil
	}
	return req, "", "", config.Usagef("name", "status needs a stack: give --name <stack> (with --region), or --stack-dir <provision's --dir>")
}
