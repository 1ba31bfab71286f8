package cli

import (
	"strings"
	"testing"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

// Flags that contradict each other are refused before any AWS call, from
// the command line and from the orb's environment variables alike.
func TestDeployConflictingFlagsExit2(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"flags", []string{"--no-wait", "--rollback-on-failure"}, nil},
		{"environment", nil, map[string]string{"GRAVITON_CD_NO_WAIT": "true", "GRAVITON_CD_ROLLBACK_ON_FAILURE": "true"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := deployServer(t, ecsfake.Options{})
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, out, stderr := run(t, deployArgs(srv, append([]string{"--cluster", "demo", "--service", "web", "--image", "a/b:1"}, tc.args...)...)...)
			if code != ExitUsage || out != "" {
				t.Fatalf("exit %d, stdout %q; want 2 and nothing\n%s", code, out, stderr)
			}
			want := "graviton-cd: error: --rollback-on-failure: cannot be used with --no-wait"
			if !strings.HasPrefix(stderr, want) {
				t.Errorf("stderr = %q, want it to start with %q", stderr, want)
			}
			if n := len(srv.CallLog()); n != 0 {
				t.Errorf("%d AWS calls, want none", n)
			}
		})
	}
}

// A service or cluster that does not exist is bad input: exit 2, one
// message on stderr, no summary on stdout, nothing changed.
func TestDeployMissingServiceOrClusterExits2(t *testing.T) {
	cases := []struct {
		name, cluster, service, msg string
	}{
		{"service", "demo", "nope", "graviton-cd: error: service nope not found in cluster demo: check --cluster and --service (or run provision first)\n"},
		{"cluster", "nope", "web", "graviton-cd: error: cluster nope not found: check --cluster and the region (or run provision first)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := deployServer(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{completedAtOnce}})
			for _, output := range []string{"text", "json"} {
				code, out, stderr := run(t, deployArgs(srv, "--cluster", tc.cluster, "--service", tc.service, "--image", "a/b:1", "--output", output)...)
				if code != ExitUsage {
					t.Fatalf("--output %s: exit %d, want %d\n%s", output, code, ExitUsage, stderr)
				}
				if output == "text" && out != "" {
					t.Errorf("--output %s: stdout %q, want nothing", output, out)
				}
				if output == "json" {
					if e, _ := envelopeOf(t, out); e.Error == nil || e.Error.Kind != KindNotFound || e.Result != nil {
						t.Errorf("--output json: %+v, want error kind not_found and no result", e)
					}
				}
				if !strings.HasSuffix(stderr, tc.msg) || strings.Count(stderr, "not found") != 1 {
					t.Errorf("--output %s: stderr %q, want the one line %q", output, stderr, tc.msg)
				}
			}
			if srv.Calls("RegisterTaskDefinition") != 0 || srv.Calls("UpdateService") != 0 {
				t.Error("changed something for a service that does not exist")
			}
		})
	}
}
