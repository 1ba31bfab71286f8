package ownership

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

const (
	ourID   = "5f0c2a9e-our-stack"
	otherID = "77aa01bc-other-stack"
	arnBase = "arn:aws:service:us-east-1:123456789012:"
)

// world is a fake AWS account behind every interface the checker uses. Each
// map holds a resource's tags by name; absent means it does not exist.
type world struct {
	services, securityGroups                                                                                      map[string]map[string]string
	groupVPC                                                                                                      map[string]string // security group name → VPC
	clusters, capacityProviders, roles, profiles, loadBalancers, targetGroups, logGroups, launchTemplates, groups map[string]map[string]string

	clusterStatus, providerStatus, groupStatus map[string]string // "" is ACTIVE (or, for a group, not being deleted)
	fail                                       map[string]error  // operation → error
	calls                                      []string
	net                                        *network // resources without a fixed name (unnamed_test.go)
}

func newWorld() *world {
	m := func() map[string]map[string]string { return map[string]map[string]string{} }
	return &world{
		services: m(), securityGroups: m(), groupVPC: map[string]string{},
		clusters: m(), capacityProviders: m(), roles: m(), profiles: m(), loadBalancers: m(),
		targetGroups: m(), logGroups: m(), launchTemplates: m(), groups: m(),
		clusterStatus: map[string]string{}, providerStatus: map[string]string{}, groupStatus: map[string]string{},
		fail: map[string]error{}, net: newNetwork(),
	}
}

func (w *world) call(op, name string) error {
	w.calls = append(w.calls, op+" "+name)
	return w.fail[op]
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code} }

func (w *world) DescribeClusters(_ context.Context, in *ecs.DescribeClustersInput, _ ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error) {
	out := &ecs.DescribeClustersOutput{}
	for _, n := range in.Clusters {
		if err := w.call("DescribeClusters", n); err != nil {
			return nil, err
		}
		if !slices.Contains(in.Include, ecstypes.ClusterFieldTags) {
			return nil, errors.New("tags not asked for")
		}
		tags, ok := w.clusters[n]
		if !ok {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(n), Reason: aws.String("MISSING")})
			continue
		}
		out.Clusters = append(out.Clusters, ecstypes.Cluster{ClusterName: aws.String(n), ClusterArn: aws.String(arnBase + "cluster/" + n),
			Status: aws.String(cmpOr(w.clusterStatus[n], "ACTIVE")), Tags: ecsTagList(tags)})
	}
	return out, nil
}

func (w *world) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	cluster := aws.ToString(in.Cluster)
	if err := w.call("DescribeServices", cluster); err != nil {
		return nil, err
	}
	if _, ok := w.clusters[cluster]; !ok {
		return nil, &ecstypes.ClusterNotFoundException{Message: aws.String("Cluster not found.")}
	}
	out := &ecs.DescribeServicesOutput{}
	for _, n := range in.Services {
		tags, ok := w.services[n]
		if !ok {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(n), Reason: aws.String("MISSING")})
			continue
		}
		out.Services = append(out.Services, ecstypes.Service{ServiceName: aws.String(n), Status: aws.String("ACTIVE"),
			ServiceArn: aws.String(arnBase + "service/" + cluster + "/" + n), Tags: ecsTagList(tags)})
	}
	return out, nil
}

func (w *world) DescribeSecurityGroups(_ context.Context, in *ec2.DescribeSecurityGroupsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	out := &ec2.DescribeSecurityGroupsOutput{}
	for _, f := range in.Filters {
		if aws.ToString(f.Name) != "group-name" {
			return nil, apiErr("InvalidParameterValue")
		}
		for _, n := range f.Values {
			if err := w.call("DescribeSecurityGroups", n); err != nil {
				return nil, err
			}
			tags, ok := w.securityGroups[n]
			if !ok {
				continue
			}
			g := ec2types.SecurityGroup{GroupName: aws.String(n), GroupId: aws.String("sg-0" + n), VpcId: aws.String(w.groupVPC[n])}
			for k, v := range tags {
				g.Tags = append(g.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			out.SecurityGroups = append(out.SecurityGroups, g)
		}
	}
	return out, nil
}

func (w *world) DescribeCapacityProviders(_ context.Context, in *ecs.DescribeCapacityProvidersInput, _ ...func(*ecs.Options)) (*ecs.DescribeCapacityProvidersOutput, error) {
	out := &ecs.DescribeCapacityProvidersOutput{}
	for _, n := range in.CapacityProviders {
		if err := w.call("DescribeCapacityProviders", n); err != nil {
			return nil, err
		}
		tags, ok := w.capacityProviders[n]
		if !ok {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(n), Reason: aws.String("MISSING")})
			continue
		}
		out.CapacityProviders = append(out.CapacityProviders, ecstypes.CapacityProvider{Name: aws.String(n),
			CapacityProviderArn: aws.String(arnBase + "capacity-provider/" + n),
			Status:              ecstypes.CapacityProviderStatus(cmpOr(w.providerStatus[n], "ACTIVE")), Tags: ecsTagList(tags)})
	}
	return out, nil
}

