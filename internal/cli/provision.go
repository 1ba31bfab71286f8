package cli

import (
	"cmp"
	"context"
	"os"
	"path/filepath"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/ownership"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

func provisionCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "provision",
		Usage: "render and apply the Terraform root module for an ECS cluster on Graviton EC2",
		Description: "Renders <dir>/main.tf (VPC or existing subnets, launch template, ASG, capacity provider, ECS cluster,\n" +
			"service behind an ALB, IAM, logs), runs terraform init, plan and apply, and writes <dir>/outputs.json.\n" +
			"State lives in S3 by default (bucket graviton-cd-state-<account>-<region>, created on first use), so\n" +
			"deploy, smoke-test, status and destroy find the stack by --name alone. Nothing is written when an\n" +
			"input is bad (exit 2); a name already taken outside the stack's state is refused before anything runs.\n\n" +
			"awsvpc (default) gives each task its own ENI: a t4g.small (3 ENIs, one for the instance) carries two\n" +
			"tasks; provision checks that --max-size instances fit --desired-count plus one for a rolling deploy.",
		Flags: append(provisionFlags(),
			&ucli.StringFlag{Name: "stack-dir", Usage: "the same as --dir", EnvVars: envVars("stack-dir")},
			&ucli.BoolFlag{Name: "ephemeral", Usage: "record that the stack is throwaway (review app, per-branch stack): only such a stack may be destroyed by destroy --only-if-ephemeral", EnvVars: envVars("ephemeral")},
		),
		Action: func(c *ucli.Context) error {
			env, err := newRunEnv(c)
			if err != nil {
				return err
			}
			in := provisionInput(c, env)
			if sd := c.String("stack-dir"); sd != "" {
				if c.String("dir") != "" && filepath.Clean(c.String("dir")) != filepath.Clean(sd) {
					return config.Usagef("stack-dir", "%s conflicts with --dir %s: give one stack directory", sd, c.String("dir"))
				}
				in.Dir = sd
			}
			p, err := config.ValidateProvision(in)
			if err != nil {
				return err
			}
			p.Ephemeral = c.Bool("ephemeral")
			return provision(c.Context, env, p, stack.Deps{BeforePlan: checkOwnership(env.aws)})
		},
	}
}

