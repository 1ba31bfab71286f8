package leftover

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

func TestDedupe(t *testing.T) {
	got := dedupe([]Resource{
		{Kind: kindTagged, ID: "arn:aws:ec2:us-east-1:1:vpc/vpc-1"},
		{Kind: "ec2 vpc", ID: "vpc-1"},
		{Kind: kindTagged, ID: "arn:aws:ecs:us-east-1:1:service/c/s"},
		{Kind: "ec2 vpc", ID: "vpc-1"},
	})
	want := "ec2 vpc vpc-1|tagged arn:aws:ecs:us-east-1:1:service/c/s"
	var s []string
	for _, r := range got {
		s = append(s, r.String())
	}
	if strings.Join(s, "|") != want {
		t.Errorf("dedupe = %q, want %q", s, want)
	}
}

// TestFindAgainstMoto leaves things tagged with a stack in moto and checks
// that Find names each, and nothing once they are gone.
func TestFindAgainstMoto(t *testing.T) {
	cfg := localstack.AWSConfig(t)
	ctx := t.Context()
	stack := localstack.UniqueName(t, "lo")
	c := NewChecker(cfg, nil)

	left, err := c.Find(ctx, stack)
	if err != nil || len(left) != 0 {
		t.Fatalf("before: %v, %v", left, err)
	}

	ec2c, ecsc, iamc, logsc := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg), iam.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	vpc, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16"), TagSpecifications: []ec2types.TagSpecification{{
		ResourceType: ec2types.ResourceTypeVpc, Tags: []ec2types.Tag{{Key: aws.String(config.StackTagKey), Value: aws.String(stack)}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(stack), Tags: []ecstypes.Tag{{Key: aws.String(config.StackTagKey), Value: aws.String(stack)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(stack + "-ecs-instance"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		Tags:                     []iamtypes.Tag{{Key: aws.String(config.StackTagKey), Value: aws.String(stack)}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := logsc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/ecs/" + stack)}); err != nil {
		t.Fatal(err)
	}

	left, err = c.Find(ctx, stack)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range left {
		got = append(got, r.String())
	}
	for _, want := range []string{"ec2 vpc " + aws.ToString(vpc.Vpc.VpcId), "ecs cluster " + stack, "iam role " + stack + "-ecs-instance", "logs log-group /ecs/" + stack} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("Find missed %q; found %q", want, got)
		}
	}

	if _, err := ec2c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: vpc.Vpc.VpcId}); err != nil {
		t.Fatal(err)
	}
	if _, err := ecsc.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(stack)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(stack + "-ecs-instance")}); err != nil {
		t.Fatal(err)
	}
	if _, err := logsc.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/ecs/" + stack)}); err != nil {
		t.Fatal(err)
	}
	left, err = c.Find(ctx, stack)
	if err != nil || len(left) != 0 {
		t.Errorf("after deleting: %v, %v", left, err)
	}
}

// fakeELB has load balancers lb-0… and target groups tg-0…; those whose
// number is in tagged carry the stack's tag. It records DescribeTags batches.
type fakeELB struct {
	lbs, tgs int
	tagged   map[string]bool
	batches  []int
}

func (f *fakeELB) DescribeLoadBalancers(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	out := &elbv2.DescribeLoadBalancersOutput{}
	for i := range f.lbs {
		out.LoadBalancers = append(out.LoadBalancers, elbv2types.LoadBalancer{LoadBalancerArn: aws.String(fmt.Sprintf("lb-%d", i))})
	}
	return out, nil
}

func (f *fakeELB) DescribeTargetGroups(context.Context, *elbv2.DescribeTargetGroupsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error) {
	out := &elbv2.DescribeTargetGroupsOutput{}
	for i := range f.tgs {
		out.TargetGroups = append(out.TargetGroups, elbv2types.TargetGroup{TargetGroupArn: aws.String(fmt.Sprintf("tg-%d", i))})
	}
	return out, nil
}

func (f *fakeELB) DescribeTags(_ context.Context, in *elbv2.DescribeTagsInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error) {
	f.batches = append(f.batches, len(in.ResourceArns))
	if len(in.ResourceArns) > 20 {
		return nil, fmt.Errorf("ValidationError: at most 20 resource ARNs, got %d", len(in.ResourceArns))
	}
	out := &elbv2.DescribeTagsOutput{}
	for _, a := range in.ResourceArns {
		td := elbv2types.TagDescription{ResourceArn: aws.String(a)}
		if f.tagged[a] {
			td.Tags = []elbv2types.Tag{{Key: aws.String("team"), Value: aws.String("x")}, {Key: aws.String(config.StackTagKey), Value: aws.String("demo")}}
		}
		out.TagDescriptions = append(out.TagDescriptions, td)
	}
	return out, nil
}

// TestELBTagsInBatches: DescribeTags takes 20 ARNs at most, so 33 load
// balancers and 12 target groups take three calls, and tagged ones in any
// batch are found.
func TestELBTagsInBatches(t *testing.T) {
	f := &fakeELB{lbs: 33, tgs: 12, tagged: map[string]bool{"lb-0": true, "lb-32": true, "tg-11": true}}
	c := &Checker{ELB: f}
	got, err := c.elb(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(f.batches) != "[20 20 5]" {
		t.Errorf("DescribeTags batches = %v, want [20 20 5]", f.batches)
	}
	want := []Resource{{"elbv2 load-balancer", "lb-0"}, {"elbv2 load-balancer", "lb-32"}, {"elbv2 target-group", "tg-11"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("found %v, want %v", got, want)
	}
}
