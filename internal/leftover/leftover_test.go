package leftover

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
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
