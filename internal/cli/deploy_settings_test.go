package cli

import (
	"strings"
	"testing"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

// Bad --env and --secret on deploy exit 2 before any AWS call, and a value
// given where a secret's ARN belongs is not echoed.
func TestDeploySettingsExit2(t *testing.T) {
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"env without =", []string{"--env", "MODE"}, "--env: \"MODE\" is not KEY=VALUE"},
		{"secret value", []string{"--secret", "DB=pa55word-value"}, "--secret: DB=… is not an SSM parameter"},
		{"secret other region", []string{"--secret", "DB=arn:aws:ssm:eu-west-1:123456789012:parameter/db"}, "in region eu-west-1"},
		{"settings without image", []string{"--force-new-deployment", "--env", "A=1"}, "--image: the container settings"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := deployServer(t, ecsfake.Options{})
			args := []string{"--cluster", "demo", "--service", "web", "--region", "us-east-1"}
			if tc.name != "settings without image" {
				args = append(args, "--image", "a/b:1")
			}
			code, out, stderr := run(t, deployArgs(srv, append(args, tc.args...)...)...)
			if code != ExitUsage || out != "" {
				t.Fatalf("exit %d, stdout %q; want 2 and nothing\n%s", code, out, stderr)
			}
			if !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr = %q, want %q", stderr, tc.msg)
			}
			if strings.Contains(stderr, "pa55word") {
				t.Errorf("stderr echoes the value: %q", stderr)
			}
			if n := len(srv.CallLog()); n != 0 {
				t.Errorf("%d AWS calls, want none", n)
			}
		})
	}
}
