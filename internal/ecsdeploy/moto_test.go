package ecsdeploy

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/localstack"
	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// TestDeployAgainstMoto runs the registration and update path for real
// against moto: a cluster, an ARM64 task definition with two containers and a
// service created through the SDK, then Deploy with NoWait. moto never
// progresses a rollout, so following it is left to the protocol-level tests.
func TestDeployAgainstMoto(t *testing.T) {
	cfg := localstack.AWSConfig(t)
	client := ecs.NewFromConfig(cfg)
	ctx := context.Background()
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1_000_000_000)
	cluster, service, family := "gcd-deploy-"+suffix, "web-"+suffix, "web-"+suffix

	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster), Tags: motoTestTags}); err != nil {
		t.Fatalf("create cluster: %v", err)
	}
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), Cpu: aws.String("256"), Memory: aws.String("512"),
		NetworkMode:             types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
		RuntimePlatform:         &types.RuntimePlatform{CpuArchitecture: types.CPUArchitectureArm64, OperatingSystemFamily: types.OSFamilyLinux},
		ExecutionRoleArn:        aws.String("arn:aws:iam::123456789012:role/exec"),
		TaskRoleArn:             aws.String("arn:aws:iam::123456789012:role/task"),
		PlacementConstraints:    []types.TaskDefinitionPlacementConstraint{{Type: types.TaskDefinitionPlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.cpu-architecture == arm64")}},
		Volumes:                 []types.Volume{{Name: aws.String("scratch")}},
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String("example.com/web:1"), Essential: aws.Bool(true),
				Environment: []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("prod")}},
				Secrets:     []types.Secret{{Name: aws.String("DB_URL"), ValueFrom: aws.String("arn:aws:ssm:us-east-1:123456789012:parameter/db")}}},
			{Name: aws.String("proxy"), Image: aws.String("example.com/envoy:1.30"), Essential: aws.Bool(false), Memory: aws.Int32(64)},
		},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}},
	})
	if err != nil {
		t.Fatalf("register task definition: %v", err)
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String(service),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeEc2, Tags: motoTestTags,
	}); err != nil {
		t.Fatalf("create service: %v", err)
	}

	var out bytes.Buffer
	d := &Deployer{ECS: client, Log: progress.New(&out, nil, true)}
	res, err := d.Deploy(ctx, Request{
		Cluster: cluster, Service: service, Container: "app", Image: "example.com/web:2",
		Timeout: time.Minute, NoWait: true,
	})
	t.Logf("progress:\n%s", out.String())
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	// moto takes the revision but starts no deployment of it, so there is
	// no deployment ID to report.
	if res.Outcome != OutcomeStarted || res.TaskDefinitionARN == res.PreviousTaskDefinitionARN {
		t.Fatalf("result = %+v", res)
	}

	svc, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	if err != nil || len(svc.Services) != 1 {
		t.Fatalf("describe service: %v", err)
	}
	if got := aws.ToString(svc.Services[0].TaskDefinition); got != res.TaskDefinitionARN {
		t.Errorf("service runs %s, want %s", got, res.TaskDefinitionARN)
	}
	rev, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(res.TaskDefinitionARN), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	})
	if err != nil {
		t.Fatalf("describe new revision: %v", err)
	}
	n := rev.TaskDefinition
	if n.RuntimePlatform == nil || n.RuntimePlatform.CpuArchitecture != types.CPUArchitectureArm64 {
		t.Errorf("new revision lost ARM64: %+v", n.RuntimePlatform)
	}
	if got := aws.ToString(n.ContainerDefinitions[0].Image); got != "example.com/web:2" {
		t.Errorf("app image = %s", got)
	}
	if got := aws.ToString(n.ContainerDefinitions[1].Image); got != "example.com/envoy:1.30" {
		t.Errorf("proxy image = %s, want it untouched", got)
	}
	c := n.ContainerDefinitions[0]
	if len(c.Environment) != 1 || len(c.Secrets) != 1 || len(n.Volumes) != 1 || len(n.PlacementConstraints) != 1 ||
		aws.ToString(n.ExecutionRoleArn) == "" || aws.ToString(n.TaskRoleArn) == "" || aws.ToString(n.Cpu) != "256" || aws.ToString(n.Memory) != "512" {
		t.Errorf("new revision did not carry everything over: %+v", n)
	}
	if len(rev.Tags) != 1 || aws.ToString(rev.Tags[0].Key) != "team" {
		t.Errorf("tags = %+v, want team=payments", rev.Tags)
	}
}

// Without NoWait, moto's missing deployment is a failure that says to pass
// --no-wait, rather than a wait that can never end.
func TestDeployAgainstMotoNeedsNoWait(t *testing.T) {
	cfg := localstack.AWSConfig(t)
	client := ecs.NewFromConfig(cfg)
	ctx := context.Background()
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1_000_000_000)
	cluster, service := "gcd-wait-"+suffix, "web-"+suffix
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster), Tags: motoTestTags}); err != nil {
		t.Fatalf("create cluster: %v", err)
	}
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String("web-" + suffix),
		RuntimePlatform:      &types.RuntimePlatform{CpuArchitecture: types.CPUArchitectureArm64, OperatingSystemFamily: types.OSFamilyLinux},
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("example.com/web:1"), Memory: aws.Int32(128)}},
	})
	if err != nil {
		t.Fatalf("register task definition: %v", err)
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String(service), TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1), Tags: motoTestTags,
	}); err != nil {
		t.Fatalf("create service: %v", err)
	}
	d := &Deployer{ECS: client, Log: progress.Discard()}
	res, err := d.Deploy(ctx, Request{Cluster: cluster, Service: service, Image: "example.com/web:2", Timeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "--no-wait") || res.Outcome != OutcomeFailed {
		t.Fatalf("Deploy = %+v, %v; want a failure that names --no-wait", res, err)
	}
}

// motoTestTags go on every ECS cluster and service a test creates in moto:
// one untagged ECS resource makes moto's tagging API (GetResources) fail for
// every caller sharing that moto, destroy's leftover check included.
var motoTestTags = []types.Tag{{Key: aws.String("graviton-cd:test"), Value: aws.String("ecsdeploy")}}
