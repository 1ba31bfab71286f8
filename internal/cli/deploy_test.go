package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// deployServer is an ECS endpoint whose first rollout plays frames. The CLI
// runs on the wall clock, so the scripts here reach their verdict at once.
func deployServer(t *testing.T, o ecsfake.Options) *ecsfake.Server {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "")
	o.Cluster, o.Service, o.DesiredCount = "demo", "web", 1
	o.TaskDefinition = map[string]any{
		"family": "web", "cpu": "256", "memory": "512",
		"runtimePlatform":      map[string]any{"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
		"containerDefinitions": []any{map[string]any{"name": "app", "image": "example.com/web:1", "essential": true}},
	}
	return ecsfake.New(t, ecsfake.NewClock(time.Now()), o)
}

var completedAtOnce = []ecsfake.Frame{{At: 0, Running: 1, Rollout: "COMPLETED", PriorGone: true}}

func deployArgs(srv *ecsfake.Server, extra ...string) []string {
	return append([]string{"deploy", "--region", "us-east-1", "--endpoint-url", srv.URL, "--check-image-arch=false"}, extra...)
}

func TestDeploySucceedsWithJSONSummary(t *testing.T) {
	srv := deployServer(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{completedAtOnce}})
	code, out, stderr := run(t, deployArgs(srv, "--cluster", "demo", "--service", "web", "--image", "example.com/web:2", "--output", "json")...)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var res map[string]any
	if err := json.Unmarshal(resultOf(t, out), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	want := map[string]any{
		"cluster": "demo", "service": "web", "result": "succeeded", "image": "example.com/web:2", "service_updated": true,
		"task_definition_arn":          "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2",
		"previous_task_definition_arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
	}
	for k, v := range want {
		if res[k] != v {
			t.Errorf("%s = %v, want %v", k, res[k], v)
		}
	}
	if id, _ := res["deployment_id"].(string); !strings.HasPrefix(id, "ecs-svc/") {
		t.Errorf("deployment_id = %v", res["deployment_id"])
	}
	if _, ok := res["duration_seconds"].(float64); !ok {
		t.Errorf("duration_seconds = %v", res["duration_seconds"])
	}
}

func TestDeployFromStackDirAndEnv(t *testing.T) {
	// Three running: the desired count this deploy sets, and success needs all.
	srv := deployServer(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{{{At: 0, Running: 3, Rollout: "COMPLETED", PriorGone: true}}}})
	dir := t.TempDir()
	if err := stack.WriteOutputs(dir, stack.Outputs{Cluster: "demo", Service: "web", ContainerName: "app", Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GRAVITON_CD_STACK_DIR", dir)
	t.Setenv("GRAVITON_CD_IMAGE", "example.com/web:3")
	t.Setenv("GRAVITON_CD_CHECK_IMAGE_ARCH", "false")
	t.Setenv("GRAVITON_CD_ENDPOINT_URL", srv.URL)
	t.Setenv("GRAVITON_CD_DESIRED_COUNT", "3")
	code, out, stderr := run(t, "deploy")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.HasPrefix(out, "deploy succeeded: service web runs arn:aws:ecs:us-east-1:123456789012:task-definition/web:2") {
		t.Errorf("summary = %q", out)
	}
	ups := srv.Updates()
	if len(ups) != 1 || ups[0]["desiredCount"] != float64(3) {
		t.Errorf("UpdateService = %v, want desiredCount 3", ups)
	}
	if !strings.Contains(stderr, "PRIMARY COMPLETED") {
		t.Errorf("progress does not show the verdict:\n%s", stderr)
	}
}

func TestDeployFailures(t *testing.T) {
	failed := []ecsfake.Frame{{At: 0, Failed: 3, Rollout: "FAILED", Reason: "ECS deployment circuit breaker: tasks failed to start.", PriorRunning: 1}}
	cases := []struct {
		name   string
		opts   ecsfake.Options
		args   []string
		env    map[string]string
		result string
		msg    string
	}{
		{name: "deployment failed", opts: ecsfake.Options{Rollouts: [][]ecsfake.Frame{failed}}, result: "failed", msg: "circuit breaker"},
		{name: "timeout", args: []string{"--timeout", "1s"}, result: "timed_out", msg: "did not finish within 1s"},
		{name: "no wait", args: []string{"--no-wait"}, result: "started"},
		{name: "rolled back", opts: ecsfake.Options{Rollouts: [][]ecsfake.Frame{failed, completedAtOnce}}, args: []string{"--rollback-on-failure"},
			result: "rolled_back", msg: "rolled back to arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"},
		{name: "rollback from env", opts: ecsfake.Options{Rollouts: [][]ecsfake.Frame{failed, completedAtOnce}}, env: map[string]string{"GRAVITON_CD_ROLLBACK_ON_FAILURE": "true"},
			result: "rolled_back", msg: "rolled back"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := deployServer(t, tc.opts)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := deployArgs(srv, append([]string{"--cluster", "demo", "--service", "web", "--image", "example.com/web:2", "--output", "json"}, tc.args...)...)
			code, out, stderr := run(t, args...)
			if testing.Verbose() {
				t.Logf("stderr:\n%s\nstdout:\n%s", stderr, out)
			}
			wantCode := ExitFailed
			if tc.result == "started" {
				wantCode = ExitOK
			}
			if code != wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, wantCode, stderr)
			}
			var res map[string]any
			if err := json.Unmarshal(resultOf(t, out), &res); err != nil || res["result"] != tc.result {
				t.Fatalf("summary %q (%v), want result %s", out, err, tc.result)
			}
			if !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr does not say %q:\n%s", tc.msg, stderr)
			}
			if updated := res["service_updated"] == true; updated != !tc.opts.Missing {
				t.Errorf("service_updated = %v", res["service_updated"])
			}
		})
	}
}

