package orbrun

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/localstack"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// TestFullPipelineExampleOnLocalStack runs the full_pipeline example's orb
// jobs, exactly as the example writes them, with the binary built from this
// tree, real Terraform with the AWS provider from the mirror, and moto as AWS:
// provision → deploy → smoke-test → destroy, chained through the workspace.
// What the local stack cannot do is bridged from the outside, never by
// changing the orb:
//   - moto runs no tasks and no rollouts, so deploy stops after UpdateService
//     (GRAVITON_CD_NO_WAIT in the job's environment, which the orb passes on);
//   - the image is not pulled, so its architecture is not checked;
//   - the app runs here on 127.0.0.1 and smoke-test reaches it through
//     connect_to from the ALB name that provision wrote to outputs.json.
func TestFullPipelineExampleOnLocalStack(t *testing.T) {
	if testing.Short() {
		t.Skip("about 5 minutes of Terraform against moto; skipped with -short")
	}
	moto := localstack.Moto(t)
	tools := localstack.Terraform(t)
	bin := realBinary(t)
	o := loadOrb(t)

	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer app.Close()
	appURL, err := url.Parse(app.URL)
	if err != nil {
		t.Fatal(err)
	}

	name := localstack.UniqueName(t, "orb")
	root := t.TempDir()
	workspace := filepath.Join(root, "workspace")
	stackDir := filepath.Join(workspace, "graviton-cd-stack")
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=" + localstack.Region,
		"AWS_ENDPOINT_URL=" + moto, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"TF_CLI_CONFIG_FILE=" + tools.CLIConfigFile, "CHECKPOINT_DISABLE=1",
		"GRAVITON_CD_TERRAFORM_BINARY=" + tools.Binary,
		"GRAVITON_CD_NO_WAIT=true",
	}
	destroyed := false
	t.Cleanup(func() {
		if destroyed {
			return
		}
		if _, err := os.Stat(filepath.Join(stackDir, "main.tf")); err != nil {
			return
		}
		cmd := exec.Command(bin, "destroy", "--stack-dir", stackDir)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		t.Logf("cleanup destroy: %v\n%s", err, out)
	})

	invs, err := o.ExampleJobs("full_pipeline", pipelineValues)
	if err != nil {
		t.Fatal(err)
	}
	for i, inv := range invs {
		args := map[string]any{"binary_path": bin}
		switch inv.Job {
		case "provision":
			args["stack_name"] = name // one moto serves every package's tests
		case "deploy":
			args["check_image_arch"] = false
		case "smoke-test":
			outputs, err := stack.ReadOutputs(stackDir)
			if err != nil {
				t.Fatal(err)
			}
			args["connect_to"] = fmt.Sprintf("%s:80:127.0.0.1:%s", outputs.ALBDNSName, appURL.Port())
			args["interval"] = "200ms"
			args["timeout"] = "30s"
		}
		base := filepath.Join(root, fmt.Sprintf("%d-%s", i+1, inv.Job))
		dir, home := filepath.Join(base, "project"), filepath.Join(base, "home")
		for _, d := range []string{dir, home} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		var out bytes.Buffer
		start := time.Now()
		res, err := o.RunInvocation(context.Background(), inv, args, Options{
			Dir: dir, Env: append(append([]string(nil), env...), "HOME="+home),
			Workspace: workspace, Stdout: &out, Stderr: &out,
		})
		took := time.Since(start).Round(100 * time.Millisecond)
		if err != nil {
			t.Fatalf("%s (%s): %v\n%s", inv.Job, took, err, out.String())
		}
		t.Logf("%s job passed in %s:\n%s", inv.Job, took, out.String())
		switch inv.Job {
		case "provision":
			for _, f := range []string{"main.tf", "plan.txt", "outputs.json"} {
				if _, err := os.Stat(filepath.Join(dir, ".graviton-cd", "plan", f)); err != nil {
					t.Errorf("provision's artifacts lack %s: %v", f, err)
				}
			}
			if _, err := os.Stat(filepath.Join(stackDir, "outputs.json")); err != nil {
				t.Fatalf("provision persisted no outputs.json: %v", err)
			}
		case "smoke-test":
			junit := filepath.Join(dir, res.Step("store_test_results").Path, "smoke-test.xml")
			if _, err := os.Stat(junit); err != nil {
				t.Errorf("no JUnit report: %v", err)
			}
		case "destroy":
			destroyed = true
		}
	}
	if !destroyed {
		t.Error("the example has no destroy job")
	}
}
