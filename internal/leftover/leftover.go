// Package leftover checks through the AWS APIs that nothing tagged with a
// stack remains after destroy. It asks the Resource Groups Tagging API and, for
// the types that API misses (or that an emulator does not index), each
// service directly.
package leftover

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	taggingtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// Resource is one thing still tagged with the stack.
type Resource struct {
	Kind string // "ec2 vpc", "ecs cluster", "tagged"
	ID   string // ID, name or ARN
}

// String is "kind id", as destroy lists leftovers.
func (r Resource) String() string { return r.Kind + " " + r.ID }

// TaggingAPI is the part of the Resource Groups Tagging API the check uses.
type TaggingAPI interface {
	GetResources(context.Context, *tagging.GetResourcesInput, ...func(*tagging.Options)) (*tagging.GetResourcesOutput, error)
}

// EC2API is the part of EC2 the check uses.
type EC2API interface {
	DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeInternetGateways(context.Context, *ec2.DescribeInternetGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error)
	DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
	DescribeLaunchTemplates(context.Context, *ec2.DescribeLaunchTemplatesInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error)
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeNatGateways(context.Context, *ec2.DescribeNatGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error)
}

// AutoScalingAPI is the part of EC2 Auto Scaling the check uses.
type AutoScalingAPI interface {
	DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

// ECSAPI is the part of ECS the check uses.
type ECSAPI interface {
	ListClusters(context.Context, *ecs.ListClustersInput, ...func(*ecs.Options)) (*ecs.ListClustersOutput, error)
	DescribeClusters(context.Context, *ecs.DescribeClustersInput, ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
	DescribeCapacityProviders(context.Context, *ecs.DescribeCapacityProvidersInput, ...func(*ecs.Options)) (*ecs.DescribeCapacityProvidersOutput, error)
	ListTaskDefinitions(context.Context, *ecs.ListTaskDefinitionsInput, ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
	DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
}

// ELBAPI is the part of Elastic Load Balancing v2 the check uses.
type ELBAPI interface {
	DescribeLoadBalancers(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
	DescribeTargetGroups(context.Context, *elbv2.DescribeTargetGroupsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	DescribeTags(context.Context, *elbv2.DescribeTagsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error)
}

// IAMAPI is the part of IAM the check uses.
type IAMAPI interface {
	ListRoles(context.Context, *iam.ListRolesInput, ...func(*iam.Options)) (*iam.ListRolesOutput, error)
	ListRoleTags(context.Context, *iam.ListRoleTagsInput, ...func(*iam.Options)) (*iam.ListRoleTagsOutput, error)
	ListInstanceProfiles(context.Context, *iam.ListInstanceProfilesInput, ...func(*iam.Options)) (*iam.ListInstanceProfilesOutput, error)
}

// LogsAPI is the part of CloudWatch Logs the check uses.
type LogsAPI interface {
	DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
}

var (
	_ TaggingAPI     = (*tagging.Client)(nil)
	_ EC2API         = (*ec2.Client)(nil)
	_ AutoScalingAPI = (*autoscaling.Client)(nil)
	_ ECSAPI         = (*ecs.Client)(nil)
	_ ELBAPI         = (*elbv2.Client)(nil)
	_ IAMAPI         = (*iam.Client)(nil)
	_ LogsAPI        = (*cloudwatchlogs.Client)(nil)
)

// Checker looks for what a stack left behind.
type Checker struct {
	Log         *progress.Logger // warnings; may be nil
	Tagging     TaggingAPI
	EC2         EC2API
	AutoScaling AutoScalingAPI
	ECS         ECSAPI
	ELB         ELBAPI
	IAM         IAMAPI
	Logs        LogsAPI
}

// NewChecker returns a Checker with real clients from cfg, warning on log.
func NewChecker(cfg aws.Config, log *progress.Logger) *Checker {
	return &Checker{
		Log:         log,
		Tagging:     awsx.NewTagging(cfg),
		EC2:         awsx.NewEC2(cfg),
		AutoScaling: awsx.NewAutoScaling(cfg),
		ECS:         awsx.NewECS(cfg),
		ELB:         awsx.NewELB(cfg),
		IAM:         awsx.NewIAM(cfg),
		Logs:        awsx.NewLogs(cfg),
	}
}

// Find returns everything still tagged graviton-cd:stack=stack (and, for
// types whose tags are costly to read, still named after it), sorted and
// without duplicates. Deleted-but-visible things (terminated instances,
// INACTIVE clusters and task definitions) are not leftovers.
func (c *Checker) Find(ctx context.Context, stack string) ([]Resource, error) {
	// The tagging API is a second opinion: the direct checks below cover
	// every taggable type the module creates. When it fails (a role without
	// tag:GetResources, or moto, whose GetResources breaks on any ECS
	// cluster without tags), say so and go on with the direct checks.
	found, err := c.tagged(ctx, stack)
	if err != nil {
		c.Log.Printf("warning: %v; relying on the direct checks of each resource type", err)
		found = nil
	}
	checks := []func(context.Context, string) ([]Resource, error){
		c.ec2, c.autoScaling, c.ecs, c.elb, c.iam, c.logs,
	}
	for _, check := range checks {
		rs, err := check(ctx, stack)
		if err != nil {
			return nil, fmt.Errorf("check for leftovers of stack %s: %w (the stack may be gone; check the AWS console or rerun destroy)", stack, err)
		}
		found = append(found, rs...)
	}
	return dedupe(found), nil
}

// dedupe drops tagging API hits that a direct check already named (the
// direct check gives a clearer kind), then sorts.
func dedupe(rs []Resource) []Resource {
	named := map[string]bool{}
	for _, r := range rs {
		if r.Kind != kindTagged {
			named[r.ID] = true
		}
	}
	seen := map[string]bool{}
	var out []Resource
	for _, r := range rs {
		if r.Kind == kindTagged && coveredByDirect(r.ID, named) {
			continue
		}
		if seen[r.String()] {
			continue
		}
		seen[r.String()] = true
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func coveredByDirect(arn string, named map[string]bool) bool {
	if named[arn] {
		return true
	}
	// arn:aws:ec2:region:acct:vpc/vpc-123 → vpc-123
	if i := strings.LastIndex(arn, "/"); i >= 0 && named[arn[i+1:]] {
		return true
	}
	return false
}

const kindTagged = "tagged"

func (c *Checker) tagged(ctx context.Context, stack string) ([]Resource, error) {
	var out []Resource
	p := tagging.NewGetResourcesPaginator(c.Tagging, &tagging.GetResourcesInput{
		TagFilters: []taggingtypes.TagFilter{{Key: aws.String(config.StackTagKey), Values: []string{stack}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("get tagged resources: %w", err)
		}
		for _, m := range page.ResourceTagMappingList {
			arn := aws.ToString(m.ResourceARN)
			if c.isInactive(ctx, arn) {
				continue
			}
			out = append(out, Resource{Kind: kindTagged, ID: arn})
		}
	}
	return out, nil
}

// isInactive reports tagged ARNs that stay visible after deletion: ECS
// INACTIVE task definition revisions (kept by AWS, cost nothing), deleted
// (INACTIVE) services, clusters and capacity providers, terminated instances,
// deleted NAT gateways (EC2 shows them for about an hour).
func (c *Checker) isInactive(ctx context.Context, arn string) bool {
	switch {
	case strings.Contains(arn, ":task-definition/"):
		out, err := c.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
		return err == nil && out.TaskDefinition != nil && out.TaskDefinition.Status != ecstypes.TaskDefinitionStatusActive
	case strings.Contains(arn, ":cluster/"):
		out, err := c.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{arn}})
		return err == nil && (len(out.Clusters) == 0 || aws.ToString(out.Clusters[0].Status) != "ACTIVE")
	case strings.Contains(arn, ":service/"):
		// arn:aws:ecs:region:account:service/cluster/service
		parts := strings.Split(arn[strings.Index(arn, ":service/")+len(":service/"):], "/")
		if len(parts) != 2 {
			return false
		}
		out, err := c.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(parts[0]), Services: []string{arn}})
		return err == nil && (len(out.Services) == 0 || aws.ToString(out.Services[0].Status) == "INACTIVE")
	case strings.Contains(arn, ":capacity-provider/"):
		out, err := c.ECS.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{CapacityProviders: []string{arn}})
		return err == nil && (len(out.CapacityProviders) == 0 || out.CapacityProviders[0].Status != ecstypes.CapacityProviderStatusActive)
	case strings.Contains(arn, ":natgateway/"):
		id := arn[strings.LastIndex(arn, "/")+1:]
		out, err := c.EC2.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}})
		if err != nil {
			return false
		}
		for _, n := range out.NatGateways {
			if n.State != ec2types.NatGatewayStateDeleted && n.State != ec2types.NatGatewayStateDeleting {
				return false
			}
		}
		return true
	case strings.Contains(arn, ":instance/"):
		id := arn[strings.LastIndex(arn, "/")+1:]
		out, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			return false
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				if in.State != nil && in.State.Name != ec2types.InstanceStateNameTerminated {
					return false
				}
			}
		}
		return true
	}
	return false
}

