package ownership

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
)

// ECSAPI is the part of ECS the check uses.
type ECSAPI interface {
	DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeClusters(context.Context, *ecs.DescribeClustersInput, ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
	DescribeCapacityProviders(context.Context, *ecs.DescribeCapacityProvidersInput, ...func(*ecs.Options)) (*ecs.DescribeCapacityProvidersOutput, error)
}

// IAMAPI is the part of IAM the check uses. ListRoleTags answers both
// questions for a role (NoSuchEntity when it does not exist); GetInstanceProfile
// carries the profile's tags.
type IAMAPI interface {
	ListRoleTags(context.Context, *iam.ListRoleTagsInput, ...func(*iam.Options)) (*iam.ListRoleTagsOutput, error)
	GetInstanceProfile(context.Context, *iam.GetInstanceProfileInput, ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error)
}

// ELBAPI is the part of Elastic Load Balancing v2 the check uses.
type ELBAPI interface {
	DescribeLoadBalancers(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
	DescribeTargetGroups(context.Context, *elbv2.DescribeTargetGroupsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	DescribeTags(context.Context, *elbv2.DescribeTagsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error)
	DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
}

// LogsAPI is the part of CloudWatch Logs the check uses.
type LogsAPI interface {
	DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
	ListTagsForResource(context.Context, *cloudwatchlogs.ListTagsForResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error)
}

// EC2API is the part of EC2 the check uses: security groups and launch
// templates by name, the network by tags (unnamed.go).
type EC2API interface {
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeLaunchTemplates(context.Context, *ec2.DescribeLaunchTemplatesInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error)
	DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeInternetGateways(context.Context, *ec2.DescribeInternetGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error)
	DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
	DescribeAddresses(context.Context, *ec2.DescribeAddressesInput, ...func(*ec2.Options)) (*ec2.DescribeAddressesOutput, error)
	DescribeNatGateways(context.Context, *ec2.DescribeNatGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error)
}

// AutoScalingAPI is the part of EC2 Auto Scaling the check uses.
type AutoScalingAPI interface {
	DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

var (
	_ ECSAPI         = (*ecs.Client)(nil)
	_ IAMAPI         = (*iam.Client)(nil)
	_ ELBAPI         = (*elbv2.Client)(nil)
	_ LogsAPI        = (*cloudwatchlogs.Client)(nil)
	_ EC2API         = (*ec2.Client)(nil)
	_ AutoScalingAPI = (*autoscaling.Client)(nil)

	_ ECSAPI         = awsx.ECS{}
	_ IAMAPI         = awsx.IAM{}
	_ ELBAPI         = awsx.ELB{}
	_ LogsAPI        = awsx.Logs{}
	_ EC2API         = awsx.EC2{}
	_ AutoScalingAPI = awsx.AutoScaling{}
)

func (c *Checker) lookup(ctx context.Context, r hclgen.NamedResource, in Input) (found, error) {
	switch r.Kind {
	case hclgen.KindSecurityGroup:
		return c.securityGroup(ctx, r.Name, in.VPCID)
	case hclgen.KindECSService:
		return c.service(ctx, r.Name, clusterOf(in.Resources))
	case hclgen.KindECSCluster:
		return c.cluster(ctx, r.Name)
	case hclgen.KindECSCapacityProvider:
		return c.capacityProvider(ctx, r.Name)
	case hclgen.KindIAMRole:
		return c.role(ctx, r.Name)
	case hclgen.KindIAMInstanceProfile:
		return c.instanceProfile(ctx, r.Name)
	case hclgen.KindLoadBalancer:
		return c.loadBalancer(ctx, r.Name)
	case hclgen.KindTargetGroup:
		return c.targetGroup(ctx, r.Name)
	case hclgen.KindLogGroup:
		return c.logGroup(ctx, r.Name)
	case hclgen.KindLaunchTemplate:
		return c.launchTemplate(ctx, r.Name)
	case hclgen.KindAutoScalingGroup:
		return c.autoScalingGroup(ctx, r.Name)
	}
	return found{}, fmt.Errorf("no lookup for resource kind %q (%s)", r.Kind, r.Address)
}

// isNotFound reports an API error whose code says the thing does not exist.
func isNotFound(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}

// cluster: only an ACTIVE cluster exists; a deleted one stays visible as
// INACTIVE for a while and its name is free again.
func (c *Checker) cluster(ctx context.Context, name string) (found, error) {
	out, err := c.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{
		Clusters: []string{name},
		Include:  []ecstypes.ClusterField{ecstypes.ClusterFieldTags},
	})
	if err != nil {
		return found{}, fmt.Errorf("describe ECS cluster: %w", err)
	}
	for _, cl := range out.Clusters {
		if aws.ToString(cl.ClusterName) != name || aws.ToString(cl.Status) == "INACTIVE" {
			continue
		}
		return found{exists: true, name: name, arn: aws.ToString(cl.ClusterArn), tags: ecsTags(cl.Tags)}, nil
	}
	return found{}, nil // MISSING is a failure entry, not an error
}

// capacityProvider: an INACTIVE provider, or one whose deletion finished,
// is gone; one being deleted is neither free nor importable.
func (c *Checker) capacityProvider(ctx context.Context, name string) (found, error) {
	out, err := c.ECS.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{
		CapacityProviders: []string{name},
		Include:           []ecstypes.CapacityProviderField{ecstypes.CapacityProviderFieldTags},
	})
	if err != nil {
		return found{}, fmt.Errorf("describe ECS capacity provider: %w", err)
	}
	for _, cp := range out.CapacityProviders {
		if aws.ToString(cp.Name) != name || cp.Status == ecstypes.CapacityProviderStatusInactive ||
			cp.UpdateStatus == ecstypes.CapacityProviderUpdateStatusDeleteComplete {
			continue
		}
		deleting := cp.Status == ecstypes.CapacityProviderStatusDeprovisioning ||
			cp.UpdateStatus == ecstypes.CapacityProviderUpdateStatusDeleteInProgress
		return found{exists: true, name: name, arn: aws.ToString(cp.CapacityProviderArn), tags: ecsTags(cp.Tags), deleting: deleting}, nil
	}
	return found{}, nil
}

func ecsTags(ts []ecstypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (c *Checker) role(ctx context.Context, name string) (found, error) {
	f := found{exists: true, name: name, tags: map[string]string{}}
	in := &iam.ListRoleTagsInput{RoleName: aws.String(name)}
	for {
		out, err := c.IAM.ListRoleTags(ctx, in)
		if isNotFound(err, "NoSuchEntity") {
			return found{}, nil
		}
		if err != nil {
			return found{}, fmt.Errorf("list IAM role tags: %w", err)
		}
		for _, t := range out.Tags {
			f.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if !out.IsTruncated || out.Marker == nil {
			return f, nil
		}
		in.Marker = out.Marker
	}
}

func (c *Checker) instanceProfile(ctx context.Context, name string) (found, error) {
	out, err := c.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if isNotFound(err, "NoSuchEntity") {
		return found{}, nil
	}
	if err != nil {
		return found{}, fmt.Errorf("get IAM instance profile: %w", err)
	}
	f := found{exists: true, name: name, tags: map[string]string{}}
	if p := out.InstanceProfile; p != nil {
		f.arn = aws.ToString(p.Arn)
		for _, t := range p.Tags {
			f.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return f, nil
}

func (c *Checker) loadBalancer(ctx context.Context, name string) (found, error) {
	out, err := c.ELB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{name}})
	if isNotFound(err, "LoadBalancerNotFound") {
		return found{}, nil
	}
	if err != nil {
		return found{}, fmt.Errorf("describe load balancer: %w", err)
	}
	for _, lb := range out.LoadBalancers {
		if aws.ToString(lb.LoadBalancerName) == name {
			return c.elbTagged(ctx, name, aws.ToString(lb.LoadBalancerArn))
		}
	}
	return found{}, nil
}

func (c *Checker) targetGroup(ctx context.Context, name string) (found, error) {
	out, err := c.ELB.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{name}})
	if isNotFound(err, "TargetGroupNotFound") {
		return found{}, nil
	}
	if err != nil {
		return found{}, fmt.Errorf("describe target group: %w", err)
	}
	for _, tg := range out.TargetGroups {
		if aws.ToString(tg.TargetGroupName) == name {
			return c.elbTagged(ctx, name, aws.ToString(tg.TargetGroupArn))
		}
	}
	return found{}, nil
}

// elbTagged reads a load balancer's or target group's tags.
func (c *Checker) elbTagged(ctx context.Context, name, arn string) (found, error) {
	out, err := c.ELB.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{arn}})
	if isNotFound(err, "LoadBalancerNotFound", "TargetGroupNotFound") {
		return found{}, nil // deleted between the two calls
	}
	if err != nil {
		return found{}, fmt.Errorf("describe tags of %s: %w", arn, err)
	}
	f := found{exists: true, name: name, arn: arn, tags: map[string]string{}}
	for _, d := range out.TagDescriptions {
		if aws.ToString(d.ResourceArn) != arn {
			continue
		}
		for _, t := range d.Tags {
			f.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return f, nil
}

// logGroup: DescribeLogGroups finds by prefix ("/ecs/demo" also matches
// "/ecs/demo-2"), so the name must match exactly.
func (c *Checker) logGroup(ctx context.Context, name string) (found, error) {
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(c.Logs, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return found{}, fmt.Errorf("describe log groups: %w", err)
		}
		for _, g := range page.LogGroups {
			if aws.ToString(g.LogGroupName) != name {
				continue
			}
			// ListTagsForResource takes the ARN without DescribeLogGroups's ":*".
			arn := aws.ToString(g.LogGroupArn)
			if arn == "" {
				arn = strings.TrimSuffix(aws.ToString(g.Arn), ":*")
			}
			out, err := c.Logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			if isNotFound(err, "ResourceNotFoundException") {
				return found{}, nil
			}
			if err != nil {
				return found{}, fmt.Errorf("list tags of log group %s: %w", name, err)
			}
			tags := out.Tags
			if tags == nil {
				tags = map[string]string{}
			}
			return found{exists: true, name: name, arn: arn, tags: tags}, nil
		}
	}
	return found{}, nil
}

// launchTemplate asks with a name filter: an unknown name in
// LaunchTemplateNames is an error, a filter that matches nothing is not.
func (c *Checker) launchTemplate(ctx context.Context, name string) (found, error) {
	out, err := c.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{
		Filters: []ec2types.Filter{{Name: aws.String("launch-template-name"), Values: []string{name}}},
	})
	if err != nil {
		return found{}, fmt.Errorf("describe launch templates: %w", err)
	}
	for _, lt := range out.LaunchTemplates {
		if aws.ToString(lt.LaunchTemplateName) != name {
			continue
		}
		f := found{exists: true, name: name, id: aws.ToString(lt.LaunchTemplateId), tags: map[string]string{}}
		for _, t := range lt.Tags {
			f.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return f, nil
	}
	return found{}, nil
}

// autoScalingGroup: a group being deleted has a Status ("Delete in
// progress") and holds its name until it is gone.
func (c *Checker) autoScalingGroup(ctx context.Context, name string) (found, error) {
	out, err := c.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return found{}, fmt.Errorf("describe auto scaling group: %w", err)
	}
	for _, g := range out.AutoScalingGroups {
		if aws.ToString(g.AutoScalingGroupName) != name {
			continue
		}
		f := found{exists: true, name: name, arn: aws.ToString(g.AutoScalingGroupARN), tags: map[string]string{}, deleting: aws.ToString(g.Status) != ""}
		for _, t := range g.Tags {
			f.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return f, nil
	}
	return found{}, nil
}

// clusterOf is the name of the stack's ECS cluster, where its service lives.
func clusterOf(rs []hclgen.NamedResource) string {
	for _, r := range rs {
		if r.Kind == hclgen.KindECSCluster {
			return r.Name
		}
	}
	return ""
}

// service: ACTIVE and DRAINING services hold their name in the cluster; an
// INACTIVE one does not. No cluster, no service.
func (c *Checker) service(ctx context.Context, name, cluster string) (found, error) {
	if cluster == "" {
		return found{}, nil
	}
	out, err := c.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster: aws.String(cluster), Services: []string{name},
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags},
	})
	if isNotFound(err, "ClusterNotFoundException") {
		return found{}, nil
	}
	if err != nil {
		return found{}, fmt.Errorf("describe ECS service: %w", err)
	}
	for _, s := range out.Services {
		if aws.ToString(s.ServiceName) != name || aws.ToString(s.Status) == "INACTIVE" {
			continue
		}
		// The provider imports a service as "cluster/service".
		return found{exists: true, name: cluster + "/" + name, arn: aws.ToString(s.ServiceArn), tags: ecsTags(s.Tags),
			deleting: aws.ToString(s.Status) == "DRAINING"}, nil
	}
	return found{}, nil
}

// securityGroup: a group's name is unique only within its VPC. One that
// carries this stack's identity is the stack's wherever it is (in a VPC that
// was itself orphaned, terraform replaces it); one that does not collides
// only inside the VPC the stack is given (--vpc-id): a new VPC holds no
// other groups.
func (c *Checker) securityGroup(ctx context.Context, name, vpcID string) (found, error) {
	out, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{name}}},
	})
	if err != nil {
		return found{}, fmt.Errorf("describe security groups: %w", err)
	}
	var stranger *found
	for _, g := range out.SecurityGroups {
		if aws.ToString(g.GroupName) != name {
			continue
		}
		f := found{exists: true, name: name, id: aws.ToString(g.GroupId), tags: map[string]string{}}
		for _, t := range g.Tags {
			f.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if _, ours := f.tags[config.StackIDTagKey]; ours {
			return f, nil // its identity decides, in Check
		}
		if vpcID != "" && aws.ToString(g.VpcId) == vpcID {
			stranger = &f
		}
	}
	if stranger != nil {
		return *stranger, nil
	}
	return found{}, nil
}
