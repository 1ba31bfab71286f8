package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

// quickBlueGreen is a blue/green service deployment: test traffic reaches
// the new revision at once, SUCCESSFUL after a five-minute bake.
func quickBlueGreen() []ecsfake.SDFrame {
	return []ecsfake.SDFrame{
		{At: 0, Stage: "POST_TEST_TRAFFIC_SHIFT", TestPercent: 100},
		{At: time.Second, Stage: "BAKE_TIME", ProductionPercent: 100, TestPercent: 100},
		{At: 5 * time.Minute, Status: ecsfake.SDSuccessful, Stage: "CLEAN_UP", ProductionPercent: 100, TestPercent: 100},
	}
}

// fastForward runs the fake's clock a hundred times faster than the wall
// clock that deploy polls by, until the test ends: a five-minute bake takes
// three seconds.
func fastForward(t *testing.T, clock *ecsfake.Clock) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				clock.Advance(time.Second)
			}
		}
	}()
}

// app answers like a stack whose old revision says version 1 and whose new
// revision, reached only with the test header, says newVersion.
func app(t *testing.T, newVersion string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(TestTrafficHeader) == "1" {
			_, _ = w.Write([]byte(`{"version":"` + newVersion + `"}`))
			return
		}
		_, _ = w.Write([]byte(`{"version":"1"}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// deployServerOn is deployServer on a clock of the test's.
func deployServerOn(t *testing.T, clock *ecsfake.Clock, o ecsfake.Options) *ecsfake.Server {
	deployServer(t, ecsfake.Options{}) // sets the AWS environment up
	o.Cluster, o.Service, o.DesiredCount = "demo", "web", 1
	o.TaskDefinition = map[string]any{
		"family": "web", "cpu": "256", "memory": "512",
		"runtimePlatform":      map[string]any{"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
		"containerDefinitions": []any{map[string]any{"name": "app", "image": "example.com/web:1", "essential": true}},
	}
	return ecsfake.New(t, clock, o)
}

func writeChecks(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "checks.yaml")
	if err := os.WriteFile(p, []byte("checks:\n  - name: version\n    path: /version\n    expect:\n      json:\n        version: \"2\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDeployVerifyChecksOnBlueGreen(t *testing.T) {
	for _, tc := range []struct {
		name       string
		newVersion string
		code       int
		stops      int
	}{
		{"new revision passes", "2", ExitOK, 0},
		{"new revision fails: one StopServiceDeployment ROLLBACK", "3", ExitFailed, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := ecsfake.NewClock(time.Now())
			srv := deployServerOn(t, clock, ecsfake.Options{Strategy: "BLUE_GREEN", RollbackTakes: 10 * time.Second,
				ServiceDeployments: [][]ecsfake.SDFrame{quickBlueGreen()}})
			fastForward(t, clock)
			a := app(t, tc.newVersion)
			junit := filepath.Join(t.TempDir(), "verify.xml")
			code, out, stderr := run(t, deployArgs(srv, "--cluster", "demo", "--service", "web", "--image", "example.com/web:2", "--output", "json",
				"--verify-checks", writeChecks(t), "--verify-url", a.URL, "--verify-timeout", "1s", "--verify-interval", "100ms", "--verify-consecutive", "2", "--junit", junit)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, out, stderr)
			}
			if n := srv.Calls("StopServiceDeployment"); n != tc.stops || srv.Calls("UpdateService") != 1 {
				t.Errorf("StopServiceDeployment %d (want %d), UpdateService %d (want 1)", n, tc.stops, srv.Calls("UpdateService"))
			}
			report, err := os.ReadFile(junit)
			if err != nil {
				t.Fatal(err)
			}
			if failed := strings.Contains(string(report), "<failure"); failed != (tc.code != ExitOK) {
				t.Errorf("JUnit report failure = %v:\n%s", failed, report)
			}
			if tc.code != ExitOK && (!strings.Contains(stderr, `check "version" failed`) || !strings.Contains(out, `"result": "rolled_back"`)) {
				t.Errorf("want the failing check in the log and a rolled_back result:\n%s\n%s", out, stderr)
			}
		})
	}
}

// Verification flags are checked before any AWS call; other controllers are
// refused before any change.
func TestDeployStrategyInputExit2(t *testing.T) {
	cases := []struct {
		name string
		opts ecsfake.Options
		args []string
		want string
		noop bool // no AWS call at all
	}{
		{"verify timeout too short", ecsfake.Options{}, []string{"--verify-path", "/", "--verify-url", "http://127.0.0.1:1", "--verify-timeout", "2s"}, "--verify-timeout: 2s is too short for 3 passes in a row 2s apart", true},
		{"expect without checks", ecsfake.Options{}, []string{"--expect-body", "ok"}, "--expect-body: verifies nothing", true},
		{"verify with no-wait", ecsfake.Options{}, []string{"--verify-path", "/", "--verify-url", "http://127.0.0.1:1", "--no-wait"}, "cannot be used with --no-wait", true},
		{"CodeDeploy service", ecsfake.Options{DeploymentController: "CODE_DEPLOY"}, nil, "CODE_DEPLOY deployment controller", false},
		{"external service", ecsfake.Options{DeploymentController: "EXTERNAL"}, nil, "EXTERNAL deployment controller", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := deployServer(t, tc.opts)
			code, out, stderr := run(t, deployArgs(srv, append([]string{"--cluster", "demo", "--service", "web", "--image", "a/b:1"}, tc.args...)...)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q (stdout %q)", code, stderr, tc.want, out)
			}
			if tc.noop && len(srv.CallLog()) != 0 {
				t.Errorf("%d AWS calls, want none", len(srv.CallLog()))
			}
			if srv.Calls("RegisterTaskDefinition")+srv.Calls("UpdateService") != 0 {
				t.Errorf("the service was changed")
			}
		})
	}
}
