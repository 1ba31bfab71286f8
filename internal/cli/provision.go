package cli

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/atomicfile"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/progress"
	"github.com/graviton-cd/graviton-cd/internal/stack"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

// planFile is the saved plan provision leaves in the stack directory beside
// main.tf, the state, stack.json and outputs.json.
const planFile = "tfplan"

func provisionCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "provision",
		Usage: "render and apply the Terraform root module for an ECS cluster on Graviton EC2",
		Description: "Renders <dir>/main.tf (VPC or existing subnets, launch template, ASG, capacity provider, ECS cluster,\n" +
			"service behind an ALB, IAM, logs), runs terraform init, plan and apply, and writes <dir>/outputs.json\n" +
			"for deploy, smoke-test and destroy (--stack-dir <dir>). Nothing is written when an input is bad (exit 2).\n\n" +
			"awsvpc (default) gives each task its own ENI: a t4g.small carries one task per instance (it has\n" +
			"two ENIs, one for the instance); size --max-size or --instance-type for --desired-count.",
		Flags: provisionFlags(),
		Action: func(c *ucli.Context) error {
			env, err := newRunEnv(c)
			if err != nil {
				return err
			}
			p, err := config.ValidateProvision(provisionInput(c, env))
			if err != nil {
				return err
			}
			return runProvision(c.Context, env, p, terraform.Locator{})
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
	return []ucli.Flag{
		str("name", "", "stack name: 1-20 lowercase letters, digits, hyphens, starting with a letter; prefixes every resource and the graviton-cd:stack tag"),
		str("dir", "graviton-cd-stack", "stack directory: rendered module, plan, local state, outputs.json"),
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
		str("tags", "", "extra tags on every resource: k=v,k2=v2"),
		str("state-backend", config.BackendLocal, "where Terraform keeps state: local (in --dir) or s3"),
		str("state-bucket", "", "S3 bucket for --state-backend s3"),
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
	return config.ProvisionInput{
		Name: str("name"), Region: region, Dir: str("dir"),
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
		Tags:             str("tags"),
		StateBackend:     str("state-backend"), StateBucket: str("state-bucket"),
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

// provisionResult is the --output json summary.
type provisionResult struct {
	Stack   string         `json:"stack"`
	Dir     string         `json:"dir"`
	Mode    string         `json:"mode"` // render-only, plan-only, apply
	Plan    *planResult    `json:"plan,omitempty"`
	Outputs *stack.Outputs `json:"outputs,omitempty"`
}

type planResult struct {
	Add     int      `json:"add"`
	Change  int      `json:"change"`
	Destroy int      `json:"destroy"`
	Changes []string `json:"changes"`
}

func runProvision(ctx context.Context, env *runEnv, p config.Provision, loc terraform.Locator) error {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	log := env.log

	module, err := hclgen.RenderRootModule(p)
	if err != nil {
		return err
	}
	res := provisionResult{Stack: p.Name, Dir: p.Dir, Mode: "apply"}
	if p.RenderOnly {
		if err := writeStackDir(p, module); err != nil {
			return err
		}
		res.Mode = "render-only"
		log.Printf("rendered %s for stack %s; nothing was run (--render-only)", filepath.Join(p.Dir, hclgen.ModuleFile), p.Name)
		return env.result(fmt.Sprintf("rendered stack %s into %s", p.Name, p.Dir), res)
	}

	r, err := prepareTerraform(ctx, log, p, loc)
	if err != nil {
		return err
	}
	if err := writeStackDir(p, module); err != nil {
		return err
	}
	if err := initTerraform(ctx, log, r, p); err != nil {
		return err
	}

	plan, err := filepath.Abs(filepath.Join(p.Dir, planFile))
	if err != nil {
		return fmt.Errorf("locate plan file: %w", err)
	}
	log.Printf("planning stack %s", p.Name)
	sum, err := r.Plan(ctx, plan)
	if err != nil {
		return err
	}
	for _, ch := range sum.Changes {
		log.Printf("plan: %s", ch)
	}
	log.Printf("%s", sum)
	res.Plan = &planResult{Add: sum.Add, Change: sum.Change, Destroy: sum.Destroy, Changes: nonNil(sum.Changes)}
	if p.PlanOnly {
		res.Mode = "plan-only"
		log.Printf("plan kept at %s; nothing was applied (--plan-only)", plan)
		return env.result(fmt.Sprintf("planned stack %s: %s (plan file %s)", p.Name, sum, plan), res)
	}

	switch {
	case sum.NoChanges() && sum.OutputChanges == 0:
		// Nothing to apply: the outputs in state are current.
		log.Printf("no changes: the stack already matches the module")
	default:
		log.Printf("applying %s", sum)
		if err := r.Apply(ctx, plan); err != nil {
			return err
		}
	}
	outs, err := r.Outputs(ctx)
	if err != nil {
		return err
	}
	o := outputsFrom(outs)
	if err := stack.WriteOutputs(p.Dir, o); err != nil {
		return err
	}
	log.Printf("wrote %s", filepath.Join(p.Dir, stack.OutputsFile))
	res.Outputs = &o
	return env.result(fmt.Sprintf("provisioned stack %s: %s (%s)", p.Name, o.URL, sum), res)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// prepareTerraform finds (or installs) the CLI and opens a Runner on dir.
func prepareTerraform(ctx context.Context, log *progress.Logger, p config.Provision, loc terraform.Locator) (*terraform.Exec, error) {
	loc.Binary, loc.Version, loc.Log = p.TerraformBinary, p.TerraformVersion, log
	if loc.CacheDir == "" {
		loc.CacheDir = terraform.DefaultCacheDir()
	}
	bin, err := loc.Locate(ctx)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create stack directory %s: %w", p.Dir, err)
	}
	r, err := terraform.NewExec(p.Dir, bin, log)
	if err != nil {
		return nil, err
	}
	log.Printf("using %s in %s", bin, p.Dir)
	if p.EndpointURL != "" {
		log.Printf("AWS endpoint %s (local emulator settings on)", p.EndpointURL)
	}
	return r, nil
}

// initTerraform runs init and, when asked, releases a dead run's lock.
func initTerraform(ctx context.Context, log *progress.Logger, r terraform.Runner, p config.Provision) error {
	log.Printf("terraform init")
	if err := r.Init(ctx); err != nil {
		return err
	}
	if p.ForceUnlock != "" {
		log.Printf("releasing state lock %s (--force-unlock)", p.ForceUnlock)
		if err := r.ForceUnlock(ctx, p.ForceUnlock); err != nil {
			return err
		}
	}
	return nil
}

// writeStackDir writes main.tf and stack.json, each atomically.
func writeStackDir(p config.Provision, module []byte) error {
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return fmt.Errorf("create stack directory %s: %w", p.Dir, err)
	}
	if err := atomicfile.Write(filepath.Join(p.Dir, hclgen.ModuleFile), module, 0o644); err != nil {
		return err
	}
	return stack.WriteSettings(p.Dir, stack.Settings{Name: p.Name, Region: p.Region, EndpointURL: p.EndpointURL, TerraformVersion: p.TerraformVersion})
}

// outputsFrom maps the module's outputs onto stack.Outputs.
func outputsFrom(m map[string]string) stack.Outputs {
	return stack.Outputs{
		StackName:     m[hclgen.OutputStackName],
		Region:        m[hclgen.OutputRegion],
		Cluster:       m[hclgen.OutputClusterName],
		Service:       m[hclgen.OutputServiceName],
		ContainerName: m[hclgen.OutputContainerName],
		TaskFamily:    m[hclgen.OutputTaskFamily],
		ALBDNSName:    m[hclgen.OutputALBDNSName],
		URL:           m[hclgen.OutputURL],
		LogGroup:      m[hclgen.OutputLogGroup],
	}
}

// joinLines indents a list for a multi-line error message.
func joinLines(items []string) string {
	return "\n  " + strings.Join(items, "\n  ")
}
