package ownership

import (
	"context"
	"slices"
	"strings"
	"testing"

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

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

// TestCheckAgainstMoto runs the real SDK clients against moto: every named
// resource of a stack created with this stack's identity is found and
// imported with the right ID; a same-named cluster without the identity,
// or with another stack's, is a collision.
func TestCheckAgainstMoto(t *testing.T) {
	cfg := localstack.AWSConfig(t)
	ctx := t.Context()
	name := localstack.UniqueName(t, "own")
	// Security groups and the service are unique only within a VPC and a
	// cluster; TestCheckSecurityGroupsAndService holds their lookups with fakes.
	rs := slices.DeleteFunc(hclgen.NamedResources(config.Provision{Name: name, Region: localstack.Region}), func(r hclgen.NamedResource) bool {
		return r.Kind == hclgen.KindSecurityGroup || r.Kind == hclgen.KindECSService
	})
	tags := map[string]string{config.StackTagKey: name, config.StackIDTagKey: ourID}
	createAll(t, ctx, cfg, rs, tags)

	c := NewChecker(cfg)
	res, err := c.Check(ctx, Input{Resources: rs, StackID: ourID, ProviderMajor: 6})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Collisions) != 0 || len(res.Imports) != len(rs) {
		t.Fatalf("imports %v, collisions %v; want all %d imported", res.Imports, res.Collisions, len(rs))
	}
	for _, im := range res.Imports {
		t.Logf("import %s", im)
		var ok bool
		switch im.Kind {
		case hclgen.KindLaunchTemplate:
			ok = strings.HasPrefix(im.ID, "lt-")
		case hclgen.KindLoadBalancer, hclgen.KindTargetGroup, hclgen.KindECSCapacityProvider:
			ok = strings.HasPrefix(im.ID, "arn:aws:") && strings.Contains(im.ID, im.Name)
		default:
			ok = im.ID == im.Name
		}
		if !ok {
			t.Errorf("import %s: ID %q is not the form the provider takes for a %s", im.Address, im.ID, im.Kind)
		}
	}

	// The same names, read as another stack (another identity): all collide.
	res, err = c.Check(ctx, Input{Resources: rs, StackID: otherID})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imports) != 0 || len(res.Collisions) != len(rs) || !config.IsUsage(res.Err()) {
		t.Errorf("as another stack: imports %v, collisions %v", res.Imports, res.Collisions)
	}
}

// TestClusterWithAndWithoutIdentityAgainstMoto: a same-named ECS cluster
// without the identity tag is refused, one with it is imported.
func TestClusterWithAndWithoutIdentityAgainstMoto(t *testing.T) {
	cfg := localstack.AWSConfig(t)
	ctx := t.Context()
	ecsc := ecs.NewFromConfig(cfg)
	for _, tc := range []struct {
		name       string
		tags       []ecstypes.Tag
		wantImport bool
	}{
		{"with the identity", []ecstypes.Tag{{Key: aws.String(config.StackIDTagKey), Value: aws.String(ourID)}}, true},
		// (moto's tagging API breaks on untagged ECS clusters: tag something else.)
		{"without it", []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("someone-else")}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := localstack.UniqueName(t, "cl")
			if _, err := ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(name), Tags: tc.tags}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_, _ = ecsc.DeleteCluster(context.Background(), &ecs.DeleteClusterInput{Cluster: aws.String(name)})
			})
			rs := []hclgen.NamedResource{{Address: "aws_ecs_cluster.this", Kind: hclgen.KindECSCluster, Name: name}}
			res, err := NewChecker(cfg).Check(ctx, Input{Resources: rs, StackID: ourID})
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantImport {
				if len(res.Imports) != 1 || res.Imports[0].ID != name || res.Err() != nil {
					t.Errorf("result %+v, want the cluster imported by name", res)
				}
				return
			}
			err = res.Err()
			if len(res.Imports) != 0 || !config.IsUsage(err) || !strings.Contains(err.Error(), `ecs-cluster "`+name+`"`) {
				t.Errorf("result %+v (%v), want the cluster refused", res, err)
			}
		})
	}
}

