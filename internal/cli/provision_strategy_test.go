package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Strategy flags: bad values are refused with exit 2 and nothing written.
func TestProvisionStrategyRejectsBadInput(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		msg  string
	}{
		{"unknown strategy", []string{"--strategy", "bluegreen"}, nil, "--strategy: \"bluegreen\" is not a strategy"},
		{"bake on rolling", []string{"--bake-time", "10m"}, nil, "--bake-time: applies to --strategy"},
		{"canary setting on blue-green", []string{"--strategy", "blue-green", "--canary-percent", "10"}, nil, "--canary-percent: applies to --strategy canary"},
		{"alarm on rolling", nil, map[string]string{"GRAVITON_CD_ROLLBACK_ALARM": "web-5xx"}, "--rollback-alarm"},
		{"bake without unit", []string{"--strategy", "canary", "--bake-time", "10"}, nil, "has no unit"},
		{"linear step too small", []string{"--strategy", "linear", "--linear-percent", "1"}, nil, "from 3 to 100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isolateAWS(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dir := filepath.Join(t.TempDir(), "stack")
			code, stdout, stderr := run(t, append([]string{"provision", "--dir", dir, "--name", "demo"}, tc.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.msg) || stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and %q", code, stdout, stderr, tc.msg)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s was created on bad input", dir)
			}
		})
	}
}

// --render-only with --strategy canary renders the second target group, the
// listener rules, the infrastructure role and the service's strategy.
func TestProvisionRenderCanary(t *testing.T) {
	isolateAWS(t)
	dir := filepath.Join(t.TempDir(), "stack")
	code, _, stderr := run(t, "provision", "--name", "cnr", "--dir", dir, "--render-only", "--state-backend", "local",
		"--strategy", "canary", "--canary-percent", "20", "--canary-interval", "10m", "--bake-time", "30m", "--rollback-alarm", "cnr-5xx")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	src, err := os.ReadFile(filepath.Join(dir, "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`version = ">= 6.21.0, < 7.0"`, `resource "aws_lb_target_group" "alternate"`, `http_header_name = "X-Graviton-CD-Test"`,
		`strategy             = "CANARY"`, `bake_time_in_minutes = "30"`, `canary_percent              = 20`, `canary_bake_time_in_minutes = "10"`,
		`alarm_names = ["cnr-5xx"]`, `test_listener_rule         = aws_lb_listener_rule.test.arn`, "AmazonECSInfrastructureRolePolicyForLoadBalancers"} {
		if !strings.Contains(string(src), want) {
			t.Errorf("main.tf lacks %s", want)
		}
	}
}
