package cli

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/leftover"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// uniqueStackName gives each run its own stack, so packages sharing one
// moto never collide.
func uniqueStackName(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + "-" + hex.EncodeToString(b)
}

// realStack points the test at moto and the Terraform CLI with the provider
// mirror, or skips (fails under CI) when they are not there.
func realStack(t *testing.T) localstack.Tools {
	t.Helper()
	localstack.Moto(t)
	tools := localstack.Terraform(t)
	localstack.SetAWSEnv(t)
	t.Setenv("TF_CLI_CONFIG_FILE", tools.CLIConfigFile)
	for _, k := range []string{"GRAVITON_CD_REGION", "GRAVITON_CD_TERRAFORM_BINARY", "GRAVITON_CD_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	return tools
}

func runJSON(t *testing.T, v any, args ...string) (int, string) {
	t.Helper()
	code, stdout, stderr := run(t, append([]string{"--output", "json"}, args...)...)
	if code == ExitOK && v != nil {
		if err := json.Unmarshal([]byte(stdout), v); err != nil {
			t.Fatalf("%s: result is not JSON (%v): %q", args[0], err, stdout)
		}
	}
	return code, stderr
}

// TestProvisionDestroyRealStack runs the whole life of a stack against moto
// with real Terraform and the AWS provider: plan-only, provision, provision
// again (no changes), destroy, destroy again, and the leftover check.
func TestProvisionDestroyRealStack(t *testing.T) {
	tools := realStack(t)
	name := uniqueStackName(t, "pd")
	dir := filepath.Join(t.TempDir(), "stack")
	provision := []string{"provision", "--name", name, "--dir", dir, "--terraform-binary", tools.Binary, "--tags", "team=platform,cost-center=42"}

	// --plan-only: a plan file and a summary, nothing applied.
	start := time.Now()
	var planned provisionResult
	if code, stderr := runJSON(t, &planned, append(provision, "--plan-only")...); code != ExitOK {
		t.Fatalf("provision --plan-only: exit %d\n%s", code, tail(stderr))
	}
	t.Logf("plan-only (init + plan): %s", time.Since(start).Round(time.Second))
	if planned.Mode != "plan-only" || planned.Plan == nil || planned.Plan.Add < 25 || planned.Plan.Change != 0 || planned.Plan.Destroy != 0 {
		t.Fatalf("plan-only result = %+v, want 25+ to add", planned)
	}
	if _, err := os.Stat(filepath.Join(dir, planFile)); err != nil {
		t.Errorf("--plan-only did not keep the plan file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, stack.OutputsFile)); !os.IsNotExist(err) {
		t.Errorf("--plan-only wrote outputs.json")
	}

	// provision: apply, then outputs.json for the later jobs.
	start = time.Now()
	var applied provisionResult
	if code, stderr := runJSON(t, &applied, provision...); code != ExitOK {
		t.Fatalf("provision: exit %d\n%s", code, tail(stderr))
	}
	t.Logf("provision (init + plan + apply of %d resources): %s", applied.Plan.Add, time.Since(start).Round(time.Second))
	o, err := stack.ReadOutputs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if o.StackName != name || o.Region != localstack.Region || o.Cluster != name || o.Service != name ||
		o.ContainerName != "app" || o.TaskFamily != name || o.LogGroup != "/ecs/"+name ||
		!strings.HasPrefix(o.URL, "http://") || !strings.Contains(o.URL, o.ALBDNSName) || o.ALBDNSName == "" {
		t.Errorf("outputs.json = %+v", o)
	}
	if applied.Outputs == nil || *applied.Outputs != o {
		t.Errorf("JSON result outputs %+v differ from outputs.json %+v", applied.Outputs, o)
	}

	// provision again: the stack already matches.
	start = time.Now()
	var again provisionResult
	if code, stderr := runJSON(t, &again, provision...); code != ExitOK {
		t.Fatalf("second provision: exit %d\n%s", code, tail(stderr))
	}
	t.Logf("provision again (no changes): %s", time.Since(start).Round(time.Second))
	if again.Plan == nil || again.Plan.Add != 0 || again.Plan.Change != 0 || again.Plan.Destroy != 0 {
		t.Errorf("second provision planned %+v, want 0/0/0", again.Plan)
	}

	// destroy from the stack directory, as the orb's destroy job does.
	start = time.Now()
	var destroyed destroyResult
	if code, stderr := runJSON(t, &destroyed, "destroy", "--stack-dir", dir, "--terraform-binary", tools.Binary); code != ExitOK {
		t.Fatalf("destroy: exit %d\n%s", code, tail(stderr))
	}
	t.Logf("destroy (%d resources, then leftover check): %s", destroyed.Destroyed, time.Since(start).Round(time.Second))
	if destroyed.Destroyed < 25 || destroyed.NothingToDrop || len(destroyed.Leftovers) != 0 {
		t.Errorf("destroy result = %+v", destroyed)
	}
	if _, err := os.Stat(filepath.Join(dir, stack.OutputsFile)); !os.IsNotExist(err) {
		t.Errorf("destroy left outputs.json pointing at a gone stack")
	}

	// destroy again: exit 0, nothing left.
	code, stdout, stderr := run(t, "destroy", "--stack-dir", dir, "--terraform-binary", tools.Binary)
	if code != ExitOK || !strings.Contains(stdout, "nothing left to destroy") {
		t.Errorf("second destroy: exit %d, stdout %q\n%s", code, stdout, tail(stderr))
	}

	// And the AWS APIs agree.
	left, err := leftover.NewChecker(localstack.AWSConfig(t)).Find(t.Context(), name)
	if err != nil || len(left) != 0 {
		t.Errorf("leftovers after destroy: %v, %v", left, err)
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