// provisionFlags are provision's flags; destroy takes them too, so that it
// can work without a stack directory.
func provisionFlags() []ucli.Flag {
	str := func(name, value, usage string) ucli.Flag {
		return &ucli.StringFlag{Name: name, Value: value, Usage: usage, EnvVars: envVars(name)}
	}
	num := func(name string, value int, usage string) ucli.Flag {
		return &ucli.IntFlag{Name: name, Value: value, Usage: usage, EnvVars: envVars(name)}
	}
	boolean := func(name, usage string) ucli.Flag {
		return &ucli.BoolFlag{Name: name, Usage: usage, EnvVars: envVars(name)}
	}
	list := func(name, usage string) ucli.Flag {
		return &ucli.StringSliceFlag{Name: name, Usage: usage, EnvVars: envVars(name)}
	}
	return []ucli.Flag{
		str("name", "", "stack name: 3-20 lowercase letters, digits, hyphens, starting with a letter; prefixes every resource and the graviton-cd:stack tag"),
		str("dir", "", "stack directory, a cache of the rendered module, plan and outputs.json (and the state with --state-backend local); default graviton-cd-stack/<name>"),
		str("instance-type", config.DefaultInstanceType, "Graviton (arm64) EC2 instance type"),
		num("min-size", 1, "minimum instances in the Auto Scaling group"),
		num("max-size", 2, "maximum instances in the Auto Scaling group"),
		num("desired-capacity", 1, "initial instances (ECS managed scaling takes over)"),
		str("vpc-cidr", config.DefaultVPCCIDR, "CIDR block of a new VPC with two public subnets (/16 to /24)"),
		boolean("private-subnets", "new VPC: instances and tasks in two private subnets behind one NAT gateway (hourly and per-GB cost), the load balancer in the public ones"),
		str("vpc-id", "", "existing VPC; with --subnet-ids instead of a new VPC"),
		str("subnet-ids", "", "existing subnets for instances and tasks, comma separated, in two or more availability zones"),
		str("alb-subnet-ids", "", "existing public subnets (a route to an internet gateway) for the load balancer, two or more AZs (default --subnet-ids)"),
		str("image", config.DefaultImage, "initial container image (arm64 or multi-arch)"),
		str("container-name", config.DefaultContainerName, "container name in the task definition"),
		num("container-port", config.DefaultContainerPort, "port the container listens on"),
		num("desired-count", 1, "tasks the service runs"),
		num("cpu", config.DefaultCPU, "task CPU units (1024 = 1 vCPU)"),
		num("memory", config.DefaultMemory, "task memory in MiB"),
		str("health-check-path", config.DefaultHealthCheckPath, "load balancer health check path"),
		str("network-mode", config.NetworkModeAWSVPC, "task network mode: awsvpc (an ENI per task; proven on the local stack) or bridge (dynamic host ports; moto crashes the provider, so unproven locally)"),
		num("log-retention-days", config.DefaultLogRetentionDays, "CloudWatch Logs retention of the tasks' logs"),
		list("env", "container environment variable KEY=VALUE; repeatable (a piece without = after a comma continues the value)"),
		list("secret", "container secret NAME=ARN of an SSM parameter or Secrets Manager secret in the stack's region and account (never the value); the execution role may read exactly these; repeatable"),
		str("secrets-kms-key-arn", "", "KMS key ARN (key/..., not an alias) the secrets are encrypted with, when not the AWS managed key: the execution role gets kms:Decrypt on it"),
		list("task-role-policy-arn", "IAM managed policy ARN (AWS or customer) attached to a task role for the app's own AWS calls; repeatable"),
		str("certificate-arn", "", "ACM certificate ARN in the stack's region: HTTPS on 443 (TLS 1.3 policy), port 80 redirects to it"),
		str("domain", "", "the app's DNS name (app.example.com): the url output uses it"),
		str("hosted-zone-id", "", "Route 53 hosted zone of --domain: creates an alias A record to the load balancer"),
		boolean("enable-exec", "ECS Exec into the tasks (aws ecs execute-command): the service allows it and the task role gets the Session Manager channel actions"),
		num("max-count", 0, "turn on service auto scaling on average CPU, up to this many tasks (0: off); the desired count then belongs to auto scaling"),
		&ucli.IntFlag{Name: "min-count", Usage: "auto scaling's least tasks (with --max-count)", DefaultText: "--desired-count", EnvVars: envVars("min-count")},
		num("cpu-target", config.DefaultCPUTarget, "auto scaling's target: the tasks' average CPU percent (with --max-count)"),
		str("tags", "", "extra tags on every resource: k=v,k2=v2"),
		str("state-backend", config.BackendS3, "where Terraform keeps state: s3 (found by --name from any job) or local (in --dir; throwaway stacks only)"),
		str("state-bucket", "", "S3 bucket of the state (default graviton-cd-state-<account>-<region>, created versioned, encrypted, private and TLS-only on first use)"),
		str("state-key", "", "S3 object key of the state (default graviton-cd/<name>/terraform.tfstate)"),
		str("state-region", "", "region of the state bucket (default --region)"),
		boolean("render-only", "write the module and run nothing"),
		boolean("plan-only", "plan, print a summary and keep the plan file; apply nothing"),
		str("terraform-binary", "", "terraform or tofu to run (default: terraform on PATH, else tofu, else install --terraform-version)"),
		str("terraform-version", config.DefaultTerraformVersion, "Terraform installed (signature verified) when neither terraform nor tofu is on PATH"),
		str("endpoint-url", "", "AWS endpoint of a local emulator such as moto (default AWS_ENDPOINT_URL)"),
		str("force-unlock", "", "release this state lock ID first (only when its holder is known to be dead)"),
		&ucli.DurationFlag{Name: "timeout", Value: config.DefaultProvisionTimeout, Usage: "deadline for the whole command", EnvVars: envVars("timeout")},
	}
}

