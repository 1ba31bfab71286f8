package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The first-run mistakes of issue 17 in smoke-test's own words: a timeout
// that is too short says what would be enough without contradicting itself,
// and a failure's reason is printed once, not per attempt.
func TestSmokeTestMessagesReadOnce(t *testing.T) {
	status := func(code int) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "nope", code)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	forbidden, unavailable := status(http.StatusForbidden), status(http.StatusServiceUnavailable)
	cases := []struct {
		name     string
		args     []string
		code     int
		reason   string // in the log lines at most once, in the error once
		inLog    int
		notWords []string
	}{
		{name: "timeout as long as the streak", args: []string{"--url", forbidden.URL, "--timeout", "4s"}, code: ExitUsage,
			reason: "they take 4s before the last answer, so give more than that", notWords: []string{"at least"}},
		{name: "a failure that is not retried", args: []string{"--url", forbidden.URL, "--interval", "10ms", "--timeout", "1s"}, code: ExitFailed,
			reason: "expected status 200, got 403", inLog: 0, notWords: []string{"1 attempts", "(s)"}},
		{name: "a failure repeated until the deadline", args: []string{"--url", unavailable.URL, "--interval", "10ms", "--timeout", "300ms", "--consecutive", "1"}, code: ExitFailed,
			reason: "expected status 200, got 503", inLog: 1, notWords: []string{"(s)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runSmokeTestCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d", code, tc.code)
			}
			var logLines, errLines []string
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if strings.HasPrefix(l, "graviton-cd: error: ") {
					errLines = append(errLines, l)
				} else {
					logLines = append(logLines, l)
				}
			}
			if len(errLines) != 1 || strings.Count(errLines[0], tc.reason) != 1 {
				t.Errorf("want one error line saying %q once, got %q", tc.reason, errLines)
			}
			if n := strings.Count(strings.Join(logLines, "\n"), tc.reason); n != tc.inLog {
				t.Errorf("the log says %q %d times, want %d", tc.reason, n, tc.inLog)
			}
			for _, w := range tc.notWords {
				if strings.Contains(stderr+stdout, w) {
					t.Errorf("output says %q", w)
				}
			}
		})
	}
}