// createAll creates, through the SDK, every resource of rs with tags, as an
// interrupted provision leaves them, and deletes them when the test ends.
func createAll(t *testing.T, ctx context.Context, cfg aws.Config, rs []hclgen.NamedResource, tags map[string]string) {
	t.Helper()
	ec2c, ecsc, iamc := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	elbc, logsc, asgc := elbv2.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg), autoscaling.NewFromConfig(cfg)
	cleanup := func(f func(context.Context) error) {
		t.Cleanup(func() { _ = f(context.Background()) })
	}
	name := func(kind string) string {
		for _, r := range rs {
			if r.Kind == kind {
				return r.Name
			}
		}
		t.Fatalf("no %s", kind)
		return ""
	}
	var iamTags []iamtypes.Tag
	var ecsTags []ecstypes.Tag
	var ec2Tags []ec2types.Tag
	var elbTags []elbv2types.Tag
	for k, v := range tags {
		iamTags = append(iamTags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		ecsTags = append(ecsTags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		ec2Tags = append(ec2Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		elbTags = append(elbTags, elbv2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("create %s: %v", what, err)
		}
	}

	for _, r := range rs {
		if r.Kind != hclgen.KindIAMRole {
			continue
		}
		_, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r.Name), Tags: iamTags,
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
		must(r.Name, err)
		cleanup(func(ctx context.Context) error {
			_, err := iamc.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(r.Name)})
			return err
		})
	}
	profile := name(hclgen.KindIAMInstanceProfile)
	_, err := iamc.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(profile), Tags: iamTags})
	must(profile, err)
	cleanup(func(ctx context.Context) error {
		_, err := iamc.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(profile)})
		return err
	})

	logGroup := name(hclgen.KindLogGroup)
	_, err = logsc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(logGroup), Tags: tags})
	must(logGroup, err)
	cleanup(func(ctx context.Context) error {
		_, err := logsc.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(logGroup)})
		return err
	})
	// A group whose name only starts with the stack's must not be taken for it.
	_, err = logsc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(logGroup + "-other")})
	must(logGroup+"-other", err)
	cleanup(func(ctx context.Context) error {
		_, err := logsc.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(logGroup + "-other")})
		return err
	})

	cluster := name(hclgen.KindECSCluster)
	_, err = ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster), Tags: ecsTags})
	must(cluster, err)
	cleanup(func(ctx context.Context) error {
		_, err := ecsc.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(cluster)})
		return err
	})

	lt := name(hclgen.KindLaunchTemplate)
	ltOut, err := ec2c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(lt),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: ec2types.InstanceTypeT4gSmall, ImageId: aws.String("ami-12c6146b")},
		TagSpecifications:  []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeLaunchTemplate, Tags: ec2Tags}}})
	must(lt, err)
	cleanup(func(ctx context.Context) error {
		_, err := ec2c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: ltOut.LaunchTemplate.LaunchTemplateId})
		return err
	})

	vpc, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.91.0.0/16")})
	must("vpc", err)
	cleanup(func(ctx context.Context) error {
		_, err := ec2c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: vpc.Vpc.VpcId})
		return err
	})
	var subnets []string
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		sn, err := ec2c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, AvailabilityZone: aws.String(az),
			CidrBlock: aws.String([]string{"10.91.1.0/24", "10.91.2.0/24"}[i])})
		must("subnet", err)
		subnets = append(subnets, aws.ToString(sn.Subnet.SubnetId))
		cleanup(func(ctx context.Context) error {
			_, err := ec2c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: sn.Subnet.SubnetId})
			return err
		})
	}

	group := name(hclgen.KindAutoScalingGroup)
	var asgTags []asgtypes.Tag
	for k, v := range tags {
		asgTags = append(asgTags, asgtypes.Tag{Key: aws.String(k), Value: aws.String(v), PropagateAtLaunch: aws.Bool(true)})
	}
	_, err = asgc.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(group),
		MinSize: aws.Int32(0), MaxSize: aws.Int32(1), VPCZoneIdentifier: aws.String(strings.Join(subnets, ",")), Tags: asgTags,
		LaunchTemplate: &asgtypes.LaunchTemplateSpecification{LaunchTemplateId: ltOut.LaunchTemplate.LaunchTemplateId}})
	must(group, err)
	cleanup(func(ctx context.Context) error {
		_, err := asgc.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String(group), ForceDelete: aws.Bool(true)})
		return err
	})
	groups, err := asgc.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	must("describe "+group, err)

	provider := name(hclgen.KindECSCapacityProvider)
	_, err = ecsc.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{Name: aws.String(provider), Tags: ecsTags,
		AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProvider{AutoScalingGroupArn: groups.AutoScalingGroups[0].AutoScalingGroupARN}})
	must(provider, err)
	cleanup(func(ctx context.Context) error {
		_, err := ecsc.DeleteCapacityProvider(ctx, &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String(provider)})
		return err
	})

	lb := name(hclgen.KindLoadBalancer)
	lbOut, err := elbc.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(lb), Subnets: subnets, Tags: elbTags})
	must(lb, err)
	cleanup(func(ctx context.Context) error {
		_, err := elbc.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lbOut.LoadBalancers[0].LoadBalancerArn})
		return err
	})
	tg := name(hclgen.KindTargetGroup)
	tgOut, err := elbc.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(tg), Protocol: elbv2types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: vpc.Vpc.VpcId, TargetType: elbv2types.TargetTypeEnumIp, Tags: elbTags})
	must(tg, err)
	cleanup(func(ctx context.Context) error {
		_, err := elbc.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: tgOut.TargetGroups[0].TargetGroupArn})
		return err
	})
}
