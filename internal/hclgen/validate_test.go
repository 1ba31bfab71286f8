package hclgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

// TestGoldenModulesValidate runs `terraform validate` on every golden module
// with the CLI and AWS provider the local stack uses (the provider from the
// offline mirror: 5.100, or 6.47.1 once built), so the module's schema holds
// against the provider users get, not only its syntax.
func TestGoldenModulesValidate(t *testing.T) {
	tools := localstack.Terraform(t)
	dir := t.TempDir()
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+tools.CLIConfigFile, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	run := func(args ...string) (string, error) {
		cmd := exec.Command(tools.Binary, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	first, version := true, ""
	for _, name := range goldenCases() {
		if needsProvider6(name) && strings.Contains(version, "hashicorp/aws v5.") {
			t.Logf("%s: not validated: it requires AWS provider 6.x (%s)", name, ProviderConstraintBlueGreen)
			continue
		}
		src, err := os.ReadFile(filepath.Join("testdata", name+".tf.golden"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ModuleFile), src, 0o644); err != nil {
			t.Fatal(err)
		}
		if first {
			// One init: every golden needs the same provider; the backend
			// is not validated.
			if out, err := run("init", "-backend=false", "-input=false", "-no-color"); err != nil {
				t.Fatalf("init: %v\n%s", err, localstack.Tail(out))
			}
			if out, _ := run("version"); true {
				version = strings.Join(strings.Fields(out), " ")
				t.Logf("validating with %s", version)
			}
			first = false
		}
		if out, err := run("validate", "-no-color"); err != nil {
			t.Errorf("%s: validate: %v\n%s", name, err, out)
		}
	}
}

// needsProvider6 says whether golden case name renders a traffic-shifting
// strategy, whose blocks only AWS provider 6.x knows.
func needsProvider6(name string) bool { return name == "blue-green" || name == "canary" }
