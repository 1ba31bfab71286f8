package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/leftover"
	"github.com/graviton-cd/graviton-cd/internal/stack"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
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
			return runDestroy(c.Context, env, p, module, destroyDeps{})
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

// destroyDeps are the seams tests replace.
type destroyDeps struct {
	locator terraform.Locator
	retry   terraform.DestroyPolicy // zero: the defaults
}

type destroyResult struct {
	Stack            string   `json:"stack"`
	Dir              string   `json:"dir"`
	Destroyed        int      `json:"destroyed"`
	Deregistered     []string `json:"deregistered_task_definitions"`
	Terminated       []string `json:"terminated_instances"`
	Leftovers        []string `json:"leftovers"`
	NothingToDestroy bool     `json:"nothing_to_destroy"`
}

func runDestroy(ctx context.Context, env *runEnv, p config.Provision, module []byte, deps destroyDeps) error {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	log := env.log
	res := destroyResult{Stack: p.Name, Dir: p.Dir, Deregistered: []string{}, Terminated: []string{}, Leftovers: []string{}}

	// Load AWS settings first: a missing region or credentials is a usage
	// error, and must come before terraform touches anything.
	cfg, err := awsx.Load(ctx, awsx.Options{Region: p.Region, EndpointURL: p.EndpointURL})
	if err != nil {
		return err
	}
	r, err := prepareTerraform(ctx, log, p, deps.locator)
	if err != nil {
		return err
	}
	if module != nil {
		if err := writeStackDir(p, module); err != nil {
			return err
		}
	}
	if err := initTerraform(ctx, log, r, p); err != nil {
		return err
	}
	n, err := r.ResourceCount(ctx)
	if err != nil {
		return err
	}
	res.Destroyed = n
	if n == 0 {
		res.NothingToDestroy = true
		log.Printf("state of stack %s holds nothing: nothing left to destroy", p.Name)
	} else {
		log.Printf("destroying %d resources of stack %s", n, p.Name)
		if err := terraform.DestroyWithRetry(ctx, r, deps.retry, log); err != nil {
			return err
		}
		log.Printf("terraform destroyed %d resources", n)
	}

	res.Terminated, err = terminateOrphanInstances(ctx, awsx.NewEC2(cfg), p.Name)
	if err != nil {
		return err
	}
	for _, id := range res.Terminated {
		log.Printf("terminated instance %s: its Auto Scaling group %s is gone but it was still running", id, p.Name)
	}
	res.Deregistered, err = deregisterTaskDefinitions(ctx, awsx.NewECS(cfg), p.Name)
	if err != nil {
		return err
	}
	for _, a := range res.Deregistered {
		log.Printf("deregistered task definition %s (registered by deploy)", a)
	}
	for _, f := range []string{stack.OutputsFile, planFile} {
		if err := os.Remove(filepath.Join(p.Dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", f, err)
		}
	}

	log.Printf("checking that nothing tagged %s=%s remains", config.StackTagKey, p.Name)
	left, err := leftover.NewChecker(cfg, log).Find(ctx, p.Name)
	if err != nil {
		return err
	}
	for _, l := range left {
		res.Leftovers = append(res.Leftovers, l.String())
	}
	if len(left) > 0 {
		for _, l := range res.Leftovers {
			log.Printf("left behind: %s", l)
		}
		if env.json {
			_ = env.result("", res)
		}
		return fmt.Errorf("destroy stack %s: still tagged %s=%s after destroy (%d):%s\ndelete them (they may still be draining: rerun destroy in a few minutes) or check who else uses the tag",
			p.Name, config.StackTagKey, p.Name, len(left), joinLines(res.Leftovers))
	}
	text := fmt.Sprintf("destroyed stack %s: %d resources removed; nothing tagged %s=%s remains", p.Name, n, config.StackTagKey, p.Name)
	if n == 0 {
		text = fmt.Sprintf("stack %s: nothing left to destroy; nothing tagged %s=%s remains", p.Name, config.StackTagKey, p.Name)
	}
	return env.result(text, res)
}

// taskDefinitionAPI is what deregistering deploy's revisions needs.
type taskDefinitionAPI interface {
	leftover.ECSAPI
	DeregisterTaskDefinition(context.Context, *ecs.DeregisterTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error)
}

// deregisterTaskDefinitions deregisters the ACTIVE revisions of the stack's
// family that terraform did not own: deploy registers one per release.
func deregisterTaskDefinitions(ctx context.Context, api taskDefinitionAPI, family string) ([]string, error) {
	arns, err := leftover.ActiveTaskDefinitions(ctx, api, family)
	if err != nil {
		return nil, err
	}
	done := []string{}
	for _, a := range arns {
		if _, err := api.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(a)}); err != nil {
			return done, fmt.Errorf("deregister task definition %s: %w (deregister it in the ECS console)", a, err)
		}
		done = append(done, a)
	}
	return done, nil
}

// instanceAPI is what terminating orphaned instances needs.
type instanceAPI interface {
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	TerminateInstances(context.Context, *ec2.TerminateInstancesInput, ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
}

// terminateOrphanInstances terminates instances the stack's Auto Scaling
// group launched (both its tags match) that still run after the group was
// deleted. AWS terminates them with a force delete; moto does not, and a
// deletion cut short can leave them on AWS too.
func terminateOrphanInstances(ctx context.Context, api instanceAPI, stackName string) ([]string, error) {
	out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		leftover.EC2StackFilter(stackName),
		{Name: aws.String("tag:aws:autoscaling:groupName"), Values: []string{stackName}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}},
	}})
	if err != nil {
		return nil, fmt.Errorf("describe instances of stack %s: %w", stackName, err)
	}
	ids := []string{}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	if len(ids) == 0 {
		return ids, nil
	}
	if _, err := api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
		return nil, fmt.Errorf("terminate instances %v of stack %s: %w (terminate them in the EC2 console)", ids, stackName, err)
	}
	return ids, nil
}