func TestDeployBadInputExits2BeforeAnyRequest(t *testing.T) {
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"no image", []string{"--cluster", "demo", "--service", "web"}, "--image"},
		{"no service", []string{"--image", "example.com/web:2"}, "--stack-dir"},
		{"bad image", []string{"--cluster", "demo", "--service", "web", "--image", "Not An Image"}, "not an image reference"},
		{"bad timeout", []string{"--cluster", "demo", "--service", "web", "--image", "a/b:1", "--timeout", "0s"}, "--timeout"},
		{"unparsable timeout", []string{"--cluster", "demo", "--service", "web", "--image", "a/b:1", "--timeout", "soon"}, "timeout"},
		{"bad desired count", []string{"--cluster", "demo", "--service", "web", "--image", "a/b:1", "--desired-count", "-1"}, "--desired-count"},
		{"missing stack dir", []string{"--stack-dir", "/nonexistent/stack", "--image", "a/b:1"}, "outputs.json not found"},
		{"bad endpoint", []string{"--cluster", "demo", "--service", "web", "--image", "a/b:1", "--endpoint-url", "ftp://x"}, "endpoint-url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := deployServer(t, ecsfake.Options{})
			args := []string{"deploy", "--region", "us-east-1"}
			if tc.name != "bad endpoint" {
				args = append(args, "--endpoint-url", srv.URL)
			}
			code, out, stderr := run(t, append(args, tc.args...)...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr does not say %q:\n%s", tc.msg, stderr)
			}
			if out != "" {
				t.Errorf("printed a summary for bad input: %q", out)
			}
			if n := len(srv.CallLog()); n != 0 {
				t.Errorf("%d AWS calls for bad input, want none", n)
			}
		})
	}
}

// An amd64-only image is refused before anything is registered.
func TestDeployRefusesAmd64OnlyImage(t *testing.T) {
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	image := strings.TrimPrefix(reg.URL, "http://") + "/web:amd64"
	ref, _ := name.ParseReference(image)
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials from this machine

	srv := deployServer(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{completedAtOnce}})
	code, _, stderr := run(t, "deploy", "--region", "us-east-1", "--endpoint-url", srv.URL, "--cluster", "demo", "--service", "web", "--image", image)
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d\n%s", code, ExitFailed, stderr)
	}
	if !strings.Contains(stderr, "no linux/arm64 variant (it has linux/amd64)") {
		t.Errorf("stderr does not name the platforms:\n%s", stderr)
	}
	if srv.Calls("RegisterTaskDefinition") != 0 || srv.Calls("UpdateService") != 0 {
		t.Error("changed the service for an amd64-only image")
	}
}

// Against moto the binary's register+update path runs for real; moto never
// starts a deployment, so the local demo deploys with --no-wait.
func TestDeployNoWaitAgainstMoto(t *testing.T) {
	cfg := localstack.AWSConfig(t)
	localstack.SetAWSEnv(t)
	client := ecs.NewFromConfig(cfg)
	ctx := t.Context()
	cluster := fmt.Sprintf("gcd-cli-%d", time.Now().UnixNano()%1_000_000_000)
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster), Tags: motoTestTags}); err != nil {
		t.Fatal(err)
	}
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String(cluster),
		RuntimePlatform:      &ecstypes.RuntimePlatform{CpuArchitecture: ecstypes.CPUArchitectureArm64, OperatingSystemFamily: ecstypes.OSFamilyLinux},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("example.com/web:1"), Memory: aws.Int32(128)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("web"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1), Tags: motoTestTags}); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := run(t, "deploy", "--cluster", cluster, "--service", "web", "--image", "example.com/web:2",
		"--check-image-arch=false", "--no-wait", "--output", "json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var res map[string]any
	if err := json.Unmarshal(resultOf(t, out), &res); err != nil || res["result"] != "started" || res["service_updated"] != true {
		t.Fatalf("summary %s (%v)", out, err)
	}
	svc, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"web"}})
	if err != nil || aws.ToString(svc.Services[0].TaskDefinition) != res["task_definition_arn"] {
		t.Fatalf("service runs %v, want %v (%v)", aws.ToString(svc.Services[0].TaskDefinition), res["task_definition_arn"], err)
	}
}

// motoTestTags go on every ECS cluster and service a test creates in moto:
// one untagged ECS resource makes moto's tagging API (GetResources) fail for
// every caller sharing that moto, destroy's leftover check included.
var motoTestTags = []ecstypes.Tag{{Key: aws.String("graviton-cd:test"), Value: aws.String("cli")}}