// provisionInput collects the raw flags. Region and endpoint fall back to the
// standard AWS variables.
func provisionInput(c *ucli.Context, env *runEnv) config.ProvisionInput {
	region := cmp.Or(env.region, os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	// Empty means "not given", whether typed or passed by the orb as an
	// unused parameter: fall back to the flag's default.
	defaults := stringFlagDefaults()
	str := func(name string) string { return cmp.Or(c.String(name), defaults[name]) }
	endpoint := cmp.Or(str("endpoint-url"), os.Getenv("AWS_ENDPOINT_URL"))
	vpcCIDR := ""
	if c.IsSet("vpc-cidr") {
		vpcCIDR = c.String("vpc-cidr")
	}
	var minCount *int // not given: the desired count
	if c.IsSet("min-count") {
		n := c.Int("min-count")
		minCount = &n
	}
	return config.ProvisionInput{
		Name: str("name"), Region: region, Dir: cmp.Or(str("dir"), stack.DefaultDir(str("name"))),
		InstanceType: str("instance-type"),
		MinSize:      c.Int("min-size"), MaxSize: c.Int("max-size"), DesiredCapacity: c.Int("desired-capacity"),
		// Only a given --vpc-cidr conflicts with --vpc-id: not its default, and
		// not the empty value an orb passes for an unused parameter.
		VPCCIDR: vpcCIDR, PrivateSubnets: c.Bool("private-subnets"),
		VPCID: str("vpc-id"), SubnetIDs: str("subnet-ids"), ALBSubnetIDs: str("alb-subnet-ids"),
		Image: str("image"), ContainerName: str("container-name"),
		ContainerPort: c.Int("container-port"), DesiredCount: c.Int("desired-count"),
		CPU: c.Int("cpu"), Memory: c.Int("memory"),
		HealthCheckPath: str("health-check-path"), NetworkMode: str("network-mode"),
		LogRetentionDays: c.Int("log-retention-days"),
		Env:              c.StringSlice("env"), Secrets: c.StringSlice("secret"),
		SecretsKMSKeyARN:   str("secrets-kms-key-arn"),
		TaskRolePolicyARNs: c.StringSlice("task-role-policy-arn"),
		CertificateARN:     str("certificate-arn"), Domain: str("domain"), HostedZoneID: str("hosted-zone-id"),
		EnableExec: c.Bool("enable-exec"),
		MinCount:   minCount, MaxCount: c.Int("max-count"), CPUTarget: c.Int("cpu-target"),
		Tags:         str("tags"),
		StateBackend: str("state-backend"), StateBucket: str("state-bucket"),
		StateKey: str("state-key"), StateRegion: str("state-region"),
		RenderOnly: c.Bool("render-only"), PlanOnly: c.Bool("plan-only"),
		TerraformBinary: str("terraform-binary"), TerraformVersion: str("terraform-version"),
		EndpointURL: endpoint, Unlock: str("force-unlock"),
		Timeout: c.Duration("timeout"),
	}
}

// stringFlagDefaults maps provision's string flags to their defaults. It reads
// a fresh flag list: urfave/cli overwrites a flag's Value with its environment
// variable, even an empty one.
func stringFlagDefaults() map[string]string {
	m := map[string]string{}
	for _, f := range provisionFlags() {
		if sf, ok := f.(*ucli.StringFlag); ok {
			m[sf.Name] = sf.Value
		}
	}
	return m
}

// checkOwnership is provision's BeforePlan: names outside the state that are
// not the stack's stop it (exit 2); its own orphans are imported. It uses the
// provision's AWS configuration rather than loading its own.
func checkOwnership(aws *sharedAWSConfig) func(context.Context, config.Provision, map[string]string) ([]stack.Import, error) {
	return func(ctx context.Context, p config.Provision, inState map[string]string) ([]stack.Import, error) {
		found, err := ownership.Guard{AWS: aws.Load}.BeforePlan(ctx, p, inState)
		imports := make([]stack.Import, len(found))
		for i, im := range found {
			imports[i] = stack.Import{Address: im.Address, ID: im.ID}
		}
		return imports, err
	}
}

// provision runs stack.Provision and prints its result.
func provision(ctx context.Context, env *runEnv, p config.Provision, deps stack.Deps) error {
	deps.Log, deps.AWS = env.log, env.aws.Load
	res, err := stack.Provision(ctx, deps, p)
	if err != nil {
		return err
	}
	return env.result(res.Text(), newProvisionResult(res))
}
