package iampolicy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/cli"
	"github.com/graviton-cd/graviton-cd/internal/iampolicy"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

// TestPolicyCoversDebuggingVerbsAgainstMoto runs logs, deploy --dry-run and
// rollback for real against moto, each through its own recorder, and checks
// each one's calls against the policy for its step alone. run-task is left
// out: moto 5.x cannot run a task the SDK can read (HTTP 500 without a
// container instance; with one, a task whose cpu is a number where the API
// has a string); its calls (RunTask, DescribeTasks, StopTask,
// FilterLogEvents) are in the catalogue from the protocol-level tests.
func TestPolicyCoversDebuggingVerbsAgainstMoto(t *testing.T) {
	cfg := localstack.AWSConfig(t)
	client := ecs.NewFromConfig(cfg)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	ctx := t.Context()
	cluster := localstack.UniqueName(t, "iamv")
	group := "/ecs/" + cluster
	stackTag := []ecstypes.Tag{{Key: aws.String(iampolicy.StackTagKey), Value: aws.String(cluster)}}
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster), Tags: stackTag}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = client.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), Force: aws.Bool(true)})
		_, _ = client.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(cluster)})
		_, _ = logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(group)})
	})
	var arn *string
	for _, image := range []string{"example.com/web:1", "example.com/web:2"} {
		td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family:          aws.String(cluster),
			RuntimePlatform: &ecstypes.RuntimePlatform{CpuArchitecture: ecstypes.CPUArchitectureArm64, OperatingSystemFamily: ecstypes.OSFamilyLinux},
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(128),
				LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
					"awslogs-group": group, "awslogs-region": localstack.Region, "awslogs-stream-prefix": "app"}}}},
			Tags: stackTag,
		})
		if err != nil {
			t.Fatal(err)
		}
		arn = td.TaskDefinition.TaskDefinitionArn
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("web"),
		TaskDefinition: arn, DesiredCount: aws.Int32(1), Tags: stackTag}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("app/app/0123abcd")}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("app/app/0123abcd"),
		LogEvents: []logstypes.InputLogEvent{{Message: aws.String("ERROR from moto"), Timestamp: aws.Int64(time.Now().Add(-time.Minute).UnixMilli())}}}); err != nil {
		t.Fatal(err)
	}
	target := []string{"--cluster", cluster, "--service", "web"}
	for _, v := range []struct {
		step iampolicy.Step
		args []string
		want []string // calls the recording must show
		out  string
	}{
		{iampolicy.Logs, append([]string{"logs", "--container", "app", "--task", "0123abcd"}, target...),
			[]string{"logs:FilterLogEvents", "ecs:DescribeServices", "ecs:DescribeTaskDefinition"}, "ERROR from moto"},
		{iampolicy.Deploy, append([]string{"deploy", "--image", "example.com/web:3", "--check-image-arch=false", "--dry-run"}, target...),
			[]string{"ecs:DescribeServices", "ecs:DescribeTaskDefinition"}, `+      "image": "example.com/web:3",`},
		// moto keeps a new service's deployment IN_PROGRESS for ever: --force.
		{iampolicy.Rollback, append([]string{"rollback", "--force", "--no-wait"}, target...),
			[]string{"ecs:ListTaskDefinitions", "ecs:UpdateService"}, "rollback started"},
	} {
		t.Run(string(v.step), func(t *testing.T) {
			rec := localstack.Record(t)
			recordingEnv(t, rec)
			code, out := graviton(t, v.args...)
			if code != cli.ExitOK || !strings.Contains(out, v.out) {
				t.Fatalf("%v: exit %d, want 0 printing %q\n%s", v.args, code, v.out, out)
			}
			got := strings.Join(checkCovered(t, v.args[0], rec, v.step), " ")
			for _, w := range v.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s never called %s", v.args[0], w)
				}
			}
			if v.args[0] == "deploy" && (strings.Contains(got, "RegisterTaskDefinition") || strings.Contains(got, "UpdateService")) {
				t.Errorf("the dry run changed something: %s", got)
			}
		})
	}
}
