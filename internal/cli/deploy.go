package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy"
	"github.com/graviton-cd/graviton-cd/internal/imagecheck"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// defaultDeployTimeout is how long deploy follows a deployment by default.
const defaultDeployTimeout = 15 * time.Minute

func deployCommand() *ucli.Command {
	str := func(name, usage string) ucli.Flag {
		return &ucli.StringFlag{Name: name, Usage: usage, EnvVars: envVars(name)}
	}
	boolean := func(name string, value bool, usage string) ucli.Flag {
		return &ucli.BoolFlag{Name: name, Value: value, Usage: usage, EnvVars: envVars(name)}
	}
	return &ucli.Command{
		Name:  "deploy",
		Usage: "register a new task definition revision with a new image and follow that deployment to a verdict",
		Description: "Describes the service, checks that the image has a linux/arm64 variant, registers a revision that\n" +
			"changes only the container's image (runtimePlatform, other containers, environment, secrets, volumes,\n" +
			"roles, cpu/memory and tags carried over; --env and --secret replace the container's environment and\n" +
			"secrets, --cpu, --memory and --container-port its size and port; graviton-cd.hcl's container settings\n" +
			"arrive as these flags), updates the service and follows the deployment it started\n" +
			"until it is COMPLETED (exit 0), or FAILED, rolled back, gone or out of time (exit 1).\n\n" +
			"--no-wait stops after UpdateService with result \"started\": for emulators such as moto, which never\n" +
			"progress a rollout (the local demo uses it), or for pipelines that check the rollout elsewhere.",
		Flags: append([]ucli.Flag{
			str("cluster", "ECS cluster name or ARN (default: cluster_name from --stack-dir)"),
			str("service", "ECS service name (default: service_name from --stack-dir)"),
			str("container", "container that gets the image (default: container_name from --stack-dir, else the only one)"),
			str("image", "image to deploy; it must have a linux/arm64 variant"),
			str("stack-dir", "stack directory whose outputs.json (from provision) names cluster, service, container and region"),
			&ucli.DurationFlag{Name: "timeout", Value: defaultDeployTimeout, Usage: "how long to follow the deployment (and again a rollback) before calling it failed; 15m grows by a blue/green, canary or linear service's bake and traffic steps", EnvVars: envVars("timeout")},
			boolean("rollback-on-failure", false, "on failure or timeout, update the service back to the previous revision and follow that too"),
			boolean("check-image-arch", true, "refuse an image without a linux/arm64 variant before touching the service"),
			boolean("force-new-deployment", false, "start fresh tasks; without --image, of the current revision"),
			&ucli.IntFlag{Name: "desired-count", Usage: "change the service's desired count with this deployment", DefaultText: "keep it", EnvVars: envVars("desired-count")},
			boolean("no-wait", false, "stop after UpdateService without following the deployment (result \"started\")"),
			boolean("dry-run", false, "print the task definition diff deploy would register and change nothing (exit 0)"),
			&ucli.StringSliceFlag{Name: "env", Usage: "the container's environment KEY=VALUE for the new revision, replacing the current one (default: carried over); repeatable", EnvVars: envVars("env")},
			&ucli.StringSliceFlag{Name: "secret", Usage: "the container's secrets NAME=ARN (SSM parameter or Secrets Manager secret) for the new revision, replacing the current ones (default: carried over); repeatable", EnvVars: envVars("secret")},
			&ucli.IntFlag{Name: "cpu", Usage: "task CPU units for the new revision (1024 = 1 vCPU); 0 carries the current ones over", EnvVars: envVars("cpu")},
			&ucli.IntFlag{Name: "memory", Usage: "task memory in MiB for the new revision; 0 carries the current one over", EnvVars: envVars("memory")},
			&ucli.IntFlag{Name: "container-port", Usage: "the port the container listens on, which must stay the stack's (provision --container-port moves it); 0 carries it over", EnvVars: envVars("container-port")},
			str("endpoint-url", "AWS endpoint of a local emulator such as moto (default AWS_ENDPOINT_URL)"),
		}, append(verifyFlags(), stackRefFlags(false)...)...),
		Action: func(c *ucli.Context) error {
			env, err := newRunEnv(c)
			if err != nil {
				return err
			}
			req, region, endpoint, err := deployRequest(c, env)
			if err != nil {
				return err
			}
			cfg, err := env.aws.Load(c.Context, awsx.Options{Region: region, EndpointURL: endpoint})
			if err != nil {
				return err
			}
			d := newDeployer(cfg, env)
			if c.Bool("dry-run") {
				return runDeployDryRun(c.Context, env, d, req)
			}
			return runDeploy(c.Context, env, d, req)
		},
	}
}