// EC2StackFilter is the EC2 filter for resources tagged graviton-cd:stack=stack.
func EC2StackFilter(stack string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String("tag:" + config.StackTagKey), Values: []string{stack}}
}

func tagFilter(stack string) []ec2types.Filter {
	return []ec2types.Filter{EC2StackFilter(stack)}
}

func (c *Checker) ec2(ctx context.Context, stack string) ([]Resource, error) {
	var out []Resource
	add := func(kind string, id *string) { out = append(out, Resource{Kind: "ec2 " + kind, ID: aws.ToString(id)}) }

	vpcs, err := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: tagFilter(stack)})
	if err != nil {
		return nil, fmt.Errorf("describe VPCs: %w", err)
	}
	for _, v := range vpcs.Vpcs {
		add("vpc", v.VpcId)
	}
	subnets, err := c.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: tagFilter(stack)})
	if err != nil {
		return nil, fmt.Errorf("describe subnets: %w", err)
	}
	for _, s := range subnets.Subnets {
		add("subnet", s.SubnetId)
	}
	sgs, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: tagFilter(stack)})
	if err != nil {
		return nil, fmt.Errorf("describe security groups: %w", err)
	}
	for _, g := range sgs.SecurityGroups {
		add("security-group", g.GroupId)
	}
	igws, err := c.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: tagFilter(stack)})
	if err != nil {
		return nil, fmt.Errorf("describe internet gateways: %w", err)
	}
	for _, g := range igws.InternetGateways {
		add("internet-gateway", g.InternetGatewayId)
	}
	rts, err := c.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: tagFilter(stack)})
	if err != nil {
		return nil, fmt.Errorf("describe route tables: %w", err)
	}
	for _, r := range rts.RouteTables {
		add("route-table", r.RouteTableId)
	}
	lts, err := c.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{Filters: tagFilter(stack)})
	if err != nil {
		return nil, fmt.Errorf("describe launch templates: %w", err)
	}
	for _, l := range lts.LaunchTemplates {
		add("launch-template", l.LaunchTemplateId)
	}
	insts, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: append(tagFilter(stack), ec2types.Filter{
		Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "shutting-down", "stopping", "stopped"},
	})})
	if err != nil {
		return nil, fmt.Errorf("describe instances: %w", err)
	}
	for _, r := range insts.Reservations {
		for _, in := range r.Instances {
			add("instance", in.InstanceId)
		}
	}
	return out, nil
}

