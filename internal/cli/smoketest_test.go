package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// runSmokeTestCLI runs `graviton-cd smoke-test args...` in-process.
func runSmokeTestCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	code, stdout, stderr = run(t, append([]string{"smoke-test"}, args...)...)
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	return code, stdout, stderr
}

// versionServer answers /version with JSON and counts every request.
func versionServer(t *testing.T, version string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path != "/version" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"version":%q,"arch":"arm64"}`, version)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

func TestSmokeTestExitCodes(t *testing.T) {
	srv, _ := versionServer(t, "v1.2.3")
	fast := []string{"--interval", "10ms", "--timeout", "300ms"}

	t.Run("pass is 0", func(t *testing.T) {
		junit := filepath.Join(t.TempDir(), "results", "smoke.xml")
		code, stdout, _ := runSmokeTestCLI(t, append(fast, "--url", srv.URL+"/version", "--expect-json", "version=v1.2.3", "--junit", junit)...)
		if code != ExitOK || !strings.Contains(stdout, "smoke test passed: 1 check in ") {
			t.Fatalf("exit %d, stdout %q", code, stdout)
		}
		var suites struct {
			Tests int `xml:"tests,attr"`
		}
		data, err := os.ReadFile(junit)
		if err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(data, &suites); err != nil || suites.Tests != 1 {
			t.Errorf("JUnit: %v, tests=%d", err, suites.Tests)
		}
	})

	t.Run("wrong version is 1, names check, expectation and answer", func(t *testing.T) {
		junit := filepath.Join(t.TempDir(), "smoke.xml")
		code, stdout, stderr := runSmokeTestCLI(t, append(fast, "--url", srv.URL+"/version", "--expect-json", "version=v2", "--junit", junit)...)
		if code != ExitFailed {
			t.Fatalf("exit %d, want %d", code, ExitFailed)
		}
		if !strings.Contains(stdout, "smoke test FAILED: 1 of 1 check failed (GET /version)") {
			t.Errorf("stdout %q", stdout)
		}
		for _, want := range []string{`check "GET /version" failed`, `expected JSON version = "v2", got "v1.2.3"`, "200 OK in", `body "{\"version\":\"v1.2.3\"`} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr should contain %q", want)
			}
		}
		if data, err := os.ReadFile(junit); err != nil || !bytes.Contains(data, []byte("<failure")) {
			t.Errorf("a failed run still writes JUnit with the failure: %v", err)
		}
	})

	t.Run("json output", func(t *testing.T) {
		code, stdout, _ := runSmokeTestCLI(t, append(fast, "--url", srv.URL+"/missing", "--output", "json", "--consecutive", "1")...)
		if code != ExitFailed {
			t.Fatalf("exit %d", code)
		}
		var rep struct {
			Passed bool
			Checks []struct {
				Name, Failure string
				Attempts      int
				LastStatus    int `json:"last_status"`
			}
		}
		if err := json.Unmarshal(resultOf(t, stdout), &rep); err != nil {
			t.Fatalf("stdout is not JSON: %v", err)
		}
		if rep.Passed || len(rep.Checks) != 1 || rep.Checks[0].LastStatus != 404 || rep.Checks[0].Attempts < 2 {
			t.Errorf("summary: %+v", rep)
		}
	})

	t.Run("as the demo runs it: --stack-dir, --path, --connect-to", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		alb := "demo-alb-1234567890.us-east-1.elb.amazonaws.com"
		dir := t.TempDir()
		if err := stack.WriteOutputs(dir, stack.Outputs{ALBDNSName: alb, URL: "http://" + alb}); err != nil {
			t.Fatal(err)
		}
		code, stdout, _ := runSmokeTestCLI(t, "--stack-dir", dir, "--path", "/version", "--connect-to", alb+":80:127.0.0.1:"+port,
			"--expect-json", "version=v1.2.3", "--interval", "10ms", "--consecutive", "3", "--timeout", "2s")
		if code != ExitOK || !strings.Contains(stdout, "passed") {
			t.Fatalf("exit %d", code)
		}
	})

	t.Run("as the orb runs it: every variable set, unused ones empty", func(t *testing.T) {
		junit := filepath.Join(t.TempDir(), "test-results", "graviton-cd", "smoke-test.xml")
		for name, value := range map[string]string{
			"URL": srv.URL, "STACK_DIR": "", "PATH": "/version", "EXPECT_STATUS": "", "EXPECT_BODY": "",
			"EXPECT_BODY_REGEX": "", "EXPECT_HEADER": "", "EXPECT_JSON": "", "CHECKS": "", "TIMEOUT": "2s",
			"INTERVAL": "10ms", "CONSECUTIVE": "3", "MAX_LATENCY": "", "CONNECT_TO": "", "CA_CERT": "",
			"INSECURE": "false", "JUNIT": junit, "LOG_LEVEL": "info",
		} {
			t.Setenv("GRAVITON_CD_"+name, value)
		}
		if code, _, _ := runSmokeTestCLI(t); code != ExitOK {
			t.Fatalf("exit %d", code)
		}
		if _, err := os.Stat(junit); err != nil {
			t.Errorf("JUnit report: %v", err)
		}
	})

	t.Run("env vars and --connect-to to an ALB name", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		alb := "my-alb-123.us-east-1.elb.amazonaws.com"
		t.Setenv("GRAVITON_CD_URL", "http://"+alb+"/version")
		t.Setenv("GRAVITON_CD_CONNECT_TO", alb+":80:127.0.0.1:"+port)
		t.Setenv("GRAVITON_CD_EXPECT_JSON", "version=v1.2.3")
		t.Setenv("GRAVITON_CD_INTERVAL", "10ms")
		t.Setenv("GRAVITON_CD_TIMEOUT", "2s")
		if code, _, _ := runSmokeTestCLI(t); code != ExitOK {
			t.Fatalf("exit %d", code)
		}
	})
}

