package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/leftover"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

// DestroyRequest is one destroy.
type DestroyRequest struct {
	Provision config.Provision // name, region, state, dir, terraform settings
	// Render writes the root module into the stack directory first, with the
	// stack's recorded identity: destroy given a name or provision's flags
	// rather than a stack directory.
	Render bool
	// OnlyIfEphemeral destroys the stack only when it was provisioned with
	// --ephemeral; any other stack is left exactly as it is.
	OnlyIfEphemeral bool
}

// DestroyResult is what destroy did; the CLI prints it as text (Text) or as
// the --output json summary, also when Destroy returns a *LeftoversError or
// a *NotOwnedError.
type DestroyResult struct {
	Stack            string   `json:"stack"`
	Dir              string   `json:"dir"`
	StackID          string   `json:"stack_id,omitempty"`
	Ephemeral        bool     `json:"ephemeral"`
	Destroyed        int      `json:"destroyed"`
	Deregistered     []string `json:"deregistered_task_definitions"`
	Terminated       []string `json:"terminated_instances"`
	Leftovers        []string `json:"leftovers"`
	NotOwned         []string `json:"not_owned"`
	NothingToDestroy bool     `json:"nothing_to_destroy"`
	// SkippedNotEphemeral: --only-if-ephemeral found a long-lived stack and
	// changed nothing.
	SkippedNotEphemeral bool `json:"skipped_not_ephemeral"`

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

// NotOwnedError says that the stack's state holds nothing, yet resources
// tagged with the stack exist: destroy proves ownership by state, so it
// touched none of them.
type NotOwnedError struct {
	Stack    string
	Where    string // the state's location
	NotOwned []string
}

// Error lists what was left alone and why.
func (e *NotOwnedError) Error() string {
	return fmt.Sprintf("destroy stack %s: its state (%s) holds nothing, but %d resources tagged %s=%s exist; they are not owned by this state, so nothing was terminated, deregistered or deleted:%s\n"+
		"if this is the right stack, point destroy at the state that holds them (--state-bucket, --state-key, --state-region, --stack-dir); otherwise delete them by hand",
		e.Stack, e.Where, len(e.NotOwned), config.StackTagKey, e.Stack, joinLines(e.NotOwned))
}

// Destroy removes what the stack's state holds and nothing else: terraform
// destroy (retrying while AWS drains dependencies), then the instances of
// the Auto Scaling group and the task definition revisions of the service
// that this destroy removed, then a check that nothing tagged with the stack
// remains. With an empty or missing state it changes nothing and lists what
// it finds tagged with the stack as not owned (*NotOwnedError).
func Destroy(ctx context.Context, deps Deps, req DestroyRequest) (DestroyResult, error) {
	p := req.Provision
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	log := deps.Log
	res := DestroyResult{Stack: p.Name, Dir: p.Dir, Deregistered: []string{}, Terminated: []string{}, Leftovers: []string{}, NotOwned: []string{}}

	// Load AWS settings first: a missing region or credentials is a usage
	// error, and must come before terraform touches anything.
	cfg, err := deps.awsConfig(ctx, awsx.Options{Region: p.Region, EndpointURL: p.EndpointURL})
	if err != nil {
		return res, err
	}
	st, exists, err := openStore(ctx, deps, cfg, p.State, p.Dir, false)
	if err != nil {
		return res, err
	}
	p.State = st.state
	var raw []byte
	var rec Settings
	found := false
	if exists {
		if raw, err = st.readState(ctx); err != nil {
			return res, err
		}
		if rec, found, err = st.readRecord(ctx); err != nil {
			return res, err
		}
	}
	outs, err := StateOutputs(raw)
	if err != nil {
		return res, err
	}
	res.StackID, res.Ephemeral = outs[hclgen.OutputStackID], outs[hclgen.OutputEphemeral] == "true"
	if found {
		res.StackID, res.Ephemeral = rec.StackID, rec.Ephemeral
	}
	p.StackID, p.Ephemeral = res.StackID, res.Ephemeral
	if req.OnlyIfEphemeral && !res.Ephemeral {
		res.SkippedNotEphemeral = true
		log.Printf("stack %s is not ephemeral (not provisioned with --ephemeral): --only-if-ephemeral leaves it as it is", p.Name)
		res.text = fmt.Sprintf("stack %s: not ephemeral, left intact; only a stack provisioned with --ephemeral is destroyed by destroy --only-if-ephemeral", p.Name)
		return res, nil
	}
	addrs, err := ManagedAddresses(raw)
	if err != nil {
		return res, err
	}
	if len(addrs) == 0 {
		return destroyNothing(ctx, deps, cfg, p, st, res)
	}

	r, bin, err := prepareTerraform(ctx, deps, p, "destroy")
	if err != nil {
		return res, err
	}
	defer closeTerraform(log, r)
	if req.Render {
		module, err := hclgen.RenderRootModule(p)
		if err != nil {
			return res, err
		}
		if !found {
			rec = Settings{Name: p.Name, StackID: p.StackID, Ephemeral: p.Ephemeral}
		}
		rec.Region, rec.EndpointURL, rec.TerraformBinary, rec.TerraformVersion, rec.State = p.Region, p.EndpointURL, bin, p.TerraformVersion, locationOf(p.State)
		if err := writeStackDir(p, module, rec); err != nil {
			return res, err
		}
	}
	if err := initTerraform(ctx, log, r, p); err != nil {
		return res, err
	}
	// What terraform sees is the truth: it read the state through its backend.
	if raw, err = r.RawState(ctx); err != nil {
		return res, err
	}
	owned, err := managedResources(raw)
	if err != nil {
		return res, err
	}
	n := len(owned)
	res.Destroyed = n
	if n == 0 {
		return destroyNothing(ctx, deps, cfg, p, st, res)
	}
	asg, svc := ownedGroupAndService(owned)
	ec2c, ecsc := awsx.NewEC2(cfg), awsx.NewECS(cfg)
	var members, serviceRevisions []string
	if asg != "" {
		if members, err = groupInstances(ctx, awsx.NewAutoScaling(cfg), asg); err != nil {
			return res, err
		}
	}
	if svc.name != "" {
		if serviceRevisions, err = serviceTaskDefinitions(ctx, ecsc, svc); err != nil {
			return res, err
		}
	}

	log.Printf("destroying %d resources of stack %s", n, p.Name)
	// terraform's own summary line ("destroy complete: 26 destroyed") says
	// what was destroyed.
	if err := terraform.DestroyWithRetry(ctx, r, deps.Retry, log); err != nil {
		return res, err
	}

	if asg != "" {
		res.Terminated, err = terminateGroupInstances(ctx, ec2c, asg, members, p.StackID)
		if err != nil {
			return res, err
		}
		for _, id := range res.Terminated {
			log.Printf("terminated instance %s: launched by Auto Scaling group %s, which this destroy removed, and still running", id, asg)
		}
	}
	if svc.name != "" && svc.family != "" {
		res.Deregistered, err = deregisterTaskDefinitions(ctx, ecsc, svc.family, p.Name, p.StackID, serviceRevisions)
		if err != nil {
			return res, err
		}
		for _, a := range res.Deregistered {
			log.Printf("deregistered task definition %s (registered by deploy for service %s, which this destroy removed)", a, svc.name)
		}
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
	return res, nil
}

// destroyNothing is destroy of a stack whose state holds nothing: it
// changes nothing, and reports what is tagged with the stack as not owned.
func destroyNothing(ctx context.Context, deps Deps, cfg aws.Config, p config.Provision, st store, res DestroyResult) (DestroyResult, error) {
	log := deps.Log
	res.NothingToDestroy = true
	log.Printf("state of stack %s (%s) holds nothing: nothing to destroy", p.Name, st.where())
	for _, f := range []string{OutputsFile, PlanFile} {
		if err := os.Remove(filepath.Join(p.Dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return res, fmt.Errorf("remove %s: %w", f, err)
		}
	}
	log.Printf("looking for resources tagged %s=%s that this state does not own", config.StackTagKey, p.Name)
	found, err := leftover.NewChecker(cfg, log).Find(ctx, p.Name)
	if err != nil {
		return res, err
	}
	for _, l := range found {
		res.NotOwned = append(res.NotOwned, l.String())
		log.Printf("not owned by this state, left alone: %s", l)
	}
	if len(found) > 0 {
		return res, &NotOwnedError{Stack: p.Name, Where: st.where(), NotOwned: res.NotOwned}
	}
	res.text = fmt.Sprintf("stack %s: nothing left to destroy; nothing tagged %s=%s remains", p.Name, config.StackTagKey, p.Name)
	return res, nil
}

// ownedService is the ECS service a state holds.
type ownedService struct{ name, cluster, family string }

// ownedGroupAndService finds the Auto Scaling group and the ECS service
// (with its task definition family) that the state holds.
func ownedGroupAndService(rs []stateResource) (asg string, svc ownedService) {
	for _, r := range rs {
		switch r.Type {
		case "aws_autoscaling_group":
			asg = r.attr("name")
		case "aws_ecs_service":
			svc.name, svc.cluster = r.attr("name"), r.attr("cluster")
		case "aws_ecs_task_definition":
			svc.family = r.attr("family")
		}
	}
	return asg, svc
}

// groupAPI is what listing a group's instances needs.
type groupAPI interface {
	DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

// groupInstances lists the instances that are members of the group now.
func groupInstances(ctx context.Context, api groupAPI, group string) ([]string, error) {
	out, err := api.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	if err != nil {
		return nil, fmt.Errorf("describe Auto Scaling group %s: %w", group, err)
	}
	var ids []string
	for _, g := range out.AutoScalingGroups {
		for _, in := range g.Instances {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	return ids, nil
}

// serviceAPI is what finding and deregistering a service's revisions needs.
type serviceAPI interface {
	leftover.ECSAPI
	DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DeregisterTaskDefinition(context.Context, *ecs.DeregisterTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error)
}

// serviceTaskDefinitions lists the revisions the service runs or rolls to.
func serviceTaskDefinitions(ctx context.Context, api serviceAPI, svc ownedService) ([]string, error) {
	out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(svc.cluster), Services: []string{svc.name}})
	if err != nil {
		return nil, fmt.Errorf("describe service %s: %w", svc.name, err)
	}
	var arns []string
	for _, s := range out.Services {
		arns = append(arns, aws.ToString(s.TaskDefinition))
		for _, d := range s.Deployments {
			arns = append(arns, aws.ToString(d.TaskDefinition))
		}
	}
	return arns, nil
}

// deregisterTaskDefinitions deregisters the ACTIVE revisions of family that
// are provably this stack's: those carrying its identity tag (deploy copies
// the tags of the revision it starts from), those the destroyed service ran,
// and, for a stack recorded before identities, those tagged with its name.
func deregisterTaskDefinitions(ctx context.Context, api serviceAPI, family, stackName, stackID string, serviceRevisions []string) ([]string, error) {
	arns, err := leftover.ActiveTaskDefinitions(ctx, api, family)
	if err != nil {
		return nil, err
	}
	done := []string{}
	for _, a := range arns {
		ours := slices.Contains(serviceRevisions, a)
		if !ours {
			out, err := api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(a), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
			if err != nil {
				return done, fmt.Errorf("describe task definition %s: %w", a, err)
			}
			ours = carries(out.Tags, stackName, stackID)
		}
		if !ours {
			continue
		}
		if _, err := api.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(a)}); err != nil {
			return done, fmt.Errorf("deregister task definition %s: %w (deregister it in the ECS console)", a, err)
		}
		done = append(done, a)
	}
	return done, nil
}

// carries reports whether tags prove the stack's ownership: its identity,
// or its name when it has no identity.
func carries(tags []ecstypes.Tag, stackName, stackID string) bool {
	for _, t := range tags {
		k, v := aws.ToString(t.Key), aws.ToString(t.Value)
		if stackID != "" && k == config.StackIDTagKey && v == stackID {
			return true
		}
		if stackID == "" && k == config.StackTagKey && v == stackName {
			return true
		}
	}
	return false
}

// instanceAPI is what terminating a removed group's instances needs.
type instanceAPI interface {
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	TerminateInstances(context.Context, *ec2.TerminateInstancesInput, ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
}

// terminateGroupInstances terminates what the removed Auto Scaling group
// launched and what still runs: its members just before destroy, and
// instances launched under its name that carry the stack's identity. AWS
// terminates them with a force delete; moto does not, and a deletion cut
// short can leave them on AWS too.
func terminateGroupInstances(ctx context.Context, api instanceAPI, group string, members []string, stackID string) ([]string, error) {
	alive := ec2types.Filter{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}}
	var ids []string
	add := func(in *ec2.DescribeInstancesInput) error {
		out, err := api.DescribeInstances(ctx, in)
		if err != nil {
			return fmt.Errorf("describe instances of Auto Scaling group %s: %w", group, err)
		}
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				if id := aws.ToString(i.InstanceId); !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
		return nil
	}
	if len(members) > 0 {
		if err := add(&ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: members}, alive}}); err != nil {
			return nil, err
		}
	}
	if stackID != "" {
		if err := add(&ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
			{Name: aws.String("tag:" + config.StackIDTagKey), Values: []string{stackID}},
			{Name: aws.String("tag:aws:autoscaling:groupName"), Values: []string{group}},
			alive,
		}}); err != nil {
			return nil, err
		}
	}
	if len(ids) == 0 {
		return []string{}, nil
	}
	if _, err := api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
		return nil, fmt.Errorf("terminate instances %v of Auto Scaling group %s: %w (terminate them in the EC2 console)", ids, group, err)
	}
	return ids, nil
}