func (w *world) ListRoleTags(_ context.Context, in *iam.ListRoleTagsInput, _ ...func(*iam.Options)) (*iam.ListRoleTagsOutput, error) {
	n := aws.ToString(in.RoleName)
	if err := w.call("ListRoleTags", n); err != nil {
		return nil, err
	}
	tags, ok := w.roles[n]
	if !ok {
		return nil, &iamtypes.NoSuchEntityException{Message: aws.String("role not found")}
	}
	// Two pages, to prove the marker is followed.
	all := iamTagList(tags)
	if in.Marker == nil && len(all) > 1 {
		return &iam.ListRoleTagsOutput{Tags: all[:1], IsTruncated: true, Marker: aws.String("page2")}, nil
	}
	if in.Marker != nil {
		all = all[1:]
	}
	return &iam.ListRoleTagsOutput{Tags: all}, nil
}

func (w *world) GetInstanceProfile(_ context.Context, in *iam.GetInstanceProfileInput, _ ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error) {
	n := aws.ToString(in.InstanceProfileName)
	if err := w.call("GetInstanceProfile", n); err != nil {
		return nil, err
	}
	tags, ok := w.profiles[n]
	if !ok {
		return nil, &iamtypes.NoSuchEntityException{Message: aws.String("profile not found")}
	}
	return &iam.GetInstanceProfileOutput{InstanceProfile: &iamtypes.InstanceProfile{
		InstanceProfileName: aws.String(n), Arn: aws.String(arnBase + "instance-profile/" + n), Tags: iamTagList(tags)}}, nil
}

func (w *world) DescribeLoadBalancers(_ context.Context, in *elbv2.DescribeLoadBalancersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	out := &elbv2.DescribeLoadBalancersOutput{}
	for _, n := range in.Names {
		if err := w.call("DescribeLoadBalancers", n); err != nil {
			return nil, err
		}
		if _, ok := w.loadBalancers[n]; !ok {
			return nil, &elbv2types.LoadBalancerNotFoundException{Message: aws.String("One or more load balancers not found")}
		}
		out.LoadBalancers = append(out.LoadBalancers, elbv2types.LoadBalancer{LoadBalancerName: aws.String(n), LoadBalancerArn: aws.String(arnBase + "loadbalancer/app/" + n + "/1")})
	}
	return out, nil
}

func (w *world) DescribeTargetGroups(_ context.Context, in *elbv2.DescribeTargetGroupsInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error) {
	out := &elbv2.DescribeTargetGroupsOutput{}
	for _, n := range in.Names {
		if err := w.call("DescribeTargetGroups", n); err != nil {
			return nil, err
		}
		if _, ok := w.targetGroups[n]; !ok {
			return nil, &elbv2types.TargetGroupNotFoundException{Message: aws.String("One or more target groups not found")}
		}
		out.TargetGroups = append(out.TargetGroups, elbv2types.TargetGroup{TargetGroupName: aws.String(n), TargetGroupArn: aws.String(arnBase + "targetgroup/" + n + "/2")})
	}
	return out, nil
}

