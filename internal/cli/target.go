package cli

import (
	"cmp"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// verbTarget is the service a debugging verb (logs, rollback, run-task)
// works on, found as deploy finds it.
type verbTarget struct {
	Cluster, Service, Container string
	LogGroup                    string // the stack's log group output, if read
	Region, Endpoint            string
}

// verbTargetFlags are the flags that find the service: --name with the
// state flags, --stack-dir, or --cluster and --service.
func verbTargetFlags() []ucli.Flag {
	str := func(name, usage string) ucli.Flag {
		return &ucli.StringFlag{Name: name, Usage: usage, EnvVars: envVars(name)}
	}
	return append([]ucli.Flag{
		str("cluster", "ECS cluster name or ARN (default: cluster_name of the stack)"),
		str("service", "ECS service name (default: service_name of the stack)"),
		str("stack-dir", "stack directory whose outputs.json (from provision) names cluster, service, log group and region"),
		str("endpoint-url", "AWS endpoint of a local emulator such as moto (default AWS_ENDPOINT_URL)"),
	}, stackRefFlags(false)...)
}

// resolveTarget fills in the service from --stack-dir or --name, explicit
// flags winning, and validates the region and endpoint. With needService a
// missing cluster or service is a usage error that says how to name one.
func resolveTarget(c *ucli.Context, env *runEnv, verb string, needService bool) (verbTarget, error) {
	t := verbTarget{Cluster: c.String("cluster"), Service: c.String("service"), Region: env.region}
	if c.IsSet("container") {
		t.Container = c.String("container")
	}
	if c.String("name") != "" && c.String("stack-dir") != "" {
		return t, config.Usagef("name", "conflicts with --stack-dir: give one way to find the stack")
	}
	if dir := c.String("stack-dir"); dir != "" {
		out, err := stack.ReadOutputs(dir)
		if err != nil {
			return t, err
		}
		t.Cluster, t.Service = cmp.Or(t.Cluster, out.Cluster), cmp.Or(t.Service, out.Service)
		t.Container, t.LogGroup = cmp.Or(t.Container, out.ContainerName), out.LogGroup
		t.Region = cmp.Or(t.Region, out.Region)
	}
	ref, byName, err := stackRef(c, env)
	if err != nil {
		return t, err
	}
	if byName {
		f, err := findStack(c.Context, env, ref)
		if err != nil {
			return t, err
		}
		t.Cluster, t.Service = cmp.Or(t.Cluster, f.Outputs.Cluster), cmp.Or(t.Service, f.Outputs.Service)
		t.Container, t.LogGroup = cmp.Or(t.Container, f.Outputs.ContainerName), f.Outputs.LogGroup
		t.Region = cmp.Or(t.Region, f.Outputs.Region, ref.Region)
	}
	if err := awsx.Region(t.Region); err != nil {
		return t, err
	}
	if needService && (t.Cluster == "" || t.Service == "") {
		return t, config.Usagef("", "%s needs a service: pass --name <stack> (with --region), --stack-dir <provision's --dir>, or --cluster and --service", verb)
	}
	if t.Endpoint = c.String("endpoint-url"); t.Endpoint != "" {
		if err := config.CheckEndpoint(t.Endpoint); err != nil {
			return t, err
		}
	}
	return t, nil
}