// deployRequest validates deploy's flags, filling in from --stack-dir, before
// anything touches AWS: every bad input is a usage error (exit 2).
func deployRequest(c *ucli.Context, env *runEnv) (ecsdeploy.Request, string, string, error) {
	r := ecsdeploy.Request{
		Cluster: c.String("cluster"), Service: c.String("service"), Container: c.String("container"),
		Image: c.String("image"), Timeout: c.Duration("timeout"),
		RollbackOnFailure: c.Bool("rollback-on-failure"), CheckImageArch: c.Bool("check-image-arch"),
		ForceNewDeployment: c.Bool("force-new-deployment"), NoWait: c.Bool("no-wait"),
		// The default 15m, given or not (the orb passes it), grows by a
		// blue/green, canary or linear service's bake and traffic steps.
		TimeoutSet: c.IsSet("timeout") && c.Duration("timeout") != defaultDeployTimeout,
	}
	stackURL := "" // for --verify-*
	region := env.region
	if c.String("name") != "" && c.String("stack-dir") != "" {
		return r, "", "", config.Usagef("name", "conflicts with --stack-dir: give one way to find the stack")
	}
	if dir := c.String("stack-dir"); dir != "" {
		out, err := stack.ReadOutputs(dir)
		if err != nil {
			return r, "", "", err
		}
		r.Cluster = cmp.Or(r.Cluster, out.Cluster)
		r.Service = cmp.Or(r.Service, out.Service)
		r.Container = cmp.Or(r.Container, out.ContainerName)
		if stackURL = out.URL; stackURL == "" && out.ALBDNSName != "" {
			stackURL = "http://" + out.ALBDNSName
		}
		// The stack lives in its region: a profile's default must not send
		// the deploy elsewhere. --region still wins.
		region = cmp.Or(region, out.Region)
	}
	ref, byName, err := stackRef(c, env)
	if err != nil {
		return r, "", "", err
	}
	if byName {
		f, err := findStack(c.Context, env, ref)
		if err != nil {
			return r, "", "", err
		}
		r.Cluster = cmp.Or(r.Cluster, f.Outputs.Cluster)
		r.Service = cmp.Or(r.Service, f.Outputs.Service)
		r.Container = cmp.Or(r.Container, f.Outputs.ContainerName)
		stackURL = f.Outputs.URL
		region = cmp.Or(region, f.Outputs.Region, ref.Region)
	}
	if err := awsx.Region(region); err != nil {
		return r, "", "", err
	}
	if r.Cluster == "" || r.Service == "" {
		return r, "", "", config.Usagef("", "deploy needs a service: pass --name <stack> (with --region), --stack-dir <provision's --dir>, or --cluster and --service")
	}
	if err := checkECSName("cluster", "cluster", r.Cluster); err != nil {
		return r, "", "", err
	}
	if err := checkECSName("service", "service", r.Service); err != nil {
		return r, "", "", err
	}
	settings, err := deploySettings(c, region)
	if err != nil {
		return r, "", "", err
	}
	r.Settings = settings
	if err := r.Validate(); err != nil {
		return r, "", "", err
	}
	if r.Verify, err = deployVerifier(c, env, stackURL); err != nil {
		return r, "", "", err
	}
	if c.IsSet("desired-count") {
		n := c.Int("desired-count")
		if n < 0 || n > 5000 {
			return r, "", "", config.Usagef("desired-count", "%d is not a task count: use 0 to 5000", n)
		}
		r.DesiredCount = aws.Int32(int32(n))
	}
	endpoint := c.String("endpoint-url")
	if endpoint != "" {
		if err := config.CheckEndpoint(endpoint); err != nil {
			return r, "", "", err
		}
	}
	return r, region, endpoint, nil
}

// deploySettings reads --env, --secret, --cpu, --memory and --container-port
// (graviton-cd.hcl's container settings arrive as these flags): nil when
// none is given (the current revision's are carried over). Blank items,
// which the orb passes for unused parameters, count as not given.
func deploySettings(c *ucli.Context, region string) (*ecsdeploy.ContainerSettings, error) {
	blank := func(items []string) bool { return strings.TrimSpace(strings.Join(items, "")) == "" }
	envItems, secretItems := c.StringSlice("env"), c.StringSlice("secret")
	cpu, memory, port := c.Int("cpu"), c.Int("memory"), c.Int("container-port")
	if blank(envItems) && blank(secretItems) && cpu == 0 && memory == 0 && port == 0 {
		return nil, nil
	}
	s := &ecsdeploy.ContainerSettings{CPU: cpu, Memory: memory, Port: port}
	if !blank(envItems) {
		env, err := config.ParseEnv(envItems)
		if err != nil {
			return nil, err
		}
		s.Env = env
	}
	if !blank(secretItems) {
		secrets, err := config.ParseSecrets(secretItems, region, s.Env)
		if err != nil {
			return nil, err
		}
		s.Secrets = secrets
	}
	return s, nil
}