func (c *Checker) autoScaling(ctx context.Context, stack string) ([]Resource, error) {
	out, err := c.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		Filters: []asgtypes.Filter{{Name: aws.String("tag:" + config.StackTagKey), Values: []string{stack}}},
	})
	if err != nil {
		return nil, fmt.Errorf("describe auto scaling groups: %w", err)
	}
	var rs []Resource
	for _, g := range out.AutoScalingGroups {
		if hasASGTag(g.Tags, stack) {
			rs = append(rs, Resource{Kind: "autoscaling group", ID: aws.ToString(g.AutoScalingGroupName)})
		}
	}
	return rs, nil
}

func (c *Checker) ecs(ctx context.Context, stack string) ([]Resource, error) {
	var rs []Resource
	var arns []string
	p := ecs.NewListClustersPaginator(c.ECS, &ecs.ListClustersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list ECS clusters: %w", err)
		}
		arns = append(arns, page.ClusterArns...)
	}
	for batch := range slices.Chunk(arns, 100) { // DescribeClusters takes 100 at most
		out, err := c.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: batch, Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags}})
		if err != nil {
			return nil, fmt.Errorf("describe ECS clusters: %w", err)
		}
		for _, cl := range out.Clusters {
			if aws.ToString(cl.Status) == "ACTIVE" && (aws.ToString(cl.ClusterName) == stack || hasECSTag(cl.Tags, stack)) {
				rs = append(rs, Resource{Kind: "ecs cluster", ID: aws.ToString(cl.ClusterName)})
			}
		}
	}
	// The capacity provider is named after the stack. (Asked by name: moto
	// fails a DescribeCapacityProviders without names, and listing every
	// provider of an account is no better on AWS.)
	cps, err := c.ECS.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{
		CapacityProviders: []string{stack},
		Include:           []ecstypes.CapacityProviderField{ecstypes.CapacityProviderFieldTags},
	})
	if err != nil {
		return nil, fmt.Errorf("describe ECS capacity provider %s: %w", stack, err)
	}
	for _, cp := range cps.CapacityProviders {
		if cp.Status == ecstypes.CapacityProviderStatusActive {
			rs = append(rs, Resource{Kind: "ecs capacity-provider", ID: aws.ToString(cp.Name)})
		}
	}
	tds, err := ActiveTaskDefinitions(ctx, c.ECS, stack)
	if err != nil {
		return nil, err
	}
	for _, td := range tds {
		rs = append(rs, Resource{Kind: "ecs task-definition", ID: td})
	}
	return rs, nil
}

