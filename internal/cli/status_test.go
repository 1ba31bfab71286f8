package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestStackByNameRejectsBadInput: status, deploy and smoke-test given a bad
// or conflicting way to find a stack exit 2 before touching AWS.
func TestStackByNameRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"status without a stack", []string{"status"}, "status needs a stack: give --name"},
		{"status name and stack-dir", []string{"status", "--name", "demo", "--stack-dir", dir}, "--name: conflicts with --stack-dir"},
		{"status bad name", []string{"status", "--name", "Demo"}, "not a stack name"},
		{"status stack-dir without outputs", []string{"status", "--stack-dir", dir}, "outputs.json not found"},
		{"status bad backend", []string{"status", "--name", "demo", "--state-backend", "gcs"}, "not a state backend"},
		{"status bucket with local", []string{"status", "--name", "demo", "--state-backend", "local", "--state-bucket", "tf-state"}, "only applies to --state-backend s3"},
		{"status negative events", []string{"status", "--name", "demo", "--events", "-1"}, "0 or more"},
		{"status no region", []string{"status", "--name", "demo"}, "no AWS region"},
		{"deploy name and stack-dir", []string{"deploy", "--name", "demo", "--stack-dir", dir, "--image", "nginx:1"}, "--name: conflicts with --stack-dir"},
		{"smoke-test name and url", []string{"smoke-test", "--name", "demo", "--url", "http://127.0.0.1:1"}, "--name: conflicts with --stack-dir and --url"},
		{"destroy local state with a key", []string{"destroy", "--name", "demo", "--state-backend", "local", "--state-key", "a/b.tfstate", "--dir", filepath.Join(dir, "x")}, "only applies to --state-backend s3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isolateAWS(t)
			if tc.name == "status no region" {
				t.Setenv("AWS_REGION", "")
			}
			code, stdout, stderr := run(t, tc.args...)
			if code != ExitUsage || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, ExitUsage, tc.msg)
			}
			if stdout != "" {
				t.Errorf("stdout %q on bad input", stdout)
			}
		})
	}
}
