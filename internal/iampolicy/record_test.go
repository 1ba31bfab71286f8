package iampolicy_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/cli"
	"github.com/graviton-cd/graviton-cd/internal/iampolicy"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

// graviton runs the binary's command line in-process.
func graviton(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.RunIO(t.Context(), append([]string{"graviton-cd"}, args...), &stdout, &stderr)
	return code, stdout.String() + stderr.String()
}

// recordingEnv points this test's AWS SDK and Terraform at moto through rec,
// with the local stack's test credentials.
func recordingEnv(t *testing.T, rec *localstack.Recorder) {
	t.Helper()
	localstack.SetAWSEnv(t)
	t.Setenv("AWS_ENDPOINT_URL", rec.URL)
	for _, k := range []string{"GRAVITON_CD_REGION", "GRAVITON_CD_ENDPOINT_URL", "GRAVITON_CD_TERRAFORM_BINARY"} {
		t.Setenv(k, "")
	}
}

// checkCovered fails for every recorded action that the policy for steps
// does not allow, and logs what was recorded for the record.
func checkCovered(t *testing.T, what string, rec *localstack.Recorder, steps ...iampolicy.Step) []string {
	t.Helper()
	got := rec.Actions()
	if len(got) == 0 {
		t.Fatalf("%s: the recorder saw no AWS call; is AWS_ENDPOINT_URL reaching it?", what)
	}
	t.Logf("%s called %d actions: %s", what, len(got), strings.Join(got, " "))
	policy := iampolicy.Policy(iampolicy.Options{Steps: steps})
	for _, a := range got {
		if !iampolicy.Allows(policy, a) {
			t.Errorf("%s called %s, which the policy for %v does not allow", what, a, steps)
		}
	}
	return got
}

func uniqueName(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + "-" + hex.EncodeToString(b)
}

// TestPolicyCoversDeployAgainstMoto runs deploy for real against moto
// through the recording proxy: once with --no-wait (register + update), once
// following the deployment until its timeout with --rollback-on-failure
// (moto never completes a rollout), which adds the polling and rollback calls.
func TestPolicyCoversDeployAgainstMoto(t *testing.T) {
	rec := localstack.Record(t)
	// The service is set up around the recorder: only deploy's calls count.
	client := ecs.NewFromConfig(localstack.AWSConfig(t))
	ctx := t.Context()
	cluster := uniqueName(t, "iam")
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family:          aws.String(cluster),
		RuntimePlatform: &ecstypes.RuntimePlatform{CpuArchitecture: ecstypes.CPUArchitectureArm64, OperatingSystemFamily: ecstypes.OSFamilyLinux},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("example.com/web:1"), Memory: aws.Int32(128),
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": "/ecs/" + cluster, "awslogs-region": localstack.Region, "awslogs-stream-prefix": "app"}}}},
		Tags: []ecstypes.Tag{{Key: aws.String(iampolicy.StackTagKey), Value: aws.String(cluster)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("web"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	recordingEnv(t, rec)

	base := []string{"deploy", "--cluster", cluster, "--service", "web", "--check-image-arch=false"}
	if code, out := graviton(t, append(base, "--image", "example.com/web:2", "--no-wait")...); code != cli.ExitOK {
		t.Fatalf("deploy --no-wait: exit %d\n%s", code, out)
	}
	code, out := graviton(t, append(base, "--image", "example.com/web:3", "--timeout", "3s", "--rollback-on-failure")...)
	if code != cli.ExitFailed {
		t.Fatalf("deploy against moto (which never completes a rollout) with --timeout 3s: exit %d, want %d\n%s", code, cli.ExitFailed, out)
	}
	got := checkCovered(t, "deploy", rec, iampolicy.Deploy)
	for _, want := range []string{"ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "ecs:UpdateService"} {
		if !strings.Contains(strings.Join(got, " "), want) {
			t.Errorf("deploy never called %s: the recording does not show the path it should", want)
		}
	}
}

// TestPolicyCoversProvisionDeployDestroyAgainstMoto runs the whole life of a
// stack through real Terraform, the AWS provider and moto, each step
// through its own recorder, and checks each step's calls against the policy
// for that step alone (what `iam-policy --for <step>` prints).
func TestPolicyCoversProvisionDeployDestroyAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("a full apply and destroy against moto takes minutes")
	}
	localstack.Moto(t)
	tools := localstack.Terraform(t)
	t.Setenv("TF_CLI_CONFIG_FILE", tools.CLIConfigFile)
	name := uniqueName(t, "iam")
	dir := filepath.Join(t.TempDir(), "stack")
	// destroy renders the module again from these flags, so its provider
	// talks to destroy's recorder, not provision's.
	stackFlags := []string{"--name", name, "--dir", dir, "--terraform-binary", tools.Binary, "--region", localstack.Region}

	provisionRec := localstack.Record(t)
	recordingEnv(t, provisionRec)
	start := time.Now()
	if code, out := graviton(t, append([]string{"provision"}, stackFlags...)...); code != cli.ExitOK {
		t.Fatalf("provision: exit %d\n%s", code, tail(out))
	}
	t.Logf("provision took %s", time.Since(start).Round(time.Second))
	checkCovered(t, "provision", provisionRec, iampolicy.Provision)

	deployRec := localstack.Record(t)
	recordingEnv(t, deployRec)
	if code, out := graviton(t, "deploy", "--stack-dir", dir, "--image", "public.ecr.aws/nginx/nginx:mainline-alpine", "--check-image-arch=false", "--no-wait"); code != cli.ExitOK {
		t.Fatalf("deploy: exit %d\n%s", code, tail(out))
	}
	checkCovered(t, "deploy", deployRec, iampolicy.Deploy)

	destroyRec := localstack.Record(t)
	recordingEnv(t, destroyRec)
	start = time.Now()
	code, out := graviton(t, append([]string{"destroy"}, stackFlags...)...)
	if code != cli.ExitOK {
		t.Fatalf("destroy: exit %d\n%s", code, tail(out))
	}
	t.Logf("destroy took %s", time.Since(start).Round(time.Second))
	got := checkCovered(t, "destroy", destroyRec, iampolicy.Destroy)
	for _, want := range []string{"tag:GetResources", "ecs:DeregisterTaskDefinition", "ec2:DescribeInstances"} {
		if !strings.Contains(strings.Join(got, " "), want) {
			t.Errorf("destroy never called %s: the recording does not show the path it should", want)
		}
	}
}

// tail keeps the end of a long log for a failure message.
func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}