func (w *world) DescribeTags(_ context.Context, in *elbv2.DescribeTagsInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error) {
	out := &elbv2.DescribeTagsOutput{}
	for _, arn := range in.ResourceArns {
		if err := w.call("DescribeTags", arn); err != nil {
			return nil, err
		}
		var tags map[string]string
		for n, t := range w.loadBalancers {
			if arn == arnBase+"loadbalancer/app/"+n+"/1" {
				tags = t
			}
		}
		for n, t := range w.targetGroups {
			if arn == arnBase+"targetgroup/"+n+"/2" {
				tags = t
			}
		}
		if t, ok := w.net.tags[arn]; ok {
			tags = t // a listener
		}
		d := elbv2types.TagDescription{ResourceArn: aws.String(arn)}
		for k, v := range tags {
			d.Tags = append(d.Tags, elbv2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		out.TagDescriptions = append(out.TagDescriptions, d)
	}
	return out, nil
}

func (w *world) DescribeLogGroups(_ context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	prefix := aws.ToString(in.LogGroupNamePrefix)
	if err := w.call("DescribeLogGroups", prefix); err != nil {
		return nil, err
	}
	var names []string
	for n := range w.logGroups {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	// One group per page, to prove the pages are followed.
	start := 0
	if in.NextToken != nil {
		start = slices.Index(names, aws.ToString(in.NextToken))
	}
	out := &cloudwatchlogs.DescribeLogGroupsOutput{}
	if start < len(names) {
		n := names[start]
		out.LogGroups = []logstypes.LogGroup{{LogGroupName: aws.String(n), Arn: aws.String(arnBase + "log-group:" + n + ":*")}}
		if start+1 < len(names) {
			out.NextToken = aws.String(names[start+1])
		}
	}
	return out, nil
}

func (w *world) ListTagsForResource(_ context.Context, in *cloudwatchlogs.ListTagsForResourceInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error) {
	arn := aws.ToString(in.ResourceArn)
	if err := w.call("ListTagsForResource", arn); err != nil {
		return nil, err
	}
	if strings.HasSuffix(arn, ":*") {
		return nil, apiErr("InvalidParameterException")
	}
	n := strings.TrimPrefix(arn, arnBase+"log-group:")
	tags, ok := w.logGroups[n]
	if !ok {
		return nil, &logstypes.ResourceNotFoundException{Message: aws.String("not found")}
	}
	return &cloudwatchlogs.ListTagsForResourceOutput{Tags: tags}, nil
}

func (w *world) DescribeLaunchTemplates(_ context.Context, in *ec2.DescribeLaunchTemplatesInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error) {
	out := &ec2.DescribeLaunchTemplatesOutput{}
	for _, f := range in.Filters {
		if aws.ToString(f.Name) != "launch-template-name" {
			return nil, apiErr("InvalidParameterValue")
		}
		for _, n := range f.Values {
			if err := w.call("DescribeLaunchTemplates", n); err != nil {
				return nil, err
			}
			tags, ok := w.launchTemplates[n]
			if !ok {
				continue
			}
			lt := ec2types.LaunchTemplate{LaunchTemplateName: aws.String(n), LaunchTemplateId: aws.String("lt-0abc" + n)}
			for k, v := range tags {
				lt.Tags = append(lt.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			out.LaunchTemplates = append(out.LaunchTemplates, lt)
		}
	}
	return out, nil
}

func (w *world) DescribeAutoScalingGroups(_ context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	out := &autoscaling.DescribeAutoScalingGroupsOutput{}
	for _, n := range in.AutoScalingGroupNames {
		if err := w.call("DescribeAutoScalingGroups", n); err != nil {
			return nil, err
		}
		tags, ok := w.groups[n]
		if !ok {
			continue
		}
		g := asgtypes.AutoScalingGroup{AutoScalingGroupName: aws.String(n), AutoScalingGroupARN: aws.String(arnBase + "autoScalingGroup:" + n)}
		if s := w.groupStatus[n]; s != "" {
			g.Status = aws.String(s)
		}
		for k, v := range tags {
			g.Tags = append(g.Tags, asgtypes.TagDescription{Key: aws.String(k), Value: aws.String(v)})
		}
		out.AutoScalingGroups = append(out.AutoScalingGroups, g)
	}
	return out, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func ecsTagList(m map[string]string) []ecstypes.Tag {
	var ts []ecstypes.Tag
	for k, v := range m {
		ts = append(ts, ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return ts
}

func iamTagList(m map[string]string) []iamtypes.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var ts []iamtypes.Tag
	for _, k := range keys {
		ts = append(ts, iamtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return ts
}

func (w *world) checker() *Checker {
	return &Checker{ECS: w, IAM: w, ELB: w, Logs: w, EC2: w, AutoScaling: w}
}

// stackResources is the module's named resources for a stack called demo.
func stackResources(t *testing.T) []hclgen.NamedResource {
	t.Helper()
	rs := hclgen.NamedResources(config.Provision{Name: "demo", Region: "us-east-1"})
	if len(rs) != 14 {
		t.Fatalf("hclgen.NamedResources lists %d resources, this test knows 14", len(rs))
	}
	return rs
}

// put creates every named resource of rs in w with tags; security groups go
// into givenVPC, the stack's own.
func (w *world) put(rs []hclgen.NamedResource, tags map[string]string) {
	for _, r := range rs {
		w.byKind(r.Kind)[r.Name] = tags
		if r.Kind == hclgen.KindSecurityGroup {
			w.groupVPC[r.Name] = givenVPC
		}
	}
}

// givenVPC is the existing VPC the stack is given in these tests.
const givenVPC = "vpc-given"

func (w *world) byKind(kind string) map[string]map[string]string {
	return map[string]map[string]map[string]string{
		hclgen.KindECSCluster: w.clusters, hclgen.KindECSCapacityProvider: w.capacityProviders,
		hclgen.KindIAMRole: w.roles, hclgen.KindIAMInstanceProfile: w.profiles,
		hclgen.KindLoadBalancer: w.loadBalancers, hclgen.KindTargetGroup: w.targetGroups,
		hclgen.KindLogGroup: w.logGroups, hclgen.KindLaunchTemplate: w.launchTemplates,
		hclgen.KindAutoScalingGroup: w.groups,
		hclgen.KindSecurityGroup:    w.securityGroups, hclgen.KindECSService: w.services,
	}[kind]
}

func ours() map[string]string {
	return map[string]string{config.StackTagKey: "demo", config.StackIDTagKey: ourID, "team": "platform"}
}

func TestCheckImportsOrphansOfThisStack(t *testing.T) {
	rs := stackResources(t)
	for _, tc := range []struct {
		name         string
		major        int
		wantProvider string
	}{
		{"provider 6.x", 6, arnBase + "capacity-provider/demo"},
		{"provider unknown: the pinned 6.x", 0, arnBase + "capacity-provider/demo"},
		{"provider 5.x", 5, "demo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			w.put(rs, ours())
			res, err := w.checker().Check(context.Background(), Input{Resources: rs, StackID: ourID, VPCID: givenVPC, ProviderMajor: tc.major})
			if err != nil || res.Err() != nil {
				t.Fatalf("Check = %v, %v", err, res.Err())
			}
			// The ID form per type; the names come from hclgen.
			want := map[string]string{}
			for _, r := range rs {
				switch r.Kind {
				case hclgen.KindLaunchTemplate:
					want[r.Address] = "lt-0abc" + r.Name
				case hclgen.KindLoadBalancer:
					want[r.Address] = arnBase + "loadbalancer/app/" + r.Name + "/1"
				case hclgen.KindTargetGroup:
					want[r.Address] = arnBase + "targetgroup/" + r.Name + "/2"
				case hclgen.KindECSCapacityProvider:
					want[r.Address] = tc.wantProvider
				case hclgen.KindSecurityGroup:
					want[r.Address] = "sg-0" + r.Name
				case hclgen.KindECSService:
					want[r.Address] = "demo/" + r.Name // cluster/service
				default:
					want[r.Address] = r.Name
				}
			}
			if len(res.Imports) != len(want) {
				t.Errorf("%d imports, want %d: %v", len(res.Imports), len(want), res.Imports)
			}
			for _, im := range res.Imports {
				if im.ID != want[im.Address] {
					t.Errorf("import %s with ID %q, want %q", im.Address, im.ID, want[im.Address])
				}
			}
		})
	}
}

func TestCheckRefusesCollisions(t *testing.T) {
	rs := stackResources(t)
	cases := []struct {
		name    string
		stackID string
		tags    map[string]string
		wantWhy string
	}{
		{"no identity tag", ourID, map[string]string{config.StackTagKey: "demo"}, "no graviton-cd:stack-id tag"},
		{"another stack's identity", ourID, map[string]string{config.StackIDTagKey: otherID}, "another stack's (this one is " + ourID + ")"},
		{"no tags at all", ourID, nil, "no graviton-cd:stack-id tag"},
		{"a stack without identity proves nothing", "", ours(), "no identity yet"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			w.put(rs, tc.tags)
			res, err := w.checker().Check(context.Background(), Input{Resources: rs, StackID: tc.stackID, VPCID: givenVPC})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Imports) != 0 || len(res.Collisions) != len(rs) {
				t.Fatalf("imports %v, collisions %v; want %d collisions", res.Imports, res.Collisions, len(rs))
			}
			err = res.Err()
			if !config.IsUsage(err) {
				t.Fatalf("Err() = %v, want a usage error (exit 2)", err)
			}
			msg := err.Error()
			for _, r := range rs {
				if !strings.Contains(msg, r.Kind+" \""+r.Name+"\" for "+r.Address) {
					t.Errorf("error does not name %s %s:\n%s", r.Kind, r.Name, msg)
				}
			}
			for _, want := range []string{"--name:", "nothing was created", "Choose another --name", "delete or rename", tc.wantWhy} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}

func TestCheckMixedAndEdgeCases(t *testing.T) {
	rs := stackResources(t)
	w := newWorld()
	w.clusters["demo"] = nil                     // a stranger's cluster: collision
	w.launchTemplates["demo"] = ours()           // an orphan: import
	w.capacityProviders["demo"] = ours()         // INACTIVE: gone
	w.providerStatus["demo"] = "INACTIVE"        //
	w.groups["demo"] = ours()                    // being deleted: neither
	w.groupStatus["demo"] = "Delete in progress" //
	w.logGroups["/ecs/demo-2"] = nil             // a prefix match only: absent
	w.logGroups["/ecs/demo-3"] = nil             //
	inState := map[string]string{"aws_lb.this": arnBase + "loadbalancer/app/demo-alb/1", "aws_iam_role.instance": "demo-us-east-1-ecs-instance"}
	w.loadBalancers["demo-alb"] = nil // in state: never looked up

	res, err := w.checker().Check(context.Background(), Input{Resources: rs, StackID: ourID, InState: inState})
	if err != nil {
		t.Fatal(err)
	}
	var imports, collisions []string
	for _, im := range res.Imports {
		imports = append(imports, im.String())
	}
	for _, c := range res.Collisions {
		collisions = append(collisions, c.Address+": "+c.Why)
	}
	if want := []string{"aws_launch_template.this (lt-0abcdemo)"}; !slices.Equal(imports, want) {
		t.Errorf("imports = %q, want %q", imports, want)
	}
	if want := []string{"aws_ecs_cluster.this: no graviton-cd:stack-id tag", "aws_autoscaling_group.this: being deleted; rerun once it is gone"}; !slices.Equal(collisions, want) {
		t.Errorf("collisions = %q, want %q", collisions, want)
	}
	for _, c := range w.calls {
		if c == "DescribeLoadBalancers demo-alb" || strings.HasPrefix(c, "ListRoleTags demo-us-east-1-ecs-instance") {
			t.Errorf("looked up %q, which the state holds", c)
		}
	}
}

func TestCheckLookupFailureIsNotAbsence(t *testing.T) {
	rs := stackResources(t)
	for _, op := range []string{"DescribeClusters", "ListRoleTags", "GetInstanceProfile", "DescribeLoadBalancers", "DescribeLogGroups", "DescribeLaunchTemplates", "DescribeAutoScalingGroups", "DescribeCapacityProviders", "DescribeTargetGroups"} {
		t.Run(op, func(t *testing.T) {
			w := newWorld()
			w.fail[op] = apiErr("AccessDenied")
			_, err := w.checker().Check(context.Background(), Input{Resources: rs, StackID: ourID})
			if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "already exists") {
				t.Errorf("Check with %s denied = %v, want the error", op, err)
			}
			if config.IsUsage(err) {
				t.Errorf("a failed lookup is not bad input: %v", err)
			}
		})
	}
}

func TestGuardBeforePlan(t *testing.T) {
	p := config.Provision{Name: "demo", Region: "us-east-1", StackID: ourID}
	rs := hclgen.NamedResources(p)
	w := newWorld()
	w.capacityProviders["demo"] = ours()
	g := Guard{
		AWS:     func(context.Context, awsx.Options) (aws.Config, error) { return aws.Config{}, nil },
		Checker: func(aws.Config) *Checker { return w.checker() },
	}
	for _, tc := range []struct{ lock, wantID string }{
		{"", arnBase + "capacity-provider/demo"}, // no lock file: the pinned 6.x
		{`provider "registry.terraform.io/hashicorp/aws" {
  version = "5.100.0"
}
`, "demo"},
		{`provider "registry.opentofu.org/hashicorp/aws" {
  version = "6.47.1"
}
`, arnBase + "capacity-provider/demo"},
	} {
		p.Dir = t.TempDir()
		if tc.lock != "" {
			if err := os.WriteFile(filepath.Join(p.Dir, terraform.LockFile), []byte(tc.lock), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		imports, err := g.BeforePlan(context.Background(), p, nil)
		if err != nil || len(imports) != 1 || imports[0].ID != tc.wantID {
			t.Errorf("lock %q: imports %v, %v; want the capacity provider as %q", tc.lock, imports, err, tc.wantID)
		}
	}

	// Something else's cluster under the name: refused as bad input.
	w.clusters["demo"] = map[string]string{"team": "payments"}
	_, err := g.BeforePlan(context.Background(), p, map[string]string{rs[0].Address: "sg-0alb"})
	if !config.IsUsage(err) || !strings.Contains(err.Error(), `ecs-cluster "demo"`) {
		t.Errorf("BeforePlan with a foreign cluster = %v, want a usage error naming it", err)
	}
	// A lookup that fails is an error, not a verdict.
	w.fail["DescribeClusters"] = apiErr("AccessDeniedException")
	if _, err := g.BeforePlan(context.Background(), p, nil); err == nil || config.IsUsage(err) {
		t.Errorf("BeforePlan with a denied lookup = %v", err)
	}
}

// TestCheckSecurityGroupsAndService covers the kinds unique within a
// container rather than an account: a group is a collision only inside the stack's own VPC, and a service
// is imported as cluster/service.
func TestCheckSecurityGroupsAndService(t *testing.T) {
	rs := []hclgen.NamedResource{
		{Address: "aws_ecs_cluster.this", Kind: hclgen.KindECSCluster, Name: "demo"},
		{Address: "aws_security_group.tasks", Kind: hclgen.KindSecurityGroup, Name: "demo-tasks"},
		{Address: "aws_security_group.alb", Kind: hclgen.KindSecurityGroup, Name: "demo-alb"},
		{Address: "aws_security_group.instances", Kind: hclgen.KindSecurityGroup, Name: "demo-instances"},
		{Address: "aws_ecs_service.app", Kind: hclgen.KindECSService, Name: "demo"},
	}
	w := newWorld()
	w.clusters["demo"] = ours()
	w.services["demo"] = ours()
	w.securityGroups["demo-tasks"] = ours()
	w.securityGroups["demo-alb"] = map[string]string{"team": "x"} // a stranger in another VPC
	w.groupVPC["demo-alb"] = "vpc-other"
	w.securityGroups["demo-instances"] = nil // a stranger in the stack's VPC
	w.groupVPC["demo-instances"] = "vpc-given"

	res, err := w.checker().Check(context.Background(), Input{Resources: rs, StackID: ourID, InState: map[string]string{"aws_ecs_cluster.this": arnBase + "cluster/demo"}, VPCID: "vpc-given"})
	if err != nil {
		t.Fatal(err)
	}
	var imports, collisions []string
	for _, im := range res.Imports {
		imports = append(imports, im.String())
	}
	for _, c := range res.Collisions {
		collisions = append(collisions, c.Address)
	}
	if want := []string{"aws_security_group.tasks (sg-0demo-tasks)", "aws_ecs_service.app (demo/demo)"}; !slices.Equal(imports, want) {
		t.Errorf("imports = %q, want %q", imports, want)
	}
	if want := []string{"aws_security_group.instances"}; !slices.Equal(collisions, want) {
		t.Errorf("collisions = %q, want %q", collisions, want)
	}

	// With a new VPC, a same-named group elsewhere is no collision; no
	// cluster, no service.
	delete(w.clusters, "demo")
	res, err = w.checker().Check(context.Background(), Input{Resources: rs[1:], StackID: ourID})
	if err != nil || len(res.Collisions) != 0 || len(res.Imports) != 1 {
		t.Errorf("new VPC: %+v, %v; want only the tasks group imported", res, err)
	}
}
