package ecsdeploy

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/localstack"
	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// TestVerbsAgainstMoto runs rollback's revision choice and update and the
// dry run for real against moto: three revisions of a family and a service
// on the third. moto never progresses a rollout (a new service's deployment
// stays IN_PROGRESS, so the rollback needs Force), and run-task cannot run on
// it: moto 5.x answers RunTask with HTTP 500 on a cluster without container
// instances, and with one registered it renders the task's cpu as the number
// 0 where the API has a string, which the SDK refuses to decode. Following
// rollouts and run-task are left to the protocol-level tests.
func TestVerbsAgainstMoto(t *testing.T) {
	cfg := localstack.AWSConfig(t)
	client := ecs.NewFromConfig(cfg)
	ctx := context.Background()
	cluster := localstack.UniqueName(t, "gcd-verbs")
	family := localstack.UniqueName(t, "web")
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster), Tags: motoTestTags}); err != nil {
		t.Fatalf("create cluster: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background() // t.Context is cancelled by now
		_, _ = client.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), Force: aws.Bool(true)})
		_, _ = client.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(cluster)})
	})
	var arns []string
	for _, image := range []string{"example.com/web:1", "example.com/web:2", "example.com/web:3"} {
		td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(family), Cpu: aws.String("256"), Memory: aws.String("512"),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
			RuntimePlatform:         &types.RuntimePlatform{CpuArchitecture: types.CPUArchitectureArm64, OperatingSystemFamily: types.OSFamilyLinux},
			ContainerDefinitions:    []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true), Memory: aws.Int32(128)}},
		})
		if err != nil {
			t.Fatalf("register task definition: %v", err)
		}
		arns = append(arns, aws.ToString(td.TaskDefinition.TaskDefinitionArn))
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String("web"), TaskDefinition: aws.String(arns[2]),
		DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeEc2, Tags: motoTestTags,
	}); err != nil {
		t.Fatalf("create service: %v", err)
	}
	var out bytes.Buffer
	d := &Deployer{ECS: client, Log: progress.New(&out, nil, true)}
	defer func() { t.Logf("progress:\n%s", out.String()) }()

	t.Run("dry run", func(t *testing.T) {
		p, err := d.PlanDeploy(ctx, Request{Cluster: cluster, Service: "web", Image: "example.com/web:4", Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if p.CurrentTaskDefinitionARN != arns[2] || len(p.Diff) == 0 {
			t.Errorf("plan %+v", p)
		}
		list, err := client.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family)})
		if err != nil || len(list.TaskDefinitionArns) != 3 {
			t.Errorf("after the dry run the family has %v (%v), want the 3 revisions", list.TaskDefinitionArns, err)
		}
	})
	t.Run("rollback to the previous revision", func(t *testing.T) {
		res, err := d.RollbackService(ctx, RollbackRequest{Cluster: cluster, Service: "web", Timeout: time.Minute, NoWait: true, Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.TaskDefinitionARN != arns[1] || res.PreviousTaskDefinitionARN != arns[2] || res.Outcome != OutcomeStarted {
			t.Errorf("result %+v, want %s from %s", res, arns[1], arns[2])
		}
		svc, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"web"}})
		if err != nil || aws.ToString(svc.Services[0].TaskDefinition) != arns[1] {
			t.Errorf("service runs %v (%v), want %s", aws.ToString(svc.Services[0].TaskDefinition), err, arns[1])
		}
	})
	t.Run("rollback to another family is refused", func(t *testing.T) {
		_, err := d.RollbackService(ctx, RollbackRequest{Cluster: cluster, Service: "web", To: "other-family:1", Timeout: time.Minute, NoWait: true, Force: true})
		if err == nil {
			t.Fatal("rollback to another family succeeded")
		}
	})
}