// TestSmokeTestBadInputExits2BeforeAnyRequest runs every flag's bad values
// through the CLI against a live server and checks it never saw a request.
func TestSmokeTestBadInputExits2BeforeAnyRequest(t *testing.T) {
	srv, requests := versionServer(t, "v1")
	dir := t.TempDir()
	badChecks := filepath.Join(dir, "checks.yaml")
	if err := os.WriteFile(badChecks, []byte("checks:\n  - name: a\n    path: /\n    expect: {status: nope}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/version"
	cases := []struct {
		name string
		args []string
		env  map[string]string
		msg  string
	}{
		{"no url", nil, nil, "--url: no URL to test"},
		{"url without scheme", []string{"--url", strings.TrimPrefix(url, "http://")}, nil, "has no scheme"},
		{"url and stack-dir", []string{"--url", url, "--stack-dir", dir}, nil, "not both"},
		{"path with host", []string{"--url", url, "--path", "//evil.example.com/"}, nil, "--path:"},
		{"stack-dir without outputs", []string{"--stack-dir", dir}, nil, "--stack-dir:"},
		{"expect-status", []string{"--url", url, "--expect-status", "2xy"}, nil, "--expect-status:"},
		{"expect-body-regex", []string{"--url", url, "--expect-body-regex", "[a-"}, nil, "--expect-body-regex:"},
		{"expect-header", []string{"--url", url, "--expect-header", "X-Version"}, nil, "--expect-header:"},
		{"expect-json", []string{"--url", url, "--expect-json", "version"}, nil, "--expect-json:"},
		{"checks invalid", []string{"--url", url, "--checks", badChecks}, nil, "--checks:"},
		{"checks unreadable", []string{"--url", url, "--checks", filepath.Join(dir, "missing.yaml")}, nil, "--checks:"},
		{"timeout", []string{"--url", url, "--timeout", "2"}, nil, "--timeout:"},
		{"timeout env", []string{"--url", url}, map[string]string{"GRAVITON_CD_TIMEOUT": "two minutes"}, "--timeout:"},
		{"interval", []string{"--url", url, "--interval", "-2s"}, nil, "--interval:"},
		{"consecutive", []string{"--url", url, "--consecutive", "0"}, nil, "--consecutive:"},
		{"consecutive env", []string{"--url", url}, map[string]string{"GRAVITON_CD_CONSECUTIVE": "x"}, "--consecutive:"},
		{"max-latency", []string{"--url", url, "--max-latency", "fast"}, nil, "--max-latency:"},
		{"junit", []string{"--url", url, "--junit", dir}, nil, "--junit:"},
		{"connect-to", []string{"--url", url, "--connect-to", "alb:80:127.0.0.1"}, nil, "--connect-to:"},
		{"ca-cert", []string{"--url", url, "--ca-cert", filepath.Join(dir, "missing.pem")}, nil, "--ca-cert:"},
		{"insecure with ca-cert", []string{"--url", url, "--ca-cert", badChecks, "--insecure"}, nil, "--insecure:"},
		{"insecure env not a bool", []string{"--url", url}, map[string]string{"GRAVITON_CD_INSECURE": "maybe"}, "insecure"},
		{"output", []string{"--url", url, "--output", "xml"}, nil, "--output:"},
		{"unknown flag", []string{"--url", url, "--retries", "3"}, nil, "retries"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, _, stderr := runSmokeTestCLI(t, tc.args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr should contain %q", tc.msg)
			}
			if n := requests.Load(); n != 0 {
				t.Fatalf("bad input must stop before any request; the server saw %d", n)
			}
		})
	}
}
