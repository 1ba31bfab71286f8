package orbpack

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// repoRoot is the repository root, seen from this package.
const repoRoot = "../.."

// requireTool finds a tool the shell tests need. Without it the test is
// skipped on a developer's machine but fails in CI (CI=true), where .ci/run
// installs it: a missing tool must never turn into a silently green run.
func requireTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed, and CI=true: install the Debian package %s", name, debianPackage)
	}
	t.Skipf("%s is not installed (Debian package %s); CI runs this test", name, debianPackage)
	return ""
}

func glob(t *testing.T, patterns ...string) []string {
	t.Helper()
	var files []string
	for _, p := range patterns {
		m, err := filepath.Glob(filepath.Join(repoRoot, p))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no files match %v", patterns)
	}
	return files
}

func TestShellcheck(t *testing.T) {
	shellcheck := requireTool(t, "shellcheck", "shellcheck")
	files := glob(t, "src/scripts/*.sh", "src/tests/*.bats", "src/tests/helpers/*.bash", ".circleci/scripts/*.sh",
		".ci/*.sh", ".ci/tests/*.bats")
	out, err := exec.Command(shellcheck, files...).CombinedOutput()
	if err != nil {
		t.Fatalf("shellcheck %v: %v\n%s", files, err, out)
	}
}

// TestBats runs the bats suites: src/tests for the orb's scripts (the install
// script against fake releases on 127.0.0.1, the credentials step, the
// subcommand step and the plan collection) and .ci/tests for .ci/tools.sh on a
// fresh machine (its two long builds stubbed).
func TestBats(t *testing.T) {
	bats := requireTool(t, "bats", "bats")
	requireTool(t, "python3", "python3") // the tests' file server
	for _, dir := range []string{"src/tests", ".ci/tests"} {
		t.Run(dir, func(t *testing.T) {
			cmd := exec.Command(bats, "--tap", filepath.Join(repoRoot, dir))
			out, err := cmd.CombinedOutput()
			t.Logf("bats:\n%s", out)
			if err != nil {
				t.Fatalf("bats %s: %v", dir, err)
			}
		})
	}
}
