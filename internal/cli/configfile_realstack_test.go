package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

// TestConfigFileRealStack provisions a stack from a graviton-cd.hcl against
// moto with real Terraform, writes a second file from the running service
// with init --from-service, and plans the stack from that file: nothing to
// change, so the file init writes says the task settings the service runs.
func TestConfigFileRealStack(t *testing.T) {
	tools := realStack(t)
	name := localstack.UniqueName(t, "cf")
	t.Chdir(t.TempDir())
	src := fmt.Sprintf(`name          = %q
state_backend = "local"
dir           = "stack"
image         = "public.ecr.aws/nginx/nginx:stable-alpine"
container_port = 80
cpu           = 512
memory        = 1024
desired_count = 1
env = {
  LOG_LEVEL = "debug"
  GREETING  = "hello"
}
secret = {
  DB_PASSWORD = "arn:aws:ssm:%s:%s:parameter/%s/db"
}
`, name, localstack.Region, motoAccount, name)
	if err := os.WriteFile("graviton-cd.hcl", []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tf := []string{"--terraform-binary", tools.Binary}

	start := time.Now()
	var applied provisionResult
	if code, stderr := runJSON(t, &applied, append([]string{"provision"}, tf...)...); code != ExitOK {
		t.Fatalf("provision from graviton-cd.hcl: exit %d\n%s", code, localstack.Tail(stderr))
	}
	t.Cleanup(func() {
		// t.Context() is done by now: destroy gets one of its own.
		var stdout, stderr bytes.Buffer
		if code := RunIO(context.Background(), []string{"graviton-cd", "destroy", "--stack-dir", "stack", "--terraform-binary", tools.Binary}, &stdout, &stderr); code != ExitOK {
			t.Errorf("destroy: exit %d\n%s", code, localstack.Tail(stderr.String()))
		}
	})
	t.Logf("provision from graviton-cd.hcl: %s", time.Since(start).Round(time.Second))
	if applied.Stack != name || applied.Outputs == nil || aws.ToString(applied.Outputs.Service) != name {
		t.Fatalf("provision result %+v", applied)
	}

	code, _, stderr := run(t, "init", "--from-service", name+"/"+name, "--config", "from-service.hcl")
	if code != ExitOK {
		t.Fatalf("init --from-service: exit %d\n%s", code, stderr)
	}
	written, _ := os.ReadFile("from-service.hcl")
	for _, want := range []string{`name = "` + name + `"`, "cpu = 512", "memory = 1024", "container_port = 80", `LOG_LEVEL = "debug"`, "DB_PASSWORD = \"arn:aws:ssm:"} {
		if !strings.Contains(strings.Join(strings.Fields(string(written)), " "), want) {
			t.Errorf("from-service.hcl does not say %s:\n%s", want, written)
		}
	}

	start = time.Now()
	var planned provisionResult
	code, stderr = runJSON(t, &planned, append([]string{"provision", "--config", "from-service.hcl", "--state-backend", "local", "--dir", "stack", "--plan-only"}, tf...)...)
	if code != ExitOK {
		t.Fatalf("provision --plan-only from the file init wrote: exit %d\n%s", code, localstack.Tail(stderr))
	}
	t.Logf("plan from the file init wrote: %s", time.Since(start).Round(time.Second))
	if p := planned.Plan; p == nil || p.Add+p.Change+p.Destroy != 0 {
		t.Errorf("the file init wrote plans changes: %+v", planned.Plan)
	}

	// deploy from the file: the new revision carries its environment and secrets.
	code, _, stderr = run(t, "deploy", "--image", "public.ecr.aws/nginx/nginx:mainline-alpine", "--check-image-arch=false", "--no-wait")
	if code != ExitOK {
		t.Fatalf("deploy from graviton-cd.hcl: exit %d\n%s", code, localstack.Tail(stderr))
	}
	ecsc := ecs.NewFromConfig(localstack.AWSConfig(t))
	svc, err := ecsc.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String(name), Services: []string{name}})
	if err != nil || len(svc.Services) != 1 {
		t.Fatalf("describe service: %v", err)
	}
	td, err := ecsc.DescribeTaskDefinition(t.Context(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: svc.Services[0].TaskDefinition})
	if err != nil {
		t.Fatal(err)
	}
	c := td.TaskDefinition.ContainerDefinitions[0]
	var env, secrets []string
	for _, kv := range c.Environment {
		env = append(env, aws.ToString(kv.Name)+"="+aws.ToString(kv.Value))
	}
	for _, s := range c.Secrets {
		secrets = append(secrets, aws.ToString(s.Name)+"="+aws.ToString(s.ValueFrom))
	}
	slices.Sort(env)
	if aws.ToString(c.Image) != "public.ecr.aws/nginx/nginx:mainline-alpine" || !slices.Equal(env, []string{"GREETING=hello", "LOG_LEVEL=debug"}) ||
		len(secrets) != 1 || !strings.HasPrefix(secrets[0], "DB_PASSWORD=arn:aws:ssm:") {
		t.Errorf("deployed revision runs %s with environment %v and secrets %v", aws.ToString(c.Image), env, secrets)
	}
}