// ActiveTaskDefinitions lists the ACTIVE revisions of the stack's task
// definition family (the family is the stack name): those terraform
// registered and those deploy registered after it.
func ActiveTaskDefinitions(ctx context.Context, api ECSAPI, family string) ([]string, error) {
	var arns []string
	p := ecs.NewListTaskDefinitionsPaginator(api, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family), Status: ecstypes.TaskDefinitionStatusActive})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list task definitions of family %s: %w", family, err)
		}
		for _, a := range page.TaskDefinitionArns {
			// FamilyPrefix matches "demo-other" too: keep "family:N" only.
			if i := strings.LastIndex(a, "/"); i >= 0 && strings.HasPrefix(a[i+1:], family+":") {
				arns = append(arns, a)
			}
		}
	}
	return arns, nil
}

// isStackTag reports whether a tag, of whichever service's tag type, is
// graviton-cd:stack=stack.
func isStackTag(key, value *string, stack string) bool {
	return aws.ToString(key) == config.StackTagKey && aws.ToString(value) == stack
}

func hasASGTag(tags []asgtypes.TagDescription, stack string) bool {
	return slices.ContainsFunc(tags, func(t asgtypes.TagDescription) bool { return isStackTag(t.Key, t.Value, stack) })
}

func hasECSTag(tags []ecstypes.Tag, stack string) bool {
	return slices.ContainsFunc(tags, func(t ecstypes.Tag) bool { return isStackTag(t.Key, t.Value, stack) })
}

func hasIAMTag(tags []iamtypes.Tag, stack string) bool {
	return slices.ContainsFunc(tags, func(t iamtypes.Tag) bool { return isStackTag(t.Key, t.Value, stack) })
}

func (c *Checker) elb(ctx context.Context, stack string) ([]Resource, error) {
	kinds := map[string]string{}
	var arns []string
	lbs, err := c.ELB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	if err != nil {
		return nil, fmt.Errorf("describe load balancers: %w", err)
	}
	for _, lb := range lbs.LoadBalancers {
		a := aws.ToString(lb.LoadBalancerArn)
		kinds[a] = "elbv2 load-balancer"
		arns = append(arns, a)
	}
	tgs, err := c.ELB.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})
	if err != nil {
		return nil, fmt.Errorf("describe target groups: %w", err)
	}
	for _, tg := range tgs.TargetGroups {
		a := aws.ToString(tg.TargetGroupArn)
		kinds[a] = "elbv2 target-group"
		arns = append(arns, a)
	}
	var rs []Resource
	for batch := range slices.Chunk(arns, 20) { // DescribeTags takes 20 ARNs at most
		out, err := c.ELB.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: batch})
		if err != nil {
			return nil, fmt.Errorf("describe load balancer tags: %w", err)
		}
		for _, td := range out.TagDescriptions {
			if slices.ContainsFunc(td.Tags, func(t elbv2types.Tag) bool { return isStackTag(t.Key, t.Value, stack) }) {
				a := aws.ToString(td.ResourceArn)
				rs = append(rs, Resource{Kind: kinds[a], ID: a})
			}
		}
	}
	return rs, nil
}

// iam checks roles and instance profiles named after the stack: IAM lists
// no tags, so the name prefix narrows the search before tags are read.
func (c *Checker) iam(ctx context.Context, stack string) ([]Resource, error) {
	var rs []Resource
	prefix := stack + "-"
	rp := iam.NewListRolesPaginator(c.IAM, &iam.ListRolesInput{})
	for rp.HasMorePages() {
		page, err := rp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list IAM roles: %w", err)
		}
		for _, r := range page.Roles {
			name := aws.ToString(r.RoleName)
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			tags, err := c.IAM.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: r.RoleName})
			if err != nil {
				return nil, fmt.Errorf("list tags of IAM role %s: %w", name, err)
			}
			if hasIAMTag(tags.Tags, stack) {
				rs = append(rs, Resource{Kind: "iam role", ID: name})
			}
		}
	}
	pp := iam.NewListInstanceProfilesPaginator(c.IAM, &iam.ListInstanceProfilesInput{})
	for pp.HasMorePages() {
		page, err := pp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list IAM instance profiles: %w", err)
		}
		for _, p := range page.InstanceProfiles {
			name := aws.ToString(p.InstanceProfileName)
			if name == stack+"-ecs-instance" || hasIAMTag(p.Tags, stack) {
				rs = append(rs, Resource{Kind: "iam instance-profile", ID: name})
			}
		}
	}
	return rs, nil
}

func (c *Checker) logs(ctx context.Context, stack string) ([]Resource, error) {
	name := "/ecs/" + stack
	out, err := c.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("describe log groups: %w", err)
	}
	var rs []Resource
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) == name {
			rs = append(rs, Resource{Kind: "logs log-group", ID: name})
		}
	}
	return rs, nil
}
