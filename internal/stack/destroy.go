package stack

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

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/leftover"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

// DestroyResult is what destroy did; the CLI prints it as text (Text) or as
// the --output json summary, also when Destroy returns a *LeftoversError.
type DestroyResult struct {
	Stack            string   `json:"stack"`
	Dir              string   `json:"dir"`
	Destroyed        int      `json:"destroyed"`
	Deregistered     []string `json:"deregistered_task_definitions"`
	Terminated       []string `json:"terminated_instances"`
	Leftovers        []string `json:"leftovers"`
	NothingToDestroy bool     `json:"nothing_to_destroy"`

	text string
}

// Text is the one-line summary for a person.
func (r DestroyResult) Text() string { return r.text }

// LeftoversError says that resources tagged with the stack remain after
// destroy.
type LeftoversError struct {
	Stack     string
	Leftovers []string
}

// Error lists what remains and what to do.
func (e *LeftoversError) Error() string {
	return fmt.Sprintf("destroy stack %s: still tagged %s=%s after destroy (%d):%s\ndelete them (they may still be draining: rerun destroy in a few minutes) or check who else uses the tag",
		e.Stack, config.StackTagKey, e.Stack, len(e.Leftovers), joinLines(e.Leftovers))
}

// Destroy runs terraform destroy in p.Dir (retrying while AWS drains
// dependencies), cleans up what deploy and the Auto Scaling group left, and
// checks that nothing tagged with the stack remains. module, when not nil,
// is written to p.Dir first (destroy given provision's flags).
func Destroy(ctx context.Context, deps Deps, p config.Provision, module []byte) (DestroyResult, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	log := deps.Log
	res := DestroyResult{Stack: p.Name, Dir: p.Dir, Deregistered: []string{}, Terminated: []string{}, Leftovers: []string{}}

	// Load AWS settings first: a missing region or credentials is a usage
	// error, and must come before terraform touches anything.
	cfg, err := deps.awsConfig(ctx, awsx.Options{Region: p.Region, EndpointURL: p.EndpointURL})
	if err != nil {
		return res, err
	}
	r, err := prepareTerraform(ctx, log, p, deps.Locator)
	if err != nil {
		return res, err
	}
	if module != nil {
		if err := writeStackDir(p, module); err != nil {
			return res, err
		}
	}
	if err := initTerraform(ctx, log, r, p); err != nil {
		return res, err
	}
	n, err := r.ResourceCount(ctx)
	if err != nil {
		return res, err
	}
	res.Destroyed = n
	if n == 0 {
		res.NothingToDestroy = true
		log.Printf("state of stack %s holds nothing: nothing left to destroy", p.Name)
	} else {
		log.Printf("destroying %d resources of stack %s", n, p.Name)
		if err := terraform.DestroyWithRetry(ctx, r, deps.backoff(), log); err != nil {
			return res, err
		}
		log.Printf("terraform destroyed %d resources", n)
	}

	res.Terminated, err = terminateOrphanInstances(ctx, awsx.NewEC2(cfg), p.Name)
	if err != nil {
		return res, err
	}
	for _, id := range res.Terminated {
		log.Printf("terminated instance %s: its Auto Scaling group %s is gone but it was still running", id, p.Name)
	}
	res.Deregistered, err = deregisterTaskDefinitions(ctx, awsx.NewECS(cfg), p.Name)
	if err != nil {
		return res, err
	}
	for _, a := range res.Deregistered {
		log.Printf("deregistered task definition %s (registered by deploy)", a)
	}
	for _, f := range []string{OutputsFile, PlanFile} {
		if err := os.Remove(filepath.Join(p.Dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return res, fmt.Errorf("remove %s: %w", f, err)
		}
	}

	log.Printf("checking that nothing tagged %s=%s remains", config.StackTagKey, p.Name)
	left, err := leftover.NewChecker(cfg, log).Find(ctx, p.Name)
	if err != nil {
		return res, err
	}
	for _, l := range left {
		res.Leftovers = append(res.Leftovers, l.String())
	}
	if len(left) > 0 {
		for _, l := range res.Leftovers {
			log.Printf("left behind: %s", l)
		}
		return res, &LeftoversError{Stack: p.Name, Leftovers: res.Leftovers}
	}
	res.text = fmt.Sprintf("destroyed stack %s: %d resources removed; nothing tagged %s=%s remains", p.Name, n, config.StackTagKey, p.Name)
	if n == 0 {
		res.text = fmt.Sprintf("stack %s: nothing left to destroy; nothing tagged %s=%s remains", p.Name, config.StackTagKey, p.Name)
	}
	return res, nil
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