// newDeployer wires the real AWS clients. Registry credentials come from
// Docker's default keychain, and for ECR registries from the AWS credentials.
func newDeployer(cfg aws.Config, env *runEnv) *ecsdeploy.Deployer {
	ecrFor := func(region string) imagecheck.ECRAPI {
		return awsx.NewECR(cfg, func(o *ecr.Options) { o.Region = region })
	}
	return &ecsdeploy.Deployer{
		ECS:    awsx.NewECS(cfg),
		Logs:   awsx.NewLogs(cfg),
		Images: imagecheck.New(ecrFor),
		Log:    env.log,
	}
}

// deployResult is the --output json summary.
type deployResult struct {
	Cluster                   string  `json:"cluster"`
	Service                   string  `json:"service"`
	DeploymentID              *string `json:"deployment_id"`
	TaskDefinitionARN         *string `json:"task_definition_arn"`
	PreviousTaskDefinitionARN *string `json:"previous_task_definition_arn"`
	Image                     *string `json:"image"`
	Result                    string  `json:"result"`
	RollbackDeploymentID      *string `json:"rollback_deployment_id"`
	Strategy                  *string `json:"strategy"`
	ServiceDeploymentARN      *string `json:"service_deployment_arn"`
	VerificationFailed        bool    `json:"verification_failed"`
	ServiceUpdated            bool    `json:"service_updated"`
	DurationSeconds           float64 `json:"duration_seconds"`
}

// runDeploy deploys and prints the summary. A usage error prints none:
// nothing was changed and the error says what to fix.
func runDeploy(ctx context.Context, env *runEnv, d *ecsdeploy.Deployer, req ecsdeploy.Request) error {
	res, err := d.Deploy(ctx, req)
	if config.IsUsage(err) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		env.log.Printf("interrupted: the service keeps whatever ECS is doing; check it before deploying again")
	}
	out := deployResult{
		Cluster: res.Cluster, Service: res.Service, DeploymentID: nullable(res.DeploymentID),
		TaskDefinitionARN: nullable(res.TaskDefinitionARN), PreviousTaskDefinitionARN: nullable(res.PreviousTaskDefinitionARN),
		Image: nullable(res.Image), Result: res.Outcome, RollbackDeploymentID: nullable(res.RollbackDeploymentID), ServiceUpdated: res.ServiceUpdated,
		Strategy: nullable(res.Strategy), ServiceDeploymentARN: nullable(res.ServiceDeploymentARN), VerificationFailed: res.VerificationFailed,
		DurationSeconds: res.Duration.Round(time.Millisecond).Seconds(),
	}
	if perr := env.result(deploySummary(res), out); perr != nil {
		env.log.Printf("print result: %v", perr)
	}
	return err
}

// deploySummary is the one-line text summary.
func deploySummary(r ecsdeploy.Result) string {
	took := r.Duration.Round(time.Second)
	switch r.Outcome {
	case ecsdeploy.OutcomeSucceeded:
		return fmt.Sprintf("deploy succeeded: service %s runs %s (deployment %s, %s)", r.Service, r.TaskDefinitionARN, r.DeploymentID, took)
	case ecsdeploy.OutcomeStarted:
		dep := "no deployment reported"
		if r.DeploymentID != "" {
			dep = "deployment " + r.DeploymentID
		}
		return fmt.Sprintf("deploy started: service %s is rolling out %s (%s; not followed: --no-wait)", r.Service, r.TaskDefinitionARN, dep)
	case ecsdeploy.OutcomeRolledBack:
		return fmt.Sprintf("deploy failed and was rolled back: service %s runs %s again (deployment %s failed, rollback %s completed, %s)", r.Service, r.PreviousTaskDefinitionARN, r.DeploymentID, r.RollbackDeploymentID, took)
	case ecsdeploy.OutcomeRollbackFailed:
		return fmt.Sprintf("deploy failed and so did the rollback to %s: service %s needs attention (deployment %s, %s)", r.PreviousTaskDefinitionARN, r.Service, r.DeploymentID, took)
	case ecsdeploy.OutcomeTimedOut:
		return fmt.Sprintf("deploy timed out: deployment %s of %s on service %s had no verdict after %s", r.DeploymentID, r.TaskDefinitionARN, r.Service, took)
	}
	if !r.ServiceUpdated && r.PreviousTaskDefinitionARN == "" {
		return fmt.Sprintf("deploy failed before the service was updated: service %s was not changed", r.Service)
	}
	if !r.ServiceUpdated {
		return fmt.Sprintf("deploy failed before the service was updated: service %s still runs %s", r.Service, r.PreviousTaskDefinitionARN)
	}
	if r.DeploymentID == "" {
		return fmt.Sprintf("deploy failed: service %s was updated to %s, but ECS reported no deployment of it to follow", r.Service, r.TaskDefinitionARN)
	}
	return fmt.Sprintf("deploy failed: deployment %s of %s on service %s (%s)", r.DeploymentID, r.TaskDefinitionARN, r.Service, took)
}
